using System.Buffers.Binary;
using Sentry.Kernel.Net;
using Sentry.Kernel.Tasks;
using Sentry.Net;

namespace Sentry.Kernel.Vfs.Proc;

/// <summary>
/// /proc/net as `ss`, `netstat` and `ip` read it, for the sandbox's network: tcp, tcp6, udp, udp6
/// (the stack's sockets, with the inode and uid of the sandbox's socket file when one matches),
/// unix (the bound AF_UNIX sockets), dev, route and if_inet6 (the stack's interfaces and routes).
/// Formats are Linux's (net/ipv4/tcp_ipv4.c, udp.c, af_unix.c, net/core/net-procfs.c, fib_trie.c,
/// addrconf.c), kernel pointers printed as zeros as for an unprivileged reader.
/// </summary>
public static class ProcNet
{
    public static VirtualNode Build() =>
        ProcFs.Dir("net")
            .Add(ProcFs.File("tcp", (t, o) => Sockets(t, o, 2, 6)))
            .Add(ProcFs.File("tcp6", (t, o) => Sockets(t, o, 10, 6)))
            .Add(ProcFs.File("udp", (t, o) => Sockets(t, o, 2, 17)))
            .Add(ProcFs.File("udp6", (t, o) => Sockets(t, o, 10, 17)))
            .Add(ProcFs.File("unix", Unix))
            .Add(ProcFs.File("dev", Dev))
            .Add(ProcFs.File("route", Route))
            .Add(ProcFs.File("if_inet6", IfInet6));

    /// <summary>An address as /proc/net prints it: each 32-bit word of the network-order bytes as the host loads it, in hex.</summary>
    static string Hex(in SockAddrInet a)
    {
        Span<byte> b = stackalloc byte[16];
        int n = a.WriteAddress(b);
        var s = new System.Text.StringBuilder();
        for (int i = 0; i < n; i += 4) s.Append(BinaryPrimitives.ReadUInt32LittleEndian(b[i..]).ToString("X8"));
        return s.ToString();
    }

    static int Sockets(Task t, SeqBuffer o, int family, int protocol)
    {
        var stack = t.Sandbox.Network;
        bool tcp = protocol == 6;
        int start = o.Length;
        if (tcp)
            o.Append(family == 2
                ? "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
                : "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode");
        else
            o.Append(family == 2
                ? "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops"
                : "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops");
        if (tcp && family == 2) o.PadTo(start, 149);
        else if (!tcp && family == 2) o.PadTo(start, 127);
        o.Append('\n');
        if (stack == null) return 0;
        var mine = new List<(SockAddrInet Local, SockAddrInet Remote, InetSocket Socket)>();
        foreach (var s in InetSocket.Open(t.Sandbox))
        {
            if (s.Family != family || s.Protocol != protocol) continue;
            if (s.Endpoint.GetLocalAddress(out var l) < 0) continue;
            if (s.Endpoint.GetPeerAddress(out var r) < 0) r = default;
            mine.Add((l, r, s));
        }
        int sl = 0;
        foreach (var info in stack.Sockets(family, protocol))
        {
            ulong inode = info.Inode;
            uint uid = info.Uid;
            foreach (var m in mine)
                if (m.Local == info.Local && (m.Remote == info.Remote || (m.Remote.Family == 0 && info.Remote.Port == 0)))
                {
                    if (inode == 0) inode = m.Socket.Ino;
                    if (uid == 0) uid = m.Socket.Uid;
                    break;
                }
            int lineStart = o.Length;
            string local = $"{Hex(info.Local)}:{info.Local.Port:X4}", remote = $"{Hex(info.Remote)}:{info.Remote.Port:X4}";
            if (tcp)
                o.Append($"{sl,4}: {local} {remote} {info.State:X2} {info.SendQueue:X8}:{info.ReceiveQueue:X8} 00:00000000 00000000 {uid,5} {0,8} {inode} 1 0000000000000000 100 0 0 10 0");
            else
                o.Append($"{sl,5}: {local} {remote} {info.State:X2} {info.SendQueue:X8}:{info.ReceiveQueue:X8} 00:00000000 00000000 {uid,5} {0,8} {inode} 2 0000000000000000 0");
            if (family == 2) o.PadTo(lineStart, tcp ? 149 : 127);
            o.Append('\n');
            sl++;
        }
        return 0;
    }

