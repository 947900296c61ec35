using Sentry.Kernel.Abi;
using Sentry.Kernel.Memory;
using Sentry.Kernel.Vfs;
using Sentry.Platform;

namespace Sentry.Kernel.Tasks;

/// <summary>
/// One application thread: its registers, its platform context and the process state it points
/// at (address space, fd table, fs context). Run by one dedicated host thread.
/// </summary>
public sealed partial class Task : IWaiter
{
    public required Sandbox Sandbox { get; init; }
    public required MemoryManager Mm { get; set; }
    public FdTable Fds { get; set; } = new();
    public FsContext Fs { get; set; } = new();
    public SignalState Signals { get; init; } = new();
    public CpuState Cpu { get; } = new();
    /// <summary>The platform context, created on the task's own host thread when it starts.</summary>
    public IContext Context { get; set; } = null!;

    /// <summary>Thread id as the application sees it (the sandbox's own PID namespace).</summary>
    public required int Tid { get; set; }
    /// <summary>The process this thread belongs to.</summary>
    public required ThreadGroup Group { get; set; }
    public int Pid => Group.Tgid;
    /// <summary>The parent of init is outside the sandbox's PID namespace, so it reads as 0 (as for a container's init).</summary>
    public int Ppid { get { lock (Sandbox.TreeLock) return Group.Parent?.Tgid ?? 0; } }

    /// <summary>Host tid of the task's own thread (its CPU time is the time Sentry spent serving it).</summary>
    public int HostTid { get; set; }

    /// <summary>CPU time the application spent in user mode (its stub threads / vCPU).</summary>
    public long UserNs => Context?.UserTimeNs ?? 0;
    /// <summary>CPU time spent in the kernel on the task's behalf (its host thread).</summary>
    public long SysNs => HostTid == 0 ? 0 : HostSyscall.ThreadCpuTimeNs(HostTid);

    /// <summary>The task whose host thread is running this code (null on other threads).</summary>
    [ThreadStatic] public static Task? Current;
    public uint Uid { get; set; }
    public uint Gid { get; set; }

    /// <summary>Path of the running executable (the target of /proc/self/exe).</summary>
    public string ExePath { get; set; } = "";

    /// <summary>prctl state: thread name, parent-death signal, dumpable, no_new_privs, subreaper.</summary>
    public string Comm { get; set; } = "";
    public int ParentDeathSignal { get; set; }
    public bool Dumpable { get; set; } = true;
    public bool NoNewPrivs { get; set; }
    public bool ChildSubreaper { get; set; }

    /// <summary>Scheduling policy, nice, I/O priority and affinity (recorded and reported back).</summary>
    public Scheduling Sched { get; set; } = new();

    /// <summary>set_mempolicy(2)'s policy: an MPOL_* mode with its flags and node mask; (0, 0) is MPOL_DEFAULT.</summary>
    public (int Mode, ulong Nodes) MemPolicy { get; set; }

    public ulong ClearChildTid { get; set; }
    public ulong RobustList { get; set; }
    public ulong RobustListLen { get; set; }

    public (ulong Cur, ulong Max)[] Limits => Group.Limits;

    /// <summary>This thread has called exit (or its process is exiting): the run loop stops.</summary>
    public bool Exited => _threadExited || Group.Exiting;
    bool _threadExited;
    /// <summary>exit(2) code of this thread, used when it is the last one of its process.</summary>
    public int ThreadExitCode { get; private set; }

    /// <summary>CLONE_VFORK: the parent waits until this task execs or exits.</summary>
    public volatile bool VforkPending;
    public Task? VforkParent { get; set; }

    /// <summary>Scratch buffer for copying between files and application memory (no allocation per call).</summary>
    public readonly byte[] Bounce = new byte[64 * 1024];

    /// <summary>exit(2): ends this thread only; the process ends with it if it was the last.</summary>
    public void ExitThread(int code) { ThreadExitCode = (code & 0xff) << 8; _threadExited = true; }
    /// <summary>exit_group(2): ends every thread of the process with <paramref name="code"/>.</summary>
    public void Exit(int code) => Sandbox.ExitGroup(Group, (code & 0xff) << 8);
    /// <summary>Terminates the process by signal; <paramref name="core"/> sets the core-dump bit of the wait status.</summary>
    public void Kill(int signal, bool core = false) => Sandbox.ExitGroup(Group, (signal & 0x7f) | (core ? 0x80 : 0));

    /// <summary>The mask rt_sigsuspend replaced: restored when the handler's frame is built (or at once if none runs).</summary>
    public ulong? SavedMask { get; set; }

    readonly object _blockLock = new();

    /// <summary>True when a pending signal is not blocked.</summary>
    public bool SignalPending => Signals.HasDeliverable(Signals.Mask);

    /// <summary>
    /// Sends a signal to this task (kill, timers, the host forwarding SIGINT). Signals whose
    /// disposition is to ignore them are discarded here, as Linux does at generation time.
    /// </summary>
    public void PostSignal(in SigInfo info)
    {
        int sig = info.si_signo;
        if (sig == Linux.SIGCONT)
        {
            Signals.DiscardStops();
            Sandbox.ContinueGroup(Group);
        }
        else if (sig is Linux.SIGSTOP or Linux.SIGTSTP or 21 or 22) Signals.Discard(Linux.SIGCONT);
        if (IsIgnored(sig) && (Signals.Mask & SignalState.Bit(sig)) == 0) return;
        if (Signals.Enqueue(info)) Kick();
    }

