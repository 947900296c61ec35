using static Sentry.Platform.Kvm.GuestLayout;

namespace Sentry.Platform.Kvm;

/// <summary>
/// Runs one application thread on its own vCPU. Entering the application: Sentry writes an
/// interrupt frame (rip, cs, rflags, rsp, ss) on the vCPU's ring-0 stack, loads every general
/// register through kvm_run and starts the vCPU at <see cref="Trampoline.Iret"/>. Leaving it: a
/// syscall or exception reaches a trampoline stub whose <c>out</c> ends KVM_RUN; the port says which.
/// The vCPU's FPU/SSE/AVX registers stay in the vCPU between switches and are read or written only
/// when the kernel asks (<see cref="LoadFpState"/>, <see cref="CpuState.FpDirty"/>).
/// </summary>
internal sealed unsafe class KvmContext : IContext
{
    const int EINTR = 4;
    /// <summary>rflags bits the application may hold (CF PF AF ZF SF TF DF OF AC ID); IF and bit 1 are always set, IOPL is 0.</summary>
    const ulong UserFlags = 0x250dd5, FixedFlags = 0x202, InterruptFlag = 0x200;

    readonly KvmMachine _machine;
    readonly Vcpu _vcpu;
    readonly int _tid;
    readonly byte[] _xsave = new byte[KvmAbi.KvmXsaveSize];
    volatile bool _interrupt, _inRun;
    ulong _fsBase, _gsBase;
    long _userNs;

    public KvmContext(KvmMachine machine)
    {
        _machine = machine;
        _vcpu = machine.Acquire();
        _tid = (int)HostSyscall.Call(186 /* gettid */);
        Vcpu.Current = _vcpu;
        _fsBase = _vcpu.Sregs.fs.Base;
        _gsBase = _vcpu.Sregs.gs.Base;
    }

