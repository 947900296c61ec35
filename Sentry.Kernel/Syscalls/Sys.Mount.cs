using Sentry.Kernel.Abi;
using Sentry.Kernel.Fs;
using Sentry.Kernel.Tasks;
using Sentry.Kernel.Vfs;
using static Sentry.Kernel.Abi.Linux;

namespace Sentry.Kernel.Syscalls;

// mount(2) and umount2(2) inside the sandbox: new tmpfs instances, more views of the sandbox's
// procfs and sysfs, and bind mounts of the sandbox's own tree. Nothing here reaches the host's
// mounts; other file system types are refused like an unknown type (ENODEV).
public static partial class Sys
{
    const ulong MS_RDONLY = 1, MS_REMOUNT = 32, MS_BIND = 4096, MS_REC = 16384, MS_PRIVATE = 1 << 18, MS_SLAVE = 1 << 19,
        MS_SHARED = 1 << 20, MS_UNBINDABLE = 1 << 17;

    internal static void RegisterMount(SyscallHandler?[] t)
    {
        t[165] = Mount;
        t[166] = (Task k, in SyscallArgs a) => Umount(k, a.A0, (int)a.A1);
    }

    static long Mount(Task t, in SyscallArgs a)
    {
        if (t.Uid != 0) return -Errno.EPERM;
        ulong flags = a.A3;
        long r = Walk(t, AT_FDCWD, a.A1, true, false, out var target, out _);
        if (r < 0) return r;
        if (target.Node == null) return -Errno.ENOENT;
        // Propagation changes (mount --make-private /) have nothing to propagate to: one namespace.
        if ((flags & (MS_PRIVATE | MS_SLAVE | MS_SHARED | MS_UNBINDABLE)) != 0) return 0;
        if ((flags & MS_REMOUNT) != 0) return t.Sandbox.Mounts.MountedAt([.. Names(target.Path)]) != null ? 0 : -Errno.EINVAL;
        Inode root;
        string source = "none", type, options = (flags & MS_RDONLY) != 0 ? "ro" : "rw";
        if ((flags & MS_BIND) != 0)
        {
            r = Walk(t, AT_FDCWD, a.A0, true, false, out var src, out _);
            if (r < 0) return r;
            if (src.Node == null) return -Errno.ENOENT;
            if (src.Node.IsDir != target.Node.IsDir) return src.Node.IsDir ? -Errno.ENOTDIR : -Errno.EISDIR;
            (root, source, type) = (src.Node, src.Path, "bind");
        }
        else
        {
            if (!target.Node.IsDir) return -Errno.ENOTDIR;
            r = ReadPath(t, a.A2, out type);
            if (r < 0) return r;
            if (a.A0 != 0 && ReadPath(t, a.A0, out var s) == 0) source = s;
            switch (type)
            {
                case "tmpfs":
                    var fs = new Tmpfs(t.Sandbox.Platform.Memory);
                    fs.Root.OwnerUid = t.Uid;
                    fs.Root.OwnerGid = t.Gid;
                    root = fs.Root;
                    break;
                // Another view of the sandbox's own procfs or sysfs (a container's init mounting /proc).
                case "proc":
                    root = new SyntheticInode(VirtualNode.BuildProc(), SyntheticInode.PROC_SUPER_MAGIC);
                    options += ",nosuid,nodev,noexec,relatime";
                    break;
                case "sysfs":
                    root = new SyntheticInode(VirtualNode.BuildSys(), SyntheticInode.SYSFS_MAGIC);
                    options = "ro,nosuid,nodev,noexec,relatime";
                    break;
                default:
                    return -Errno.ENODEV;
            }
        }
        t.Sandbox.Mounts.Add(Names(target.Path), root, source, type, options);
        return 0;
    }

    static long Umount(Task t, ulong path, int flags)
    {
        const int MNT_FORCE = 1, MNT_DETACH = 2, MNT_EXPIRE = 4, UMOUNT_NOFOLLOW = 8;
        if ((flags & ~(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW)) != 0) return -Errno.EINVAL;
        if (t.Uid != 0) return -Errno.EPERM;
        long r = Walk(t, AT_FDCWD, path, (flags & UMOUNT_NOFOLLOW) == 0, false, out var l, out _);
        if (r < 0) return r;
        return t.Sandbox.Mounts.Remove(Names(l.Path)) ? 0 : -Errno.EINVAL;
    }

    static string[] Names(string canonical) => canonical.Split('/', StringSplitOptions.RemoveEmptyEntries);
}
