using System.Buffers.Binary;
using static Tmds.Linux.LibC;

namespace Sentry.P9.Tests;

/// <summary>P9Socket framing on a byte stream and SCM_RIGHTS fd passing, over socketpairs.</summary>
public sealed class SocketTests
{
    static byte[] Clunk(uint fid, ushort tag = 1)
    {
        var buf = new byte[64];
        Assert.That(P9Frame.TryEncode(buf, tag, new Tclunk(fid), out int n), Is.True);
        return buf[..n];
    }

    static uint FidOf(ReadOnlySpan<byte> frame)
    {
        Assert.That(P9Frame.TryDecode(frame, 1024, out _, out Tclunk m), Is.True);
        return m.Fid;
    }

    [Test]
    public void AFrameWrittenInPieces_IsReassembled()
    {
        var (a, b) = Native.SocketPair();
        using var receiver = new P9Socket(b, 1024);
        byte[] frame = Clunk(77);
        var writer = new Thread(() =>
        {
            foreach (byte x in frame)
            {
                Native.WriteAll(a, [x]);
                Thread.Sleep(2);
            }
        });
        writer.Start();
        Assert.That(receiver.Receive(out ReadOnlySpan<byte> got, out int fd), Is.Zero);
        Assert.That((FidOf(got), fd), Is.EqualTo((77u, -1)));
        writer.Join();
        Native.Close(a);
    }

    [Test]
    public void SeveralFramesInOneWrite_ComeOutOneByOne()
    {
        var (a, b) = Native.SocketPair();
        using var receiver = new P9Socket(b, 1024);
        byte[] all = [.. Clunk(1), .. Clunk(2), .. Clunk(3), .. Clunk(4)[..5]];
        Native.WriteAll(a, all);
        for (uint i = 1; i <= 3; i++)
        {
            Assert.That(receiver.Receive(out ReadOnlySpan<byte> got, out _), Is.Zero);
            Assert.That(FidOf(got), Is.EqualTo(i));
        }
        Native.WriteAll(a, Clunk(4)[5..]);
        Assert.That(receiver.Receive(out ReadOnlySpan<byte> last, out _), Is.Zero);
        Assert.That(FidOf(last), Is.EqualTo(4u));
        Native.Close(a);
        Assert.That(receiver.Receive(out _, out _), Is.EqualTo(-ECONNRESET), "end of stream");
    }

    [Test]
    public void ManyLargeFrames_FillAndWrapTheBuffer()
    {
        var (a, b) = Native.SocketPair();
        using var sender = new P9Socket(a, 70_000);
        using var receiver = new P9Socket(b, 70_000);
        var rng = new Random(5);
        var sent = new List<byte[]>();
        var writer = new Thread(() =>
        {
            var buf = new byte[70_000];
            for (int i = 0; i < 200; i++)
            {
                var data = new byte[rng.Next(0, 60_000)];
                rng.NextBytes(data);
                lock (sent) sent.Add(data);
                P9Frame.TryEncode(buf, (ushort)i, new Rread(data), out int n);
                Assert.That(sender.Send(buf.AsSpan(0, n)), Is.Zero);
            }
        });
        writer.Start();
        for (int i = 0; i < 200; i++)
        {
            Assert.That(receiver.Receive(out ReadOnlySpan<byte> f, out _), Is.Zero);
            Assert.That(P9Frame.TryDecode(f, 70_000, out ushort tag, out Rread r), Is.True);
            Assert.That(tag, Is.EqualTo((ushort)i));
            byte[] expected;
            lock (sent) expected = sent[i];
            Assert.That(r.Data.SequenceEqual(expected), Is.True, $"frame {i}");
        }
        writer.Join();
    }

