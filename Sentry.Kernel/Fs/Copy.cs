using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;
using Sentry.Kernel.Vfs;

namespace Sentry.Kernel.Fs;

/// <summary>Overlay copy-up: a tmpfs copy of a lower node with its type, data, mode, owner and times.</summary>
internal static class Copy
{
    public static long Up(Task task, Inode lower, Tmpfs upper, out TmpfsNode? node)
    {
        node = null;
        long r = lower.Stat(out var st);
        if (r < 0) return r;
        var n = upper.NewNodeUnlinked(st.st_mode);
        n.OwnerUid = st.st_uid;
        n.OwnerGid = st.st_gid;
        n.Rdev = st.st_rdev;
        if (lower.IsSymlink)
        {
            r = lower.ReadLink(task, out var target);
            if (r < 0) return r;
            n.Target = target;
        }
        else if (lower.IsRegular && st.st_size > 0)
        {
            r = CopyData(task, lower, st.st_size, upper, n);
            if (r < 0)
            {
                Discard(upper, n);
                return r;
            }
        }
        n.Atime = (st.st_atime, st.st_atime_nsec);
        n.Mtime = (st.st_mtime, st.st_mtime_nsec);
        node = n;
        return 0;
    }

    /// <summary>Gives back the space and pages of a copy that failed half way (it never got a name).</summary>
    static void Discard(Tmpfs upper, TmpfsNode n)
    {
        lock (upper.Lock)
        {
            n.Nlink = 0;
            n.ReleaseDataIfUnused();
        }
    }

    static long CopyData(Task task, Inode lower, long size, Tmpfs upper, TmpfsNode n)
    {
        lock (upper.Lock)
        {
            // The copy is dense (the lower file's holes are not known here): every page is charged.
            if (!upper.Charge((size + 4095) >> 12)) return -Errno.ENOSPC;
            n.Truncate(size);
            n.MarkWritten(0, size);
        }
        long r = lower.Open(task, Linux.O_RDONLY, "", out var f);
        if (r < 0) return r;
        var bounce = System.Buffers.ArrayPool<byte>.Shared.Rent((int)Math.Min(size, 1 << 20));
        try
        {
            long done = 0;
            while (done < size)
            {
                long got = f!.PRead(bounce.AsSpan(0, (int)Math.Min(bounce.Length, size - done)), done);
                if (got < 0) return got;
                if (got == 0) break; // the file shrank on the host: keep what was there
                lock (upper.Lock)
                    if (!n.Pages.Write(done, bounce.AsSpan(0, (int)got))) return -Errno.ENOSPC;
                done += got;
            }
            return 0;
        }
        finally
        {
            f!.Release();
            System.Buffers.ArrayPool<byte>.Shared.Return(bounce);
        }
    }
}
