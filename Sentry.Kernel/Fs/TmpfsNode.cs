using Sentry.Kernel.Abi;
using Sentry.Kernel.Memory;
using Sentry.Kernel.Tasks;
using Sentry.Kernel.Vfs;

namespace Sentry.Kernel.Fs;

/// <summary>
/// An inode of a tmpfs: a directory (children by name), a regular file (its pages in the memory
/// file), a symlink, a FIFO or a device node. Fields are guarded by its file system's lock.
/// </summary>
public sealed partial class TmpfsNode : Inode
{
    public required Tmpfs Fs { get; init; }
    public required ulong Ino { get; init; }
    public uint FileMode;
    public uint OwnerUid, OwnerGid;
    public ulong Nlink = 1;
    public ulong Rdev;
    public Dictionary<string, TmpfsNode>? Children;
    public TmpfsNode? Parent;
    /// <summary>A regular file's data, made on first write; <see cref="Pages"/> makes it.</summary>
    SharedMemory? _pages;
    /// <summary>Open descriptions of this node (mappings hold theirs): the data goes once this and <see cref="Nlink"/> are both 0.</summary>
    int _openFiles;
    public long Size;
    public string? Target;
    public (long Sec, long Nsec) Atime, Mtime, Ctime;
    /// <summary>An overlay upper directory that hides the lower directory it covers.</summary>
    public bool Opaque;
    /// <summary>Pages allocated (written or fallocated, not holes): st_blocks and the file system's use count these, as tmpfs does.</summary>
    readonly PageSet _written = new();
    /// <summary>An O_TMPFILE file (no name yet) that linkat may still give a name.</summary>
    public bool Linkable;
    /// <summary>Extended attributes, made on first set.</summary>
    public XattrMap? Xattrs;
    /// <summary>The pipe behind a FIFO, made on first open.</summary>
    public Vfs.Pipe? Fifo;

    public override uint Mode => FileMode;
    public override uint Uid => OwnerUid;
    public override uint Gid => OwnerGid;
    public bool IsFile => IsRegular;
    public override bool IsRemoved => IsDir && Nlink == 0;
    /// <summary>An overlay whiteout: a character device 0:0 that marks a deleted lower entry.</summary>
    public bool IsWhiteout => (FileMode & Linux.S_IFMT) == Linux.S_IFCHR && Rdev == 0;
    object Lock => Fs.Lock;

    public override long Stat(out LinuxStat st)
    {
        lock (Lock) st = StatLocked();
        return 0;
    }

    LinuxStat StatLocked() => new()
    {
        st_dev = Fs.Dev, st_ino = Ino, st_nlink = Nlink, st_mode = FileMode, st_uid = OwnerUid, st_gid = OwnerGid, st_rdev = Rdev,
        st_size = IsDir ? 40 + 20 * (Children?.Count ?? 0) : IsSymlink ? System.Text.Encoding.UTF8.GetByteCount(Target!) : Size,
        st_blksize = 4096, st_blocks = _written.Count * 8,
        st_atime = Atime.Sec, st_atime_nsec = Atime.Nsec, st_mtime = Mtime.Sec, st_mtime_nsec = Mtime.Nsec,
        st_ctime = Ctime.Sec, st_ctime_nsec = Ctime.Nsec,
    };

    /// <summary>Records that [offset, offset+length) now holds data (its new pages were charged to the file system).</summary>
    public void MarkWritten(long offset, long length) => _written.Add(offset, length);

    /// <summary>
    /// Charges the file system for the pages of [offset, offset+length) not yet allocated and
    /// returns how many bytes from <paramref name="offset"/> may be written: all of them, or, when
    /// the file system fills up, those before the first page that does not fit (0: ENOSPC).
    /// Caller holds the lock and calls <see cref="MarkWritten"/> for what it wrote.
    /// </summary>
    public long ChargeWrite(long offset, long length)
    {
        if (Fs.Charge(_written.CountMissing(offset, length))) return length;
        long fit = _written.FitLength(offset, length, Fs.FreePages);
        if (fit > 0) Fs.Charge(_written.CountMissing(offset, fit));
        return fit;
    }

    /// <summary>Gives back the charge of [offset, offset+length) that <see cref="ChargeWrite"/> took when the write then failed.</summary>
    public void UnchargeWrite(long offset, long length) => Fs.Uncharge(_written.CountMissing(offset, length));

    /// <summary>The file's data, made on first use (caller holds the lock).</summary>
    public SharedMemory Pages => _pages ??= new SharedMemory(Fs.Memory);

