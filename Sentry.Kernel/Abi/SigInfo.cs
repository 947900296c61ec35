using System.Runtime.InteropServices;

namespace Sentry.Kernel.Abi;

/// <summary>x86-64 <c>siginfo_t</c>, 128 bytes: the header and the union members the kernel fills in.</summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
public struct SigInfo
{
    [FieldOffset(0)] public int si_signo;
    [FieldOffset(4)] public int si_errno;
    [FieldOffset(8)] public int si_code;
    /// <summary>_kill, _rt, _sigchld: sender pid and uid.</summary>
    [FieldOffset(16)] public int si_pid;
    [FieldOffset(20)] public uint si_uid;
    /// <summary>_sigfault: faulting address.</summary>
    [FieldOffset(16)] public ulong si_addr;
    /// <summary>_sigchld: exit status or signal.</summary>
    [FieldOffset(24)] public int si_status;
    /// <summary>_rt, _timer: the value passed with the signal.</summary>
    [FieldOffset(24)] public ulong si_value;
    /// <summary>_timer: timer id and overrun count.</summary>
    [FieldOffset(16)] public int si_timerid;
    [FieldOffset(20)] public int si_overrun;

    public const int SI_USER = 0, SI_KERNEL = 0x80, SI_QUEUE = -1, SI_TIMER = -2, SI_TKILL = -6;
    public const int SEGV_MAPERR = 1, SEGV_ACCERR = 2, BUS_ADRERR = 2, ILL_ILLOPN = 2, FPE_INTDIV = 1, TRAP_BRKPT = 1;
    public const int CLD_EXITED = 1, CLD_KILLED = 2, CLD_DUMPED = 3, CLD_STOPPED = 5, CLD_CONTINUED = 6;

    public static SigInfo FromKill(int sig, int code, int pid, uint uid) => new() { si_signo = sig, si_code = code, si_pid = pid, si_uid = uid };
    /// <summary>What a parent learns of a child that ended with wait status <paramref name="waitStatus"/> (SIGCHLD, waitid).</summary>
    public static SigInfo ChildEnded(int signo, int pid, int waitStatus)
    {
        bool exited = (waitStatus & 0x7f) == 0;
        return new SigInfo
        {
            si_signo = signo, si_pid = pid, si_uid = 0,
            si_code = exited ? CLD_EXITED : (waitStatus & 0x80) != 0 ? CLD_DUMPED : CLD_KILLED,
            si_status = exited ? (waitStatus >> 8) & 0xff : waitStatus & 0x7f,
        };
    }

    public static SigInfo Fault(int sig, int code, ulong addr) => new() { si_signo = sig, si_code = code, si_addr = addr };
}
