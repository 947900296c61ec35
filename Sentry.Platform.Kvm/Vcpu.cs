using System.Runtime.InteropServices;
using Tmds.Linux;
using static Sentry.Platform.Kvm.GuestLayout;

namespace Sentry.Platform.Kvm;

/// <summary>
/// One KVM vCPU in 64-bit long mode with its own GDT, TSS, ring-0 stack and update queue (the vCPU
/// block of <see cref="GuestLayout"/>), and its kvm_run page. Registers travel through kvm_run
/// (KVM_CAP_SYNC_REGS), so a round trip is one KVM_RUN ioctl.
/// </summary>
internal sealed unsafe class Vcpu : IDisposable
{
    /// <summary>The vCPU of the calling thread's context, if it has one (used to apply page-table updates).</summary>
    [ThreadStatic] public static Vcpu? Current;

    const uint EferSce = 1, EferLme = 0x100, EferLma = 0x400, EferNxe = 0x800;
    const ulong Cr0Pe = 1, Cr0Mp = 2, Cr0Et = 0x10, Cr0Ne = 0x20, Cr0Wp = 0x10000, Cr0Am = 0x40000, Cr0Pg = 0x8000_0000;
    const ulong Cr4Pae = 0x20, Cr4Osfxsr = 0x200, Cr4Osxmmexcpt = 0x400, Cr4Osxsave = 0x40000;
    /// <summary>rflags bits cleared on syscall entry, as Linux sets MSR_SYSCALL_MASK (TF, IF, DF, IOPL, AC, NT).</summary>
    const ulong SyscallMask = 0x47700;

    public KvmMachine Machine { get; }
    public int Fd { get; }
    public byte* Run { get; }
    readonly ulong _block;
    readonly byte* _queue, _stackTop;
    readonly byte[] _initialXsave = new byte[KvmAbi.KvmXsaveSize];

    public Vcpu(KvmMachine machine, int index)
    {
        Machine = machine;
        var mem = machine.Memory;
        Fd = (int)Kvm.Check(Kvm.Ioctl(machine.VmFd, KvmAbi.KVM_CREATE_VCPU, index), "KVM_CREATE_VCPU");
        void* run = LibC.mmap(null, (size_t)(ulong)machine.RunSize, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, Fd, 0);
        if (run == LibC.MAP_FAILED) throw new KvmUnavailableException($"mmap(kvm_run): {Marshal.GetLastPInvokeErrorMessage()}");
        Run = (byte*)run;

        fixed (byte* cpuid = machine.Cpuid) Kvm.Check(Kvm.Ioctl(Fd, KvmAbi.KVM_SET_CPUID2, (long)cpuid), "KVM_SET_CPUID2");

        _block = VcpuBlock(index);
        long gdt = mem.AllocateFrame(), queue = mem.AllocateFrame(), stack0 = mem.AllocateFrame(), stack1 = mem.AllocateFrame();
        mem.MapKernelPage(_block + GdtOffset, gdt, writable: false, executable: false);
        mem.MapKernelPage(_block + QueueOffset, queue, writable: false, executable: false);
        mem.MapKernelPage(_block + StackOffset, stack0, writable: true, executable: false);
        mem.MapKernelPage(_block + StackOffset + 0x1000, stack1, writable: true, executable: false);
        _queue = mem.Host(queue);
        _stackTop = mem.Host(stack1) + 0x1000;
        WriteGdtAndTss(mem.Host(gdt), _block);

        SetSregs(machine.KernelPml4);
        Cr3 = machine.KernelPml4;
        SetMsrs();
        SetXcr0(machine.Xcr0);
        *(ulong*)(Run + KvmAbi.RunValidRegs) = KvmAbi.KVM_SYNC_X86_REGS | KvmAbi.KVM_SYNC_X86_SREGS;
        fixed (byte* x = _initialXsave) Kvm.Check(Kvm.Ioctl(Fd, KvmAbi.KVM_GET_XSAVE, (long)x), "KVM_GET_XSAVE");
        // The first run enters long mode for real (some hypervisors convert the vCPU on its first exit).
        ApplyUpdates([]);
    }

    public ref KvmRegs Regs => ref *(KvmRegs*)(Run + KvmAbi.RunRegs);
    public ref KvmSregs Sregs => ref *(KvmSregs*)(Run + KvmAbi.RunSregs);
    public ref ulong DirtyRegs => ref *(ulong*)(Run + KvmAbi.RunDirtyRegs);
    public uint ExitReason => *(uint*)(Run + KvmAbi.RunExitReason);
    public ushort IoPort => *(ushort*)(Run + KvmAbi.IoPort);

