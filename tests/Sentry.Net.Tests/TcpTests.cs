using System.Security.Cryptography;
using Sentry.Net.Stack;
using static Sentry.Net.Tests.Net;
using static Sentry.Platform.Errno;

namespace Sentry.Net.Tests;

public sealed class TcpTests
{
    INetworkStack _s = null!;
    [SetUp] public void SetUp() => _s = NetStack.Loopback();
    [TearDown] public void TearDown() => _s.Dispose();

    [TestCase(AF_INET)]
    [TestCase(AF_INET6)]
    public void Handshake_Echo_Addresses(int family)
    {
        var (c, a, l) = Pair(_s, family);
        Assert.That(c.GetPeerAddress(out var cp), Is.Zero);
        Assert.That(l.GetLocalAddress(out var la), Is.Zero);
        Assert.That(cp, Is.EqualTo(la));
        Assert.That(a.GetPeerAddress(out var ap), Is.Zero);
        Assert.That(c.GetLocalAddress(out var cl), Is.Zero);
        Assert.That(ap, Is.EqualTo(cl));
        Assert.That(cl.Port, Is.InRange(32768, 60999));
        Assert.That(c.Readiness & (POLLOUT | POLLIN | POLLHUP), Is.EqualTo(POLLOUT));

        Assert.That(c.Send("hello"u8, 0, false, default), Is.EqualTo(5));
        var buf = new byte[16];
        WaitFor(a, POLLIN);
        Assert.That(a.Available, Is.EqualTo(5));
        Assert.That(a.Receive(buf, MSG_PEEK, out _, out _), Is.EqualTo(5));
        Assert.That(a.Receive(buf, 0, out _, out _), Is.EqualTo(5));
        Assert.That(buf[..5], Is.EqualTo("hello"u8.ToArray()));
        Assert.That(a.Receive(buf, 0, out _, out _), Is.EqualTo(-EAGAIN));
        Assert.That(a.Send(buf.AsSpan(0, 5), 0, false, default), Is.EqualTo(5));
        Assert.That(RecvAll(c, buf.AsSpan(0, 5)), Is.EqualTo(5));
        c.Close(); a.Close(); l.Close();
    }

    [Test]
    public void V4MappedOnDualStackListener()
    {
        var l = Make(_s, AF_INET6, SOCK_STREAM);
        Assert.That(l.Bind(V6("::", 0)), Is.Zero);
        Assert.That(l.Listen(5), Is.Zero);
        l.GetLocalAddress(out var la);
        var c = Make(_s, AF_INET, SOCK_STREAM);
        Assert.That(Connect(c, V4("127.0.0.1", la.Port)), Is.Zero);
        var a = Accept(l);
        a.GetPeerAddress(out var peer);
        Assert.That(peer.Family, Is.EqualTo(AF_INET6));
        Assert.That(peer.ToString(), Does.StartWith("[::ffff:127.0.0.1]"));
        // With IPV6_V6ONLY, IPv4 is refused.
        var l6 = Make(_s, AF_INET6, SOCK_STREAM);
        SetInt(l6, IPPROTO_IPV6, IPV6_V6ONLY, 1);
        Assert.That(l6.Bind(V6("::", 0)), Is.Zero);
        Assert.That(l6.Listen(5), Is.Zero);
        l6.GetLocalAddress(out var l6a);
        var c2 = Make(_s, AF_INET, SOCK_STREAM);
        Assert.That(Connect(c2, V4("127.0.0.1", l6a.Port)), Is.EqualTo(-ECONNREFUSED));
    }

    [Test]
    public void FreshSocket_ReadinessIsPolloutHup_AndRecvIsEnotconn()
    {
        var c = Make(_s, AF_INET, SOCK_STREAM);
        Assert.That(c.Readiness, Is.EqualTo(POLLOUT | POLLWRNORM | POLLHUP));
        Assert.That(c.Receive(new byte[4], 0, out _, out _), Is.EqualTo(-ENOTCONN));
        Assert.That(c.Send(new byte[4], 0, false, default), Is.EqualTo(-EPIPE));
        Assert.That(c.GetPeerAddress(out _), Is.EqualTo(-ENOTCONN));
        Assert.That(c.Shutdown(1), Is.EqualTo(-ENOTCONN));
    }

