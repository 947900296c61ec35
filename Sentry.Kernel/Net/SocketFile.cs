using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;
using Sentry.Kernel.Vfs;

namespace Sentry.Kernel.Net;

/// <summary>
/// A socket of any family (socket(2)): the operations the socket syscalls dispatch to. Each works
/// on application memory itself (addresses, lengths, control data), since what a family reads
/// there and which errno a bad value gives differ between families; the shared pieces (copying
/// an address in as move_addr_to_kernel, out as move_addr_to_user, gathering iovecs) are here.
/// </summary>
public abstract class SocketFile : FileDescription
{
    public const int SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_RAW = 3, SOCK_SEQPACKET = 5;
    public const int SOL_SOCKET = 1;
    public const int MSG_OOB = 0x1, MSG_PEEK = 0x2, MSG_CTRUNC = 0x8, MSG_TRUNC = 0x20, MSG_DONTWAIT = 0x40,
        MSG_EOR = 0x80, MSG_WAITALL = 0x100, MSG_NOSIGNAL = 0x4000, MSG_MORE = 0x8000, MSG_WAITFORONE = 0x10000,
        MSG_CMSG_CLOEXEC = 0x40000000;
    public const int SO_TYPE = 3, SO_ERROR = 4, SO_SNDBUF = 7, SO_RCVBUF = 8, SO_KEEPALIVE = 9, SO_PASSCRED = 16,
        SO_PEERCRED = 17, SO_REUSEADDR = 2, SO_RCVTIMEO = 20, SO_SNDTIMEO = 21, SO_ACCEPTCONN = 30, SO_PROTOCOL = 38,
        SO_DOMAIN = 39;
    /// <summary>sizeof(struct sockaddr_storage): the most an address argument may be.</summary>
    public const int AddressMax = 128;

    /// <summary>AF_UNIX, AF_INET, AF_INET6, AF_NETLINK.</summary>
    public abstract int Family { get; }
    /// <summary>SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_RAW.</summary>
    public abstract int Type { get; }
    public abstract int Protocol { get; }
    public abstract bool Listening { get; }

    public abstract long Bind(Task t, ulong addr, ulong len);
    public abstract long Listen(Task t, int backlog);
    public abstract long Connect(Task t, ulong addr, ulong len);

    /// <summary>
    /// accept(2): the next connection (not yet installed), waiting unless non-blocking, and its
    /// peer's address bytes in <paramref name="peer"/> (<paramref name="peerLength"/> of them).
    /// </summary>
    public abstract long Accept(Task t, out SocketFile? accepted, Span<byte> peer, out int peerLength);

    /// <summary>getsockname/getpeername: the address bytes in <paramref name="into"/>, their count in <paramref name="length"/>.</summary>
    public abstract long GetName(Task t, bool peer, Span<byte> into, out int length);

    /// <summary>shutdown(2) with <paramref name="how"/> already checked (SHUT_RD, SHUT_WR, SHUT_RDWR).</summary>
    public abstract long Shutdown(Task t, int how);

    /// <summary>
    /// sendmsg/sendto: the bytes of <paramref name="vecs"/>, to the address at
    /// <paramref name="addr"/> when <paramref name="hasAddress"/> (sendto with a non-null address,
    /// sendmsg with a name and a length), with the control data at <paramref name="control"/>.
    /// </summary>
    public abstract long SendMsg(Task t, ReadOnlySpan<(ulong Base, ulong Len)> vecs, int flags, bool hasAddress, ulong addr, ulong addrLen,
        ulong control, ulong controlLen);

    /// <summary>
    /// recvmsg/recvfrom: into <paramref name="vecs"/>, the sender's address at <paramref name="addr"/>
    /// (its length in and out at <paramref name="addrLenPtr"/>); for recvmsg <paramref name="msg"/>
    /// is the msghdr whose msg_controllen and msg_flags are written back (0 for recvfrom).
    /// </summary>
    public abstract long RecvMsg(Task t, ReadOnlySpan<(ulong Base, ulong Len)> vecs, int flags, ulong addr, ulong addrLenPtr,
        ulong control, ulong controlLen, ulong msg);

    public abstract long GetSockOpt(Task t, int level, int name, ulong value, ulong lenPtr);
    public abstract long SetSockOpt(Task t, int level, int name, ulong value, int len);

