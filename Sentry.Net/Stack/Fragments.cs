using System.Buffers;
using System.Buffers.Binary;

namespace Sentry.Net.Stack;

/// <summary>IPv4 and IPv6 fragmentation on output and reassembly on input (RFC 791, RFC 8200; overlapping fragments drop the datagram, RFC 5722).</summary>
public sealed partial class NetworkStack
{
    const int FragHeadroom = 64, FragTimeoutMs = 30_000, MaxReassemblies = 64;

    sealed class Reassembly
    {
        public byte[] Buf = null!;
        public readonly List<(int Off, int Len)> Parts = new();
        public int Total = -1, Received, HeaderLength;
        public long Deadline;
    }

    readonly record struct FragKey(Addr Src, Addr Dst, uint Id, int Proto);
    readonly Dictionary<FragKey, Reassembly> _frags = new();

    /// <summary>
    /// One fragment of a datagram. <paramref name="header"/> is the IP header of the fragment (kept
    /// from the first one to quote in ICMP errors). The whole datagram is delivered when complete.
    /// </summary>
    void ReceiveFragment(Nic nic, Addr src, Addr dst, int proto, uint id, int offset, bool more, ReadOnlySpan<byte> header, ReadOnlySpan<byte> data, int tos)
    {
        int end = offset + data.Length;
        if (end > 65535 || (more && (data.Length & 7) != 0) || (more && data.Length == 0)) { Interlocked.Increment(ref Stats.IpFragDropped); return; }
        var key = new FragKey(src, dst, id, proto);
        Reassembly? done = null;
        lock (_frags)
        {
            long now = NowMs;
            if (!_frags.TryGetValue(key, out var r))
            {
                if (_frags.Count >= MaxReassemblies)
                {
                    foreach (var (k, v) in _frags.ToList())
                        if (v.Deadline <= now) { _frags.Remove(k); ArrayPool<byte>.Shared.Return(v.Buf); }
                    if (_frags.Count >= MaxReassemblies) { Interlocked.Increment(ref Stats.IpFragDropped); return; }
                }
                r = new Reassembly { Buf = ArrayPool<byte>.Shared.Rent(FragHeadroom + 65535), Deadline = now + FragTimeoutMs };
                _frags[key] = r;
            }
            foreach (var (o, l) in r.Parts)
            {
                if (o == offset && l == data.Length) return; // a duplicate
                if (offset < o + l && o < end)
                {
                    _frags.Remove(key);
                    ArrayPool<byte>.Shared.Return(r.Buf);
                    Interlocked.Increment(ref Stats.IpFragDropped);
                    return;
                }
            }
            if (!more)
            {
                if (r.Total >= 0 && r.Total != end) { _frags.Remove(key); ArrayPool<byte>.Shared.Return(r.Buf); Interlocked.Increment(ref Stats.IpFragDropped); return; }
                r.Total = end;
            }
            if (r.Total >= 0 && end > r.Total) { _frags.Remove(key); ArrayPool<byte>.Shared.Return(r.Buf); Interlocked.Increment(ref Stats.IpFragDropped); return; }
            if (offset == 0)
            {
                int hl = Math.Min(header.Length, FragHeadroom);
                header[..hl].CopyTo(r.Buf.AsSpan(FragHeadroom - hl));
                r.HeaderLength = hl;
            }
            data.CopyTo(r.Buf.AsSpan(FragHeadroom + offset));
            r.Parts.Add((offset, data.Length));
            r.Received += data.Length;
            if (r.Total >= 0 && r.Received == r.Total && r.HeaderLength > 0)
            {
                _frags.Remove(key);
                done = r;
            }
        }
        if (done == null) return;
        try
        {
            var ip = done.Buf.AsSpan(FragHeadroom - done.HeaderLength, done.HeaderLength + done.Total);
            Deliver(nic, proto, src, dst, ip, done.Buf.AsSpan(FragHeadroom, done.Total), tos);
        }
        finally { ArrayPool<byte>.Shared.Return(done.Buf); }
    }

    /// <summary>
    /// Splits an IP packet too big for its link (UDP and ICMP only: TCP segments fit the MSS) and
    /// queues the fragments. <paramref name="buf"/> is returned to the pool. Caller holds _outLock.
    /// </summary>
    void QueueFragments(Nic nic, byte[] buf, int start, int len)
    {
        int mtu = nic.Link.Mtu;
        var pkt = buf.AsSpan(start, len);
        bool v4 = (pkt[0] >> 4) == 4;
        if (v4)
        {
            int hl = (pkt[0] & 0xF) * 4;
            var data = pkt[hl..];
            int max = (mtu - hl) & ~7;
            for (int off = 0; off < data.Length; off += max)
            {
                int n = Math.Min(max, data.Length - off);
                var f = ArrayPool<byte>.Shared.Rent(Headroom + hl + n);
                var h = f.AsSpan(Headroom, hl + n);
                pkt[..hl].CopyTo(h);
                data.Slice(off, n).CopyTo(h[hl..]);
                BinaryPrimitives.WriteUInt16BigEndian(h[2..], (ushort)(hl + n));
                bool more = off + n < data.Length;
                BinaryPrimitives.WriteUInt16BigEndian(h[6..], (ushort)((more ? 0x2000 : 0) | (off >> 3)));
                h[10] = 0; h[11] = 0;
                BinaryPrimitives.WriteUInt16BigEndian(h[10..], Checksum.Finish(Checksum.Sum(h[..hl])));
                _out.Enqueue(new OutPacket(f, Headroom, hl + n, nic));
            }
        }
        else
        {
            var data = pkt[40..];
            int max = (mtu - 48) & ~7;
            uint id = RandomUInt();
            for (int off = 0; off < data.Length; off += max)
            {
                int n = Math.Min(max, data.Length - off);
                var f = ArrayPool<byte>.Shared.Rent(Headroom + 48 + n);
                var h = f.AsSpan(Headroom, 48 + n);
                pkt[..40].CopyTo(h);
                BinaryPrimitives.WriteUInt16BigEndian(h[4..], (ushort)(8 + n));
                h[40] = pkt[6]; h[41] = 0;
                h[6] = 44;
                bool more = off + n < data.Length;
                BinaryPrimitives.WriteUInt16BigEndian(h[42..], (ushort)(off | (more ? 1 : 0)));
                BinaryPrimitives.WriteUInt32BigEndian(h[44..], id);
                data.Slice(off, n).CopyTo(h[48..]);
                _out.Enqueue(new OutPacket(f, Headroom, 48 + n, nic));
            }
        }
        ArrayPool<byte>.Shared.Return(buf);
    }
}
