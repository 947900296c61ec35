using System.Text;
using Sentry.Kernel.Abi;
using Sentry.Kernel.Memory;
using Sentry.Kernel.Tasks;
using Sentry.Kernel.Vfs;
using Sentry.P9;

namespace Sentry.Kernel.Fs;

/// <summary>
/// A node of a tree the Gofer serves: a fid of the 9P connection and the node's attributes. On
/// the overlay's read-only lower layer the attributes are those read when it was walked to and
/// lookups are cached (also misses): nobody changes that tree while the sandbox runs. On a volume
/// (a bind-mounted host directory, which the host may change too) every stat and lookup asks the
/// Gofer, and on a writable one the changes go to it (GoferInode.Change.cs). Regular files open
/// as the host fd the Gofer donates with Rlopen, so reads, writes and mmap skip 9P entirely.
/// </summary>
public sealed partial class GoferInode : Inode, IPageSource
{
    readonly GoferFs _fs;
    readonly uint _fid;
    /// <summary>Attributes as last read; replaced whole under the node's lock.</summary>
    LinuxStat _st;
    readonly string _path;
    Dictionary<string, GoferInode?>? _children;
    /// <summary>
    /// A regular file's host fd as the Gofer donated it on the first open. Later opens reopen it
    /// through the host's /proc/self/fd, which makes a new description of the same file (its own
    /// offset) with no 9P round trip.
    /// </summary>
    int _donated = -1;
    /// <summary>Pages of this file read so far, shared by every mapping of it (lower layer only; see <see cref="GoferFs.Cache"/>).</summary>
    SharedMemory? _pages;

    internal GoferInode(GoferFs fs, uint fid, in P9StatDotl a, string path)
    {
        _fs = fs;
        _fid = fid;
        _path = path;
        _st = ToStat(fs, a);
    }

    static LinuxStat ToStat(GoferFs fs, in P9StatDotl a) => new()
        {
            st_dev = fs.Dev, st_ino = a.qid.Path, st_mode = a.st_mode, st_nlink = a.st_nlink, st_uid = a.st_uid, st_gid = a.st_gid,
            st_rdev = a.st_rdev, st_size = (long)a.st_size, st_blksize = (long)a.st_blksize, st_blocks = (long)a.st_blocks,
            st_atime = (long)a.st_atime_sec, st_atime_nsec = (long)a.st_atime_nsec, st_mtime = (long)a.st_mtime_sec,
            st_mtime_nsec = (long)a.st_mtime_nsec, st_ctime = (long)a.st_ctime_sec, st_ctime_nsec = (long)a.st_ctime_nsec,
        };

    // The fid goes back to the Gofer once nothing refers to this node (clunked from a task thread).
    ~GoferInode()
    {
        if (_donated >= 0) Sentry.Platform.HostSyscall.Call(3 /* close */, _donated);
        _fs.Dropped(_fid);
    }

    public override uint Mode => _st.st_mode;
    public override bool OnReadOnlyFs => !_fs.Writable;
    public override uint Uid => _st.st_uid;
    public override uint Gid => _st.st_gid;

    public override long Stat(out LinuxStat st)
    {
        st = default;
        if (!_fs.Caches)
        {
            long r = Refresh();
            if (r < 0) return r;
        }
        lock (this) st = _st;
        return 0;
    }

    /// <summary>Reads the attributes again from the Gofer: 0 or -errno.</summary>
    long Refresh()
    {
        long r = _fs.Check(Client.GetAttr(_fid, GoferFs.AttrMask, out var a));
        if (r < 0) return r;
        lock (this) _st = ToStat(_fs, a);
        return 0;
    }

    internal void DropCache() { lock (this) _children = null; }

    P9Client Client
    {
        get
        {
            _fs.ClunkDropped();
            return _fs.Client;
        }
    }

    public override long Lookup(Task task, string name, out Inode? child)
    {
        child = null;
        if (!IsDir) return -Errno.ENOTDIR;
        if (_fs.Caches)
            lock (this)
            if (_children != null && _children.TryGetValue(name, out var known))
            {
                child = known;
                return known == null ? -Errno.ENOENT : 0;
            }
        var c = Client;
        long r = _fs.Check(c.Walk(_fid, GoferFs.Name(name), out uint fid));
        if (r < 0 && r != -Errno.ENOENT) return r;
        GoferInode? found = null;
        if (r >= 0)
        {
            r = _fs.Check(c.GetAttr(fid, GoferFs.AttrMask, out var attr));
            if (r < 0) { c.Clunk(fid); return r; }
            found = new GoferInode(_fs, fid, attr, _path == "/" ? "/" + name : _path + "/" + name);
        }
        child = found;
        if (!_fs.Caches) return found == null ? -Errno.ENOENT : 0;
        bool first;
        lock (this)
        {
            first = _children == null;
            (_children ??= new())[name] = found;
        }
        _fs.Cached(this, first);
        return found == null ? -Errno.ENOENT : 0;
    }

