using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs;

/// <summary>
/// A node of Sentry's own trees that shadow the host's /dev, /proc and /sys: the application sees
/// these, never the host's (which would expose host processes and devices).
/// </summary>
public sealed class VirtualNode
{
    public enum NodeType { Dir, CharDevice, Symlink }

    static ulong s_nextIno = 0x5e000;

    public string Name { get; }
    public NodeType Type { get; }
    public ulong Ino { get; } = Interlocked.Increment(ref s_nextIno);
    public List<VirtualNode> Children { get; } = new();
    public CharDevice.Kind Device { get; init; }
    /// <summary>Symlink target, computed per task (e.g. /proc/self/exe).</summary>
    public Func<Task, string>? Target { get; init; }

    public VirtualNode(string name, NodeType type) { Name = name; Type = type; }

    public VirtualNode Add(VirtualNode child) { Children.Add(child); return this; }
    public VirtualNode? Child(string name) => Children.Find(c => c.Name == name);

    public LinuxStat Stat() => new()
    {
        st_dev = 5, st_ino = Ino, st_nlink = Type == NodeType.Dir ? 2UL : 1UL, st_blksize = 4096,
        st_mode = Type switch
        {
            NodeType.Dir => (uint)(Linux.S_IFDIR | 0x16d),      // 0555
            NodeType.Symlink => (uint)(Linux.S_IFLNK | 0x1ff),  // 0777
            _ => (uint)(Linux.S_IFCHR | 0x1b6),                  // 0666
        },
        st_rdev = Type == NodeType.CharDevice ? LinuxStatx.MakeDev(1, (uint)Device) : 0,
    };

    /// <summary>The trees: /dev with the memory devices, /proc with only self/exe until procfs exists, empty /sys.</summary>
    public static VirtualNode BuildDev()
    {
        var dev = new VirtualNode("dev", NodeType.Dir);
        foreach (var (n, k) in new[] { ("null", CharDevice.Kind.Null), ("zero", CharDevice.Kind.Zero), ("full", CharDevice.Kind.Full), ("random", CharDevice.Kind.Random), ("urandom", CharDevice.Kind.URandom) })
            dev.Add(new VirtualNode(n, NodeType.CharDevice) { Device = k });
        dev.Add(new VirtualNode("shm", NodeType.Dir)); // a tmpfs mount point
        return dev;
    }

    public static VirtualNode BuildProc()
    {
        var self = new VirtualNode("self", NodeType.Dir)
            .Add(new VirtualNode("exe", NodeType.Symlink) { Target = t => t.ExePath });
        return new VirtualNode("proc", NodeType.Dir).Add(self);
    }

    public static VirtualNode BuildSys() => new("sys", NodeType.Dir);
}
