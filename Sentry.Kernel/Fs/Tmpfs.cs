using Sentry.Kernel.Abi;
using Sentry.Platform;

namespace Sentry.Kernel.Fs;

/// <summary>
/// An in-memory file system, private to the sandbox: what the application writes under its
/// mount points (/dev/shm, and the root overlay's upper layer) lives only in Sentry and vanishes
/// with the sandbox. The host
/// never sees it. Size is bounded so a program cannot exhaust Sentry's memory through it.
/// </summary>
public sealed class Tmpfs
{
    static ulong s_nextDev = 0x30;
    ulong _nextIno = 1;

    /// <summary>Largest single file.</summary>
    public const long MaxFileSize = 1L << 30;
    /// <summary>Total bytes of file data allowed in this file system.</summary>
    public long Capacity { get; init; } = 4L << 30;
    long _used;
    public long Used => _used;

    /// <summary>
    /// Whether files here are shmem files with seals (fcntl F_ADD_SEALS/F_GET_SEALS): true for real
    /// tmpfs mounts and memfds; the overlay's upper layer stands for a disk file system, which has none (EINVAL).
    /// </summary>
    public bool HasSeals { get; init; } = true;

    public object Lock { get; } = new();
    public ulong Dev { get; } = Interlocked.Increment(ref s_nextDev);
    public TmpfsNode Root { get; }
    /// <summary>Where file data lives: each file's pages are frames of the sandbox's memory file, which MAP_SHARED maps directly.</summary>
    public MemoryFile Memory { get; }

    public Tmpfs(MemoryFile memory, uint rootMode = (uint)Linux.S_IFDIR | 0x3ff /* 01777 */)
    {
        Memory = memory;
        Root = NewNode(rootMode);
        Root.Children = new();
        Root.Nlink = 2;
        Root.Parent = Root;
    }

    public static (long, long) Now()
    {
        var t = DateTimeOffset.UtcNow;
        long ticks = t.Ticks - DateTimeOffset.UnixEpoch.Ticks;
        return (ticks / TimeSpan.TicksPerSecond, ticks % TimeSpan.TicksPerSecond * 100);
    }

    /// <summary>A node not yet in any directory, made outside the lock (overlay copy-up).</summary>
    public TmpfsNode NewNodeUnlinked(uint mode) { lock (Lock) return NewNode(mode); }

    public TmpfsNode NewNode(uint mode)
    {
        var now = Now();
        var n = new TmpfsNode { Fs = this, Ino = _nextIno++, FileMode = mode, Atime = now, Mtime = now, Ctime = now };
        if (n.IsDir) { n.Children = new(); n.Nlink = 2; }
        return n;
    }

    /// <summary>Accounts a change of file size; false when the file system would be over capacity.</summary>
    public bool Reserve(long delta)
    {
        if (delta > 0 && _used + delta > Capacity) return false;
        _used += delta;
        return true;
    }

    /// <summary>Links <paramref name="node"/> into <paramref name="dir"/> as <paramref name="name"/> (caller checked it is free).</summary>
    public void Link(TmpfsNode dir, string name, TmpfsNode node)
    {
        dir.Children![name] = node;
        if (node.IsDir) { node.Parent = dir; dir.Nlink++; }
        dir.Touch(true);
    }

    /// <summary>Removes the entry <paramref name="name"/> of <paramref name="dir"/>.</summary>
    public void Unlink(TmpfsNode dir, string name)
    {
        if (!dir.Children!.Remove(name, out var node)) return;
        if (node.IsDir) { dir.Nlink--; node.Nlink = 0; }
        else if (--node.Nlink == 0 && node.IsFile)
        {
            Reserve(-node.Size);
            node.ReleaseDataIfUnused();
        }
        else node.Touch(false);
        dir.Touch(true);
    }
}
