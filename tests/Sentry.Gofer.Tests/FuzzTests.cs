using System.Buffers.Binary;
using System.Text;
using Sentry.P9;
using Sentry.P9.Tests;
using static Tmds.Linux.LibC;

namespace Sentry.Gofer.Tests;

/// <summary>
/// 10,000 seeded frames (well-formed requests with random small fids and names, mutated,
/// truncated, retyped and garbage frames, and frames with broken size fields) at a writable
/// export, a fresh connection whenever the server closes one. Every frame with a sound header
/// must be answered with its tag (its own reply type or Rlerror); every broken size must close
/// the connection; the server never throws; afterwards a new connection works, nothing outside
/// the export changed, and the test process has exactly the fds it had before.
/// </summary>
[NonParallelizable]
public sealed class FuzzTests
{
    const int MSize = 65536;
    const int Frames = 10_000;

    static readonly byte[][] NamePool =
    [
        "file"u8.ToArray(), "dir"u8.ToArray(), "link"u8.ToArray(), "fifo"u8.ToArray(), "new"u8.ToArray(), "x"u8.ToArray(),
        ".."u8.ToArray(), "."u8.ToArray(), ""u8.ToArray(), "a/b"u8.ToArray(), "../outside"u8.ToArray(), "n\0ul"u8.ToArray(),
        "user.f"u8.ToArray(), Encoding.UTF8.GetBytes(new string('l', 300)),
    ];

    [Test]
    public void TenThousandSeededFrames_TheServerSurvivesAndLeaksNothing()
    {
        var gofer = new InProcessGofer(new GoferOptions { MaxMessageSize = MSize });
        string outsideFile = Path.Combine(gofer.Outside, "sentinel");
        File.WriteAllText(outsideFile, "untouched");
        Directory.CreateDirectory(gofer.HostPath("dir/sub"));
        File.WriteAllBytes(gofer.HostPath("file"), new byte[5000]);
        File.WriteAllText(gofer.HostPath("dir/inner"), "inner");
        File.CreateSymbolicLink(gofer.HostPath("link"), "file");
        File.CreateSymbolicLink(gofer.HostPath("dir/out"), gofer.Outside);
        Native.MkFifo(gofer.HostPath("fifo"), 0x1b6);
        int fdsBefore = TestNative.OpenFdCount();

        var rng = new Random(20250917);
        List<byte[]> samples = Codec.Samples();
        RawConnection? raw = null;
        uint msize = MSize;
        int answered = 0, errors = 0, closes = 0, sinceConnect = 0;
        var replyTypes = new HashSet<P9MessageType>();
        try
        {
            for (int i = 0; i < Frames; i++)
            {
                if (raw == null || sinceConnect++ > 300)
                {
                    raw?.Dispose();
                    raw = Open(gofer);
                    msize = MSize;
                    sinceConnect = 0;
                }
                (byte[] frame, bool sound) = Next(rng, samples, i);
                if (Environment.GetEnvironmentVariable("FUZZ_TRACE") is string trace) File.AppendAllText(trace, $"{i} {(P9MessageType)frame[4]} {Convert.ToHexString(frame)}\n");
                if (raw.Send(frame) < 0) { raw.Dispose(); raw = null; closes++; continue; }

                bool expectClose = !sound || frame.Length > msize;
                if (sound && frame.Length < BinaryPrimitives.ReadUInt32LittleEndian(frame) && !expectClose)
                    throw new InvalidOperationException("generator bug");
                if (!sound && BinaryPrimitives.ReadUInt32LittleEndian(frame) is var size && size >= 7 && size <= msize)
                    Native.Shutdown(raw.Fd); // a frame promising more than was sent: only the end of the stream ends it

                RawReply? reply = raw.Receive();
                if (reply == null)
                {
                    Assert.That(expectClose, Is.True, $"frame {i} ({(P9MessageType)frame[4]}, {frame.Length} bytes) closed the connection");
                    raw.Dispose();
                    raw = null;
                    closes++;
                    continue;
                }
                Assert.That(expectClose, Is.False, $"frame {i}: a broken size field was answered");
                RawReply r = reply.Value;
                Native.Close(r.Fd);
                var type = (P9MessageType)frame[4];
                Assert.That(r.Tag, Is.EqualTo(BinaryPrimitives.ReadUInt16LittleEndian(frame.AsSpan(5))), $"frame {i}: tag");
                Assert.That(r.Type == P9MessageType.Rlerror || (byte)r.Type == (byte)type + 1 && P9Frame.IsRequest(type), Is.True,
                    $"frame {i}: {type} answered with {r.Type}");
                if (r.Type == P9MessageType.Rlerror)
                {
                    errors++;
                    Assert.That(r.Errno, Is.InRange(-4095, -1), "a real errno");
                    // EIO is what the server's exception boundary answers: it would be a bug.
                    Assert.That(r.Errno, Is.Not.EqualTo(-EIO), $"frame {i} ({type}) made the server fail unexpectedly");
                }
                answered++;
                replyTypes.Add(r.Type);
                if (r.Type == P9MessageType.Rversion && P9Frame.TryDecodeBody(r.Body, out Rversion v))
                    msize = v.Version.SequenceEqual(P9Const.Version9P2000L) ? v.MSize : msize;
            }
        }
        finally
        {
            raw?.Dispose();
        }

        TestContext.Out.WriteLine($"{answered} answered ({errors} Rlerror), {closes} connections closed by the server, {replyTypes.Count} reply types");
        Assert.That(answered, Is.GreaterThan(Frames / 2));
        Assert.That(errors, Is.LessThan(answered), "some requests succeeded");
        Assert.That(closes, Is.GreaterThan(50), "broken frames closed connections");
        Assert.That(replyTypes, Has.Count.GreaterThan(15), "the frames reached many operations");

        // The server still serves a new connection.
        using (P9Client c = gofer.Connect(out uint root, out _))
        {
            Assert.That(c.GetAttr(root, P9Const.P9_GETATTR_BASIC, out P9StatDotl st), Is.Zero);
            Assert.That(st.qid.IsDirectory, Is.True);
            Assert.That(c.Clunk(root), Is.Zero);
        }
        int[] results = gofer.WaitForConnections();
        Assert.That(results, Is.All.EqualTo(0).Or.EqualTo(-EPROTO), "each connection ended because its peer closed or broke framing");
        Assert.That(TestNative.OpenFdCount(), Is.EqualTo(fdsBefore), "fds of the test process (the server's included)");
        Assert.That(File.ReadAllText(outsideFile), Is.EqualTo("untouched"));
        Assert.That(Directory.GetFileSystemEntries(gofer.Outside), Is.EqualTo(new[] { outsideFile }));
        gofer.Dispose();
    }

