using System.Net;
using System.Runtime.InteropServices;
using Sentry.Net.Stack;
using static Sentry.Net.Tests.Net;
using static Sentry.Platform.Errno;

namespace Sentry.Net.Tests;

/// <summary>
/// The same scenario against the host's Linux sockets (raw syscalls) and against the stack, where
/// Linux's answer is the specification: readiness bits, errnos, option values.
/// </summary>
public sealed unsafe class HostComparisonTests
{
    // ---- a minimal IEndpoint-shaped view of host sockets
    [DllImport("libc", SetLastError = true)] static extern int socket(int d, int t, int p);
    [DllImport("libc", SetLastError = true)] static extern int bind(int fd, byte* a, int len);
    [DllImport("libc", SetLastError = true)] static extern int listen(int fd, int b);
    [DllImport("libc", SetLastError = true)] static extern int connect(int fd, byte* a, int len);
    [DllImport("libc", SetLastError = true)] static extern int accept4(int fd, byte* a, int* len, int flags);
    [DllImport("libc", SetLastError = true)] static extern int getsockname(int fd, byte* a, int* len);
    [DllImport("libc", SetLastError = true)] static extern nint send(int fd, byte* b, nint n, int f);
    [DllImport("libc", SetLastError = true)] static extern nint sendto(int fd, byte* b, nint n, int f, byte* a, int len);
    [DllImport("libc", SetLastError = true)] static extern nint recv(int fd, byte* b, nint n, int f);
    [DllImport("libc", SetLastError = true)] static extern int shutdown(int fd, int how);
    [DllImport("libc", SetLastError = true)] static extern int close(int fd);
    [DllImport("libc", SetLastError = true)] static extern int poll(long* fds, int n, int timeout);
    [DllImport("libc", SetLastError = true)] static extern int setsockopt(int fd, int l, int n, byte* v, int len);
    [DllImport("libc", SetLastError = true)] static extern int getsockopt(int fd, int l, int n, byte* v, int* len);

    const int SOCK_NONBLOCK = 0x800;

    static long R(long r) => r < 0 ? -Marshal.GetLastPInvokeError() : r;

    static byte[] Sa(SockAddrInet a)
    {
        var b = new byte[a.Family == AF_INET ? 16 : 28];
        BitConverter.GetBytes((ushort)a.Family).CopyTo(b, 0);
        b[2] = (byte)(a.Port >> 8); b[3] = (byte)a.Port;
        a.WriteAddress(b.AsSpan(a.Family == AF_INET ? 4 : 8));
        return b;
    }

    static int HostPoll(int fd)
    {
        long pfd = (long)(uint)fd | (0x2000L | 7) << 32;
        poll(&pfd, 1, 0);
        return (int)(pfd >> 48) & 0xFFFF;
    }

    static ushort HostPort(int fd)
    {
        var b = new byte[28];
        int len = 28;
        fixed (byte* p = b) getsockname(fd, p, &len);
        return (ushort)(b[2] << 8 | b[3]);
    }

    static long HostConnect(int fd, SockAddrInet a) { var s = Sa(a); fixed (byte* p = s) return R(connect(fd, p, s.Length)); }
    static long HostBind(int fd, SockAddrInet a) { var s = Sa(a); fixed (byte* p = s) return R(bind(fd, p, s.Length)); }
    static void HostSetInt(int fd, int l, int n, int v) => setsockopt(fd, l, n, (byte*)&v, 4);
    static int HostGetInt(int fd, int l, int n) { int v = 0, len = 4; getsockopt(fd, l, n, (byte*)&v, &len); return v; }

