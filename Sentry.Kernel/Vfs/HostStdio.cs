using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;
using Sentry.Platform;

namespace Sentry.Kernel.Vfs;

/// <summary>
/// One of the host descriptors wired to the application's stdio (terminal, pipe or file of the
/// caller). Reads, writes and the terminal ioctls a program needs to behave like it does natively
/// (TCGETS, TIOCGWINSZ, ...) go to the host descriptor.
/// </summary>
public sealed unsafe class HostStdio : FileDescription
{
    const int SYS_read = 0, SYS_write = 1, SYS_fstat = 5, SYS_lseek = 8, SYS_ioctl = 16, SYS_pread64 = 17, SYS_pwrite64 = 18, SYS_fcntl = 72;

    readonly int _fd;
    readonly bool _mayBlock;
    /// <summary>A descriptor Sentry opened itself (a reopen through /dev/stdin): closed with the description.</summary>
    bool _owned;

    public HostStdio(int hostFd, string path)
    {
        _fd = hostFd;
        Path = path;
        LinuxStat st;
        _mayBlock = HostSyscall.Call(SYS_fstat, hostFd, (long)&st) < 0 || (st.st_mode & Linux.S_IFMT) != Linux.S_IFREG;
        long fl = HostSyscall.Call(SYS_fcntl, hostFd, Linux.F_GETFL);
        Flags = fl < 0 ? Linux.O_RDWR : (int)fl & (Linux.O_ACCMODE | Linux.O_APPEND | Linux.O_NONBLOCK);
    }

    /// <summary>
    /// /dev/stdin, /proc/self/fd/0: a new host description of the same file (its own offset, the
    /// access mode asked for), made by opening the host's magic link of the descriptor Sentry was given.
    /// </summary>
    public override FileDescription? Reopen(Task task, int flags)
    {
        int hostFlags = (flags & (Linux.O_ACCMODE | Linux.O_APPEND | Linux.O_NONBLOCK | Linux.O_TRUNC)) | Linux.O_CLOEXEC | Linux.O_NOCTTY;
        long fd;
        fixed (byte* p = System.Text.Encoding.ASCII.GetBytes($"/proc/self/fd/{_fd}\0"))
            fd = HostSyscall.CallRestarting(257 /* openat */, Linux.AT_FDCWD, (long)p, hostFlags, 0);
        if (fd < 0) return null;
        return new HostStdio((int)fd, Path) { _owned = true };
    }

    protected override void OnLastClose()
    {
        if (_owned) HostSyscall.Call(3 /* close */, _fd);
    }

    public override long Read(Span<byte> buffer)
    {
        // A terminal or pipe may block for ever: wait in the host's poll beside the task's wake
        // eventfd, so a signal for the task interrupts the wait as it would natively.
        var task = Task.Current;
        if (_mayBlock && task != null && (Flags & Linux.O_NONBLOCK) == 0 && buffer.Length > 0)
        {
            long w = WaitReadable(task, Linux.O_RDONLY);
            if (w < 0) return w;
        }
        fixed (byte* p = buffer) return HostSyscall.CallRestarting(SYS_read, _fd, (long)p, buffer.Length);
    }

    long WaitReadable(Task task, int _)
    {
        int wake = task.WakeFd;
        int* fds = stackalloc int[4] { _fd, PollEvents.POLLIN, wake, PollEvents.POLLIN };
        while (true)
        {
            fds[1] = PollEvents.POLLIN; fds[3] = PollEvents.POLLIN; // events in the low half, revents cleared
            long r = HostSyscall.Call(7 /* poll */, (long)fds, 2, -1);
            if (r == -Errno.EINTR) { if (task.SignalPending) return -Signals.SignalDelivery.ERESTARTSYS; continue; }
            if (r < 0) return 0; // let the read itself report the problem
            if ((fds[3] >> 16) != 0) task.DrainWake();
            if (task.SignalPending) return -Signals.SignalDelivery.ERESTARTSYS;
            if ((fds[1] >> 16) != 0) return 0;
        }
    }

    public override int Poll(int events)
    {
        int* fds = stackalloc int[2] { _fd, events & 0xffff };
        long r = HostSyscall.Call(7 /* poll */, (long)fds, 1, 0);
        return r <= 0 ? 0 : (fds[1] >> 16) & 0xffff;
    }

    public override int HostPollFd => _fd;

    public override long Write(ReadOnlySpan<byte> buffer)
    {
        fixed (byte* p = buffer) return HostSyscall.CallRestarting(SYS_write, _fd, (long)p, buffer.Length);
    }

    public override long PRead(Span<byte> buffer, long offset)
    {
        fixed (byte* p = buffer) return HostSyscall.CallRestarting(SYS_pread64, _fd, (long)p, buffer.Length, offset);
    }

    public override long PWrite(ReadOnlySpan<byte> buffer, long offset)
    {
        fixed (byte* p = buffer) return HostSyscall.CallRestarting(SYS_pwrite64, _fd, (long)p, buffer.Length, offset);
    }

    public override long Seek(long offset, int whence) => HostDescriptor.Seek(_fd, offset, whence);

    public override long Stat(out LinuxStat st) => HostDescriptor.Stat(_fd, out st);

    /// <summary>Terminal queries pass through; changing the caller's terminal (TCSETS) does too, as
    /// a program run natively would. Anything else is refused as not-a-tty.</summary>
    public override long Ioctl(Task task, uint cmd, ulong arg)
    {
        int size = cmd switch
        {
            // The kernel's struct termios (36 bytes), not glibc's 60-byte one: copying 60 smashed the caller's stack.
            Linux.TCGETS or Linux.TCSETS or Linux.TCSETSW or Linux.TCSETSF => Tty.Termios.Size,
            Linux.TIOCGWINSZ or Linux.TIOCSWINSZ => 8,
            Linux.TIOCGPGRP or Linux.FIONREAD => 4,
            _ => -1,
        };
        if (size < 0) return -Errno.ENOTTY;
        bool toHost = cmd is Linux.TCSETS or Linux.TCSETSW or Linux.TCSETSF or Linux.TIOCSWINSZ;
        byte* buf = stackalloc byte[64];
        var span = new Span<byte>(buf, size);
        if (toHost && task.Mm.CopyIn(arg, span) < 0) return -Errno.EFAULT;
        long r = HostSyscall.Call(SYS_ioctl, _fd, cmd, (long)buf);
        if (r < 0) return r;
        if (cmd == Linux.TIOCGPGRP)
        {
            // The host's process group means nothing inside; the application's own group is in the foreground.
            *(int*)buf = task.Pid;
        }
        if (!toHost && task.Mm.CopyOut(arg, span) < 0) return -Errno.EFAULT;
        return r;
    }
}
