namespace Sentry.Kernel.Fs;

/// <summary>
/// The sandbox's writable mounts over the read-only host root: a tmpfs at /dev/shm. (/tmp stays
/// the host's, read-only, until the overlay lands: a tmpfs there would hide the host's files.)
/// The path walker asks which mount (if any) a canonical path is under.
/// </summary>
public sealed partial class MountTable
{
    public readonly record struct Mount(string[] At, Tmpfs Fs)
    {
        /// <summary>Number of path components of the mount point.</summary>
        public int Depth => At.Length;
    }

    readonly List<Mount> _mounts = new()
    {
        new Mount(["dev", "shm"], new Tmpfs()),
    };

    /// <summary>The mount whose point is a prefix of <paramref name="stack"/>, or null.</summary>
    public Mount? Find(List<string> stack)
    {
        foreach (var m in _mounts)
        {
            if (stack.Count < m.Depth) continue;
            bool match = true;
            for (int i = 0; i < m.Depth && match; i++) match = stack[i] == m.At[i];
            if (match) return m;
        }
        return null;
    }

    /// <summary>The tmpfs inode at <paramref name="stack"/> (an existing directory path), or null outside tmpfs.</summary>
    public TmpfsNode? NodeAt(List<string> stack)
    {
        if (Find(stack) is not { } m) return null;
        var n = m.Fs.Root;
        lock (m.Fs.Lock)
            for (int i = m.Depth; i < stack.Count && n != null; i++) n = n.Children?.GetValueOrDefault(stack[i]);
        return n;
    }
}
