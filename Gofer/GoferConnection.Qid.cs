using Sentry.Gofer.Abi;
using Sentry.P9;

namespace Sentry.Gofer;

internal sealed partial class GoferConnection
{
    readonly ulong _rootDev;
    Dictionary<ulong, ulong>? _devIndex;

    /// <summary>
    /// qid.path of a file: its inode number on the export root's device (as diod does), and on
    /// other devices (mounts inside the export) the inode number with a small per-device index in
    /// the top byte, so that files on two file systems with the same inode number stay apart.
    /// </summary>
    ulong QidPath(ulong dev, ulong ino)
    {
        if (dev == _rootDev) return ino;
        _devIndex ??= new Dictionary<ulong, ulong>();
        if (!_devIndex.TryGetValue(dev, out ulong index))
        {
            index = (ulong)Math.Min(_devIndex.Count + 1, 255);
            _devIndex[dev] = index;
        }
        return ino ^ (index << 56);
    }

    static byte QidType(uint type) => type switch
    {
        Linux.S_IFDIR => P9Const.P9_QTDIR,
        Linux.S_IFLNK => P9Const.P9_QTSYMLINK,
        _ => P9Const.P9_QTFILE,
    };

    P9Qid QidOf(Node n) => new(QidType(n.Type), 0, QidPath(n.Dev, n.Ino));

    P9Qid QidOf(in LinuxStat st) => new(QidType(st.Type), 0, QidPath(st.st_dev, st.st_ino));
}