    /// <summary>Ring-0 stack top as a guest address, and the host's view of the six words below it (the exception frame).</summary>
    public ulong StackTopVa => _block + StackTopOffset;
    public ulong* Frame => (ulong*)(_stackTop - 48);

    /// <summary>One KVM_RUN. Returns 0 or -errno (-EINTR when a signal arrived).</summary>
    public long RunOnce() => Kvm.Ioctl(Fd, KvmAbi.KVM_RUN);

    /// <summary>Guest-physical address of the page table the vCPU runs on (CR3).</summary>
    public long Cr3 { get; private set; }

    /// <summary>Switches page tables before the next run (through the synced special registers).</summary>
    public void SetCr3(long pml4)
    {
        if (Cr3 == pml4) return;
        Sregs.cr3 = (ulong)pml4;
        Cr3 = pml4;
        PendingDirty |= KvmAbi.KVM_SYNC_X86_SREGS;
    }

    /// <summary>True when an interrupt stopped this vCPU in ring 3 (it re-enters the application
    /// directly and cannot run ring-0 stubs until its next exit).</summary>
    public bool InUser;

    /// <summary>Synced register sets changed since the last run and to be loaded by the next.</summary>
    public ulong PendingDirty;

    /// <summary>Whether an exit left the vCPU in ring 0 at one of our stubs (the only way it can exit).</summary>
    public bool InRingZero => (Sregs.cs.Selector & 3) == 0;

    static void WriteGdtAndTss(byte* page, ulong block)
    {
        var gdt = (ulong*)(page + GdtOffset);
        gdt[KernelCs >> 3] = 0x00af9b000000ffff;  // 64-bit code, DPL 0
        gdt[KernelDs >> 3] = 0x00cf93000000ffff;  // data, DPL 0
        gdt[User32Cs >> 3] = 0x00cffb000000ffff;  // 32-bit code, DPL 3
        gdt[UserDs >> 3] = 0x00cff3000000ffff;    // data, DPL 3
        gdt[UserCs >> 3] = 0x00affb000000ffff;    // 64-bit code, DPL 3
        ulong tss = block + TssOffset;
        gdt[TssSelector >> 3] = 103 | ((tss & 0xffffff) << 16) | (0x8bUL << 40) | (((tss >> 24) & 0xff) << 56);
        gdt[(TssSelector >> 3) + 1] = tss >> 32;
        byte* t = page + TssOffset;
        *(ulong*)(t + 4) = block + StackTopOffset; // rsp0: where exceptions from ring 3 push their frame
        *(ushort*)(t + 102) = 104;                 // I/O bitmap beyond the limit: every port denied to ring 3
    }

    void SetSregs(long cr3)
    {
        KvmSregs s = default;
        Kvm.Check(Kvm.Ioctl(Fd, KvmAbi.KVM_GET_SREGS, ref s), "KVM_GET_SREGS");
        s.cr0 = Cr0Pe | Cr0Mp | Cr0Et | Cr0Ne | Cr0Wp | Cr0Am | Cr0Pg;
        s.cr3 = (ulong)cr3;
        s.cr4 = Cr4Pae | Cr4Osfxsr | Cr4Osxmmexcpt | Cr4Osxsave;
        s.efer = EferSce | EferLme | EferLma | EferNxe;
        s.cs = Segment(KernelCs, code: true);
        s.ss = Segment(KernelDs, code: false);
        s.ds = s.es = s.fs = s.gs = Segment(0, code: false);
        s.ldt = default;
        s.tr = new KvmSegment { Base = _block + TssOffset, Limit = 103, Selector = TssSelector, Type = 11, Present = 1 };
        s.gdt = new KvmDtable { Base = _block + GdtOffset, Limit = 16 * 8 - 1 };
        s.idt = new KvmDtable { Base = IdtVa, Limit = 32 * 16 - 1 };
        Kvm.Check(Kvm.Ioctl(Fd, KvmAbi.KVM_SET_SREGS, ref s), "KVM_SET_SREGS");
    }

    static KvmSegment Segment(ushort selector, bool code) => code
        ? new KvmSegment { Selector = selector, Limit = 0xfffff, Type = 11, Present = 1, S = 1, L = 1, G = 1 }
        : new KvmSegment { Selector = selector, Limit = 0xfffff, Type = 3, Present = 1, S = 1, Db = 1, G = 1 };

