using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs.Proc;

/// <summary>
/// /proc/&lt;pid&gt;/fd (one symlink per open fd, to the path it was opened by, or "pipe:[N]",
/// "anon_inode:[eventfd]", ... for files without one) and /proc/&lt;pid&gt;/fdinfo (position and
/// flags). Only the process's user (or root) may look in, as Linux's ptrace check allows.
/// </summary>
public static class ProcFds
{
    public static VirtualNode FdDir(ProcScope s, ulong ino, string name) =>
        new(name, VirtualNode.NodeType.Dir, ino)
        {
            Dev = ProcFs.Dev, Uid = s.Task.Uid, Gid = s.Task.Gid, Perm = 0x140 /* 0500 */, Time = ProcessDir.StartTimeUnix(s.Task),
            Lookup = (reader, n) => s.MayInspect(reader) && ProcFs.TryParsePidOrZero(n, out int fd) && s.Task.Fds.Get(fd) is { } f ? FdLink(s, ino, fd, f) : null,
            List = reader => s.MayInspect(reader) ? s.Task.Fds.Snapshot().Select(e => FdLink(s, ino, e.Fd, e.File)) : [],
        };

    public static VirtualNode FdInfoDir(ProcScope s, ulong ino, string name) =>
        new(name, VirtualNode.NodeType.Dir, ino)
        {
            Dev = ProcFs.Dev, Uid = s.Task.Uid, Gid = s.Task.Gid, Perm = 0x16d /* 0555 */, Time = ProcessDir.StartTimeUnix(s.Task),
            Lookup = (reader, n) => s.MayInspect(reader) && ProcFs.TryParsePidOrZero(n, out int fd) && s.Task.Fds.Get(fd) is { } f ? FdInfo(s, ino, fd, f) : null,
            List = reader => s.MayInspect(reader) ? s.Task.Fds.Snapshot().Select(e => FdInfo(s, ino, e.Fd, e.File)) : [],
        };

    /// <summary>The link of one fd: permission bits say how it is open (lr-x, l-wx, lrwx), as on Linux.</summary>
    static VirtualNode FdLink(ProcScope s, ulong dirIno, int fd, FileDescription f)
    {
        string name = fd.ToString();
        int acc = f.Flags & Linux.O_ACCMODE;
        int perm = (f.Flags & Linux.O_PATH) != 0 ? 0 : 0x40 /* x */ | (acc != Linux.O_WRONLY ? 0x100 : 0) | (acc != Linux.O_RDONLY ? 0x80 : 0);
        return new VirtualNode(name, VirtualNode.NodeType.Symlink, VirtualNode.InoOf(dirIno, name))
        {
            Dev = ProcFs.Dev, Uid = s.Task.Uid, Gid = s.Task.Gid, Perm = perm, Time = ProcessDir.StartTimeUnix(s.Task),
            Target = _ => LinkText(f),
            Opened = f,
        };
    }

    static VirtualNode FdInfo(ProcScope s, ulong dirIno, int fd, FileDescription f)
    {
        string name = fd.ToString();
        return new VirtualNode(name, VirtualNode.NodeType.File, VirtualNode.InoOf(dirIno, name))
        {
            Dev = ProcFs.Dev, Uid = s.Task.Uid, Gid = s.Task.Gid, Perm = 0x124, Time = ProcessDir.StartTimeUnix(s.Task), WriteError = -Errno.EINVAL,
            Content = (reader, o) =>
            {
                // The position of a file that has one (pipes and other streams: 0).
                long pos = f.Seek(0, Linux.SEEK_CUR);
                bool cloexec = s.Task.Fds.Get(fd) == f && s.Task.Fds.GetCloseOnExec(fd);
                ulong ino = f.Stat(out var st) == 0 ? st.st_ino : 0;
                int flags = f.Flags | (cloexec ? Linux.O_CLOEXEC : 0);
                o.Append($"pos:\t{Math.Max(pos, 0)}\nflags:\t0{Convert.ToString(flags, 8)}\nmnt_id:\t{ProcMounts.MountIdOf(reader.Sandbox, f.Path)}\nino:\t{ino}\n");
                return 0;
            },
        };
    }

    /// <summary>
    /// What readlink of an fd shows: the path the file was opened by. Stdio wired from the host has
    /// no path inside the sandbox: it shows as what it is (a pipe, a socket, /dev/null, a terminal).
    /// </summary>
    public static string LinkText(FileDescription f)
    {
        if (f is HostStdio && f.Stat(out var st) == 0)
        {
            switch (st.st_mode & Linux.S_IFMT)
            {
                case Linux.S_IFIFO: return $"pipe:[{st.st_ino}]";
                case Linux.S_IFSOCK: return $"socket:[{st.st_ino}]";
                case Linux.S_IFCHR:
                    uint major = LinuxStatx.Major(st.st_rdev), minor = LinuxStatx.Minor(st.st_rdev);
                    if (major == 1 && minor == 3) return "/dev/null";
                    if (major == 136) return $"/dev/pts/{minor}";
                    break;
            }
        }
        return f.Path;
    }
}
