using Sentry.Tests.Infrastructure;

namespace Sentry.Tests;

/// <summary>
/// Multi-process and multi-thread behaviour: fork/vfork/clone/exec, wait*, zombies and
/// orphans, pipes with poll/select, signals (handlers, alternate stacks, nesting, faults,
/// SA_RESTART, queuing), and hostile arguments to those calls. Each scenario is one MODE of a
/// program in tests/programs (fork.c, cow.c, threads.c, signals.c, pipes.c, badsignals.c), run in
/// every build flavour and compared with the same binary run natively.
/// </summary>
[TestFixtureSource(typeof(Platforms), nameof(Platforms.All))]
public sealed class ProcessTests(string platform) : PlatformFixture(platform)
{
    // Well under the harness's 60 s: every scenario takes well below a second natively, and a
    // sandbox that loses a wake-up should fail fast rather than stall the fixture.
    static readonly RunOptions Limited = new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>
    /// One scenario: the program, its MODE argument, the exit status it has natively, and
    /// whether it ends by printing "done" (scenarios that exec or die on a signal do not).
    /// </summary>
    public sealed record Scenario(string Program, string Mode, int Status = 0, bool PrintsDone = true)
    {
        public override string ToString() => $"{Program}.{Mode}";
    }

    static readonly Scenario[] Scenarios =
    [
        new("fork", "nproc"),            // fork loop under RLIMIT_NPROC, every child reaped
        new("fork", "zombies"),          // 20 zombies reaped by pid, then ECHILD
        new("fork", "orphan"),           // grandchild re-parented to the reaper and reaped
        new("fork", "vfork"),            // vfork + exec, vfork shares memory, posix_spawn
        new("fork", "waitid"),           // WNOHANG, WNOWAIT, P_ALL, P_PGID, CLD_KILLED
        new("fork", "kill"),             // signals both ways between parent and child, kill(-pgid)
        new("fork", "sigchld"),          // one SIGCHLD per child; SIGCHLD ignored auto-reaps
        new("fork", "job_control"),      // SIGSTOP/SIGTSTP stop, WUNTRACED/WSTOPPED, SIGCONT, WCONTINUED
        new("cow", "private"),           // fork shares pages copy-on-write: child, parent, grandchild writes stay private
        new("cow", "parent_first"),      // parent writes first, child still sees fork-time contents
        new("cow", "kernel_writes"),     // read() into a shared page copies it for the reader only
        new("cow", "protect"),           // mprotect of a partly touched range, around a fork
        new("cow", "private_file"),      // MAP_PRIVATE file pages stay private across fork
        new("cow", "cached_file"),       // read-only mappings share the file's cached pages; a write copies for its mapping only
        new("threads", "mutex"),         // 64 threads: mutex, condvar, barrier, producer/consumer
        new("threads", "exec_echo", PrintsDone: false), // a non-main thread execs /bin/echo
        new("threads", "exec_self"),     // ... execs this program again: tid becomes the pid
        new("threads", "remap_seen"),    // a page remapped or copied on write under a spinning reader thread: it sees the new frame
        new("signals", "cpu_timers"),    // ITIMER_VIRTUAL / ITIMER_PROF on CPU time
        new("signals", "signalfd"),      // blocked signals read from a signalfd: kill, sigqueue, SIGCHLD, new masks
        new("signals", "altstack"),      // SA_ONSTACK, SS_ONSTACK, SS_DISABLE
        new("signals", "overflow"),      // stack overflow caught on the alternate stack
        new("signals", "nested"),        // handler raising signals, sa_mask, SA_NODEFER, SA_RESETHAND
        new("signals", "segv"),          // handlers fix faults (mprotect, mmap, rip += 2) and return
        new("signals", "restart"),       // SA_RESTART vs EINTR with setitimer; never-restarted calls
        new("signals", "syscall_ticks"), // timer signals landing all along a loop of system calls
        new("signals", "mask"),          // pending, rt_sigtimedwait, sigqueue, rt signals queue
        new("pipes", "readiness"),       // poll/select states, capacity, HUP, ERR, NVAL
        new("pipes", "conversation"),    // poll/pselect waiting on a child's writes
        new("pipes", "sigpipe", 128 + 13, PrintsDone: false), // SIGPIPE kills; EPIPE when ignored
        new("pipes", "redirect"),        // dup2 after fork + exec; O_CLOEXEC closed by exec
        new("badsignals", "errnos"),     // EINVAL/EFAULT/ECHILD/ESRCH of signal, wait, clone, exec
        new("badsignals", "frame_rip", 128 + 11, PrintsDone: false),     // saved rip = 0
        new("badsignals", "frame_rsp", 128 + 11, PrintsDone: false),     // saved rsp = 0
        new("badsignals", "frame_fpstate", 128 + 11, PrintsDone: false), // fpstate pointer in kernel
    ];

    static IEnumerable<TestCaseData> Cases() =>
        from s in Scenarios
        from f in Enum.GetValues<Flavour>()
        select new TestCaseData(s, f).SetArgDisplayNames(s.ToString(), f.ToString());

    [TestCaseSource(nameof(Cases))]
    public void MatchesNative(Scenario scenario, Flavour flavour)
    {
        var exe = TestPrograms.Get(scenario.Program, flavour);
        string[] args = [scenario.Mode];

        var native = SandboxRunner.Native(exe, args, Limited);
        // The program must behave as designed natively before it can judge the sandbox.
        Assert.That(native.ExitCode, Is.EqualTo(scenario.Status),
            $"native exit status (test assumption)\n{native.StdoutText}\n{native.Describe()}");
        if (scenario.PrintsDone)
            Assert.That(native.StdoutText, Does.EndWith("done\n"), "native run did not finish");

        Behaviour.AssertSame(native, SandboxRunner.Sandbox(Platform, exe, args, Limited));
    }
}
