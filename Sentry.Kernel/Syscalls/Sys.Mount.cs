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
        if ((flags & MS_REMOUNT) != 0)
        {
            var mounted = t.Sandbox.Mounts.MountedAt([.. Names(target.Path)]);
            if (mounted == null) return -Errno.EINVAL;
            return mounted is TmpfsNode { Fs: var remounted } && mounted == remounted.Root ? RemountTmpfs(t, remounted, a.A4) : 0;
        }
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
                {
                    r = ReadTmpfsOptions(t, a.A4, out var o);
                    if (r < 0) return r;
                    var fs = new Tmpfs(t.Sandbox.Platform.Memory, (uint)S_IFDIR | o.Mode) { LimitPages = o.LimitPages };
                    fs.Root.OwnerUid = o.Uid ?? t.Uid;
                    fs.Root.OwnerGid = o.Gid ?? t.Gid;
                    root = fs.Root;
                    options += o.Shown(Tmpfs.RamPages);
                    break;
                }
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

    /// <summary>The tmpfs options in mount(2)'s data argument (none when it is null).</summary>
    static long ReadTmpfsOptions(Task t, ulong data, out TmpfsOptions options)
    {
        string text = "";
        options = default;
        if (data != 0)
        {
            // Linux copies at most a page of options.
            Span<byte> buf = stackalloc byte[4096];
            int n = t.Mm.ReadCString(data, buf);
            if (n < 0) return n;
            text = System.Text.Encoding.UTF8.GetString(buf[..n]);
        }
        return TmpfsOptions.Parse(text, Tmpfs.RamPages, out options);
    }

    /// <summary>
    /// mount -o remount,size=N of a tmpfs: a new limit, refused (EINVAL) as shmem_reconfigure
    /// refuses it: below what is in use, or a limit for a file system mounted without one.
    /// </summary>
    static long RemountTmpfs(Task t, Tmpfs fs, ulong data)
    {
        long r = ReadTmpfsOptions(t, data, out var o);
        if (r < 0 || !o.SizeGiven) return r;
        lock (fs.Lock)
        {
            if (o.LimitPages != 0 && (fs.LimitPages == 0 || o.LimitPages < fs.UsedPages)) return -Errno.EINVAL;
            fs.LimitPages = o.LimitPages;
        }
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