    [Test]
    public void ConnectToClosedPort_IsRefused()
    {
        var c = Make(_s, AF_INET, SOCK_STREAM);
        var w = new Waiter();
        c.Listener = w;
        Assert.That(c.Connect(V4("127.0.0.1", 1)), Is.EqualTo(-EINPROGRESS));
        WaitFor(c, POLLERR);
        Assert.That(c.Readiness, Is.EqualTo(POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM | POLLERR | POLLHUP | POLLRDHUP));
        Assert.That(w.Seen & POLLERR, Is.Not.Zero);
        Assert.That(GetInt(c, SOL_SOCKET, SO_ERROR), Is.EqualTo(ECONNREFUSED));
        Assert.That(GetInt(c, SOL_SOCKET, SO_ERROR), Is.Zero);
        // Blocking style: the second connect reports the error.
        var d = Make(_s, AF_INET, SOCK_STREAM);
        Assert.That(Connect(d, V4("127.0.0.1", 1)), Is.EqualTo(-ECONNREFUSED));
        // And the socket may try again.
        var l = Listen(_s, AF_INET, out var addr);
        Assert.That(Connect(d, addr), Is.Zero);
        Assert.That(d.Connect(addr), Is.EqualTo(-EISCONN));
    }

    [Test]
    public void Bulk16MiB_ChecksumMatches([Values(AF_INET, AF_INET6)] int family)
    {
        var (c, a, l) = Pair(_s, family);
        var data = new byte[16 << 20];
        new Random(1).NextBytes(data);
        var got = new byte[data.Length];
        int n = 0;
        var reader = new Thread(() => n = RecvAll(a, got, 60000));
        reader.Start();
        for (int off = 0; off < data.Length; off += 100_000)
            SendAll(c, data.AsSpan(off, Math.Min(100_000, data.Length - off)));
        c.Shutdown(1);
        Assert.That(reader.Join(60000), Is.True);
        Assert.That(n, Is.EqualTo(data.Length));
        Assert.That(SHA256.HashData(got), Is.EqualTo(SHA256.HashData(data)));
        Assert.That(a.Receive(new byte[1], 0, out _, out _), Is.Zero, "end of stream");
    }

    [Test]
    public void HalfClose_BothWays()
    {
        var (c, a, l) = Pair(_s);
        var w = new Waiter();
        a.Listener = w;
        Assert.That(c.Shutdown(1), Is.Zero);
        WaitFor(a, POLLRDHUP);
        Assert.That(w.Seen & POLLRDHUP, Is.Not.Zero);
        Assert.That(a.Readiness & (POLLIN | POLLRDHUP | POLLOUT | POLLHUP), Is.EqualTo(POLLIN | POLLRDHUP | POLLOUT));
        Assert.That(a.Receive(new byte[8], 0, out _, out _), Is.Zero);
        Assert.That(c.Send("x"u8, 0, false, default), Is.EqualTo(-EPIPE));
        // The other direction still works.
        Assert.That(a.Send("after"u8, 0, false, default), Is.EqualTo(5));
        var buf = new byte[5];
        Assert.That(RecvAll(c, buf), Is.EqualTo(5));
        a.Close();
        WaitFor(c, POLLHUP);
        Assert.That(c.Receive(buf, 0, out _, out _), Is.Zero);
        Assert.That(c.Readiness & (POLLIN | POLLHUP | POLLRDHUP | POLLOUT), Is.EqualTo(POLLIN | POLLHUP | POLLRDHUP | POLLOUT));
    }

    [Test]
    public void CloseWithUnreadData_Resets()
    {
        var (c, a, l) = Pair(_s);
        Assert.That(c.Send("unread"u8, 0, false, default), Is.EqualTo(6));
        WaitFor(a, POLLIN);
        a.Close();
        WaitFor(c, POLLERR);
        Assert.That(c.Receive(new byte[8], 0, out _, out _), Is.EqualTo(-ECONNRESET));
        Assert.That(c.Receive(new byte[8], 0, out _, out _), Is.Zero);
        Assert.That(c.Send("x"u8, 0, false, default), Is.EqualTo(-EPIPE));
    }

