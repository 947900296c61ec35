using System.Buffers.Binary;

namespace Sentry.P9;

/// <summary>
/// The names of a Twalk: nwname[2] nwname*(wname[s]), at most P9_MAXWELEM of them. Built for
/// sending from one '/'-separated relative path ("a/b/c", "" for none: a clone), which is how a
/// path walker holds them; decoded ones are the validated wire bytes. Either way they enumerate
/// as byte spans without copying. Decoded names are not checked for '/', "" or NUL: a server must.
/// </summary>
public readonly ref struct P9WalkNames
{
    readonly ReadOnlySpan<byte> _data;
    readonly bool _wire;

    /// <summary>Number of names.</summary>
    public int Count { get; }

    P9WalkNames(ReadOnlySpan<byte> data, int count, bool wire)
    {
        _data = data;
        Count = count;
        _wire = wire;
    }

    /// <summary>The components of <paramref name="path"/> split at '/'; no leading or trailing '/'.</summary>
    public static P9WalkNames FromPath(ReadOnlySpan<byte> path) =>
        new(path, path.IsEmpty ? 0 : path.Count((byte)'/') + 1, wire: false);

    internal void Encode(ref P9Writer w)
    {
        if (Count > P9.P9_MAXWELEM) { w.Fail(); return; }
        w.U16((ushort)Count);
        foreach (ReadOnlySpan<byte> name in this) w.String(name);
    }

    internal static P9WalkNames Decode(scoped ref P9Reader r)
    {
        int count = r.U16();
        if (count > P9.P9_MAXWELEM) { r.Fail(); return default; }
        int start = r.Position;
        for (int i = 0; i < count; i++) r.String();
        return r.Failed ? default : new P9WalkNames(r.Since(start), count, wire: true);
    }

    public Enumerator GetEnumerator() => new(_data, Count, _wire);

    public ref struct Enumerator
    {
        ReadOnlySpan<byte> _rest;
        readonly bool _wire;
        int _left;

        internal Enumerator(ReadOnlySpan<byte> data, int count, bool wire)
        {
            _rest = data;
            _left = count;
            _wire = wire;
        }

        public ReadOnlySpan<byte> Current { get; private set; }

        public bool MoveNext()
        {
            if (_left == 0) return false;
            _left--;
            if (_wire)
            {
                // Lengths were checked when the names were decoded.
                int len = BinaryPrimitives.ReadUInt16LittleEndian(_rest);
                Current = _rest.Slice(2, len);
                _rest = _rest[(2 + len)..];
            }
            else
            {
                int slash = _rest.IndexOf((byte)'/');
                Current = slash < 0 ? _rest : _rest[..slash];
                _rest = slash < 0 ? default : _rest[(slash + 1)..];
            }
            return true;
        }
    }
}
