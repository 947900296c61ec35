using System.Buffers.Binary;

namespace Sentry.Net;

/// <summary>
/// An AF_INET or AF_INET6 socket address (struct sockaddr_in / sockaddr_in6) in host terms: the
/// address bytes in network order (4 of them used for AF_INET), the port in host order. A value
/// type so that recvfrom and sendto on the hot path allocate nothing.
/// </summary>
public readonly struct SockAddrInet : IEquatable<SockAddrInet>
{
    public const int AF_INET = 2, AF_INET6 = 10;

    // The 16 address bytes as two big-endian halves.
    readonly ulong _hi, _lo;

    public int Family { get; }
    public ushort Port { get; }
    /// <summary>sin6_flowinfo (AF_INET6 only).</summary>
    public uint FlowInfo { get; }
    /// <summary>sin6_scope_id (AF_INET6 only).</summary>
    public uint ScopeId { get; }

    public SockAddrInet(int family, ReadOnlySpan<byte> address, ushort port, uint flowInfo = 0, uint scopeId = 0)
    {
        if (family != AF_INET && family != AF_INET6) throw new ArgumentOutOfRangeException(nameof(family));
        int n = family == AF_INET ? 4 : 16;
        if (address.Length != n) throw new ArgumentException($"an address of family {family} has {n} bytes", nameof(address));
        Span<byte> all = stackalloc byte[16];
        address.CopyTo(all);
        _hi = BinaryPrimitives.ReadUInt64BigEndian(all);
        _lo = BinaryPrimitives.ReadUInt64BigEndian(all[8..]);
        Family = family;
        Port = port;
        FlowInfo = flowInfo;
        ScopeId = scopeId;
    }

    /// <summary>The IPv4 address as a host-order number (AF_INET).</summary>
    public uint V4 => (uint)(_hi >> 32);

    public static SockAddrInet FromV4(uint hostOrder, ushort port)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, hostOrder);
        return new SockAddrInet(AF_INET, b, port);
    }

    /// <summary>Copies the address bytes (4 or 16) into <paramref name="into"/> and returns how many.</summary>
    public int WriteAddress(Span<byte> into)
    {
        Span<byte> all = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(all, _hi);
        BinaryPrimitives.WriteUInt64BigEndian(all[8..], _lo);
        int n = Family == AF_INET ? 4 : 16;
        all[..n].CopyTo(into);
        return n;
    }

    public bool IsUnspecified => _hi == 0 && _lo == 0;

    public SockAddrInet WithPort(ushort port) =>
        new(this, port);

    SockAddrInet(in SockAddrInet a, ushort port)
    {
        _hi = a._hi; _lo = a._lo; Family = a.Family; FlowInfo = a.FlowInfo; ScopeId = a.ScopeId; Port = port;
    }

    public bool Equals(SockAddrInet o) =>
        _hi == o._hi && _lo == o._lo && Family == o.Family && Port == o.Port && ScopeId == o.ScopeId;
    public override bool Equals(object? obj) => obj is SockAddrInet o && Equals(o);
    public override int GetHashCode() => HashCode.Combine(_hi, _lo, Family, Port, ScopeId);
    public static bool operator ==(SockAddrInet a, SockAddrInet b) => a.Equals(b);
    public static bool operator !=(SockAddrInet a, SockAddrInet b) => !a.Equals(b);

    public override string ToString()
    {
        Span<byte> b = stackalloc byte[16];
        int n = WriteAddress(b);
        var ip = new System.Net.IPAddress(b[..n]);
        return Family == AF_INET ? $"{ip}:{Port}" : $"[{ip}]:{Port}";
    }
}
