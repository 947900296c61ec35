using System.Buffers.Binary;
using Sentry.P9;
using Sentry.P9.Tests;
using static Tmds.Linux.LibC;

namespace Sentry.Gofer.Tests;

/// <summary>
/// Frames a broken or hostile client sends: a frame whose header is sound gets an Rlerror with
/// its tag (EINVAL for a body that does not decode, EOPNOTSUPP for a type the server does not
/// serve, EBADF for fids it does not know); a size field that cannot be trusted closes the
/// connection. The server thread never throws (InProcessGofer checks at the end).
/// </summary>
[NonParallelizable]
public sealed class MalformedInputTests
{
    InProcessGofer _gofer = null!;

    [SetUp] public void SetUp()
    {
        _gofer = new InProcessGofer(new GoferOptions { MaxMessageSize = 65536 });
        File.WriteAllText(_gofer.HostPath("file"), "content");
    }

    [TearDown] public void TearDown() => _gofer.Dispose();

    RawConnection Started()
    {
        var raw = new RawConnection(_gofer.StartConnection());
        raw.Start();
        return raw;
    }

    static byte[] Bytes(params byte[] b) => b;

    [Test]
    public void SizeBelowTheHeader_ClosesTheConnection()
    {
        using (var raw = Started())
        {
            Assert.That(raw.Send(Bytes(6, 0, 0, 0, 100, 1, 0)), Is.Zero);
            Assert.That(raw.Receive(), Is.Null, "closed");
        }
        using (var raw = new RawConnection(_gofer.StartConnection()))
        {
            Assert.That(raw.Send(Bytes(0, 0, 0, 0)), Is.Zero, "size 0 before anything else");
            Assert.That(raw.Receive(), Is.Null);
        }
        Assert.That(_gofer.WaitForConnections(), Is.All.EqualTo(-EPROTO));
    }

    [Test]
    public void SizeAboveMsize_ClosesTheConnection()
    {
        using (var raw = new RawConnection(_gofer.StartConnection()))
        {
            Assert.That(raw.Call(P9Const.P9_NOTAG, new Tversion(8192, P9Const.Version9P2000L)).Type, Is.EqualTo(P9MessageType.Rversion));
            var big = RawConnection.Frame(P9MessageType.Tgetattr, 1, new byte[8192]); // one byte over the agreed msize
            Assert.That(raw.Send(big), Is.Zero);
            Assert.That(raw.Receive(), Is.Null, "closed");
        }
        using (var raw = new RawConnection(_gofer.StartConnection()))
        {
            Assert.That(raw.Send(Bytes(0xff, 0xff, 0xff, 0x7f, 100, 0, 0)), Is.Zero, "2 GiB before any version");
            Assert.That(raw.Receive(), Is.Null);
        }
        Assert.That(_gofer.WaitForConnections(), Is.All.EqualTo(-EPROTO));
    }

    [Test]
    public void FrameCutShortByTheClientClosing_EndsTheConnectionQuietly()
    {
        using var raw = Started();
        byte[] frame = Frames.Encode(5, new Tgetattr(0, P9Const.P9_GETATTR_BASIC));
        Assert.That(raw.Send(frame.AsSpan(0, 10)), Is.Zero);
        Native.Shutdown(raw.Fd);
        Assert.That(raw.Receive(), Is.Null);
        Assert.That(_gofer.WaitForConnections(), Is.EqualTo(new[] { 0 }), "the peer closed: a normal end");
    }

    [Test]
    public void BodiesThatDoNotDecode_AreEinvalWithTheTag()
    {
        using var raw = Started();
        ushort tag = 100;
        foreach (byte[] sample in Codec.Samples().Where(f => P9Frame.IsRequest((P9MessageType)f[4])))
        {
            var type = (P9MessageType)sample[4];
            if (type is P9MessageType.Tauth) continue; // never served, whatever its body
            byte[] shorter = RawConnection.Frame(type, ++tag, sample.AsSpan(P9Const.HeaderSize, sample.Length - P9Const.HeaderSize - 1));
            Assert.That(raw.Call(shorter).Errno, Is.EqualTo(-EINVAL), $"{type} one byte short");
            byte[] longer = RawConnection.Frame(type, ++tag, [.. sample.AsSpan(P9Const.HeaderSize), 0]);
            Assert.That(raw.Call(longer).Errno, Is.EqualTo(-EINVAL), $"{type} one byte long");
        }
        // 17 names is more than a Twalk may carry.
        byte[][] names = Enumerable.Repeat("a"u8.ToArray(), P9Const.P9_MAXWELEM + 1).ToArray();
        Assert.That(raw.Call(RawConnection.Twalk(9, 0, 1, names)).Errno, Is.EqualTo(-EINVAL));
        // A string length running past the frame.
        Assert.That(raw.Call(RawConnection.Frame(P9MessageType.Tmkdir, 9, Bytes(0, 0, 0, 0, 0xff, 0xff, 1, 2))).Errno, Is.EqualTo(-EINVAL));
        // The connection is still fine.
        Assert.That(raw.Call(3, new Tgetattr(0, P9Const.P9_GETATTR_BASIC)).Type, Is.EqualTo(P9MessageType.Rgetattr));
    }

