using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;
using Sentry.Kernel.Vfs;

namespace Sentry.Kernel.Fs;

/// <summary>
/// A node of the overlay: the upper (tmpfs) node, the lower (read-only) node, or both for a
/// directory present in both layers. Reads go to the upper node when there is one, else to the
/// lower; the first change of a lower node copies it up (with its parents). Deleting a lower entry
/// leaves a whiteout in the upper directory; a directory made where a lower one was deleted is
/// opaque. Renaming a directory that has lower contents fails with EXDEV, as Linux overlayfs does
/// without redirect_dir (mv then copies).
/// </summary>
public sealed class OverlayInode : Inode
{
    readonly Overlay _fs;
    readonly OverlayInode? _parent;
    readonly string _name;
    TmpfsNode? _upper;
    int _seenGeneration;
    readonly Inode? _lower;

    internal OverlayInode(Overlay fs, OverlayInode? parent, string name, TmpfsNode? upper, Inode? lower)
    {
        _fs = fs;
        _parent = parent;
        _name = name;
        _upper = upper;
        _lower = lower;
    }

    /// <summary>
    /// The upper node. A node looked up before another path copied the same entry up learns of
    /// the copy here (each copy-up bumps the overlay's generation), so stale nodes held by fds
    /// and working directories never write to a second copy.
    /// </summary>
    TmpfsNode? Upper
    {
        get
        {
            if (_upper == null && _parent != null && _seenGeneration != _fs.Generation)
            {
                _seenGeneration = _fs.Generation;
                if (_parent.Upper is { } dir)
                    lock (_fs.Upper.Lock)
                        if (dir.Children!.TryGetValue(_name, out var n) && !n.IsWhiteout) _upper = n;
            }
            return _upper;
        }
    }

    Inode Top => (Inode?)Upper ?? _lower!;
    public override uint Mode => Top.Mode;
    public override bool IsRemoved => Top.IsRemoved;
    public override uint Uid => Top.Uid;
    public override uint Gid => Top.Gid;

    public override long Stat(out LinuxStat st) => Top.Stat(out st);
    public override long Statx(uint mask, out LinuxStatx stx) => Top.Statx(mask, out stx);
    public override long ReadLink(Task task, out string target) => Top.ReadLink(task, out target);

    /// <summary>Whether the lower layer shows through this directory.</summary>
    bool LowerVisible => _lower is { IsDir: true } && (Upper == null || (Upper.IsDir && !Upper.Opaque));

    public override long Lookup(Task task, string name, out Inode? child)
    {
        child = null;
        if (!IsDir) return -Errno.ENOTDIR;
        TmpfsNode? up = null;
        if (Upper != null)
        {
            long r = Upper.Lookup(task, name, out var u);
            if (r == 0) up = (TmpfsNode)u!;
            if (up is { IsWhiteout: true }) return -Errno.ENOENT;
        }
        Inode? low = null;
        if (LowerVisible && (up == null || up is { IsDir: true, Opaque: false }))
        {
            long r = _lower!.Lookup(task, name, out low);
            if (r < 0 && r != -Errno.ENOENT && up == null) return r;
            if (up != null && low is { IsDir: false }) low = null; // an upper directory over a lower file: the file is gone
        }
        if (up == null && low == null) return -Errno.ENOENT;
        child = new OverlayInode(_fs, this, name, up, low);
        return 0;
    }

    public override long ReadDir(Task task, List<DirEntry> entries)
    {
        if (!IsDir) return -Errno.ENOTDIR;
        if (IsRemoved) return -Errno.ENOENT;
        var upperNames = new HashSet<string>();
        if (Upper != null)
        {
            var ups = new List<DirEntry>();
            Upper.ReadDir(task, ups);
            lock (_fs.Upper.Lock)
                foreach (var e in ups)
                {
                    upperNames.Add(e.Name);
                    if (Upper.Children!.TryGetValue(e.Name, out var n) && !n.IsWhiteout) entries.Add(e);
                }
        }
        if (LowerVisible)
        {
            var lows = new List<DirEntry>();
            long r = _lower!.ReadDir(task, lows);
            if (r < 0) return r;
            foreach (var e in lows) if (!upperNames.Contains(e.Name)) entries.Add(e);
        }
        return 0;
    }

    public override long Open(Task task, int flags, string path, out FileDescription? file)
    {
        file = null;
        bool writes = (flags & Linux.O_PATH) == 0 && ((flags & Linux.O_ACCMODE) != Linux.O_RDONLY || (flags & Linux.O_TRUNC) != 0);
        if (IsDir && (flags & Linux.O_PATH) == 0) { file = new DirectoryFile(this, flags, path); return 0; }
        if (writes && Upper == null)
        {
            long r = CopyUp(task);
            if (r < 0) return r;
        }
        return Top.Open(task, flags, path, out file);
    }

