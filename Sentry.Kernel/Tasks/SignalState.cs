using Sentry.Kernel.Abi;

namespace Sentry.Kernel.Tasks;

/// <summary>
/// A task's signal state: dispositions (shared by threads with CLONE_SIGHAND), the blocked mask,
/// pending signals and the alternate stack.
/// </summary>
public sealed class SignalState
{
    /// <summary>struct kernel_sigaction as the application passed it: handler, flags, restorer, mask.</summary>
    public struct Action { public ulong Handler, Flags, Restorer, Mask; }

    public const ulong SIG_DFL = 0, SIG_IGN = 1;
    public const ulong SA_NOCLDSTOP = 1, SA_NOCLDWAIT = 2, SA_SIGINFO = 4, SA_RESTORER = 0x04000000, SA_ONSTACK = 0x08000000,
        SA_RESTART = 0x10000000, SA_NODEFER = 0x40000000, SA_RESETHAND = 0x80000000;
    /// <summary>SIGKILL and SIGSTOP can be neither blocked nor caught.</summary>
    public const ulong Unblockable = (1UL << (Linux.SIGKILL - 1)) | (1UL << (Linux.SIGSTOP - 1));

    /// <summary>Dispositions; the same array for threads that share handlers (CLONE_SIGHAND).</summary>
    public Action[] Actions { get; init; } = new Action[Linux._NSIG + 1];
    public ulong Mask;
    /// <summary>sigaltstack: ss_sp, ss_flags, ss_size.</summary>
    public ulong AltStackSp, AltStackSize;
    public int AltStackFlags = 2; // SS_DISABLE

    readonly object _lock = new();
    /// <summary>Pending signals in arrival order; standard signals (below SIGRTMIN) coalesce.</summary>
    readonly List<SigInfo> _pending = new();
    ulong _pendingSet;

    public static ulong Bit(int sig) => 1UL << (sig - 1);

    public ulong PendingSet { get { lock (_lock) return _pendingSet; } }

    /// <summary>Queues <paramref name="info"/>. Returns false when a standard signal was already pending (coalesced).</summary>
    public bool Enqueue(in SigInfo info)
    {
        lock (_lock)
        {
            int sig = info.si_signo;
            if (sig < 32 && (_pendingSet & Bit(sig)) != 0) return false;
            _pending.Add(info);
            _pendingSet |= Bit(sig);
            return true;
        }
    }

    /// <summary>True when a pending signal is not blocked by <paramref name="mask"/>.</summary>
    public bool HasDeliverable(ulong mask) { lock (_lock) return (_pendingSet & ~mask) != 0; }

    /// <summary>Takes the next signal not blocked by <paramref name="mask"/>: synchronous faults first, then lowest number.</summary>
    public bool TryDequeue(ulong mask, out SigInfo info)
    {
        lock (_lock)
        {
            info = default;
            ulong ready = _pendingSet & ~mask;
            if (ready == 0) return false;
            const ulong sync = (1UL << (Linux.SIGSEGV - 1)) | (1UL << (Linux.SIGBUS - 1)) | (1UL << (Linux.SIGILL - 1)) | (1UL << (Linux.SIGTRAP - 1)) | (1UL << (Linux.SIGFPE - 1));
            ulong pick = (ready & sync) != 0 ? ready & sync : ready;
            int sig = System.Numerics.BitOperations.TrailingZeroCount(pick) + 1;
            int idx = _pending.FindIndex(p => p.si_signo == sig);
            info = _pending[idx];
            _pending.RemoveAt(idx);
            if (!_pending.Exists(p => p.si_signo == sig)) _pendingSet &= ~Bit(sig);
            return true;
        }
    }

    /// <summary>Drops pending instances of <paramref name="sig"/> (a disposition set to ignore discards them).</summary>
    public void Discard(int sig)
    {
        lock (_lock)
        {
            _pending.RemoveAll(p => p.si_signo == sig);
            _pendingSet &= ~Bit(sig);
        }
    }

    /// <summary>Whether SIG_DFL for <paramref name="sig"/> is to ignore it.</summary>
    public bool DefaultActionIgnores(int sig) => Signals.DefaultActions.Of(sig) is Signals.DefaultAction.Ignore or Signals.DefaultAction.Continue;

    /// <summary>SIGCONT discards pending stop signals.</summary>
    public void DiscardStops()
    {
        foreach (int s in new[] { Linux.SIGSTOP, Linux.SIGTSTP, 21, 22 }) Discard(s);
    }

    /// <summary>execve: handled signals revert to the default action; ignored ones stay ignored; no alternate stack.</summary>
    public void ResetForExec()
    {
        for (int i = 0; i < Actions.Length; i++)
            if (Actions[i].Handler != SIG_IGN) Actions[i] = default;
        AltStackSp = AltStackSize = 0;
        AltStackFlags = 2;
    }
}
