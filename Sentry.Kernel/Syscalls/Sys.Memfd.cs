using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;
using static Sentry.Kernel.Abi.Linux;

namespace Sentry.Kernel.Syscalls;

// memfd_create; the file is a tmpfs file (Fs/Memfd.cs), its seals are fcntl's (Sys.File.cs).
public static partial class Sys
{
    internal static void RegisterMemfd(SyscallHandler?[] t) => t[319] = MemfdCreate;

    static long MemfdCreate(Task t, in SyscallArgs a)
    {
        uint flags = (uint)a.A1;
        const uint all = MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_NOEXEC_SEAL | MFD_EXEC;
        // Huge page sizes may be encoded only beside MFD_HUGETLB.
        if ((flags & ~(all | ((flags & MFD_HUGETLB) != 0 ? MFD_HUGE_MASK : 0))) != 0) return -Errno.EINVAL;
        if ((flags & (MFD_EXEC | MFD_NOEXEC_SEAL)) == (MFD_EXEC | MFD_NOEXEC_SEAL)) return -Errno.EINVAL;
        Span<byte> name = stackalloc byte[Fs.Memfd.NameMax + 1];
        int n = t.Mm.ReadCString(a.A0, name);
        if (n == -Errno.EFAULT) return n;
        if (n < 0) return -Errno.EINVAL;
        // MFD_HUGETLB makes an ordinary memfd: the sandbox's pages are all 4 KiB, and Linux too
        // creates the file before any huge page is needed.
        var file = Fs.Memfd.Create(t, t.Sandbox.Memfds, System.Text.Encoding.UTF8.GetString(name[..n]), flags);
        return t.Fds.Install(file, (flags & MFD_CLOEXEC) != 0);
    }
}
