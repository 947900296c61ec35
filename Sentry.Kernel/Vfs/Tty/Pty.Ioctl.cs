using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;
using static Sentry.Kernel.Abi.Linux;

namespace Sentry.Kernel.Vfs.Tty;

/// <summary>
/// Terminal ioctls (tty_ioctl(4)) on either side. As on Linux, the termios, the window size and
/// the job-control calls made on the master act on the slave.
/// </summary>
public sealed partial class Pty
{
    public long Ioctl(Task task, uint cmd, ulong arg, bool master)
    {
        if (!master && HungUp) return cmd == TIOCSPGRP ? -Errno.ENOTTY : -Errno.EIO;
        // Changing the terminal from a background group stops the group (SIGTTOU), as tty_ioctl(4) says.
        if (cmd is TCSETS or TCSETSW or TCSETSF or TCSETS2 or TCSETSW2 or TCSETSF2 or TCFLSH or TCSBRK or TCSBRKP or TIOCSPGRP)
        {
            long stop = CheckBackground(task, SIGTTOU);
            if (stop < 0) return cmd == TIOCSPGRP && stop == -Errno.EIO ? -Errno.ENOTTY : stop;
        }
        Span<byte> buf = stackalloc byte[Termios.Size2];
        switch (cmd)
        {
            case TCGETS or TCGETS2:
            {
                bool two = cmd == TCGETS2;
                var b = buf[..(two ? Termios.Size2 : Termios.Size)];
                lock (_lock) _ld.Termios.WriteTo(b, two);
                return task.Mm.CopyOut(arg, b) < 0 ? -Errno.EFAULT : 0;
            }
            case TCSETS or TCSETSW or TCSETSF or TCSETS2 or TCSETSW2 or TCSETSF2:
            {
                bool two = cmd is TCSETS2 or TCSETSW2 or TCSETSF2;
                var b = buf[..(two ? Termios.Size2 : Termios.Size)];
                if (task.Mm.CopyIn(arg, b) < 0) return -Errno.EFAULT;
                // TCSETSW waits for output to drain: a pty's output is already in the master's queue, as on Linux.
                lock (_lock)
                {
                    if (cmd is TCSETSF or TCSETSF2) _ld.FlushInput();
                    _ld.SetTermios(Termios.ReadFrom(b, two, _ld.Termios));
                }
                Queue.NotifyAll(); // a canonical switch may make input readable
                return 0;
            }
            case TIOCGWINSZ:
            {
                var b = buf[..WinSize.Size];
                lock (_lock) _winSize.WriteTo(b);
                return task.Mm.CopyOut(arg, b) < 0 ? -Errno.EFAULT : 0;
            }
            case TIOCSWINSZ:
            {
                var b = buf[..WinSize.Size];
                if (task.Mm.CopyIn(arg, b) < 0) return -Errno.EFAULT;
                SetWindowSize(WinSize.ReadFrom(b));
                return 0;
            }
            case FIONREAD:
            {
                int n;
                lock (_lock) n = master ? _ld.OutputAvailable : _ld.InputAvailable;
                return task.Mm.Write(arg, n) < 0 ? -Errno.EFAULT : 0;
            }
            case TIOCOUTQ:
                // Linux's pty driver keeps no output of its own: written data is already the other side's input.
                return task.Mm.Write(arg, 0) < 0 ? -Errno.EFAULT : 0;
            case TCFLSH:
                return Flush((int)arg, master);
            case TCSBRK or TCSBRKP:
                // tcdrain (arg != 0): nothing is queued in a pty's driver. A break (arg 0): a pty has no line to send it on, and Linux returns 0.
                return 0;
            case TIOCGETD:
                return task.Mm.Write(arg, 0 /* N_TTY */) < 0 ? -Errno.EFAULT : 0;
            case TIOCSETD:
            {
                if (task.Mm.Read(arg, out int ldisc) < 0) return -Errno.EFAULT;
                return ldisc == 0 ? 0 : -Errno.EINVAL; // only N_TTY exists here
            }
            case TIOCSCTTY:
                return SetControlling(task, arg == 1);
            case TIOCNOTTY:
                return master ? -Errno.ENOTTY : GiveUp(task);
            case TIOCGPGRP:
            {
                if (!master && !IsControllingOf(task)) return -Errno.ENOTTY;
                int pgrp;
                lock (Sandbox.TreeLock) pgrp = ForegroundPgrp;
                return task.Mm.Write(arg, pgrp) < 0 ? -Errno.EFAULT : 0;
            }
            case TIOCSPGRP:
            {
                if (task.Mm.Read(arg, out int pgrp) < 0) return -Errno.EFAULT;
                return SetForeground(task, pgrp);
            }
            case TIOCGSID:
            {
                if (!master && !IsControllingOf(task)) return -Errno.ENOTTY;
                int sid;
                lock (Sandbox.TreeLock) sid = Session;
                if (sid == 0) return -Errno.ENOTTY;
                return task.Mm.Write(arg, sid) < 0 ? -Errno.EFAULT : 0;
            }
        }
        // TIOCGPTPEER is a terminal ioctl that only a master can answer: EIO from a slave, as on Linux.
        if (cmd == TIOCGPTPEER && !master) return -Errno.EIO;
        return master ? MasterIoctl(task, cmd, arg) : -Errno.ENOTTY;
    }

    /// <summary>The calls only the master answers: its index, the slave's lock, opening the slave (TIOCGPTPEER).</summary>
    long MasterIoctl(Task task, uint cmd, ulong arg)
    {
        switch (cmd)
        {
            case TIOCGPTN:
                return task.Mm.Write(arg, Index) < 0 ? -Errno.EFAULT : 0;
            case TIOCSPTLCK:
            {
                if (task.Mm.Read(arg, out int on) < 0) return -Errno.EFAULT;
                Locked = on != 0;
                return 0;
            }
            case TIOCGPTLCK:
                return task.Mm.Write(arg, Locked ? 1 : 0) < 0 ? -Errno.EFAULT : 0;
            case TIOCGPTPEER:
            {
                // Like Linux, flags it has no use for are ignored rather than refused.
                int flags = (int)arg;
                long r = OpenSlave(task, flags | O_NOCTTY, $"/dev/pts/{Index}", out var file);
                if (r < 0) return r;
                file!.Flags = flags & (O_ACCMODE | O_NONBLOCK);
                file.Inode = Fs.SlaveNode(this);
                return task.Fds.Install(file, (flags & O_CLOEXEC) != 0);
            }
        }
        return -Errno.ENOTTY;
    }

    long Flush(int queue, bool master)
    {
        if (queue is not (TCIFLUSH or TCOFLUSH or TCIOFLUSH)) return -Errno.EINVAL;
        // Each side's input is flushed; neither has output of its own to flush: what one side
        // writes is the other side's input at once (Linux's output flush of a pty reaches only
        // bytes still in flight, which do not exist here). The master's input is the slave's output.
        if (queue == TCOFLUSH) return 0;
        lock (_lock)
        {
            if (master) _ld.FlushOutput();
            else _ld.FlushInput();
        }
        Queue.NotifyAll();
        return 0;
    }
}
