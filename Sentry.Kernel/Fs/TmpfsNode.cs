using Sentry.Kernel.Abi;

namespace Sentry.Kernel.Fs;

/// <summary>
/// An inode of a tmpfs: a directory (children by name), a regular file (bytes in memory) or a
/// symlink. Guarded by its file system's lock.
/// </summary>
public sealed class TmpfsNode
{
    public required Tmpfs Fs { get; init; }
    public required ulong Ino { get; init; }
    public uint Mode;
    public uint Uid, Gid;
    public ulong Nlink = 1;
    public Dictionary<string, TmpfsNode>? Children;
    public TmpfsNode? Parent;
    public byte[] Data = [];
    public long Size;
    public string? Target;
    public (long Sec, long Nsec) Atime, Mtime, Ctime;

    public bool IsDir => (Mode & Linux.S_IFMT) == Linux.S_IFDIR;
    public bool IsFile => (Mode & Linux.S_IFMT) == Linux.S_IFREG;
    public bool IsSymlink => (Mode & Linux.S_IFMT) == Linux.S_IFLNK;

    public LinuxStat Stat() => new()
    {
        st_dev = Fs.Dev, st_ino = Ino, st_nlink = Nlink, st_mode = Mode, st_uid = Uid, st_gid = Gid,
        st_size = IsDir ? 40 + 20 * (Children?.Count ?? 0) : IsSymlink ? Target!.Length : Size,
        st_blksize = 4096, st_blocks = (Size + 511) / 512,
        st_atime = Atime.Sec, st_atime_nsec = Atime.Nsec, st_mtime = Mtime.Sec, st_mtime_nsec = Mtime.Nsec,
        st_ctime = Ctime.Sec, st_ctime_nsec = Ctime.Nsec,
    };

    /// <summary>Sets the size, growing the buffer (zero-filled) or cutting it.</summary>
    public void Truncate(long size)
    {
        if (size > Data.Length) Array.Resize(ref Data, (int)Math.Max(size, Math.Min((long)Data.Length * 2, int.MaxValue - 64)));
        if (size < Size) Array.Clear(Data, (int)size, (int)(Math.Min(Size, Data.Length) - size));
        Size = size;
    }

    public void Touch(bool modify)
    {
        var now = Tmpfs.Now();
        if (modify) Mtime = now;
        Ctime = now;
    }
}
