using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using Sentry.Net.Stack;
using static Sentry.Net.Tests.Net;
using static Sentry.Platform.Errno;

namespace Sentry.Net.Tests;

/// <summary>One end of a wire between two stacks that loses, duplicates and reorders frames.</summary>
sealed class LossyLink : ILinkEndpoint, IDisposable
{
    public LossyLink? Peer;
    ILinkDispatcher? _d;
    readonly Random _rnd;
    public double Drop;
    readonly double _dup, _reorder;
    readonly BlockingCollection<byte[]> _q = new();
    readonly Thread _t;
    byte[]? _held;
    public long Written, Dropped;

    public LossyLink(int seed, double drop, double dup, double reorder)
    {
        _rnd = new Random(seed);
        Drop = drop; _dup = dup; _reorder = reorder;
        _t = new Thread(Run) { IsBackground = true };
        _t.Start();
    }

    public int Mtu => 1500;
    public LinkCapabilities Capabilities => LinkCapabilities.None;
    public byte[] HardwareAddress { get; } = new byte[6];
    public void Attach(ILinkDispatcher d) => _d = d;

    public void WriteFrame(ReadOnlySpan<byte> frame)
    {
        lock (_rnd)
        {
            Written++;
            if (_rnd.NextDouble() < Drop) { Dropped++; return; }
            var copy = frame.ToArray();
            if (_rnd.NextDouble() < _reorder && _held == null) { _held = copy; return; }
            Peer!._q.Add(copy);
            if (_rnd.NextDouble() < _dup) Peer._q.Add(copy);
            if (_held != null) { Peer._q.Add(_held); _held = null; }
        }
    }

    void Run()
    {
        try
        {
            foreach (var f in _q.GetConsumingEnumerable()) _d?.DeliverFrame(this, f);
        }
        catch (ObjectDisposedException) { }
        catch (InvalidOperationException) { }
    }

    public void Flush() { lock (_rnd) if (_held != null) { Peer!._q.Add(_held); _held = null; } }
    public void Dispose() => _q.CompleteAdding();
}

public sealed class LinkTests
{
    static (NetworkStack A, NetworkStack B, LossyLink La, LossyLink Lb) TwoStacks(double drop, double dup, double reorder)
    {
        var la = new LossyLink(1, drop, dup, reorder);
        var lb = new LossyLink(2, drop, dup, reorder);
        la.Peer = lb; lb.Peer = la;
        var a = new NetworkStack();
        var b = new NetworkStack();
        int ia = a.AddInterface("eth0", la);
        int ib = b.AddInterface("eth0", lb);
        a.AddAddress(ia, V4("10.0.0.1", 0), 24);
        b.AddAddress(ib, V4("10.0.0.2", 0), 24);
        a.AddAddress(ia, V6("fd00::1", 0), 64);
        b.AddAddress(ib, V6("fd00::2", 0), 64);
        return (a, b, la, lb);
    }

    [TestCase(AF_INET)]
    [TestCase(AF_INET6)]
    public void LossyLink_DeliversTheStreamIntact(int family)
    {
        var (sa, sb, la, lb) = TwoStacks(drop: 0.05, dup: 0.02, reorder: 0.05);
        try
        {
            var l = Make(sb, family, SOCK_STREAM);
            Assert.That(l.Bind(family == AF_INET ? V4("0.0.0.0", 8080) : V6("::", 8080)), Is.Zero);
            Assert.That(l.Listen(5), Is.Zero);
            var c = Make(sa, family, SOCK_STREAM);
            Assert.That(Connect(c, family == AF_INET ? V4("10.0.0.2", 8080) : V6("fd00::2", 8080), 30000), Is.Zero);
            var srv = Accept(l, 30000);
            var data = new byte[1 << 20];
            new Random(3).NextBytes(data);
            var got = new byte[data.Length];
            int n = 0;
            var reader = new Thread(() => n = RecvAll(srv, got, 120000));
            reader.Start();
            SendAll(c, data, 120000);
            c.Shutdown(1);
            Assert.That(reader.Join(120000), Is.True);
            Assert.That(n, Is.EqualTo(data.Length));
            Assert.That(SHA256.HashData(got), Is.EqualTo(SHA256.HashData(data)));
            Assert.That(la.Dropped + lb.Dropped, Is.Positive);
            Assert.That(sa.Stats.TcpRetransSegs, Is.Positive);
        }
        finally { la.Dispose(); lb.Dispose(); sa.Dispose(); sb.Dispose(); }
    }

    [Test]
    public void UdpAcrossLink_ChecksumsComputedAndChecked()
    {
        var (sa, sb, la, lb) = TwoStacks(0, 0, 0);
        try
        {
            var u = Make(sb, AF_INET, SOCK_DGRAM);
            Assert.That(u.Bind(V4("10.0.0.2", 5353)), Is.Zero);
            var c = Make(sa, AF_INET, SOCK_DGRAM);
            Assert.That(c.Send("over the wire"u8, 0, true, V4("10.0.0.2", 5353)), Is.EqualTo(13));
            WaitFor(u, POLLIN);
            Assert.That(u.Receive(new byte[64], 0, out var from, out _), Is.EqualTo(13));
            Assert.That(from.ToString(), Does.StartWith("10.0.0.1:"));
            Assert.That(sb.Stats.UdpInErrors, Is.Zero);
        }
        finally { la.Dispose(); lb.Dispose(); sa.Dispose(); sb.Dispose(); }
    }

