namespace Sentry.Gofer.Abi;

/// <summary>
/// Linux x86-64 constants the Gofer passes to the host, named as in the kernel's uapi headers
/// (asm-generic/fcntl.h, linux/openat2.h, linux/stat.h, linux/mount.h, linux/prctl.h, ...).
/// 9P2000.L carries open flags, modes and AT_REMOVEDIR with these same values.
/// </summary>
public static class Linux
{
    // open(2) flags
    public const int O_RDONLY = 0x0;
    public const int O_WRONLY = 0x1;
    public const int O_RDWR = 0x2;
    public const int O_ACCMODE = 0x3;
    public const int O_CREAT = 0x40;
    public const int O_EXCL = 0x80;
    public const int O_NOCTTY = 0x100;
    public const int O_TRUNC = 0x200;
    public const int O_APPEND = 0x400;
    public const int O_NONBLOCK = 0x800;
    public const int O_DSYNC = 0x1000;
    public const int FASYNC = 0x2000;
    public const int O_DIRECT = 0x4000;
    public const int O_LARGEFILE = 0x8000;
    public const int O_DIRECTORY = 0x10000;
    public const int O_NOFOLLOW = 0x20000;
    public const int O_NOATIME = 0x40000;
    public const int O_CLOEXEC = 0x80000;
    public const int __O_SYNC = 0x100000;
    public const int O_PATH = 0x200000;
    public const int __O_TMPFILE = 0x400000;

    // *at(2) flags
    public const int AT_FDCWD = -100;
    public const int AT_SYMLINK_NOFOLLOW = 0x100;
    public const int AT_REMOVEDIR = 0x200;
    public const int AT_EMPTY_PATH = 0x1000;
    public const int AT_RECURSIVE = 0x8000;

    // openat2(2) resolve flags
    public const ulong RESOLVE_NO_XDEV = 0x01;
    public const ulong RESOLVE_NO_MAGICLINKS = 0x02;
    public const ulong RESOLVE_NO_SYMLINKS = 0x04;
    public const ulong RESOLVE_BENEATH = 0x08;

    // st_mode
    public const uint S_IFMT = 0xF000;
    public const uint S_IFSOCK = 0xC000;
    public const uint S_IFLNK = 0xA000;
    public const uint S_IFREG = 0x8000;
    public const uint S_IFBLK = 0x6000;
    public const uint S_IFDIR = 0x4000;
    public const uint S_IFCHR = 0x2000;
    public const uint S_IFIFO = 0x1000;
    /// <summary>Permission and set-id bits: what chmod(2) may change.</summary>
    public const uint S_IALLUGO = 0xFFF;

    // fcntl(2)
    public const int F_GETFL = 3;
    public const int F_SETFL = 4;
    public const int F_DUPFD_CLOEXEC = 1030;
    public const int F_OFD_GETLK = 36;
    public const int F_OFD_SETLK = 37;
    public const short F_RDLCK = 0;
    public const short F_WRLCK = 1;
    public const short F_UNLCK = 2;
    public const int SEEK_SET = 0;

    // utimensat(2)
    public const long UTIME_NOW = (1L << 30) - 1;
    public const long UTIME_OMIT = (1L << 30) - 2;

    // Extended attributes (linux/xattr.h, linux/limits.h)
    public const uint XATTR_CREATE = 1;
    public const uint XATTR_REPLACE = 2;
    public const int XATTR_NAME_MAX = 255;
    public const int XATTR_SIZE_MAX = 65536;
    public const int XATTR_LIST_MAX = 65536;

    public const int NAME_MAX = 255;
    public const int PATH_MAX = 4096;

    // getdents64 d_type
    public const byte DT_DIR = 4;
    public const byte DT_LNK = 10;

    // Namespaces and mounts (linux/sched.h, linux/mount.h)
    public const int CLONE_FS = 0x200;
    public const int CLONE_THREAD = 0x10000;
    public const int CLONE_NEWNS = 0x20000;
    public const ulong MS_RDONLY = 1;
    public const ulong MS_NOSUID = 2;
    public const ulong MS_NODEV = 4;
    public const ulong MS_REMOUNT = 32;
    public const ulong MS_BIND = 4096;
    public const ulong MS_REC = 16384;
    public const ulong MS_PRIVATE = 1 << 18;
    public const int MNT_DETACH = 2;
    public const ulong MOUNT_ATTR_RDONLY = 0x1;
    public const ulong MOUNT_ATTR_NOSUID = 0x2;
    public const ulong MOUNT_ATTR_NODEV = 0x4;

    // prctl(2)
    public const int PR_SET_DUMPABLE = 4;
    public const int PR_CAPBSET_DROP = 24;
    public const int PR_SET_NO_NEW_PRIVS = 38;
    public const int PR_CAP_AMBIENT = 47;
    public const int PR_CAP_AMBIENT_CLEAR_ALL = 4;

    // Capabilities (linux/capability.h)
    public const uint _LINUX_CAPABILITY_VERSION_3 = 0x20080522;
    public const int CAP_CHOWN = 0;
    public const int CAP_DAC_OVERRIDE = 1;
    public const int CAP_DAC_READ_SEARCH = 2;
    public const int CAP_FOWNER = 3;
    public const int CAP_FSETID = 4;
    /// <summary>The highest capability any kernel defines today (CAP_CHECKPOINT_RESTORE); dropping beyond what the host knows just fails.</summary>
    public const int CAP_LAST_CAP = 40;

    public const int RLIMIT_NOFILE = 7;
}
