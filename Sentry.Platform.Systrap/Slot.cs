using System.Diagnostics;
using static Sentry.Platform.Systrap.Layout;

namespace Sentry.Platform.Systrap;

/// <summary>
/// Sentry's side of one slot of the shared region: post a command to the stub thread that owns it
/// and wait for its next event. Both sides spin briefly and then sleep on the slot's state word
/// (a shared futex: the region is a memfd mapped into both processes). Sentry's spin adapts: it
/// spins only while recent waits were answered within the spin budget, so a thread whose
/// application computes for long, or a machine with more runnable threads than CPUs, sleeps at once.
/// </summary>
internal sealed unsafe class Slot
{
    const int FUTEX_WAIT = 0, FUTEX_WAKE = 1;
    const long SYS_futex = 202;

    public readonly int Index;
    public readonly byte* P;
    /// <summary>Address of this slot in the stub.</summary>
    public readonly ulong StubAddress;
    readonly StubProcess _stub;

    /// <summary>Spin budget in Stopwatch ticks for the next wait; 0 = sleep at once.</summary>
    long _spinTicks;
    static readonly long MaxSpinTicks = Stopwatch.Frequency / 50_000; // 20 µs
    static readonly long MinSpinTicks = NoSpin ? 0 : Stopwatch.Frequency / 1_000_000; // 1 µs
    static readonly bool NoSpin = Environment.GetEnvironmentVariable("SENTRY_SYSTRAP_NOSPIN") == "1";

    public Slot(StubProcess stub, int index)
    {
        _stub = stub;
        Index = index;
        P = stub.SharedPointer + (long)index * (long)SlotSize;
        StubAddress = SharedBase + (ulong)index * SlotSize;
        _spinTicks = Environment.ProcessorCount > 1 && !NoSpin ? MaxSpinTicks : 0;
    }

    public ref uint Word(int offset) => ref *(uint*)(P + offset);
    public ref ulong Qword(int offset) => ref *(ulong*)(P + offset);

    public uint StateWord => Volatile.Read(ref Word(State));

    /// <summary>The most pause iterations the stub spins (~10 µs on current CPUs); none on one CPU.</summary>
    public static uint MaxStubSpin = Environment.GetEnvironmentVariable("SENTRY_SYSTRAP_SPIN") is { } v ? uint.Parse(v) : Environment.ProcessorCount > 1 ? 400u : 0u;
    /// <summary>Whether Sentry's last wait on this slot was answered while it spun: both sides were on a CPU at once.</summary>
    bool _caughtSpinning;
    int _waits;

    /// <summary>
    /// Gives the slot to the stub with <paramref name="command"/>, and sets how long the stub spins
    /// for the next answer: as long as it may when Sentry's own last wait was answered while it
    /// spun (the two sides run on two CPUs at once, and a spin saves two futex calls and two
    /// context switches), not at all otherwise (a busy host: a spinning stub only takes the CPU the
    /// other side needs).
    /// </summary>
    public void Post(uint command)
    {
        Word(Command) = command;
        uint next = _caughtSpinning ? MaxStubSpin : 0;
        if (Word(Spin) != next) Word(Spin) = next;
        Interlocked.Exchange(ref Word(State), Commanded);
        if (Volatile.Read(ref Word(StubWaiting)) != 0)
            HostSyscall.Call(SYS_futex, (long)(P + State), FUTEX_WAKE, 1);
    }

