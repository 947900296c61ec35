using System.Buffers.Binary;

namespace Sentry.P9;

/// <summary>The fixed start of every frame: size[4] type[1] tag[2]. Size counts the whole frame.</summary>
public readonly record struct P9Header(int Size, P9MessageType Type, ushort Tag);

/// <summary>
/// Framing of whole messages: size[4] type[1] tag[2] body. Encoding writes into a caller's
/// buffer; decoding checks every length against the frame and the negotiated msize and reports
/// malformed input by returning false, never by throwing.
/// </summary>
public static class P9Frame
{
    /// <summary>
    /// Encodes <paramref name="message"/> as a whole frame at the start of <paramref name="dest"/>.
    /// Returns false (and length 0) if it does not fit or a field cannot be encoded.
    /// </summary>
    public static bool TryEncode<T>(Span<byte> dest, ushort tag, in T message, out int length)
        where T : IP9Message<T>, allows ref struct
    {
        var w = new P9Writer(dest);
        w.U32(0); // patched below, once the size is known
        w.U8((byte)T.Type);
        w.U16(tag);
        message.Encode(ref w);
        if (w.Failed)
        {
            length = 0;
            return false;
        }
        length = w.Position;
        BinaryPrimitives.WriteUInt32LittleEndian(dest, (uint)length);
        return true;
    }

    /// <summary>
    /// Reads the size field that starts a frame on a byte stream. False if fewer than 4 bytes are
    /// given or the size is below a header or above <paramref name="maxSize"/> (the msize): the
    /// stream is then out of step and cannot be trusted further.
    /// </summary>
    public static bool TryReadSize(ReadOnlySpan<byte> start, uint maxSize, out int size)
    {
        size = 0;
        if (start.Length < 4) return false;
        uint s = BinaryPrimitives.ReadUInt32LittleEndian(start);
        if (s < P9.HeaderSize || s > maxSize || s > int.MaxValue) return false;
        size = (int)s;
        return true;
    }

    /// <summary>
    /// Reads the header of one complete frame: false if the frame is shorter than a header, its
    /// size field differs from its length or exceeds <paramref name="maxSize"/>. The type may be
    /// one this library does not know (see <see cref="IsKnownType"/>): a server answers those
    /// with Rlerror using the tag.
    /// </summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> frame, uint maxSize, out P9Header header)
    {
        header = default;
        if (!TryReadSize(frame, maxSize, out int size) || size != frame.Length) return false;
        header = new P9Header(size, (P9MessageType)frame[4], BinaryPrimitives.ReadUInt16LittleEndian(frame[5..]));
        return true;
    }

    /// <summary>
    /// Decodes one complete frame that must be a <typeparamref name="T"/>: false for a bad header,
    /// another type, a body that is too short, too long, or holds a forbidden value. Spans in the
    /// result point into <paramref name="frame"/>.
    /// </summary>
    public static bool TryDecode<T>(ReadOnlySpan<byte> frame, uint maxSize, out ushort tag, out T message)
        where T : IP9Message<T>, allows ref struct
    {
        message = default!;
        tag = 0;
        if (!TryReadHeader(frame, maxSize, out P9Header h) || h.Type != T.Type) return false;
        tag = h.Tag;
        return TryDecodeBody(frame[P9.HeaderSize..], out message);
    }

    /// <summary>Decodes a body (the frame after its header) as a <typeparamref name="T"/>; every byte must be used.</summary>
    public static bool TryDecodeBody<T>(ReadOnlySpan<byte> body, out T message)
        where T : IP9Message<T>, allows ref struct
    {
        var r = new P9Reader(body);
        if (T.TryDecode(ref r, out message) && r.Done) return true;
        message = default!;
        return false;
    }

    /// <summary>Whether <paramref name="type"/> is a 9P2000.L message this library can decode.</summary>
    public static bool IsKnownType(P9MessageType type) => Enum.IsDefined(type);

    /// <summary>Whether <paramref name="type"/> is a request (T-message). Replies have odd numbers.</summary>
    public static bool IsRequest(P9MessageType type) => ((byte)type & 1) == 0;
}
