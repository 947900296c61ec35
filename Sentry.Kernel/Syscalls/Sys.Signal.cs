using System.Runtime.InteropServices;
using Sentry.Kernel.Abi;
using Sentry.Kernel.Signals;
using Sentry.Kernel.Tasks;
using Sentry.Kernel.Vfs;
using static Sentry.Kernel.Abi.Linux;

namespace Sentry.Kernel.Syscalls;

// Signals: dispositions, masks, sending, waiting, sigreturn, and the ITIMER_REAL/alarm timer.
public static partial class Sys
{
    internal static void RegisterSignal(SyscallHandler?[] t)
    {
        t[13] = RtSigaction; t[14] = RtSigprocmask; t[131] = Sigaltstack; t[15] = RtSigreturn;
        t[62] = Kill; t[200] = Tkill; t[234] = Tgkill; t[129] = RtSigqueueinfo; t[297] = RtTgsigqueueinfo;
        t[127] = RtSigpending; t[130] = RtSigsuspend; t[34] = Pause; t[128] = RtSigtimedwait;
        t[37] = Alarm; t[38] = Setitimer; t[36] = Getitimer;
        t[282] = (Task k, in SyscallArgs a) => SignalFdCall(k, (int)a.A0, a.A1, a.A2, 0);
        t[289] = (Task k, in SyscallArgs a) => SignalFdCall(k, (int)a.A0, a.A1, a.A2, (int)a.A3);
    }

    /// <summary>signalfd/signalfd4: a new signalfd for fd -1, else a new mask for an existing one.</summary>
    static long SignalFdCall(Task t, int fd, ulong maskAddr, ulong size, int flags)
    {
        const int SFD_NONBLOCK = O_NONBLOCK, SFD_CLOEXEC = O_CLOEXEC;
        if (size != 8 || (flags & ~(SFD_NONBLOCK | SFD_CLOEXEC)) != 0) return -Errno.EINVAL;
        if (t.Mm.Read(maskAddr, out ulong mask) < 0) return -Errno.EFAULT;
        mask &= ~SignalState.Unblockable;
        if (fd != -1)
        {
            var f = t.Fds.Get(fd);
            if (f == null) return -Errno.EBADF;
            if (f is not SignalFd sfd) return -Errno.EINVAL;
            sfd.Mask = mask;
            return fd;
        }
        return t.Fds.Install(new SignalFd(mask, flags), (flags & SFD_CLOEXEC) != 0);
    }

    static bool ValidSignal(int sig) => sig >= 1 && sig <= _NSIG;

    static long RtSigaction(Task t, in SyscallArgs a)
    {
        int sig = (int)a.A0;
        if (a.A3 != 8) return -Errno.EINVAL;
        if (!ValidSignal(sig)) return -Errno.EINVAL;
        SignalState.Action act = default;
        if (a.A1 != 0)
        {
            if (sig == SIGKILL || sig == SIGSTOP) return -Errno.EINVAL;
            if (t.Mm.Read(a.A1, out act) < 0) return -Errno.EFAULT;
        }
        if (a.A2 != 0 && Put(t, a.A2, t.Signals.Actions[sig]) < 0) return -Errno.EFAULT;
        if (a.A1 != 0)
        {
            act.Mask &= ~SignalState.Unblockable;
            t.Signals.Actions[sig] = act;
            // Setting a signal to be ignored discards its pending instances.
            if (act.Handler == SignalState.SIG_IGN || (act.Handler == SignalState.SIG_DFL && t.Signals.DefaultActionIgnores(sig)))
                t.Signals.Discard(sig);
        }
        return 0;
    }

    static long RtSigprocmask(Task t, in SyscallArgs a)
    {
        if (a.A3 != 8) return -Errno.EINVAL;
        ulong set = 0;
        if (a.A1 != 0)
        {
            if ((int)a.A0 is not (SIG_BLOCK or SIG_UNBLOCK or SIG_SETMASK)) return -Errno.EINVAL;
            if (t.Mm.Read(a.A1, out set) < 0) return -Errno.EFAULT;
        }
        if (a.A2 != 0 && Put(t, a.A2, t.Signals.Mask) < 0) return -Errno.EFAULT;
        if (a.A1 != 0)
        {
            ulong m = (int)a.A0 switch { SIG_BLOCK => t.Signals.Mask | set, SIG_UNBLOCK => t.Signals.Mask & ~set, _ => set };
            t.Signals.Mask = m & ~SignalState.Unblockable;
        }
        return 0;
    }

    [StructLayout(LayoutKind.Sequential)]
    struct StackT { public ulong ss_sp; public int ss_flags; int _pad; public ulong ss_size; }