    /// <summary>
    /// Waits until the stub posts an event on this slot. Throws <see cref="StubDiedException"/> when
    /// the stub process or this slot's thread (when <paramref name="thread"/>) is gone. Spins first
    /// for an adaptive budget: a wait answered within it raises it (up to 20 µs), one that was not
    /// halves it, down to none; every 64th wait with a small budget tries the full one, so the spin
    /// comes back when the host has CPUs to spare again.
    /// </summary>
    public void WaitEvent(bool thread)
    {
        ref uint state = ref Word(State);
        if (Volatile.Read(ref state) == Posted) { _caughtSpinning = true; return; }
        long budget = _spinTicks;
        if (budget < MaxSpinTicks / 4 && (++_waits & 63) == 0 && !NoSpin && Environment.ProcessorCount > 1) budget = MaxSpinTicks;
        if (budget > 0)
        {
            long start = Stopwatch.GetTimestamp();
            int i = 0;
            while (true)
            {
                if (Volatile.Read(ref state) == Posted)
                {
                    _spinTicks = Math.Min(MaxSpinTicks, budget + budget / 4 + 1);
                    _caughtSpinning = true;
                    return;
                }
                Thread.SpinWait(8);
                if ((++i & 15) == 0 && Stopwatch.GetTimestamp() - start > budget) break;
            }
            _spinTicks = budget / 2 < MinSpinTicks ? 0 : budget / 2;
        }
        _caughtSpinning = false;
        long* timeout = stackalloc long[2];
        while (true)
        {
            Interlocked.Exchange(ref Word(SentryWaiting), 1);
            uint s = Volatile.Read(ref state);
            if (s == Posted) break;
            timeout[0] = 0; timeout[1] = 200_000_000; // 200 ms, then check the stub is alive
            long r = HostSyscall.Call(SYS_futex, (long)(P + State), FUTEX_WAIT, s, (long)timeout);
            if (r == -110 /* ETIMEDOUT */ && Volatile.Read(ref state) != Posted)
            {
                if (!_stub.Alive) { Volatile.Write(ref Word(SentryWaiting), 0); throw _stub.Failed(_stub.DeathReason()); }
                if (thread && Volatile.Read(ref Word(Tid)) == 0) { Volatile.Write(ref Word(SentryWaiting), 0); throw _stub.Failed("a systrap stub thread exited under Sentry"); }
                if (Unresponsive?.Invoke() == true)
                {
                    // Kicked and silent for seconds: the application broke its own stub (blocked the
                    // kick through a forged signal frame, or overwrote this slot). End the stub.
                    Volatile.Write(ref Word(SentryWaiting), 0);
                    _stub.Kill();
                    throw _stub.Failed("a systrap stub thread stopped answering (the application damaged its stub)");
                }
            }
        }
        Volatile.Write(ref Word(SentryWaiting), 0);
    }

    /// <summary>Asked while a wait drags on: true when the thread was kicked long ago and never answered.</summary>
    public Func<bool>? Unresponsive;

    /// <summary>Number of queued host calls; Sentry adds with <see cref="Queue"/>, the stub clears it.</summary>
    public int QueuedOps => (int)Volatile.Read(ref Word(OpCount));

    /// <summary>Queues host call <paramref name="nr"/> for the stub thread to run. False when the queue is full.</summary>
    public bool Queue(long nr, ulong a1 = 0, ulong a2 = 0, ulong a3 = 0, ulong a4 = 0, ulong a5 = 0, ulong a6 = 0)
    {
        int n = (int)Word(OpCount);
        if (n >= MaxOps) return false;
        ulong* op = (ulong*)(P + Ops + n * OpSize);
        op[0] = (ulong)nr; op[1] = a1; op[2] = a2; op[3] = a3; op[4] = a4; op[5] = a5; op[6] = a6; op[7] = unchecked((ulong)-38);
        Word(OpCount) = (uint)(n + 1);
        return true;
    }

    /// <summary>Appends queued call <paramref name="i"/> of <paramref name="from"/> to this queue (which has room).</summary>
    public void CopyOp(Slot from, int i)
    {
        int n = (int)Word(OpCount);
        Buffer.MemoryCopy(from.P + Ops + i * OpSize, P + Ops + n * OpSize, OpSize, OpSize);
        Word(OpCount) = (uint)(n + 1);
    }

    /// <summary>Result of queued call <paramref name="i"/> after the stub ran it.</summary>
    public long OpResult(int i) => *(long*)(P + Ops + i * OpSize + 56);
}

/// <summary>The stub process or one of its threads is gone (killed, or ended by the application through the stub's own code).</summary>
public sealed class StubDiedException(string message) : Exception(message);
