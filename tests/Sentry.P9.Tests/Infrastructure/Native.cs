using System.Text;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Sentry.P9.Tests;

/// <summary>What lstat(2) says about a host file, for comparing with Rgetattr.</summary>
public readonly record struct HostStat(ulong Dev, ulong Ino, uint Mode, uint Uid, uint Gid, ulong NLink, long Size,
    long Blocks, long MTimeSec, long MTimeNsec, long ATimeSec, long ATimeNsec);

/// <summary>Host calls the tests need that .NET does not offer: socket pairs, pipes, stat, fd passing.</summary>
public static unsafe class Native
{
    public static (int A, int B) SocketPair()
    {
        int* sv = stackalloc int[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) throw new InvalidOperationException($"socketpair: errno {errno}");
        return (sv[0], sv[1]);
    }

    public static (int Read, int Write) Pipe()
    {
        int* fds = stackalloc int[2];
        if (pipe2(fds, O_CLOEXEC) < 0) throw new InvalidOperationException($"pipe2: errno {errno}");
        return (fds[0], fds[1]);
    }

    public static void Close(int fd)
    {
        if (fd >= 0) close(fd);
    }

    public static HostStat Lstat(string path) => Stat(path, follow: false);

    public static HostStat Stat(string path, bool follow = true)
    {
        stat st;
        byte[] p = Encoding.UTF8.GetBytes(path + "\0");
        int rc;
        fixed (byte* pp = p) rc = follow ? stat(pp, &st) : lstat(pp, &st);
        if (rc < 0) throw new InvalidOperationException($"stat {path}: errno {errno}");
        return From(st);
    }

    public static HostStat Fstat(int fd)
    {
        stat st;
        if (fstat(fd, &st) < 0) throw new InvalidOperationException($"fstat {fd}: errno {errno}");
        return From(st);
    }

    static HostStat From(in stat st) => new(st.st_dev, st.st_ino, (uint)st.st_mode, (uint)st.st_uid, (uint)st.st_gid, st.st_nlink,
        st.st_size, st.st_blocks, st.st_mtim.tv_sec, st.st_mtim.tv_nsec, st.st_atim.tv_sec, st.st_atim.tv_nsec);

    /// <summary>Whether every write end of the pipe whose read end is <paramref name="readFd"/> is closed (POLLHUP) within the timeout.</summary>
    public static bool PipeWritersGone(int readFd, int timeoutMs)
    {
        pollfd p = new() { fd = readFd, events = POLLIN };
        int rc;
        do rc = poll(&p, 1, timeoutMs); while (rc < 0 && errno == EINTR);
        return rc == 1 && (p.revents & POLLHUP) != 0;
    }

    /// <summary>Connects a blocking AF_UNIX stream socket to <paramref name="path"/>; returns the fd or -errno.</summary>
    public static int ConnectUnix(string path)
    {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return -errno;
        sockaddr_un addr = default;
        addr.sun_family = AF_UNIX;
        byte[] p = Encoding.UTF8.GetBytes(path);
        if (p.Length >= sockaddr_un.sun_path_length) { close(fd); return -ENAMETOOLONG; }
        for (int i = 0; i < p.Length; i++) addr.sun_path[i] = p[i];
        if (connect(fd, (sockaddr*)&addr, (socklen_t)sizeof(sockaddr_un)) < 0)
        {
            int e = errno;
            close(fd);
            return -e;
        }
        return fd;
    }

    /// <summary>Writes <paramref name="data"/> with one sendmsg carrying all of <paramref name="fds"/> (SCM_RIGHTS).</summary>
    public static void SendWithFds(int socket, ReadOnlySpan<byte> data, params int[] fds)
    {
        int controlSize = CMSG_SPACE(sizeof(int) * fds.Length);
        long* control = stackalloc long[(controlSize + 7) / 8];
        fixed (byte* p = data)
        {
            iovec iov = new() { iov_base = p, iov_len = (size_t)data.Length };
            msghdr msg = new() { msg_iov = &iov, msg_iovlen = 1, msg_control = control, msg_controllen = controlSize };
            cmsghdr* c = CMSG_FIRSTHDR(&msg);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int) * fds.Length);
            for (int i = 0; i < fds.Length; i++) ((int*)CMSG_DATA(c))[i] = fds[i];
            if (sendmsg(socket, &msg, MSG_NOSIGNAL) != data.Length) throw new InvalidOperationException($"sendmsg: errno {errno}");
        }
    }

    /// <summary>Plain write of all of <paramref name="data"/>.</summary>
    public static void WriteAll(int fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            int done = 0;
            while (done < data.Length)
            {
                long n = write(fd, p + done, (size_t)(data.Length - done));
                if (n < 0 && errno == EINTR) continue;
                if (n <= 0) throw new InvalidOperationException($"write: errno {errno}");
                done += (int)n;
            }
        }
    }

    /// <summary>statvfs(3): block size, total blocks, total inodes and longest name of the file system holding <paramref name="path"/>.</summary>
    public static (ulong BlockSize, ulong Blocks, ulong Files, ulong NameMax) StatVfs(string path)
    {
        statvfs st;
        byte[] p = Encoding.UTF8.GetBytes(path + "\0");
        int rc;
        fixed (byte* pp = p) rc = statvfs(pp, &st);
        if (rc < 0) throw new InvalidOperationException($"statvfs {path}: errno {errno}");
        return (st.f_bsize, st.f_blocks, st.f_files, st.f_namemax);
    }

    /// <summary>fcntl(F_SETLK) of a process-associated POSIX lock; returns 0 or -errno.</summary>
    public static int SetLock(int fd, short type, long start, long length)
    {
        flock lk = new() { l_type = type, l_whence = (short)SEEK_SET, l_start = start, l_len = length };
        return fcntl(fd, F_SETLK, &lk) < 0 ? -errno : 0;
    }

    public static int MkFifo(string path, uint mode)
    {
        byte[] p = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* pp = p) return mkfifo(pp, (mode_t)mode) < 0 ? -errno : 0;
    }

    public static bool IsCloseOnExec(int fd) => (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0;

    /// <summary>Whether <paramref name="fd"/> is an open descriptor of this process.</summary>
    public static bool IsOpen(int fd) => fcntl(fd, F_GETFD) >= 0;

    public static void Shutdown(int fd) => shutdown(fd, SHUT_RDWR);

    public static uint EffectiveUid => geteuid();
    public static uint EffectiveGid => getegid();
}