    static int Unix(Task t, SeqBuffer o)
    {
        o.AppendLine("Num       RefCount Protocol Flags    Type St Inode Path");
        List<UnixSocket> bound;
        var names = t.Sandbox.UnixNames;
        lock (names.Lock) bound = names.Bound();
        bound.Sort((a, b) => a.Ino.CompareTo(b.Ino));
        foreach (var s in bound)
        {
            const int SS_UNCONNECTED = 1, SS_CONNECTED = 3, __SO_ACCEPTCON = 1 << 16;
            int state = s.Peer != null ? SS_CONNECTED : SS_UNCONNECTED;
            int flags = s.Listening ? __SO_ACCEPTCON : 0;
            string path = s.Local.Abstract != null ? "@" + System.Text.Encoding.UTF8.GetString(s.Local.Abstract) : s.Local.Path ?? "";
            o.AppendLine($"0000000000000000: {2:X8} {0:X8} {flags:X8} {s.Type:X4} {state:X2} {s.Ino,5} {path}");
        }
        return 0;
    }

    static int Dev(Task t, SeqBuffer o)
    {
        o.AppendLine("Inter-|   Receive                                                |  Transmit");
        o.AppendLine(" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed");
        foreach (var i in t.Sandbox.Network?.Interfaces ?? [])
        {
            var c = i.Counters;
            o.AppendLine($"{i.Name,6}: {c.RxBytes,7} {c.RxPackets,7} {c.RxErrors,4} {c.RxDropped,4} {0,4} {0,5} {0,10} {0,9} {c.TxBytes,8} {c.TxPackets,7} {c.TxErrors,4} {c.TxDropped,4} {0,4} {0,5} {0,7} {0,10}");
        }
        return 0;
    }

    static int Route(Task t, SeqBuffer o)
    {
        int start = o.Length;
        o.Append("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT");
        o.PadTo(start, 127);
        o.Append('\n');
        var stack = t.Sandbox.Network;
        if (stack == null) return 0;
        var names = stack.Interfaces.ToDictionary(i => i.Index, i => i.Name);
        Span<byte> m = stackalloc byte[4];
        foreach (var r in stack.Routes)
        {
            if (r.Destination.Family != 2 || !names.TryGetValue(r.InterfaceIndex, out var name)) continue;
            const int RTF_UP = 1, RTF_GATEWAY = 2;
            int flags = RTF_UP | (r.Gateway.IsUnspecified ? 0 : RTF_GATEWAY);
            uint mask = NetDeviceIoctl.Netmask(r.PrefixLength);
            BinaryPrimitives.WriteUInt32BigEndian(m, mask);
            int lineStart = o.Length;
            o.Append($"{name}\t{Hex(r.Destination)}\t{Hex(r.Gateway)}\t{flags:X4}\t0\t0\t{r.Metric}\t{BinaryPrimitives.ReadUInt32LittleEndian(m):X8}\t0\t0\t0");
            o.PadTo(lineStart, 127);
            o.Append('\n');
        }
        return 0;
    }

    static int IfInet6(Task t, SeqBuffer o)
    {
        Span<byte> b = stackalloc byte[16];
        foreach (var i in t.Sandbox.Network?.Interfaces ?? [])
            foreach (var (a, prefix) in i.Addresses)
            {
                if (a.Family != 10) continue;
                a.WriteAddress(b);
                bool loopback = b[..15].IndexOfAnyExcept((byte)0) < 0 && b[15] == 1;
                int scope = loopback ? 0x10 : b[0] == 0xfe && (b[1] & 0xc0) == 0x80 ? 0x20 : 0;
                const int IFA_F_PERMANENT = 0x80;
                o.AppendLine($"{Convert.ToHexString(b).ToLowerInvariant()} {i.Index:x2} {prefix:x2} {scope:x2} {IFA_F_PERMANENT:x2} {i.Name,8}");
            }
        return 0;
    }
}