    [Test]
    public void LingerZero_Resets()
    {
        var (c, a, l) = Pair(_s);
        var lin = new byte[8];
        BitConverter.GetBytes(1).CopyTo(lin, 0);
        Assert.That(c.SetOption(SOL_SOCKET, SO_LINGER, lin), Is.Zero);
        c.Close();
        WaitFor(a, POLLERR);
        Assert.That(GetInt(a, SOL_SOCKET, SO_ERROR), Is.EqualTo(ECONNRESET));
        // No TIME_WAIT is left behind: the port is free.
        Assert.That(_s.Sockets(AF_INET, IPPROTO_TCP).Count(x => x.State == 6), Is.Zero);
    }

    [Test]
    public void BacklogFull_DropsSyns_UntilAccepted()
    {
        var l = Listen(_s, AF_INET, out var addr, backlog: 2);
        var clients = new List<IEndpoint>();
        for (int i = 0; i < 3; i++)
        {
            var c = Make(_s, AF_INET, SOCK_STREAM);
            Assert.That(Connect(c, addr), Is.Zero, $"client {i}");
            clients.Add(c);
        }
        var late = Make(_s, AF_INET, SOCK_STREAM);
        Assert.That(late.Connect(addr), Is.EqualTo(-EINPROGRESS));
        Thread.Sleep(50);
        Assert.That(late.Connect(addr), Is.EqualTo(-EALREADY), "its SYN was dropped");
        Assert.That(late.Readiness & POLLOUT, Is.Zero);
        Assert.That(l.Accept(out _, out _), Is.Zero);
        // The SYN is retransmitted after the initial RTO (1 s) and now gets in.
        WaitFor(late, POLLOUT, 5000);
        Assert.That(late.Connect(addr), Is.Zero);
    }

    [Test]
    public void TimeWait_HoldsThePort_UnlessReuseAddr()
    {
        var l = Make(_s, AF_INET, SOCK_STREAM);
        SetInt(l, SOL_SOCKET, SO_REUSEADDR, 1);
        Assert.That(l.Bind(V4("127.0.0.1", 0)), Is.Zero);
        Assert.That(l.Listen(5), Is.Zero);
        l.GetLocalAddress(out var addr);
        var c = Make(_s, AF_INET, SOCK_STREAM);
        Assert.That(Connect(c, addr), Is.Zero);
        var a = Accept(l);
        // The server closes first: its side ends in TIME_WAIT.
        a.Close();
        WaitFor(c, POLLRDHUP);
        c.Close();
        Thread.Sleep(50);
        Assert.That(_s.Sockets(AF_INET, IPPROTO_TCP).Count(x => x.State == 6 && x.Local.Port == addr.Port), Is.EqualTo(1));
        l.Close();

        var plain = Make(_s, AF_INET, SOCK_STREAM);
        Assert.That(plain.Bind(addr), Is.EqualTo(-EADDRINUSE));
        var reuse = Make(_s, AF_INET, SOCK_STREAM);
        SetInt(reuse, SOL_SOCKET, SO_REUSEADDR, 1);
        Assert.That(reuse.Bind(addr), Is.Zero);
        Assert.That(reuse.Listen(5), Is.Zero);
    }