    /// <summary>The file's data if it has any (caller holds the lock).</summary>
    public SharedMemory? PagesIfAny => _pages;

    /// <summary>
    /// Sets the size. Growing adds a hole; cutting zeroes the rest of the last page and takes the
    /// pages past it away: the caller completes the returned cut once the lock is dropped, which
    /// takes them out of MAP_SHARED mappings (touching them then raises SIGBUS, as on Linux).
    /// </summary>
    public SharedMemory.Cut Truncate(long size)
    {
        var cut = default(SharedMemory.Cut);
        if (size < Size)
        {
            Fs.Uncharge(_written.RemoveFrom(size));
            if (_pages != null) cut = _pages.Remove(size, long.MaxValue);
        }
        Size = size;
        return cut;
    }

    internal void Opened() { lock (Lock) _openFiles++; }

    internal void Closed()
    {
        lock (Lock)
        {
            _openFiles--;
            ReleaseDataIfUnused();
        }
    }

    /// <summary>Frees the data of a file that no name and no open description reaches any more (caller holds the lock).</summary>
    internal void ReleaseDataIfUnused()
    {
        if (Nlink != 0 || _openFiles != 0) return;
        // As on Linux, a removed file's space comes back when its last reference goes, not at unlink.
        Fs.Uncharge(_written.Clear());
        if (_pages == null) return;
        _pages.DecRef();
        _pages = null;
    }

    public void Touch(bool modify)
    {
        var now = Tmpfs.Now();
        if (modify) Mtime = now;
        Ctime = now;
    }

    public override long Lookup(Task task, string name, out Inode? child)
    {
        child = null;
        if (!IsDir) return -Errno.ENOTDIR;
        lock (Lock)
        {
            if (!Children!.TryGetValue(name, out var n)) return -Errno.ENOENT;
            child = n;
        }
        return 0;
    }

    public override long ReadDir(Task task, List<DirEntry> entries)
    {
        if (!IsDir) return -Errno.ENOTDIR;
        if (Nlink == 0) return -Errno.ENOENT;
        lock (Lock)
            foreach (var (name, n) in Children!) entries.Add(new DirEntry(name, DirEntry.TypeOf(n.FileMode), n.Ino));
        return 0;
    }

    public override long ReadLink(Task task, out string target)
    {
        target = Target ?? "";
        return IsSymlink ? 0 : -Errno.EINVAL;
    }

    public override long Open(Task task, int flags, string path, out FileDescription? file)
    {
        file = null;
        if ((FileMode & Linux.S_IFMT) == Linux.S_IFIFO && (flags & Linux.O_PATH) == 0)
        {
            lock (Lock) Fifo ??= new Vfs.Pipe();
            return FifoOpen.Open(task, Fifo, flags, path, out file);
        }
        if ((FileMode & Linux.S_IFMT) is Linux.S_IFCHR or Linux.S_IFBLK or Linux.S_IFSOCK && (flags & Linux.O_PATH) == 0)
            return -Errno.ENXIO; // device nodes made by mknod have no driver in Sentry
        file = IsDir && (flags & Linux.O_PATH) == 0 ? new DirectoryFile(this, flags, path) : new TmpfsFile(this, flags, path);
        return 0;
    }

    /// <summary>The new node <paramref name="name"/> of this directory, owned by the task; checks the name is free.</summary>
    long AddChild(Task task, string name, uint mode, out TmpfsNode? node)
    {
        node = null;
        if (!IsDir) return -Errno.ENOTDIR;
        if (Nlink == 0) return -Errno.ENOENT; // removed while a task still had it as its cwd
        if (Children!.ContainsKey(name)) return -Errno.EEXIST;
        node = Fs.NewNode(mode);
        node.OwnerUid = task.Uid;
        node.OwnerGid = (FileMode & (uint)Linux.S_ISGID) != 0 ? OwnerGid : task.Gid;
        Fs.Link(this, name, node);
        return 0;
    }

    public override long Create(Task task, string name, uint mode, out Inode? node)
    {
        lock (Lock)
        {
            long r = AddChild(task, name, (uint)Linux.S_IFREG | (mode & 0xfff), out var n);
            node = n;
            return r;
        }
    }

    public override long CreateUnnamed(Task task, uint mode, bool linkable, out Inode? node)
    {
        node = null;
        if (!IsDir) return -Errno.ENOTDIR;
        lock (Lock)
        {
            var n = Fs.NewNode((uint)Linux.S_IFREG | (mode & 0xfff));
            n.Nlink = 0;
            n.Linkable = linkable;
            n.OwnerUid = task.Uid;
            n.OwnerGid = task.Gid;
            node = n;
        }
        return 0;
    }