    /// <summary>Gives this node an upper copy (its parents first): directories empty, files with their data.</summary>
    long CopyUp(Task task)
    {
        // Every change to the overlay starts here, so this is where a read-only root refuses it.
        if (_fs.ReadOnly) return -Errno.EROFS;
        if (Upper != null) return 0;
        long r = _parent!.CopyUp(task);
        if (r < 0) return r;
        lock (_fs.CopyUpLock)
        {
            if (Upper != null) return 0;
            var dir = _parent.Upper!;
            lock (_fs.Upper.Lock)
                if (dir.Children!.TryGetValue(_name, out var existing) && !existing.IsWhiteout)
                {
                    _upper = existing; // another path to the same entry copied it already
                    return 0;
                }
            r = Copy.Up(task, _lower!, _fs.Upper, out var node);
            if (r < 0) return r;
            lock (_fs.Upper.Lock)
            {
                dir.Children!.Remove(_name);
                _fs.Upper.Link(dir, _name, node!);
            }
            _upper = node;
            _fs.Generation++;
        }
        return 0;
    }

    /// <summary>
    /// Prepares this directory to get entry <paramref name="name"/>: copies it up and removes a
    /// whiteout of that name. Returns whether one was removed (a new directory must then be opaque).
    /// </summary>
    long PrepareEntry(Task task, string name, out bool hadWhiteout)
    {
        hadWhiteout = false;
        long r = CopyUp(task);
        if (r < 0) return r;
        lock (_fs.Upper.Lock)
            if (Upper!.Children!.TryGetValue(name, out var n) && n.IsWhiteout)
            {
                Upper.Children.Remove(name);
                hadWhiteout = true;
            }
        return 0;
    }

    public override long Create(Task task, string name, uint mode, out Inode? node)
    {
        node = null;
        long r = PrepareEntry(task, name, out _);
        if (r < 0) return r;
        r = Upper!.Create(task, name, mode, out var up);
        if (r == 0) node = new OverlayInode(_fs, this, name, (TmpfsNode)up!, null);
        return r;
    }

    public override long CreateUnnamed(Task task, uint mode, bool linkable, out Inode? node)
    {
        node = null;
        long r = CopyUp(task);
        if (r < 0) return r;
        r = Upper!.CreateUnnamed(task, mode, linkable, out var up);
        if (r == 0) node = new OverlayInode(_fs, this, "", (TmpfsNode)up!, null);
        return r;
    }

    public override long MakeDir(Task task, string name, uint mode)
    {
        long r = PrepareEntry(task, name, out bool hadWhiteout);
        if (r < 0) return r;
        r = Upper!.MakeDir(task, name, mode);
        // Over a deleted lower entry the new directory must not show the old one's contents.
        if (r == 0 && (hadWhiteout || LowerHas(task, name))) lock (_fs.Upper.Lock) Upper.Children![name].Opaque = true;
        return r;
    }

    public override long MakeSymlink(Task task, string name, string target)
    {
        long r = PrepareEntry(task, name, out _);
        return r < 0 ? r : Upper!.MakeSymlink(task, name, target);
    }

    public override long MakeNode(Task task, string name, uint mode, ulong dev)
    {
        long r = PrepareEntry(task, name, out _);
        return r < 0 ? r : Upper!.MakeNode(task, name, mode, dev);
    }

    public override long Link(Task task, string name, Inode target)
    {
        if (target is not OverlayInode src || src._fs != _fs) return -Errno.EXDEV;
        if (src.IsDir) return -Errno.EPERM;
        long r = src.CopyUp(task);
        if (r < 0) return r;
        r = PrepareEntry(task, name, out _);
        return r < 0 ? r : Upper!.Link(task, name, src.Upper!);
    }

    bool LowerHas(Task task, string name) => LowerVisible && _lower!.Lookup(task, name, out _) == 0;

    /// <summary>Whether a directory of the overlay has no entries (whiteouts do not count).</summary>
    static bool IsEmptyDir(Task task, OverlayInode dir)
    {
        var list = new List<DirEntry>();
        return dir.ReadDir(task, list) == 0 && list.Count == 0;
    }

    /// <summary>Drops the whiteouts of an upper directory that is about to be removed or replaced.</summary>
    void ClearWhiteouts(TmpfsNode dir)
    {
        lock (_fs.Upper.Lock)
            foreach (var (n, node) in dir.Children!.ToList())
                if (node.IsWhiteout) dir.Children!.Remove(n);
    }

