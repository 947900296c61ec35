using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs.Tty;

/// <summary>
/// The pty as a controlling terminal (credentials(7), tty_ioctl(4)): the session it belongs to,
/// its foreground process group, and the signals it sends them. This state and each process's
/// <see cref="ThreadGroup.ControllingTerminal"/> are guarded by the sandbox's tree lock.
/// </summary>
public sealed partial class Pty
{
    /// <summary>Session whose controlling terminal this is (0: none), and its foreground process group.</summary>
    public int Session, ForegroundPgrp;

    static SigInfo KernelSignal(int sig) => SigInfo.FromKill(sig, SigInfo.SI_KERNEL, 0, 0);

    /// <summary>Sends each signal of the (1 &lt;&lt; signo) set to every process of the foreground group.</summary>
    public void SignalForeground(int signals)
    {
        List<ThreadGroup> targets;
        lock (Sandbox.TreeLock)
        {
            int pgrp = ForegroundPgrp;
            if (pgrp == 0) return;
            targets = Sandbox.LiveGroupsUnlocked().FindAll(g => g.Pgid == pgrp);
        }
        for (int sig = 1; sig < 32; sig++)
            if ((signals & (1 << sig)) != 0)
                foreach (var g in targets) Sandbox.PostToProcess(g, KernelSignal(sig));
    }

    /// <summary>Makes the pty the controlling terminal of <paramref name="task"/>'s session. Call under the tree lock.</summary>
    void Attach(Task task)
    {
        Session = task.Group.Sid;
        ForegroundPgrp = task.Group.Pgid;
        task.Group.ControllingTerminal = this;
    }

    /// <summary>An open without O_NOCTTY by a session leader with no terminal takes a terminal no session has.</summary>
    void AcquireOnOpen(Task task)
    {
        lock (Sandbox.TreeLock)
        {
            var g = task.Group;
            if (g.Sid == g.Tgid && g.ControllingTerminal == null && Session == 0 && !HungUp) Attach(task);
        }
    }

    /// <summary>TIOCSCTTY: a session leader without a terminal takes this one; <paramref name="steal"/> (arg 1, root) takes it from another session.</summary>
    long SetControlling(Task task, bool steal)
    {
        lock (Sandbox.TreeLock)
        {
            var g = task.Group;
            if (g.Sid == g.Tgid && g.ControllingTerminal == this) return 0;
            if (g.Sid != g.Tgid || g.ControllingTerminal != null) return -Errno.EPERM;
            if (Session != 0)
            {
                if (!steal || task.Uid != 0) return -Errno.EPERM;
                DetachSessionUnlocked();
            }
            Attach(task);
            return 0;
        }
    }

    /// <summary>
    /// TIOCNOTTY: the caller gives up its controlling terminal. A session leader takes it from the
    /// whole session, and the foreground group gets SIGHUP and SIGCONT.
    /// </summary>
    long GiveUp(Task task)
    {
        lock (Sandbox.TreeLock)
        {
            var g = task.Group;
            if (g.ControllingTerminal != this) return -Errno.ENOTTY;
            if (g.Sid != g.Tgid)
            {
                g.ControllingTerminal = null;
                return 0;
            }
        }
        Disassociate(onExit: false);
        return 0;
    }

    /// <summary>
    /// The end of a process: a session leader's end takes the terminal from its session and sends
    /// the foreground group SIGHUP (for a pty, Linux does not hang the terminal up then).
    /// </summary>
    public static void ProcessEnded(Sandbox sandbox, ThreadGroup g)
    {
        Pty? tty;
        lock (sandbox.TreeLock)
        {
            tty = g.ControllingTerminal;
            g.ControllingTerminal = null;
            if (tty == null || g.Sid != g.Tgid || tty.Session != g.Sid) return;
        }
        tty.Disassociate(onExit: true);
    }

    /// <summary>The session leader lets go of the terminal: SIGHUP (and SIGCONT unless it is exiting) to the foreground group.</summary>
    void Disassociate(bool onExit)
    {
        List<ThreadGroup> targets;
        lock (Sandbox.TreeLock)
        {
            int pgrp = ForegroundPgrp;
            targets = pgrp == 0 ? [] : Sandbox.LiveGroupsUnlocked().FindAll(x => x.Pgid == pgrp);
            DetachSessionUnlocked();
        }
        foreach (var t in targets) Sandbox.PostToProcess(t, KernelSignal(Linux.SIGHUP));
        if (!onExit)
            foreach (var t in targets) Sandbox.PostToProcess(t, KernelSignal(Linux.SIGCONT));
    }