    [TestCase(0u)]
    [TestCase(6u)]
    [TestCase(1025u)]
    [TestCase(uint.MaxValue)]
    public void SizesOutsideHeaderToMsize_AreEproto(uint size)
    {
        var (a, b) = Native.SocketPair();
        using var receiver = new P9Socket(b, 1024);
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, size);
        Native.WriteAll(a, bytes);
        Assert.That(receiver.Receive(out _, out _), Is.EqualTo(-EPROTO));
        Native.Close(a);
    }

    [Test]
    public void LimitFrameSize_LowersTheLimit()
    {
        var (a, b) = Native.SocketPair();
        using var receiver = new P9Socket(b, 1024);
        receiver.LimitFrameSize(10);
        Assert.That(receiver.MaxFrameSize, Is.EqualTo(10));
        receiver.LimitFrameSize(5000);
        Assert.That(receiver.MaxFrameSize, Is.EqualTo(10), "never raised");
        Native.WriteAll(a, Clunk(1)); // 11 bytes
        Assert.That(receiver.Receive(out _, out _), Is.EqualTo(-EPROTO));
        Native.Close(a);
    }

    [Test]
    public void PeerClosingMidFrame_IsEconnreset()
    {
        var (a, b) = Native.SocketPair();
        using var receiver = new P9Socket(b, 1024);
        Native.WriteAll(a, Clunk(1)[..9]);
        Native.Close(a);
        Assert.That(receiver.Receive(out _, out _), Is.EqualTo(-ECONNRESET));
    }

    [Test]
    public void SendingToAClosedPeer_IsEpipe()
    {
        var (a, b) = Native.SocketPair();
        using var sender = new P9Socket(a, 1024);
        Native.Close(b);
        Assert.That(sender.Send(Clunk(1)), Is.EqualTo(-EPIPE));
    }

    [Test]
    public void AnFdTravelsWithItsFrame()
    {
        var (a, b) = Native.SocketPair();
        using var sender = new P9Socket(a, 1024);
        using var receiver = new P9Socket(b, 1024);
        string path = Path.GetTempFileName();
        using var file = File.OpenHandle(path);
        Assert.That(sender.Send(Clunk(1)), Is.Zero);
        Assert.That(sender.Send(Clunk(2), (int)file.DangerousGetHandle()), Is.Zero);
        Assert.That(sender.Send(Clunk(3)), Is.Zero);

        Assert.That(receiver.Receive(out ReadOnlySpan<byte> f1, out int fd1), Is.Zero);
        Assert.That((FidOf(f1), fd1), Is.EqualTo((1u, -1)));
        Assert.That(receiver.Receive(out ReadOnlySpan<byte> f2, out int fd2), Is.Zero);
        Assert.That(FidOf(f2), Is.EqualTo(2u));
        Assert.That(fd2, Is.GreaterThanOrEqualTo(0));
        Assert.That(Native.Fstat(fd2).Ino, Is.EqualTo(Native.Stat(path).Ino));
        Assert.That(Native.IsCloseOnExec(fd2), Is.True);
        Assert.That(receiver.Receive(out ReadOnlySpan<byte> f3, out int fd3), Is.Zero);
        Assert.That((FidOf(f3), fd3), Is.EqualTo((3u, -1)));
        Native.Close(fd2);
        File.Delete(path);
    }

    [Test]
    public void PipelinedFrames_EachGetTheirOwnFd()
    {
        var (a, b) = Native.SocketPair();
        using var sender = new P9Socket(a, 300_000);
        using var receiver = new P9Socket(b, 300_000);
        var rng = new Random(3);
        var pipes = new List<(int Read, int Write)?>();
        var buf = new byte[300_000];
        var writer = new Thread(() =>
        {
            for (int i = 0; i < 30; i++)
            {
                (int Read, int Write)? pipe = i % 3 == 0 ? null : Native.Pipe();
                lock (pipes) pipes.Add(pipe);
                // Large frames are split into several socket buffers on the way.
                P9Frame.TryEncode(buf, (ushort)i, new Rread(new byte[i % 4 == 1 ? 250_000 : rng.Next(0, 100)]), out int n);
                if (sender.Send(buf.AsSpan(0, n), pipe?.Write ?? -1) != 0) return;
            }
        });
        writer.Start();
        Thread.Sleep(200); // let the writer run ahead: many frames (and fds) queue up unread
        for (int i = 0; i < 30; i++)
        {
            Assert.That(receiver.Receive(out ReadOnlySpan<byte> f, out int fd), Is.Zero);
            Assert.That(P9Frame.TryDecode(f, 300_000, out ushort tag, out Rread _), Is.True);
            Assert.That(tag, Is.EqualTo((ushort)i));
            (int Read, int Write)? pipe;
            lock (pipes) pipe = pipes[i];
            if (pipe == null)
                Assert.That(fd, Is.EqualTo(-1), $"frame {i} had no fd");
            else
            {
                Assert.That(fd, Is.GreaterThanOrEqualTo(0), $"frame {i}");
                Assert.That(Native.Fstat(fd).Ino, Is.EqualTo(Native.Fstat(pipe.Value.Write).Ino), $"frame {i} got its own pipe");
                Native.Close(fd);
                Native.Close(pipe.Value.Read);
                Native.Close(pipe.Value.Write);
            }
        }
        writer.Join();
    }

    [Test]
    public void ExtraFdsOnOneFrame_AreClosed()
    {
        var (a, b) = Native.SocketPair();
        using var receiver = new P9Socket(b, 1024);
        var (r1, w1) = Native.Pipe();
        var (r2, w2) = Native.Pipe();
        Native.SendWithFds(a, Clunk(9), w1, w2);
        Native.Close(w1);
        Native.Close(w2);
        Assert.That(receiver.Receive(out ReadOnlySpan<byte> f, out int fd), Is.Zero);
        Assert.That(FidOf(f), Is.EqualTo(9u));
        Assert.That(Native.PipeWritersGone(r2, 5000), Is.True, "the second fd was closed");
        Assert.That(Native.PipeWritersGone(r1, 50), Is.False, "the first is the frame's, still open");
        Native.Close(fd);
        Assert.That(Native.PipeWritersGone(r1, 5000), Is.True);
        Native.Close(r1);
        Native.Close(r2);
        Native.Close(a);
    }

    [Test]
    public void Dispose_ClosesAnFdNobodyTook()
    {
        var (a, b) = Native.SocketPair();
        var receiver = new P9Socket(b, 1024);
        var (r, w) = Native.Pipe();
        Native.SendWithFds(a, Clunk(1)[..4], w); // the frame never completes
        Native.Close(w);
        Native.Close(a);
        Assert.That(receiver.Receive(out _, out _), Is.EqualTo(-ECONNRESET));
        receiver.Dispose();
        Assert.That(Native.IsOpen(b), Is.False, "the socket is closed too");
        Assert.That(Native.PipeWritersGone(r, 5000), Is.True);
        Native.Close(r);
    }
}
