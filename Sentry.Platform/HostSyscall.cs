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

    /// <summary>CPU time of host thread <paramref name="tid"/> of Sentry's own process in nanoseconds (its per-thread CPU clock), or 0 if it is gone.</summary>
    public static long ThreadCpuTimeNs(int tid)
    {
        long* ts = stackalloc long[2];
        int clock = (~tid << 3) | 6; // MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED), a 32-bit clockid_t
        return Call(228 /* clock_gettime */, clock, (long)ts) < 0 ? 0 : ts[0] * 1_000_000_000 + ts[1];
    }

    /// <summary>
    /// CPU time (user + system, clock-tick resolution) of any host thread, from /proc/TID/stat:
    /// Linux's per-thread CPU clocks only work inside the caller's own thread group.
    /// </summary>
    public static long ForeignThreadCpuTimeNs(int tid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{tid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // Fields after the command: state is index 0, utime index 11, stime index 12 (stat fields 14, 15).
            long ticks = long.Parse(fields[11]) + long.Parse(fields[12]);
            return ticks * 10_000_000; // USER_HZ = 100
        }
        catch (Exception) { return 0; }
    }

    /// <summary>Like <see cref="Call"/> but retries while the host returns EINTR (runtime signals).</summary>
    public static long CallRestarting(long nr, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0, long a5 = 0, long a6 = 0)
    {
        long r;
        do r = Call(nr, a1, a2, a3, a4, a5, a6); while (r == -4 /* EINTR */);
        return r;
    }
}