    /// <summary>A started connection with fids 1..6: dir, file (open read-write), link, dir (open), fifo, dir/sub.</summary>
    static RawConnection Open(InProcessGofer gofer)
    {
        var raw = new RawConnection(gofer.StartConnection(), MSize);
        raw.Start(MSize);
        raw.Call(RawConnection.Twalk(1, 0, 1, "dir"u8.ToArray()));
        raw.Call(RawConnection.Twalk(1, 0, 2, "file"u8.ToArray()));
        Native.Close(raw.Call(1, new Tlopen(2, (uint)O_RDWR)).Fd);
        raw.Call(RawConnection.Twalk(1, 0, 3, "link"u8.ToArray()));
        raw.Call(RawConnection.Twalk(1, 0, 4, "dir"u8.ToArray()));
        raw.Call(1, new Tlopen(4, (uint)O_RDONLY));
        raw.Call(RawConnection.Twalk(1, 0, 5, "fifo"u8.ToArray()));
        raw.Call(RawConnection.Twalk(1, 0, 6, "dir"u8.ToArray(), "sub"u8.ToArray()));
        return raw;
    }

    /// <summary>The next frame, and whether its size field is sound (equals its length, within [7, msize]).</summary>
    static (byte[] Frame, bool Sound) Next(Random rng, List<byte[]> samples, int i)
    {
        int pick = rng.Next(100);
        byte[] f;
        if (pick < 35) f = WellFormed(rng);
        else if (pick < 55) f = Mutate(rng, WellFormed(rng));
        else if (pick < 65) f = Mutate(rng, samples[rng.Next(samples.Count)]);
        else if (pick < 75) f = Resize(rng, rng.Next(2) == 0 ? WellFormed(rng) : samples[rng.Next(samples.Count)]);
        else if (pick < 83) f = Retype(rng, WellFormed(rng));
        else if (pick < 93) f = Garbage(rng);
        else return (BrokenSize(rng), false);
        return (f, true);
    }

