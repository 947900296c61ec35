using Sentry.Kernel.Abi;
using Sentry.Platform;

namespace Sentry.Kernel.Vfs;

/// <summary>Calls on a host descriptor shared by the descriptions that wrap one (files of the host root, stdio).</summary>
internal static unsafe class HostDescriptor
{
    const int SYS_fstat = 5, SYS_lseek = 8, SYS_pread64 = 17;

    public static long Stat(int fd, out LinuxStat st)
    {
        LinuxStat s;
        long r = HostSyscall.Call(SYS_fstat, fd, (long)&s);
        st = s;
        return r;
    }

    public static long Seek(int fd, long offset, int whence) => HostSyscall.Call(SYS_lseek, fd, offset, whence);

    /// <summary>
    /// Fills <paramref name="pages"/> with the bytes at <paramref name="offset"/> of host file
    /// <paramref name="fd"/>, zero past its end (what <see cref="Memory.IPageSource"/> promises):
    /// the number of file bytes read, or -errno.
    /// </summary>
    public static long ReadPages(int fd, long offset, Span<byte> pages)
    {
        pages.Clear();
        long done = 0;
        fixed (byte* p = pages)
            while (done < pages.Length)
            {
                long r = HostSyscall.CallRestarting(SYS_pread64, fd, (long)(p + done), pages.Length - done, offset + done);
                if (r < 0) return r;
                if (r == 0) break;
                done += r;
            }
        return done;
    }
}
