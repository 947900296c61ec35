using Sentry.Kernel.Abi;
using Sentry.Kernel.Signals;
using Sentry.Kernel.Tasks;
using static Sentry.Kernel.Abi.Linux;

namespace Sentry.Kernel.Syscalls;

// wait4, waitid, and process groups and sessions.
public static partial class Sys
{
    const int WNOHANG = 1, WUNTRACED = 2, WSTOPPED = 2, WEXITED = 4, WCONTINUED = 8, WNOWAIT = 0x01000000,
        __WNOTHREAD = 0x20000000, __WALL = 0x40000000, __WCLONE = unchecked((int)0x80000000);
    const int P_ALL = 0, P_PID = 1, P_PGID = 2, P_PIDFD = 3;

    internal static void RegisterWait(SyscallHandler?[] t)
    {
        t[61] = Wait4; t[247] = Waitid;
        t[109] = SetPgid; t[121] = GetPgid; t[111] = (Task k, in SyscallArgs a) => k.Group.Pgid; // getpgrp
        t[112] = SetSid; t[124] = GetSid;
    }

    /// <summary>Which children a wait selects: pid &gt; 0 one child, -1 any, 0 the caller's group, &lt; -1 group -pid.</summary>
    static bool Selects(ThreadGroup child, int idtype, int id) => idtype switch
    {
        P_PID => child.Tgid == id,
        P_PGID => child.Pgid == id,
        _ => true,
    };

    enum ChildEvent { Exited, Stopped, Continued }

    /// <summary>
    /// Finds a child matching (idtype, id) with something to report: it ended (when
    /// <paramref name="options"/> has WEXITED), stopped (WSTOPPED) or continued (WCONTINUED).
    /// Consumes the event unless WNOWAIT. Returns null with <paramref name="hasChildren"/> saying
    /// whether waiting makes sense.
    /// </summary>
    static ThreadGroup? FindEvent(Task t, int idtype, int id, int options, out ChildEvent kind, out bool hasChildren)
    {
        var s = t.Sandbox;
        ThreadGroup? found = null;
        kind = ChildEvent.Exited;
        hasChildren = false;
        bool consume = (options & WNOWAIT) == 0;
        lock (s.TreeLock)
        {
            foreach (var c in t.Group.Children)
            {
                if (!Selects(c, idtype, id)) continue;
                hasChildren = true;
                if (c.Zombie) { if ((options & WEXITED) != 0) { found = c; kind = ChildEvent.Exited; break; } continue; }
                if ((options & WSTOPPED) != 0 && c.Stopped && c.StopToReport)
                {
                    found = c; kind = ChildEvent.Stopped;
                    if (consume) c.StopToReport = false;
                    break;
                }
                if ((options & WCONTINUED) != 0 && c.ContinueToReport)
                {
                    found = c; kind = ChildEvent.Continued;
                    if (consume) c.ContinueToReport = false;
                    break;
                }
            }
        }
        if (found != null && kind == ChildEvent.Exited && consume) s.Reap(found);
        return found;
    }

    static bool HasEvent(Task t, int idtype, int id, int options)
    {
        lock (t.Sandbox.TreeLock)
            return !t.Group.Children.Exists(c => Selects(c, idtype, id)) || t.Group.Children.Exists(c => Selects(c, idtype, id) &&
                ((c.Zombie && (options & WEXITED) != 0) || ((options & WSTOPPED) != 0 && c.Stopped && c.StopToReport) || ((options & WCONTINUED) != 0 && c.ContinueToReport)));
    }

    static long WaitCommon(Task t, int idtype, int id, int options, out ThreadGroup? child, out ChildEvent kind)
    {
        child = null;
        kind = ChildEvent.Exited;
        while (true)
        {
            var z = FindEvent(t, idtype, id, options, out kind, out bool has);
            if (z != null) { child = z; return z.Tgid; }
            if (!has) return -Errno.ECHILD;
            if ((options & WNOHANG) != 0) return 0;
            if (t.WaitOn(t.Group.ChildEvents, () => HasEvent(t, idtype, id, options)) == -Errno.EINTR) return -SignalDelivery.ERESTARTSYS;
        }
    }

