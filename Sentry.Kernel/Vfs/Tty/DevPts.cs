using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs.Tty;

/// <summary>
/// The devpts file system (pts(4)) mounted at /dev/pts: "ptmx" (char 5,2), which makes a new pty on
/// each open, and one node N (char 136,N) per pty whose master is open. As on Linux, the node goes
/// when the master closes, and the index becomes free once every open of the slave is closed too.
/// </summary>
public sealed class DevPts
{
    public const long DEVPTS_SUPER_MAGIC = 0x1cd1;
    public const uint TTYAUX_MAJOR = 5, UNIX98_PTY_SLAVE_MAJOR = 136, PtmxMinor = 2;
    /// <summary>The mount options: gid=5 (tty), mode=620, ptmxmode=666 (what container runtimes mount).</summary>
    public const uint TtyGid = 5, SlavePerm = 0x190, PtmxPerm = 0x1b6;
    public const string MountOptions = "rw,nosuid,noexec,relatime,gid=5,mode=620,ptmxmode=666";
    /// <summary>/proc/sys/kernel/pty/max.</summary>
    public const int MaxPtys = 4096;
    /// <summary>st_dev of the devpts nodes.</summary>
    public const ulong Dev = 0x18;
    /// <summary>devpts inode numbers: the root 1, ptmx 2, slave N is N + 3.</summary>
    const ulong RootIno = 1, PtmxIno = 2;

    readonly SortedDictionary<int, Pty> _ptys = new();

    public DevPts()
    {
        Root = new DevPtsDir(this);
        Ptmx = new DevPtsNode(this, null);
    }

    public Inode Root { get; }
    public Inode Ptmx { get; }

    /// <summary>open(2) of a ptmx node: a new pty with the lowest free index, its slave locked.</summary>
    public long OpenMaster(Task task, int flags, string path, out FileDescription? file)
    {
        file = null;
        Pty pty;
        lock (_ptys)
        {
            int index = 0;
            foreach (int used in _ptys.Keys)
            {
                if (used != index) break;
                index++;
            }
            if (index >= MaxPtys) return -Errno.ENOSPC;
            pty = new Pty(this, index, task.Sandbox, task.Uid);
            _ptys.Add(index, pty);
        }
        file = new PtyMaster(pty, flags, path);
        return 0;
    }

    public Pty? Find(int index)
    {
        lock (_ptys) return _ptys.TryGetValue(index, out var p) ? p : null;
    }

    internal void Remove(Pty pty)
    {
        lock (_ptys)
            if (_ptys.TryGetValue(pty.Index, out var p) && p == pty) _ptys.Remove(pty.Index);
    }

    /// <summary>The node /dev/pts/N of a pty (for fstat of its slave opens).</summary>
    public Inode SlaveNode(Pty pty) => new DevPtsNode(this, pty);

    public Pty[] Snapshot() { lock (_ptys) return [.. _ptys.Values]; }

    /// <summary>What fstat of a master says when it has no node (as the ptmx node itself).</summary>
    public static long PtmxStat(out LinuxStat st)
    {
        st = new LinuxStat
        {
            st_dev = Dev, st_ino = PtmxIno, st_nlink = 1, st_mode = Linux.S_IFCHR | PtmxPerm,
            st_rdev = LinuxStatx.MakeDev(TTYAUX_MAJOR, PtmxMinor), st_blksize = 1024,
        };
        return 0;
    }

    /// <summary>The root directory of the mount: "ptmx" and the live ptys' numbers.</summary>
    sealed class DevPtsDir(DevPts fs) : Inode
    {
        public override uint Mode => Linux.S_IFDIR | 0x1ed;
        public override uint Uid => 0;
        public override uint Gid => 0;
        protected override int ReadOnlyErrno => Errno.EACCES;

        public override long Stat(out LinuxStat st)
        {
            st = new LinuxStat { st_dev = Dev, st_ino = RootIno, st_nlink = 2, st_mode = Mode, st_blksize = 1024 };
            return 0;
        }

