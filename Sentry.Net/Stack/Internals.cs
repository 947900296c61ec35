using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Sentry.Net.Stack;

/// <summary>
/// An IP address inside the stack: 16 bytes, IPv4 held as IPv4-mapped (::ffff:a.b.c.d) so that one
/// table serves AF_INET sockets, AF_INET6 sockets and AF_INET6 sockets reached over IPv4.
/// </summary>
internal readonly struct Addr : IEquatable<Addr>
{
    public readonly ulong Hi, Lo;
    public Addr(ulong hi, ulong lo) { Hi = hi; Lo = lo; }

    public static Addr V4(uint hostOrder) => new(0, 0x0000_FFFF_0000_0000UL | hostOrder);
    public static readonly Addr V6Any = default;
    public static readonly Addr V4Any = V4(0);
    public static readonly Addr V6Loopback = new(0, 1);
    public static readonly Addr V4Loopback = V4(0x7F000001);

    public bool IsV4 => Hi == 0 && (Lo >> 32) == 0xFFFF;
    public uint V4Value => (uint)Lo;
    /// <summary>0.0.0.0 (as mapped) or ::.</summary>
    public bool IsAny => (Hi == 0 && Lo == 0) || (IsV4 && V4Value == 0);
    public bool IsV6Any => Hi == 0 && Lo == 0;
    public bool IsLoopback => IsV4 ? (V4Value >> 24) == 127 : (Hi == 0 && Lo == 1);
    public bool IsMulticast => IsV4 ? (V4Value >> 28) == 0xE : (Hi >> 56) == 0xFF;
    public bool IsV4Broadcast => IsV4 && V4Value == 0xFFFFFFFF;

    public static Addr Read16(ReadOnlySpan<byte> b) =>
        new(BinaryPrimitives.ReadUInt64BigEndian(b), BinaryPrimitives.ReadUInt64BigEndian(b[8..]));
    public void Write16(Span<byte> b)
    {
        BinaryPrimitives.WriteUInt64BigEndian(b, Hi);
        BinaryPrimitives.WriteUInt64BigEndian(b[8..], Lo);
    }

    /// <summary>The socket address's IP: an AF_INET address becomes mapped; an AF_INET6 one stays as it is (mapped included).</summary>
    public static Addr From(in SockAddrInet a)
    {
        Span<byte> b = stackalloc byte[16];
        if (a.Family == SockAddrInet.AF_INET) return V4(a.V4);
        a.WriteAddress(b);
        return Read16(b);
    }

    /// <summary>This address with a port as a sockaddr of <paramref name="family"/> (AF_INET needs an IPv4 address).</summary>
    public SockAddrInet ToSock(int family, ushort port)
    {
        if (family == SockAddrInet.AF_INET) return SockAddrInet.FromV4(IsV4 ? V4Value : 0, port);
        Span<byte> b = stackalloc byte[16];
        Write16(b);
        return new SockAddrInet(SockAddrInet.AF_INET6, b, port);
    }

    public bool Equals(Addr o) => Hi == o.Hi && Lo == o.Lo;
    public override bool Equals(object? obj) => obj is Addr o && Equals(o);
    public override int GetHashCode() => HashCode.Combine(Hi, Lo);
    public static bool operator ==(Addr a, Addr b) => a.Equals(b);
    public static bool operator !=(Addr a, Addr b) => !a.Equals(b);
    public override string ToString() => ToSock(IsV4 ? SockAddrInet.AF_INET : SockAddrInet.AF_INET6, 0).ToString();

    /// <summary>Whether the first <paramref name="prefix"/> bits (of the 128-bit form) match.</summary>
    public bool InPrefix(Addr net, int prefix128)
    {
        if (prefix128 <= 0) return true;
        if (prefix128 >= 128) return Equals(net);
        if (prefix128 <= 64)
        {
            ulong m = ~0UL << (64 - prefix128);
            return (Hi & m) == (net.Hi & m);
        }
        ulong m2 = ~0UL << (128 - prefix128);
        return Hi == net.Hi && (Lo & m2) == (net.Lo & m2);
    }
}

/// <summary>A TCP/UDP four-tuple key (local, remote) for the connection tables.</summary>
internal readonly record struct FourTuple(Addr Local, ushort LocalPort, Addr Remote, ushort RemotePort);

