using System.Text;
using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;
using Sentry.Kernel.Vfs;

namespace Sentry.Kernel.Syscalls;

/// <summary>The syscall handlers, one partial file per family; this file has the shared argument helpers.</summary>
public static partial class Sys
{
    /// <summary>Reads a path argument. Returns 0, -EFAULT, -ENAMETOOLONG; the empty path is returned as "" (callers decide ENOENT).</summary>
    static long ReadPath(Task t, ulong addr, out string path)
    {
        path = "";
        Span<byte> buf = stackalloc byte[PathWalker.PATH_MAX];
        int n = t.Mm.ReadCString(addr, buf);
        if (n < 0) return n;
        path = Encoding.UTF8.GetString(buf[..n]);
        return 0;
    }

    /// <summary>Reads a path and walks it from <paramref name="dirfd"/>. AT_EMPTY_PATH with "" names dirfd itself.</summary>
    static long Walk(Task t, int dirfd, ulong pathAddr, bool follow, bool allowEmpty, out Lookup l, out FileDescription? emptyPathFile)
    {
        l = default;
        emptyPathFile = null;
        long r = ReadPath(t, pathAddr, out var path);
        if (r < 0) return r;
        if (path.Length == 0)
        {
            if (!allowEmpty) return -Errno.ENOENT;
            if (dirfd == Linux.AT_FDCWD) path = t.Fs.Cwd;
            else
            {
                emptyPathFile = t.Fds.Get(dirfd);
                return emptyPathFile == null ? -Errno.EBADF : 0;
            }
        }
        l = PathWalker.Resolve(t, dirfd, path, follow);
        return l.Error;
    }

    static int Fd(ulong a) => (int)(uint)a;

    /// <summary>Reads an optional relative struct timespec timeout: null (no address) means wait for ever.</summary>
    static long ReadTimeout(Task t, ulong addr, out long? deadline)
    {
        deadline = null;
        if (addr == 0) return 0;
        long r = ReadTimespec(t, addr, out long s, out long ns);
        if (r < 0) return r;
        deadline = DeadlineAfter(s * NsPerSec + ns);
        return 0;
    }

    /// <summary>After a call that swapped the signal mask (ppoll, pselect, epoll_pwait) returns without a signal: put it back.</summary>
    static void RestoreSavedMask(Task t)
    {
        if (t.SavedMask is { } saved) { t.Signals.Mask = saved; t.SavedMask = null; }
    }

    /// <summary>Linux's access_ok: the range does not wrap and ends below TASK_SIZE (checked before any I/O).</summary>
    static bool AccessOk(ulong addr, ulong len) => addr + len >= addr && addr + len <= 0x7fff_ffff_f000;

    /// <summary>Writes a value to application memory; -EFAULT when it cannot.</summary>
    internal static long Put<T>(Task t, ulong addr, in T value) where T : unmanaged => t.Mm.Write(addr, value) < 0 ? -Errno.EFAULT : 0;
}
