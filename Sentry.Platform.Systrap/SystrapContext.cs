using static Sentry.Platform.Systrap.Layout;

namespace Sentry.Platform.Systrap;

/// <summary>
/// Runs application code in the calling thread's own stub thread of the address space. A round
/// trip: write the registers into the signal frame the stub thread waits in, post "resume", wait
/// for the next event (a trapped system call, a fault, the kick), read the registers from the new
/// frame. Every value read from the shared region is checked: the application can write there.
/// </summary>
internal sealed unsafe class SystrapContext : IContext
{
    // Offsets in struct ucontext (x86-64): uc_mcontext at 40, gregs in Linux's order, then
    // cs/gs/fs/ss, err, trapno, oldmask, cr2, fpstate; uc_sigmask at 296.
    const int UcMcontext = 40, UcSigmask = 296, UcSize = 304;
    const int G_R8 = 0, G_R9 = 1, G_R10 = 2, G_R11 = 3, G_R12 = 4, G_R13 = 5, G_R14 = 6, G_R15 = 7, G_RDI = 8, G_RSI = 9,
        G_RBP = 10, G_RBX = 11, G_RDX = 12, G_RAX = 13, G_RCX = 14, G_RSP = 15, G_RIP = 16, G_EFL = 17, G_CSGSFS = 18,
        G_ERR = 19, G_TRAPNO = 20, G_FPSTATE = 23;
    const int SIGSYS = 31, SIGSEGV = 11, SIGTRAP = 5;
    const long SYS_tgkill = 234;

    volatile StubThread? _running;
    volatile bool _interruptRequested;
    StubThread? _last;
    readonly List<StubThread> _threads = new();
    long _releasedUserNs;

    public SwitchResult Switch(IAddressSpace addressSpace, CpuState state)
    {
        var aspace = (SystrapAddressSpace)addressSpace;
        var thread = aspace.ThreadForCaller();
        if (thread != _last)
        {
            lock (_threads) if (!_threads.Contains(thread)) _threads.Add(thread);
            _last = thread;
        }
        if (_interruptRequested)
        {
            _interruptRequested = false;
            return SwitchResult.Interrupted;
        }
        var slot = thread.Slot;
        ulong* g = Frame(slot, out byte* uc);
        if (g == null) { thread.Stub.Kill(); throw thread.Stub.Failed("a systrap stub thread's signal frame is outside its stack (the application overwrote its slot)"); }
        ref UserRegs r = ref state.Regs;
        g[G_R8] = r.r8; g[G_R9] = r.r9; g[G_R10] = r.r10; g[G_R11] = r.r11; g[G_R12] = r.r12; g[G_R13] = r.r13;
        g[G_R14] = r.r14; g[G_R15] = r.r15; g[G_RDI] = r.rdi; g[G_RSI] = r.rsi; g[G_RBP] = r.rbp; g[G_RBX] = r.rbx;
        g[G_RDX] = r.rdx; g[G_RAX] = r.rax; g[G_RCX] = r.rcx; g[G_RSP] = r.rsp; g[G_RIP] = r.rip; g[G_EFL] = r.eflags;
        *(ulong*)(uc + UcSigmask) = 0; // nothing blocked on the host once back in the application
        if (state.FpDirty)
        {
            byte* fp = FpState(slot, g);
            if (fp != null)
            {
                fixed (byte* src = state.Fp) Buffer.MemoryCopy(src, fp, CpuState.FxsaveSize, CpuState.FxsaveSize);
                // With XSAVE frames, x87 and SSE must be marked present or the host restores their init state.
                if (*(uint*)(fp + 464) == 0x46505853 /* FP_XSTATE_MAGIC1 */) *(ulong*)(fp + 512) |= 3;
            }
            state.FpDirty = false;
        }
        slot.Qword(FsWant) = r.fs_base;
        slot.Qword(GsWant) = r.gs_base;

        _running = thread;
        if (_interruptRequested) { _running = null; _interruptRequested = false; return SwitchResult.Interrupted; }
        slot.Unresponsive ??= Unresponsive;
        if (slot.QueuedOps > 0) aspace.BeforeResume(thread, slot);
        else slot.Post(CmdResume);
        try { slot.WaitEvent(thread: true); }
        catch (StubDiedException) { thread.Dead = true; _running = null; throw; }
        _running = null;
        Volatile.Write(ref _kickedAt, 0);

        g = Frame(slot, out uc);
        if (g == null) { thread.Stub.Kill(); throw thread.Stub.Failed("a systrap stub thread's signal frame is outside its stack (the application overwrote its slot)"); }
        r.r8 = g[G_R8]; r.r9 = g[G_R9]; r.r10 = g[G_R10]; r.r11 = g[G_R11]; r.r12 = g[G_R12]; r.r13 = g[G_R13];
        r.r14 = g[G_R14]; r.r15 = g[G_R15]; r.rdi = g[G_RDI]; r.rsi = g[G_RSI]; r.rbp = g[G_RBP]; r.rbx = g[G_RBX];
        r.rdx = g[G_RDX]; r.rax = g[G_RAX]; r.rcx = g[G_RCX]; r.rsp = g[G_RSP]; r.rip = g[G_RIP]; r.eflags = g[G_EFL];
        r.cs = 0x33; r.ss = 0x2b;
        if (StubProcess.Fsgsbase) { r.fs_base = slot.Qword(FsHave); r.gs_base = slot.Qword(GsHave); }

        int sig = (int)slot.Word(Signo);
        byte* info = Info(slot);
        int code = info == null ? 0 : *(int*)(info + 8);
        ulong addr = info == null ? 0 : *(ulong*)(info + 16);
        switch (sig)
        {
            case SIGSYS when code == 1 /* SYS_SECCOMP */ && info != null:
                r.orig_rax = (ulong)(uint)*(int*)(info + 24);
                r.rax = unchecked((ulong)-38); // -ENOSYS, as at a ptrace syscall stop
                return SwitchResult.Syscall;
            case SIGSEGV when g[G_TRAPNO] == 14:
            {
                aspace.FlushOthers(thread);
                ulong err = g[G_ERR];
                var access = (err & 16) != 0 ? AccessType.Execute : (err & 2) != 0 ? AccessType.Write : AccessType.Read;
                return new SwitchResult(SwitchReason.PageFault, addr, access, SIGSEGV, code);
            }
            case SIGSEGV or 7 or 8 or 4 or SIGTRAP:
                return new SwitchResult(SwitchReason.Fault, addr, AccessType.None, sig, code);
            default:
                _interruptRequested = false;
                return SwitchResult.Interrupted;
        }
    }