    [Test]
    public void ReuseAddr_DoesNotAllowTwoListeners_ReusePortDoes()
    {
        var a = Make(_s, AF_INET, SOCK_STREAM);
        var b = Make(_s, AF_INET, SOCK_STREAM);
        SetInt(a, SOL_SOCKET, SO_REUSEADDR, 1);
        SetInt(b, SOL_SOCKET, SO_REUSEADDR, 1);
        Assert.That(a.Bind(V4("127.0.0.1", 0)), Is.Zero);
        a.GetLocalAddress(out var addr);
        Assert.That(a.Listen(5), Is.Zero);
        Assert.That(b.Bind(addr), Is.EqualTo(-EADDRINUSE));

        var p = Make(_s, AF_INET, SOCK_STREAM);
        var q = Make(_s, AF_INET, SOCK_STREAM);
        SetInt(p, SOL_SOCKET, SO_REUSEPORT, 1);
        SetInt(q, SOL_SOCKET, SO_REUSEPORT, 1);
        Assert.That(p.Bind(V4("127.0.0.1", 0)), Is.Zero);
        p.GetLocalAddress(out var paddr);
        Assert.That(q.Bind(paddr), Is.Zero);
        Assert.That(p.Listen(5), Is.Zero);
        Assert.That(q.Listen(5), Is.Zero);
        // Wildcard overlaps a specific address.
        var w = Make(_s, AF_INET, SOCK_STREAM);
        Assert.That(w.Bind(V4("0.0.0.0", paddr.Port)), Is.EqualTo(-EADDRINUSE));
        var other = Make(_s, AF_INET, SOCK_STREAM);
        Assert.That(other.Bind(V4("127.0.0.2", paddr.Port)), Is.Zero, "127/8 is all local, and a different address does not overlap");
        var v6 = Make(_s, AF_INET6, SOCK_STREAM);
        Assert.That(v6.Bind(V6("::", paddr.Port)), Is.EqualTo(-EADDRINUSE), ":: without V6ONLY covers IPv4");
        var v6only = Make(_s, AF_INET6, SOCK_STREAM);
        SetInt(v6only, IPPROTO_IPV6, IPV6_V6ONLY, 1);
        Assert.That(v6only.Bind(V6("::", paddr.Port)), Is.Zero);
    }

    [Test]
    public void Bind_Errors()
    {
        var a = Make(_s, AF_INET, SOCK_STREAM);
        Assert.That(a.Bind(V4("10.1.2.3", 0)), Is.EqualTo(-EADDRNOTAVAIL));
        Assert.That(a.Bind(V6("::1", 0)), Is.EqualTo(-EAFNOSUPPORT));
        Assert.That(a.Bind(V4("127.0.0.1", 0)), Is.Zero);
        Assert.That(a.Bind(V4("127.0.0.1", 0)), Is.EqualTo(-EINVAL));
        Assert.That(a.Accept(out _, out _), Is.EqualTo(-EINVAL));
        Assert.That(_s.Create(AF_INET, SOCK_DGRAM, IPPROTO_TCP, out _), Is.EqualTo(-EPROTONOSUPPORT));
        Assert.That(_s.Create(AF_INET, 5, 0, out _), Is.EqualTo(-ESOCKTNOSUPPORT));
        Assert.That(_s.Create(1, SOCK_STREAM, 0, out _), Is.EqualTo(-EAFNOSUPPORT));
    }

    [Test]
    public void Listener_ReadableWhenAcceptQueueNonEmpty_AndNotified()
    {
        var l = Listen(_s, AF_INET, out var addr);
        var w = new Waiter();
        l.Listener = w;
        Assert.That(l.Readiness, Is.Zero);
        var c = Make(_s, AF_INET, SOCK_STREAM);
        c.Connect(addr);
        w.Wait(() => (w.Seen & POLLIN) != 0);
        Assert.That(l.Readiness, Is.EqualTo(POLLIN | POLLRDNORM));
        Assert.That(l.Accept(out _, out _), Is.Zero);
        Assert.That(l.Readiness, Is.Zero);
        Assert.That(l.Accept(out _, out _), Is.EqualTo(-EAGAIN));
    }

