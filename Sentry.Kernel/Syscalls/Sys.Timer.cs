using System.Runtime.InteropServices;
using Sentry.Kernel.Abi;
using Sentry.Kernel.Signals;
using Sentry.Kernel.Tasks;
using static Sentry.Kernel.Abi.Linux;

namespace Sentry.Kernel.Syscalls;

// POSIX timers: timer_create/settime/gettime/getoverrun/delete with SIGEV_SIGNAL, SIGEV_NONE and
// SIGEV_THREAD_ID on the realtime, monotonic and boottime clocks.
public static partial class Sys
{
    const int SIGEV_SIGNAL = 0, SIGEV_NONE = 1, SIGEV_THREAD = 2, SIGEV_THREAD_ID = 4;

    [StructLayout(LayoutKind.Sequential, Size = 64)]
    struct SigEvent { public ulong sigev_value; public int sigev_signo, sigev_notify, sigev_tid; }

    [StructLayout(LayoutKind.Sequential)]
    struct ITimerSpec { public long IntervalSec, IntervalNsec, ValueSec, ValueNsec; }

    internal static void RegisterTimer(SyscallHandler?[] t)
    {
        t[222] = TimerCreate; t[223] = TimerSettime; t[224] = TimerGettime; t[225] = TimerGetoverrun; t[226] = TimerDelete;
    }

    static long TimerCreate(Task t, in SyscallArgs a)
    {
        int clk = (int)a.A0;
        if (clk is not (CLOCK_REALTIME or CLOCK_MONOTONIC or CLOCK_BOOTTIME or CLOCK_PROCESS_CPUTIME_ID or CLOCK_THREAD_CPUTIME_ID)) return -Errno.EINVAL;
        if (clk is CLOCK_PROCESS_CPUTIME_ID or CLOCK_THREAD_CPUTIME_ID)
        {
            t.Sandbox.ReportUnsupported("timer_create on CPU-time clocks");
            return -Errno.EINVAL;
        }
        var ev = new SigEvent { sigev_signo = SIGALRM, sigev_notify = SIGEV_SIGNAL };
        if (a.A1 != 0 && t.Mm.Read(a.A1, out ev) < 0) return -Errno.EFAULT;
        int notify = ev.sigev_notify & ~SIGEV_THREAD_ID;
        if ((ev.sigev_notify & ~(SIGEV_NONE | SIGEV_THREAD_ID)) != 0 && ev.sigev_notify != SIGEV_SIGNAL) return -Errno.EINVAL;
        if (ev.sigev_notify != SIGEV_NONE && (ev.sigev_signo < 1 || ev.sigev_signo > _NSIG)) return -Errno.EINVAL;
        Task target = t;
        if ((ev.sigev_notify & SIGEV_THREAD_ID) != 0)
        {
            var th = t.Sandbox.FindTask(ev.sigev_tid);
            if (th == null || th.Group != t.Group) return -Errno.EINVAL;
            target = th;
        }
        var timers = t.Group.PosixTimers;
        int id;
        lock (timers)
        {
            id = 0;
            while (timers.ContainsKey(id)) id++;
            var value = a.A1 != 0 ? ev.sigev_value : (ulong)id;
            int sig = ev.sigev_signo, timerId = id;
            bool none = ev.sigev_notify == SIGEV_NONE, toThread = (ev.sigev_notify & SIGEV_THREAD_ID) != 0;
            IntervalTimer? timer = null;
            timer = new IntervalTimer(() =>
            {
                if (none) return;
                var info = new SigInfo { si_signo = sig, si_code = SigInfo.SI_TIMER, si_timerid = timerId, si_overrun = 0, si_value = value };
                if (toThread) target.PostSignal(info);
                else t.Sandbox.PostToProcess(target.Group, info);
            });
            timers[id] = timer;
        }
        if (Put(t, a.A2, id) < 0) { TimerDeleteId(t, id); return -Errno.EFAULT; }
        return 0;
    }

    static IntervalTimer? FindTimer(Task t, ulong id)
    {
        var timers = t.Group.PosixTimers;
        lock (timers) return id <= int.MaxValue && timers.TryGetValue((int)id, out var tm) ? tm : null;
    }

    static long TimerSettime(Task t, in SyscallArgs a)
    {
        const int TIMER_ABSTIME = 1;
        var tm = FindTimer(t, a.A0);
        if (tm == null) return -Errno.EINVAL;
        if ((int)a.A1 is not (0 or TIMER_ABSTIME)) return -Errno.EINVAL;
        if (t.Mm.Read(a.A2, out ITimerSpec spec) < 0) return -Errno.EFAULT;
        if (spec.ValueNsec < 0 || spec.ValueNsec >= NsPerSec || spec.IntervalNsec < 0 || spec.IntervalNsec >= NsPerSec || spec.ValueSec < 0 || spec.IntervalSec < 0)
            return -Errno.EINVAL;
        long valueNs = spec.ValueSec * NsPerSec + spec.ValueNsec;
        if (((int)a.A1 & TIMER_ABSTIME) != 0 && valueNs != 0)
        {
            HostClock(CLOCK_REALTIME, out long s0, out long n0);
            valueNs = Math.Max(1, valueNs - (s0 * NsPerSec + n0));
        }
        var (left, interval) = tm.Set(TimeSpan.FromTicks(valueNs / 100 + (valueNs > 0 && valueNs < 100 ? 1 : 0)),
            TimeSpan.FromTicks((spec.IntervalSec * NsPerSec + spec.IntervalNsec) / 100));
        if (a.A3 != 0 && Put(t, a.A3, ToITimerSpec(left, interval)) < 0) return -Errno.EFAULT;
        return 0;
    }

    static ITimerSpec ToITimerSpec(TimeSpan value, TimeSpan interval) => new()
    {
        ValueSec = value.Ticks / TimeSpan.TicksPerSecond, ValueNsec = value.Ticks % TimeSpan.TicksPerSecond * 100,
        IntervalSec = interval.Ticks / TimeSpan.TicksPerSecond, IntervalNsec = interval.Ticks % TimeSpan.TicksPerSecond * 100,
    };

    static long TimerGettime(Task t, in SyscallArgs a)
    {
        var tm = FindTimer(t, a.A0);
        if (tm == null) return -Errno.EINVAL;
        var (left, interval) = tm.Get();
        return Put(t, a.A1, ToITimerSpec(left, interval));
    }

    static long TimerGetoverrun(Task t, in SyscallArgs a) => FindTimer(t, a.A0) is { } tm ? tm.Overrun : -Errno.EINVAL;

    static long TimerDelete(Task t, in SyscallArgs a) => a.A0 > int.MaxValue ? -Errno.EINVAL : TimerDeleteId(t, (int)a.A0);

    static long TimerDeleteId(Task t, int id)
    {
        var timers = t.Group.PosixTimers;
        IntervalTimer? tm;
        lock (timers) if (!timers.Remove(id, out tm)) return -Errno.EINVAL;
        tm.Dispose();
        return 0;
    }
}
