using System.Buffers;
using System.Buffers.Binary;

namespace Sentry.Net.Stack;

/// <summary>Ethernet framing, ARP (RFC 826) and IPv6 neighbour discovery (RFC 4861) for Ethernet links.</summary>
public sealed partial class NetworkStack
{
    const int EthHeader = 14;
    const ushort EtherIPv4 = 0x0800, EtherArp = 0x0806, EtherIPv6 = 0x86DD;
    const int MaxPendingPerNeighbour = 128, MaxPendingNeighbours = 256; // Linux queues ~100 packets per unresolved neighbour (unres_qlen_bytes)

    internal static Addr LinkLocal(byte[] mac)
    {
        ulong lo = ((ulong)(mac[0] ^ 2) << 56) | ((ulong)mac[1] << 48) | ((ulong)mac[2] << 40) | (0xFFUL << 32) | (0xFEUL << 24)
                   | ((ulong)mac[3] << 16) | ((ulong)mac[4] << 8) | mac[5];
        return new Addr(0xFE80_0000_0000_0000UL, lo);
    }

    /// <summary>The source address for <paramref name="dst"/> on <paramref name="nic"/>: one on the same prefix, else the first of the family (link-local only for link-local). Caller holds _nics.</summary>
    static Addr SourceFor(Nic nic, Addr dst)
    {
        Addr any = default;
        bool dstLinkLocal = !dst.IsV4 && (dst.Hi >> 54) == (0xFE80UL >> 6);
        foreach (var x in nic.Addresses)
        {
            if (x.V4 != dst.IsV4) continue;
            bool ll = !x.V4 && (x.Address.Hi >> 54) == (0xFE80UL >> 6);
            if (x.Prefix128 < 128 && dst.InPrefix(x.Address, x.Prefix128) && ll == dstLinkLocal) return x.Address;
            if (ll != dstLinkLocal) { if (any == default && dstLinkLocal == ll) any = x.Address; continue; }
            if (any == default) any = x.Address;
        }
        if (any == default)
            foreach (var x in nic.Addresses)
                if (x.V4 == dst.IsV4) return x.Address;
        return any;
    }

    /// <summary>The neighbour a packet to <paramref name="dst"/> goes to on <paramref name="nic"/>: its gateway or itself.</summary>
    Addr NextHop(Nic nic, Addr dst)
    {
        lock (_nics)
        {
            int best = -1;
            Addr hop = dst;
            foreach (var r in _routes)
            {
                if (r.Nic != nic || r.V4 != dst.IsV4 || !dst.InPrefix(r.Dest, r.Prefix128) || r.Prefix128 <= best) continue;
                best = r.Prefix128;
                hop = r.Gateway.IsAny ? dst : r.Gateway;
            }
            return hop;
        }
    }

    Addr LocalAddressOn(Nic nic, Addr toward)
    {
        lock (_nics) return SourceFor(nic, toward);
    }

    bool OwnsAddress(Nic nic, Addr a)
    {
        lock (_nics)
            foreach (var x in nic.Addresses)
                if (x.Address == a) return true;
        return false;
    }

    /// <summary>Sends an IP packet queued for an Ethernet link: resolved, or parked until its neighbour answers. Returns whether the buffer is free again.</summary>
    bool EthernetOut(OutPacket p)
    {
        var nic = p.Nic;
        var ip = p.Buf.AsSpan(p.Offset, p.Length);
        bool v4 = (ip[0] >> 4) == 4;
        var dst = v4 ? Addr.V4(BinaryPrimitives.ReadUInt32BigEndian(ip[16..])) : Addr.Read16(ip[24..]);
        Span<byte> mac = stackalloc byte[6];
        if (dst.IsMulticast)
        {
            if (v4) { mac[0] = 1; mac[1] = 0; mac[2] = 0x5E; mac[3] = (byte)((dst.V4Value >> 16) & 0x7F); mac[4] = (byte)(dst.V4Value >> 8); mac[5] = (byte)dst.V4Value; }
            else { mac[0] = 0x33; mac[1] = 0x33; BinaryPrimitives.WriteUInt32BigEndian(mac[2..], (uint)dst.Lo); }
        }
        else if (dst.IsV4Broadcast) mac.Fill(0xFF);
        else
        {
            var hop = NextHop(nic, dst);
            lock (nic.NeighLock)
            {
                if (nic.Neighbours.TryGetValue(hop, out var known)) known.CopyTo(mac);
                else
                {
                    long now = NowMs;
                    if (!nic.Pending.TryGetValue(hop, out var pend))
                    {
                        if (nic.Pending.Count >= MaxPendingNeighbours) return true;
                        pend = (new List<OutPacket>(), now - 1000);
                    }
                    if (pend.Packets.Count >= MaxPendingPerNeighbour)
                    {
                        ArrayPool<byte>.Shared.Return(pend.Packets[0].Buf);
                        pend.Packets.RemoveAt(0);
                        Interlocked.Increment(ref nic.Counters.TxDropped);
                    }
                    pend.Packets.Add(p);
                    bool ask = now - pend.LastRequest >= 1000;
                    if (ask) pend.LastRequest = now;
                    nic.Pending[hop] = pend;
                    if (ask) Solicit(nic, hop);
                    return false;
                }
            }
        }
        WriteEthernet(nic, p.Buf, p.Offset, p.Length, mac, v4 ? EtherIPv4 : EtherIPv6);
        return true;
    }

