using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Signals;

/// <summary>
/// Runs on the task's thread before it returns to the application: applies the default action or
/// sets up a handler frame for the next deliverable signal, and decides whether a syscall that
/// was interrupted (returned -ERESTART*) restarts or fails with EINTR.
/// </summary>
public static class SignalDelivery
{
    public const int ERESTARTSYS = 512, ERESTARTNOINTR = 513, ERESTARTNOHAND = 514, ERESTART_RESTARTBLOCK = 516;

    public static bool IsRestart(long r) => r is -ERESTARTSYS or -ERESTARTNOINTR or -ERESTARTNOHAND or -ERESTART_RESTARTBLOCK;

    /// <summary>
    /// Delivers what can be delivered. <paramref name="restart"/> is the -ERESTART* code of the
    /// syscall that just returned, or 0.
    /// </summary>
    public static void Deliver(Task task, long restart)
    {
        var ss = task.Signals;
        ref var regs = ref task.Cpu.Regs;
        bool handled = false;
        while (ss.TryDequeue(ss.Mask, out var info))
        {
            int sig = info.si_signo;
            var act = ss.Actions[sig];
            if (act.Handler == SignalState.SIG_IGN) continue;
            if (act.Handler == SignalState.SIG_DFL)
            {
                switch (DefaultActions.Of(sig))
                {
                    case DefaultAction.Ignore:
                    case DefaultAction.Continue:
                        continue;
                    case DefaultAction.Stop:
                        task.StopUntilContinued(sig);
                        if (task.Exited) return;
                        continue;
                    case DefaultAction.Core:
                        task.Kill(sig, core: true);
                        return;
                    default:
                        task.Kill(sig, core: false);
                        return;
                }
            }

            // A handler runs: an interrupted syscall fails with EINTR unless it may be restarted.
            if (restart != 0)
            {
                bool again = restart == -ERESTARTNOINTR || (restart == -ERESTARTSYS && (act.Flags & SignalState.SA_RESTART) != 0);
                if (again) Rewind(ref regs);
                else regs.rax = unchecked((ulong)-Errno.EINTR);
                restart = 0;
            }
            ulong oldMask = task.SavedMask ?? ss.Mask;
            task.SavedMask = null;
            if (!SignalFrame.Push(task, act, info, oldMask))
            {
                task.Kill(Linux.SIGSEGV, core: true);
                return;
            }
            ss.Mask |= act.Mask | ((act.Flags & SignalState.SA_NODEFER) != 0 ? 0 : SignalState.Bit(sig));
            ss.Mask &= ~SignalState.Unblockable;
            if ((act.Flags & SignalState.SA_RESETHAND) != 0) ss.Actions[sig] = default;
            // Like Linux, keep going: another deliverable signal gets its frame on top of this one,
            // so its handler runs first and returns into this one.
            restart = 0;
            handled = true;
        }
        if (handled) return;
        // No handler ran: every kind of interrupted call restarts transparently.
        if (restart != 0) Rewind(ref regs);
        if (task.SavedMask is { } saved)
        {
            ss.Mask = saved;
            task.SavedMask = null;
        }
    }

    /// <summary>Makes the application execute the same syscall again (rip back over `syscall`).</summary>
    static void Rewind(ref Platform.UserRegs regs)
    {
        regs.rax = regs.orig_rax;
        regs.rip -= 2;
    }
}
