using System.Runtime.InteropServices;

namespace Sentry.Platform;

/// <summary>
/// Raw host system calls in the kernel's own convention: the result, or -errno. Used where
/// Tmds.LibC has no binding (ptrace, wait4, getdents64, ...) and where the kernel passes a call
/// through to the host and wants the errno as a value rather than a thread-local.
/// </summary>
public static unsafe partial class HostSyscall
{
    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long syscall6(long nr, long a1, long a2, long a3, long a4, long a5, long a6);

    /// <summary>Calls host syscall <paramref name="nr"/>; returns its result or -errno.</summary>
    public static long Call(long nr, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0, long a5 = 0, long a6 = 0)
    {
        long r = syscall6(nr, a1, a2, a3, a4, a5, a6);
        return r == -1 ? -Marshal.GetLastPInvokeError() : r;
    }

    /// <summary>Like <see cref="Call"/> but retries while the host returns EINTR (runtime signals).</summary>
    public static long CallRestarting(long nr, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0, long a5 = 0, long a6 = 0)
    {
        long r;
        do r = Call(nr, a1, a2, a3, a4, a5, a6); while (r == -4 /* EINTR */);
        return r;
    }
}
