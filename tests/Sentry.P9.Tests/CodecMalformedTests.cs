using System.Buffers.Binary;
using static Sentry.P9.Tests.Codec;

namespace Sentry.P9.Tests;

/// <summary>Hostile or broken frames are refused by returning false, never by throwing.</summary>
public sealed class CodecMalformedTests
{
    static byte[] Frame(P9MessageType type, params byte[] body)
    {
        var f = new byte[P9.HeaderSize + body.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(f, (uint)f.Length);
        f[4] = (byte)type;
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(5), Tag);
        body.CopyTo(f, P9.HeaderSize);
        return f;
    }

    [Test]
    public void ShortFrames_AreRefused()
    {
        byte[] clunk = Encode(new Tclunk(7));
        for (int len = 0; len < clunk.Length; len++)
        {
            byte[] cut = clunk[..len];
            Assert.That(P9Frame.TryReadHeader(cut, 1000, out _), Is.False, $"header of {len} bytes");
            Assert.That(P9Frame.TryDecode(cut, 1000, out _, out Tclunk _), Is.False, $"frame of {len} bytes");
        }
        // A consistent size field but a body too short for the type.
        Assert.That(P9Frame.TryDecode(Frame(P9MessageType.Tclunk, 1, 2, 3), 1000, out _, out Tclunk _), Is.False);
        Assert.That(P9Frame.TryDecode(Frame(P9MessageType.Rgetattr, new byte[P9StatDotl.WireSize - 1]), 1000, out _, out Rgetattr _), Is.False);
        Assert.That(P9Frame.TryReadSize([7, 0, 0], 1000, out _), Is.False, "fewer than 4 size bytes");
    }

    [Test]
    public void SizeFields_OutOfRangeOrNotMatchingTheFrame_AreRefused()
    {
        byte[] f = Encode(new Tclunk(7));
        Assert.That(P9Frame.TryReadHeader(f, (uint)f.Length, out _), Is.True);
        Assert.That(P9Frame.TryReadHeader(f, (uint)f.Length - 1, out _), Is.False, "larger than msize");
        Assert.That(P9Frame.TryDecode(f, (uint)f.Length - 1, out _, out Tclunk _), Is.False);

        foreach (uint size in new uint[] { 0, 6, (uint)f.Length - 1, (uint)f.Length + 1, uint.MaxValue })
        {
            byte[] g = (byte[])f.Clone();
            BinaryPrimitives.WriteUInt32LittleEndian(g, size);
            Assert.That(P9Frame.TryReadHeader(g, uint.MaxValue, out _), Is.False, $"size field {size}");
        }
        Assert.That(P9Frame.TryReadSize(BitConverter.GetBytes(6u), 100, out _), Is.False, "smaller than a header");
        Assert.That(P9Frame.TryReadSize(BitConverter.GetBytes(101u), 100, out _), Is.False, "larger than msize");
        Assert.That(P9Frame.TryReadSize(BitConverter.GetBytes(0x8000_0000u), uint.MaxValue, out _), Is.False, "beyond int");
        Assert.That(P9Frame.TryReadSize(BitConverter.GetBytes(100u), 100, out int s) && s == 100, Is.True);
    }

    [Test]
    public void BadStringLengths_AreRefused()
    {
        byte[] ok = Encode(new Tmkdir(1, "abc"u8, 2, 3));
        Assert.That(DecodeAndEncode(ok), Is.EqualTo(ok));
        foreach (ushort len in new ushort[] { 4, 5, 100, ushort.MaxValue })
        {
            byte[] g = (byte[])ok.Clone();
            BinaryPrimitives.WriteUInt16LittleEndian(g.AsSpan(P9.HeaderSize + 4), len);
            Assert.That(P9Frame.TryDecode(g, uint.MaxValue, out _, out Tmkdir _), Is.False, $"name length {len}");
        }
        byte[] shorter = (byte[])ok.Clone();
        BinaryPrimitives.WriteUInt16LittleEndian(shorter.AsSpan(P9.HeaderSize + 4), 2);
        Assert.That(P9Frame.TryDecode(shorter, uint.MaxValue, out _, out Tmkdir _), Is.False, "a shorter string leaves bytes over");

        Assert.That(P9Frame.TryEncode(new byte[1 << 18], 1, new Tmkdir(1, new byte[ushort.MaxValue + 1], 0, 0), out _), Is.False,
            "a string longer than len[2] can say does not encode");
        Assert.That(P9Frame.TryEncode(new byte[1 << 18], 1, new Tmkdir(1, new byte[ushort.MaxValue], 0, 0), out _), Is.True);
    }

