using Sentry.Kernel.Abi;
using Sentry.Platform;

namespace Sentry.Kernel.Vfs;

/// <summary>Calls on a host descriptor shared by the descriptions that wrap one (files of the host root, stdio).</summary>
internal static unsafe class HostDescriptor
{
    const int SYS_fstat = 5, SYS_lseek = 8;

    public static long Stat(int fd, out LinuxStat st)
    {
        LinuxStat s;
        long r = HostSyscall.Call(SYS_fstat, fd, (long)&s);
        st = s;
        return r;
    }

    public static long Seek(int fd, long offset, int whence) => HostSyscall.Call(SYS_lseek, fd, offset, whence);
}
