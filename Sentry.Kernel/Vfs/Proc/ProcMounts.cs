using System.Text;
using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs.Proc;

/// <summary>
/// The sandbox's mount table as /proc/mounts, /proc/&lt;pid&gt;/mounts and mountinfo show it: the
/// root overlay, Sentry's own /dev, /proc and /sys, the tmpfs at /dev/shm and whatever the
/// application mounted. The host's mounts never appear.
/// </summary>
public static class ProcMounts
{
    /// <summary>One mount: id, parent id, st_dev, mount point, type, source, per-mount and per-superblock options.</summary>
    readonly record struct Mount(int Id, int Parent, ulong Dev, string Point, string Type, string Source, string MountOptions, string SuperOptions);

    static List<Mount> Table(Sandbox sandbox)
    {
        // The root is an overlay: the read-only lower tree under the sandbox's in-memory upper layer.
        sandbox.Mounts.Root.Stat(out var rootSt);
        string mode = sandbox.Mounts.RootOverlay.ReadOnly ? "ro" : "rw";
        var list = new List<Mount> { new(1, 0, rootSt.st_dev, "/", "overlay", "overlay", mode + ",relatime", mode + ",lowerdir=/,upperdir=tmpfs") };
        foreach (var m in sandbox.Mounts.Mounts)
        {
            string point = "/" + string.Join('/', m.At);
            m.Root.Stat(out var st);
            string[] opts = m.Options.Split(',', 2);
            list.Add(new(list.Count + 1, Containing(list, point).Id, st.st_dev, point, m.Type, m.Source, m.Options, opts[0]));
        }
        return list;
    }

    /// <summary>The mount that <paramref name="path"/> is on: the one with the longest mount point that prefixes it.</summary>
    static Mount Containing(List<Mount> list, string path)
    {
        var best = list[0];
        foreach (var m in list)
            if (m.Point.Length > best.Point.Length && (path == m.Point || path.StartsWith(m.Point + "/", StringComparison.Ordinal))) best = m;
        return best;
    }

    /// <summary>mnt_id of the mount <paramref name="path"/> lies on (fdinfo).</summary>
    public static int MountIdOf(Sandbox sandbox, string path) => Containing(Table(sandbox), path).Id;

    public static int Mounts(Task reader, SeqBuffer o)
    {
        var sb = new StringBuilder();
        foreach (var m in Table(reader.Sandbox))
            sb.Append(m.Source).Append(' ').Append(m.Point).Append(' ').Append(m.Type).Append(' ')
              .Append(m.MountOptions).Append(m.SuperOptions[2..]).Append(" 0 0\n"); // the superblock's options after its rw/ro
        o.Append(sb.ToString());
        return 0;
    }

    public static int MountInfo(Task reader, SeqBuffer o)
    {
        var sb = new StringBuilder();
        foreach (var m in Table(reader.Sandbox))
            sb.Append(m.Id).Append(' ').Append(m.Parent).Append(' ')
              .Append(LinuxStatx.Major(m.Dev)).Append(':').Append(LinuxStatx.Minor(m.Dev)).Append(" / ")
              .Append(m.Point).Append(' ').Append(m.MountOptions).Append(" - ")
              .Append(m.Type).Append(' ').Append(m.Source).Append(' ').Append(m.SuperOptions).Append('\n');
        o.Append(sb.ToString());
        return 0;
    }
}
