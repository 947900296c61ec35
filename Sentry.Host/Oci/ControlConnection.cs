using System.Text;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Sentry.Host.Oci;

/// <summary>
/// One connection on a container's control socket: text lines both ways, and host descriptors
/// passed with SCM_RIGHTS beside a line (an `exec`'s stdio). Blocking; each side owns its thread.
/// </summary>
public sealed unsafe class ControlConnection : IDisposable
{
    const int MaxFds = 8;
    int _fd;
    readonly List<byte> _pending = new();
    readonly List<int> _receivedFds = new();

    ControlConnection(int fd) { _fd = fd; }

    /// <summary>Connects to the socket at <paramref name="path"/>; null with <paramref name="problem"/> when nobody listens.</summary>
    public static ControlConnection? Connect(string path, out string problem)
    {
        problem = "";
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) { problem = $"socket: errno {errno}"; return null; }
        int r;
        using (var name = new ShortName(path))
        {
            if (!Address(name.Path, out var addr)) { close(fd); problem = $"{path}: path too long for a unix socket"; return null; }
            do r = connect(fd, (sockaddr*)&addr, (uint)sizeof(sockaddr_un));
            while (r < 0 && errno == EINTR);
        }
        if (r < 0) { problem = $"cannot reach the sandbox at {path}: errno {errno}"; close(fd); return null; }
        return new ControlConnection(fd);
    }

    /// <summary>Listens at <paramref name="path"/> (replacing a stale socket file); the listening fd.</summary>
    public static int Listen(string path)
    {
        File.Delete(path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) throw new InvalidOperationException($"socket: errno {errno}");
        using (var name = new ShortName(path))
        {
            if (!Address(name.Path, out var addr)) throw new InvalidOperationException($"{path}: path too long for a unix socket");
            if (bind(fd, (sockaddr*)&addr, (uint)sizeof(sockaddr_un)) < 0 || listen(fd, 64) < 0)
                throw new InvalidOperationException($"cannot listen at {path}: errno {errno}");
        }
        return fd;
    }

    /// <summary>Waits for the next connection on <paramref name="listenFd"/>; null once it is closed.</summary>
    public static ControlConnection? Accept(int listenFd)
    {
        while (true)
        {
            int c = accept4(listenFd, null, null, SOCK_CLOEXEC);
            if (c >= 0) return new ControlConnection(c);
            if (errno != EINTR && errno != ECONNABORTED) return null;
        }
    }

    /// <summary>
    /// A path short enough for sun_path (108 bytes): engines put container state deep (Docker:
    /// /run/docker/runtime-runc/moby/ID with a 64-character ID), so a long one is reached through
    /// its directory's descriptor, /proc/self/fd/N/NAME.
    /// </summary>
    readonly struct ShortName : IDisposable
    {
        readonly int _dirFd;
        public string Path { get; }

        public ShortName(string path)
        {
            _dirFd = -1;
            Path = path;
            if (Encoding.UTF8.GetByteCount(path) < 108) return;
            string dir = System.IO.Path.GetDirectoryName(path) ?? "/";
            fixed (byte* d = Encoding.UTF8.GetBytes(dir + "\0")) _dirFd = open(d, O_PATH | O_DIRECTORY | O_CLOEXEC);
            if (_dirFd >= 0) Path = $"/proc/self/fd/{_dirFd}/{System.IO.Path.GetFileName(path)}";
        }

        public void Dispose() { if (_dirFd >= 0) close(_dirFd); }
    }

    static bool Address(string path, out sockaddr_un addr)
    {
        addr = default;
        addr.sun_family = AF_UNIX;
        var bytes = Encoding.UTF8.GetBytes(path);
        if (bytes.Length >= 108) return false;
        fixed (sockaddr_un* a = &addr)
            for (int i = 0; i < bytes.Length; i++) a->sun_path[i] = bytes[i];
        return true;
    }

    /// <summary>Sends one line, with <paramref name="fds"/> attached (the caller keeps its copies). False once the peer is gone.</summary>
    public bool Send(string line, ReadOnlySpan<int> fds = default)
    {
        if (fds.Length > MaxFds) throw new ArgumentException("too many descriptors", nameof(fds));
        var bytes = Encoding.UTF8.GetBytes(line.Replace('\n', ' ') + "\n");
        int controlSize = CMSG_SPACE(sizeof(int) * MaxFds);
        long* control = stackalloc long[(controlSize + 7) / 8];
        fixed (byte* p = bytes)
        {
            int done = 0;
            while (done < bytes.Length)
            {
                iovec iov = new() { iov_base = p + done, iov_len = (size_t)(bytes.Length - done) };
                msghdr msg = new() { msg_iov = &iov, msg_iovlen = 1 };
                if (fds.Length > 0 && done == 0)
                {
                    msg.msg_control = control;
                    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.Length);
                    cmsghdr* c = CMSG_FIRSTHDR(&msg);
                    c->cmsg_level = SOL_SOCKET;
                    c->cmsg_type = SCM_RIGHTS;
                    // Exactly the header and the fds: Tmds.LibC's CMSG_LEN rounds up, which would pass a stray fd.
                    c->cmsg_len = sizeof(cmsghdr) + sizeof(int) * fds.Length;
                    for (int i = 0; i < fds.Length; i++) ((int*)CMSG_DATA(c))[i] = fds[i];
                }
                long n = sendmsg(_fd, &msg, MSG_NOSIGNAL);
                if (n < 0)
                {
                    if (errno == EINTR) continue;
                    return false;
                }
                done += (int)n;
            }
        }
        return true;
    }

    /// <summary>
    /// The next line (without its newline), or null at end of stream; descriptors that came since
    /// the last call are handed over in <paramref name="fds"/> (the caller closes them).
    /// </summary>
    public string? ReceiveLine(out int[] fds)
    {
        byte* buf = stackalloc byte[4096];
        int controlSize = CMSG_SPACE(sizeof(int) * MaxFds);
        long* control = stackalloc long[(controlSize + 7) / 8];
        while (true)
        {
            int nl = _pending.IndexOf((byte)'\n');
            if (nl >= 0)
            {
                string line = Encoding.UTF8.GetString(_pending.GetRange(0, nl).ToArray());
                _pending.RemoveRange(0, nl + 1);
                fds = [.. _receivedFds];
                _receivedFds.Clear();
                return line;
            }
            if (_pending.Count > 1 << 20) break; // no request is this long
            iovec iov = new() { iov_base = buf, iov_len = 4096 };
            msghdr msg = new() { msg_iov = &iov, msg_iovlen = 1, msg_control = control, msg_controllen = controlSize };
            long n;
            do n = recvmsg(_fd, &msg, MSG_CMSG_CLOEXEC);
            while (n < 0 && errno == EINTR);
            for (cmsghdr* c = n > 0 ? CMSG_FIRSTHDR(&msg) : null; c != null; c = CMSG_NXTHDR(&msg, c))
            {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
                int count = ((int)c->cmsg_len - sizeof(cmsghdr)) / sizeof(int);
                for (int i = 0; i < count; i++) _receivedFds.Add(((int*)CMSG_DATA(c))[i]);
            }
            if (n <= 0) break;
            for (int i = 0; i < n; i++) _pending.Add(buf[i]);
        }
        fds = [.. _receivedFds];
        _receivedFds.Clear();
        return null;
    }

    public void Dispose()
    {
        if (_fd >= 0) close(_fd);
        _fd = -1;
        foreach (int f in _receivedFds) close(f);
        _receivedFds.Clear();
    }
}
