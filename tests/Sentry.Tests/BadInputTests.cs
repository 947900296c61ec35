using Sentry.Tests.Infrastructure;

namespace Sentry.Tests;

/// <summary>
/// Hostile syscall arguments (NULL/kernel/unmapped pointers, huge lengths, invalid flags,
/// bad fds) must produce exactly the errnos Linux gives, and must never take the sandbox down.
/// </summary>
[TestFixtureSource(typeof(Platforms), nameof(Platforms.All))]
public sealed class BadInputTests(string platform) : PlatformFixture(platform)
{
    [Test]
    public void ErrnosMatchNative([Values] Flavour flavour)
    {
        var exe = TestPrograms.Get("badargs", flavour);
        var native = Native(exe, TestRun.Data.DataDir);
        Assert.That(native.ExitCode, Is.Zero, $"native run failed:\n{native.StdoutText}\n{native.Describe()}");
        Assert.That(native.StdoutText, Does.EndWith("done\n"), "native run did not finish");

        Behaviour.AssertSame(native, Sandbox(exe, TestRun.Data.DataDir));
    }

    // --strace decodes the same hostile arguments (strings at kernel addresses, NULL buffers):
    // tracing must describe them, not crash or change the program's results. Compared with an
    // untraced sandbox run, so errno mismatches above do not also fail this test.
    [Test]
    public void StraceDecodesBadArgumentsSafely()
    {
        var exe = TestPrograms.Get("badargs", Flavour.GlibcStatic);
        var plain = Sandbox(exe, TestRun.Data.DataDir);
        var traced = Sandbox(new RunOptions { Strace = true }, exe, TestRun.Data.DataDir);
        Assert.That(plain.StdoutText, Does.EndWith("done\n"), "untraced run did not finish\n" + plain.Describe());
        // stderr carries the trace, so only stdout and the exit status are compared.
        Behaviour.AssertSame(plain, traced, compareStderr: false);
        Assert.That(traced.StderrText, Does.Match(@"(?m)^(\[\d+\] )?openat\(.*\) = "),
            "expected traced openat lines\n" + traced.Describe());
    }
}