    void SetMsrs()
    {
        // struct kvm_msrs { u32 nmsrs, pad; struct kvm_msr_entry { u32 index, reserved; u64 data; } entries[]; }
        ulong* m = stackalloc ulong[1 + 3 * 2];
        m[0] = 3;
        m[1] = KvmAbi.MSR_STAR; m[2] = ((ulong)User32Cs << 48) | ((ulong)KernelCs << 32);
        m[3] = KvmAbi.MSR_LSTAR; m[4] = Trampoline.Lstar;
        m[5] = KvmAbi.MSR_SYSCALL_MASK; m[6] = SyscallMask;
        long r = Kvm.Ioctl(Fd, KvmAbi.KVM_SET_MSRS, (long)m);
        if (r != 3) throw new KvmUnavailableException($"KVM_SET_MSRS set {r} of 3 syscall MSRs");
    }

    void SetXcr0(ulong xcr0)
    {
        // struct kvm_xcrs { u32 nr_xcrs, flags; struct kvm_xcr { u32 xcr, reserved; u64 value; } xcrs[16]; u64 padding[16]; }
        ulong* x = stackalloc ulong[49];
        new Span<ulong>(x, 49).Clear();
        x[0] = 1;
        x[1] = 0; // XCR0
        x[2] = xcr0;
        Kvm.Check(Kvm.Ioctl(Fd, KvmAbi.KVM_SET_XCRS, (long)x), "KVM_SET_XCRS");
    }

    /// <summary>Back to the state a new thread expects: reset FPU/SSE/AVX registers (a pooled vCPU last
    /// ran another thread, whose register contents must not leak).</summary>
    public void Reset()
    {
        fixed (byte* x = _initialXsave) Kvm.Check(Kvm.Ioctl(Fd, KvmAbi.KVM_SET_XSAVE, (long)x), "KVM_SET_XSAVE");
    }

    /// <summary>Runs <see cref="Trampoline.Apply"/> over (address, value) pairs, at most 256 at a time.</summary>
    public void ApplyUpdates(ReadOnlySpan<ulong> updates)
    {
        const int PerRun = 256;
        int done = 0;
        do
        {
            int n = Math.Min(PerRun, (updates.Length - done) / 2);
            updates.Slice(done, n * 2).CopyTo(new Span<ulong>(_queue, n * 2));
            ref var r = ref Regs;
            r.rip = Trampoline.Apply;
            r.rsi = _block + QueueOffset;
            r.rcx = (ulong)n;
            r.rsp = StackTopVa;
            r.rflags = 2;
            DirtyRegs = KvmAbi.KVM_SYNC_X86_REGS | PendingDirty;
            PendingDirty = 0;
            while (true)
            {
                long rc = RunOnce();
                if (rc == -4)
                {
                    // EINTR: a runtime signal, or an Interrupt() of this thread's context, which
                    // leaves immediate_exit set; the context keeps its own flag, so clear it and go on.
                    *(Run + KvmAbi.RunImmediateExit) = 0;
                    continue;
                }
                if (rc < 0) throw new KvmGuestException($"KVM_RUN failed: {Errno.Name((int)-rc)}");
                if (ExitReason == KvmAbi.KVM_EXIT_IO && IoPort == Trampoline.ApplyPort) break;
                throw new KvmGuestException($"page-table update stub: {DescribeExit()}");
            }
            done += n * 2;
        } while (done < updates.Length);
    }

    /// <summary>The exit as text, for a Sentry bug report.</summary>
    public string DescribeExit()
    {
        uint reason = ExitReason;
        var r = Regs;
        string what = reason switch
        {
            KvmAbi.KVM_EXIT_IO => $"out to port 0x{IoPort:x}",
            KvmAbi.KVM_EXIT_SHUTDOWN => "triple fault (shutdown)",
            KvmAbi.KVM_EXIT_FAIL_ENTRY => "entry failed",
            KvmAbi.KVM_EXIT_INTERNAL_ERROR => $"internal error {*(uint*)(Run + KvmAbi.RunExitData)}",
            KvmAbi.KVM_EXIT_HLT => "hlt",
            KvmAbi.KVM_EXIT_MMIO => "mmio",
            _ => $"exit reason {reason}",
        };
        var f = Frame;
        return $"{what} at rip 0x{r.rip:x} cs 0x{Sregs.cs.Selector:x} cr2 0x{Sregs.cr2:x}; frame err 0x{f[0]:x} rip 0x{f[1]:x} cs 0x{f[2]:x} rsp 0x{f[4]:x}";
    }

    public void Dispose()
    {
        if (Run != null) LibC.munmap(Run, (size_t)(ulong)Machine.RunSize);
        if (Fd > 0) LibC.close(Fd);
    }
}