    static uint Fid(Random rng) => rng.Next(10) == 0 ? (uint)rng.Next() : (uint)rng.Next(0, 9);
    static byte[] Name(Random rng) => NamePool[rng.Next(NamePool.Length)];
    static ushort Tag(Random rng) => (ushort)rng.Next(0x10000);
    static ulong Small(Random rng) => rng.Next(8) == 0 ? (ulong)rng.NextInt64() : (ulong)rng.Next(0, 20000);

    static uint OpenFlags(Random rng)
    {
        uint[] common = [(uint)O_RDONLY, (uint)O_WRONLY, (uint)O_RDWR, (uint)(O_RDONLY | O_DIRECTORY), (uint)(O_RDWR | O_TRUNC), (uint)(O_WRONLY | O_APPEND)];
        return rng.Next(5) == 0 ? (uint)rng.Next() : common[rng.Next(common.Length)];
    }

    static byte[] WellFormed(Random rng)
    {
        ushort tag = Tag(rng);
        switch (rng.Next(30))
        {
            case 0: return RawConnection.Twalk(tag, Fid(rng), Fid(rng), Enumerable.Range(0, rng.Next(0, 4)).Select(_ => Name(rng)).ToArray());
            case 1: return Encode(tag, new Tgetattr(Fid(rng), P9Const.P9_GETATTR_ALL));
            case 2: return Encode(tag, new Tlopen(Fid(rng), OpenFlags(rng)));
            case 3: return Encode(tag, new Tlcreate(Fid(rng), Name(rng), OpenFlags(rng) | (uint)O_CREAT, (uint)rng.Next(0, 0x1000), (uint)rng.Next(0, 3)));
            case 4: return Encode(tag, new Tread(Fid(rng), Small(rng), (uint)rng.Next(0, 70000)));
            case 5:
                var data = new byte[rng.Next(0, 2000)];
                rng.NextBytes(data);
                return Encode(tag, new Twrite(Fid(rng), Small(rng), data));
            case 6: return Encode(tag, new Tclunk(Fid(rng)));
            case 7: return Encode(tag, new Tremove(Fid(rng)));
            case 8: return Encode(tag, new Treaddir(Fid(rng), rng.Next(3) == 0 ? 0 : Small(rng), (uint)rng.Next(0, 70000)));
            case 9: return Encode(tag, new Tmkdir(Fid(rng), Name(rng), (uint)rng.Next(0, 0x1000), 0));
            case 10: return Encode(tag, new Tsymlink(Fid(rng), Name(rng), Name(rng), 0));
            case 11: return Encode(tag, new Tmknod(Fid(rng), Name(rng), (uint)rng.Next(0, 0x10000), (uint)rng.Next(0, 10), (uint)rng.Next(0, 10), 0));
            case 12: return Encode(tag, new Tlink(Fid(rng), Fid(rng), Name(rng)));
            case 13: return Encode(tag, new Trenameat(Fid(rng), Name(rng), Fid(rng), Name(rng)));
            case 14: return Encode(tag, new Tunlinkat(Fid(rng), Name(rng), rng.Next(3) == 0 ? (uint)rng.Next() : (uint)rng.Next(2) * P9Const.P9_DOTL_AT_REMOVEDIR));
            case 15: return Encode(tag, new Trename(Fid(rng), Fid(rng), Name(rng)));
            case 16: return Encode(tag, new Treadlink(Fid(rng)));
            case 17: return Encode(tag, new Tstatfs(Fid(rng)));
            case 18: return Encode(tag, new Tfsync(Fid(rng), (uint)rng.Next(2)));
            case 19:
                var attr = new P9IattrDotl
                {
                    valid = (uint)rng.Next(0, 0x200), mode = (uint)rng.Next(0, 0x1000), uid = (uint)rng.Next(0, 3), gid = (uint)rng.Next(0, 3),
                    size = (ulong)rng.Next(0, 100000), atime_sec = Small(rng), atime_nsec = Small(rng), mtime_sec = Small(rng), mtime_nsec = (ulong)rng.Next(0, 1_000_000_000),
                };
                return Encode(tag, new Tsetattr(Fid(rng), attr));
            case 20: return Encode(tag, new Tlock(Fid(rng), (byte)rng.Next(0, 4), (uint)rng.Next(0, 4), Small(rng), Small(rng), 1, Name(rng)));
            case 21: return Encode(tag, new Tgetlock(Fid(rng), (byte)rng.Next(0, 4), Small(rng), Small(rng), 1, Name(rng)));
            case 22: return Encode(tag, new Txattrwalk(Fid(rng), Fid(rng), rng.Next(2) == 0 ? "user.f"u8 : Name(rng)));
            case 23: return Encode(tag, new Txattrcreate(Fid(rng), rng.Next(2) == 0 ? "user.f"u8 : Name(rng), (ulong)rng.Next(0, 100), (uint)rng.Next(0, 4)));
            case 24: return Encode(tag, new Tflush(Tag(rng)));
            case 25: return Encode(tag, new Tattach(Fid(rng), P9Const.P9_NOFID, "u"u8, rng.Next(2) == 0 ? ""u8 : Name(rng), 0));
            case 26: return Encode(rng.Next(2) == 0 ? P9Const.P9_NOTAG : tag, new Tversion((uint)rng.Next(3000, MSize + 100), rng.Next(4) == 0 ? "9P2000"u8 : P9Const.Version9P2000L));
            case 27: return Encode(tag, new Tauth(Fid(rng), "u"u8, ""u8, 0));
            default: return Encode(tag, new Tgetattr(Fid(rng), (ulong)rng.NextInt64()));
        }
    }

