namespace Sentry.Kernel.Tasks;

/// <summary>
/// The signal dispositions and mask as rt_sigaction/rt_sigprocmask record them. Delivery of
/// handlers comes with the signals issue; until then a fatal signal terminates the process.
/// </summary>
public sealed class SignalState
{
    /// <summary>struct kernel_sigaction as the application passed it: handler, flags, restorer, mask.</summary>
    public struct Action { public ulong Handler, Flags, Restorer, Mask; }

    public readonly Action[] Actions = new Action[65];
    public ulong Mask;
    /// <summary>sigaltstack: ss_sp, ss_flags, ss_size.</summary>
    public ulong AltStackSp, AltStackSize;
    public int AltStackFlags = 2; // SS_DISABLE

    /// <summary>execve: handled signals revert to the default action; ignored ones stay ignored; no alternate stack.</summary>
    public void ResetForExec()
    {
        const ulong SIG_IGN = 1;
        for (int i = 0; i < Actions.Length; i++)
            if (Actions[i].Handler != SIG_IGN) Actions[i] = default;
        AltStackSp = AltStackSize = 0;
        AltStackFlags = 2;
    }
}