    static long Sigaltstack(Task t, in SyscallArgs a)
    {
        const int SS_ONSTACK = 1, SS_DISABLE = 2, SS_AUTODISARM = 1 << 31, MINSIGSTKSZ = 2048;
        var ss = t.Signals;
        bool onStack = ss.AltStackSize != 0 && t.Cpu.Regs.rsp > ss.AltStackSp && t.Cpu.Regs.rsp <= ss.AltStackSp + ss.AltStackSize;
        StackT ns = default;
        if (a.A0 != 0)
        {
            if (t.Mm.Read(a.A0, out ns) < 0) return -Errno.EFAULT;
            if (onStack) return -Errno.EPERM;
            int mode = ns.ss_flags & ~SS_AUTODISARM;
            if (mode != 0 && mode != SS_DISABLE && mode != SS_ONSTACK) return -Errno.EINVAL;
            if (mode != SS_DISABLE && ns.ss_size < MINSIGSTKSZ) return -Errno.ENOMEM;
        }
        if (a.A1 != 0)
        {
            var old = new StackT { ss_sp = ss.AltStackSp, ss_flags = onStack ? SS_ONSTACK : ss.AltStackFlags, ss_size = ss.AltStackSize };
            if (Put(t, a.A1, old) < 0) return -Errno.EFAULT;
        }
        if (a.A0 != 0)
        {
            bool disable = (ns.ss_flags & ~SS_AUTODISARM) == SS_DISABLE;
            ss.AltStackSp = disable ? 0 : ns.ss_sp;
            ss.AltStackSize = disable ? 0 : ns.ss_size;
            ss.AltStackFlags = disable ? SS_DISABLE : ns.ss_flags & SS_AUTODISARM;
        }
        return 0;
    }

    static long RtSigreturn(Task t, in SyscallArgs a)
    {
        if (!SignalFrame.Restore(t))
        {
            t.ForceSignal(SigInfo.FromKill(SIGSEGV, SigInfo.SI_KERNEL, 0, 0));
            return (long)t.Cpu.Regs.rax;
        }
        return (long)t.Cpu.Regs.rax; // the interrupted code's rax, restored from the frame
    }

    /// <summary>kill(2): pid &gt; 0 one process, 0 the caller's group, -1 everyone but init and the caller, &lt; -1 a group.</summary>
    static long Kill(Task t, in SyscallArgs a)
    {
        int pid = (int)a.A0, sig = (int)a.A1;
        if (sig < 0 || sig > _NSIG) return -Errno.EINVAL;
        if (pid == int.MinValue) return -Errno.ESRCH;
        var s = t.Sandbox;
        List<ThreadGroup> targets;
        if (pid > 0)
        {
            var g = s.FindGroup(pid);
            targets = g == null ? [] : [g];
        }
        else
        {
            int pgid = pid == 0 ? t.Group.Pgid : -pid;
            targets = s.LiveGroups().Where(g => pid == -1 ? g.Tgid != 1 && g != t.Group : g.Pgid == pgid).ToList();
        }
        if (targets.Count == 0) return -Errno.ESRCH;
        if (sig != 0)
            foreach (var g in targets) s.PostToProcess(g, SigInfo.FromKill(sig, SigInfo.SI_USER, t.Pid, t.Uid));
        return 0;
    }

    static long Tkill(Task t, in SyscallArgs a) => SendToThread(t, -1, (int)a.A0, (int)a.A1);
    static long Tgkill(Task t, in SyscallArgs a) => SendToThread(t, (int)a.A0, (int)a.A1, (int)a.A2);

    /// <summary>tgkill/tkill: one thread (tgid -1 = any process).</summary>
    static long SendToThread(Task t, int tgid, int tid, int sig)
    {
        if ((tgid <= 0 && tgid != -1) || tid <= 0 || sig < 0 || sig > _NSIG) return -Errno.EINVAL;
        var target = t.Sandbox.FindTask(tid);
        if (target == null || (tgid != -1 && target.Pid != tgid)) return -Errno.ESRCH;
        if (sig != 0) target.PostSignal(SigInfo.FromKill(sig, SigInfo.SI_TKILL, t.Pid, t.Uid));
        return 0;
    }

    static long RtSigqueueinfo(Task t, in SyscallArgs a) => QueueInfo(t, (int)a.A0, (int)a.A0, (int)a.A1, a.A2);
    static long RtTgsigqueueinfo(Task t, in SyscallArgs a) => QueueInfo(t, (int)a.A0, (int)a.A1, (int)a.A2, a.A3);

    static long QueueInfo(Task t, int pid, int tid, int sig, ulong infoAddr)
    {
        if (!ValidSignal(sig) && sig != 0) return -Errno.EINVAL;
        if (t.Mm.Read(infoAddr, out SigInfo info) < 0) return -Errno.EFAULT;
        // Only the kernel may claim to be the kernel or a tkill: user code gets EPERM for those codes.
        if ((info.si_code >= 0 || info.si_code == SigInfo.SI_TKILL) && pid != t.Pid) return -Errno.EPERM;
        var target = t.Sandbox.FindTask(tid);
        if (target == null || target.Pid != pid) return -Errno.ESRCH;
        info.si_signo = sig;
        if (sig != 0) target.PostSignal(info);
        return 0;
    }

    static long RtSigpending(Task t, in SyscallArgs a)
    {
        if (a.A1 > 8) return -Errno.EINVAL;
        ulong set = t.Signals.PendingSet & t.Signals.Mask;
        Span<byte> b = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(b, set);
        return t.Mm.CopyOut(a.A0, b[..(int)a.A1]) < 0 ? -Errno.EFAULT : 0;
    }

