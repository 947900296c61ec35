namespace Sentry.P9;

/// <summary>
/// 9P2000.L protocol constants, named as in Linux's include/net/9p/9p.h (and diod's protocol.md
/// for the few Linux does not name). Open flags (Tlopen, Tlcreate), modes, AT_REMOVEDIR and errno
/// values on the wire are the Linux x86-64 ones and need no translation.
/// </summary>
public static class P9
{
    /// <summary>The only protocol version spoken here.</summary>
    public static ReadOnlySpan<byte> Version9P2000L => "9P2000.L"u8;

    /// <summary>Tag of Tversion/Rversion: no other request may be outstanding.</summary>
    public const ushort P9_NOTAG = 0xFFFF;
    /// <summary>"No fid": the afid of an unauthenticated Tattach.</summary>
    public const uint P9_NOFID = 0xFFFF_FFFF;
    /// <summary>n_uname meaning "use uname instead" (diod).</summary>
    public const uint P9_NONUNAME = 0xFFFF_FFFF;
    /// <summary>Most names (and qids) in one Twalk (Rwalk).</summary>
    public const int P9_MAXWELEM = 16;

    /// <summary>size[4] type[1] tag[2].</summary>
    public const int HeaderSize = 7;
    /// <summary>Space servers reserve for the headers around Tread/Twrite/Treaddir data: a count
    /// must satisfy count + P9_IOHDRSZ &lt;= msize (diod answers EIO otherwise).</summary>
    public const int P9_IOHDRSZ = 24;
    public const int P9_READDIRHDRSZ = 24;

    // qid.type bits
    public const byte P9_QTDIR = 0x80;
    public const byte P9_QTAPPEND = 0x40;
    public const byte P9_QTEXCL = 0x20;
    public const byte P9_QTMOUNT = 0x10;
    public const byte P9_QTAUTH = 0x08;
    public const byte P9_QTTMP = 0x04;
    public const byte P9_QTSYMLINK = 0x02;
    public const byte P9_QTLINK = 0x01;
    public const byte P9_QTFILE = 0x00;

    // Tgetattr request_mask / Rgetattr valid
    public const ulong P9_GETATTR_MODE = 0x0000_0001;
    public const ulong P9_GETATTR_NLINK = 0x0000_0002;
    public const ulong P9_GETATTR_UID = 0x0000_0004;
    public const ulong P9_GETATTR_GID = 0x0000_0008;
    public const ulong P9_GETATTR_RDEV = 0x0000_0010;
    public const ulong P9_GETATTR_ATIME = 0x0000_0020;
    public const ulong P9_GETATTR_MTIME = 0x0000_0040;
    public const ulong P9_GETATTR_CTIME = 0x0000_0080;
    public const ulong P9_GETATTR_INO = 0x0000_0100;
    public const ulong P9_GETATTR_SIZE = 0x0000_0200;
    public const ulong P9_GETATTR_BLOCKS = 0x0000_0400;
    public const ulong P9_GETATTR_BTIME = 0x0000_0800;
    public const ulong P9_GETATTR_GEN = 0x0000_1000;
    public const ulong P9_GETATTR_DATA_VERSION = 0x0000_2000;
    /// <summary>Everything struct stat has (MODE through BLOCKS).</summary>
    public const ulong P9_GETATTR_BASIC = 0x0000_07ff;
    public const ulong P9_GETATTR_ALL = 0x0000_3fff;

    // Tsetattr valid
    public const uint P9_SETATTR_MODE = 0x0000_0001;
    public const uint P9_SETATTR_UID = 0x0000_0002;
    public const uint P9_SETATTR_GID = 0x0000_0004;
    public const uint P9_SETATTR_SIZE = 0x0000_0008;
    public const uint P9_SETATTR_ATIME = 0x0000_0010;
    public const uint P9_SETATTR_MTIME = 0x0000_0020;
    public const uint P9_SETATTR_CTIME = 0x0000_0040;
    /// <summary>With ATIME: use the time sent; without it the server uses its current time.</summary>
    public const uint P9_SETATTR_ATIME_SET = 0x0000_0080;
    public const uint P9_SETATTR_MTIME_SET = 0x0000_0100;

    // Tlock/Tgetlock type, Tlock flags, Rlock status
    public const byte P9_LOCK_TYPE_RDLCK = 0;
    public const byte P9_LOCK_TYPE_WRLCK = 1;
    public const byte P9_LOCK_TYPE_UNLCK = 2;
    public const uint P9_LOCK_FLAGS_BLOCK = 1;
    public const uint P9_LOCK_FLAGS_RECLAIM = 2;
    public const byte P9_LOCK_SUCCESS = 0;
    public const byte P9_LOCK_BLOCKED = 1;
    public const byte P9_LOCK_ERROR = 2;
    public const byte P9_LOCK_GRACE = 3;

    /// <summary>Tunlinkat flag: remove a directory (Linux AT_REMOVEDIR).</summary>
    public const uint P9_DOTL_AT_REMOVEDIR = 0x200;
}
