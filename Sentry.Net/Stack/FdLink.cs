using System.Runtime.InteropServices;

namespace Sentry.Net.Stack;

/// <summary>
/// A link over a host file descriptor that carries one frame per read/write: an AF_PACKET socket
/// bound to an interface of the container's network namespace (what runsc does with a veth), a
/// TAP device (IFF_TAP | IFF_NO_PI), or a datagram socketpair in tests. A reader thread hands
/// frames to the stack. Frames from the host are untrusted; the stack checks them.
/// </summary>
public sealed unsafe class FdLink : ILinkEndpoint, IDisposable
{
    [DllImport("libc", SetLastError = true)] static extern int socket(int domain, int type, int protocol);
    [DllImport("libc", SetLastError = true)] static extern int bind(int fd, void* addr, int len);
    [DllImport("libc", SetLastError = true)] static extern uint if_nametoindex(string name);
    [DllImport("libc", SetLastError = true)] static extern int ioctl(int fd, ulong req, void* arg);
    [DllImport("libc", SetLastError = true)] static extern nint read(int fd, void* buf, nint n);
    [DllImport("libc", SetLastError = true)] static extern nint write(int fd, void* buf, nint n);
    [DllImport("libc", SetLastError = true)] static extern int poll(void* fds, ulong n, int timeout);
    [DllImport("libc", SetLastError = true)] static extern int close(int fd);
    [DllImport("libc", SetLastError = true)] static extern int setsockopt(int fd, int level, int name, void* v, int len);
    [DllImport("libc", SetLastError = true)] static extern nint recvmsg(int fd, void* msg, int flags);

    const int AF_PACKET = 17, SOCK_RAW = 3, ETH_P_ALL = 3, SOL_PACKET = 263, PACKET_AUXDATA = 8, PACKET_IGNORE_OUTGOING = 23;
    const uint TP_STATUS_CSUMNOTREADY = 1 << 3, TP_STATUS_CSUM_VALID = 1 << 7;
    const ulong SIOCGIFMTU = 0x8921, SIOCGIFHWADDR = 0x8927;
    const int EINTR = 4, EAGAIN = 11;

    int _fd;
    readonly bool _ownsFd;
    bool _auxData;
    ILinkDispatcher? _dispatcher;
    Thread? _reader;
    volatile bool _disposed;

    public int Mtu { get; }
    public LinkCapabilities Capabilities { get; }
    public byte[] HardwareAddress { get; }
    public long ReadErrors, WriteErrors;

    /// <summary>Wraps a frame fd (not closed by Dispose unless <paramref name="ownsFd"/>).</summary>
    public FdLink(int fd, int mtu, byte[] hardwareAddress, bool ethernet = true, bool ownsFd = false)
    {
        _fd = fd;
        _ownsFd = ownsFd;
        Mtu = mtu;
        HardwareAddress = hardwareAddress;
        Capabilities = ethernet ? LinkCapabilities.Ethernet : LinkCapabilities.None;
    }

