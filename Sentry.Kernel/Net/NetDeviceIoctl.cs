using System.Buffers.Binary;
using System.Text;
using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;
using Sentry.Net;

namespace Sentry.Kernel.Net;

/// <summary>
/// The interface ioctls a socket answers (netdevice(7)): SIOCGIFCONF, SIOCGIFADDR, SIOCGIFFLAGS,
/// SIOCGIFINDEX, SIOCGIFNAME, SIOCGIFMTU, SIOCGIFHWADDR, SIOCGIFNETMASK, SIOCGIFBRDADDR,
/// SIOCGIFTXQLEN, from the stack's <see cref="INetworkStack.Interfaces"/>. Setting anything is
/// EPERM: the sandbox's interfaces are not the application's to configure.
/// </summary>
public static class NetDeviceIoctl
{
    public const uint SIOCGIFNAME = 0x8910, SIOCGIFCONF = 0x8912, SIOCGIFFLAGS = 0x8913, SIOCSIFFLAGS = 0x8914,
        SIOCGIFADDR = 0x8915, SIOCSIFADDR = 0x8916, SIOCGIFDSTADDR = 0x8917, SIOCGIFBRDADDR = 0x8919,
        SIOCGIFNETMASK = 0x891b, SIOCGIFMETRIC = 0x891d, SIOCGIFMTU = 0x8921, SIOCSIFMTU = 0x8922,
        SIOCGIFHWADDR = 0x8927, SIOCGIFINDEX = 0x8933, SIOCGIFTXQLEN = 0x8942;
    const int IfReqSize = 40, IFNAMSIZ = 16;
    public const int ARPHRD_ETHER = 1, ARPHRD_LOOPBACK = 772, IFF_LOOPBACK = 0x8;

    /// <summary>ARPHRD_* of an interface: loopback or Ethernet.</summary>
    public static int HardwareType(NetInterface i) => (i.Flags & IFF_LOOPBACK) != 0 ? ARPHRD_LOOPBACK : ARPHRD_ETHER;

    /// <summary>The first IPv4 address of <paramref name="i"/>, if any.</summary>
    public static (SockAddrInet Address, int PrefixLength)? FirstV4(NetInterface i)
    {
        foreach (var a in i.Addresses) if (a.Address.Family == InetSocket.AF_INET) return a;
        return null;
    }

    public static uint Netmask(int prefix) => prefix <= 0 ? 0 : prefix >= 32 ? uint.MaxValue : uint.MaxValue << (32 - prefix);

