using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Sentry.P9;

/// <summary>
/// A connected stream socket (AF_UNIX socketpair or a connected socket) carrying 9P frames, with
/// host file descriptors passed alongside frames by SCM_RIGHTS. Received bytes are buffered, so
/// one recvmsg may deliver several frames; a frame is returned only whole and only if its size is
/// within <see cref="MaxFrameSize"/> (the msize).
/// <para>
/// Fd passing: the sender attaches the fd to the one sendmsg that carries the whole frame.
/// Linux delivers it with the recvmsg that reads the first bytes sent with it and ends that
/// recvmsg within them, so the fd belongs to the last frame starting in that recvmsg's data:
/// exact even when frames are pipelined. One fd per frame (the first); any other fd, or one that
/// matches no frame, is closed. Received fds are close-on-exec.
/// </para>
/// <para>
/// Not thread-safe, except that one thread may <see cref="Send"/> while another
/// <see cref="Receive"/>s, and <see cref="Shutdown"/> may be called from any thread.
/// </para>
/// </summary>
public sealed unsafe class P9Socket : IDisposable
{
    /// <summary>Room for this many fds per recvmsg; the kernel closes any beyond (MSG_CTRUNC).</summary>
    const int MaxFdsPerRecv = 8;
    /// <summary>Fds kept for frames not yet returned; beyond this a flooding peer's fds are closed at once.</summary>
    const int MaxPendingFds = 64;

    /// <summary>An fd received with the stream bytes [Start, End) (offsets from the start of the stream).</summary>
    readonly record struct ReceivedFd(int Fd, long Start, long End);

    readonly byte[] _buf;
    readonly bool _ownsFd;
    readonly Queue<ReceivedFd> _fds = new();
    long _base;         // stream offset of _buf[0]
    int _start, _end;   // buffered bytes not yet returned: _buf[_start.._end)
    int _frameLength;   // length of the frame last returned, which starts at _start
    int _fd;

