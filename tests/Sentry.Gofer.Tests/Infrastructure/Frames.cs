using Sentry.P9;

namespace Sentry.Gofer.Tests;

/// <summary>Frame-level exchanges over a bare <see cref="P9Socket"/>.</summary>
public static class Frames
{
    /// <summary>Sends a frame and returns 0 if the reply has the expected type and the same tag, or -ecode of an Rlerror.</summary>
    public static int Exchange(P9Socket socket, byte[] buf, int length, P9MessageType expected)
    {
        Assert.That(socket.Send(buf.AsSpan(0, length)), Is.Zero);
        Assert.That(socket.Receive(out ReadOnlySpan<byte> reply, out int fd), Is.Zero);
        Assert.That(fd, Is.EqualTo(-1));
        Assert.That(P9Frame.TryReadHeader(reply, uint.MaxValue, out P9Header h), Is.True);
        Assert.That(h.Tag, Is.EqualTo(BitConverter.ToUInt16(buf, 5)));
        if (h.Type == P9MessageType.Rlerror)
        {
            Assert.That(P9Frame.TryDecodeBody(reply[P9Const.HeaderSize..], out Rlerror e), Is.True);
            return -(int)e.Ecode;
        }
        Assert.That(h.Type, Is.EqualTo(expected));
        return 0;
    }

    public static byte[] Encode<T>(ushort tag, in T message) where T : IP9Message<T>, allows ref struct
    {
        var buf = new byte[1 << 16];
        Assert.That(P9Frame.TryEncode(buf, tag, message, out int n), Is.True);
        return buf[..n];
    }
}
