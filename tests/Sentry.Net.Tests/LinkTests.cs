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
    readonly double _drop, _dup, _reorder;
    readonly BlockingCollection<byte[]> _q = new();
    readonly Thread _t;
    byte[]? _held;
    public long Written, Dropped;

    public LossyLink(int seed, double drop, double dup, double reorder)
    {
        _rnd = new Random(seed);
        _drop = drop; _dup = dup; _reorder = reorder;
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
            if (_rnd.NextDouble() < _drop) { Dropped++; return; }
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
}
