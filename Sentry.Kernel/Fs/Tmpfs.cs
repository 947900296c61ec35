using Sentry.Kernel.Abi;
using Sentry.Platform;

namespace Sentry.Kernel.Fs;

/// <summary>
/// An in-memory file system, private to the sandbox: what the application writes under its
/// mount points (/dev/shm, and the root overlay's upper layer) lives only in Sentry and vanishes
/// with the sandbox. The host never sees it. As on Linux, a file may be as large as any file
/// (MAX_LFS_FILESIZE) and holes cost nothing; what bounds the file system is its size limit,
/// counted in allocated pages, and reaching it is ENOSPC.
/// </summary>
public sealed class Tmpfs
{
    static ulong s_nextDev = 0x30;
    ulong _nextIno = 1;

    const int PageShift = 12;

    /// <summary>
    /// Largest size of a file (s_maxbytes): Linux's MAX_LFS_FILESIZE less its last partial page,
    /// so that the end of every page of a file is still a positive 64-bit offset. Past it writes
    /// and truncation are EFBIG; nothing else bounds a file.
    /// </summary>
    public const long MaxFileSize = Linux.MAX_LFS_FILESIZE & ~((1L << PageShift) - 1);

    /// <summary>
    /// Most pages the file system may hold (Linux's max_blocks), 0 for no limit (size=0). Linux's
    /// default is half of RAM; the sandbox's RAM is the host's, as its /proc/meminfo says.
    /// A remount may change it.
    /// </summary>
    public long LimitPages { get; set; } = RamPages / 2;
    long _usedPages;
    /// <summary>Pages allocated to files (written or fallocated; holes are free).</summary>
    public long UsedPages => _usedPages;

    /// <summary>The host's RAM in pages (totalram_pages, which the size= percentages and the default limit are of).</summary>
    public static long RamPages
    {
        get
        {
            var si = Vfs.Proc.HostInfo.Sys();
            return (long)(si.totalram * si.mem_unit >> PageShift);
        }
    }

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

    /// <summary>Pages still free under the limit (long.MaxValue when there is none).</summary>
    public long FreePages => LimitPages == 0 ? long.MaxValue : Math.Max(0, LimitPages - _usedPages);

    /// <summary>Takes <paramref name="pages"/> newly allocated pages from the limit; false (nothing taken) when they do not fit. Caller holds the lock.</summary>
    public bool Charge(long pages)
    {
        if (pages > FreePages) return false;
        _usedPages += pages;
        return true;
    }

    /// <summary>Gives back pages that were freed (truncation, hole punch, the last reference of a file). Caller holds the lock.</summary>
    public void Uncharge(long pages) => _usedPages -= pages;

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
        else if (--node.Nlink == 0 && node.IsFile) node.ReleaseDataIfUnused();
        else node.Touch(false);
        dir.Touch(true);
    }
}
