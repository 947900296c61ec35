using Sentry.Net.Stack;
using static Sentry.Net.Tests.Net;
using static Sentry.Platform.Errno;

namespace Sentry.Net.Tests;

public sealed class UdpTests
{
    INetworkStack _s = null!;
    [SetUp] public void SetUp() => _s = NetStack.Loopback();
    [TearDown] public void TearDown() => _s.Dispose();

    IEndpoint Bound(int family = AF_INET, int port = 0)
    {
        var u = Make(_s, family, SOCK_DGRAM);
        Assert.That(u.Bind(family == AF_INET ? V4("127.0.0.1", port) : V6("::1", port)), Is.Zero);
        return u;
    }

    [TestCase(AF_INET)]
    [TestCase(AF_INET6)]
    public void SendTo_RecvFrom(int family)
    {
        var a = Bound(family);
        var b = Make(_s, family, SOCK_DGRAM);
        a.GetLocalAddress(out var aa);
        Assert.That(b.Readiness, Is.EqualTo(POLLOUT | POLLWRNORM));
        Assert.That(b.Send("ping"u8, 0, true, aa), Is.EqualTo(4));
        b.GetLocalAddress(out var ba);
        Assert.That(ba.Port, Is.InRange(32768, 60999), "autobind on first send");
        Assert.That(a.Readiness & POLLIN, Is.Not.Zero);
        Assert.That(a.Available, Is.EqualTo(4));
        var buf = new byte[16];
        Assert.That(a.Receive(buf, 0, out var from, out var trunc), Is.EqualTo(4));
        Assert.That(trunc, Is.False);
        Assert.That(from.Port, Is.EqualTo(ba.Port));
        Assert.That(a.Receive(buf, 0, out _, out _), Is.EqualTo(-EAGAIN));
    }

    [Test]
    public void PeekAndTrunc()
    {
        var a = Bound();
        a.GetLocalAddress(out var aa);
        var b = Make(_s, AF_INET, SOCK_DGRAM);
        b.Send("0123456789"u8, 0, true, aa);
        b.Send(""u8, 0, true, aa);
        var small = new byte[4];
        Assert.That(a.Receive(small, MSG_PEEK, out _, out var t), Is.EqualTo(4));
        Assert.That(t, Is.True);
        Assert.That(a.Receive(small, MSG_PEEK | MSG_TRUNC, out _, out _), Is.EqualTo(10));
        Assert.That(a.Receive(small, MSG_TRUNC, out _, out t), Is.EqualTo(10), "MSG_TRUNC gives the datagram's real length");
        Assert.That(t, Is.True);
        Assert.That(small, Is.EqualTo("0123"u8.ToArray()));
        Assert.That(a.Receive(small, 0, out _, out t), Is.Zero, "a zero-length datagram");
        Assert.That(a.Receive(small, 0, out _, out _), Is.EqualTo(-EAGAIN));
    }

    [Test]
    public void BindConflicts_AndReuse()
    {
        var a = Bound();
        a.GetLocalAddress(out var aa);
        var b = Make(_s, AF_INET, SOCK_DGRAM);
        Assert.That(b.Bind(aa), Is.EqualTo(-EADDRINUSE));
        var r1 = Make(_s, AF_INET, SOCK_DGRAM);
        var r2 = Make(_s, AF_INET, SOCK_DGRAM);
        SetInt(r1, SOL_SOCKET, SO_REUSEADDR, 1);
        SetInt(r2, SOL_SOCKET, SO_REUSEADDR, 1);
        Assert.That(r1.Bind(V4("0.0.0.0", 0)), Is.Zero);
        r1.GetLocalAddress(out var ra);
        Assert.That(r2.Bind(ra), Is.Zero, "UDP with SO_REUSEADDR on both shares the port");
        var p1 = Make(_s, AF_INET, SOCK_DGRAM);
        var p2 = Make(_s, AF_INET, SOCK_DGRAM);
        SetInt(p1, SOL_SOCKET, SO_REUSEPORT, 1);
        SetInt(p2, SOL_SOCKET, SO_REUSEPORT, 1);
        Assert.That(p1.Bind(V4("127.0.0.1", 0)), Is.Zero);
        p1.GetLocalAddress(out var pa);
        Assert.That(p2.Bind(pa), Is.Zero);
    }

    [Test]
    public void ConnectedSocket_GetsEconnrefused_AfterPortUnreachable()
    {
        var c = Make(_s, AF_INET, SOCK_DGRAM);
        var w = new Waiter();
        c.Listener = w;
        var closed = Bound();
        closed.GetLocalAddress(out var target);
        closed.Close();
        Assert.That(c.Connect(target), Is.Zero);
        Assert.That(c.GetPeerAddress(out var p), Is.Zero);
        Assert.That(p, Is.EqualTo(target));
        Assert.That(c.Send("x"u8, 0, false, default), Is.EqualTo(1));
        WaitFor(c, POLLERR);
        Assert.That(w.Seen & POLLERR, Is.Not.Zero);
        Assert.That(c.Receive(new byte[4], 0, out _, out _), Is.EqualTo(-ECONNREFUSED));
        Assert.That(c.Receive(new byte[4], 0, out _, out _), Is.EqualTo(-EAGAIN));
        // An unconnected socket does not hear about it.
        var u = Make(_s, AF_INET, SOCK_DGRAM);
        Assert.That(u.Send("x"u8, 0, true, target), Is.EqualTo(1));
        Assert.That(u.Readiness & POLLERR, Is.Zero);
    }

