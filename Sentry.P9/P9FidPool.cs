namespace Sentry.P9;

/// <summary>
/// Hands out fid numbers for one connection and takes them back after Tclunk/Tremove (or a
/// failed walk), most recently freed first (small numbers stay in use). Never hands out P9_NOFID. Thread-safe.
/// </summary>
public sealed class P9FidPool
{
    readonly Lock _lock = new();
    readonly Stack<uint> _free = new();
    uint _next;

    /// <summary>Fids currently handed out.</summary>
    public int InUse { get { lock (_lock) return (int)_next - _free.Count; } }

    /// <summary>A fid not in use, or P9_NOFID when all 2^32-1 are.</summary>
    public uint Allocate()
    {
        lock (_lock)
        {
            if (_free.TryPop(out uint fid)) return fid;
            return _next == P9.P9_NOFID ? P9.P9_NOFID : _next++;
        }
    }

    public void Release(uint fid)
    {
        if (fid == P9.P9_NOFID) return;
        lock (_lock) _free.Push(fid);
    }
}