    [Test]
    public void ReadinessNotified_OnData_Space_AndClose()
    {
        var (c, a, l) = Pair(_s);
        var wa = new Waiter(); a.Listener = wa;
        var wc = new Waiter(); c.Listener = wc;
        c.Send("abc"u8, 0, false, default);
        wa.Wait(() => (wa.Seen & POLLIN) != 0);
        // Fill c's send buffer against a reader that does not read.
        SetInt(a, SOL_SOCKET, SO_RCVBUF, 4096);
        var chunk = new byte[65536];
        long total = 0;
        while (true)
        {
            long n = c.Send(chunk, 0, false, default);
            if (n == -EAGAIN) break;
            Assert.That(n, Is.Positive);
            total += n;
            Assert.That(total, Is.LessThan(64L << 20), "send never blocked");
        }
        Assert.That(c.Readiness & POLLOUT, Is.Zero);
        wc.Seen = 0;
        var sink = new byte[1 << 20];
        long drained = 0;
        while (drained < total + 3)
        {
            long n = a.Receive(sink, 0, out _, out _);
            if (n == -EAGAIN) { Thread.Sleep(1); continue; }
            drained += n;
        }
        wc.Wait(() => (wc.Seen & POLLOUT) != 0);
        Assert.That(c.Readiness & POLLOUT, Is.Not.Zero);
        wa.Seen = 0;
        c.Close();
        wa.Wait(() => (wa.Seen & POLLRDHUP) != 0);
    }

    [Test]
    public void SocketOptions_LinuxValues()
    {
        var c = Make(_s, AF_INET, SOCK_STREAM);
        Assert.That(GetInt(c, SOL_SOCKET, SO_RCVBUF), Is.EqualTo(131072));
        Assert.That(GetInt(c, SOL_SOCKET, SO_SNDBUF), Is.EqualTo(16384));
        SetInt(c, SOL_SOCKET, SO_RCVBUF, 10000);
        Assert.That(GetInt(c, SOL_SOCKET, SO_RCVBUF), Is.EqualTo(20000));
        SetInt(c, SOL_SOCKET, SO_SNDBUF, 1 << 30);
        Assert.That(GetInt(c, SOL_SOCKET, SO_SNDBUF), Is.EqualTo(2 * 212992));
        SetInt(c, SOL_SOCKET, SO_SNDBUF, 1);
        Assert.That(GetInt(c, SOL_SOCKET, SO_SNDBUF), Is.EqualTo(4608));
        SetInt(c, IPPROTO_TCP, TCP_NODELAY, 1);
        Assert.That(GetInt(c, IPPROTO_TCP, TCP_NODELAY), Is.EqualTo(1));
        Assert.That(GetInt(c, IPPROTO_TCP, TCP_MAXSEG), Is.EqualTo(536));
        Assert.That(c.SetOption(IPPROTO_TCP, TCP_NODELAY, new byte[2]), Is.EqualTo(-EINVAL));
        Assert.That(c.SetOption(IPPROTO_TCP, 999, new byte[4]), Is.EqualTo(-ENOPROTOOPT));
        Assert.That(c.GetOption(IPPROTO_IPV6, IPV6_V6ONLY, new byte[4]), Is.EqualTo(-ENOPROTOOPT));
        var (cc, a, l) = Pair(_s);
        Assert.That(GetInt(cc, IPPROTO_TCP, TCP_MAXSEG), Is.EqualTo(32741), "lo's MTU less IPv4 and TCP headers and the timestamps option, bounded by half the SYN-ACK's window as Linux");
        var info = new byte[104];
        Assert.That(cc.GetOption(IPPROTO_TCP, TCP_INFO, info), Is.EqualTo(104));
        Assert.That(info[0], Is.EqualTo(1), "TCP_ESTABLISHED");
        var six = Make(_s, AF_INET6, SOCK_STREAM);
        Assert.That(GetInt(six, IPPROTO_IPV6, IPV6_V6ONLY), Is.Zero);
    }

    [Test]
    public void Cork_HoldsSmallWrites_UntilUncorked()
    {
        var (c, a, l) = Pair(_s);
        SetInt(c, IPPROTO_TCP, TCP_CORK, 1);
        c.Send("ab"u8, 0, false, default);
        Thread.Sleep(20);
        Assert.That(a.Available, Is.Zero);
        SetInt(c, IPPROTO_TCP, TCP_CORK, 0);
        WaitFor(a, POLLIN);
        Assert.That(a.Available, Is.EqualTo(2));
    }

