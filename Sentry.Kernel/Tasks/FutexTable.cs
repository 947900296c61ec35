namespace Sentry.Kernel.Tasks;

/// <summary>
/// Futex wait queues keyed by a <see cref="FutexKey"/>: (address space, address) for private
/// futexes, (shared pages, offset) for a shared futex in MAP_SHARED memory, so processes that map
/// the same pages at different addresses meet. A waiter blocks its own task thread on a monitor;
/// wake hands out wake-ups in FIFO order.
/// </summary>
/// <summary>What a futex word is identified by: an owner (address space or shared pages) and an address or offset in it.</summary>
public readonly record struct FutexKey(object Space, ulong Addr)
{
    /// <summary>
    /// The key of the futex word at <paramref name="addr"/>: a shared futex in a MAP_SHARED mapping is
    /// its pages and offset (as Linux keys it by inode and page), every other one its address space and address.
    /// </summary>
    public static FutexKey Of(Memory.MemoryManager mm, ulong addr, bool shared)
    {
        if (shared && mm.Find(addr) is { Shm: { } shm } vma)
            return new FutexKey(shm, (ulong)vma.FileOffset + (addr - vma.Start));
        return new FutexKey(mm, addr);
    }
}

public sealed class FutexTable
{
    sealed class Waiter { public uint Bitset; public bool Woken; public FutexKey Addr; }

    readonly object _lock = new();
    readonly Dictionary<FutexKey, List<Waiter>> _queues = new();

    /// <summary>
    /// Waits on <paramref name="addr"/> while <paramref name="stillExpected"/> (checked under the
    /// table lock, so a concurrent wake cannot be missed) is true. Returns 0 when woken, -EAGAIN
    /// when the value changed, -ETIMEDOUT at <paramref name="deadline"/> (a <see cref="System.Diagnostics.Stopwatch"/>
    /// timestamp; null = forever). Never returns before the deadline, as Linux never does.
    /// </summary>
    public long Wait(FutexKey addr, uint bitset, Func<bool> stillExpected, long? deadline, Func<bool> interrupted)
    {
        var w = new Waiter { Bitset = bitset, Addr = addr };
        lock (_lock)
        {
            if (!stillExpected()) return -Errno.EAGAIN;
            if (!_queues.TryGetValue(addr, out var q)) _queues[addr] = q = new();
            q.Add(w);
            while (!w.Woken)
            {
                if (interrupted())
                {
                    Remove(w);
                    return -Errno.EINTR;
                }
                if (deadline is { } d)
                {
                    long left = d - System.Diagnostics.Stopwatch.GetTimestamp();
                    if (left <= 0)
                    {
                        Remove(w);
                        return -Errno.ETIMEDOUT;
                    }
                    // Monitor.Wait counts whole milliseconds: round up so the wait never ends early.
                    long ms = (left * 1000 + System.Diagnostics.Stopwatch.Frequency - 1) / System.Diagnostics.Stopwatch.Frequency;
                    Monitor.Wait(_lock, (int)Math.Min(ms, int.MaxValue));
                }
                else Monitor.Wait(_lock);
            }
            return 0;
        }
    }

    /// <summary>Makes every waiter re-check for signals (a task was kicked).</summary>
    public void Kick()
    {
        lock (_lock) Monitor.PulseAll(_lock);
    }

    void Remove(Waiter w)
    {
        if (_queues.TryGetValue(w.Addr, out var q))
        {
            q.Remove(w);
            if (q.Count == 0) _queues.Remove(w.Addr);
        }
    }

    /// <summary>Wakes up to <paramref name="count"/> waiters on <paramref name="addr"/> whose bitset matches.</summary>
    public int Wake(FutexKey addr, int count, uint bitset)
    {
        lock (_lock)
        {
            int n = WakeLocked(addr, count, bitset);
            if (n > 0) Monitor.PulseAll(_lock);
            return n;
        }
    }

    int WakeLocked(FutexKey addr, int count, uint bitset)
    {
        if (!_queues.TryGetValue(addr, out var q)) return 0;
        int n = 0;
        for (int i = 0; i < q.Count && n < count;)
        {
            if ((q[i].Bitset & bitset) != 0) { q[i].Woken = true; q.RemoveAt(i); n++; }
            else i++;
        }
        if (q.Count == 0) _queues.Remove(addr);
        return n;
    }

    /// <summary>Wakes <paramref name="wake"/> waiters on <paramref name="from"/> and moves up to <paramref name="requeue"/> more to <paramref name="to"/>.</summary>
    public int Requeue(FutexKey from, FutexKey to, int wake, int requeue, Func<bool> check)
    {
        lock (_lock)
        {
            if (!check()) return -Errno.EAGAIN;
            int n = WakeLocked(from, wake, uint.MaxValue);
            int moved = 0;
            if (_queues.TryGetValue(from, out var q))
            {
                if (!_queues.TryGetValue(to, out var dst)) _queues[to] = dst = new();
                while (q.Count > 0 && moved < requeue)
                {
                    var w = q[0];
                    q.RemoveAt(0);
                    w.Addr = to;
                    dst.Add(w);
                    moved++;
                }
                if (q.Count == 0) _queues.Remove(from);
                if (dst.Count == 0) _queues.Remove(to);
            }
            if (n > 0) Monitor.PulseAll(_lock);
            return n + moved;
        }
    }
}
