using System.Buffers.Binary;
using System.Collections.Concurrent;
using Sentry.Net.Stack;
using static Sentry.Net.Tests.Net;
using static Sentry.Platform.Errno;

namespace Sentry.Net.Tests;

/// <summary>A link whose far side is the test: frames sent are kept, frames received are what the test injects.</summary>
sealed class CaptureLink : ILinkEndpoint
{
    public ILinkDispatcher? D;
    public readonly ConcurrentQueue<byte[]> Sent = new();
    public int Mtu => 1500;
    public LinkCapabilities Capabilities => LinkCapabilities.None;
    public byte[] HardwareAddress { get; } = new byte[6];
    public void Attach(ILinkDispatcher d) => D = d;
    public void WriteFrame(ReadOnlySpan<byte> frame) { if (Sent.Count < 10000) Sent.Enqueue(frame.ToArray()); }
    public void Inject(byte[] f) => D!.DeliverFrame(this, f);
}

public sealed class FuzzTests
{
    static readonly byte[] Us = { 10, 0, 0, 1 }, Them = { 10, 0, 0, 2 };

    static ushort Csum(ReadOnlySpan<byte> data, uint initial = 0)
    {
        ulong sum = initial;
        for (int i = 0; i + 1 < data.Length; i += 2) sum += (uint)(data[i] << 8 | data[i + 1]);
        if ((data.Length & 1) != 0) sum += (uint)(data[^1] << 8);
        while ((sum >> 16) != 0) sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)~sum;
    }

    /// <summary>An IPv4 packet from 10.0.0.2 to 10.0.0.1 with a correct header checksum and (optionally) transport checksum.</summary>
    static byte[] Ip4(int proto, byte[] transport, bool fixTransportChecksum = true)
    {
        var p = new byte[20 + transport.Length];
        p[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)p.Length);
        p[8] = 64; p[9] = (byte)proto;
        Them.CopyTo(p, 12); Us.CopyTo(p, 16);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), Csum(p.AsSpan(0, 20)));
        transport.CopyTo(p, 20);
        if (fixTransportChecksum && transport.Length >= 8)
        {
            int at = proto == 6 ? 16 : proto == 17 ? 6 : 2;
            if (transport.Length < at + 2) return p;
            var t = p.AsSpan(20);
            t[at] = 0; t[at + 1] = 0;
            uint pseudo = proto == 1 ? 0 : (uint)(10 + 0 + 0 + 1 + 10 + 0 + 0 + 2 + 0) ;
            if (proto != 1)
            {
                ulong s = (uint)((10 << 8) | 0) + (uint)((0 << 8) | 2) + (uint)((10 << 8) | 0) + (uint)((0 << 8) | 1) + (uint)proto + (uint)t.Length;
                while ((s >> 16) != 0) s = (s & 0xFFFF) + (s >> 16);
                pseudo = (uint)s;
            }
            BinaryPrimitives.WriteUInt16BigEndian(t[at..], Csum(t, pseudo));
        }
        return p;
    }

    static byte[] Tcp(ushort sport, ushort dport, uint seq, uint ack, int flags, ushort window, byte[] payload, byte[]? options = null)
    {
        options ??= Array.Empty<byte>();
        int hl = 20 + (options.Length + 3) / 4 * 4;
        var t = new byte[hl + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(t, sport);
        BinaryPrimitives.WriteUInt16BigEndian(t.AsSpan(2), dport);
        BinaryPrimitives.WriteUInt32BigEndian(t.AsSpan(4), seq);
        BinaryPrimitives.WriteUInt32BigEndian(t.AsSpan(8), ack);
        t[12] = (byte)((hl / 4) << 4);
        t[13] = (byte)flags;
        BinaryPrimitives.WriteUInt16BigEndian(t.AsSpan(14), window);
        options.CopyTo(t, 20);
        payload.CopyTo(t, hl);
        return t;
    }

    /// <summary>The last TCP segment the stack sent: (seq, ack, flags).</summary>
    static (uint Seq, uint Ack, int Flags)? LastTcp(CaptureLink link)
    {
        (uint, uint, int)? r = null;
        while (link.Sent.TryDequeue(out var f))
            if (f.Length >= 40 && (f[0] >> 4) == 4 && f[9] == 6)
                r = (BinaryPrimitives.ReadUInt32BigEndian(f.AsSpan(24)), BinaryPrimitives.ReadUInt32BigEndian(f.AsSpan(28)), f[33]);
        return r;
    }

    [Test]
    public void RandomAndMalformedFrames_NeverThrowNorWedge() => Fuzz(12345, 20000);

    [Test, Explicit("long")]
    public void RandomAndMalformedFrames_Long([Values(1, 2, 3, 4, 5)] int seed) => Fuzz(seed, 200000);

    static void Fuzz(int seed, int frames)
    {
        using var s = new NetworkStack();
        s.AddLoopback();
        var link = new CaptureLink();
        int nic = s.AddInterface("eth0", link);
        s.AddAddress(nic, V4("10.0.0.1", 0), 24);
        s.AddAddress(nic, V6("fd00::1", 0), 64);
        TcpEndpoint.TimeWaitMs = 60_000;

        var l = Make(s, AF_INET, SOCK_STREAM);
        Assert.That(l.Bind(V4("0.0.0.0", 80)), Is.Zero);
        Assert.That(l.Listen(16), Is.Zero);
        var u = Make(s, AF_INET, SOCK_DGRAM);
        Assert.That(u.Bind(V4("0.0.0.0", 53)), Is.Zero);

        // A real connection from the fake peer, so that fuzzed segments reach ESTABLISHED code.
        uint iss = 1000;
        link.Inject(Ip4(6, Tcp(4000, 80, iss, 0, 0x02, 65535, Array.Empty<byte>(), new byte[] { 2, 4, 5, 0xb4, 1, 3, 3, 7 })));
        var synack = LastTcp(link);
        Assert.That(synack, Is.Not.Null);
        Assert.That(synack!.Value.Flags & 0x12, Is.EqualTo(0x12));
        uint srvSeq = synack.Value.Seq + 1;
        link.Inject(Ip4(6, Tcp(4000, 80, iss + 1, srvSeq, 0x10, 1000, Array.Empty<byte>())));
        Assert.That(l.Accept(out var conn, out _), Is.Zero);
        conn!.Send(new byte[3000], 0, false, default);

        var rnd = new Random(seed);
        var ports = new ushort[] { 80, 53, 4000, 1, 0, 65535 };
        for (int i = 0; i < frames; i++)
        {
            byte[] frame;
            int kind = rnd.Next(10);
            switch (kind)
            {
                case 0: // random bytes
                    frame = new byte[rnd.Next(0, 200)];
                    rnd.NextBytes(frame);
                    break;
                case 1: // IPv4 header with random rest, maybe truncated
                {
                    var t = new byte[rnd.Next(0, 80)];
                    rnd.NextBytes(t);
                    frame = Ip4(rnd.Next(3) switch { 0 => 6, 1 => 17, _ => 1 }, t, fixTransportChecksum: rnd.Next(2) == 0);
                    if (rnd.Next(4) == 0) frame = frame[..rnd.Next(frame.Length + 1)];
                    if (rnd.Next(8) == 0 && frame.Length > 0) frame[rnd.Next(frame.Length)] ^= 0xFF;
                    break;
                }
                case 2: // IPv6 with random payload
                {
                    var t = new byte[rnd.Next(0, 100)];
                    rnd.NextBytes(t);
                    frame = new byte[40 + t.Length];
                    frame[0] = 0x60;
                    BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(4), (ushort)(rnd.Next(3) == 0 ? rnd.Next(65536) : t.Length));
                    frame[6] = (byte)(rnd.Next(2) == 0 ? rnd.Next(256) : new[] { 0, 6, 17, 58, 43, 44, 60 }[rnd.Next(7)]);
                    frame[7] = 64;
                    System.Net.IPAddress.Parse("fd00::2").GetAddressBytes().CopyTo(frame, 8);
                    System.Net.IPAddress.Parse("fd00::1").GetAddressBytes().CopyTo(frame, 24);
                    t.CopyTo(frame, 40);
                    break;
                }
                case 3: // IPv4 fragments: random ids, offsets, overlaps, lengths
                {
                    var t = new byte[rnd.Next(0, 3) * 8 + rnd.Next(0, 16)];
                    rnd.NextBytes(t);
                    frame = Ip4(17, t, fixTransportChecksum: false);
                    BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(4), (ushort)rnd.Next(4));
                    int fo = rnd.Next(4) == 0 ? rnd.Next(0x2000) : rnd.Next(8);
                    BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(6), (ushort)((rnd.Next(2) == 0 ? 0x2000 : 0) | fo));
                    frame[10] = 0; frame[11] = 0;
                    BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(10), Csum(frame.AsSpan(0, 20)));
                    break;
                }
                default: // TCP segments with wild fields to the live connection or the listener
                {
                    uint seq = rnd.Next(3) switch { 0 => iss + 1 + (uint)rnd.Next(-70000, 70000), 1 => (uint)rnd.NextInt64(), _ => iss + 1 };
                    uint ack = rnd.Next(3) switch { 0 => srvSeq + (uint)rnd.Next(-70000, 70000), 1 => (uint)rnd.NextInt64(), _ => srvSeq };
                    int flags = rnd.Next(64);
                    var payload = new byte[rnd.Next(4) == 0 ? rnd.Next(0, 1400) : rnd.Next(0, 20)];
                    rnd.NextBytes(payload);
                    byte[]? opts = null;
                    if (rnd.Next(3) == 0) { opts = new byte[rnd.Next(1, 40)]; rnd.NextBytes(opts); }
                    ushort sport = rnd.Next(3) == 0 ? ports[rnd.Next(ports.Length)] : (ushort)4000;
                    ushort dport = rnd.Next(4) == 0 ? ports[rnd.Next(ports.Length)] : (ushort)80;
                    var t = Tcp(sport, dport, seq, ack, flags, (ushort)rnd.Next(65536), payload, opts);
                    frame = Ip4(6, t, fixTransportChecksum: rnd.Next(10) != 0);
                    break;
                }
            }
            Assert.DoesNotThrow(() => link.Inject(frame), $"frame {i}: {Convert.ToHexString(frame)}");
            if (i % 64 == 0) while (link.Sent.TryDequeue(out _)) { }
        }
        Assert.That(s.Stats.IpInHdrErrors + s.Stats.TcpInErrs + s.Stats.UdpInErrors, Is.Positive, "bad packets are counted");
        Assert.That(s.Stats.InternalErrors, Is.Zero, "no frame made the stack's code fail");

        // Still working: loopback TCP and the listener.
        var (c, a, ll) = Pair(s);
        Assert.That(c.Send("alive"u8, 0, false, default), Is.EqualTo(5));
        Assert.That(RecvAll(a, new byte[5]), Is.EqualTo(5));
        var fresh = Make(s, AF_INET, SOCK_STREAM);
        Assert.That(Connect(fresh, V4("10.0.0.1", 80)), Is.Zero);
        conn.Close();
    }

    [Test]
    public void OverlappingAndOutOfOrderSegments_Reassemble()
    {
        using var s = new NetworkStack();
        var link = new CaptureLink();
        int nic = s.AddInterface("eth0", link);
        s.AddAddress(nic, V4("10.0.0.1", 0), 24);
        var l = Make(s, AF_INET, SOCK_STREAM);
        Assert.That(l.Bind(V4("0.0.0.0", 80)), Is.Zero);
        Assert.That(l.Listen(16), Is.Zero);
        uint iss = 5000;
        link.Inject(Ip4(6, Tcp(4001, 80, iss, 0, 0x02, 65535, Array.Empty<byte>())));
        uint srv = LastTcp(link)!.Value.Seq + 1;
        link.Inject(Ip4(6, Tcp(4001, 80, iss + 1, srv, 0x10, 65535, Array.Empty<byte>())));
        Assert.That(l.Accept(out var conn, out _), Is.Zero);
        var text = "0123456789abcdefghijklmnopqrstuvwxyz"u8.ToArray();
        void Seg(int from, int to) => link.Inject(Ip4(6, Tcp(4001, 80, iss + 1 + (uint)from, srv, 0x10, 65535, text[from..to])));
        Seg(20, 30);
        Seg(10, 25);
        Seg(30, 36);
        Seg(5, 12);
        Assert.That(conn!.Available, Is.Zero, "a hole at the start");
        Seg(0, 6);
        Seg(0, 36); // a full duplicate
        var buf = new byte[64];
        Assert.That(conn.Receive(buf, 0, out _, out _), Is.EqualTo(36));
        Assert.That(buf[..36], Is.EqualTo(text));
        var ack = LastTcp(link)!.Value;
        Assert.That(ack.Ack, Is.EqualTo(iss + 1 + 36));
    }
}