    public SwitchResult Switch(IAddressSpace addressSpace, CpuState state)
    {
        var aspace = (KvmAddressSpace)addressSpace;
        ref var u = ref state.Regs;
        if (_interrupt)
        {
            _interrupt = false;
            return SwitchResult.Interrupted;
        }
        if (!IsCanonical(u.rip))
            return new SwitchResult(SwitchReason.Fault, 0, AccessType.None, Signals.SIGSEGV, Signals.SI_KERNEL);

        if (state.FpDirty)
        {
            StoreFp(state);
            state.FpDirty = false;
        }
        _vcpu.SetCr3(aspace.Pml4);
        if (u.fs_base != _fsBase || u.gs_base != _gsBase)
        {
            ref var s = ref _vcpu.Sregs;
            s.fs.Base = _fsBase = u.fs_base;
            s.gs.Base = _gsBase = u.gs_base;
            _vcpu.PendingDirty |= KvmAbi.KVM_SYNC_X86_SREGS;
        }

        ref var r = ref _vcpu.Regs;
        r.rax = u.rax; r.rbx = u.rbx; r.rcx = u.rcx; r.rdx = u.rdx; r.rsi = u.rsi; r.rdi = u.rdi; r.rbp = u.rbp;
        r.r8 = u.r8; r.r9 = u.r9; r.r10 = u.r10; r.r11 = u.r11; r.r12 = u.r12; r.r13 = u.r13; r.r14 = u.r14; r.r15 = u.r15;
        ulong flags = (u.eflags & UserFlags) | FixedFlags;
        if (_vcpu.InUser)
        {
            // An interrupt stopped the vCPU inside the application: it is still in ring 3, so the
            // registers go in as they are.
            r.rip = u.rip;
            r.rsp = u.rsp;
            r.rflags = flags;
        }
        else
        {
            ulong* frame = _vcpu.Frame + 1; // rip, cs, rflags, rsp, ss for iretq
            frame[0] = u.rip;
            frame[1] = UserCs;
            frame[2] = flags;
            frame[3] = u.rsp;
            frame[4] = UserDs;
            r.rsp = _vcpu.StackTopVa - 40;
            r.rip = Trampoline.Iret;
            r.rflags = 2;
        }
        _vcpu.DirtyRegs = KvmAbi.KVM_SYNC_X86_REGS | _vcpu.PendingDirty;
        _vcpu.PendingDirty = 0;

        long rc;
        long t0 = HostSyscall.ThreadCpuTimeNs(_tid);
        try
        {
            // Set once the vCPU was stopped in a ring-0 stub: from then on it must run to the stub's
            // exit, whatever interrupts arrive, because only that exit hands back the application's state.
            bool finishStub = false;
            while (true)
            {
                _inRun = true;
                // Pairs with the barrier in Interrupt: either it sees _inRun and kicks, or this sees _interrupt
                // (x86 may let a load pass an earlier store, and then both would miss and the run would not stop).
                Interlocked.MemoryBarrier();
                if (_interrupt && !finishStub) { _inRun = false; _interrupt = false; return SwitchResult.Interrupted; }
                rc = _vcpu.RunOnce();
                _inRun = false;
                if (rc != -EINTR) break;
                // A signal: ours (Interrupt) or the runtime's (GC suspension). KVM has saved the vCPU
                // wherever it was; run on unless we were asked to stop.
                *(_vcpu.Run + KvmAbi.RunImmediateExit) = 0;
                if (!_interrupt) continue;
                // Where it stopped tells what state is live (rip, not cs: a hypervisor that emulates
                // ring 0 may report either privilege level around the iretq it is emulating).
                ulong rip = _vcpu.Regs.rip;
                if (rip < KernelBase)
                {
                    // Stopped inside the application: its registers are the live ones, and the
                    // vCPU stays in ring 3 until its next exit.
                    CaptureUser(ref u);
                    _vcpu.InUser = true;
                    _interrupt = false;
                    return SwitchResult.Interrupted;
                }
                if (rip == Trampoline.Iret)
                {
                    _interrupt = false; // never got to the application: its state is unchanged
                    return SwitchResult.Interrupted;
                }
                // In a stub on its way out (a syscall or an exception was taken): the application ran
                // since this Switch began, so the kernel's copy of its registers is stale and returning
                // Interrupted now would make it resume from there, running code again with old
                // registers. Let the stub finish; its exit is decoded as usual and the interrupt stays
                // pending for the next Switch.
                finishStub = true;
            }
        }
        finally { _userNs += HostSyscall.ThreadCpuTimeNs(_tid) - t0; }
        if (rc < 0) throw new KvmGuestException($"KVM_RUN failed: {Errno.Name((int)-rc)}");
        _vcpu.InUser = false; // every exit is an out from a ring-0 stub
        return Decode(state);
    }

    void CaptureUser(ref UserRegs u)
    {
        ref var r = ref _vcpu.Regs;
        CopyGprs(ref u, ref r);
        u.rsp = r.rsp;
        u.rip = r.rip;
        u.eflags = r.rflags;
    }

    static void CopyGprs(ref UserRegs u, ref KvmRegs r)
    {
        u.rax = r.rax; u.rbx = r.rbx; u.rcx = r.rcx; u.rdx = r.rdx; u.rsi = r.rsi; u.rdi = r.rdi; u.rbp = r.rbp;
        u.r8 = r.r8; u.r9 = r.r9; u.r10 = r.r10; u.r11 = r.r11; u.r12 = r.r12; u.r13 = r.r13; u.r14 = r.r14; u.r15 = r.r15;
    }

