using Sentry.Tests.Infrastructure;

namespace Sentry.Tests;

/// <summary>
/// Waiting and readiness, compared with the same binary run natively: tests/programs/readiness.c
/// (poll, ppoll, select, pselect6 and epoll level-triggered, edge-triggered, one-shot, exclusive
/// and nested, over pipes, FIFOs, AF_UNIX sockets, eventfd, ptys, signalfd and regular files;
/// wakeups from threads and processes, timeouts, EINTR, EOF across fork and exec, wait4 while
/// sleeping), resource limits inherited from the caller, and python3's multiprocessing.Pool.
/// </summary>
[TestFixtureSource(typeof(Platforms), nameof(Platforms.All))]
public sealed class ReadinessTests(string platform) : PlatformFixture(platform)
{
    // Every mode takes well under a second natively: a lost wakeup should fail fast.
    static readonly RunOptions Limited = new() { Timeout = TimeSpan.FromSeconds(20) };

    [Test]
    public void MatchesNative(
        [Values("pipe", "fifo", "stream", "dgram", "seqpacket", "eventfd", "semaphore", "pty", "edge", "epoll",
            "exclusive", "signalfd", "threads", "processes", "timeouts", "eof", "waits")] string mode,
        [Values] Flavour flavour)
    {
        var exe = TestPrograms.Get("readiness", flavour);
        var native = SandboxRunner.Native(exe, [mode], Limited);
        Assert.That(native.ExitCode, Is.Zero, $"native run failed:\n{native.StdoutText}\n{native.Describe()}");
        Assert.That(native.StdoutText, Does.EndWith("done\n"), "native run did not finish");
        Behaviour.AssertSame(native, SandboxRunner.Sandbox(Platform, exe, [mode], Limited));
    }

    /// <summary>
    /// The limits `sentry do` is started with reach the program, and the limit calls' rules
    /// (EINVAL, EFAULT, EPERM, ESRCH, EMFILE at the soft limit) are Linux's.
    /// </summary>
    [Test]
    public void LimitsAreInheritedAndCheckedAsNative([Values("limits", "all_limits")] string mode)
    {
        HostTools.Require("/usr/bin/prlimit", "util-linux");
        var exe = TestPrograms.Get("readiness", Flavour.GlibcDynamic);
        string[] set = ["--core=100:200", "--nofile=300:5000", "--stack=4194304:16777216", "--nproc=500:600", "--"];
        var native = ProcessRunner.Run("/usr/bin/prlimit", [.. set, exe, mode], timeout: Limited.Timeout);
        Assert.That(native.StdoutText, Does.EndWith("done\n"), native.Describe());
        var (file, prefix) = SentryBinary.Command;
        var sandbox = ProcessRunner.Run("/usr/bin/prlimit", [.. set, file, .. prefix, "do", $"--platform={Platform}", "--", exe, mode], timeout: Limited.Timeout);
        // CoreCLR (not Native AOT) raises its own soft RLIMIT_NOFILE to the hard limit before any
        // of Sentry's code runs, so under it the program can only inherit that (README).
        string expected = native.StdoutText;
        if (UsesCoreClr(file, prefix)) expected = expected.Replace(" NOFILE=300:5000 ", " NOFILE=5000:5000 ");
        Assert.That(sandbox.StdoutText, Is.EqualTo(expected), sandbox.Describe());
        Assert.That(sandbox.ExitCode, Is.EqualTo(native.ExitCode));
    }

    static bool UsesCoreClr(string file, string[] prefix) =>
        prefix.Length > 0 || File.Exists(Path.ChangeExtension(file, ".dll"));

    /// <summary>Issue 23: Pool.join() hung (a worker never woke on a semaphore another process posted).</summary>
    [Test]
    public void PythonPoolClosesAndJoins()
    {
        HostTools.Require("/usr/bin/python3", "python3");
        const string script = """
            from multiprocessing import Pool
            p = Pool(2)
            print(p.map(abs, range(-3, 3)))
            p.close()
            p.join()
            with Pool(2) as q:
                print(sorted(q.imap_unordered(abs, range(-4, 4))))
            print("joined")
            """;
        var native = SandboxRunner.Native("/usr/bin/python3", ["-c", script], Limited);
        Assert.That(native.ExitCode, Is.Zero, native.Describe());
        Behaviour.AssertSame(native, SandboxRunner.Sandbox(Platform, "/usr/bin/python3", ["-c", script], Limited));
    }

    /// <summary>
    /// CPython's own test_poll and test_selectors (Debian's libpython3.11-testsuite) pass in the
    /// sandbox as natively. test_epoll is not run: every one of its tests starts from a TCP
    /// socket, and the sandbox has only AF_UNIX ones yet.
    /// </summary>
    [Test]
    public void PythonSelectorSuitesPass()
    {
        HostTools.Require("/usr/lib/python3.11/test/test_selectors.py", "libpython3.11-testsuite");
        string[] args = ["-m", "test", "test_poll", "test_selectors"];
        var slow = new RunOptions { Timeout = TimeSpan.FromMinutes(4) };
        var native = SandboxRunner.Native("/usr/bin/python3", args, slow);
        Assert.That(native.StdoutText, Does.Contain("Tests result: SUCCESS"), native.Describe());
        var sandbox = SandboxRunner.Sandbox(Platform, "/usr/bin/python3", args, slow);
        Assert.That(sandbox.StdoutText, Does.Contain("Tests result: SUCCESS"), sandbox.Describe());
        Assert.That(sandbox.ExitCode, Is.Zero, sandbox.Describe());
    }
}
