using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;
using Sentry.Kernel.Vfs;

namespace Sentry.Kernel.Fs;

/// <summary>
/// memfd_create(2): a tmpfs file that no directory holds, in the sandbox's own internal tmpfs (as
/// Linux makes them on its internal shm mount). Its data are tmpfs pages, so every mapping of it
/// goes through the same page store as any tmpfs file; it lives while a description or a mapping
/// holds it, and /proc/self/fd shows it as "/memfd:NAME (deleted)".
/// </summary>
public static class Memfd
{
    /// <summary>Longest name: NAME_MAX less the "memfd:" prefix.</summary>
    public const int NameMax = 255 - 6;

    /// <summary>A new memfd open O_RDWR, with the seals and mode <paramref name="flags"/> ask for (already validated).</summary>
    public static FileDescription Create(Task task, Tmpfs fs, string name, uint flags)
    {
        TmpfsNode node;
        lock (fs.Lock)
        {
            // Mode 0777 whatever the umask, as shmem_file_setup makes it; MFD_NOEXEC_SEAL takes the
            // exec bits away for good (F_SEAL_EXEC).
            node = fs.NewNode((uint)Linux.S_IFREG | 0x1ff);
            node.Nlink = 0;
            node.OwnerUid = task.Uid;
            node.OwnerGid = task.Gid;
            if ((flags & Linux.MFD_NOEXEC_SEAL) != 0)
            {
                node.FileMode &= ~0x49u; // 0111
                node.Seals = Linux.F_SEAL_EXEC;
            }
            else if ((flags & Linux.MFD_ALLOW_SEALING) != 0) node.Seals = 0;
        }
        var file = new TmpfsFile(node, Linux.O_RDWR | Linux.O_LARGEFILE, $"/memfd:{name} (deleted)");
        return file;
    }
}