    /// <summary>
    /// Job control for a process using its controlling terminal from a background process group
    /// (a read: SIGTTIN; a write with TOSTOP or a settings change: SIGTTOU). 0 when it may go on;
    /// else the group is sent the signal and the call restarts once it continues, or fails with
    /// EIO when the signal is ignored or blocked (a read only: a write or a change then goes on)
    /// or the group is orphaned, where no one could continue it.
    /// </summary>
    public long CheckBackground(Task task, int sig)
    {
        List<ThreadGroup> members;
        lock (Sandbox.TreeLock)
        {
            var g = task.Group;
            if (g.ControllingTerminal != this || ForegroundPgrp == 0 || g.Pgid == ForegroundPgrp) return 0;
            ulong h = task.Signals.Actions[sig].Handler;
            if ((task.Signals.Mask & SignalState.Bit(sig)) != 0 || h == SignalState.SIG_IGN)
                return sig == Linux.SIGTTIN ? -Errno.EIO : 0;
            if (OrphanedUnlocked(g.Pgid, g.Sid)) return -Errno.EIO;
            int pgid = g.Pgid;
            members = Sandbox.LiveGroupsUnlocked().FindAll(x => x.Pgid == pgid);
        }
        foreach (var m in members) Sandbox.PostToProcess(m, KernelSignal(sig));
        return -Signals.SignalDelivery.ERESTARTSYS;
    }

    /// <summary>POSIX: a group is orphaned when no member's parent is in another group of the same session.</summary>
    bool OrphanedUnlocked(int pgid, int sid)
    {
        foreach (var m in Sandbox.LiveGroupsUnlocked())
            if (m.Pgid == pgid && m.Parent is { Zombie: false } p && p.Pgid != pgid && p.Sid == sid) return false;
        return true;
    }

    /// <summary>No process keeps this as its terminal any more; the pty belongs to no session.</summary>
    void DetachSessionUnlocked()
    {
        foreach (var g in Sandbox.LiveGroupsUnlocked())
            if (g.ControllingTerminal == this) g.ControllingTerminal = null;
        Session = ForegroundPgrp = 0;
    }

    /// <summary>Hangup (the master closed): the session loses its terminal and its leader gets SIGHUP and SIGCONT.</summary>
    void HangUpSession()
    {
        ThreadGroup? leader;
        lock (Sandbox.TreeLock)
        {
            if (Session == 0) return;
            int sid = Session;
            leader = Sandbox.LiveGroupsUnlocked().Find(g => g.Tgid == sid && g.Sid == sid && g.ControllingTerminal == this);
            DetachSessionUnlocked();
        }
        if (leader == null) return;
        Sandbox.PostToProcess(leader, KernelSignal(Linux.SIGHUP));
        Sandbox.PostToProcess(leader, KernelSignal(Linux.SIGCONT));
    }

    /// <summary>TIOCSPGRP: a process group of the caller's session becomes the foreground one.</summary>
    long SetForeground(Task task, int pgrp)
    {
        if (pgrp < 0) return -Errno.EINVAL;
        lock (Sandbox.TreeLock)
        {
            var g = task.Group;
            if (g.ControllingTerminal != this || Session != g.Sid) return -Errno.ENOTTY;
            // Like Linux, the id may name a group or, failing that, a process.
            var member = Sandbox.LiveGroupsUnlocked().Find(x => x.Pgid == pgrp) ?? Sandbox.FindGroup(pgrp);
            if (member == null) return -Errno.ESRCH;
            if (member.Sid != g.Sid) return -Errno.EPERM;
            ForegroundPgrp = pgrp;
            return 0;
        }
    }

    /// <summary>Whether the caller's controlling terminal is this one (TIOCGPGRP/TIOCGSID on the slave need it).</summary>
    bool IsControllingOf(Task task)
    {
        lock (Sandbox.TreeLock) return task.Group.ControllingTerminal == this;
    }
}