    static long RtSigsuspend(Task t, in SyscallArgs a)
    {
        if (a.A1 != 8) return -Errno.EINVAL;
        if (t.Mm.Read(a.A0, out ulong mask) < 0) return -Errno.EFAULT;
        t.SavedMask = t.Signals.Mask;
        t.Signals.Mask = mask & ~SignalState.Unblockable;
        t.Block(null);
        return -SignalDelivery.ERESTARTNOHAND;
    }

    static long Pause(Task t, in SyscallArgs a)
    {
        t.Block(null);
        return -SignalDelivery.ERESTARTNOHAND;
    }

    static long RtSigtimedwait(Task t, in SyscallArgs a)
    {
        if (a.A3 != 8) return -Errno.EINVAL;
        if (t.Mm.Read(a.A0, out ulong set) < 0) return -Errno.EFAULT;
        set &= ~SignalState.Unblockable;
        long r = ReadTimeout(t, a.A2, out var deadline);
        if (r < 0) return r;
        // Wait for a signal in the set; a deliverable signal outside it interrupts the wait.
        var ss = t.Signals;
        long w = t.Block(deadline, () => (ss.PendingSet & set) != 0);
        if (ss.TryDequeue(~set, out var info))
        {
            if (a.A1 != 0 && Put(t, a.A1, info) < 0) return -Errno.EFAULT;
            return info.si_signo;
        }
        return w == -Errno.ETIMEDOUT ? -Errno.EAGAIN : -SignalDelivery.ERESTARTNOHAND;
    }

    static long Alarm(Task t, in SyscallArgs a)
    {
        var (remaining, _) = t.RealTimer.Set(TimeSpan.FromSeconds((uint)a.A0), TimeSpan.Zero);
        // alarm() returns whole seconds left, rounding a partial second up.
        return remaining == TimeSpan.Zero ? 0 : (long)Math.Max(1, Math.Round(remaining.TotalSeconds, MidpointRounding.AwayFromZero));
    }

    [StructLayout(LayoutKind.Sequential)]
    struct ITimerVal { public long IntervalSec, IntervalUsec, ValueSec, ValueUsec; }

    const int ITIMER_REAL = 0, ITIMER_VIRTUAL = 1, ITIMER_PROF = 2;

    static long Setitimer(Task t, in SyscallArgs a)
    {
        int which = (int)a.A0;
        if (which is not (ITIMER_REAL or ITIMER_VIRTUAL or ITIMER_PROF)) return -Errno.EINVAL;
        ITimerVal nv = default;
        if (a.A1 != 0 && t.Mm.Read(a.A1, out nv) < 0) return -Errno.EFAULT;
        if (nv.IntervalUsec < 0 || nv.IntervalUsec >= 1_000_000 || nv.ValueUsec < 0 || nv.ValueUsec >= 1_000_000 || nv.IntervalSec < 0 || nv.ValueSec < 0)
            return -Errno.EINVAL;
        if (which != ITIMER_REAL)
        {
            var (l, i) = t.Group.CpuTimer(t.Sandbox, which == ITIMER_PROF).Set(nv.ValueSec * NsPerSec + nv.ValueUsec * 1000, nv.IntervalSec * NsPerSec + nv.IntervalUsec * 1000);
            if (a.A2 != 0 && Put(t, a.A2, ToITimerVal(TimeSpan.FromTicks(l / 100), TimeSpan.FromTicks(i / 100))) < 0) return -Errno.EFAULT;
            return 0;
        }
        var (left, interval) = t.RealTimer.Set(
            TimeSpan.FromTicks(nv.ValueSec * TimeSpan.TicksPerSecond + nv.ValueUsec * 10),
            TimeSpan.FromTicks(nv.IntervalSec * TimeSpan.TicksPerSecond + nv.IntervalUsec * 10));
        if (a.A2 != 0 && Put(t, a.A2, ToITimerVal(left, interval)) < 0) return -Errno.EFAULT;
        return 0;
    }

    static long Getitimer(Task t, in SyscallArgs a)
    {
        int which = (int)a.A0;
        if (which is not (ITIMER_REAL or ITIMER_VIRTUAL or ITIMER_PROF)) return -Errno.EINVAL;
        TimeSpan left, interval;
        if (which == ITIMER_REAL) (left, interval) = t.RealTimer.Get();
        else
        {
            var (l, i) = t.Group.CpuTimer(t.Sandbox, which == ITIMER_PROF).Get();
            (left, interval) = (TimeSpan.FromTicks(l / 100), TimeSpan.FromTicks(i / 100));
        }
        return Put(t, a.A1, ToITimerVal(left, interval));
    }

    static ITimerVal ToITimerVal(TimeSpan value, TimeSpan interval) => new()
    {
        ValueSec = value.Ticks / TimeSpan.TicksPerSecond, ValueUsec = value.Ticks % TimeSpan.TicksPerSecond / 10,
        IntervalSec = interval.Ticks / TimeSpan.TicksPerSecond, IntervalUsec = interval.Ticks % TimeSpan.TicksPerSecond / 10,
    };
}