    [Test]
    public void ConnectedSocket_FiltersOtherSenders_AndDisconnect()
    {
        var a = Bound();
        a.GetLocalAddress(out var aa);
        var peer = Bound();
        peer.GetLocalAddress(out var pa);
        var other = Bound();
        Assert.That(a.Connect(pa), Is.Zero);
        other.Send("no"u8, 0, true, aa);
        Assert.That(a.Available, Is.Zero);
        peer.Send("yes"u8, 0, true, aa);
        Assert.That(a.Available, Is.EqualTo(3));
        Assert.That(a.Send("x"u8, 0, false, default), Is.EqualTo(1));
        Assert.That(peer.Available, Is.EqualTo(1));
        Assert.That(a.Disconnect(), Is.Zero);
        Assert.That(a.GetPeerAddress(out _), Is.EqualTo(-ENOTCONN));
        Assert.That(a.Send("x"u8, 0, false, default), Is.EqualTo(-EDESTADDRREQ));
    }

    [Test]
    public void Sizes_AndErrors()
    {
        var a = Bound();
        a.GetLocalAddress(out var aa);
        Assert.That(a.Send(new byte[65508], 0, true, aa), Is.EqualTo(-EMSGSIZE));
        Assert.That(a.Send(new byte[65507], 0, true, aa), Is.EqualTo(65507));
        Assert.That(a.Available, Is.EqualTo(65507));
        Assert.That(a.Send("x"u8, 0, true, V4("127.0.0.1", 0)), Is.EqualTo(-EINVAL));
        Assert.That(a.Send("x"u8, 0, true, V6("::1", 5)), Is.EqualTo(-EAFNOSUPPORT));
        Assert.That(a.Listen(1), Is.EqualTo(-EOPNOTSUPP));
        Assert.That(GetInt(a, SOL_SOCKET, SO_RCVBUF), Is.EqualTo(212992));
    }

    [Test]
    public void ReceiveBuffer_Bounded_DropsWhenFull()
    {
        var a = Bound();
        SetInt(a, SOL_SOCKET, SO_RCVBUF, 4096);
        a.GetLocalAddress(out var aa);
        var b = Make(_s, AF_INET, SOCK_DGRAM);
        for (int i = 0; i < 100; i++) b.Send(new byte[1000], 0, true, aa);
        int n = 0;
        var buf = new byte[2000];
        while (a.Receive(buf, 0, out _, out _) > 0) n++;
        Assert.That(n, Is.InRange(1, 10));
    }

    [Test]
    public void DualStack_ReceivesV4()
    {
        var a = Make(_s, AF_INET6, SOCK_DGRAM);
        Assert.That(a.Bind(V6("::", 0)), Is.Zero);
        a.GetLocalAddress(out var aa);
        var b = Make(_s, AF_INET, SOCK_DGRAM);
        Assert.That(b.Send("v4"u8, 0, true, V4("127.0.0.1", aa.Port)), Is.EqualTo(2));
        Assert.That(a.Receive(new byte[4], 0, out var from, out _), Is.EqualTo(2));
        Assert.That(from.Family, Is.EqualTo(AF_INET6));
        Assert.That(from.ToString(), Does.StartWith("[::ffff:127.0.0.1]"));
        Assert.That(a.Send("back"u8, 0, true, from), Is.EqualTo(4));
        Assert.That(b.Available, Is.EqualTo(4));
    }

    [Test]
    public void PingSocket_EchoesThroughTheStack()
    {
        Assert.That(_s.Create(AF_INET, SOCK_DGRAM, 1, out var p), Is.Zero);
        var req = new byte[16];
        req[0] = 8; req[6] = 0; req[7] = 1;
        "payload!"u8.CopyTo(req.AsSpan(8));
        Assert.That(p!.Send(req, 0, true, V4("127.0.0.1", 0)), Is.EqualTo(16));
        var buf = new byte[64];
        Assert.That(p.Receive(buf, 0, out var from, out _), Is.EqualTo(16));
        Assert.That(buf[0], Is.EqualTo(0), "echo reply");
        Assert.That(buf.AsSpan(8, 8).ToArray(), Is.EqualTo("payload!"u8.ToArray()));
        Assert.That(p.Send(new byte[4], 0, true, V4("127.0.0.1", 0)), Is.EqualTo(-EINVAL));
    }
}
