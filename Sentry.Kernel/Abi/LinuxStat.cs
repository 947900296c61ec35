using System.Runtime.InteropServices;

namespace Sentry.Kernel.Abi;

/// <summary>x86-64 <c>struct stat</c> (asm/stat.h), 144 bytes.</summary>
[StructLayout(LayoutKind.Sequential, Size = 144)]
public struct LinuxStat
{
    public ulong st_dev, st_ino, st_nlink;
    public uint st_mode, st_uid, st_gid;
    int __pad0;
    public ulong st_rdev;
    public long st_size, st_blksize, st_blocks;
    public long st_atime, st_atime_nsec, st_mtime, st_mtime_nsec, st_ctime, st_ctime_nsec;
}

/// <summary><c>struct statx_timestamp</c>.</summary>
[StructLayout(LayoutKind.Sequential, Size = 16)]
public struct StatxTimestamp { public long tv_sec; public uint tv_nsec; int __reserved; }

/// <summary><c>struct statx</c> (linux/stat.h), 256 bytes.</summary>
[StructLayout(LayoutKind.Sequential, Size = 256)]
public struct LinuxStatx
{
    public uint stx_mask, stx_blksize;
    public ulong stx_attributes;
    public uint stx_nlink, stx_uid, stx_gid;
    public ushort stx_mode; ushort __spare0;
    public ulong stx_ino, stx_size, stx_blocks, stx_attributes_mask;
    public StatxTimestamp stx_atime, stx_btime, stx_ctime, stx_mtime;
    public uint stx_rdev_major, stx_rdev_minor, stx_dev_major, stx_dev_minor;

    public const uint STATX_BASIC_STATS = 0x7ff;

    /// <summary>Builds a statx answer from a stat (for files whose source has no native statx).</summary>
    public static LinuxStatx FromStat(in LinuxStat s)
    {
        var x = new LinuxStatx
        {
            stx_mask = STATX_BASIC_STATS, stx_blksize = (uint)s.st_blksize, stx_nlink = (uint)s.st_nlink,
            stx_uid = s.st_uid, stx_gid = s.st_gid, stx_mode = (ushort)s.st_mode, stx_ino = s.st_ino,
            stx_size = (ulong)s.st_size, stx_blocks = (ulong)s.st_blocks,
            stx_rdev_major = Major(s.st_rdev), stx_rdev_minor = Minor(s.st_rdev),
            stx_dev_major = Major(s.st_dev), stx_dev_minor = Minor(s.st_dev),
        };
        x.stx_atime.tv_sec = s.st_atime; x.stx_atime.tv_nsec = (uint)s.st_atime_nsec;
        x.stx_mtime.tv_sec = s.st_mtime; x.stx_mtime.tv_nsec = (uint)s.st_mtime_nsec;
        x.stx_ctime.tv_sec = s.st_ctime; x.stx_ctime.tv_nsec = (uint)s.st_ctime_nsec;
        return x;
    }

    public static uint Major(ulong dev) => (uint)(((dev >> 32) & 0xfffff000) | ((dev >> 8) & 0xfff));
    public static uint Minor(ulong dev) => (uint)(((dev >> 12) & 0xffffff00) | (dev & 0xff));
    public static ulong MakeDev(uint major, uint minor) =>
        ((ulong)(major & 0xfffff000) << 32) | ((ulong)(major & 0xfff) << 8) | ((ulong)(minor & 0xffffff00) << 12) | (minor & 0xff);
}
