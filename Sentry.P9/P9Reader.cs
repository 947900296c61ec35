using System.Buffers.Binary;

namespace Sentry.P9;

/// <summary>
/// Little-endian reader over a received message body. A read past the end does not throw: it
/// returns a default value and marks the reader <see cref="Failed"/> for good, so a decoder reads
/// all its fields in a row and checks once (<see cref="Done"/>) whether the input was well formed.
/// Strings and data come back as slices of the input: decoding copies and allocates nothing.
/// </summary>
public ref struct P9Reader
{
    readonly ReadOnlySpan<byte> _buf;
    int _pos;
    bool _failed;

    public P9Reader(ReadOnlySpan<byte> buffer) => _buf = buffer;

    /// <summary>An earlier read ran past the end (or a decoder called <see cref="Fail"/>).</summary>
    public readonly bool Failed => _failed;
    /// <summary>Every byte was consumed and nothing was missing: the body matched its type exactly.</summary>
    public readonly bool Done => !_failed && _pos == _buf.Length;
    public readonly int Remaining => _failed ? 0 : _buf.Length - _pos;
    /// <summary>Bytes consumed so far.</summary>
    public readonly int Position => _pos;

    /// <summary>The input from <paramref name="start"/> (an earlier <see cref="Position"/>) up to here.</summary>
    public readonly ReadOnlySpan<byte> Since(int start) => _buf[start.._pos];

    /// <summary>Marks the input as malformed (a field is out of range for its message).</summary>
    public void Fail() => _failed = true;

    public byte U8() => Take(1) is { Length: 1 } s ? s[0] : (byte)0;
    public ushort U16() => Take(2) is { Length: 2 } s ? BinaryPrimitives.ReadUInt16LittleEndian(s) : (ushort)0;
    public uint U32() => Take(4) is { Length: 4 } s ? BinaryPrimitives.ReadUInt32LittleEndian(s) : 0;
    public ulong U64() => Take(8) is { Length: 8 } s ? BinaryPrimitives.ReadUInt64LittleEndian(s) : 0;

    public P9Qid Qid()
    {
        ReadOnlySpan<byte> s = Take(P9Qid.WireSize);
        return s.Length < P9Qid.WireSize ? default
            : new P9Qid(s[0], BinaryPrimitives.ReadUInt32LittleEndian(s[1..]), BinaryPrimitives.ReadUInt64LittleEndian(s[5..]));
    }

    /// <summary>A string: len[2] then len bytes (UTF-8 by convention; Linux names are just bytes).</summary>
    public ReadOnlySpan<byte> String() => Bytes(U16());

    /// <summary>The next <paramref name="count"/> bytes, or an empty span (and failure) if fewer remain.</summary>
    public ReadOnlySpan<byte> Bytes(long count) => Take(count);

    ReadOnlySpan<byte> Take(long count)
    {
        if (_failed || count < 0 || count > _buf.Length - _pos)
        {
            _failed = true;
            return default;
        }
        ReadOnlySpan<byte> s = _buf.Slice(_pos, (int)count);
        _pos += (int)count;
        return s;
    }
}