    [Test]
    public void SmallWindow_SlowReader_OverLossyLink_PersistsAndDelivers()
    {
        var (sa, sb, la, lb) = TwoStacks(drop: 0.1, dup: 0.02, reorder: 0.05);
        try
        {
            var l = Make(sb, AF_INET, SOCK_STREAM);
            SetInt(l, SOL_SOCKET, SO_RCVBUF, 3000);
            Assert.That(l.Bind(V4("0.0.0.0", 8081)), Is.Zero);
            Assert.That(l.Listen(5), Is.Zero);
            var c = Make(sa, AF_INET, SOCK_STREAM);
            Assert.That(Connect(c, V4("10.0.0.2", 8081), 30000), Is.Zero);
            var srv = Accept(l, 30000);
            var data = new byte[100_000];
            new Random(4).NextBytes(data);
            var got = new byte[data.Length];
            int n = 0;
            var reader = new Thread(() =>
            {
                var chunk = new byte[700];
                while (n < data.Length)
                {
                    Thread.Sleep(1);
                    long r = srv.Receive(chunk, 0, out _, out _);
                    if (r == -EAGAIN) continue;
                    if (r <= 0) break;
                    chunk.AsSpan(0, (int)r).CopyTo(got.AsSpan(n));
                    n += (int)r;
                }
            });
            reader.Start();
            SendAll(c, data, 120000);
            Assert.That(reader.Join(120000), Is.True);
            Assert.That(got, Is.EqualTo(data));
        }
        finally { la.Dispose(); lb.Dispose(); sa.Dispose(); sb.Dispose(); }
    }

    [Test]
    public void Keepalive_DetectsADeadPeer()
    {
        var (sa, sb, la, lb) = TwoStacks(0, 0, 0);
        try
        {
            var l = Make(sb, AF_INET, SOCK_STREAM);
            Assert.That(l.Bind(V4("0.0.0.0", 8082)), Is.Zero);
            Assert.That(l.Listen(5), Is.Zero);
            var c = Make(sa, AF_INET, SOCK_STREAM);
            Assert.That(Connect(c, V4("10.0.0.2", 8082)), Is.Zero);
            var srv = Accept(l);
            SetInt(c, SOL_SOCKET, SO_KEEPALIVE, 1);
            SetInt(c, IPPROTO_TCP, 4, 1); // TCP_KEEPIDLE
            SetInt(c, IPPROTO_TCP, 5, 1); // TCP_KEEPINTVL
            SetInt(c, IPPROTO_TCP, 6, 2); // TCP_KEEPCNT
            // A live peer answers the probes: still connected after a few.
            Thread.Sleep(2500);
            Assert.That(c.Readiness & POLLERR, Is.Zero);
            la.Drop = 1; lb.Drop = 1;
            WaitFor(c, POLLERR, 10000);
            Assert.That(GetInt(c, SOL_SOCKET, SO_ERROR), Is.EqualTo(ETIMEDOUT));
        }
        finally { la.Dispose(); lb.Dispose(); sa.Dispose(); sb.Dispose(); }
    }

    [Test]
    public void SynToABlackHole_TimesOut_AfterTcpSyncnt()
    {
        var (sa, sb, la, lb) = TwoStacks(1, 0, 0);
        try
        {
            var c = Make(sa, AF_INET, SOCK_STREAM);
            SetInt(c, IPPROTO_TCP, 7, 1); // TCP_SYNCNT
            Assert.That(c.Connect(V4("10.0.0.2", 9)), Is.EqualTo(-EINPROGRESS));
            WaitFor(c, POLLERR, 10000);
            Assert.That(c.Connect(V4("10.0.0.2", 9)), Is.EqualTo(-ETIMEDOUT));
        }
        finally { la.Dispose(); lb.Dispose(); sa.Dispose(); sb.Dispose(); }
    }

    [Test]
    public void Interfaces_AndRoutes_FromRealState()
    {
        var (sa, sb, la, lb) = TwoStacks(0, 0, 0);
        try
        {
            sa.AddLoopback();
            var ifs = sa.Interfaces;
            Assert.That(ifs.Select(i => i.Name), Is.EqualTo(new[] { "eth0", "lo" }));
            Assert.That(ifs[1].Mtu, Is.EqualTo(65536));
            Assert.That(ifs[1].Flags & 0x8, Is.Not.Zero, "IFF_LOOPBACK");
            Assert.That(ifs[0].Addresses.Select(a => $"{a.Address}/{a.PrefixLength}"), Is.EqualTo(new[] { "10.0.0.1:0/24", "[fd00::1]:0/64" }));
            Assert.That(sa.Routes.Any(r => r.InterfaceIndex == 1 && r.PrefixLength == 24), Is.True);
            var u = Make(sa, AF_INET, SOCK_DGRAM);
            Assert.That(u.Send("x"u8, 0, true, V4("192.168.9.9", 53)), Is.EqualTo(-ENETUNREACH));
        }
        finally { la.Dispose(); lb.Dispose(); sa.Dispose(); sb.Dispose(); }
    }
}
