namespace Sentry.Platform.Kvm;

/// <summary>
/// The signal Linux sends for each x86 exception taken in user mode (arch/x86/kernel/traps.c
/// behaviour as documented in signal(7) and sigaction(2)): number, si_code and si_addr.
/// </summary>
internal static class Signals
{
    public const int SIGILL = 4, SIGTRAP = 5, SIGBUS = 7, SIGFPE = 8, SIGSEGV = 11;
    public const int SI_KERNEL = 0x80;
    public const int ILL_ILLOPN = 2, FPE_INTDIV = 1, FPE_FLTINV = 7, BUS_ADRALN = 1, TRAP_TRACE = 2;
    public const int SEGV_MAPERR = 1, SEGV_ACCERR = 2;

    /// <summary>Signal, si_code and si_addr for exception <paramref name="vector"/> at <paramref name="rip"/> (not #PF).</summary>
    public static (int Signal, int Code, ulong Address) ForVector(int vector, ulong rip) => vector switch
    {
        0 => (SIGFPE, FPE_INTDIV, rip),       // #DE divide error
        1 => (SIGTRAP, TRAP_TRACE, rip),      // #DB single step
        3 => (SIGTRAP, SI_KERNEL, 0),         // #BP int3
        6 => (SIGILL, ILL_ILLOPN, rip),       // #UD
        12 => (SIGBUS, SI_KERNEL, 0),         // #SS
        16 or 19 => (SIGFPE, FPE_FLTINV, rip),// #MF, #XM (a finer code needs the FPU status word)
        17 => (SIGBUS, BUS_ADRALN, 0),        // #AC
        _ => (SIGSEGV, SI_KERNEL, 0),         // #GP, #OF, #BR, #NP, #TS and the rest
    };
}