    /// <param name="fd">A connected, blocking stream socket.</param>
    /// <param name="maxFrameSize">Largest frame accepted (the msize to propose); also the buffer size.</param>
    /// <param name="ownsFd">Close <paramref name="fd"/> on <see cref="Dispose"/>.</param>
    public P9Socket(int fd, int maxFrameSize, bool ownsFd = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFrameSize, P9.HeaderSize + P9.P9_IOHDRSZ);
        _fd = fd;
        _ownsFd = ownsFd;
        _buf = GC.AllocateUninitializedArray<byte>(maxFrameSize, pinned: true);
        MaxFrameSize = maxFrameSize;
    }

    public int Fd => _fd;

    /// <summary>Frames larger than this are a protocol error.</summary>
    public int MaxFrameSize { get; private set; }

    /// <summary>Lowers <see cref="MaxFrameSize"/> to the negotiated msize (never raises it).</summary>
    public void LimitFrameSize(int size) => MaxFrameSize = Math.Clamp(size, P9.HeaderSize, MaxFrameSize);

    /// <summary>
    /// Sends one whole frame, with <paramref name="fd"/> attached when it is not negative (the
    /// caller keeps its own copy). Returns 0 or -errno (-EPIPE once the peer has gone).
    /// </summary>
    public int Send(ReadOnlySpan<byte> frame, int fd = -1)
    {
        if (_fd < 0) return -EBADF;
        long* control = stackalloc long[(CMSG_SPACE(sizeof(int)) + 7) / 8];
        fixed (byte* p = frame)
        {
            int done = 0;
            while (done < frame.Length)
            {
                iovec iov = new() { iov_base = p + done, iov_len = (size_t)(frame.Length - done) };
                msghdr msg = new() { msg_iov = &iov, msg_iovlen = 1 };
                if (fd >= 0 && done == 0)
                {
                    msg.msg_control = control;
                    msg.msg_controllen = CMSG_SPACE(sizeof(int));
                    cmsghdr* c = CMSG_FIRSTHDR(&msg);
                    c->cmsg_level = SOL_SOCKET;
                    c->cmsg_type = SCM_RIGHTS;
                    // Exactly the header and one fd: Tmds.LibC's CMSG_LEN rounds up to 8 bytes, which made the
                    // kernel pass a second descriptor (fd 0, from the zeroed buffer) beside it.
                    c->cmsg_len = sizeof(cmsghdr) + sizeof(int);
                    *(int*)CMSG_DATA(c) = fd;
                }
                long n = sendmsg(_fd, &msg, MSG_NOSIGNAL);
                if (n < 0)
                {
                    int e = errno;
                    if (e == EINTR) continue; // the runtime's GC signals
                    return -e;
                }
                done += (int)n;
            }
        }
        return 0;
    }

    /// <summary>
    /// Waits for the next whole frame. Returns 0 with <paramref name="frame"/> (valid until the
    /// next Receive) and the fd that came with it (or -1; the caller owns it), or -errno:
    /// -ECONNRESET when the peer closed, -EPROTO for a size outside [7, MaxFrameSize] (the stream is
    /// then out of step for good), or the recvmsg error.
    /// </summary>
    public int Receive(out ReadOnlySpan<byte> frame, out int fd)
    {
        frame = default;
        fd = -1;
        if (_fd < 0) return -EBADF;
        _start += _frameLength;
        _frameLength = 0;
        while (true)
        {
            int buffered = _end - _start;
            if (buffered >= 4)
            {
                if (!P9Frame.TryReadSize(_buf.AsSpan(_start, buffered), (uint)MaxFrameSize, out int size)) return -EPROTO;
                if (buffered >= size)
                {
                    _frameLength = size;
                    frame = _buf.AsSpan(_start, size);
                    fd = TakeFd(_base + _start, size);
                    return 0;
                }
            }
            if (_start > 0)
            {
                // Make room for the rest of the frame: it must fit, as size <= MaxFrameSize <= buffer.
                _buf.AsSpan(_start, buffered).CopyTo(_buf);
                _base += _start;
                _start = 0;
                _end = buffered;
            }
            long n = ReceiveSome();
            if (n < 0) return (int)n;
            if (n == 0) return -ECONNRESET;
            _end += (int)n;
        }
    }

    /// <summary>The fd of the frame at stream offset <paramref name="start"/>, or -1; closes fds whose frame has passed.</summary>
    int TakeFd(long start, int size)
    {
        int fd = -1;
        while (_fds.TryPeek(out ReceivedFd r))
        {
            bool ours = r.Start <= start && start < r.End && start + size >= r.End;
            if (!ours && r.End > start) break; // a later frame's
            _fds.Dequeue();
            if (ours && fd < 0) fd = r.Fd;
            else close(r.Fd);
        }
        return fd;
    }

    long ReceiveSome()
    {
        int controlSize = CMSG_SPACE(sizeof(int) * MaxFdsPerRecv);
        long* control = stackalloc long[(controlSize + 7) / 8];
        fixed (byte* p = _buf)
        {
            iovec iov = new() { iov_base = p + _end, iov_len = (size_t)(_buf.Length - _end) };
            msghdr msg = new() { msg_iov = &iov, msg_iovlen = 1, msg_control = control, msg_controllen = controlSize };
            long n;
            do n = recvmsg(_fd, &msg, MSG_CMSG_CLOEXEC);
            while (n < 0 && errno == EINTR);
            if (n < 0) return -errno;
            for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != null; c = CMSG_NXTHDR(&msg, c))
            {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
                int count = ((int)c->cmsg_len - sizeof(cmsghdr)) / sizeof(int);
                int* fds = (int*)CMSG_DATA(c);
                long at = _base + _end;
                for (int i = 0; i < count; i++)
                {
                    if (_fds.Count < MaxPendingFds) _fds.Enqueue(new ReceivedFd(fds[i], at, at + n));
                    else close(fds[i]);
                }
            }
            return n;
        }
    }

    /// <summary>Shuts the connection down both ways: a Receive blocked in another thread returns.</summary>
    public void Shutdown()
    {
        int fd = _fd;
        if (fd >= 0) shutdown(fd, SHUT_RDWR);
    }

    public void Dispose()
    {
        while (_fds.TryDequeue(out ReceivedFd r)) close(r.Fd);
        if (_ownsFd && _fd >= 0) close(_fd);
        _fd = -1;
    }
}
