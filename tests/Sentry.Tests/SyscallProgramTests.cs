using Sentry.Tests.Infrastructure;

namespace Sentry.Tests;

/// <summary>
/// The C programs in tests/programs exercise the foundation syscalls and print only
/// deterministic facts; each must print the same bytes and exit the same way in the sandbox
/// as natively, in every build flavour (glibc dynamic/static, musl static).
/// </summary>
[TestFixtureSource(typeof(Platforms), nameof(Platforms.All))]
public sealed class SyscallProgramTests(string platform) : PlatformFixture(platform)
{
    // files:   openat/read/write/pread64/readv/writev/lseek/close/fstat/newfstatat/statx/
    //          getdents64/readlink(at)/faccessat(2)/getcwd/chdir/ioctl/fcntl/dup*/umask
    // memory:  mmap/munmap/mprotect/mremap/brk/madvise, private file mappings, big malloc checksum
    // process: uname/arch_prctl (TLS)/set_tid_address/prlimit64/getrandom/clocks/ids/
    //          sched_getaffinity/futex
    [Test]
    public void MatchesNative([Values("files", "memory", "process")] string program, [Values] Flavour flavour)
    {
        var exe = TestPrograms.Get(program, flavour);
        string[] args = program == "process" ? [] : [TestRun.Data.DataDir];

        var native = Native(exe, args);
        // The program must be sane natively before it can judge the sandbox.
        Assert.That(native.ExitCode, Is.Zero, $"native run failed:\n{native.StdoutText}\n{native.Describe()}");
        Assert.That(native.StdoutText, Does.EndWith("done\n"), "native run did not finish");

        Behaviour.AssertSame(native, Sandbox(exe, args));
    }

    // surface: the calls beyond the foundation (tests/programs/surface.c), one mode per family.
    [Test]
    public void SurfaceMatchesNative([Values("memfd", "membarrier", "sched", "mlock")] string mode, [Values] Flavour flavour)
    {
        var exe = TestPrograms.Get("surface", flavour);
        var native = Native(exe, mode);
        Assert.That(native.ExitCode, Is.Zero, $"native run failed:\n{native.StdoutText}\n{native.Describe()}");
        Assert.That(native.StdoutText, Does.EndWith("done\n"), "native run did not finish");
        Behaviour.AssertSame(native, Sandbox(exe, mode));
    }

    static IEnumerable<TestCaseData> ExitCases()
    {
        // (how the program ends, the number it passes, the status a shell would report)
        (string Mode, int N, int Status)[] cases =
        [
            ("return", 3, 3),           // return from main: libc exit, atexit handlers run
            ("exit", 4, 4),             // exit(3)
            ("exit_group", 5, 5),       // raw exit_group: no stdio flush, no atexit
            ("exit_group", 259, 3),     // only the low 8 bits survive
            ("exit_thread", 6, 6),      // raw exit of the only thread ends the process
            ("signal", 9, 128 + 9),     // SIGKILL
            ("signal", 15, 128 + 15),   // SIGTERM (default action: terminate)
            ("signal", 10, 128 + 10),   // SIGUSR1 (default action: terminate, no core file)
        ];
        foreach (var flavour in Enum.GetValues<Flavour>())
            foreach (var c in cases)
                yield return new TestCaseData(c.Mode, c.N, c.Status, flavour);
    }

    [TestCaseSource(nameof(ExitCases))]
    public void ExitStatus(string mode, int n, int expectedStatus, Flavour flavour)
    {
        var exe = TestPrograms.Get("exitcode", flavour);
        var native = Native(exe, mode, n.ToString());
        Assert.That(native.ExitCode, Is.EqualTo(expectedStatus), "native exit status (test assumption)");

        Behaviour.AssertSame(native, Sandbox(exe, mode, n.ToString()));
    }
}
