using System.Text;
using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;
using Sentry.Kernel.Vfs;
using Sentry.Platform;

namespace Sentry.Kernel.Fs;

/// <summary>
/// A node of the host root, seen read-only: the overlay's lower layer for `sentry do`. Sentry
/// walks it one component at a time with O_NOFOLLOW-style calls, so a host symlink is returned to
/// the walker as a link (and resolved inside the sandbox's tree), never followed by the host.
/// The Gofer replaces this so that Sentry stops opening container files itself.
/// </summary>
public sealed unsafe class HostInode : Inode
{
    const int SYS_readlink = 89, SYS_newfstatat = 262, SYS_openat = 257, SYS_statfs = 137;

    readonly string _path;
    readonly LinuxStat _st;
    readonly LookupCache _cache;
    /// <summary>Children looked up so far, and names known to be absent (null).</summary>
    Dictionary<string, HostInode?>? _children;

    HostInode(string path, in LinuxStat st, LookupCache cache) { _path = path; _st = st; _cache = cache; }

    /// <summary>The host's root directory.</summary>
    public static HostInode Root()
    {
        long r = StatPath("/", out var st);
        if (r < 0) throw new InvalidOperationException($"stat / failed: {r}");
        return new HostInode("/", st, new LookupCache());
    }

    public string HostPath => _path;
    public override uint Mode => _st.st_mode;
    public override uint Uid => _st.st_uid;
    public override uint Gid => _st.st_gid;

    static long StatPath(string path, out LinuxStat st)
    {
        LinuxStat s;
        long r;
        fixed (byte* p = Encoding.UTF8.GetBytes(path + "\0")) r = HostSyscall.Call(SYS_newfstatat, Linux.AT_FDCWD, (long)p, (long)&s, Linux.AT_SYMLINK_NOFOLLOW);
        st = s;
        return r;
    }

    string ChildPath(string name) => _path == "/" ? "/" + name : _path + "/" + name;

    /// <summary>The attributes as first seen: the lower layer is the sandbox's read-only view, taken as the host's files were.</summary>
    public override long Stat(out LinuxStat st)
    {
        st = _st;
        return 0;
    }

    public override long Statx(uint mask, out LinuxStatx stx)
    {
        LinuxStatx x;
        long r;
        fixed (byte* p = Encoding.UTF8.GetBytes(_path + "\0")) r = HostSyscall.Call(332 /* statx */, Linux.AT_FDCWD, (long)p, Linux.AT_SYMLINK_NOFOLLOW, mask, (long)&x);
        stx = x;
        return r;
    }

    public override long Lookup(Task task, string name, out Inode? child)
    {
        child = null;
        if (!IsDir) return -Errno.ENOTDIR;
        lock (_cache)
            if (_children != null && _children.TryGetValue(name, out var known))
            {
                child = known;
                return known == null ? -Errno.ENOENT : 0;
            }
        string p = ChildPath(name);
        long r = StatPath(p, out var st);
        if (r < 0 && r != -Errno.ENOENT) return r;
        var found = r < 0 ? null : new HostInode(p, st, _cache);
        lock (_cache)
        {
            _cache.Added(this);
            (_children ??= new())[name] = found;
        }
        child = found;
        return found == null ? -Errno.ENOENT : 0;
    }

    public override long ReadLink(Task task, out string target)
    {
        target = "";
        if (!IsSymlink) return -Errno.EINVAL;
        byte* buf = stackalloc byte[PathWalker.PATH_MAX];
        long r;
        fixed (byte* pp = Encoding.UTF8.GetBytes(_path + "\0")) r = HostSyscall.Call(SYS_readlink, (long)pp, (long)buf, PathWalker.PATH_MAX);
        if (r < 0) return r;
        target = Encoding.UTF8.GetString(buf, (int)r);
        return 0;
    }

    public override long Open(Task task, int flags, string path, out FileDescription? file)
    {
        file = null;
        bool isPath = (flags & Linux.O_PATH) != 0;
        int acc = flags & Linux.O_ACCMODE;
        if (!isPath && (acc != Linux.O_RDONLY || (flags & Linux.O_TRUNC) != 0)) return -Errno.EROFS;
        uint type = Mode & Linux.S_IFMT;
        if (!isPath && type != Linux.S_IFREG && type != Linux.S_IFDIR) return -Errno.EACCES; // host devices, FIFOs and sockets stay the host's
        if (IsDir && !isPath) { file = new DirectoryFile(this, flags, path); return 0; }
        int hostFlags = Linux.O_RDONLY | Linux.O_CLOEXEC | Linux.O_NOFOLLOW | Linux.O_NOCTTY | (isPath ? Linux.O_PATH : 0);
        long fd;
        fixed (byte* p = Encoding.UTF8.GetBytes(_path + "\0")) fd = HostSyscall.CallRestarting(SYS_openat, Linux.AT_FDCWD, (long)p, hostFlags, 0);
        if (fd < 0) return fd;
        file = new HostFile((int)fd, flags, path, IsDir, _st.st_size);
        return 0;
    }

    public override long ReadDir(Task task, List<DirEntry> entries)
    {
        if (!IsDir) return -Errno.ENOTDIR;
        long fd;
        fixed (byte* p = Encoding.UTF8.GetBytes(_path + "\0"))
            fd = HostSyscall.CallRestarting(SYS_openat, Linux.AT_FDCWD, (long)p, Linux.O_RDONLY | Linux.O_CLOEXEC | Linux.O_DIRECTORY | Linux.O_NOFOLLOW, 0);
        if (fd < 0) return fd;
        try { return DirEntry.ReadHost((int)fd, entries); }
        finally { HostSyscall.Call(3 /* close */, fd); }
    }

    public override long GetXattr(Task task, string name, Span<byte> value)
    {
        long r;
        fixed (byte* p = Encoding.UTF8.GetBytes(_path + "\0"))
        fixed (byte* n = Encoding.UTF8.GetBytes(name + "\0"))
        fixed (byte* v = value)
            r = HostSyscall.Call(192 /* lgetxattr */, (long)p, (long)n, value.Length == 0 ? 0 : (long)v, value.Length);
        return r;
    }

    public override long ListXattr(Task task, Span<byte> list)
    {
        long r;
        fixed (byte* p = Encoding.UTF8.GetBytes(_path + "\0"))
        fixed (byte* v = list)
            r = HostSyscall.Call(195 /* llistxattr */, (long)p, list.Length == 0 ? 0 : (long)v, list.Length);
        return r;
    }

    /// <summary>
    /// Bounds the lookup cache of one lower tree: past the limit every directory's cache is
    /// dropped (cheap, and a program walking a huge tree keeps memory flat).
    /// </summary>
    sealed class LookupCache
    {
        const int Limit = 32768;
        readonly List<HostInode> _dirs = new();
        int _entries;

        public void Added(HostInode dir)
        {
            if (dir._children == null) _dirs.Add(dir);
            if (++_entries <= Limit) return;
            foreach (var d in _dirs) d._children = null;
            _dirs.Clear();
            _dirs.Add(dir);
            _entries = 1;
        }
    }

    public override long StatFs(Span<long> st)
    {
        long r;
        fixed (byte* p = Encoding.UTF8.GetBytes(_path + "\0"))
        fixed (long* s = st)
            r = HostSyscall.Call(SYS_statfs, (long)p, (long)s);
        if (r < 0) return r;
        st[10] |= ST_RDONLY; // f_flags: the host is read-only to the sandbox
        return 0;
    }
}