    static bool HostWorks()
    {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) return false;
        close(fd);
        return true;
    }

    INetworkStack _s = null!;
    [SetUp] public void SetUp()
    {
        if (!HostWorks()) Assert.Ignore("no host sockets");
        _s = NetStack.Loopback();
    }
    [TearDown] public void TearDown() => _s?.Dispose();

    const int Mask = 0x1F | 0x2000; // IN PRI OUT ERR HUP RDHUP

    [Test]
    public void FreshTcpSocket()
    {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        var e = Make(_s, AF_INET, SOCK_STREAM);
        Assert.That(e.Readiness & Mask, Is.EqualTo(HostPoll(fd) & Mask));
        Assert.That(GetInt(e, SOL_SOCKET, SO_RCVBUF), Is.EqualTo(HostGetInt(fd, SOL_SOCKET, SO_RCVBUF)));
        Assert.That(GetInt(e, SOL_SOCKET, SO_SNDBUF), Is.EqualTo(HostGetInt(fd, SOL_SOCKET, SO_SNDBUF)));
        // Values above net.core.rmem_max/wmem_max depend on the host's sysctls (the stack has Linux's defaults).
        foreach (int v in new[] { 0, 1, 1000, 100000 })
        {
            HostSetInt(fd, SOL_SOCKET, SO_RCVBUF, v); SetInt(e, SOL_SOCKET, SO_RCVBUF, v);
            HostSetInt(fd, SOL_SOCKET, SO_SNDBUF, v); SetInt(e, SOL_SOCKET, SO_SNDBUF, v);
            Assert.That(GetInt(e, SOL_SOCKET, SO_RCVBUF), Is.EqualTo(HostGetInt(fd, SOL_SOCKET, SO_RCVBUF)), $"SO_RCVBUF {v}");
            Assert.That(GetInt(e, SOL_SOCKET, SO_SNDBUF), Is.EqualTo(HostGetInt(fd, SOL_SOCKET, SO_SNDBUF)), $"SO_SNDBUF {v}");
        }
        Assert.That(GetInt(e, IPPROTO_TCP, TCP_MAXSEG), Is.EqualTo(HostGetInt(fd, IPPROTO_TCP, TCP_MAXSEG)));
        close(fd);
    }

    [Test]
    public void RefusedConnect()
    {
        // A port nobody listens on, host and stack alike.
        int probe = socket(AF_INET, SOCK_STREAM, 0);
        HostBind(probe, V4("127.0.0.1", 0));
        ushort port = HostPort(probe);
        close(probe);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        long hr = HostConnect(fd, V4("127.0.0.1", port));
        var e = Make(_s, AF_INET, SOCK_STREAM);
        long sr = e.Connect(V4("127.0.0.1", port));
        Assert.That(sr, Is.EqualTo(hr));
        Thread.Sleep(50);
        Assert.That(e.Readiness & Mask, Is.EqualTo(HostPoll(fd) & Mask));
        Assert.That(GetInt(e, SOL_SOCKET, SO_ERROR), Is.EqualTo(HostGetInt(fd, SOL_SOCKET, SO_ERROR)));
        Assert.That(e.Readiness & Mask, Is.EqualTo(HostPoll(fd) & Mask), "after SO_ERROR is read");
        Assert.That(e.Connect(V4("127.0.0.1", port)), Is.EqualTo(HostConnect(fd, V4("127.0.0.1", port))), "connect again");
        close(fd);
    }

    /// <summary>Connected pair on the host: (client, server, listener).</summary>
    static (int, int, int) HostPair()
    {
        int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        HostBind(l, V4("127.0.0.1", 0));
        listen(l, 16);
        int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        HostConnect(c, V4("127.0.0.1", HostPort(l)));
        Thread.Sleep(20);
        int a = accept4(l, null, null, SOCK_NONBLOCK);
        return (c, a, l);
    }

    static byte[] Buf = new byte[1 << 16];
    static long HostSend(int fd, ReadOnlySpan<byte> d) { fixed (byte* p = d) return R(send(fd, p, d.Length, 0x4000)); }
    static long HostRecv(int fd, int n = 4096, int flags = 0) { fixed (byte* p = Buf) return R(recv(fd, p, n, flags)); }

    [Test]
    public void LifecycleReadiness_MatchesHost()
    {
        var (hc, ha, hl) = HostPair();
        var (c, a, l) = Pair(_s);
        void Same(string what)
        {
            Thread.Sleep(30);
            Assert.That(c.Readiness & Mask, Is.EqualTo(HostPoll(hc) & Mask), $"client {what}");
            Assert.That(a.Readiness & Mask, Is.EqualTo(HostPoll(ha) & Mask), $"server {what}");
        }
        Same("connected");
        Assert.That(GetInt(c, IPPROTO_TCP, TCP_MAXSEG), Is.EqualTo(HostGetInt(hc, IPPROTO_TCP, TCP_MAXSEG)), "TCP_MAXSEG when connected");
        Assert.That(GetInt(a, IPPROTO_TCP, TCP_MAXSEG), Is.EqualTo(HostGetInt(ha, IPPROTO_TCP, TCP_MAXSEG)), "TCP_MAXSEG of the accepted socket");
        var hinfo = new byte[104]; int hlen = 104;
        fixed (byte* hp = hinfo) getsockopt(hc, IPPROTO_TCP, TCP_INFO, hp, &hlen);
        var info = new byte[104];
        c.GetOption(IPPROTO_TCP, TCP_INFO, info);
        Assert.That(info[0], Is.EqualTo(hinfo[0]), "tcpi_state");
        Assert.That(info[5] & 5, Is.EqualTo(hinfo[5] & 5), "tcpi_options: timestamps, window scaling");
        Assert.That(l.Readiness & Mask, Is.EqualTo(HostPoll(hl) & Mask), "listener after accept");
        HostSend(hc, "data"u8); c.Send("data"u8, 0, false, default);
        Same("data sent");
        Assert.That(a.Receive(Buf, 0, out _, out _), Is.EqualTo(HostRecv(ha)));
        Same("data read");
        shutdown(hc, 1); c.Shutdown(1);
        Same("client SHUT_WR");
        Assert.That(a.Receive(Buf, 0, out _, out _), Is.EqualTo(HostRecv(ha)), "EOF");
        Assert.That(c.Send("x"u8, 0, false, default), Is.EqualTo(HostSend(hc, "x"u8)), "send after SHUT_WR");
        HostSend(ha, "reply"u8); a.Send("reply"u8, 0, false, default);
        Same("server replied");
        shutdown(ha, 2); a.Shutdown(2);
        Same("server SHUT_RDWR");
        Assert.That(c.Receive(Buf, 0, out _, out _), Is.EqualTo(HostRecv(hc)), "reply");
        Assert.That(c.Receive(Buf, 0, out _, out _), Is.EqualTo(HostRecv(hc)), "EOF at client");
        Assert.That(a.Receive(Buf, 0, out _, out _), Is.EqualTo(HostRecv(ha)), "recv after SHUT_RDWR");
        close(hc); close(ha); close(hl);
    }

    [Test]
    public void ResetByUnreadClose_MatchesHost()
    {
        var (hc, ha, hl) = HostPair();
        var (c, a, l) = Pair(_s);
        HostSend(hc, "unread"u8); c.Send("unread"u8, 0, false, default);
        Thread.Sleep(20);
        close(ha); a.Close();
        Thread.Sleep(30);
        Assert.That(c.Readiness & Mask, Is.EqualTo(HostPoll(hc) & Mask), "after RST");
        Assert.That(c.Send("x"u8, 0, false, default), Is.EqualTo(HostSend(hc, "x"u8)), "send after RST");
        Assert.That(c.Receive(Buf, 0, out _, out _), Is.EqualTo(HostRecv(hc)), "first recv");
        Assert.That(c.Receive(Buf, 0, out _, out _), Is.EqualTo(HostRecv(hc)), "second recv");
        Assert.That(c.Readiness & Mask, Is.EqualTo(HostPoll(hc) & Mask), "at the end");
        close(hc); close(hl);
    }

    [Test]
    public void Backlog_MatchesHost()
    {
        foreach (int backlog in new[] { 0, 1, 3 })
        {
            int hl = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            HostBind(hl, V4("127.0.0.1", 0));
            listen(hl, backlog);
            var hostOk = 0;
            var hostFds = new List<int>();
            for (int i = 0; i < backlog + 4; i++)
            {
                int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
                HostConnect(c, V4("127.0.0.1", HostPort(hl)));
                hostFds.Add(c);
            }
            Thread.Sleep(100);
            foreach (var c in hostFds) if ((HostPoll(c) & 4) != 0) hostOk++;
            var l = Listen(_s, AF_INET, out var addr, backlog);
            var ours = new List<IEndpoint>();
            for (int i = 0; i < backlog + 4; i++) { var c = Make(_s, AF_INET, SOCK_STREAM); c.Connect(addr); ours.Add(c); }
            Thread.Sleep(100);
            int ok = ours.Count(c => (c.Readiness & POLLOUT) != 0);
            Assert.That(ok, Is.EqualTo(hostOk), $"backlog {backlog}: connections that completed");
            foreach (var c in hostFds) close(c);
            close(hl);
        }
    }

    [Test]
    public void Udp_MatchesHost()
    {
        int hs = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        var e = Make(_s, AF_INET, SOCK_DGRAM);
        Assert.That(e.Readiness & Mask, Is.EqualTo(HostPoll(hs) & Mask), "fresh");
        Assert.That(e.Shutdown(1), Is.EqualTo(R(shutdown(hs, 1))), "shutdown unconnected");
        Assert.That(e.Readiness & Mask, Is.EqualTo(HostPoll(hs) & Mask), "after shutdown");
        Assert.That(GetInt(e, SOL_SOCKET, SO_RCVBUF), Is.EqualTo(HostGetInt(hs, SOL_SOCKET, SO_RCVBUF)));
        Assert.That(GetInt(e, SOL_SOCKET, SO_SNDBUF), Is.EqualTo(HostGetInt(hs, SOL_SOCKET, SO_SNDBUF)));
        close(hs);

        // Connected to a closed port: the ICMP error.
        int probe = socket(AF_INET, SOCK_DGRAM, 0);
        HostBind(probe, V4("127.0.0.1", 0));
        ushort port = HostPort(probe);
        close(probe);
        hs = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        var u = Make(_s, AF_INET, SOCK_DGRAM);
        Assert.That(u.Connect(V4("127.0.0.1", port)), Is.EqualTo(HostConnect(hs, V4("127.0.0.1", port))));
        Assert.That(u.Send("x"u8, 0, false, default), Is.EqualTo(HostSend(hs, "x"u8)));
        Thread.Sleep(20);
        Assert.That(u.Readiness & Mask, Is.EqualTo(HostPoll(hs) & Mask), "after the port unreachable");
        Assert.That(u.Send("x"u8, 0, false, default), Is.EqualTo(HostSend(hs, "x"u8)), "send with the error pending");
        Assert.That(u.Send("x"u8, 0, false, default), Is.EqualTo(HostSend(hs, "x"u8)), "send again");
        Thread.Sleep(20);
        Assert.That(u.Receive(Buf, 0, out _, out _), Is.EqualTo(HostRecv(hs)), "recv with the error pending");
        Assert.That(u.Receive(Buf, 0, out _, out _), Is.EqualTo(HostRecv(hs)), "recv again");
        close(hs);

        // An error pending while datagrams wait: which comes first.
        hs = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        HostBind(hs, V4("127.0.0.1", 0));
        var u2 = Make(_s, AF_INET, SOCK_DGRAM);
        u2.Bind(V4("127.0.0.1", 0));
        u2.GetLocalAddress(out var u2a);
        int hsender = socket(AF_INET, SOCK_DGRAM, 0);
        var sender = Make(_s, AF_INET, SOCK_DGRAM);
        var hsa = Sa(V4("127.0.0.1", HostPort(hs)));
        fixed (byte* pd = "queued"u8) fixed (byte* pa = hsa) sendto(hsender, pd, 6, 0, pa, hsa.Length);
        sender.Send("queued"u8, 0, true, u2a);
        HostConnect(hs, V4("127.0.0.1", port)); u2.Connect(V4("127.0.0.1", port));
        HostConnect(hsender, V4("127.0.0.1", HostPort(hs))); // keeps the datagram acceptable after connect
        HostSend(hs, "x"u8); u2.Send("x"u8, 0, false, default);
        Thread.Sleep(20);
        Assert.That(u2.Readiness & Mask, Is.EqualTo(HostPoll(hs) & Mask), "error and datagram");
        Assert.That(u2.Receive(Buf, 0, out _, out _), Is.EqualTo(HostRecv(hs)), "first recv");
        Assert.That(u2.Receive(Buf, 0, out _, out _), Is.EqualTo(HostRecv(hs)), "second recv");
        close(hs); close(hsender);
    }

    [Test]
    public void ConnectAgain_AndOddCalls_MatchHost()
    {
        int hl = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        HostBind(hl, V4("127.0.0.1", 0));
        listen(hl, 8);
        var hto = V4("127.0.0.1", HostPort(hl));
        var l = Listen(_s, AF_INET, out var to);
        int hc = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        var c = Make(_s, AF_INET, SOCK_STREAM);
        Assert.That(c.Connect(to), Is.EqualTo(HostConnect(hc, hto)), "first connect");
        Thread.Sleep(20);
        Assert.That(c.Connect(to), Is.EqualTo(HostConnect(hc, hto)), "second connect");
        Assert.That(c.Connect(to), Is.EqualTo(HostConnect(hc, hto)), "third connect");
        Assert.That(c.Bind(V4("127.0.0.1", 0)), Is.EqualTo(HostBind(hc, V4("127.0.0.1", 0))), "bind when connected");
        Assert.That(c.Listen(5), Is.EqualTo(R(listen(hc, 5))), "listen when connected");
        Assert.That(l.Receive(Buf, 0, out _, out _), Is.EqualTo(HostRecv(hl)), "recv on a listener");
        Assert.That(l.Send("x"u8, 0, false, default), Is.EqualTo(HostSend(hl, "x"u8)), "send on a listener");
        Assert.That(l.Connect(to), Is.EqualTo(HostConnect(hl, hto)), "connect on a listener");
        Assert.That(c.Receive(Buf, 1, out _, out _), Is.EqualTo(HostRecv(hc, 4096, 1)), "MSG_OOB without urgent data");
        close(hc); close(hl);
    }

    [Test]
    public void ListenerShutdownAndClose_MatchHost()
    {
        int hl = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        HostBind(hl, V4("127.0.0.1", 0));
        listen(hl, 8);
        int hc = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        HostConnect(hc, V4("127.0.0.1", HostPort(hl)));
        var l = Listen(_s, AF_INET, out var to);
        var c = Make(_s, AF_INET, SOCK_STREAM);
        c.Connect(to);
        Thread.Sleep(20);
        Assert.That(l.Readiness & Mask, Is.EqualTo(HostPoll(hl) & Mask), "listener with a pending connection");
        Assert.That(l.Shutdown(1), Is.EqualTo(R(shutdown(hl, 1))), "SHUT_WR on a listener");
        Assert.That(l.Readiness & Mask, Is.EqualTo(HostPoll(hl) & Mask), "after SHUT_WR");
        close(hl); l.Close();
        Thread.Sleep(20);
        Assert.That(c.Readiness & Mask, Is.EqualTo(HostPoll(hc) & Mask), "client of a closed listener");
        Assert.That(c.Receive(Buf, 0, out _, out _), Is.EqualTo(HostRecv(hc)), "recv");
        close(hc);

        hl = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        HostBind(hl, V4("127.0.0.1", 0));
        listen(hl, 8);
        var l2 = Listen(_s, AF_INET, out _);
        Assert.That(l2.Shutdown(0), Is.EqualTo(R(shutdown(hl, 0))), "SHUT_RD on a listener");
        Assert.That(l2.Readiness & Mask, Is.EqualTo(HostPoll(hl) & Mask), "after SHUT_RD");
        Assert.That(l2.Accept(out _, out _), Is.EqualTo(R(accept4(hl, null, null, 0))), "accept after SHUT_RD");
        close(hl);
    }

    [Test]
    public void BindRules_MatchHost()
    {
        // Dual-stack and wildcard overlaps, for UDP and TCP.
        foreach (int type in new[] { SOCK_STREAM, SOCK_DGRAM })
        {
            int h1 = socket(AF_INET, type, 0);
            HostBind(h1, V4("127.0.0.1", 0));
            ushort hp = HostPort(h1);
            var e1 = Make(_s, type == SOCK_STREAM ? AF_INET : AF_INET, type);
            e1.Bind(V4("127.0.0.1", 0));
            e1.GetLocalAddress(out var ea);
            (int Fam, string Ip, int V6Only)[] cases = { (AF_INET, "0.0.0.0", 0), (AF_INET6, "::", 0), (AF_INET6, "::", 1), (AF_INET6, "::ffff:127.0.0.1", 0), (AF_INET, "127.0.0.2", 0) };
            foreach (var (fam, ip, v6only) in cases)
            {
                int h = socket(fam, type, 0);
                var e = Make(_s, fam, type);
                if (v6only != 0) { HostSetInt(h, IPPROTO_IPV6, IPV6_V6ONLY, 1); SetInt(e, IPPROTO_IPV6, IPV6_V6ONLY, 1); }
                long hr = HostBind(h, fam == AF_INET ? V4(ip, hp) : V6(ip, hp));
                long er = e.Bind(fam == AF_INET ? V4(ip, ea.Port) : V6(ip, ea.Port));
                Assert.That(er, Is.EqualTo(hr), $"type {type}: {ip} v6only={v6only} beside 127.0.0.1");
                close(h);
                e.Close();
            }
            close(h1);
        }
    }

    [Test]
    public void TimeWait_ClientClosesFirst_MatchHost()
    {
        var (hc, ha, hl) = HostPair();
        var (c, a, l) = Pair(_s);
        c.GetLocalAddress(out var cport);
        ushort hcport = HostPort(hc);
        close(hc); c.Close();
        Thread.Sleep(20);
        close(ha); a.Close();
        Thread.Sleep(20);
        foreach (int reuse in new[] { 0, 1 })
        {
            int h = socket(AF_INET, SOCK_STREAM, 0);
            var e = Make(_s, AF_INET, SOCK_STREAM);
            if (reuse != 0) { HostSetInt(h, SOL_SOCKET, SO_REUSEADDR, 1); SetInt(e, SOL_SOCKET, SO_REUSEADDR, 1); }
            Assert.That(e.Bind(V4("127.0.0.1", cport.Port)), Is.EqualTo(HostBind(h, V4("127.0.0.1", hcport))), $"bind the TIME_WAIT port, SO_REUSEADDR={reuse}");
            close(h); e.Close();
        }
        close(hl);
    }
}