    SwitchResult Decode(CpuState state)
    {
        if (_vcpu.ExitReason != KvmAbi.KVM_EXIT_IO || !_vcpu.InRingZero)
            throw new KvmGuestException(_vcpu.DescribeExit());
        ref var u = ref state.Regs;
        ref var r = ref _vcpu.Regs;
        CopyGprs(ref u, ref r);
        u.cs = UserCs;
        u.ss = UserDs;
        ushort port = _vcpu.IoPort;
        if (port == Trampoline.SyscallPort)
        {
            // syscall in ring 0 (hardware KVM): rsp is still the application's; rcx and r11 hold rip and rflags.
            u.rsp = r.rsp;
            return Syscall(ref u);
        }
        int vector = port - Trampoline.VectorPortBase;
        if (vector is < 0 or >= 32)
            throw new KvmGuestException(_vcpu.DescribeExit());
        ulong* f = _vcpu.Frame; // error code, rip, cs, rflags, rsp, ss
        if ((f[2] & 3) != 3)
            throw new KvmGuestException($"exception {vector} in ring 0: {_vcpu.DescribeExit()}");
        u.rsp = f[4];
        if (vector == 14 && f[1] == Trampoline.Lstar && (f[3] & InterruptFlag) == 0)
        {
            // This hypervisor's syscall: it jumped to LSTAR still in ring 3 and the fetch faulted.
            // Everything else is as a syscall leaves it. Only syscall clears IF on the way (our
            // MSR_SYSCALL_MASK); the application always runs with IF set and cannot clear it, so
            // a plain jump or call to LSTAR stays an ordinary fault on a kernel address.
            return Syscall(ref u);
        }
        u.rip = f[1];
        u.eflags = f[3];
        if (vector == 14 && !IsCanonical(_vcpu.Sregs.cr2))
            vector = 13; // as on hardware, a non-canonical address is a #GP (SIGSEGV, SI_KERNEL), not a page fault
        if (vector == 14)
        {
            ulong err = f[0];
            var access = (err & 2) != 0 ? AccessType.Write : (err & 16) != 0 ? AccessType.Execute : AccessType.Read;
            int code = (err & 1) != 0 ? Signals.SEGV_ACCERR : Signals.SEGV_MAPERR;
            return new SwitchResult(SwitchReason.PageFault, _vcpu.Sregs.cr2, access, Signals.SIGSEGV, code);
        }
        var (sig, siCode, addr) = Signals.ForVector(vector, u.rip);
        return new SwitchResult(SwitchReason.Fault, addr, AccessType.None, sig, siCode);
    }

    static SwitchResult Syscall(ref UserRegs u)
    {
        u.rip = u.rcx;
        u.eflags = u.r11;
        u.orig_rax = u.rax;
        return SwitchResult.Syscall;
    }

    public void LoadFpState(CpuState state)
    {
        if (state.FpDirty) return;
        fixed (byte* x = _xsave) Kvm.Check(Kvm.Ioctl(_vcpu.Fd, KvmAbi.KVM_GET_XSAVE, (long)x), "KVM_GET_XSAVE");
        _xsave.AsSpan(0, CpuState.FxsaveSize).CopyTo(state.Fp);
    }

    /// <summary>Loads the kernel's FXSAVE image into the vCPU, keeping the rest of its XSAVE state (AVX upper halves).</summary>
    void StoreFp(CpuState state)
    {
        fixed (byte* x = _xsave)
        {
            Kvm.Check(Kvm.Ioctl(_vcpu.Fd, KvmAbi.KVM_GET_XSAVE, (long)x), "KVM_GET_XSAVE");
            state.Fp.AsSpan().CopyTo(_xsave);
            *(ulong*)(x + 512) |= 3; // XSTATE_BV: x87 and SSE come from the legacy area just written
            Kvm.Check(Kvm.Ioctl(_vcpu.Fd, KvmAbi.KVM_SET_XSAVE, (long)x), "KVM_SET_XSAVE");
        }
    }

    public void Release(IAddressSpace addressSpace)
    {
        // The address space may be freed next: the vCPU must not keep running on its tables.
        if (_vcpu.Cr3 == ((KvmAddressSpace)addressSpace).Pml4) _vcpu.SetCr3(_machine.KernelPml4);
    }

    public long UserTimeNs => _userNs;

    public void Interrupt()
    {
        _interrupt = true;
        *(_vcpu.Run + KvmAbi.RunImmediateExit) = 1;
        Interlocked.MemoryBarrier(); // see Switch
        if (_inRun) KickSignal.Send(_tid);
    }

    public void Dispose()
    {
        if (Vcpu.Current == _vcpu) Vcpu.Current = null;
        *(_vcpu.Run + KvmAbi.RunImmediateExit) = 0;
        _vcpu.SetCr3(_machine.KernelPml4);
        _machine.Release(_vcpu);
    }
}
