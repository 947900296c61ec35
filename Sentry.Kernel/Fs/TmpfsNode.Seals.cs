using Sentry.Kernel.Abi;

namespace Sentry.Kernel.Fs;

// File seals (fcntl F_ADD_SEALS/F_GET_SEALS), as mm/memfd.c keeps them on shmem inodes: every tmpfs
// file starts with F_SEAL_SEAL (no seals may be added), a memfd made with MFD_ALLOW_SEALING without it.
public sealed partial class TmpfsNode
{
    /// <summary>F_SEAL_* bits in force (guarded by the file system's lock).</summary>
    public int Seals = Linux.F_SEAL_SEAL;

    /// <summary>A write ending at <paramref name="end"/> is refused: the file is write-sealed, or it would grow a grow-sealed file (caller holds the lock).</summary>
    internal bool SealsForbidWrite(long end) =>
        (Seals & (Linux.F_SEAL_WRITE | Linux.F_SEAL_FUTURE_WRITE)) != 0 || ((Seals & Linux.F_SEAL_GROW) != 0 && end > Size);

    /// <summary>A truncation to <paramref name="size"/> is refused by F_SEAL_SHRINK or F_SEAL_GROW (caller holds the lock).</summary>
    internal bool SealsForbidResize(long size) =>
        (size < Size && (Seals & Linux.F_SEAL_SHRINK) != 0) || (size > Size && (Seals & Linux.F_SEAL_GROW) != 0);

    /// <summary>F_GET_SEALS: the seals, or -EINVAL for a file system without them.</summary>
    public long GetSeals()
    {
        if (!Fs.HasSeals || !IsFile) return -Errno.EINVAL;
        lock (Lock) return Seals;
    }

    /// <summary>
    /// F_ADD_SEALS in memfd_add_seals' order: EINVAL for unknown bits or a file without seals, EPERM
    /// once F_SEAL_SEAL is set, EBUSY for F_SEAL_WRITE while a shared mapping may write. The caller
    /// checked the description is open for writing (EPERM).
    /// </summary>
    public long AddSeals(int seals)
    {
        if ((seals & ~Linux.F_ALL_SEALS) != 0) return -Errno.EINVAL;
        if (!Fs.HasSeals || !IsFile) return -Errno.EINVAL;
        lock (Lock)
        {
            if ((Seals & Linux.F_SEAL_SEAL) != 0) return -Errno.EPERM;
            if ((seals & Linux.F_SEAL_WRITE) != 0 && (Seals & Linux.F_SEAL_WRITE) == 0 && PagesIfAny is { HasWritableMappings: true })
                return -Errno.EBUSY;
            // F_SEAL_EXEC on an executable file implies the write seals (checked after EBUSY, as Linux does).
            if ((seals & Linux.F_SEAL_EXEC) != 0 && (FileMode & 0x49 /* 0111 */) != 0)
                seals |= Linux.F_SEAL_SHRINK | Linux.F_SEAL_GROW | Linux.F_SEAL_WRITE | Linux.F_SEAL_FUTURE_WRITE;
            Seals |= seals;
            return 0;
        }
    }
}
