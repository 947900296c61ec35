using System.Buffers.Binary;
using Sentry.P9;
using Sentry.P9.Tests;

namespace Sentry.Gofer.Tests;

/// <summary>A reply as received: its type, tag, body and any fd that came with it.</summary>
public readonly record struct RawReply(P9MessageType Type, ushort Tag, byte[] Body, int Fd)
{
    /// <summary>-ecode for an Rlerror, else 0.</summary>
    public int Errno => Type == P9MessageType.Rlerror ? -(int)BinaryPrimitives.ReadUInt32LittleEndian(Body) : 0;
}

/// <summary>
/// A connection spoken to frame by frame, for what P9Client will not send: names with '/' or
/// NUL, malformed frames, garbage. Every receive has a time limit, so a server that fails to
/// answer fails the test instead of hanging it.
/// </summary>
public sealed class RawConnection : IDisposable
{
    readonly P9Socket _socket;

    public RawConnection(int fd, int maxFrame = 1 << 20, int receiveTimeoutMs = 10_000)
    {
        TestNative.SetReceiveTimeout(fd, receiveTimeoutMs);
        _socket = new P9Socket(fd, maxFrame);
        Fd = fd;
    }

    public int Fd { get; }

    public int Send(ReadOnlySpan<byte> frame) => _socket.Send(frame);

    /// <summary>The next reply, or null when the server closed the connection (or sent a frame we cannot frame).</summary>
    public RawReply? Receive()
    {
        int rc = _socket.Receive(out ReadOnlySpan<byte> frame, out int fd);
        if (rc == -11 /* EAGAIN: SO_RCVTIMEO */) throw new AssertionException("the server did not answer within the time limit");
        if (rc < 0) return null;
        return new RawReply((P9MessageType)frame[4], BinaryPrimitives.ReadUInt16LittleEndian(frame[5..]), frame[P9Const.HeaderSize..].ToArray(), fd);
    }

    /// <summary>Sends and waits for the reply, which must carry the same tag.</summary>
    public RawReply Call(ReadOnlySpan<byte> frame)
    {
        Assert.That(Send(frame), Is.Zero, "send");
        RawReply? r = Receive();
        Assert.That(r, Is.Not.Null, "the server closed the connection");
        Assert.That(r!.Value.Tag, Is.EqualTo(BinaryPrimitives.ReadUInt16LittleEndian(frame[5..])), "the reply's tag");
        return r.Value;
    }

    public RawReply Call<T>(ushort tag, in T message) where T : IP9Message<T>, allows ref struct => Call(Frames.Encode(tag, message));

    /// <summary>Tversion then Tattach of fid 0 to the export root.</summary>
    public void Start(uint msize = 65536)
    {
        Assert.That(Call(P9Const.P9_NOTAG, new Tversion(msize, P9Const.Version9P2000L)).Type, Is.EqualTo(P9MessageType.Rversion));
        Assert.That(Call(1, new Tattach(0, P9Const.P9_NOFID, "root"u8, ""u8, Native.EffectiveUid)).Type, Is.EqualTo(P9MessageType.Rattach));
    }

    /// <summary>A Twalk of arbitrary names (each sent as one wire string, '/' and NUL included).</summary>
    public static byte[] Twalk(ushort tag, uint fid, uint newFid, params byte[][] names)
    {
        var body = new List<byte>();
        void U32(uint v) { var b = new byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); body.AddRange(b); }
        void U16(ushort v) { var b = new byte[2]; BinaryPrimitives.WriteUInt16LittleEndian(b, v); body.AddRange(b); }
        U32(fid);
        U32(newFid);
        U16((ushort)names.Length);
        foreach (byte[] n in names)
        {
            U16((ushort)n.Length);
            body.AddRange(n);
        }
        return Frame(P9MessageType.Twalk, tag, [.. body]);
    }

    /// <summary>A frame of any type and body, its size field correct.</summary>
    public static byte[] Frame(P9MessageType type, ushort tag, ReadOnlySpan<byte> body)
    {
        var f = new byte[P9Const.HeaderSize + body.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(f, (uint)f.Length);
        f[4] = (byte)type;
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(5), tag);
        body.CopyTo(f.AsSpan(P9Const.HeaderSize));
        return f;
    }

    /// <summary>The qids of an Rwalk.</summary>
    public static P9Qid[] Qids(RawReply r)
    {
        Assert.That(r.Type, Is.EqualTo(P9MessageType.Rwalk), $"Rwalk expected, got {r.Type} {r.Errno}");
        int n = BinaryPrimitives.ReadUInt16LittleEndian(r.Body);
        var q = new P9Qid[n];
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<byte> s = r.Body.AsSpan(2 + i * 13, 13);
            q[i] = new P9Qid(s[0], BinaryPrimitives.ReadUInt32LittleEndian(s[1..]), BinaryPrimitives.ReadUInt64LittleEndian(s[5..]));
        }
        return q;
    }

    public void Dispose() => _socket.Dispose();
}