    /// <summary>The gregs of the frame the slot's thread waits in, or null if the slot's pointer is not inside its own stack.</summary>
    static ulong* Frame(Slot slot, out byte* uc)
    {
        ulong a = slot.Qword(Ucontext);
        uc = null;
        ulong lo = slot.StubAddress + StackOffset, hi = slot.StubAddress + SlotSize;
        if (a < lo || a + UcSize > hi) return null;
        uc = slot.P + (long)(a - slot.StubAddress);
        return (ulong*)(uc + UcMcontext);
    }

    static byte* FpState(Slot slot, ulong* g)
    {
        ulong a = g[G_FPSTATE];
        ulong lo = slot.StubAddress + StackOffset, hi = slot.StubAddress + SlotSize;
        if (a < lo || a + 1024 > hi || (a & 15) != 0) return null;
        return slot.P + (long)(a - slot.StubAddress);
    }

    static byte* Info(Slot slot)
    {
        ulong a = slot.Qword(Siginfo);
        ulong lo = slot.StubAddress + StackOffset, hi = slot.StubAddress + SlotSize;
        if (a < lo || a + 128 > hi) return null;
        return slot.P + (long)(a - slot.StubAddress);
    }

    public void LoadFpState(CpuState state)
    {
        if (_last == null || _last.Dead || state.FpDirty) return;
        var slot = _last.Slot;
        ulong* g = Frame(slot, out _);
        byte* fp = g == null ? null : FpState(slot, g);
        if (fp == null) return;
        fixed (byte* dst = state.Fp) Buffer.MemoryCopy(fp, dst, CpuState.FxsaveSize, CpuState.FxsaveSize);
    }

    public void Interrupt()
    {
        _interruptRequested = true;
        var t = _running;
        if (t != null && t.Slot.StateWord != Posted)
        {
            if (Volatile.Read(ref _kickedAt) == 0) Volatile.Write(ref _kickedAt, System.Diagnostics.Stopwatch.GetTimestamp());
            HostSyscall.Call(SYS_tgkill, t.Stub.Pid, t.Tid, KickSignal);
        }
    }

    /// <summary>When the running thread was first kicked without answering yet (0: not kicked).</summary>
    long _kickedAt;

    /// <summary>A kick unanswered for 3 s: the stub no longer works (a live application thread answers a kick in microseconds).</summary>
    bool Unresponsive()
    {
        long k = Volatile.Read(ref _kickedAt);
        if (k == 0) return false;
        var t = _running;
        if (t != null) HostSyscall.Call(SYS_tgkill, t.Stub.Pid, t.Tid, KickSignal);
        return System.Diagnostics.Stopwatch.GetElapsedTime(k).TotalSeconds > 3;
    }

    /// <summary>The application's CPU time is the stub threads' CPU time (they run nothing else but the short handler).</summary>
    public long UserTimeNs
    {
        get
        {
            long sum = _releasedUserNs;
            lock (_threads)
                foreach (var t in _threads) if (!t.Dead) sum += HostSyscall.ForeignThreadCpuTimeNs(t.Tid);
            return sum;
        }
    }

    public void Release(IAddressSpace addressSpace)
    {
        var aspace = (SystrapAddressSpace)addressSpace;
        var mine = aspace.CallerThread();
        if (mine != null)
        {
            _releasedUserNs += HostSyscall.ForeignThreadCpuTimeNs(mine.Tid);
            lock (_threads) _threads.Remove(mine);
        }
        aspace.ReleaseCaller();
        if (_last != null && _last.Dead) _last = null;
    }

    public void Dispose() { }
}
