using static Sentry.Platform.Systrap.Layout;

namespace Sentry.Platform.Systrap;

/// <summary>
/// The systrap floor: the cheapest possible round trip of this platform (post "resume", the stub
/// thread returns to a loop of <c>getppid</c> in the stub's code, the filter traps it, the handler
/// posts the event, Sentry sees it), with no kernel behind it. Benchmarks report the sandbox's
/// null syscall next to this. Use from one thread.
/// </summary>
public sealed unsafe class SystrapFloor : IDisposable
{
    readonly MemoryFile _memory = new(1L << 20);
    readonly StubProcess _stub;
    readonly Slot _slot;

    public SystrapFloor()
    {
        _stub = new StubProcess(_memory);
        _slot = _stub.NewThread();
        byte* uc = _slot.P + (long)(_slot.Qword(Ucontext) - _slot.StubAddress);
        ulong* g = (ulong*)(uc + 40);
        g[16] = StubCode.Image.TrapLoop; // rip
    }

    /// <summary>One trapped syscall round trip.</summary>
    public void RoundTrip()
    {
        _slot.Post(CmdResume);
        _slot.WaitEvent(thread: true);
    }

    public void Dispose()
    {
        _stub.Dispose();
        _memory.Dispose();
    }
}
