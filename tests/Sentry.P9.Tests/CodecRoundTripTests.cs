using System.Text;
using static Sentry.P9.Tests.Codec;

namespace Sentry.P9.Tests;

/// <summary>
/// Every message type encodes, decodes to the same fields and encodes again to the same bytes;
/// a few frames are checked byte for byte against the layout in the protocol description.
/// </summary>
public sealed class CodecRoundTripTests
{
    [Test]
    public void EveryMessageType_HasASample()
    {
        var sampled = Samples().Select(f => (P9MessageType)f[4]).ToList();
        Assert.That(sampled, Is.Unique);
        Assert.That(sampled, Is.EquivalentTo(Enum.GetValues<P9MessageType>()));
        Assert.That(Codec.Types, Is.EquivalentTo(Enum.GetValues<P9MessageType>()));
    }

    [Test]
    public void EverySample_DecodesAndEncodesToTheSameBytes()
    {
        foreach (byte[] frame in Samples())
        {
            var type = (P9MessageType)frame[4];
            Assert.That(BitConverter.ToUInt32(frame), Is.EqualTo((uint)frame.Length), $"{type} size field");
            Assert.That(P9Frame.IsKnownType(type), Is.True);
            Assert.That(P9Frame.IsRequest(type), Is.EqualTo(type.ToString()[0] == 'T'), $"{type}");
            Assert.That(DecodeAndEncode(frame), Is.EqualTo(frame), $"{type} round trip");
        }
    }

    [Test]
    public void Tversion_MatchesTheWireLayout()
    {
        byte[] f = Encode(new Tversion(8192, "9P2000.L"u8), P9.P9_NOTAG);
        Assert.That(Convert.ToHexString(f), Is.EqualTo("15000000" + "64" + "FFFF" + "00200000" + "0800" + Convert.ToHexString("9P2000.L"u8)));
        Assert.That(P9Frame.TryDecode(f, 8192, out ushort tag, out Tversion m), Is.True);
        Assert.That((tag, m.MSize, Encoding.ASCII.GetString(m.Version)), Is.EqualTo((P9.P9_NOTAG, 8192u, "9P2000.L")));
    }

    [Test]
    public void Twalk_MatchesTheWireLayoutAndEnumeratesItsNames()
    {
        byte[] f = Encode(new Twalk(1, 2, P9WalkNames.FromPath("a/bc"u8)), tag: 1);
        Assert.That(Convert.ToHexString(f), Is.EqualTo("18000000" + "6E" + "0100" + "01000000" + "02000000" + "0200" + "0100" + "61" + "0200" + "6263"));
        Assert.That(P9Frame.TryDecode(f, 100, out _, out Twalk m), Is.True);
        var names = new List<string>();
        foreach (ReadOnlySpan<byte> n in m.Names) names.Add(Encoding.UTF8.GetString(n));
        Assert.That((m.Fid, m.NewFid, m.Names.Count), Is.EqualTo((1u, 2u, 2)));
        Assert.That(names, Is.EqualTo(new[] { "a", "bc" }));

        Assert.That(P9WalkNames.FromPath(""u8).Count, Is.Zero, "no names: a clone");
        byte[] clone = Encode(new Twalk(3, 4, P9WalkNames.FromPath(""u8)));
        Assert.That(clone.Length, Is.EqualTo(P9.HeaderSize + 10));
        Assert.That(Decode<Twalk>(clone).Names.Count, Is.Zero);
    }

    [Test]
    public void Twalk_MaxwelemNamesEncode_OneMoreDoesNot()
    {
        string sixteen = string.Join('/', Enumerable.Range(0, P9.P9_MAXWELEM).Select(i => $"n{i}"));
        Twalk m = Decode<Twalk>(Encode(new Twalk(1, 2, P9WalkNames.FromPath(Encoding.UTF8.GetBytes(sixteen)))));
        Assert.That(m.Names.Count, Is.EqualTo(P9.P9_MAXWELEM));
        var buf = new byte[4096];
        Assert.That(P9Frame.TryEncode(buf, 1, new Twalk(1, 2, P9WalkNames.FromPath(Encoding.UTF8.GetBytes(sixteen + "/x"))), out int n), Is.False);
        Assert.That(n, Is.Zero);
    }

