using System.Buffers.Binary;

namespace Sentry.P9;

/// <summary>
/// Little-endian writer into a caller-provided buffer. Running out of room, or a string longer
/// than a len[2] can say, does not throw: the writer is marked <see cref="Failed"/> and stops
/// writing, and the frame encoder reports failure once at the end.
/// </summary>
public ref struct P9Writer
{
    readonly Span<byte> _buf;
    int _pos;
    bool _failed;

    public P9Writer(Span<byte> buffer) => _buf = buffer;

    public readonly bool Failed => _failed;
    /// <summary>Bytes written so far.</summary>
    public readonly int Position => _pos;

    /// <summary>Marks the message as unencodable (e.g. more than P9_MAXWELEM names).</summary>
    public void Fail() => _failed = true;

    public void U8(byte v) { if (Take(1) is { Length: 1 } s) s[0] = v; }
    public void U16(ushort v) { if (Take(2) is { Length: 2 } s) BinaryPrimitives.WriteUInt16LittleEndian(s, v); }
    public void U32(uint v) { if (Take(4) is { Length: 4 } s) BinaryPrimitives.WriteUInt32LittleEndian(s, v); }
    public void U64(ulong v) { if (Take(8) is { Length: 8 } s) BinaryPrimitives.WriteUInt64LittleEndian(s, v); }

    public void Qid(in P9Qid qid)
    {
        U8(qid.Type);
        U32(qid.Version);
        U64(qid.Path);
    }

    /// <summary>len[2] then the bytes; fails for more than 65535 bytes.</summary>
    public void String(ReadOnlySpan<byte> s)
    {
        if (s.Length > ushort.MaxValue) { _failed = true; return; }
        U16((ushort)s.Length);
        Bytes(s);
    }

    public void Bytes(ReadOnlySpan<byte> data)
    {
        Span<byte> s = Take(data.Length);
        if (!_failed) data.CopyTo(s);
    }

    Span<byte> Take(int count)
    {
        if (_failed || count > _buf.Length - _pos)
        {
            _failed = true;
            return default;
        }
        Span<byte> s = _buf.Slice(_pos, count);
        _pos += count;
        return s;
    }
}
