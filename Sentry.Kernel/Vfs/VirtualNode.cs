using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;
using Sentry.Kernel.Vfs.Proc;

namespace Sentry.Kernel.Vfs;

/// <summary>
/// A node of Sentry's own trees that shadow the host's /dev, /proc and /sys: the application sees
/// these, never the host's (which would expose host processes and devices).
/// A node is either fixed (built once with the tree) or made on demand by a directory's
/// <see cref="Lookup"/> for something that exists only for a while (a process, an fd); such nodes
/// are cheap, short-lived objects that capture what they describe and get stable inode numbers
/// from their parent's and their own name (<see cref="InoOf"/>), so stat and readdir agree across lookups.
/// </summary>
public sealed class VirtualNode
{
    /// <summary>Opens a special device for <paramref name="task"/>: the description, or null with <paramref name="error"/> (-errno).</summary>
    public delegate FileDescription? DeviceOpen(Task task, int flags, string path, out int error);

    /// <summary>A device node whose open is not a memory device's: its number and its open.</summary>
    public sealed record SpecialDevice(uint Major, uint Minor, DeviceOpen Open);

    public enum NodeType { Dir, CharDevice, Symlink, File }

    /// <summary>st_dev of devfs nodes (each tree sets its own on its nodes).</summary>
    public const ulong DevfsDev = 5;

    static ulong s_nextIno = 0x5e000;

    public string Name { get; }
    public NodeType Type { get; }
    public ulong Ino { get; }
    /// <summary>Fixed children of a directory, listed before the computed ones.</summary>
    public List<VirtualNode> Children { get; } = new();
    public CharDevice.Kind Device { get; init; }
    /// <summary>A character device that is not a memory device (/dev/tty, /dev/ptmx): its number and what opening it gives.</summary>
    public SpecialDevice? Special { get; init; }
    /// <summary>
    /// A "magic" symlink (/proc/&lt;pid&gt;/fd/N): following it leads to this open file's node, not to
    /// its text, so a deleted or unnamed file can still be reached (and linked, for O_TMPFILE).
    /// </summary>
    public FileDescription? Opened { get; init; }
    /// <summary>Symlink target, computed per task (e.g. /proc/self/exe).</summary>
    public Func<Task, string>? Target { get; init; }
    /// <summary>Regular file: its contents, generated once per open for the opening task (see <see cref="GeneratedFile"/>).</summary>
    public ContentGenerator? Content { get; init; }
    /// <summary>Directory: a child that is not fixed, looked up by name for the walking task (e.g. /proc/&lt;pid&gt;); null when absent.</summary>
    public Func<Task, string, VirtualNode?>? Lookup { get; init; }
    /// <summary>Directory: the computed children as readdir lists them for the task (after <see cref="Children"/>).</summary>
    public Func<Task, IEnumerable<VirtualNode>>? List { get; init; }
    /// <summary>Permission bits; -1 means the type's default (dir 0555, symlink 0777, device 0666, file 0444).</summary>
    public int Perm { get; init; } = -1;
    /// <summary>Owner: /proc/&lt;pid&gt; entries belong to the process's user (ps reads the owner of the directory).</summary>
    public uint Uid { get; init; }
    public uint Gid { get; init; }
    /// <summary>st_dev: which of Sentry's file systems the node belongs to.</summary>
    public ulong Dev { get; init; } = DevfsDev;
    /// <summary>
    /// Regular file: what writing does. 0: an open for writing is refused (EACCES) even for root, as
    /// for /proc/sys and sysfs files. Otherwise root may open it for writing (its DAC override, as on
    /// Linux) and every write fails with this -errno (EINVAL, EIO: procfs files without a write method).
    /// </summary>
    public int WriteError { get; init; }
    /// <summary>st_atime/st_mtime/st_ctime in seconds since the epoch (procfs: when the node came to be).</summary>
    public long Time { get; init; }

    /// <summary>A node; <paramref name="ino"/> 0 takes the next fixed inode number.</summary>
    public VirtualNode(string name, NodeType type, ulong ino = 0)
    {
        Name = name;
        Type = type;
        Ino = ino != 0 ? ino : Interlocked.Increment(ref s_nextIno);
    }

    public VirtualNode Add(VirtualNode child) { Children.Add(child); return this; }

    /// <summary>The child called <paramref name="name"/> as <paramref name="task"/> sees it: a fixed one, else a computed one, else null.</summary>
    public VirtualNode? Child(string name, Task task)
    {
        foreach (var c in Children)
            if (c.Name == name) return c;
        return Lookup?.Invoke(task, name);
    }

    /// <summary>Every child as <paramref name="task"/> would list it: the fixed ones, then the computed ones.</summary>
    public IEnumerable<VirtualNode> Entries(Task task) => List == null ? Children : Children.Concat(List(task));