/// <summary>RFC 1071 ones'-complement sums.</summary>
internal static class Checksum
{
    /// <summary>Adds the bytes to a running 32-bit-folded sum (big-endian 16-bit words; an odd tail is padded).</summary>
    public static uint Sum(ReadOnlySpan<byte> data, uint initial = 0)
    {
        ulong sum = initial;
        ref byte p = ref MemoryMarshal.GetReference(data);
        int n = data.Length, i = 0;
        // Sum 32-bit big-endian words in a 64-bit accumulator: carries land in the upper half.
        ulong a = 0, b = 0;
        for (; i + 16 <= n; i += 16)
        {
            ulong w0 = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i));
            ulong w1 = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i + 8));
            a += (w0 & 0xFFFFFFFF) + (w0 >> 32);
            b += (w1 & 0xFFFFFFFF) + (w1 >> 32);
        }
        ulong s = a + b;
        for (; i + 4 <= n; i += 4)
            s += Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i));
        // The sums above were of native-endian (little-endian) words; fold to 16 bits and swap once.
        while ((s >> 16) != 0) s = (s & 0xFFFF) + (s >> 16);
        ushort le = (ushort)s;
        sum += BinaryPrimitives.ReverseEndianness(le);
        for (; i + 2 <= n; i += 2)
            sum += (uint)(Unsafe.Add(ref p, i) << 8 | Unsafe.Add(ref p, i + 1));
        if (i < n) sum += (uint)(Unsafe.Add(ref p, i) << 8);
        while ((sum >> 16) != 0) sum = (sum & 0xFFFF) + (sum >> 16);
        return (uint)sum;
    }

    public static ushort Finish(uint sum)
    {
        while ((sum >> 16) != 0) sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)~sum;
    }

    /// <summary>The pseudo-header sum for TCP/UDP/ICMPv6 over IPv4 or IPv6.</summary>
    public static uint Pseudo(Addr src, Addr dst, int proto, int length)
    {
        ulong s;
        if (src.IsV4)
        {
            uint a = src.V4Value, b = dst.V4Value;
            s = (a >> 16) + (a & 0xFFFF) + (b >> 16) + (b & 0xFFFF) + (uint)proto + (uint)length;
        }
        else
        {
            s = Words(src.Hi) + Words(src.Lo) + Words(dst.Hi) + Words(dst.Lo) + (uint)proto + (uint)(length >> 16) + (uint)(length & 0xFFFF);
        }
        while ((s >> 16) != 0) s = (s & 0xFFFF) + (s >> 16);
        return (uint)s;
    }

    static ulong Words(ulong v) => (v >> 48) + ((v >> 32) & 0xFFFF) + ((v >> 16) & 0xFFFF) + (v & 0xFFFF);
}

/// <summary>TCP sequence-space comparisons (mod 2^32).</summary>
internal static class Seq
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Lt(uint a, uint b) => (int)(a - b) < 0;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Le(uint a, uint b) => (int)(a - b) <= 0;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Gt(uint a, uint b) => (int)(a - b) > 0;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Ge(uint a, uint b) => (int)(a - b) >= 0;
}

/// <summary>
/// A byte ring whose storage is rented when the first byte arrives and returned when it empties,
/// so idle sockets hold no buffer memory.
/// </summary>
internal sealed class ByteRing
{
    byte[]? _buf;
    int _head, _count;
    readonly MemoryAccount? _account;

    public ByteRing(MemoryAccount? account = null) => _account = account;

    public int Count => _count;

    /// <summary>Appends up to <paramref name="limit"/> - Count bytes; returns how many.</summary>
    public int Write(ReadOnlySpan<byte> data, int limit)
    {
        int n = Math.Min(data.Length, limit - _count);
        if (n <= 0) return 0;
        Ensure(_count + n);
        int cap = _buf!.Length;
        int tail = (_head + _count) % cap;
        int first = Math.Min(n, cap - tail);
        data[..first].CopyTo(_buf.AsSpan(tail));
        if (first < n) data[first..n].CopyTo(_buf.AsSpan(0));
        _count += n;
        return n;
    }

    /// <summary>Copies bytes starting <paramref name="offset"/> from the head into <paramref name="into"/>; returns how many.</summary>
    public int Peek(int offset, Span<byte> into)
    {
        int n = Math.Min(into.Length, _count - offset);
        if (n <= 0) return 0;
        int cap = _buf!.Length;
        int start = (_head + offset) % cap;
        int first = Math.Min(n, cap - start);
        _buf.AsSpan(start, first).CopyTo(into);
        if (first < n) _buf.AsSpan(0, n - first).CopyTo(into[first..]);
        return n;
    }

    public void Consume(int n)
    {
        if (n >= _count) { Clear(); return; }
        _head = (_head + n) % _buf!.Length;
        _count -= n;
    }

    public void Clear()
    {
        _count = 0; _head = 0;
        if (_buf != null)
        {
            if (_account != null) Interlocked.Add(ref _account.Bytes, -_buf.Length);
            ArrayPool<byte>.Shared.Return(_buf);
            _buf = null;
        }
    }

