using Sentry.Kernel.Abi;
using Sentry.Kernel.Vfs;
using Sentry.Kernel.Vfs.Tty;
using Sentry.Platform;

namespace Sentry.Kernel.Fs;

/// <summary>
/// The sandbox's mounts: the root (an overlay of the read-only host root under a tmpfs) and, over
/// it, Sentry's /dev with devpts at /dev/pts and a tmpfs at /dev/shm, /proc and /sys. The path walker asks, after each
/// component, whether a file system is mounted at the path reached.
/// </summary>
public sealed class MountTable
{
    public sealed record Mount(string[] At, Inode Root, string Source, string Type, string Options);

    readonly List<Mount> _mounts = new();
    int _maxDepth;

    public Inode Root { get; }
    public Overlay RootOverlay { get; }
    /// <summary>The devpts instance of /dev/pts, which /dev/ptmx opens.</summary>
    public DevPts Pts { get; } = new();

    public MountTable(Inode lower, MemoryFile memory, bool readOnlyRoot = false)
    {
        // The upper layer stands for the overlay of a container's root, not a tmpfs: its files take no seals.
        RootOverlay = new Overlay(lower, new Tmpfs(memory) { HasSeals = false }) { ReadOnly = readOnlyRoot };
        Root = RootOverlay.Root;
        Add(["proc"], new SyntheticInode(VirtualNode.BuildProc(), SyntheticInode.PROC_SUPER_MAGIC), "proc", "proc", "rw,nosuid,nodev,noexec,relatime");
        Add(["sys"], new SyntheticInode(VirtualNode.BuildSys(), SyntheticInode.SYSFS_MAGIC), "sysfs", "sysfs", "ro,nosuid,nodev,noexec,relatime");
        Add(["dev"], new SyntheticInode(VirtualNode.BuildDev(Pts), SyntheticInode.TMPFS_MAGIC), "devtmpfs", "devtmpfs", "rw,nosuid,relatime");
        Add(["dev", "pts"], Pts.Root, "devpts", "devpts", DevPts.MountOptions);
        Add(["dev", "shm"], new Tmpfs(memory).Root, "shm", "tmpfs", "rw,nosuid,nodev");
    }

    /// <summary>The mounts in the order they were made (for /proc/mounts).</summary>
    public IReadOnlyList<Mount> Mounts { get { lock (_mounts) return _mounts.ToArray(); } }

    public void Add(string[] at, Inode root, string source, string type, string options)
    {
        lock (_mounts)
        {
            _mounts.Add(new Mount(at, root, source, type, options));
            _maxDepth = Math.Max(_maxDepth, at.Length);
        }
    }

    /// <summary>
    /// Mounts a volume at its path. A mount point the root lacks is made as a directory in the
    /// overlay's upper layer (merged with the lower one where that has the directory), as
    /// container runtimes make bind-mount targets.
    /// </summary>
    public void AddVolume(VolumeMount v)
    {
        string[] at = MakeMountPoint(v.Path);
        Add(at, v.Root, "none", "9p", v.ReadOnly ? "ro,relatime" : "rw,relatime");
    }

    /// <summary>Makes the directories of <paramref name="path"/> in the overlay's upper layer, as <see cref="AddVolume"/> needs; its components.</summary>
    string[] MakeMountPoint(string path)
    {
        string[] at = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var upper = RootOverlay.Upper;
        lock (upper.Lock)
        {
            var dir = upper.Root;
            foreach (var name in at)
            {
                if (!dir.Children!.TryGetValue(name, out var next))
                {
                    next = upper.NewNode((uint)Linux.S_IFDIR | 0x1ed);
                    upper.Link(dir, name, next);
                }
                if (!next.IsDir) break; // an upper file there already: the mount covers it
                dir = next;
            }
        }
        return at;
    }