    /// <summary>
    /// Copies an address argument in as Linux's move_addr_to_kernel: a length below 0 or above
    /// sockaddr_storage is EINVAL, a fault EFAULT. Returns the count copied.
    /// </summary>
    public static long CopyInAddress(Task t, ulong addr, ulong len, Span<byte> into)
    {
        if ((long)len < 0 || (int)len < 0 || len > AddressMax) return -Errno.EINVAL;
        if (len == 0) return 0;
        if (t.Mm.CopyIn(addr, into[..(int)len]) < 0) return -Errno.EFAULT;
        return (long)len;
    }

    /// <summary>
    /// Writes address bytes back as move_addr_to_user (accept, getsockname, recvfrom): truncated to
    /// the room *<paramref name="lenPtr"/> gives, the full length stored there. Nothing when
    /// <paramref name="addr"/> is null.
    /// </summary>
    public static long WriteAddressOut(Task t, ulong addr, ulong lenPtr, ReadOnlySpan<byte> address)
    {
        if (addr == 0) return 0;
        if (t.Mm.Read(lenPtr, out int room) < 0) return -Errno.EFAULT;
        if (room < 0) return -Errno.EINVAL;
        if (t.Mm.CopyOut(addr, address[..Math.Min(address.Length, room)]) < 0) return -Errno.EFAULT;
        return t.Mm.Write(lenPtr, address.Length) < 0 ? -Errno.EFAULT : 0;
    }

    /// <summary>Sum of the iovec lengths.</summary>
    public static ulong TotalLength(ReadOnlySpan<(ulong Base, ulong Len)> vecs)
    {
        ulong total = 0;
        foreach (var (_, len) in vecs) total += len;
        return total;
    }

    /// <summary>Where a send gathers or a receive stages <paramref name="size"/> bytes: the task's bounce buffer when they fit (the usual case), else a new array.</summary>
    public static Span<byte> Staging(Task t, ulong size) => size <= (ulong)t.Bounce.Length ? t.Bounce.AsSpan(0, (int)size) : new byte[size];

    /// <summary>Gathers the bytes of <paramref name="vecs"/> (at most MAX_RW_COUNT, else EMSGSIZE) into a staging buffer.</summary>
    public static long Gather(Task t, ReadOnlySpan<(ulong Base, ulong Len)> vecs, out Span<byte> data)
    {
        data = default;
        ulong total = TotalLength(vecs);
        if (total > (ulong)Syscalls.Sys.MAX_RW_COUNT) return -Errno.EMSGSIZE;
        data = Staging(t, total);
        int at = 0;
        foreach (var (b, len) in vecs)
        {
            if (t.Mm.CopyIn(b, data.Slice(at, (int)len)) < 0) return -Errno.EFAULT;
            at += (int)len;
        }
        return 0;
    }

    /// <summary>Scatters the first <paramref name="count"/> bytes of <paramref name="buffer"/> over <paramref name="vecs"/>.</summary>
    public static long Scatter(Task t, ReadOnlySpan<(ulong Base, ulong Len)> vecs, ReadOnlySpan<byte> buffer, int count)
    {
        int at = 0;
        foreach (var (b, len) in vecs)
        {
            int n = (int)Math.Min((ulong)(count - at), len);
            if (n == 0) break;
            if (t.Mm.CopyOut(b, buffer.Slice(at, n)) < 0) return -Errno.EFAULT;
            at += n;
        }
        return 0;
    }

    /// <summary>Reads an int getsockopt length (EFAULT, EINVAL when negative).</summary>
    public static long ReadOptLen(Task t, ulong lenPtr, out int room)
    {
        if (t.Mm.Read(lenPtr, out room) < 0) return -Errno.EFAULT;
        return room < 0 ? -Errno.EINVAL : 0;
    }

    /// <summary>Writes an option value truncated to the room given, and the length written.</summary>
    public static long WriteOpt(Task t, ulong value, ulong lenPtr, int room, ReadOnlySpan<byte> bytes)
    {
        int n = Math.Min(room, bytes.Length);
        if (t.Mm.CopyOut(value, bytes[..n]) < 0) return -Errno.EFAULT;
        return t.Mm.Write(lenPtr, n) < 0 ? -Errno.EFAULT : 0;
    }

    public static long WriteIntOpt(Task t, ulong value, ulong lenPtr, int room, int v)
    {
        Span<byte> b = stackalloc byte[4];
        BitConverter.TryWriteBytes(b, v);
        return WriteOpt(t, value, lenPtr, room, b);
    }
}