    /// <summary>Answers <paramref name="cmd"/> when it is an interface ioctl; -ENOTTY otherwise.</summary>
    public static long Handle(Task t, INetworkStack? stack, uint cmd, ulong arg)
    {
        if (cmd is < 0x8900 or > 0x89ff) return -Errno.ENOTTY;
        var interfaces = stack?.Interfaces ?? [];
        if (cmd == SIOCGIFCONF) return IfConf(t, interfaces, arg);
        if (cmd is SIOCSIFFLAGS or SIOCSIFADDR or SIOCSIFMTU or 0x8918 or 0x891a or 0x891c or 0x8924 or 0x8943) return -Errno.EPERM;
        if (cmd is not (SIOCGIFNAME or SIOCGIFFLAGS or SIOCGIFADDR or SIOCGIFDSTADDR or SIOCGIFBRDADDR or SIOCGIFNETMASK
            or SIOCGIFMETRIC or SIOCGIFMTU or SIOCGIFHWADDR or SIOCGIFINDEX or SIOCGIFTXQLEN)) return -Errno.ENOTTY;
        Span<byte> req = stackalloc byte[IfReqSize];
        if (t.Mm.CopyIn(arg, req) < 0) return -Errno.EFAULT;
        NetInterface? found = null;
        if (cmd == SIOCGIFNAME)
        {
            int index = BinaryPrimitives.ReadInt32LittleEndian(req[IFNAMSIZ..]);
            foreach (var i in interfaces) if (i.Index == index) found = i;
            if (found == null) return -Errno.ENODEV;
            WriteName(req, found.Name);
            return t.Mm.CopyOut(arg, req) < 0 ? -Errno.EFAULT : 0;
        }
        int nul = req[..IFNAMSIZ].IndexOf((byte)0);
        string name = Encoding.ASCII.GetString(req[..(nul < 0 ? IFNAMSIZ : nul)]);
        foreach (var i in interfaces) if (i.Name == name) found = i;
        if (found == null) return -Errno.ENODEV;
        var data = req[IFNAMSIZ..];
        data.Clear();
        switch (cmd)
        {
            case SIOCGIFFLAGS: BinaryPrimitives.WriteInt16LittleEndian(data, (short)found.Flags); break;
            case SIOCGIFMTU: BinaryPrimitives.WriteInt32LittleEndian(data, found.Mtu); break;
            case SIOCGIFINDEX: BinaryPrimitives.WriteInt32LittleEndian(data, found.Index); break;
            case SIOCGIFMETRIC: break;
            case SIOCGIFTXQLEN: BinaryPrimitives.WriteInt32LittleEndian(data, 1000); break;
            case SIOCGIFHWADDR:
                BinaryPrimitives.WriteUInt16LittleEndian(data, (ushort)HardwareType(found));
                found.HardwareAddress.AsSpan(0, Math.Min(6, found.HardwareAddress.Length)).CopyTo(data[2..]);
                break;
            default:
            {
                // The IPv4 ones: EADDRNOTAVAIL when the interface has no IPv4 address.
                if (FirstV4(found) is not { } a) return -Errno.EADDRNOTAVAIL;
                uint ip = a.Address.V4, mask = Netmask(a.PrefixLength);
                uint value = cmd switch
                {
                    SIOCGIFADDR => ip,
                    SIOCGIFNETMASK => mask,
                    SIOCGIFBRDADDR => (found.Flags & IFF_LOOPBACK) != 0 ? 0 : ip | ~mask,
                    _ => ip, // SIOCGIFDSTADDR: the local address on a broadcast link
                };
                BinaryPrimitives.WriteUInt16LittleEndian(data, InetSocket.AF_INET);
                BinaryPrimitives.WriteUInt32BigEndian(data[4..], value);
                break;
            }
        }
        return t.Mm.CopyOut(arg, req) < 0 ? -Errno.EFAULT : 0;
    }

    static void WriteName(Span<byte> req, string name)
    {
        req[..IFNAMSIZ].Clear();
        Encoding.ASCII.GetBytes(name.AsSpan(0, Math.Min(name.Length, IFNAMSIZ - 1)), req);
    }

    /// <summary>SIOCGIFCONF: an ifreq for each interface with an IPv4 address; with a null buffer only the length needed.</summary>
    static long IfConf(Task t, IReadOnlyList<NetInterface> interfaces, ulong arg)
    {
        if (t.Mm.Read(arg, out int len) < 0 || t.Mm.Read(arg + 8, out ulong buf) < 0) return -Errno.EFAULT;
        int done = 0;
        Span<byte> req = stackalloc byte[IfReqSize];
        foreach (var i in interfaces)
        {
            if (FirstV4(i) is not { } a) continue;
            if (buf == 0) { done += IfReqSize; continue; }
            if (len - done < IfReqSize) break;
            req.Clear();
            WriteName(req, i.Name);
            BinaryPrimitives.WriteUInt16LittleEndian(req[IFNAMSIZ..], InetSocket.AF_INET);
            BinaryPrimitives.WriteUInt32BigEndian(req[(IFNAMSIZ + 4)..], a.Address.V4);
            if (t.Mm.CopyOut(buf + (ulong)done, req) < 0) return -Errno.EFAULT;
            done += IfReqSize;
        }
        return t.Mm.Write(arg, done) < 0 ? -Errno.EFAULT : 0;
    }
}
