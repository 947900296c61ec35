using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;
using Sentry.Platform;
using static Sentry.Kernel.Abi.Linux;

namespace Sentry.Kernel.Syscalls;

// Clocks and sleeping. Time is the host's: the sandbox has no clock of its own to offer.
public static unsafe partial class Sys
{
    const long NsPerSec = 1_000_000_000;

    internal static void RegisterTime(SyscallHandler?[] t)
    {
        t[228] = ClockGettime; t[229] = ClockGetres; t[96] = Gettimeofday; t[201] = Time;
        t[35] = Nanosleep; t[230] = ClockNanosleep; t[98] = Getrusage; t[100] = Times;
    }

    /// <summary>Clock ids the sandbox accepts; CPU-time clocks of the process and thread map to the host's.</summary>
    static bool ValidClock(int clk) => clk is >= CLOCK_REALTIME and <= CLOCK_BOOTTIME or 8 or 9 or 11;

    static long HostClock(int clk, out long sec, out long nsec)
    {
        long* ts = stackalloc long[2];
        long r = HostSyscall.Call(228, clk, (long)ts);
        sec = ts[0]; nsec = ts[1];
        return r;
    }

    static long ClockGettime(Task t, in SyscallArgs a)
    {
        int clk = (int)a.A0;
        if (!ValidClock(clk)) return -Errno.EINVAL;
        long r = HostClock(clk, out long s, out long ns);
        if (r < 0) return r;
        return Put(t, a.A1, (s, ns));
    }

    static long ClockGetres(Task t, in SyscallArgs a)
    {
        int clk = (int)a.A0;
        if (!ValidClock(clk)) return -Errno.EINVAL;
        if (a.A1 == 0) return 0;
        long* ts = stackalloc long[2];
        long r = HostSyscall.Call(229, clk, (long)ts);
        return r < 0 ? r : Put(t, a.A1, (ts[0], ts[1]));
    }

    static long Gettimeofday(Task t, in SyscallArgs a)
    {
        HostClock(CLOCK_REALTIME, out long s, out long ns);
        if (a.A0 != 0 && Put(t, a.A0, (s, ns / 1000)) < 0) return -Errno.EFAULT;
        if (a.A1 != 0 && Put(t, a.A1, 0L) < 0) return -Errno.EFAULT; // struct timezone: both fields zero
        return 0;
    }

    static long Time(Task t, in SyscallArgs a)
    {
        HostClock(CLOCK_REALTIME, out long s, out _);
        if (a.A0 != 0 && Put(t, a.A0, s) < 0) return -Errno.EFAULT;
        return s;
    }

    /// <summary>(user, system) CPU time in ns of the caller's process, its reaped children, or the calling thread.</summary>
    static (long User, long Sys) CpuTimes(Task t, int who)
    {
        const int RUSAGE_CHILDREN = -1, RUSAGE_THREAD = 1;
        var g = t.Group;
        if (who == RUSAGE_THREAD) return (t.UserNs, t.SysNs);
        Task[] threads;
        lock (t.Sandbox.TreeLock)
        {
            if (who == RUSAGE_CHILDREN) return (g.ChildUserNs, g.ChildSysNs);
            threads = [.. g.Threads];
        }
        long u = g.DeadUserNs, s = g.DeadSysNs;
        foreach (var th in threads) { u += th.UserNs; s += th.SysNs; }
        return (u, s);
    }

    /// <summary>struct rusage (144 bytes) with the CPU times filled in; the other counters are not kept.</summary>
    static byte[] Rusage(long userNs, long sysNs)
    {
        var r = new byte[144];
        var span = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(r.AsSpan());
        span[0] = userNs / NsPerSec; span[1] = userNs % NsPerSec / 1000;
        span[2] = sysNs / NsPerSec; span[3] = sysNs % NsPerSec / 1000;
        return r;
    }