    [Test]
    public void ManyConnections_StayBounded()
    {
        var l = Listen(_s, AF_INET, out var addr, backlog: 4096);
        var list = new List<IEndpoint>();
        long before = GC.GetTotalMemory(true);
        for (int i = 0; i < 2000; i++)
        {
            var c = Make(_s, AF_INET, SOCK_STREAM);
            Assert.That(Connect(c, addr), Is.Zero);
            list.Add(c);
            list.Add(Accept(l));
        }
        long after = GC.GetTotalMemory(true);
        Assert.That((after - before) / 4000, Is.LessThan(8192), "an idle connection holds no buffers");
        foreach (var e in list) e.Close();
    }

    [Test]
    public void ConnectionRate_CloseByClient_PortsDoNotRunOut()
    {
        var l = Listen(_s, AF_INET, out var addr, backlog: 128);
        for (int i = 0; i < 3000; i++)
        {
            var c = Make(_s, AF_INET, SOCK_STREAM);
            Assert.That(Connect(c, addr), Is.Zero, $"connection {i}");
            var a = Accept(l);
            c.Close();
            a.Close();
        }
    }

    [Test]
    public void Disconnect_Resets_AndAllowsReconnect()
    {
        var (c, a, l) = Pair(_s);
        Assert.That(c.Disconnect(), Is.Zero);
        WaitFor(a, POLLERR);
        Assert.That(Connect(c, (l.GetLocalAddress(out var la), la).la), Is.Zero);
    }
}

/// <summary>The listener is called outside the endpoint's lock: another thread can read Readiness meanwhile.</summary>
public sealed class ListenerLockTests
{
    sealed class Probe(IEndpoint e) : IEndpointListener
    {
        public int Blocked, Calls;
        public void OnReadiness(int events)
        {
            Calls++;
            var t = new Thread(() => _ = e.Readiness);
            t.Start();
            if (!t.Join(2000)) Blocked++;
        }
    }

    [Test]
    public void OnReadiness_IsNotCalledUnderTheEndpointLock()
    {
        using var s = NetStack.Loopback();
        var l = Listen(s, AF_INET, out var addr);
        var pl = new Probe(l); l.Listener = pl;
        var c = Make(s, AF_INET, SOCK_STREAM);
        var pc = new Probe(c); c.Listener = pc;
        Assert.That(Connect(c, addr), Is.Zero);
        var a = Accept(l);
        var pa = new Probe(a); a.Listener = pa;
        c.Send("x"u8, 0, false, default);
        a.Send("y"u8, 0, false, default);
        c.Shutdown(1);
        a.Close();
        Thread.Sleep(50);
        Assert.That(pl.Calls + pc.Calls + pa.Calls, Is.GreaterThan(3));
        Assert.That(pl.Blocked + pc.Blocked + pa.Blocked, Is.Zero);
    }
}

public sealed class MemoryTests
{
    [Test]
    public void UnderMemoryPressure_WindowsClose_AndEverythingStillArrives()
    {
        using var s = new NetworkStack();
        s.AddLoopback();
        s.MemoryPressureBytes = 4 << 20;
        var l = Listen(s, AF_INET, out var addr, 256);
        var pairs = new List<(IEndpoint C, IEndpoint A)>();
        for (int i = 0; i < 100; i++)
        {
            var c = Make(s, AF_INET, SOCK_STREAM);
            Assert.That(Connect(c, addr), Is.Zero);
            pairs.Add((c, Accept(l)));
        }
        // Nobody reads: every sender fills what it is allowed.
        var chunk = new byte[65536];
        for (int k = 0; k < chunk.Length; k++) chunk[k] = (byte)k;
        var sent = new long[pairs.Count];
        for (int i = 0; i < pairs.Count; i++)
            while (true)
            {
                long n = pairs[i].C.Send(chunk, 0, false, default);
                if (n == -EAGAIN) break;
                Assert.That(n, Is.Positive);
                sent[i] += n;
                Assert.That(sent[i], Is.LessThan(64L << 20));
            }
        TestContext.Out.WriteLine($"buffered {s.BufferedBytes >> 10} KiB for {pairs.Count} connections, {sent.Sum() >> 10} KiB sent");
        Assert.That(s.BufferedBytes, Is.LessThan(32L << 20), "bounded near the pressure limit, not 100 x 2 MiB");
        // Drain every connection: the bytes are all there and in order.
        var buf = new byte[1 << 20];
        for (int i = 0; i < pairs.Count; i++)
        {
            long got = 0;
            var deadline = Environment.TickCount64 + 20000;
            while (got < sent[i])
            {
                long n = pairs[i].A.Receive(buf, 0, out _, out _);
                if (n == -EAGAIN) { Assert.That(Environment.TickCount64, Is.LessThan(deadline), $"connection {i} stuck at {got}/{sent[i]}"); Thread.Sleep(1); continue; }
                Assert.That(n, Is.Positive);
                for (int k = 0; k < n; k++) if (buf[k] != (byte)((got + k) % 65536)) Assert.Fail($"connection {i} byte {got + k}");
                got += n;
            }
        }
        foreach (var (c, a) in pairs) { c.Close(); a.Close(); }
    }
}

