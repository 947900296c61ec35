namespace Sentry.P9;

/// <summary>
/// Walks the entries of Rreaddir data. A truncated or malformed entry ends the walk and sets
/// <see cref="Failed"/>; nothing throws, and names are slices of the data.
/// </summary>
public ref struct P9DirentReader
{
    P9Reader _r;

    public P9DirentReader(ReadOnlySpan<byte> data) => _r = new P9Reader(data);

    /// <summary>The data ended inside an entry.</summary>
    public readonly bool Failed => _r.Failed;

    public bool TryNext(out P9Dirent entry)
    {
        entry = default;
        if (_r.Failed || _r.Remaining == 0) return false;
        entry = new P9Dirent(_r.Qid(), _r.U64(), _r.U8(), _r.String());
        if (!_r.Failed) return true;
        entry = default;
        return false;
    }
}
