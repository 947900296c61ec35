namespace Sentry.Kernel.Vfs;

// The table as /proc/<pid>/fd and fdinfo list it.
public sealed partial class FdTable
{
    /// <summary>
    /// The open fds in ascending order, read without a lock: another task's table may be changing
    /// (a resize replaces the array, so the copy read is consistent enough). No references are
    /// taken: callers only look at the descriptions (path, flags, position), never reopen them.
    /// </summary>
    public List<(int Fd, FileDescription File, bool CloseOnExec)> Snapshot()
    {
        var entries = Volatile.Read(ref _entries);
        var list = new List<(int, FileDescription, bool)>();
        for (int fd = 0; fd < entries.Length; fd++)
        {
            var e = entries[fd];
            if (e.File != null) list.Add((fd, e.File, e.CloseOnExec));
        }
        return list;
    }

    /// <summary>Size of the fd array (FDSize in /proc/&lt;pid&gt;/status).</summary>
    public int Capacity => Volatile.Read(ref _entries).Length;
}
