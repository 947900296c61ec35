using System.Text;
using Sentry.Kernel.Abi;
using Sentry.Kernel.Loader;
using Sentry.Kernel.Tasks;
using static Sentry.Kernel.Abi.Linux;

namespace Sentry.Kernel.Syscalls;

// execve and execveat. (fork and threads come with the processes issue; exec alone already
// serves programs like env, nice and timeout-style wrappers that replace themselves.)
public static partial class Sys
{
    const int MAX_ARG_STRLEN = 32 * 4096, MAX_ARG_STRINGS = 0x7fffffff;
    const long ArgMax = 2L << 20; // the default ARG_MAX a stack rlimit of 8 MiB gives (a quarter of it)

    internal static void RegisterExec(SyscallHandler?[] t)
    {
        t[59] = (Task k, in SyscallArgs a) => DoExecve(k, AT_FDCWD, a.A0, a.A1, a.A2, 0);
        t[322] = (Task k, in SyscallArgs a) => DoExecve(k, (int)a.A0, a.A1, a.A2, a.A3, (int)a.A4);
    }

    static long DoExecve(Task t, int dirfd, ulong pathAddr, ulong argvAddr, ulong envpAddr, int flags)
    {
        if ((flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) != 0) return -Errno.EINVAL;
        long r = ReadPath(t, pathAddr, out var path);
        if (r < 0) return r;
        r = ReadStringArray(t, argvAddr, out var argv);
        if (r < 0) return r;
        r = ReadStringArray(t, envpAddr, out var envp);
        if (r < 0) return r;
        long total = 0;
        foreach (var s in argv) total += Encoding.UTF8.GetByteCount(s) + 1 + 8;
        foreach (var s in envp) total += Encoding.UTF8.GetByteCount(s) + 1 + 8;
        if (total > ArgMax) return -Errno.E2BIG;
        if (argv.Count == 0) argv.Add(""); // Linux adds an empty argv[0] for execve(path, NULL, ...)

        Vfs.Lookup l;
        string filename = path;
        if (path.Length == 0)
        {
            if ((flags & AT_EMPTY_PATH) == 0) return -Errno.ENOENT;
            var f = t.Fds.Get(dirfd);
            if (f == null) return -Errno.EBADF;
            l = Vfs.PathWalker.Resolve(t, AT_FDCWD, f.Path, true);
            filename = $"/dev/fd/{dirfd}";
        }
        else l = Vfs.PathWalker.Resolve(t, dirfd, path, (flags & AT_SYMLINK_NOFOLLOW) == 0);
        if (l.Error < 0) return l.Error;
        if (l.IsSymlink) return -Errno.ELOOP;
        return Exec.Run(t, l, filename, argv, envp);
    }

    /// <summary>Reads a NULL-terminated array of string pointers (argv/envp). NULL array = empty.</summary>
    static long ReadStringArray(Task t, ulong addr, out List<string> list)
    {
        list = new();
        if (addr == 0) return 0;
        var buf = new byte[MAX_ARG_STRLEN];
        for (int i = 0; i < MAX_ARG_STRINGS; i++)
        {
            if (t.Mm.Read(addr + (ulong)i * 8, out ulong p) < 0) return -Errno.EFAULT;
            if (p == 0) return 0;
            int n = t.Mm.ReadCString(p, buf);
            if (n == -Errno.ENAMETOOLONG) return -Errno.E2BIG;
            if (n < 0) return n;
            list.Add(Encoding.UTF8.GetString(buf, 0, n));
            if (list.Count * 8L > ArgMax) return -Errno.E2BIG;
        }
        return -Errno.E2BIG;
    }
}
