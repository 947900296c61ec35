using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs.Proc;

/// <summary>
/// What a /proc/&lt;pid&gt; or /proc/&lt;pid&gt;/task/&lt;tid&gt; directory describes: the task it
/// was looked up for (the main thread of a process directory), the number in its name, and whether
/// it is a thread directory (per-thread times and state) or a process directory (whole-process sums).
/// </summary>
public sealed record ProcScope(Task Task, int Pid, bool IsThread)
{
    public ThreadGroup Group => Task.Group;
    public Sandbox Sandbox => Task.Sandbox;

    /// <summary>Linux's ptrace_may_access(PTRACE_MODE_READ) reduced to Sentry's credentials: the same user, or root.</summary>
    public bool MayInspect(Task reader) => reader.Uid == 0 || reader.Uid == Task.Uid;

    /// <summary>The process's threads now (a copy, taken under the tree lock).</summary>
    public Task[] Threads()
    {
        lock (Sandbox.TreeLock) return [.. Group.Threads];
    }

    /// <summary>
    /// The process's place in the tree, read together under the tree lock (stat and status show
    /// the same values): parent, group, session, thread count, and its controlling terminal as
    /// stat's tty_nr (new_encode_dev, which ps maps back to /dev/pts/N) and foreground group.
    /// </summary>
    public TreeIds ReadTreeIds()
    {
        lock (Sandbox.TreeLock)
        {
            var g = Group;
            int ttyNr = 0, tpgid = -1;
            if (g.ControllingTerminal is { } tty)
            {
                uint minor = (uint)tty.Index;
                ttyNr = (int)((minor & 0xff) | (Vfs.Tty.DevPts.UNIX98_PTY_SLAVE_MAJOR << 8) | ((minor & ~0xffu) << 12));
                tpgid = tty.ForegroundPgrp == 0 ? -1 : tty.ForegroundPgrp;
            }
            return new TreeIds(g.Parent?.Tgid ?? 0, g.Pgid, g.Sid, g.Threads.Count, ttyNr, tpgid);
        }
    }

    /// <summary>Whether what this directory describes still runs (a generated file of an ended process fails with ESRCH).</summary>
    public bool Alive
    {
        get
        {
            lock (Sandbox.TreeLock) return !Group.Zombie && Group.Threads.Count > 0 && (!IsThread || Group.Threads.Contains(Task));
        }
    }
}