    [TestCase((byte)0)]
    [TestCase((byte)1)]
    [TestCase((byte)6)]
    [TestCase((byte)7)]      // Rlerror
    [TestCase((byte)101)]    // Rversion
    [TestCase((byte)102)]    // Tauth: no authentication here
    [TestCase((byte)112)]    // Topen (9P2000, replaced by Tlopen)
    [TestCase((byte)124)]    // Tstat (9P2000)
    [TestCase((byte)200)]
    [TestCase((byte)255)]
    public void TypesNotServed_AreEopnotsuppWithTheTag(byte type)
    {
        using var raw = Started();
        RawReply r = raw.Call(RawConnection.Frame((P9MessageType)type, 0x1234, Bytes(1, 2, 3, 4)));
        Assert.That(r.Errno, Is.EqualTo(-EOPNOTSUPP));
        Assert.That(raw.Call(RawConnection.Frame((P9MessageType)type, 0x4321, [])).Errno, Is.EqualTo(-EOPNOTSUPP), "empty body");
    }

    [Test]
    public void Version_RulesOfTheSession()
    {
        using var raw = new RawConnection(_gofer.StartConnection());
        Assert.That(raw.Call(1, new Tattach(0, P9Const.P9_NOFID, ""u8, ""u8, 0)).Errno, Is.EqualTo(-EPROTO), "nothing before Tversion");
        RawReply v = raw.Call(P9Const.P9_NOTAG, new Tversion(8192, "9P2000"u8));
        Assert.That(v.Type, Is.EqualTo(P9MessageType.Rversion));
        Assert.That(P9Frame.TryDecodeBody(v.Body, out Rversion rv) && rv.Version.SequenceEqual("unknown"u8), Is.True, "9P2000 is not spoken");
        Assert.That(raw.Call(1, new Tattach(0, P9Const.P9_NOFID, ""u8, ""u8, 0)).Errno, Is.EqualTo(-EPROTO), "still not negotiated");
        Assert.That(raw.Call(P9Const.P9_NOTAG, new Tversion(100, P9Const.Version9P2000L)).Errno, Is.EqualTo(-EINVAL), "msize below a page");

        v = raw.Call(P9Const.P9_NOTAG, new Tversion(1 << 30, P9Const.Version9P2000L));
        Assert.That(P9Frame.TryDecodeBody(v.Body, out rv), Is.True);
        Assert.That((rv.MSize, rv.Version.SequenceEqual(P9Const.Version9P2000L)), Is.EqualTo((65536u, true)), "the server's limit");
        Assert.That(raw.Call(1, new Tattach(0, P9Const.P9_NOFID, ""u8, ""u8, 0)).Type, Is.EqualTo(P9MessageType.Rattach));
        Assert.That(raw.Call(2, new Tgetattr(0, P9Const.P9_GETATTR_BASIC)).Type, Is.EqualTo(P9MessageType.Rgetattr));
        // A new Tversion starts a new session: fid 0 is gone.
        Assert.That(raw.Call(7, new Tversion(8192, "9P2000.L"u8)).Type, Is.EqualTo(P9MessageType.Rversion), "any tag is answered");
        Assert.That(raw.Call(2, new Tgetattr(0, P9Const.P9_GETATTR_BASIC)).Errno, Is.EqualTo(-EBADF));
    }