public sealed class ConcurrencyTests
{
    [Test]
    public void ManyThreads_ConnectEchoClose_NoDeadlockNoLoss()
    {
        using var s = NetStack.Loopback();
        var l = Make(s, AF_INET6, SOCK_STREAM);
        Assert.That(l.Bind(V6("::", 0)), Is.Zero);
        Assert.That(l.Listen(1024), Is.Zero);
        l.GetLocalAddress(out var addr);
        addr = V6("::1", addr.Port);
        using var cts = new CancellationTokenSource();
        int served = 0;
        var acceptor = new Thread(() =>
        {
            while (!cts.IsCancellationRequested)
            {
                long r = l.Accept(out var a, out _);
                if (r == -EAGAIN) { Thread.Yield(); continue; }
                var conn = a!;
                ThreadPool.QueueUserWorkItem(state =>
                {
                    var buf = new byte[4096];
                    while (true)
                    {
                        long n;
                        try { n = conn.Receive(buf, 0, out _, out _); } catch { break; }
                        if (n == -EAGAIN) { WaitFor(conn, POLLIN | POLLRDHUP | POLLERR | POLLHUP, 20000); continue; }
                        if (n <= 0) break;
                        SendAll(conn, buf.AsSpan(0, (int)n));
                    }
                    conn.Close();
                    Interlocked.Increment(ref served);
                });
            }
        });
        acceptor.Start();
        var errors = new List<string>();
        var clients = Enumerable.Range(0, 6).Select(t => new Thread(() =>
        {
            var rnd = new Random(t);
            for (int i = 0; i < 60; i++)
            {
                var c = Make(s, rnd.Next(2) == 0 ? AF_INET6 : AF_INET, SOCK_STREAM);
                var to = c.Family == AF_INET ? V4("127.0.0.1", addr.Port) : addr;
                if (Connect(c, to, 20000) != 0) { lock (errors) errors.Add("connect"); continue; }
                var msg = new byte[rnd.Next(1, 200_000)];
                rnd.NextBytes(msg);
                var back = new byte[msg.Length];
                int got = 0;
                var reader = new Thread(() => got = RecvAll(c, back, 20000));
                reader.Start();
                SendAll(c, msg, 20000);
                reader.Join();
                if (got != msg.Length || !back.AsSpan().SequenceEqual(msg)) lock (errors) errors.Add($"echo {got}/{msg.Length}");
                if (rnd.Next(3) == 0) c.Shutdown(1);
                c.Close();
            }
        })).ToList();
        clients.ForEach(t => t.Start());
        foreach (var t in clients) Assert.That(t.Join(120_000), Is.True, "a client thread hung");
        cts.Cancel();
        acceptor.Join();
        Assert.That(errors, Is.Empty);
    }
}

public sealed class NotificationTests
{
    [Test]
    public void EveryArrival_IsNotified_EvenWhenAlreadyReadable()
    {
        using var s = NetStack.Loopback();
        var (c, a, l) = Pair(s);
        SetInt(c, IPPROTO_TCP, TCP_NODELAY, 1);
        var w = new Waiter();
        a.Listener = w;
        for (int i = 0; i < 5; i++) c.Send("x"u8, 0, false, default);
        w.Wait(() => w.Events.Count(e => (e & POLLIN) != 0) >= 5);
        Assert.That(a.Available, Is.EqualTo(5));
    }

