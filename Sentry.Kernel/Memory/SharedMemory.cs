using Sentry.Platform;

namespace Sentry.Kernel.Memory;

/// <summary>
/// The pages of a MAP_SHARED|MAP_ANONYMOUS mapping: owned here, not by any address space, so a
/// parent and its forked children see each other's writes. Reference counted by the VMAs.
/// </summary>
public sealed class SharedMemory
{
    readonly MemoryFile _mem;
    readonly Dictionary<long, long> _frames = new();
    int _refs = 1;

    public SharedMemory(MemoryFile mem) => _mem = mem;

    /// <summary>The frame holding byte <paramref name="offset"/> (page aligned), allocated zeroed on first use; -1 when out of memory.</summary>
    public long FrameAt(long offset)
    {
        lock (_frames)
        {
            if (_frames.TryGetValue(offset, out long f)) return f;
            f = _mem.Allocate(1);
            if (f >= 0) _frames[offset] = f;
            return f;
        }
    }

    public void IncRef() => Interlocked.Increment(ref _refs);

    public void DecRef()
    {
        if (Interlocked.Decrement(ref _refs) != 0) return;
        lock (_frames)
        {
            foreach (var f in _frames.Values) _mem.Free(f);
            _frames.Clear();
        }
    }
}