    /// <summary>
    /// A stable inode number for a computed node: the same parent and name give the same number on
    /// every lookup (FNV-1a), kept clear of the fixed nodes' counter.
    /// </summary>
    public static ulong InoOf(ulong parentIno, string name)
    {
        ulong h = 0xcbf29ce484222325UL ^ parentIno;
        foreach (char c in name) { h ^= c; h *= 0x100000001b3UL; }
        return (h & 0x7fff_ffff_ffffUL) | 0x1_0000_0000UL;
    }

    public LinuxStat Stat()
    {
        int perm = Perm >= 0 ? Perm : Type switch { NodeType.Dir => 0x16d, NodeType.Symlink => 0x1ff, NodeType.File => 0x124, _ => 0x1b6 };
        uint type = Type switch { NodeType.Dir => Linux.S_IFDIR, NodeType.Symlink => Linux.S_IFLNK, NodeType.File => Linux.S_IFREG, _ => Linux.S_IFCHR };
        ulong subdirs = 0;
        if (Type == NodeType.Dir) foreach (var c in Children) if (c.Type == NodeType.Dir) subdirs++;
        return new LinuxStat
        {
            st_dev = Dev, st_ino = Ino, st_nlink = Type == NodeType.Dir ? 2 + subdirs : 1UL, st_blksize = 4096,
            st_mode = type | (uint)perm, st_uid = Uid, st_gid = Gid,
            st_rdev = Type != NodeType.CharDevice ? 0 : Special is { } sp ? LinuxStatx.MakeDev(sp.Major, sp.Minor) : LinuxStatx.MakeDev(1, (uint)Device),
            st_atime = Time, st_mtime = Time, st_ctime = Time,
        };
    }

    /// <summary>
    /// open(2) of this node for <paramref name="task"/> with the kept open flags <paramref name="flags"/>;
    /// <paramref name="wantsWrite"/> when the open asked for write access or O_TRUNC. Null with
    /// <paramref name="error"/> (-errno) when it cannot be opened.
    /// </summary>
    public FileDescription? Open(Task task, int flags, bool wantsWrite, string path, out int error)
    {
        error = 0;
        bool isPath = (flags & Linux.O_PATH) != 0;
        switch (Type)
        {
            case NodeType.Dir: return new SyntheticDirectory(this, task, flags, path);
            case NodeType.CharDevice when Special != null: return Special.Open(task, flags, path, out error);
            case NodeType.CharDevice: return new CharDevice(Device, flags, path);
            case NodeType.File:
                // Generated files are read-only (0444): only root gets past the mode, and only where Linux lets it.
                if (wantsWrite && !isPath && (WriteError == 0 || task.Uid != 0)) { error = -Errno.EACCES; return null; }
                return GeneratedFile.Open(this, task, flags, path, out error);
            default:
                error = -Errno.ELOOP;
                return null;
        }
    }

    /// <summary>
    /// The trees: /dev with the memory devices, /dev/tty and /dev/ptmx (opening the ptmx of
    /// <paramref name="pts"/>, mounted at /dev/pts), /proc (procfs) and /sys (a minimal sysfs).
    /// </summary>
    public static VirtualNode BuildDev(Tty.DevPts pts)
    {
        var dev = new VirtualNode("dev", NodeType.Dir);
        foreach (var (n, k) in new[] { ("null", CharDevice.Kind.Null), ("zero", CharDevice.Kind.Zero), ("full", CharDevice.Kind.Full), ("random", CharDevice.Kind.Random), ("urandom", CharDevice.Kind.URandom) })
            dev.Add(new VirtualNode(n, NodeType.CharDevice) { Device = k });
        dev.Add(new VirtualNode("tty", NodeType.CharDevice) { Special = new SpecialDevice(Tty.DevTty.TTYAUX_MAJOR, Tty.DevTty.Minor, Tty.DevTty.Open) });
        dev.Add(new VirtualNode("ptmx", NodeType.CharDevice)
        {
            Special = new SpecialDevice(Tty.DevPts.TTYAUX_MAJOR, Tty.DevPts.PtmxMinor, (Task task, int flags, string path, out int error) =>
            {
                error = (int)pts.OpenMaster(task, flags, path, out var file);
                return file;
            }),
        });
        dev.Add(new VirtualNode("shm", NodeType.Dir)); // a tmpfs mount point
        dev.Add(new VirtualNode("pts", NodeType.Dir)); // the devpts mount point
        dev.Add(new VirtualNode("fd", NodeType.Symlink) { Target = _ => "/proc/self/fd" });
        string[] std = ["stdin", "stdout", "stderr"];
        for (int i = 0; i < std.Length; i++)
        {
            string target = $"/proc/self/fd/{i}";
            dev.Add(new VirtualNode(std[i], NodeType.Symlink) { Target = _ => target });
        }
        return dev;
    }

    public static VirtualNode BuildProc() => ProcFs.Build();

    public static VirtualNode BuildSys() => SysFs.Build();
}