        public override long Lookup(Task task, string name, out Inode? child)
        {
            child = null;
            if (name == "ptmx") child = fs.Ptmx;
            else if (int.TryParse(name, System.Globalization.NumberStyles.None, null, out int n) && n.ToString() == name && fs.Find(n) is { HungUp: false } pty)
                child = new DevPtsNode(fs, pty);
            return child == null ? -Errno.ENOENT : 0;
        }

        public override long ReadDir(Task task, List<DirEntry> entries)
        {
            entries.Add(new DirEntry("ptmx", Dirent64.DT_CHR, PtmxIno));
            foreach (var p in fs.Snapshot())
                if (!p.HungUp) entries.Add(new DirEntry(p.Index.ToString(), Dirent64.DT_CHR, (ulong)p.Index + 3));
            return 0;
        }

        public override long Open(Task task, int flags, string path, out FileDescription? file)
        {
            file = (flags & Linux.O_PATH) != 0 ? new PathFile(this, flags, path) : new DirectoryFile(this, flags, path);
            return 0;
        }

        public override long StatFs(Span<long> st)
        {
            base.StatFs(st);
            st[0] = DEVPTS_SUPER_MAGIC;
            return 0;
        }
    }

    /// <summary>A node of the mount: ptmx (<paramref name="pty"/> null) or the slave of <paramref name="pty"/>.</summary>
    sealed class DevPtsNode(DevPts fs, Pty? pty) : Inode
    {
        public override uint Mode => Linux.S_IFCHR | (pty?.Perm ?? PtmxPerm);
        public override uint Uid => pty?.Uid ?? 0;
        public override uint Gid => pty?.Gid ?? 0;
        protected override int ReadOnlyErrno => Errno.EACCES;

        public override long Stat(out LinuxStat st)
        {
            if (pty == null) return PtmxStat(out st);
            st = new LinuxStat
            {
                st_dev = Dev, st_ino = (ulong)pty.Index + 3, st_nlink = 1, st_mode = Mode, st_uid = Uid, st_gid = Gid,
                st_rdev = LinuxStatx.MakeDev(UNIX98_PTY_SLAVE_MAJOR, (uint)pty.Index), st_blksize = 1024,
                st_atime = pty.Created, st_mtime = pty.Created, st_ctime = pty.Created,
            };
            return 0;
        }

        public override long Open(Task task, int flags, string path, out FileDescription? file)
        {
            file = null;
            if ((flags & Linux.O_PATH) != 0) { file = new PathFile(this, flags, path); return 0; }
            if (pty == null) return fs.OpenMaster(task, flags, path, out file);
            if (fs.Find(pty.Index) != pty) return -Errno.EIO; // its pty went between the lookup and the open
            return pty.OpenSlave(task, flags, path, out file);
        }

        /// <summary>chmod and chown of a slave (what an old grantpt does): the owner or root may chmod, root may chown.</summary>
        public override long SetAttr(Task task, in SetAttr attr)
        {
            if (pty == null) return -Errno.EPERM;
            if (attr.Has(Vfs.SetAttr.Fields.Size)) return -Errno.EINVAL;
            if (task.Uid != 0 && task.Uid != pty.Uid) return -Errno.EPERM;
            if (task.Uid != 0 && ((attr.Has(Vfs.SetAttr.Fields.Uid) && attr.Uid != pty.Uid) || (attr.Has(Vfs.SetAttr.Fields.Gid) && attr.Gid != task.Gid && attr.Gid != pty.Gid)))
                return -Errno.EPERM;
            if (attr.Has(Vfs.SetAttr.Fields.Mode)) pty.Perm = attr.Mode & 0xfff;
            if (attr.Has(Vfs.SetAttr.Fields.Uid)) pty.Uid = attr.Uid;
            if (attr.Has(Vfs.SetAttr.Fields.Gid)) pty.Gid = attr.Gid;
            return 0;
        }

        public override long StatFs(Span<long> st)
        {
            base.StatFs(st);
            st[0] = DEVPTS_SUPER_MAGIC;
            return 0;
        }
    }
}