    public override long ReadLink(Task task, out string target)
    {
        target = "";
        if (!IsSymlink) return -Errno.EINVAL;
        Span<byte> buf = stackalloc byte[PathWalker.PATH_MAX];
        long r = _fs.Check(Client.Readlink(_fid, buf));
        if (r < 0) return r;
        target = Encoding.UTF8.GetString(buf[..(int)r]);
        return 0;
    }

    /// <summary>A new fid for this node, opened with Tlopen: the donated host fd (or -1) with it.</summary>
    long OpenFid(int flags, out uint fid, out int hostFd)
    {
        hostFd = -1;
        var c = Client;
        long r = _fs.Check(c.Walk(_fid, ""u8, out fid));
        if (r < 0) return r;
        r = _fs.Check(c.Lopen(fid, (uint)flags, out _, out _, out hostFd));
        if (r < 0) c.Clunk(fid);
        return r;
    }

    /// <summary>A host fd of this file the Gofer opens with <paramref name="flags"/> (-1 when the server donates none); the fid it came on is clunked at once, since the fd outlives it. 0 or -errno.</summary>
    long DonatedFd(int flags, out int hostFd)
    {
        long r = OpenFid(flags, out uint fid, out hostFd);
        if (r >= 0) Client.Clunk(fid);
        return r;
    }

    public override long Open(Task task, int flags, string path, out FileDescription? file)
    {
        file = null;
        bool isPath = (flags & Linux.O_PATH) != 0;
        bool writes = !isPath && ((flags & Linux.O_ACCMODE) != Linux.O_RDONLY || (flags & Linux.O_TRUNC) != 0);
        if (writes && !_fs.Writable) return -Errno.EROFS;
        if (IsDir && !isPath) { file = new DirectoryFile(this, flags, path); return 0; }
        if (isPath) { file = new PathFile(this, flags, path); return 0; }
        uint type = Mode & Linux.S_IFMT;
        if (type != Linux.S_IFREG) return -Errno.EACCES; // devices, FIFOs and sockets of the container stay the host's
        if (writes) return OpenForWriting(flags, path, out file);
        // A file on a volume may change size under the sandbox: its mappings ask the host fd.
        long size = _fs.Caches ? _st.st_size : -1;
        var cache = _fs.Caches ? PageCache(task) : null;
        var volume = _fs.Writable ? _fs.VolumeFileFor(_st.st_ino) : null;
        int reopened = Reopen();
        if (reopened >= 0)
        {
            file = new HostFile(reopened, flags, path, false, size, cache: cache, volume: volume);
            return 0;
        }
        long r = OpenFid(Linux.O_RDONLY, out uint fid, out int hostFd);
        if (r < 0) return r;
        if (hostFd >= 0)
        {
            // The Gofer donated the host fd: reads and mmap go straight to it.
            Client.Clunk(fid);
            file = new HostFile(hostFd, flags, path, false, size, cache: cache, volume: volume);
        }
        else file = new GoferFile(_fs, this, fid, flags, path); // a server that does not donate fds (diod): Tread
        return 0;
    }

    /// <summary>This file's page cache, made on first use and counted against the connection's limit.</summary>
    SharedMemory PageCache(Task task)
    {
        lock (this)
        {
            if (_pages != null) return _pages;
            _pages = new SharedMemory(task.Sandbox.Platform.Memory) { Source = this };
        }
        _fs.Cache(this);
        return _pages;
    }

    /// <summary>
    /// Fills the page cache from the host fd the Gofer donated on the first open (the cache is
    /// made only for files opened that way): zero past the end, as <see cref="IPageSource"/> says.
    /// </summary>
    long IPageSource.ReadPages(long offset, Span<byte> pages)
    {
        // No lock of this node: the cache calls in holding its own lock, and CachedPages asks the
        // cache while the node is locked. The fd is set once, before the cache can exist.
        int fd = Volatile.Read(ref _donated);
        if (fd < 0) { pages.Clear(); return -Errno.EIO; }
        return HostDescriptor.ReadPages(fd, offset, pages);
    }

