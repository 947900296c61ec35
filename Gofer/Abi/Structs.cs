using System.Runtime.InteropServices;

namespace Sentry.Gofer.Abi;

/// <summary>struct stat as x86-64 newfstatat(2) fills it (asm/stat.h), 144 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct LinuxStat
{
    public ulong st_dev;
    public ulong st_ino;
    public ulong st_nlink;
    public uint st_mode;
    public uint st_uid;
    public uint st_gid;
    int __pad0;
    public ulong st_rdev;
    public long st_size;
    public long st_blksize;
    public long st_blocks;
    public long st_atime, st_atime_nsec;
    public long st_mtime, st_mtime_nsec;
    public long st_ctime, st_ctime_nsec;
    long __unused0, __unused1, __unused2;

    public readonly uint Type => st_mode & Linux.S_IFMT;
    public readonly bool IsDir => Type == Linux.S_IFDIR;
    public readonly bool IsRegular => Type == Linux.S_IFREG;
    public readonly bool IsSymlink => Type == Linux.S_IFLNK;
}

/// <summary>struct statfs as x86-64 fstatfs(2) fills it (asm-generic/statfs.h), 120 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct LinuxStatfs
{
    public long f_type;
    public long f_bsize;
    public ulong f_blocks, f_bfree, f_bavail, f_files, f_ffree;
    public int f_fsid0, f_fsid1;
    public long f_namelen;
    public long f_frsize;
    public long f_flags;
    long f_spare0, f_spare1, f_spare2, f_spare3;
}

/// <summary>struct flock (asm-generic/fcntl.h) for fcntl(F_OFD_*), 32 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct LinuxFlock
{
    public short l_type;
    public short l_whence;
    public long l_start;
    public long l_len;
    public int l_pid;
}

/// <summary>struct open_how (linux/openat2.h), 24 bytes: openat2(2)'s flags, mode and resolve.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct OpenHow
{
    public ulong flags;
    public ulong mode;
    public ulong resolve;
}

/// <summary>struct timespec, 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct Timespec
{
    public long tv_sec;
    public long tv_nsec;
}

/// <summary>struct xattr_args (linux/xattr.h) of setxattrat/getxattrat, 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct XattrArgs
{
    public ulong value;
    public uint size;
    public uint flags;
}

/// <summary>struct mount_attr (linux/mount.h) of mount_setattr(2), 32 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct MountAttr
{
    public ulong attr_set;
    public ulong attr_clr;
    public ulong propagation;
    public ulong userns_fd;
}

/// <summary>struct rlimit.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct Rlimit
{
    public ulong rlim_cur;
    public ulong rlim_max;
}