    public override long MakeDir(Task task, string name, uint mode)
    {
        lock (Lock)
        {
            uint setgid = FileMode & (uint)Linux.S_ISGID;
            return AddChild(task, name, (uint)Linux.S_IFDIR | (mode & 0x3ff) | setgid, out _);
        }
    }

    public override long MakeSymlink(Task task, string name, string target)
    {
        lock (Lock)
        {
            long r = AddChild(task, name, (uint)Linux.S_IFLNK | 0x1ff, out var n);
            if (r == 0) n!.Target = target;
            return r;
        }
    }

    public override long MakeNode(Task task, string name, uint mode, ulong dev)
    {
        lock (Lock)
        {
            long r = AddChild(task, name, mode, out var n);
            if (r == 0) n!.Rdev = dev;
            return r;
        }
    }

    public override long Link(Task task, string name, Inode target)
    {
        if (target is not TmpfsNode src || src.Fs != Fs) return -Errno.EXDEV;
        lock (Lock)
        {
            if (!IsDir) return -Errno.ENOTDIR;
            if (Nlink == 0 || (src.Nlink == 0 && !src.Linkable)) return -Errno.ENOENT;
            src.Linkable = false;
            if (Children!.ContainsKey(name)) return -Errno.EEXIST;
            if (src.IsDir) return -Errno.EPERM;
            src.Nlink++;
            src.Touch(false);
            Children[name] = src;
            Touch(true);
        }
        return 0;
    }

    public override long Remove(Task task, string name, bool dir)
    {
        lock (Lock)
        {
            if (!IsDir) return -Errno.ENOTDIR;
            if (!Children!.TryGetValue(name, out var node)) return -Errno.ENOENT;
            if (dir)
            {
                if (!node.IsDir) return -Errno.ENOTDIR;
                if (node.Children!.Count > 0) return -Errno.ENOTEMPTY;
            }
            else if (node.IsDir) return -Errno.EISDIR;
            Fs.Unlink(this, name);
        }
        return 0;
    }

    public override long Rename(Task task, string oldName, Inode newDir, string newName, uint flags)
    {
        if (newDir is not TmpfsNode dstDir || dstDir.Fs != Fs) return -Errno.EXDEV;
        lock (Lock)
        {
            if (!Children!.TryGetValue(oldName, out var src)) return -Errno.ENOENT;
            var dst = dstDir.Children!.GetValueOrDefault(newName);
            if ((flags & Linux.RENAME_NOREPLACE) != 0 && dst != null) return -Errno.EEXIST;
            if ((flags & Linux.RENAME_EXCHANGE) != 0)
            {
                if (dst == null) return -Errno.ENOENT;
                if (src == dst) return 0;
                if (IsAncestor(src, dstDir) || IsAncestor(dst, this)) return -Errno.EINVAL;
                Children[oldName] = dst;
                dstDir.Children![newName] = src;
                Reparent(src, this, dstDir);
                Reparent(dst, dstDir, this);
                src.Touch(false); dst.Touch(false);
                Touch(true); dstDir.Touch(true);
                return 0;
            }
            if (dst == src) return 0;
            if (IsAncestor(src, dstDir)) return -Errno.EINVAL; // a directory may not move into itself
            if (dst != null)
            {
                if (src.IsDir && !dst.IsDir) return -Errno.ENOTDIR;
                if (!src.IsDir && dst.IsDir) return -Errno.EISDIR;
                if (dst.IsDir && dst.Children!.Count > 0) return -Errno.ENOTEMPTY;
                Fs.Unlink(dstDir, newName);
            }
            Children.Remove(oldName);
            if (src.IsDir) Nlink--;
            Touch(true);
            Fs.Link(dstDir, newName, src);
            src.Touch(false);
        }
        return 0;
    }

    /// <summary>Whether <paramref name="dir"/> is <paramref name="node"/> or below it.</summary>
    static bool IsAncestor(TmpfsNode node, TmpfsNode dir)
    {
        if (!node.IsDir) return false;
        for (var p = dir; ; p = p.Parent!)
        {
            if (p == node) return true;
            if (p.Parent == null || p.Parent == p) return false;
        }
    }

    static void Reparent(TmpfsNode node, TmpfsNode from, TmpfsNode to)
    {
        if (!node.IsDir || from == to) return;
        node.Parent = to;
        from.Nlink--;
        to.Nlink++;
    }