    /// <summary>A synchronous fault: a blocked or ignored handler is reset so the signal cannot be lost.</summary>
    public void ForceSignal(in SigInfo info)
    {
        int sig = info.si_signo;
        ulong bit = SignalState.Bit(sig);
        if ((Signals.Mask & bit) != 0 || Signals.Actions[sig].Handler == SignalState.SIG_IGN)
        {
            Signals.Actions[sig] = default;
            Signals.Mask &= ~bit;
        }
        Signals.Enqueue(info);
    }

    bool IsIgnored(int sig)
    {
        ulong h = Signals.Actions[sig].Handler;
        return h == SignalState.SIG_IGN || (h == SignalState.SIG_DFL && Signals.DefaultActionIgnores(sig));
    }

    /// <summary>Wakes the task wherever it is: running in the application, or blocked in a syscall.</summary>
    public void Kick()
    {
        lock (_blockLock) Monitor.PulseAll(_blockLock);
        Context?.Interrupt(); // null until the task's thread has started: the signal waits as pending
        Sandbox.Futexes.Kick();
        WakeHost();
    }

    /// <summary>
    /// Blocks the task until <paramref name="ready"/> holds, a signal is deliverable, or the
    /// Stopwatch timestamp <paramref name="deadline"/> passes. Returns 0 (ready), -EINTR (a
    /// signal; callers turn it into their restart code) or -ETIMEDOUT. Never returns early.
    /// </summary>
    public long Block(long? deadline, Func<bool>? ready = null, bool interruptible = true)
    {
        lock (_blockLock)
        {
            while (true)
            {
                if (ready != null && ready()) return 0;
                if (interruptible && SignalPending) return -Errno.EINTR;
                if (Exited) return -Errno.EINTR; // the thread or its process is ending
                if (deadline is { } d)
                {
                    long left = d - System.Diagnostics.Stopwatch.GetTimestamp();
                    if (left <= 0) return -Errno.ETIMEDOUT;
                    long ms = (left * 1000 + System.Diagnostics.Stopwatch.Frequency - 1) / System.Diagnostics.Stopwatch.Frequency;
                    Monitor.Wait(_blockLock, (int)Math.Min(ms, int.MaxValue));
                }
                else Monitor.Wait(_blockLock);
            }
        }
    }

    /// <summary>Wakes a <see cref="Block"/> whose condition may now hold.</summary>
    public void Notify()
    {
        lock (_blockLock) Monitor.PulseAll(_blockLock);
        WakeHost();
    }

    /// <summary>A wait queue's wakeup: the task re-checks whatever it waits for.</summary>
    bool IWaiter.Wake(int key) { Notify(); return true; }

    /// <summary>Blocks on <paramref name="queue"/> until <paramref name="ready"/> holds (see <see cref="Block"/>).</summary>
    public long WaitOn(WaitQueue queue, Func<bool> ready, long? deadline = null)
    {
        queue.Add(this);
        try { return Block(deadline, ready); }
        finally { queue.Remove(this); }
    }

    /// <summary>The default action "stop": the whole process stops until SIGCONT (or SIGKILL).</summary>
    public void StopUntilContinued(int sig)
    {
        Sandbox.StopGroup(Group, sig);
        WaitWhileStopped();
    }

    /// <summary>Blocks while the sandbox is paused (<see cref="Sandbox.Pause"/>); only SIGKILL gets through.</summary>
    public void WaitWhilePaused()
    {
        const ulong kill = 1UL << (Linux.SIGKILL - 1);
        Block(null, () => !Sandbox.Paused || (Signals.PendingSet & kill) != 0 || Group.Exiting, interruptible: false);
    }

    /// <summary>Blocks while the process is stopped; only SIGKILL (or SIGCONT) gets through.</summary>
    public void WaitWhileStopped()
    {
        const ulong kill = 1UL << (Linux.SIGKILL - 1);
        Block(null, () => !Group.Stopped || (Signals.PendingSet & kill) != 0 || Group.Exiting, interruptible: false);
    }

    int _wakeFd = -1;

    /// <summary>An eventfd that becomes readable when the task is kicked; host waits poll it beside their fd.</summary>
    public int WakeFd
    {
        get
        {
            if (_wakeFd < 0) _wakeFd = (int)HostSyscall.Call(290 /* eventfd2 */, 0, 0x80000 | 0x800 /* EFD_CLOEXEC|EFD_NONBLOCK */);
            return _wakeFd;
        }
    }

    unsafe void WakeHost()
    {
        if (_wakeFd < 0) return;
        ulong one = 1;
        HostSyscall.Call(1 /* write */, _wakeFd, (long)&one, 8);
    }

    /// <summary>Empties the wake eventfd after a kick was seen.</summary>
    public unsafe void DrainWake()
    {
        if (_wakeFd < 0) return;
        ulong v;
        HostSyscall.Call(0 /* read */, _wakeFd, (long)&v, 8);
    }

    /// <summary>ITIMER_REAL of the process (alarm, setitimer).</summary>
    public Signals.IntervalTimer RealTimer => Group.RealTimer(this);

    /// <summary>Releases host resources of the task.</summary>
    public void ReleaseHost()
    {
        if (_wakeFd >= 0) { HostSyscall.Call(3, _wakeFd); _wakeFd = -1; }
    }


}
