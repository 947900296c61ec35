using Sentry.Tests.Infrastructure;

namespace Sentry.Tests;

/// <summary>
/// What a program can do to the platform's machinery from inside (tests/programs/escape.c), on every
/// platform, aimed at systrap, whose stub runs in the application's own address space: a raw
/// `syscall` from a page the program wrote, its own SIGSYS handler (blocked, ignored, on a tiny
/// alternate stack), a system call with the stack pointer smashed, writing to and unmapping the
/// address where the stub keeps its shared region, installing its own seccomp filter, mapping over
/// the stub. Each behaves as on Linux, or fails as a call under a seccomp filter fails, and none
/// reaches the host kernel.
/// </summary>
[TestFixtureSource(typeof(Platforms), nameof(Platforms.All))]
public sealed class StubIsolationTests(string platform) : PlatformFixture(platform)
{
    [Test]
    public void MatchesNative([Values("jit", "sigsys", "badsp", "shared_write", "shared_unmap")] string mode)
    {
        var exe = TestPrograms.Get("escape", Flavour.GlibcDynamic);
        Behaviour.AssertSame(Native(exe, mode), Sandbox(exe, mode));
    }

    /// <summary>
    /// The program's seccomp filter (one that would make getpid fail) and strict mode never reach
    /// the host: the sandbox answers seccomp with ENOSYS, so its calls go on working.
    /// </summary>
    [Test]
    public void OwnSeccompFilterNeverReachesTheHost()
    {
        var exe = TestPrograms.Get("escape", Flavour.GlibcDynamic);
        var r = Sandbox(exe, "seccomp");
        Assert.That(r.ExitCode, Is.Zero, r.Describe());
        Assert.That(r.StdoutText, Does.Contain("seccomp filter: ENOSYS\n")
            .And.Contain("getpid after seccomp: ok\n")
            .And.Contain("getpid after strict: ok\n"), r.Describe());
    }

    /// <summary>
    /// A program that overwrites the systrap stub's slots breaks only its own stub: the sandbox ends
    /// promptly, killed, with one line saying the platform failed; never a hang or a crash of Sentry.
    /// Elsewhere nothing is mapped there: SIGSEGV, as natively.
    /// </summary>
    [Test]
    public void SmashedStubEndsTheSandboxWithAMessage()
    {
        var exe = TestPrograms.Get("escape", Flavour.GlibcDynamic);
        var r = Sandbox(new RunOptions { Timeout = TimeSpan.FromSeconds(30) }, exe, "smash");
        if (Platform != "systrap")
        {
            Behaviour.AssertSame(Native(exe, "smash"), r);
            return;
        }
        Assert.That(r.ExitCode, Is.EqualTo(137), r.Describe());
        Assert.That(r.StderrText, Does.Contain("sentry: platform systrap failed: "), r.Describe());
    }

    /// <summary>The stub's code and shared region lie above the sandbox's user range: mapping there is refused.</summary>
    [Test]
    public void CannotMapOverTheStub()
    {
        if (Platform != "systrap") Assert.Ignore("only the systrap stub keeps a shared region at that address");
        var exe = TestPrograms.Get("escape", Flavour.GlibcDynamic);
        var r = Sandbox(exe, "stub_map");
        Assert.That(r.ExitCode, Is.Zero, r.Describe());
        Assert.That(r.StdoutText, Is.EqualTo("map over stub code: refused\nmap over shared region: refused\n"), r.Describe());
    }
}
