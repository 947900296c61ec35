using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;
using static Sentry.Kernel.Abi.Linux;

namespace Sentry.Kernel.Syscalls;

// futex(2): wait, wake, requeue and their bitset forms. PI futexes and FUTEX_WAKE_OP are not yet
// offered: they answer -ENOSYS and are reported once, as glibc copes with that.
public static partial class Sys
{
    internal static void RegisterFutex(SyscallHandler?[] t) => t[202] = Futex;

    /// <summary>A Stopwatch timestamp <paramref name="ns"/> nanoseconds from now (saturating).</summary>
    internal static long DeadlineAfter(long ns)
    {
        double ticks = (double)ns * System.Diagnostics.Stopwatch.Frequency / NsPerSec;
        long now = System.Diagnostics.Stopwatch.GetTimestamp();
        return ticks >= long.MaxValue - now ? long.MaxValue : now + (long)Math.Ceiling(ticks);
    }

    static long Futex(Task t, in SyscallArgs a)
    {
        ulong uaddr = a.A0;
        int op = (int)a.A1;
        int cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
        uint val = (uint)a.A2;
        if ((op & FUTEX_CLOCK_REALTIME) != 0 && cmd != FUTEX_WAIT_BITSET && cmd != FUTEX_WAIT && cmd != 11 /* WAIT_REQUEUE_PI */ && cmd != 13 /* LOCK_PI2 */)
            return -Errno.ENOSYS;
        if ((uaddr & 3) != 0) return -Errno.EINVAL;
        if (!AccessOk(uaddr, 4)) return -Errno.EFAULT;
        // A shared futex is keyed by the page behind the address, so the address must be mapped.
        if ((op & FUTEX_PRIVATE_FLAG) == 0 && t.Mm.Find(uaddr) == null) return -Errno.EFAULT;
        var table = t.Sandbox.Futexes;
        bool shared = (op & FUTEX_PRIVATE_FLAG) == 0;
        switch (cmd)
        {
            case FUTEX_WAIT:
            case FUTEX_WAIT_BITSET:
            {
                uint bitset = cmd == FUTEX_WAIT ? uint.MaxValue : (uint)a.A5;
                if (bitset == 0) return -Errno.EINVAL;
                long? deadline = null;
                if (a.A3 != 0)
                {
                    long r = ReadTimespec(t, a.A3, out long s, out long ns);
                    if (r < 0) return r;
                    long leftNs;
                    if (cmd == FUTEX_WAIT) leftNs = s * NsPerSec + ns;
                    else
                    {
                        int clk = (op & FUTEX_CLOCK_REALTIME) != 0 ? CLOCK_REALTIME : CLOCK_MONOTONIC;
                        HostClock(clk, out long s0, out long n0);
                        leftNs = Math.Max(0, (s - s0) * NsPerSec + (ns - n0));
                    }
                    deadline = DeadlineAfter(leftNs);
                }
                if (t.Mm.Read(uaddr, out uint cur) < 0) return -Errno.EFAULT;
                var mm = t.Mm;
                long w = table.Wait(FutexKey.Of(mm, uaddr, shared), bitset, () => mm.Read(uaddr, out uint v) >= 0 && v == val, deadline, () => t.SignalPending || t.Exited);
                return w == -Errno.EINTR ? -Signals.SignalDelivery.ERESTARTSYS : w;
            }
            case FUTEX_WAKE:
            case FUTEX_WAKE_BITSET:
            {
                uint bitset = cmd == FUTEX_WAKE ? uint.MaxValue : (uint)a.A5;
                if (bitset == 0) return -Errno.EINVAL;
                return table.Wake(FutexKey.Of(t.Mm, uaddr, shared), (int)Math.Min(val, int.MaxValue), bitset);
            }
            case FUTEX_REQUEUE:
            case FUTEX_CMP_REQUEUE:
            {
                if ((a.A4 & 3) != 0) return -Errno.EINVAL;
                if ((int)val < 0 || (int)a.A3 < 0) return -Errno.EINVAL;
                var mm = t.Mm;
                uint expected = (uint)a.A5;
                if (cmd == FUTEX_CMP_REQUEUE && mm.Read(uaddr, out uint _) < 0) return -Errno.EFAULT;
                return table.Requeue(FutexKey.Of(mm, uaddr, shared), FutexKey.Of(mm, a.A4, shared), (int)val, (int)a.A3,
                    () => cmd != FUTEX_CMP_REQUEUE || (mm.Read(uaddr, out uint v) >= 0 && v == expected));
            }
            default:
                t.Sandbox.ReportUnsupported($"futex op {cmd}");
                return -Errno.ENOSYS;
        }
    }
}