    static long Wait4(Task t, in SyscallArgs a)
    {
        int pid = (int)a.A0, options = (int)a.A2;
        if ((options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WALL | __WCLONE)) != 0) return -Errno.EINVAL;
        if (pid == int.MinValue) return -Errno.ESRCH;
        int idtype = pid > 0 ? P_PID : pid == -1 ? P_ALL : P_PGID;
        int id = pid > 0 ? pid : pid == 0 ? t.Group.Pgid : -pid;
        int wopts = WEXITED | (options & WNOHANG) | ((options & WUNTRACED) != 0 ? WSTOPPED : 0) | (options & WCONTINUED);
        long r = WaitCommon(t, idtype, id, wopts, out var child, out var kind);
        if (r <= 0 || child == null) return r;
        int status = kind switch { ChildEvent.Stopped => (child.StopSignal << 8) | 0x7f, ChildEvent.Continued => 0xffff, _ => child.WaitStatus };
        if (a.A1 != 0 && Put(t, a.A1, status) < 0) return -Errno.EFAULT;
        if (a.A3 != 0 && t.Mm.CopyOut(a.A3, Rusage(child.DeadUserNs + child.ChildUserNs, child.DeadSysNs + child.ChildSysNs)) < 0) return -Errno.EFAULT;
        return r;
    }

    static long Waitid(Task t, in SyscallArgs a)
    {
        int idtype = (int)a.A0, id = (int)a.A1, options = (int)a.A3;
        if ((options & ~(WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | __WNOTHREAD | __WALL | __WCLONE)) != 0) return -Errno.EINVAL;
        if ((options & (WEXITED | WSTOPPED | WCONTINUED)) == 0) return -Errno.EINVAL;
        switch (idtype)
        {
            case P_ALL: break;
            case P_PID: if (id <= 0) return -Errno.EINVAL; break;
            case P_PGID: if (id < 0) return -Errno.EINVAL; if (id == 0) id = t.Group.Pgid; break;
            case P_PIDFD: t.Sandbox.ReportUnsupported("waitid(P_PIDFD)"); return -Errno.EINVAL;
            default: return -Errno.EINVAL;
        }
        long r = WaitCommon(t, idtype, id, options & (WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED), out var child, out var kind);
        if (r < 0) return r;
        if (child == null) return ClearSiginfo(t, a.A2);
        if (a.A2 != 0)
        {
            var info = kind switch
            {
                ChildEvent.Stopped => new SigInfo { si_signo = SIGCHLD, si_pid = child.Tgid, si_code = SigInfo.CLD_STOPPED, si_status = child.StopSignal },
                ChildEvent.Continued => new SigInfo { si_signo = SIGCHLD, si_pid = child.Tgid, si_code = SigInfo.CLD_CONTINUED, si_status = SIGCONT },
                _ => SigInfo.ChildEnded(SIGCHLD, child.Tgid, child.WaitStatus),
            };
            if (Put(t, a.A2, info) < 0) return -Errno.EFAULT;
        }
        return 0;
    }

    static long ClearSiginfo(Task t, ulong addr) => addr == 0 ? 0 : Put(t, addr, default(SigInfo));

    static long SetPgid(Task t, in SyscallArgs a)
    {
        int pid = (int)a.A0, pgid = (int)a.A1;
        if (pgid < 0) return -Errno.EINVAL;
        var s = t.Sandbox;
        lock (s.TreeLock)
        {
            ThreadGroup target;
            if (pid == 0 || pid == t.Pid) target = t.Group;
            else
            {
                var c = t.Group.Children.Find(g => g.Tgid == pid && !g.Zombie);
                if (c == null) return -Errno.ESRCH;
                if (c.Execed) return -Errno.EACCES;
                if (c.Sid != t.Group.Sid) return -Errno.EPERM;
                target = c;
            }
            if (pgid == 0) pgid = target.Tgid;
            if (target.Sid == target.Tgid) return -Errno.EPERM; // a session leader stays in its group
            if (pgid != target.Tgid && !s.LiveGroupsUnlocked().Exists(g => g.Pgid == pgid && g.Sid == t.Group.Sid)) return -Errno.EPERM;
            target.Pgid = pgid;
            return 0;
        }
    }

    static long GetPgid(Task t, in SyscallArgs a)
    {
        int pid = (int)a.A0;
        if (pid == 0) return t.Group.Pgid;
        var g = t.Sandbox.FindGroup(pid);
        return g == null ? -Errno.ESRCH : g.Pgid;
    }

    static long SetSid(Task t, in SyscallArgs a)
    {
        var s = t.Sandbox;
        lock (s.TreeLock)
        {
            if (s.LiveGroupsUnlocked().Exists(g => g.Pgid == t.Pid)) return -Errno.EPERM; // already leads a group
            t.Group.Sid = t.Pid;
            t.Group.Pgid = t.Pid;
            t.Group.ControllingTerminal = null; // a new session starts without a terminal
            return t.Pid;
        }
    }

    static long GetSid(Task t, in SyscallArgs a)
    {
        int pid = (int)a.A0;
        if (pid == 0) return t.Group.Sid;
        var g = t.Sandbox.FindGroup(pid);
        return g == null ? -Errno.ESRCH : g.Sid;
    }
}