    public override long SetAttr(Task task, in SetAttr attr)
    {
        var cut = default(SharedMemory.Cut);
        lock (Lock)
        {
            if (attr.Has(Vfs.SetAttr.Fields.Size))
            {
                if (IsDir) return -Errno.EISDIR;
                if (!IsFile) return -Errno.EINVAL;
                if (attr.Size > Tmpfs.MaxFileSize) return -Errno.EFBIG;
                if (SealsForbidResize(attr.Size)) return -Errno.EPERM;
                // Growing makes a hole, which takes no space: only written pages count.
                cut = Truncate(attr.Size);
                Mtime = Tmpfs.Now();
            }
            if (attr.Has(Vfs.SetAttr.Fields.Mode) && (Seals & Linux.F_SEAL_EXEC) != 0 && ((attr.Mode ^ FileMode) & 0x49 /* 0111 */) != 0)
                return -Errno.EPERM;
            if (attr.Has(Vfs.SetAttr.Fields.Mode)) FileMode = (FileMode & (uint)Linux.S_IFMT) | (attr.Mode & 0xfff);
            if (attr.Has(Vfs.SetAttr.Fields.Uid)) OwnerUid = attr.Uid;
            if (attr.Has(Vfs.SetAttr.Fields.Gid)) OwnerGid = attr.Gid;
            if (attr.Has(Vfs.SetAttr.Fields.Atime)) Atime = attr.Atime;
            if (attr.Has(Vfs.SetAttr.Fields.Mtime)) Mtime = attr.Mtime;
            Ctime = Tmpfs.Now();
        }
        cut.Complete();
        return 0;
    }

    public override long Allocate(Task task, long offset, long length, bool keepSize)
    {
        lock (Lock)
        {
            long end = offset + length;
            if (end > Tmpfs.MaxFileSize || end < 0) return -Errno.EFBIG;
            // shmem_fallocate: F_SEAL_GROW refuses any range past the end, even with FALLOC_FL_KEEP_SIZE.
            if ((Seals & Linux.F_SEAL_GROW) != 0 && end > Size) return -Errno.EPERM;
            // fallocate allocates every page of the range or, when they do not all fit, none (as
            // shmem_fallocate undoes a partial one). The first test saves walking a huge range.
            if ((length >> 12) - _written.Count > Fs.FreePages || !Fs.Charge(_written.CountMissing(offset, length)))
                return -Errno.ENOSPC;
            _written.Add(offset, length);
            if (!keepSize && end > Size)
            {
                Truncate(end);
                Ctime = Tmpfs.Now();
            }
        }
        return 0;
    }

    public override long PunchHole(Task task, long offset, long length)
    {
        var cut = default(SharedMemory.Cut);
        lock (Lock)
        {
            if ((Seals & (Linux.F_SEAL_WRITE | Linux.F_SEAL_FUTURE_WRITE)) != 0) return -Errno.EPERM;
            if (offset < Size && _pages != null) cut = _pages.Remove(offset, Math.Min(Size, offset + Math.Min(length, long.MaxValue - offset)));
            Fs.Uncharge(_written.RemoveWhole(offset, length));
            Touch(true);
        }
        cut.Complete();
        return 0;
    }

    public override long GetXattr(Task task, string name, Span<byte> value) { lock (Lock) return Xattrs?.Get(name, value) ?? (XattrMap.Supported(name) ? -Errno.ENODATA : -Errno.EOPNOTSUPP); }
    public override long ListXattr(Task task, Span<byte> list) { lock (Lock) return Xattrs?.List(list) ?? 0; }
    public override long SetXattr(Task task, string name, ReadOnlySpan<byte> value, int flags)
    {
        // Linux keeps user.* attributes to regular files and directories (xattr(7)).
        if (name.StartsWith("user.", StringComparison.Ordinal) && !IsRegular && !IsDir) return -Errno.EPERM;
        lock (Lock)
        {
            long r = (Xattrs ??= new XattrMap()).Set(name, value, flags);
            if (r == 0) Ctime = Tmpfs.Now();
            return r;
        }
    }
    public override long RemoveXattr(Task task, string name) { lock (Lock) return Xattrs?.Remove(name) ?? -Errno.ENODATA; }

    public override long StatFs(Span<long> st)
    {
        base.StatFs(st);
        // As shmem_statfs: a file system without a limit (size=0) reports no block counts.
        lock (Lock)
            if (Fs.LimitPages != 0)
            {
                st[2] = Fs.LimitPages;                   // f_blocks
                st[3] = st[4] = Fs.FreePages;            // f_bfree, f_bavail
            }
        return 0;
    }
}