    [Test]
    public void Rwalk_KeepsEveryQid()
    {
        var qids = new[] { new P9Qid(P9.P9_QTDIR, 1, 2), new P9Qid(0, 3, 4), new P9Qid(P9.P9_QTSYMLINK, uint.MaxValue, ulong.MaxValue) };
        Rwalk m = Decode<Rwalk>(Encode(new Rwalk(qids)));
        Assert.That(m.Count, Is.EqualTo(3));
        Assert.That(new[] { m[0], m[1], m[2] }, Is.EqualTo(qids));
        Assert.That(m[2].IsSymlink && m[0].IsDirectory && !m[1].IsDirectory, Is.True);
        Assert.That(Decode<Rwalk>(Encode(new Rwalk([]))).Count, Is.Zero);
        var tooMany = new P9Qid[P9.P9_MAXWELEM + 1];
        Assert.That(P9Frame.TryEncode(new byte[4096], 1, new Rwalk(tooMany), out _), Is.False);
    }

    [Test]
    public void Rgetattr_FieldsSitWhereTheProtocolPutsThem()
    {
        byte[] f = Encode(new Rgetattr(SampleStat));
        Assert.That(f.Length, Is.EqualTo(P9.HeaderSize + P9StatDotl.WireSize));
        Assert.That(P9StatDotl.WireSize, Is.EqualTo(153));
        Assert.That(BitConverter.ToUInt64(f, 7), Is.EqualTo(P9.P9_GETATTR_ALL), "valid");
        Assert.That(f[15], Is.EqualTo(P9.P9_QTDIR), "qid.type");
        Assert.That(BitConverter.ToUInt64(f, 20), Is.EqualTo(0x1112131415161718ul), "qid.path");
        Assert.That(BitConverter.ToUInt32(f, 28), Is.EqualTo(0x81a4u), "mode");
        Assert.That(BitConverter.ToUInt32(f, 36), Is.EqualTo(1001u), "gid");
        Assert.That(BitConverter.ToUInt64(f, 40), Is.EqualTo(3ul), "nlink");
        Assert.That(BitConverter.ToUInt64(f, 56), Is.EqualTo(0x1_0000_0001ul), "size");
        Assert.That(BitConverter.ToUInt64(f, 96), Is.EqualTo(1_600_000_003ul), "mtime_sec");
        Assert.That(BitConverter.ToUInt64(f, 152), Is.EqualTo(10ul), "data_version");
        Assert.That(Decode<Rgetattr>(f).Stat, Is.EqualTo(SampleStat));
    }

    [Test]
    public void FixedLayoutMessages_DecodeToEqualValues()
    {
        Assert.That(Decode<Tsetattr>(Encode(new Tsetattr(9, SampleIattr))), Is.EqualTo(new Tsetattr(9, SampleIattr)));
        Assert.That(Encode(new Tsetattr(9, SampleIattr)).Length, Is.EqualTo(P9.HeaderSize + 4 + 16 + 40));
        Assert.That(Decode<Rstatfs>(Encode(new Rstatfs(SampleStatFs))).StatFs, Is.EqualTo(SampleStatFs));
        Assert.That(Encode(new Rstatfs(SampleStatFs)).Length, Is.EqualTo(P9.HeaderSize + 4 + 4 + 6 * 8 + 4));
        Assert.That(Decode<Rlopen>(Encode(new Rlopen(new P9Qid(1, 2, 3), 4))), Is.EqualTo(new Rlopen(new P9Qid(1, 2, 3), 4)));
        Assert.That(Decode<Tread>(Encode(new Tread(1, ulong.MaxValue, uint.MaxValue))), Is.EqualTo(new Tread(1, ulong.MaxValue, uint.MaxValue)));
        Assert.That(Decode<Rlerror>(Encode(new Rlerror(2))).Ecode, Is.EqualTo(2u));
        Assert.That(Decode<Tfsync>(Encode(new Tfsync(5, 1))), Is.EqualTo(new Tfsync(5, 1)));
        Assert.That(Encode(new Rclunk()).Length, Is.EqualTo(P9.HeaderSize));
    }