    static long Getrusage(Task t, in SyscallArgs a)
    {
        const int RUSAGE_SELF = 0, RUSAGE_CHILDREN = -1, RUSAGE_THREAD = 1;
        int who = (int)a.A0;
        if (who is not (RUSAGE_SELF or RUSAGE_CHILDREN or RUSAGE_THREAD)) return -Errno.EINVAL;
        var (u, s) = CpuTimes(t, who);
        return t.Mm.CopyOut(a.A1, Rusage(u, s)) < 0 ? -Errno.EFAULT : 0;
    }

    static long Times(Task t, in SyscallArgs a)
    {
        if (a.A0 != 0)
        {
            var (u, s) = CpuTimes(t, 0);
            var (cu, cs) = CpuTimes(t, -1);
            const long NsPerTick = NsPerSec / 100; // USER_HZ
            if (Put(t, a.A0, (u / NsPerTick, s / NsPerTick, cu / NsPerTick, cs / NsPerTick)) < 0) return -Errno.EFAULT;
        }
        HostClock(CLOCK_MONOTONIC, out long sec, out long ns);
        return sec * 100 + ns / 10_000_000; // clock ticks since an arbitrary point
    }

    /// <summary>Reads a struct timespec and checks it as Linux does (EFAULT, EINVAL).</summary>
    static long ReadTimespec(Task t, ulong addr, out long sec, out long nsec)
    {
        sec = nsec = 0;
        if (t.Mm.Read(addr, out (long S, long N) ts) < 0) return -Errno.EFAULT;
        if (ts.S < 0 || ts.N < 0 || ts.N >= NsPerSec) return -Errno.EINVAL;
        (sec, nsec) = ts;
        return 0;
    }

    static long Nanosleep(Task t, in SyscallArgs a)
    {
        long r = ReadTimespec(t, a.A0, out long s, out long ns);
        if (r < 0) return r;
        return SleepUntil(t, CLOCK_MONOTONIC, s, ns, absolute: false, a.A1);
    }

    static long ClockNanosleep(Task t, in SyscallArgs a)
    {
        const int TIMER_ABSTIME = 1;
        int clk = (int)a.A0;
        if (clk is CLOCK_THREAD_CPUTIME_ID) return -Errno.EINVAL;
        if (!ValidClock(clk) || clk == CLOCK_MONOTONIC_RAW || clk == CLOCK_REALTIME_COARSE || clk == CLOCK_MONOTONIC_COARSE) return -Errno.EINVAL;
        long r = ReadTimespec(t, a.A2, out long s, out long ns);
        if (r < 0) return r;
        return SleepUntil(t, clk, s, ns, ((int)a.A1 & TIMER_ABSTIME) != 0, a.A3);
    }

    /// <summary>
    /// Sleeps on the task's own wait (so a signal wakes it): -ERESTART_RESTARTBLOCK when interrupted,
    /// after storing the time left in <paramref name="remAddr"/> for relative sleeps.
    /// </summary>
    static long SleepUntil(Task t, int clk, long s, long ns, bool absolute, ulong remAddr = 0)
    {
        long leftNs = s * NsPerSec + ns;
        if (absolute)
        {
            HostClock(clk, out long s0, out long n0);
            leftNs = Math.Max(0, (s - s0) * NsPerSec + (ns - n0));
        }
        long deadline = DeadlineAfter(leftNs);
        long r = t.Block(deadline);
        if (r == -Errno.ETIMEDOUT) return 0;
        if (!absolute && remAddr != 0)
        {
            long rem = Math.Max(0, (long)((deadline - System.Diagnostics.Stopwatch.GetTimestamp()) * (double)NsPerSec / System.Diagnostics.Stopwatch.Frequency));
            if (Put(t, remAddr, (rem / NsPerSec, rem % NsPerSec)) < 0) return -Errno.EFAULT;
        }
        return -Signals.SignalDelivery.ERESTART_RESTARTBLOCK;
    }
}