    [Test]
    public void Fids_UnknownInUseOrWrongKind()
    {
        using var raw = Started();
        Assert.That(raw.Call(2, new Tgetattr(99, P9Const.P9_GETATTR_BASIC)).Errno, Is.EqualTo(-EBADF), "unknown fid");
        Assert.That(raw.Call(RawConnection.Twalk(2, 99, 1, [])).Errno, Is.EqualTo(-EBADF));
        Assert.That(raw.Call(RawConnection.Twalk(2, 0, 1, "file"u8.ToArray())).Type, Is.EqualTo(P9MessageType.Rwalk));
        Assert.That(raw.Call(RawConnection.Twalk(2, 0, 1, [])).Errno, Is.EqualTo(-EBADF), "newfid in use");
        Assert.That(raw.Call(RawConnection.Twalk(2, 0, P9Const.P9_NOFID, [])).Errno, Is.EqualTo(-EBADF), "newfid NOFID");
        Assert.That(raw.Call(2, new Tattach(1, P9Const.P9_NOFID, ""u8, ""u8, 0)).Errno, Is.EqualTo(-EBADF), "attach to a fid in use");
        Assert.That(raw.Call(2, new Tread(1, 0, 10)).Errno, Is.EqualTo(-EBADF), "read of a fid not open");
        Assert.That(raw.Call(2, new Treaddir(0, 0, 100)).Errno, Is.EqualTo(-EBADF), "readdir of a fid not open");
        Assert.That(raw.Call(2, new Tfsync(1, 0)).Errno, Is.EqualTo(-EBADF));
        Assert.That(raw.Call(2, new Tlopen(1, (uint)O_RDONLY)).Type, Is.EqualTo(P9MessageType.Rlopen));
        Assert.That(raw.Call(2, new Tlopen(1, (uint)O_RDONLY)).Errno, Is.EqualTo(-EBADF), "opened twice");
        Assert.That(raw.Call(RawConnection.Twalk(2, 1, 1, "x"u8.ToArray())).Errno, Is.EqualTo(-EBADF), "an open fid is not walked in place");
        Assert.That(raw.Call(2, new Tread(1, 0, 0xffff_ffff)).Type, Is.EqualTo(P9MessageType.Rread), "count clamped to msize");
        Assert.That(raw.Call(2, new Tread(1, ulong.MaxValue, 1)).Errno, Is.EqualTo(-EINVAL), "offset beyond off_t");
        Assert.That(raw.Call(2, new Tclunk(1)).Type, Is.EqualTo(P9MessageType.Rclunk));
        Assert.That(raw.Call(2, new Tclunk(1)).Errno, Is.EqualTo(-EBADF), "clunked twice");
        Assert.That(raw.Call(2, new Treaddir(0, 0, 100)).Errno, Is.EqualTo(-EBADF));
    }

    [Test]
    public void Tags_ReusedAndPipelined_AreEachAnswered()
    {
        using var raw = Started();
        // Three requests in one write, two with the same tag, one with P9_NOTAG.
        byte[] a = Frames.Encode(9, new Tgetattr(0, P9Const.P9_GETATTR_BASIC));
        byte[] b = Frames.Encode(9, new Tgetattr(77, P9Const.P9_GETATTR_BASIC));
        byte[] c = Frames.Encode(P9Const.P9_NOTAG, new Tflush(9));
        Assert.That(raw.Send([.. a, .. b, .. c]), Is.Zero);
        RawReply r1 = raw.Receive()!.Value, r2 = raw.Receive()!.Value, r3 = raw.Receive()!.Value;
        Assert.That((r1.Type, r1.Tag), Is.EqualTo((P9MessageType.Rgetattr, (ushort)9)));
        Assert.That((r2.Errno, r2.Tag), Is.EqualTo((-EBADF, (ushort)9)));
        Assert.That((r3.Type, r3.Tag), Is.EqualTo((P9MessageType.Rflush, P9Const.P9_NOTAG)));
    }

    [Test]
    public void FdsSentByTheClient_AreClosed()
    {
        using var raw = Started();
        (int read, int write) = Native.Pipe();
        Native.SendWithFds(raw.Fd, Frames.Encode(4, new Tgetattr(0, P9Const.P9_GETATTR_BASIC)), write, write);
        Native.Close(write);
        Assert.That(raw.Receive()!.Value.Type, Is.EqualTo(P9MessageType.Rgetattr));
        Assert.That(Native.PipeWritersGone(read, 5000), Is.True, "the server closed the fds it was sent");
        Native.Close(read);
    }
}

/// <summary>The server's last line of defence: an exception while handling a request costs that request (Rlerror EIO), never the connection.</summary>
[NonParallelizable]
public sealed class ExceptionBoundaryTests
{
    [Test]
    public void AnExceptionInAHandler_IsEioForThatRequestOnly()
    {
        using var gofer = new InProcessGofer();
        gofer.Server.RequestHook = type =>
        {
            if (type == P9MessageType.Tstatfs) throw new InvalidOperationException("a bug");
            if (type == P9MessageType.Treadlink) throw new OutOfMemoryException();
        };
        using var raw = new RawConnection(gofer.StartConnection());
        raw.Start();
        Assert.That(raw.Call(5, new Tstatfs(0)).Errno, Is.EqualTo(-EIO));
        Assert.That(raw.Call(6, new Treadlink(0)).Errno, Is.EqualTo(-EIO));
        Assert.That(raw.Call(7, new Tgetattr(0, P9Const.P9_GETATTR_BASIC)).Type, Is.EqualTo(P9MessageType.Rgetattr), "the connection goes on");
        raw.Dispose();
        Assert.That(gofer.WaitForConnections(), Is.EqualTo(new[] { 0 }));
    }
}
