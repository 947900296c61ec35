using Sentry.Kernel.Abi;
using Sentry.Kernel.Signals;
using Sentry.Kernel.Syscalls;
using Sentry.Platform;

namespace Sentry.Kernel.Tasks;

/// <summary>
/// The loop each task's dedicated host thread runs: deliver signals, switch into the application
/// until it traps, answer, repeat; then the thread's exit work.
/// </summary>
public static class TaskRunner
{
    /// <summary>Stack of a task's host thread: far more than Sentry's deepest call chains (path walks through symlinks, signal frames) need.</summary>
    public const int StackSize = 4 << 20;

    /// <summary>Starts <paramref name="task"/> on a new host thread (ptrace binds a tracee to its tracer thread).</summary>
    public static Thread Start(Task task)
    {
        var thread = new Thread(() => Run(task), StackSize) { Name = $"sentry-task-{task.Tid}", IsBackground = true };
        task.Sandbox.TrackThread(thread);
        thread.Start();
        return thread;
    }

    /// <summary>Runs the task to its end on the calling thread.</summary>
    public static void Run(Task task)
    {
        Task.Current = task;
        task.HostTid = (int)Platform.HostSyscall.Call(186 /* gettid */);
        UnpinThread();
        var sandbox = task.Sandbox;
        try
        {
            task.Context ??= sandbox.Platform.NewContext();
            if (!task.Mm.HasAddressSpace) task.Mm.AttachAddressSpace(sandbox.Platform.NewAddressSpace());
            Loop(task);
        }
        catch (Exception e)
        {
            sandbox.Options.Log.WriteLine($"sentry: internal error in task {task.Tid}: {e.GetType().Name}: {e.Message}");
            if (Environment.GetEnvironmentVariable("SENTRY_DEBUG") == "1") sandbox.Options.Log.WriteLine(e);
            sandbox.ExitGroup(task.Group, Linux.SIGKILL);
        }
        finally
        {
            sandbox.TaskExited(task);
        }
    }

    /// <summary>
    /// A new host thread inherits its creator's CPU pinning (the platform pins a tracer beside its
    /// stub); let the scheduler place it first, so a parent and its new child do not queue on one CPU.
    /// </summary>
    static unsafe void UnpinThread()
    {
        ulong* all = stackalloc ulong[16];
        for (int i = 0; i < 16; i++) all[i] = ulong.MaxValue;
        Platform.HostSyscall.Call(203 /* sched_setaffinity */, 0, 16 * 8, (long)all);
    }

    static void Loop(Task task)
    {
        var cpu = task.Cpu;
        var sandbox = task.Sandbox;
        var log = sandbox.Options.Log;
        bool strace = sandbox.Options.Strace;
        long restart = 0;
        ulong lastFault = 0;
        int faultRepeats = 0;
        while (true)
        {
            if (task.Group.Stopped) task.WaitWhileStopped();
            if (sandbox.Paused) task.WaitWhilePaused();
            if (restart != 0 || task.Signals.PendingSet != 0 || task.SavedMask != null)
            {
                SignalDelivery.Deliver(task, restart);
                restart = 0;
            }
            if (task.Exited) break;
            var res = task.Context.Switch(task.Mm.AddressSpace, cpu);
            switch (res.Reason)
            {
                case SwitchReason.Syscall:
                {
                    long nr = (long)cpu.Regs.orig_rax;
                    var args = new SyscallArgs(cpu.Regs);
                    long r;
                    if (strace)
                    {
                        string entered = Strace.Enter(task, nr, args);
                        r = SyscallTable.Dispatch(task, nr, args);
                        log.WriteLine(Strace.Prefix(task) + Strace.Exit(entered, nr, r, task.Exited));
                    }
                    else r = SyscallTable.Dispatch(task, nr, args);
                    if (SignalDelivery.IsRestart(r)) restart = r;
                    else cpu.Regs.rax = (ulong)r;
                    break;
                }
                case SwitchReason.PageFault:
                {
                    if (Syscalls.Vsyscall.TryEmulate(task, res.FaultAddress)) break;
                    int sig = task.Mm.HandleFault(res.FaultAddress, res.Access);
                    if (sig == Memory.MemoryManager.Spurious)
                    {
                        // Retry once or twice (a racing thread mapped the page); a fault that keeps
                        // coming back on a mapped page is an access the mapping does not allow.
                        sig = res.FaultAddress == lastFault && ++faultRepeats >= 3 ? Linux.SIGSEGV : 0;
                        lastFault = res.FaultAddress;
                        if (sig == 0) break;
                        res = res with { SiCode = SigInfo.SEGV_ACCERR };
                    }
                    else faultRepeats = 0;
                    // As Linux: SEGV_ACCERR when a mapping is there but forbids the access, SEGV_MAPERR when
                    // none is. The platform cannot know (on KVM the page may not be in its tables yet).
                    if (sig == Linux.SIGSEGV && res.SiCode is 0 or SigInfo.SEGV_MAPERR or SigInfo.SEGV_ACCERR)
                        res = res with { SiCode = task.Mm.Find(res.FaultAddress) != null ? SigInfo.SEGV_ACCERR : SigInfo.SEGV_MAPERR };
                    if (sig != 0) Fault(task, sig, res.SiCode > 0 ? res.SiCode : SigInfo.SEGV_MAPERR, res.FaultAddress);
                    break;
                }
                case SwitchReason.Fault:
                    Fault(task, res.Signal, res.SiCode, res.FaultAddress);
                    break;
                case SwitchReason.Interrupted:
                    break;
            }
        }
    }

    /// <summary>A synchronous fault becomes a forced signal (a handler may fix it and return).</summary>
    static void Fault(Task task, int sig, int code, ulong addr)
    {
        if (task.Sandbox.Options.Strace)
            task.Sandbox.Options.Log.WriteLine($"{Strace.Prefix(task)}--- signal {sig} {{si_code={code}, si_addr=0x{addr:x}}} rip=0x{task.Cpu.Regs.rip:x} ---");
        task.ForceSignal(SigInfo.Fault(sig, code, addr));
    }
}
