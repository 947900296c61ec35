using System.Runtime.InteropServices;
using Tmds.Linux;
using static Sentry.Platform.Kvm.GuestLayout;

namespace Sentry.Platform.Kvm;

/// <summary>
/// One KVM virtual machine: the /dev/kvm and VM descriptors, guest memory, the ring-0 code and IDT
/// shared by every vCPU, and the pool of vCPUs (KVM cannot destroy a vCPU before its VM, so a
/// finished thread's vCPU is kept and handed to the next one).
/// </summary>
internal sealed unsafe class KvmMachine : IDisposable
{
    readonly int _kvmFd, _vmFd;
    readonly byte[] _cpuid;
    readonly object _poolLock = new();
    readonly Stack<Vcpu> _free = new();
    int _created;
    Vcpu? _maintenance;

    public GuestMemory Memory { get; }
    public int RunSize { get; }
    public int MaxVcpus { get; }
    /// <summary>XCR0 the guest runs with: the state components KVM supports (x87, SSE, AVX, ...).</summary>
    public ulong Xcr0 { get; }
    /// <summary>A PML4 with only the kernel half: what an idle vCPU runs on.</summary>
    public long KernelPml4 { get; }
    public int VmFd => _vmFd;

    public KvmMachine(MemoryFile memory)
    {
        _kvmFd = OpenKvm();
        try
        {
            long api = Kvm.Ioctl(_kvmFd, KvmAbi.KVM_GET_API_VERSION);
            if (api != KvmAbi.KVM_API_VERSION) throw new KvmUnavailableException($"KVM API version {api}, expected {KvmAbi.KVM_API_VERSION}");
            long sync = Kvm.Ioctl(_kvmFd, KvmAbi.KVM_CHECK_EXTENSION, KvmAbi.KVM_CAP_SYNC_REGS);
            if (sync < 0 || (sync & 3) != 3) throw new KvmUnavailableException("KVM lacks KVM_CAP_SYNC_REGS for registers and special registers");
            if (Kvm.Ioctl(_kvmFd, KvmAbi.KVM_CHECK_EXTENSION, KvmAbi.KVM_CAP_IMMEDIATE_EXIT) <= 0) throw new KvmUnavailableException("KVM lacks KVM_CAP_IMMEDIATE_EXIT");
            if (Kvm.Ioctl(_kvmFd, KvmAbi.KVM_CHECK_EXTENSION, KvmAbi.KVM_CAP_XSAVE) <= 0) throw new KvmUnavailableException("KVM lacks KVM_CAP_XSAVE");
            RunSize = (int)Kvm.Check(Kvm.Ioctl(_kvmFd, KvmAbi.KVM_GET_VCPU_MMAP_SIZE), "KVM_GET_VCPU_MMAP_SIZE");
            long slots = Kvm.Ioctl(_kvmFd, KvmAbi.KVM_CHECK_EXTENSION, KvmAbi.KVM_CAP_NR_MEMSLOTS);
            long maxVcpus = Kvm.Ioctl(_kvmFd, KvmAbi.KVM_CHECK_EXTENSION, KvmAbi.KVM_CAP_MAX_VCPUS);
            MaxVcpus = (int)Math.Min(maxVcpus > 0 ? maxVcpus : 1, MaxVcpusLayout);
            _cpuid = SupportedCpuid(_kvmFd);
            Xcr0 = SupportedXcr0(_cpuid);
            _vmFd = (int)Kvm.Check(Kvm.Ioctl(_kvmFd, KvmAbi.KVM_CREATE_VM), "KVM_CREATE_VM");
            Memory = new GuestMemory(_vmFd, memory, (int)Math.Max(slots, 32));

            long code = Memory.AllocateFrame();
            Trampoline.Assemble().CopyTo(new Span<byte>(Memory.Host(code), MemoryFile.PageSize));
            Memory.MapKernelPage(CodeVa, code, writable: false, executable: true);
            long idt = Memory.AllocateFrame();
            WriteIdt((ulong*)Memory.Host(idt));
            Memory.MapKernelPage(IdtVa, idt, writable: false, executable: false);
            KernelPml4 = NewPml4();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    const int MaxVcpusLayout = GuestLayout.MaxVcpus;

    static int OpenKvm()
    {
        byte[] path = "/dev/kvm\0"u8.ToArray();
        int fd;
        fixed (byte* p = path) fd = LibC.open(p, LibC.O_RDWR | LibC.O_CLOEXEC);
        if (fd < 0) throw new KvmUnavailableException($"/dev/kvm: {Marshal.GetLastPInvokeErrorMessage()}");
        return fd;
    }

    /// <summary>A new PML4 whose slot 511 is the shared kernel half.</summary>
    public long NewPml4()
    {
        long pml4 = Memory.AllocateFrame();
        ((ulong*)Memory.Host(pml4))[511] = (ulong)Memory.KernelPdpt | PteP | PteRw;
        return pml4;
    }

    /// <summary>The IDT: one 64-bit interrupt gate per exception vector into <see cref="Trampoline"/>.
    /// #BP and #OF have DPL 3 so that int3 and into from the application raise them, as on Linux.</summary>
    static void WriteIdt(ulong* idt)
    {
        for (int v = 0; v < 32; v++)
        {
            ulong handler = Trampoline.VectorStubs + (ulong)(v * Trampoline.VectorStubSize);
            ulong type = v is 3 or 4 ? 0xEE00UL : 0x8E00UL; // present, DPL, 64-bit interrupt gate
            idt[v * 2] = (handler & 0xffff) | ((ulong)KernelCs << 16) | (type << 32) | (((handler >> 16) & 0xffff) << 48);
            idt[v * 2 + 1] = handler >> 32;
        }
    }

    static byte[] SupportedCpuid(int kvmFd)
    {
        for (int n = 128; n <= 4096; n *= 2)
        {
            var buf = new byte[8 + n * KvmAbi.CpuidEntrySize];
            BitConverter.TryWriteBytes(buf.AsSpan(0, 4), n);
            long r;
            fixed (byte* p = buf) r = Kvm.Ioctl(kvmFd, KvmAbi.KVM_GET_SUPPORTED_CPUID, (long)p);
            if (r == -7 /* E2BIG */) continue;
            Kvm.Check(r, "KVM_GET_SUPPORTED_CPUID");
            return buf;
        }
        throw new KvmUnavailableException("KVM_GET_SUPPORTED_CPUID: too many entries");
    }

    /// <summary>XCR0 from CPUID leaf 0xD subleaf 0 (EDX:EAX), limited to x87, SSE and AVX (all XSAVE
    /// state the FPU image exchanged with the kernel can describe).</summary>
    static ulong SupportedXcr0(byte[] cpuid)
    {
        int n = BitConverter.ToInt32(cpuid, 0);
        for (int i = 0; i < n; i++)
        {
            int e = 8 + i * KvmAbi.CpuidEntrySize;
            if (BitConverter.ToUInt32(cpuid, e) == 0xD && BitConverter.ToUInt32(cpuid, e + 4) == 0)
                return (BitConverter.ToUInt32(cpuid, e + 12) | ((ulong)BitConverter.ToUInt32(cpuid, e + 24) << 32)) & 0x7;
        }
        return 0x3;
    }

    public ReadOnlySpan<byte> Cpuid => _cpuid;

    /// <summary>A vCPU for a new context: a pooled one with its FPU reset, or a new one.</summary>
    public Vcpu Acquire()
    {
        lock (_poolLock)
        {
            if (_free.TryPop(out var v))
            {
                v.Reset();
                return v;
            }
            if (_created >= MaxVcpus) throw new KvmGuestException($"more than {MaxVcpus} threads running at once");
            return new Vcpu(this, _created++);
        }
    }

    public void Release(Vcpu v)
    {
        lock (_poolLock) _free.Push(v);
    }

    /// <summary>
    /// Runs the guest-applied writes <paramref name="updates"/> (address, value) on the calling thread's own
    /// vCPU when it has one, else on a VM-wide maintenance vCPU; they are in effect on return.
    /// </summary>
    public void ApplyUpdates(ReadOnlySpan<ulong> updates)
    {
        var mine = Vcpu.Current;
        if (mine != null && mine.Machine == this && !mine.InUser)
        {
            mine.ApplyUpdates(updates);
            return;
        }
        lock (_poolLock)
        {
            _maintenance ??= new Vcpu(this, _created++);
            _maintenance.ApplyUpdates(updates);
        }
    }

    public void Dispose()
    {
        lock (_poolLock)
        {
            foreach (var v in _free) v.Dispose();
            _free.Clear();
            _maintenance?.Dispose();
            _maintenance = null;
        }
        if (_vmFd > 0) LibC.close(_vmFd);
        if (_kvmFd > 0) LibC.close(_kvmFd);
    }
}
