namespace Sentry.Gofer;

/// <summary>
/// The fids of one connection, by number. Bounded, so a client cannot grow the server without
/// limit: beyond <see cref="Limit"/> new fids are refused with ENFILE.
/// </summary>
internal sealed class FidTable
{
    readonly Dictionary<uint, Fid> _fids = new();

    public FidTable(int limit) => Limit = limit;

    public int Limit { get; }
    public int Count => _fids.Count;

    public bool TryGet(uint fid, out Fid f) => _fids.TryGetValue(fid, out f!);

    public bool Contains(uint fid) => _fids.ContainsKey(fid);

    public bool IsFull => _fids.Count >= Limit;

    /// <summary>Adds or replaces (releasing the old fid's resources).</summary>
    public void Set(uint fid, Fid f)
    {
        if (_fids.Remove(fid, out Fid? old) && old != f) old.Release();
        _fids[fid] = f;
    }

    /// <summary>Removes <paramref name="fid"/> without releasing it; the caller does.</summary>
    public bool Remove(uint fid, out Fid f) => _fids.Remove(fid, out f!);

    public void ReleaseAll()
    {
        foreach (Fid f in _fids.Values) f.Release();
        _fids.Clear();
    }
}