    void Ensure(int need)
    {
        if (_buf != null && _buf.Length >= need) return;
        int size = (int)Math.Min(BitOperations.RoundUpToPowerOf2((uint)Math.Max(need, 4096)), int.MaxValue);
        var nb = ArrayPool<byte>.Shared.Rent(size);
        if (_account != null) Interlocked.Add(ref _account.Bytes, nb.Length - (_buf?.Length ?? 0));
        if (_buf != null)
        {
            Peek(0, nb.AsSpan(0, _count));
            ArrayPool<byte>.Shared.Return(_buf);
        }
        _buf = nb; _head = 0;
    }
}

/// <summary>The bytes all socket buffers of a stack hold (Linux's tcp_mem accounting, simplified).</summary>
internal sealed class MemoryAccount
{
    public long Bytes;
}

/// <summary>Linux's constants the stack answers with.</summary>
internal static class K
{
    public const int SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_RAW = 3;
    public const int IPPROTO_IP = 0, IPPROTO_ICMP = 1, IPPROTO_TCP = 6, IPPROTO_UDP = 17, IPPROTO_IPV6 = 41, IPPROTO_ICMPV6 = 58;
    public const int SOL_SOCKET = 1;
    public const int SO_REUSEADDR = 2, SO_ERROR = 4, SO_DONTROUTE = 5, SO_BROADCAST = 6, SO_SNDBUF = 7, SO_RCVBUF = 8, SO_KEEPALIVE = 9,
        SO_OOBINLINE = 10, SO_NO_CHECK = 11, SO_PRIORITY = 12, SO_LINGER = 13, SO_REUSEPORT = 15, SO_RCVLOWAT = 18, SO_SNDLOWAT = 19,
        SO_BINDTODEVICE = 25, SO_TIMESTAMP = 29, SO_ACCEPTCONN = 30, SO_SNDBUFFORCE = 32, SO_RCVBUFFORCE = 33, SO_BUSY_POLL = 46, SO_INCOMING_CPU = 49;
    public const int IP_TOS = 1, IP_TTL = 2, IP_HDRINCL = 3, IP_PKTINFO = 8, IP_MTU_DISCOVER = 10, IP_RECVERR = 11, IP_RECVTTL = 12, IP_RECVTOS = 13,
        IP_MTU = 14, IP_FREEBIND = 15, IP_BIND_ADDRESS_NO_PORT = 24, IP_MULTICAST_TTL = 33, IP_MULTICAST_LOOP = 34;
    public const int IPV6_UNICAST_HOPS = 16, IPV6_MULTICAST_HOPS = 18, IPV6_MULTICAST_LOOP = 19, IPV6_RECVERR = 25, IPV6_V6ONLY = 26,
        IPV6_RECVPKTINFO = 49, IPV6_TCLASS = 67;
    public const int TCP_NODELAY = 1, TCP_MAXSEG = 2, TCP_CORK = 3, TCP_KEEPIDLE = 4, TCP_KEEPINTVL = 5, TCP_KEEPCNT = 6, TCP_SYNCNT = 7,
        TCP_LINGER2 = 8, TCP_DEFER_ACCEPT = 9, TCP_WINDOW_CLAMP = 10, TCP_INFO = 11, TCP_QUICKACK = 12, TCP_CONGESTION = 13,
        TCP_USER_TIMEOUT = 18, TCP_FASTOPEN = 23, TCP_NOTSENT_LOWAT = 25;
    public const int UDP_CORK = 1;
    public const int MSG_OOB = 1, MSG_PEEK = 2, MSG_DONTROUTE = 4, MSG_TRUNC = 0x20, MSG_DONTWAIT = 0x40, MSG_EOR = 0x80, MSG_WAITALL = 0x100,
        MSG_NOSIGNAL = 0x4000, MSG_MORE = 0x8000, MSG_ERRQUEUE = 0x2000;
    public const int SHUT_RD = 0, SHUT_WR = 1, SHUT_RDWR = 2;
    public const int POLLIN = 1, POLLPRI = 2, POLLOUT = 4, POLLERR = 8, POLLHUP = 0x10, POLLRDNORM = 0x40, POLLWRNORM = 0x100, POLLRDHUP = 0x2000;

    // Linux defaults (net.core.*mem_*, net.ipv4.tcp_*mem).
    public const int RmemDefault = 212992, WmemDefault = 212992, RmemMax = 212992, WmemMax = 212992;
    public const int TcpRmemDefault = 131072, TcpWmemDefault = 16384;
    public const int SockMinRcvbuf = 2304, SockMinSndbuf = 4608;
    public const int EphemeralLow = 32768, EphemeralHigh = 60999;
    public const int SoMaxConn = 4096;

    public static int ReadInt(ReadOnlySpan<byte> v) => BinaryPrimitives.ReadInt32LittleEndian(v);
    public static long WriteInt(Span<byte> into, int value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, value);
        int n = Math.Min(into.Length, 4);
        b[..n].CopyTo(into);
        return n;
    }
}