    static byte[] Encode<T>(ushort tag, in T message) where T : IP9Message<T>, allows ref struct
    {
        var buf = new byte[MSize];
        return P9Frame.TryEncode(buf, tag, message, out int n) ? buf[..n] : RawConnection.Frame(T.Type, tag, []);
    }

    /// <summary>A few bytes of the body changed; the size stays right.</summary>
    static byte[] Mutate(Random rng, byte[] sample)
    {
        byte[] f = (byte[])sample.Clone();
        if (f.Length <= P9Const.HeaderSize) return f;
        int flips = rng.Next(1, 4);
        for (int j = 0; j < flips; j++)
        {
            int at = rng.Next(P9Const.HeaderSize, f.Length);
            f[at] = rng.Next(3) == 0 ? (byte)rng.Next(256) : (byte)(f[at] ^ (1 << rng.Next(8)));
        }
        return f;
    }

    /// <summary>The body cut short or extended, the size field made to match.</summary>
    static byte[] Resize(Random rng, byte[] sample)
    {
        int length = Math.Max(P9Const.HeaderSize, rng.Next(2) == 0 ? rng.Next(P9Const.HeaderSize, sample.Length + 1) : sample.Length + rng.Next(1, 40));
        var f = new byte[length];
        sample.AsSpan(0, Math.Min(length, sample.Length)).CopyTo(f);
        BinaryPrimitives.WriteUInt32LittleEndian(f, (uint)length);
        return f;
    }

    static byte[] Retype(Random rng, byte[] sample)
    {
        byte[] f = (byte[])sample.Clone();
        f[4] = (byte)rng.Next(256);
        return f;
    }

    static byte[] Garbage(Random rng)
    {
        var f = new byte[rng.Next(P9Const.HeaderSize, 300)];
        rng.NextBytes(f);
        BinaryPrimitives.WriteUInt32LittleEndian(f, (uint)f.Length);
        return f;
    }

    /// <summary>A frame whose size field cannot be right: below a header, above msize, or more than is sent.</summary>
    static byte[] BrokenSize(Random rng)
    {
        var f = new byte[rng.Next(P9Const.HeaderSize, 64)];
        rng.NextBytes(f);
        uint size = rng.Next(3) switch
        {
            0 => (uint)rng.Next(0, P9Const.HeaderSize),
            1 => (uint)rng.NextInt64(MSize + 1, uint.MaxValue + 1L),
            _ => (uint)rng.Next(f.Length + 1, MSize),
        };
        BinaryPrimitives.WriteUInt32LittleEndian(f, size);
        return f;
    }
}
