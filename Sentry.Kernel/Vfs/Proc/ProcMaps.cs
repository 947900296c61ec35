using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs.Proc;

/// <summary>
/// /proc/&lt;pid&gt;/maps in Linux's exact format (show_map_vma):
/// "start-end perms offset major:minor inode", then, for a named mapping, spaces up to column 73
/// and the name: the file's path, [heap], [stack], or "/dev/zero (deleted)" for shared anonymous memory.
/// </summary>
public static class ProcMaps
{
    /// <summary>Width the header is padded to before the name: 25 + sizeof(void *) * 6 - 1 (seq_setwidth).</summary>
    const int NameColumn = 25 + 8 * 6 - 1;

    public static int Maps(ProcScope s, Task reader, SeqBuffer o)
    {
        if (!s.MayInspect(reader)) return -Errno.EACCES;
        s.Task.Mm.VisitVmas(v =>
        {
            ulong dev = 0, ino = 0;
            long offset = 0;
            string? name = v.Label;
            if (v.File != null)
            {
                // The node's numbers, as stat shows them (not those of a host fd the Gofer donated).
                if (v.File is FileDescription f && (f.Inode?.Stat(out var st) ?? f.Stat(out st)) == 0) { dev = st.st_dev; ino = st.st_ino; }
                offset = v.FileOffset;
                name = v.File.MapName;
            }
            else if (v.Shm != null)
            {
                offset = v.FileOffset;
                name = "/dev/zero (deleted)";
            }
            int start = o.Length;
            o.Append($"{v.Start:x8}-{v.End:x8} {((v.Prot & Linux.PROT_READ) != 0 ? 'r' : '-')}{((v.Prot & Linux.PROT_WRITE) != 0 ? 'w' : '-')}" +
                     $"{((v.Prot & Linux.PROT_EXEC) != 0 ? 'x' : '-')}{(v.Shared ? 's' : 'p')} {offset:x8} " +
                     $"{LinuxStatx.Major(dev):x2}:{LinuxStatx.Minor(dev):x2} {ino} ");
            if (name != null) o.PadTo(start, NameColumn).Append(' ').Append(name);
            o.AppendByte((byte)'\n');
        });
        return 0;
    }
}
