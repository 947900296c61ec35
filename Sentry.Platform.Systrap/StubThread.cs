using static Sentry.Platform.Systrap.Layout;

namespace Sentry.Platform.Systrap;

/// <summary>
/// One stub thread: it runs one task's application code in one address space and, whenever it
/// traps, waits in its signal handler for Sentry's command on its <see cref="Slot"/>.
/// </summary>
internal sealed class StubThread(StubProcess stub, Slot slot)
{
    public StubProcess Stub { get; } = stub;
    public Slot Slot { get; } = slot;
    public int Tid { get; } = (int)slot.Word(Layout.Tid);
    public bool Dead;

    /// <summary>Runs the first <paramref name="n"/> queued host calls in this (stopped) thread; returns the last one's result.</summary>
    public long RunQueued(int n)
    {
        Slot.Post(CmdOps);
        Slot.WaitEvent(thread: true);
        return n > 0 ? Slot.OpResult(n - 1) : 0;
    }

    /// <summary>Ends this thread, leaving the rest of the stub process running.</summary>
    public void Exit()
    {
        if (Dead) return;
        Dead = true;
        try { Stub.EndThread(Slot); }
        catch (StubDiedException) { }
    }
}