    /// <summary>
    /// Mounts a new tmpfs at <paramref name="m"/>'s path (an OCI tmpfs mount: /tmp, /run of
    /// `podman --read-only`). Its options are mount(8)'s; the tmpfs ones (size, mode, uid, gid)
    /// apply, flags such as nosuid are shown only. Returns 0 or -EINVAL for a bad option.
    /// </summary>
    public long AddTmpfs(TmpfsMount m, MemoryFile memory)
    {
        var tmpfsOptions = new List<string>();
        foreach (var o in m.Options)
            if (o.StartsWith("size=", StringComparison.Ordinal) || o.StartsWith("mode=", StringComparison.Ordinal)
                || o.StartsWith("uid=", StringComparison.Ordinal) || o.StartsWith("gid=", StringComparison.Ordinal) || o.StartsWith("nr_", StringComparison.Ordinal))
                tmpfsOptions.Add(o);
        long r = TmpfsOptions.Parse(string.Join(',', tmpfsOptions), Tmpfs.RamPages, out var parsed);
        if (r < 0) return r;
        var fs = new Tmpfs(memory, (uint)Linux.S_IFDIR | parsed.Mode) { LimitPages = parsed.LimitPages };
        fs.Root.OwnerUid = parsed.Uid ?? 0;
        fs.Root.OwnerGid = parsed.Gid ?? 0;
        Add(MakeMountPoint(m.Path), fs.Root, "tmpfs", "tmpfs", (m.Options.Contains("ro") ? "ro" : "rw") + parsed.Shown(Tmpfs.RamPages));
        return 0;
    }

    /// <summary>
    /// Puts a copy of a host file at <paramref name="f"/>'s path in the root's upper layer (an OCI
    /// bind mount of a single file: /etc/hosts, /etc/hostname, /etc/resolv.conf from the engine).
    /// A copy, not a bind: what the sandbox writes there stays in the sandbox.
    /// </summary>
    public void AddCopiedFile(CopiedFile f)
    {
        string[] at = f.Path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (at.Length == 0) return;
        var dirAt = MakeMountPoint(string.Join('/', at[..^1]));
        var upper = RootOverlay.Upper;
        TmpfsNode node;
        lock (upper.Lock)
        {
            var dir = upper.Root;
            foreach (var name in dirAt)
                if (dir.Children!.TryGetValue(name, out var next) && next.IsDir) dir = next; else return;
            node = upper.NewNode((uint)Linux.S_IFREG | 0x1a4);
            dir.Children!.Remove(at[^1]);
            upper.Link(dir, at[^1], node);
        }
        var file = new TmpfsFile(node, Linux.O_RDWR, f.Path);
        file.PWrite(f.Content, 0);
        file.Release();
    }

    /// <summary>Removes the last mount made at <paramref name="at"/>; false when nothing is mounted there.</summary>
    public bool Remove(string[] at)
    {
        lock (_mounts)
        {
            int i = _mounts.FindLastIndex(m => m.At.AsSpan().SequenceEqual(at));
            if (i < 0) return false;
            _mounts.RemoveAt(i);
            return true;
        }
    }

    /// <summary>The root of the file system mounted exactly at <paramref name="names"/>, or null.</summary>
    public Inode? MountedAt(List<string> names)
    {
        if (names.Count > _maxDepth) return null;
        Inode? found = null;
        lock (_mounts)
        foreach (var m in _mounts)
        {
            if (m.At.Length != names.Count) continue;
            bool match = true;
            for (int i = 0; i < names.Count && match; i++) match = names[i] == m.At[i];
            if (match) found = m.Root; // the last mount at a path covers earlier ones
        }
        return found;
    }

    /// <summary>Whether <paramref name="node"/> is the root of a mount (it cannot be removed or renamed).</summary>
    public bool IsMountRoot(Inode node)
    {
        lock (_mounts)
            foreach (var m in _mounts) if (ReferenceEquals(m.Root, node)) return true;
        return ReferenceEquals(node, Root);
    }
}