    /// <summary>An AF_PACKET socket on the host interface <paramref name="ifname"/> (needs CAP_NET_RAW): its MTU and MAC become the link's.</summary>
    public static FdLink OpenPacket(string ifname)
    {
        uint index = if_nametoindex(ifname);
        if (index == 0) throw new IOException($"no interface {ifname}");
        int fd = socket(AF_PACKET, SOCK_RAW, Htons(ETH_P_ALL));
        if (fd < 0) throw new IOException($"socket(AF_PACKET): errno {Marshal.GetLastPInvokeError()}");
        int one = 1;
        setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, 4); // not our own frames (Linux >= 4.20)
        bool aux = setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, 4) == 0; // to learn of checksums left to offload
        byte* sll = stackalloc byte[20];
        new Span<byte>(sll, 20).Clear();
        *(ushort*)sll = AF_PACKET;
        *(ushort*)(sll + 2) = (ushort)Htons(ETH_P_ALL);
        *(int*)(sll + 4) = (int)index;
        if (bind(fd, sll, 20) < 0) { int e = Marshal.GetLastPInvokeError(); close(fd); throw new IOException($"bind(AF_PACKET {ifname}): errno {e}"); }
        byte* ifr = stackalloc byte[40];
        new Span<byte>(ifr, 40).Clear();
        var name = System.Text.Encoding.ASCII.GetBytes(ifname);
        name.AsSpan(0, Math.Min(name.Length, 15)).CopyTo(new Span<byte>(ifr, 16));
        int mtu = ioctl(fd, SIOCGIFMTU, ifr) == 0 ? *(int*)(ifr + 16) : 1500;
        var mac = new byte[6];
        if (ioctl(fd, SIOCGIFHWADDR, ifr) == 0) new Span<byte>(ifr + 18, 6).CopyTo(mac);
        return new FdLink(fd, mtu, mac, ethernet: true, ownsFd: true) { _auxData = aux };
    }

    static int Htons(int v) => (ushort)(((v & 0xFF) << 8) | ((v >> 8) & 0xFF));

    public void Attach(ILinkDispatcher dispatcher)
    {
        _dispatcher = dispatcher;
        _reader = new Thread(ReadLoop) { IsBackground = true, Name = "netstack link reader" };
        _reader.Start();
    }

    void ReadLoop()
    {
        var buf = new byte[Math.Max(Mtu + 64, 2048)];
        long pfd = (long)(uint)_fd | (1L << 32); // POLLIN
        long* iov = stackalloc long[2];
        byte* control = stackalloc byte[64];
        long* msg = stackalloc long[7];
        while (!_disposed)
        {
            long p = pfd;
            int r = poll(&p, 1, 200);
            if (r <= 0) continue;
            nint n;
            bool verified = false;
            fixed (byte* b = buf)
            {
                if (_auxData)
                {
                    // struct msghdr with one iovec and room for a tpacket_auxdata control message.
                    iov[0] = (long)b; iov[1] = buf.Length;
                    new Span<long>(msg, 7).Clear();
                    msg[2] = (long)iov; msg[3] = 1; msg[4] = (long)control; msg[5] = 64;
                    n = recvmsg(_fd, msg, 0);
                    long clen = msg[5];
                    // cmsghdr: len (8), level (4), type (4), then tp_status first.
                    if (n > 0 && clen >= 20 && *(int*)(control + 8) == SOL_PACKET && *(int*)(control + 12) == PACKET_AUXDATA)
                    {
                        uint status = *(uint*)(control + 16);
                        verified = (status & (TP_STATUS_CSUMNOTREADY | TP_STATUS_CSUM_VALID)) != 0;
                    }
                }
                else n = read(_fd, b, buf.Length);
            }
            if (n < 0)
            {
                int e = Marshal.GetLastPInvokeError();
                if (e == EINTR || e == EAGAIN) continue;
                ReadErrors++;
                if (_disposed) return;
                Thread.Sleep(10);
                continue;
            }
            if (n == 0) { if (_ownsFd) continue; return; }
            if (verified) _dispatcher?.DeliverFrame(this, buf.AsSpan(0, (int)n), checksumVerified: true);
            else _dispatcher?.DeliverFrame(this, buf.AsSpan(0, (int)n));
        }
    }

    public void WriteFrame(ReadOnlySpan<byte> frame)
    {
        if (_disposed) return;
        fixed (byte* b = frame)
        {
            while (true)
            {
                nint n = write(_fd, b, frame.Length);
                if (n >= 0) return;
                int e = Marshal.GetLastPInvokeError();
                if (e == EINTR) continue;
                Interlocked.Increment(ref WriteErrors);
                return;
            }
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _reader?.Join(1000);
        if (_ownsFd) close(_fd);
        _fd = -1;
    }
}