    [Test]
    public void CountsBeyondTheBody_AreRefused()
    {
        Assert.That(P9Frame.TryDecode(Frame(P9MessageType.Rread, 5, 0, 0, 0, 1, 2, 3, 4), 100, out _, out Rread _), Is.False, "Rread count 5, 4 bytes");
        Assert.That(P9Frame.TryDecode(Frame(P9MessageType.Rread, 3, 0, 0, 0, 1, 2, 3, 4), 100, out _, out Rread _), Is.False, "Rread count 3, 4 bytes");
        Assert.That(P9Frame.TryDecode(Frame(P9MessageType.Rread, 0xff, 0xff, 0xff, 0xff), 100, out _, out Rread _), Is.False, "Rread count 2^32-1");
        Assert.That(P9Frame.TryDecode(Frame(P9MessageType.Rreaddir, 9, 0, 0, 0), 100, out _, out Rreaddir _), Is.False);
        byte[] write = Encode(new Twrite(1, 2, "abcd"u8));
        BinaryPrimitives.WriteUInt32LittleEndian(write.AsSpan(P9.HeaderSize + 12), 0x8000_0000);
        Assert.That(P9Frame.TryDecode(write, uint.MaxValue, out _, out Twrite _), Is.False, "Twrite count beyond int");
    }

    [Test]
    public void WalksOverMaxwelem_AreRefused()
    {
        var names = new List<byte> { 17, 0 };
        for (int i = 0; i < 17; i++) names.AddRange(new byte[] { 1, 0, (byte)'a' });
        Assert.That(P9Frame.TryDecode(Frame(P9MessageType.Twalk, [1, 0, 0, 0, 2, 0, 0, 0, .. names]), 1000, out _, out Twalk _), Is.False);
        var qids = new List<byte> { 17, 0 };
        qids.AddRange(new byte[17 * P9Qid.WireSize]);
        Assert.That(P9Frame.TryDecode(Frame(P9MessageType.Rwalk, [.. qids]), 1000, out _, out Rwalk _), Is.False);
        Assert.That(P9Frame.TryDecode(Frame(P9MessageType.Rwalk, 2, 0, 1, 2, 3), 1000, out _, out Rwalk _), Is.False, "2 qids, 3 bytes");
        Assert.That(P9Frame.TryDecode(Frame(P9MessageType.Twalk, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 5, 0, (byte)'a'), 1000, out _, out Twalk _), Is.False,
            "a name running past the end");
    }

    [Test]
    public void TrailingBytes_AreRefused()
    {
        byte[] f = Encode(new Tclunk(7));
        byte[] longer = [.. f, 0];
        BinaryPrimitives.WriteUInt32LittleEndian(longer, (uint)longer.Length);
        Assert.That(P9Frame.TryReadHeader(longer, 100, out _), Is.True, "the frame itself is consistent");
        Assert.That(P9Frame.TryDecode(longer, 100, out _, out Tclunk _), Is.False, "but the body is longer than a Tclunk");
    }

    [Test]
    public void WrongAndUnknownTypes_AreRefused()
    {
        byte[] clunk = Encode(new Tclunk(7));
        Assert.That(P9Frame.TryDecode(clunk, 100, out _, out Tremove _), Is.False, "a Tclunk is not a Tremove, same layout or not");
        foreach (byte type in new byte[] { 0, 6, 10, 106, 107, 112, 113, 124, 200, 255 })
        {
            byte[] f = (byte[])clunk.Clone();
            f[4] = type;
            Assert.That(P9Frame.TryReadHeader(f, 100, out P9Header h), Is.True, "the header reads, so a server can answer the tag");
            Assert.That((h.Type, h.Tag), Is.EqualTo(((P9MessageType)type, Tag)));
            Assert.That(P9Frame.IsKnownType(h.Type), Is.False, $"type {type}");
            Assert.That(DecodeAndEncode(f), Is.Null);
        }
    }

    [Test]
    public void EncodingIntoTooSmallABuffer_Fails()
    {
        byte[] full = Encode(new Tlcreate(1, "file"u8, 2, 3, 4));
        for (int room = 0; room < full.Length; room++)
            Assert.That(P9Frame.TryEncode(new byte[room], 1, new Tlcreate(1, "file"u8, 2, 3, 4), out int n), Is.False, $"{room} bytes");
        Assert.That(P9Frame.TryEncode(new byte[full.Length], Tag, new Tlcreate(1, "file"u8, 2, 3, 4), out int len), Is.True);
        Assert.That(len, Is.EqualTo(full.Length));
    }

    [Test]
    public void TruncatedDirents_EndTheWalkAndReportFailure()
    {
        byte[] data = SampleDirents();
        for (int len = 1; len < data.Length; len++)
        {
            var reader = new P9DirentReader(data.AsSpan(0, len));
            int entries = 0;
            while (reader.TryNext(out _)) entries++;
            bool boundary = len == 27; // the first entry ends here
            Assert.That(reader.Failed, Is.EqualTo(!boundary), $"{len} bytes");
            Assert.That(entries, Is.EqualTo(len >= 27 ? 1 : 0));
        }
    }

    [Test]
    public void Reader_StaysFailedAndNeverReadsOutOfRange()
    {
        var r = new P9Reader([1, 2, 3]);
        Assert.That(r.U32(), Is.Zero);
        Assert.That(r.Failed, Is.True);
        Assert.That(r.U8(), Is.Zero, "nothing more is read once failed");
        Assert.That(r.Bytes(-1).Length, Is.Zero);
        Assert.That((r.Remaining, r.Done), Is.EqualTo((0, false)));
        var ok = new P9Reader([1, 2, 3]);
        Assert.That((ok.U16(), ok.U8(), ok.Done), Is.EqualTo(((ushort)0x0201, (byte)3, true)));
    }
}