    /// <summary>Puts the Ethernet header in the headroom before buf[off] and writes the frame.</summary>
    void WriteEthernet(Nic nic, byte[] buf, int off, int len, ReadOnlySpan<byte> dstMac, ushort type)
    {
        var f = buf.AsSpan(off - EthHeader, len + EthHeader);
        dstMac.CopyTo(f);
        nic.Link.HardwareAddress.AsSpan(0, 6).CopyTo(f[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(f[12..], type);
        Interlocked.Increment(ref nic.Counters.TxPackets);
        Interlocked.Add(ref nic.Counters.TxBytes, f.Length);
        nic.Link.WriteFrame(f);
    }

    /// <summary>Asks who has <paramref name="hop"/> (ARP request or neighbour solicitation). Caller may hold NeighLock.</summary>
    void Solicit(Nic nic, Addr hop)
    {
        var src = LocalAddressOn(nic, hop);
        if (hop.IsV4)
        {
            Span<byte> f = stackalloc byte[60];
            f.Clear();
            f[..6].Fill(0xFF);
            nic.Link.HardwareAddress.AsSpan(0, 6).CopyTo(f[6..]);
            BinaryPrimitives.WriteUInt16BigEndian(f[12..], EtherArp);
            WriteArp(f[14..], 1, nic.Link.HardwareAddress, src.V4Value, default, hop.V4Value);
            SendRaw(nic, f);
        }
        else
        {
            // Solicited-node multicast ff02::1:ffXX:XXXX.
            var dst = new Addr(0xFF02_0000_0000_0000UL, 0x0000_0001_FF00_0000UL | (hop.Lo & 0xFFFFFF));
            Span<byte> mac = stackalloc byte[6];
            mac[0] = 0x33; mac[1] = 0x33; BinaryPrimitives.WriteUInt32BigEndian(mac[2..], (uint)dst.Lo);
            SendNdp(nic, 135, 0, src, dst, mac, hop, 1);
        }
    }

    static void WriteArp(Span<byte> a, int op, ReadOnlySpan<byte> sha, uint spa, ReadOnlySpan<byte> tha, uint tpa)
    {
        BinaryPrimitives.WriteUInt16BigEndian(a, 1);
        BinaryPrimitives.WriteUInt16BigEndian(a[2..], EtherIPv4);
        a[4] = 6; a[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(a[6..], (ushort)op);
        sha[..6].CopyTo(a[8..]);
        BinaryPrimitives.WriteUInt32BigEndian(a[14..], spa);
        if (tha.Length >= 6) tha[..6].CopyTo(a[18..]); else a.Slice(18, 6).Clear();
        BinaryPrimitives.WriteUInt32BigEndian(a[24..], tpa);
    }

    void SendRaw(Nic nic, ReadOnlySpan<byte> frame)
    {
        try
        {
            Interlocked.Increment(ref nic.Counters.TxPackets);
            Interlocked.Add(ref nic.Counters.TxBytes, frame.Length);
            nic.Link.WriteFrame(frame);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            Interlocked.Increment(ref nic.Counters.TxErrors);
        }
    }

    /// <summary>A neighbour solicitation (135) or advertisement (136) with a link-layer address option.</summary>
    void SendNdp(Nic nic, int type, uint flags, Addr src, Addr dst, ReadOnlySpan<byte> dstMac, Addr target, int optType)
    {
        const int icmpLen = 32;
        Span<byte> f = stackalloc byte[EthHeader + 40 + icmpLen];
        dstMac.CopyTo(f);
        nic.Link.HardwareAddress.AsSpan(0, 6).CopyTo(f[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(f[12..], EtherIPv6);
        var ip = f[EthHeader..];
        BinaryPrimitives.WriteUInt32BigEndian(ip, 0x60000000);
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], icmpLen);
        ip[6] = K.IPPROTO_ICMPV6; ip[7] = 255;
        src.Write16(ip[8..]);
        dst.Write16(ip[24..]);
        var m = ip[40..];
        m.Clear();
        m[0] = (byte)type;
        BinaryPrimitives.WriteUInt32BigEndian(m[4..], flags);
        target.Write16(m[8..]);
        m[24] = (byte)optType; m[25] = 1;
        nic.Link.HardwareAddress.AsSpan(0, 6).CopyTo(m[26..]);
        BinaryPrimitives.WriteUInt16BigEndian(m[2..], Checksum.Finish(Checksum.Sum(m, Checksum.Pseudo(src, dst, K.IPPROTO_ICMPV6, icmpLen))));
        SendRaw(nic, f);
    }

    void ReceiveEthernet(Nic nic, ReadOnlySpan<byte> f)
    {
        if (f.Length < EthHeader) { Interlocked.Increment(ref nic.Counters.RxErrors); return; }
        var dmac = f[..6];
        bool forUs = dmac.SequenceEqual(nic.Link.HardwareAddress.AsSpan(0, 6)) || (dmac[0] & 1) != 0;
        if (!forUs) { Interlocked.Increment(ref nic.Counters.RxDropped); return; }
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(f[12..]);
        var payload = f[EthHeader..];
        switch (type)
        {
            case EtherIPv4:
            case EtherIPv6:
                // Learn nothing from IP itself (only ARP/NDP fill the cache), as Linux.
                ReceiveIp(nic, payload);
                break;
            case EtherArp:
                ReceiveArp(nic, payload);
                break;
            default:
                Interlocked.Increment(ref nic.Counters.RxDropped);
                break;
        }
    }

    void ReceiveArp(Nic nic, ReadOnlySpan<byte> a)
    {
        if (a.Length < 28) return;
        if (BinaryPrimitives.ReadUInt16BigEndian(a) != 1 || BinaryPrimitives.ReadUInt16BigEndian(a[2..]) != EtherIPv4 || a[4] != 6 || a[5] != 4) return;
        int op = BinaryPrimitives.ReadUInt16BigEndian(a[6..]);
        var sha = a.Slice(8, 6).ToArray();
        var spa = Addr.V4(BinaryPrimitives.ReadUInt32BigEndian(a[14..]));
        var tpa = Addr.V4(BinaryPrimitives.ReadUInt32BigEndian(a[24..]));
        if ((sha[0] & 1) != 0 || spa.IsAny) return;
        bool toUs = OwnsAddress(nic, tpa);
        bool known;
        lock (nic.NeighLock) known = nic.Neighbours.ContainsKey(spa) || nic.Pending.ContainsKey(spa);
        if (toUs || known) Learn(nic, spa, sha);
        if (op == 1 && toUs)
        {
            Span<byte> f = stackalloc byte[60];
            f.Clear();
            sha.CopyTo(f);
            nic.Link.HardwareAddress.AsSpan(0, 6).CopyTo(f[6..]);
            BinaryPrimitives.WriteUInt16BigEndian(f[12..], EtherArp);
            WriteArp(f[14..], 2, nic.Link.HardwareAddress, tpa.V4Value, sha, spa.V4Value);
            SendRaw(nic, f);
        }
    }

    void ReceiveNdp(Nic nic, Addr src, Addr dst, int type, ReadOnlySpan<byte> m)
    {
        if (m.Length < 24 || m[1] != 0) return;
        var target = Addr.Read16(m[8..]);
        if (target.IsMulticast) return;
        byte[]? lla = null;
        int want = type == 135 ? 1 : 2;
        for (int i = 24; i + 8 <= m.Length;)
        {
            int olen = m[i + 1] * 8;
            if (olen == 0 || i + olen > m.Length) return;
            if (m[i] == want && olen >= 8) lla = m.Slice(i + 2, 6).ToArray();
            i += olen;
        }
        if (type == 135)
        {
            if (!OwnsAddress(nic, target)) return;
            if (!src.IsAny && lla != null) Learn(nic, src, lla);
            Span<byte> mac = stackalloc byte[6];
            Addr to;
            uint flags;
            if (src.IsAny) { to = new Addr(0xFF02_0000_0000_0000UL, 1); mac[0] = 0x33; mac[1] = 0x33; mac[5] = 1; flags = 0x20000000; }
            else
            {
                to = src;
                flags = 0x60000000; // solicited, override
                if (lla != null) lla.CopyTo(mac);
                else lock (nic.NeighLock) { if (!nic.Neighbours.TryGetValue(src, out var k)) return; k.CopyTo(mac); }
            }
            SendNdp(nic, 136, flags, target, to, mac, target, 2);
        }
        else if (lla != null)
        {
            Learn(nic, target, lla);
        }
    }

    /// <summary>Records a neighbour's hardware address and sends what waited for it.</summary>
    void Learn(Nic nic, Addr ip, byte[] mac)
    {
        List<OutPacket>? release = null;
        lock (nic.NeighLock)
        {
            if (!nic.Neighbours.ContainsKey(ip) && nic.Neighbours.Count >= 4096) nic.Neighbours.Clear();
            nic.Neighbours[ip] = mac;
            if (nic.Pending.Remove(ip, out var pend)) release = pend.Packets;
        }
        if (release == null) return;
        lock (_outLock)
            foreach (var p in release) _out.Enqueue(p);
    }
}
