namespace Sentry.Platform.Ptrace;

/// <summary>
/// A stub thread seized by one task thread: the thread that runs that task's application code in
/// one address space. Created by cloning the stub's first thread, then PTRACE_SEIZE +
/// PTRACE_INTERRUPT from the task thread, which from then on is its only tracer.
/// </summary>
internal sealed class StubThread
{
    public int Tid { get; }
    public int ProcessPid { get; }
    /// <summary>Set when an Interrupt() signal was consumed by an injection rather than a switch.</summary>
    public bool InterruptPending;
    public bool Dead;

    StubThread(int tid, int pid) { Tid = tid; ProcessPid = pid; }

    /// <summary>Clones a thread in <paramref name="stub"/> and seizes it from the calling thread.</summary>
    public static StubThread Attach(StubProcess stub)
    {
        long tid = StubSpawner.Run(stub.NewThread);
        if (tid <= 0) throw new InvalidOperationException($"cannot create a ptrace stub thread: clone returned {tid}");
        long r = Ptrace.Request(Ptrace.PTRACE_SEIZE, (int)tid, 0, Ptrace.PTRACE_O_TRACESYSGOOD | Ptrace.PTRACE_O_EXITKILL);
        if (r < 0) throw new InvalidOperationException($"PTRACE_SEIZE of stub thread failed: {r}");
        Ptrace.Request(Ptrace.PTRACE_INTERRUPT, (int)tid);
        Ptrace.Wait((int)tid, out int status);
        if (!Ptrace.Stopped(status)) throw new StubDiedException(status);
        var t = new StubThread((int)tid, stub.Pid);
        StubProcess.PinToCurrentCpu(t.Tid);
        return t;
    }

    /// <summary>Runs a host syscall in this thread (stopped, traced by the caller).</summary>
    public long Inject(long nr, ulong a1 = 0, ulong a2 = 0, ulong a3 = 0, ulong a4 = 0, ulong a5 = 0, ulong a6 = 0) =>
        StubProcess.InjectInto(Tid, StubImage.SyscallSite, nr, a1, a2, a3, a4, a5, a6, ref InterruptPending);

    /// <summary>Ends this thread (exit(2) injected), leaving the rest of the stub process running.</summary>
    public void Exit()
    {
        if (Dead) return;
        Dead = true;
        try
        {
            var regs = default(UserRegs);
            if (Ptrace.GetRegs(Tid, ref regs) < 0) return; // already gone with its process
            regs.rip = StubImage.SyscallSite;
            regs.rax = 60; regs.rdi = 0; regs.orig_rax = ulong.MaxValue;
            Ptrace.SetRegs(Tid, ref regs);
            Ptrace.Request(Ptrace.PTRACE_CONT, Tid, 0, 0);
            while (Ptrace.Wait(Tid, out int st) > 0 && Ptrace.Stopped(st))
                Ptrace.Request(Ptrace.PTRACE_CONT, Tid, 0, 0);
        }
        catch (StubDiedException) { }
    }
}