    /// <summary>Lets the page cache go (the connection's cache is over its limit): frames still mapped live on in their mappings.</summary>
    internal void DropPages()
    {
        SharedMemory? pages;
        lock (this) (pages, _pages) = (_pages, null);
        pages?.DecRef();
    }

    /// <summary>Pages this file's cache holds now.</summary>
    internal long CachedPages
    {
        get
        {
            SharedMemory? pages;
            lock (this) pages = _pages;
            return pages?.Pages ?? 0; // outside the node's lock: the cache locks itself, then may read through this node
        }
    }

    /// <summary>A new host fd of this regular file without 9P (after the first open), or -1 when the server donates none.</summary>
    unsafe int Reopen()
    {
        lock (this)
        {
            if (_donated == -1)
            {
                if (DonatedFd(Linux.O_RDONLY, out int fd) < 0) return -1; // the caller's own attempt reports the error
                _donated = fd < 0 ? -2 : fd; // -2: the server donates none; read with Tread on a fid per open
            }
            if (_donated < 0) return -1;
            byte* path = stackalloc byte[32];
            int n = System.Text.Encoding.ASCII.GetBytes($"/proc/self/fd/{_donated}", new Span<byte>(path, 31));
            path[n] = 0;
            long reopened = Sentry.Platform.HostSyscall.CallRestarting(257 /* openat */, Linux.AT_FDCWD, (long)path, Linux.O_RDONLY | Linux.O_CLOEXEC | Linux.O_NOCTTY, 0);
            return reopened < 0 ? -1 : (int)reopened;
        }
    }

    public override long ReadDir(Task task, List<DirEntry> entries)
    {
        if (!IsDir) return -Errno.ENOTDIR;
        long r = OpenFid(Linux.O_RDONLY | Linux.O_DIRECTORY, out uint fid, out int hostFd);
        if (r < 0) return r;
        if (hostFd >= 0) Sentry.Platform.HostSyscall.Call(3 /* close */, hostFd);
        var c = _fs.Client;
        var buf = new byte[Math.Min(c.MaxIoSize, 64 * 1024)];
        ulong offset = 0;
        try
        {
            while (true)
            {
                int n = c.ReadDir(fid, offset, buf);
                if (n < 0) return _fs.Check(n);
                if (n == 0) return 0;
                var reader = new P9DirentReader(buf.AsSpan(0, n));
                bool any = false;
                while (reader.TryNext(out var d))
                {
                    any = true;
                    offset = d.Offset;
                    if (d.Name.SequenceEqual("."u8) || d.Name.SequenceEqual(".."u8)) continue;
                    entries.Add(new DirEntry(Encoding.UTF8.GetString(d.Name), d.Type, d.Qid.Path));
                }
                if (reader.Failed || !any) return reader.Failed ? -Errno.EIO : 0;
            }
        }
        finally { c.Clunk(fid); }
    }

    /// <summary>getxattr (an empty <paramref name="name"/> lists the names): the value's size, or ERANGE when <paramref name="value"/> is too small.</summary>
    public override long GetXattr(Task task, string name, Span<byte> value)
    {
        var c = Client;
        long r = _fs.Check(c.XattrWalk(_fid, GoferFs.Name(name), out uint fid, out ulong size));
        if (r < 0) return r;
        try
        {
            if (value.Length == 0) return (long)size;
            if ((ulong)value.Length < size) return -Errno.ERANGE;
            long done = 0;
            while (done < (long)size)
            {
                int n = c.Read(fid, (ulong)done, value[(int)done..(int)Math.Min((long)size, done + c.MaxIoSize)]);
                if (n < 0) return _fs.Check(n);
                if (n == 0) break;
                done += n;
            }
            return done;
        }
        finally { c.Clunk(fid); }
    }

    public override long ListXattr(Task task, Span<byte> list) => GetXattr(task, "", list);

    public override long StatFs(Span<long> st)
    {
        long r = _fs.Check(Client.StatFs(_fid, out var s));
        if (r < 0) return r;
        st[0] = s.type; st[1] = s.bsize; st[2] = (long)s.blocks; st[3] = (long)s.bfree; st[4] = (long)s.bavail;
        st[5] = (long)s.files; st[6] = (long)s.ffree; st[7] = (long)s.fsid; st[8] = s.namelen; st[9] = s.bsize;
        st[10] = ST_VALID | (_fs.Writable ? 0 : ST_RDONLY); // the lower layer and read-only volumes are read-only to the sandbox
        return 0;
    }
}