    public override long Remove(Task task, string name, bool dir)
    {
        long r = Lookup(task, name, out var c);
        if (r < 0) return r;
        var child = (OverlayInode)c!;
        if (dir)
        {
            if (!child.IsDir) return -Errno.ENOTDIR;
            if (!IsEmptyDir(task, child)) return -Errno.ENOTEMPTY;
        }
        else if (child.IsDir) return -Errno.EISDIR;
        r = CopyUp(task);
        if (r < 0) return r;
        if (child.Upper != null)
        {
            if (child.Upper.IsDir) ClearWhiteouts(child.Upper);
            r = Upper!.Remove(task, name, dir);
            if (r < 0) return r;
        }
        // The lower entry (even one an upper file replaced) must stay hidden.
        if (LowerHas(task, name)) AddWhiteout(name);
        return 0;
    }

    void AddWhiteout(string name)
    {
        lock (_fs.Upper.Lock)
        {
            var w = _fs.Upper.NewNode(Linux.S_IFCHR);
            Upper!.Children![name] = w;
            Upper.Touch(true);
        }
    }

    public override long Rename(Task task, string oldName, Inode newDir, string newName, uint flags)
    {
        if (newDir is not OverlayInode dst || dst._fs != _fs) return -Errno.EXDEV;
        long r = Lookup(task, oldName, out var s);
        if (r < 0) return r;
        var src = (OverlayInode)s!;
        r = dst.Lookup(task, newName, out var t);
        if (r < 0 && r != -Errno.ENOENT) return r;
        var target = (OverlayInode?)t;
        if ((flags & Linux.RENAME_NOREPLACE) != 0 && target != null) return -Errno.EEXIST;
        if ((flags & Linux.RENAME_EXCHANGE) != 0 && target == null) return -Errno.ENOENT;
        if (target != null && src.Key == target.Key) return 0;
        // A directory with lower contents cannot move (overlayfs without redirect_dir).
        if (src.IsDir && src._lower != null) return -Errno.EXDEV;
        if ((flags & Linux.RENAME_EXCHANGE) != 0 && target!.IsDir && target._lower != null) return -Errno.EXDEV;
        if (target != null && (flags & Linux.RENAME_EXCHANGE) == 0)
        {
            if (src.IsDir && !target.IsDir) return -Errno.ENOTDIR;
            if (!src.IsDir && target.IsDir) return -Errno.EISDIR;
            if (target.IsDir && !IsEmptyDir(task, target)) return -Errno.ENOTEMPTY;
        }
        r = src.CopyUp(task);
        if (r < 0) return r;
        if (target != null && (flags & Linux.RENAME_EXCHANGE) != 0)
        {
            r = target.CopyUp(task);
            if (r < 0) return r;
        }
        r = dst.PrepareEntry(task, newName, out _);
        if (r < 0) return r;
        if (target?.Upper is { IsDir: true } tu && (flags & Linux.RENAME_EXCHANGE) == 0) ClearWhiteouts(tu);
        bool srcHadLower = LowerHas(task, oldName);
        bool targetHadLower = dst.LowerHas(task, newName);
        r = Upper!.Rename(task, oldName, dst.Upper!, newName, flags);
        if (r < 0) return r;
        // What is now at newName replaces a lower entry: a moved directory must hide the old one's contents.
        if (targetHadLower && src.IsDir) lock (_fs.Upper.Lock) dst.Upper!.Children![newName].Opaque = true;
        if ((flags & Linux.RENAME_EXCHANGE) == 0 && srcHadLower) AddWhiteout(oldName);
        return 0;
    }

    public override long SetAttr(Task task, in SetAttr attr)
    {
        long r = CopyUp(task);
        return r < 0 ? r : Upper!.SetAttr(task, attr);
    }

    public override long Allocate(Task task, long offset, long length, bool keepSize)
    {
        long r = CopyUp(task);
        return r < 0 ? r : Upper!.Allocate(task, offset, length, keepSize);
    }

    public override long PunchHole(Task task, long offset, long length)
    {
        long r = CopyUp(task);
        return r < 0 ? r : Upper!.PunchHole(task, offset, length);
    }

    public override long GetXattr(Task task, string name, Span<byte> value) => Top.GetXattr(task, name, value);
    public override long ListXattr(Task task, Span<byte> list) => Top.ListXattr(task, list);

    public override long SetXattr(Task task, string name, ReadOnlySpan<byte> value, int flags)
    {
        long r = CopyUp(task);
        return r < 0 ? r : Upper!.SetXattr(task, name, value, flags);
    }

    public override long RemoveXattr(Task task, string name)
    {
        long r = CopyUp(task);
        return r < 0 ? r : Upper!.RemoveXattr(task, name);
    }

    public override bool OnReadOnlyFs => _fs.ReadOnly;

    public override long StatFs(Span<long> st)
    {
        _fs.Upper.Root.StatFs(st);
        st[0] = 0x794c7630; // OVERLAYFS_SUPER_MAGIC
        if (_fs.ReadOnly) st[10] |= ST_RDONLY;
        return 0;
    }
}
