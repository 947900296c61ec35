using Sentry.Kernel.Abi;

namespace Sentry.Kernel.Tasks;

/// <summary>
/// A process: the thread group that shares a pid, its place in the process tree (parent,
/// children, process group, session) and what a parent's wait() reports when it ends.
/// Tree fields are guarded by <see cref="Sandbox.TreeLock"/>.
/// </summary>
public sealed class ThreadGroup
{
    public required int Tgid { get; init; }
    public ThreadGroup? Parent { get; set; }
    public List<ThreadGroup> Children { get; } = new();
    public List<Task> Threads { get; } = new();
    public int Pgid { get; set; }
    public int Sid { get; set; }
    /// <summary>The controlling terminal (inherited by fork, dropped by setsid, TIOCNOTTY and hangup); null when none.</summary>
    public Vfs.Tty.Pty? ControllingTerminal { get; set; }
    /// <summary>Signal sent to the parent when this process ends (clone's low byte; SIGCHLD for fork).</summary>
    public int ExitSignal { get; set; } = Linux.SIGCHLD;

    /// <summary>A group exit is under way (exit_group or a fatal signal): every thread stops.</summary>
    public volatile bool Exiting;
    /// <summary>Wait status once the process has ended.</summary>
    public int WaitStatus { get; set; }
    public bool Zombie { get; set; }
    /// <summary>Set once the process called execve (setpgid on it from the parent then fails).</summary>
    public bool Execed { get; set; }

    /// <summary>Job control: the process is stopped (by SIGSTOP/SIGTSTP/...) until SIGCONT.</summary>
    public volatile bool Stopped;
    public int StopSignal;
    /// <summary>A stop or a continue the parent has not collected with wait(WUNTRACED/WCONTINUED) yet.</summary>
    public bool StopToReport, ContinueToReport;

    /// <summary>CPU time of threads that have exited, and of reaped children (with theirs), in ns.</summary>
    public long DeadUserNs, DeadSysNs, ChildUserNs, ChildSysNs;

    /// <summary>Parents blocked in wait() on this process's children.</summary>
    public WaitQueue ChildEvents { get; } = new();

    public readonly (ulong Cur, ulong Max)[] Limits = DefaultLimits();

    Signals.IntervalTimer? _realTimer;
    /// <summary>ITIMER_REAL (alarm, setitimer), shared by the threads.</summary>
    public Signals.IntervalTimer RealTimer(Task target) => _realTimer ??= new Signals.IntervalTimer(target);
    /// <summary>POSIX timers (timer_create) by id.</summary>
    public Dictionary<int, Signals.IntervalTimer> PosixTimers { get; } = new();

    Signals.CpuTimer? _virtualTimer, _profTimer;
    /// <summary>ITIMER_VIRTUAL and ITIMER_PROF of the process.</summary>
    public Signals.CpuTimer CpuTimer(Sandbox sandbox, bool prof) =>
        prof ? _profTimer ??= new Signals.CpuTimer(sandbox, this, true) : _virtualTimer ??= new Signals.CpuTimer(sandbox, this, false);

    /// <summary>CPU time of the whole process (live and exited threads) in ns; user only unless <paramref name="includeSystem"/>.</summary>
    public long CpuNs(bool includeSystem, Sandbox sandbox)
    {
        Task[] threads;
        lock (sandbox.TreeLock) threads = [.. Threads];
        long ns = DeadUserNs + (includeSystem ? DeadSysNs : 0);
        foreach (var t in threads) ns += t.UserNs + (includeSystem ? t.SysNs : 0);
        return ns;
    }

    public void StopTimers()
    {
        _realTimer?.Dispose();
        _virtualTimer?.Dispose();
        _profTimer?.Dispose();
        lock (PosixTimers)
        {
            foreach (var tm in PosixTimers.Values) tm.Dispose();
            PosixTimers.Clear();
        }
    }

    /// <summary>Set when a process started from outside the sandbox (an OCI exec), which has no parent inside, has ended.</summary>
    public ManualResetEventSlim? Ended { get; init; }

    /// <summary>The shell's view of <see cref="WaitStatus"/>: code, or 128+signal.</summary>
    public int ShellStatus => (WaitStatus & 0x7f) != 0 ? 128 + (WaitStatus & 0x7f) : (WaitStatus >> 8) & 0xff;

    public static (ulong, ulong)[] DefaultLimits()
    {
        var l = new (ulong, ulong)[Linux.RLIMIT_NLIMITS];
        for (int i = 0; i < l.Length; i++) l[i] = (Linux.RLIM_INFINITY, Linux.RLIM_INFINITY);
        l[Linux.RLIMIT_STACK] = (8UL << 20, Linux.RLIM_INFINITY);
        l[Linux.RLIMIT_NOFILE] = (1024, 4096);
        l[Linux.RLIMIT_CORE] = (0, Linux.RLIM_INFINITY);
        l[Linux.RLIMIT_NPROC] = (4096, 4096);
        l[Linux.RLIMIT_MEMLOCK] = (8UL << 20, 8UL << 20);
        l[11] = (63304, 63304);   // RLIMIT_SIGPENDING
        l[12] = (819200, 819200); // RLIMIT_MSGQUEUE
        l[13] = (0, 0);           // RLIMIT_NICE
        l[14] = (0, 0);           // RLIMIT_RTPRIO
        return l;
    }
}