    [Test]
    public void ConnectCompletion_IsNotifiedWithPollout()
    {
        using var s = NetStack.Loopback();
        var l = Listen(s, AF_INET6, out var addr);
        var c = Make(s, AF_INET6, SOCK_STREAM);
        var w = new Waiter();
        c.Listener = w;
        Assert.That(c.Connect(addr), Is.EqualTo(-EINPROGRESS));
        w.Wait(() => (w.Seen & POLLOUT) != 0);
        Assert.That(c.Connect(addr), Is.Zero);
    }

    [Test]
    public void PingV6_AndIcmpEchoAnswered()
    {
        using var s = NetStack.Loopback();
        Assert.That(s.Create(AF_INET6, SOCK_DGRAM, 58, out var p), Is.Zero);
        var req = new byte[12];
        req[0] = 128; req[7] = 9;
        Assert.That(p!.Send(req, 0, true, V6("::1", 0)), Is.EqualTo(12));
        var buf = new byte[64];
        Assert.That(p.Receive(buf, 0, out var from, out _), Is.EqualTo(12));
        Assert.That(buf[0], Is.EqualTo(129));
        Assert.That(from.ToString(), Does.StartWith("[::1]"));
    }
}

public sealed class TableTests
{
    [Test]
    public void Sockets_ListsListenersConnectionsAndUdp_AsProcNetDoes()
    {
        using var s = NetStack.Loopback();
        var l = Listen(s, AF_INET, out var addr);
        var (c, a, _) = (Make(s, AF_INET, SOCK_STREAM), (IEndpoint?)null, 0);
        Assert.That(Connect(c, addr), Is.Zero);
        a = Accept(l);
        c.Send("abc"u8, 0, false, default);
        WaitFor(a, POLLIN);
        var u = Make(s, AF_INET, SOCK_DGRAM);
        u.Bind(V4("127.0.0.1", 0));
        var tcp = s.Sockets(AF_INET, IPPROTO_TCP);
        Assert.That(tcp.Count(x => x.State == 10 && x.Local == addr), Is.EqualTo(1), "the listener");
        Assert.That(tcp.Count(x => x.State == 1), Is.EqualTo(2), "both ends");
        Assert.That(tcp.Single(x => x.State == 1 && x.Local == addr).ReceiveQueue, Is.EqualTo(3));
        Assert.That(s.Sockets(AF_INET6, IPPROTO_TCP), Is.Empty);
        var udp = s.Sockets(AF_INET, 17);
        Assert.That(udp.Count, Is.EqualTo(1));
        Assert.That(udp[0].State, Is.EqualTo(7));
        var lo = s.Interfaces.Single();
        Assert.That(lo.Name, Is.EqualTo("lo"));
        Assert.That(lo.Counters.RxPackets, Is.Positive);
        Assert.That(lo.Counters.RxPackets, Is.EqualTo(lo.Counters.TxPackets), "lo counts each packet both ways");
    }

    [Test]
    public void ReusePortListeners_ShareTheConnections()
    {
        using var s = NetStack.Loopback();
        var ls = new List<IEndpoint>();
        ushort port = 0;
        for (int i = 0; i < 2; i++)
        {
            var l = Make(s, AF_INET, SOCK_STREAM);
            SetInt(l, SOL_SOCKET, SO_REUSEPORT, 1);
            Assert.That(l.Bind(V4("127.0.0.1", port)), Is.Zero);
            Assert.That(l.Listen(64), Is.Zero);
            l.GetLocalAddress(out var la);
            port = la.Port;
            ls.Add(l);
        }
        for (int i = 0; i < 40; i++)
        {
            var c = Make(s, AF_INET, SOCK_STREAM);
            Assert.That(Connect(c, V4("127.0.0.1", port)), Is.Zero);
        }
        int n0 = 0, n1 = 0;
        while (ls[0].Accept(out _, out _) == 0) n0++;
        while (ls[1].Accept(out _, out _) == 0) n1++;
        Assert.That(n0 + n1, Is.EqualTo(40));
        Assert.That(n0, Is.Positive);
        Assert.That(n1, Is.Positive);
    }
}
