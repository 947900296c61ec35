namespace Sentry.P9;

/// <summary>
/// A server's identity for a file: type[1] version[4] path[8] on the wire (13 bytes). Path is
/// unique per file on the server (diod uses the inode number); type holds the P9_QT* bits.
/// </summary>
public readonly record struct P9Qid(byte Type, uint Version, ulong Path)
{
    public const int WireSize = 13;

    public bool IsDirectory => (Type & P9.P9_QTDIR) != 0;
    public bool IsSymlink => (Type & P9.P9_QTSYMLINK) != 0;
}
