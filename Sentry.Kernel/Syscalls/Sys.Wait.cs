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

    /// <summary>
    /// Finds a zombie child matching (idtype, id), reaping it unless <paramref name="noWait"/>.
    /// Returns the child, or null with <paramref name="hasChildren"/> saying whether waiting makes sense.
    /// </summary>
    static ThreadGroup? FindZombie(Task t, int idtype, int id, bool noWait, out bool hasChildren)
    {
        var s = t.Sandbox;
        ThreadGroup? found = null;
        hasChildren = false;
        lock (s.TreeLock)
        {
            foreach (var c in t.Group.Children)
            {
                if (!Selects(c, idtype, id)) continue;
                hasChildren = true;
                if (c.Zombie) { found = c; break; }
            }
        }
        if (found != null && !noWait) s.Reap(found);
        return found;
    }

    static long WaitCommon(Task t, int idtype, int id, int options, out ThreadGroup? child)
    {
        child = null;
        while (true)
        {
            var z = FindZombie(t, idtype, id, (options & WNOWAIT) != 0, out bool has);
            if (z != null) { child = z; return z.Tgid; }
            if (!has) return -Errno.ECHILD;
            if ((options & WNOHANG) != 0) return 0;
            long r = t.WaitOn(t.Group.ChildEvents, () =>
            {
                lock (t.Sandbox.TreeLock) return t.Group.Children.Exists(c => Selects(c, idtype, id) && c.Zombie) || !t.Group.Children.Exists(c => Selects(c, idtype, id));
            });
            if (r == -Errno.EINTR) return -SignalDelivery.ERESTARTSYS;
        }
    }

    static long Wait4(Task t, in SyscallArgs a)
    {
        int pid = (int)a.A0, options = (int)a.A2;
        if ((options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WALL | __WCLONE)) != 0) return -Errno.EINVAL;
        if (pid == int.MinValue) return -Errno.ESRCH;
        int idtype = pid > 0 ? P_PID : pid == -1 ? P_ALL : P_PGID;
        int id = pid > 0 ? pid : pid == 0 ? t.Group.Pgid : -pid;
        long r = WaitCommon(t, idtype, id, options & WNOHANG, out var child);
        if (r <= 0 || child == null) return r;
        if (a.A1 != 0 && Put(t, a.A1, child.WaitStatus) < 0) return -Errno.EFAULT;
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
        if ((options & WEXITED) == 0)
        {
            // Only stop/continue events asked for: none are reported yet, so behave as "nothing now".
            if ((options & WNOHANG) != 0) return ClearSiginfo(t, a.A2);
            return -Errno.ECHILD;
        }
        long r = WaitCommon(t, idtype, id, options & (WNOHANG | WNOWAIT), out var child);
        if (r < 0) return r;
        if (child == null) return ClearSiginfo(t, a.A2);
        if (a.A2 != 0)
        {
            int st = child.WaitStatus;
            var info = new SigInfo
            {
                si_signo = SIGCHLD, si_pid = child.Tgid, si_uid = 0,
                si_code = (st & 0x7f) == 0 ? SigInfo.CLD_EXITED : (st & 0x80) != 0 ? SigInfo.CLD_DUMPED : SigInfo.CLD_KILLED,
                si_status = (st & 0x7f) == 0 ? (st >> 8) & 0xff : st & 0x7f,
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
