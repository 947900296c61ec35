namespace Sentry.Platform.Kvm;

/// <summary>
/// The KVM floor: the cheapest possible exit round trip, a ring-0 loop doing <c>out</c> with no
/// kernel behind it (KVM_RUN, exit, KVM_RUN ...). Benchmarks report the sandbox's null syscall
/// next to this. Use from one thread.
/// </summary>
public sealed class KvmExitFloor : IDisposable
{
    readonly MemoryFile _memory = new(1L << 30);
    readonly KvmMachine _machine;
    readonly Vcpu _vcpu;

    public KvmExitFloor()
    {
        _machine = new KvmMachine(_memory);
        _vcpu = _machine.Acquire();
        ref var r = ref _vcpu.Regs;
        r.rip = Trampoline.FloorLoop;
        r.rsp = _vcpu.StackTopVa;
        r.rflags = 2;
        _vcpu.DirtyRegs = KvmAbi.KVM_SYNC_X86_REGS;
    }

    /// <summary>One exit round trip.</summary>
    public void RoundTrip()
    {
        long rc;
        do rc = _vcpu.RunOnce(); while (rc == -4);
    }

    public void Dispose()
    {
        _vcpu.Dispose();
        _machine.Dispose();
        _memory.Dispose();
    }
}