    [Test]
    public void StringAndDataMessages_DecodeToTheSameBytes()
    {
        Tlcreate c = Decode<Tlcreate>(Encode(new Tlcreate(1, "name"u8, 2, 3, 4)));
        Assert.That((c.Fid, Encoding.UTF8.GetString(c.Name), c.Flags, c.Mode, c.Gid), Is.EqualTo((1u, "name", 2u, 3u, 4u)));
        Tlock l = Decode<Tlock>(Encode(new Tlock(1, 2, 3, 4, 5, 6, "cid"u8)));
        Assert.That((l.Fid, l.LockType, l.Flags, l.Start, l.Length, l.ProcId, Encoding.UTF8.GetString(l.ClientId)),
            Is.EqualTo((1u, (byte)2, 3u, 4ul, 5ul, 6u, "cid")));
        Rgetlock g = Decode<Rgetlock>(Encode(new Rgetlock(1, 2, 3, 4, "x"u8)));
        Assert.That((g.LockType, g.Start, g.Length, g.ProcId, Encoding.UTF8.GetString(g.ClientId)), Is.EqualTo(((byte)1, 2ul, 3ul, 4u, "x")));
        Trenameat r = Decode<Trenameat>(Encode(new Trenameat(1, "a"u8, 2, "b"u8)));
        Assert.That((r.OldDirFid, Encoding.UTF8.GetString(r.OldName), r.NewDirFid, Encoding.UTF8.GetString(r.NewName)), Is.EqualTo((1u, "a", 2u, "b")));
        Tattach a = Decode<Tattach>(Encode(new Tattach(1, P9.P9_NOFID, "u"u8, "/a"u8, 7)));
        Assert.That((a.Fid, a.Afid, Encoding.UTF8.GetString(a.Uname), Encoding.UTF8.GetString(a.Aname), a.NUname), Is.EqualTo((1u, P9.P9_NOFID, "u", "/a", 7u)));

        byte[] data = new byte[100_000];
        new Random(1).NextBytes(data);
        Twrite w = Decode<Twrite>(Encode(new Twrite(3, 99, data)));
        Assert.That((w.Fid, w.Offset, w.Data.ToArray()), Is.EqualTo((3u, 99ul, data)));
        Assert.That(Decode<Rread>(Encode(new Rread(data))).Data.ToArray(), Is.EqualTo(data));
        Assert.That(Decode<Rread>(Encode(new Rread([]))).Data.Length, Is.Zero);
        byte[] nonUtf8 = [0xff, 0xfe, (byte)'x'];
        Assert.That(Decode<Rreadlink>(Encode(new Rreadlink(nonUtf8))).Target.ToArray(), Is.EqualTo(nonUtf8), "names are bytes, not UTF-8");
    }

    [Test]
    public void Rreaddir_EntriesReadBack()
    {
        Rreaddir m = Decode<Rreaddir>(Encode(new Rreaddir(SampleDirents())));
        var reader = new P9DirentReader(m.Data);
        Assert.That(reader.TryNext(out P9Dirent e), Is.True);
        Assert.That((e.Qid.IsDirectory, e.Offset, e.Type, Encoding.UTF8.GetString(e.Name), e.WireSize), Is.EqualTo((true, 1ul, (byte)4, "dir", 27)));
        Assert.That(reader.TryNext(out e), Is.True);
        Assert.That((e.Qid.IsSymlink, e.Offset, e.Type, Encoding.UTF8.GetString(e.Name)), Is.EqualTo((true, 2ul, (byte)10, "link-name")));
        Assert.That(reader.TryNext(out _), Is.False);
        Assert.That(reader.Failed, Is.False);
        Assert.That(new P9Dirent(default, 0, 0, "too-long"u8).TryWrite(new byte[30]), Is.Zero, "an entry that does not fit is not written");
    }
}
