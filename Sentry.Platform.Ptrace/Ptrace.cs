using Sentry.Platform;

namespace Sentry.Platform.Ptrace;

/// <summary>ptrace(2) and wait4(2) requests and constants (values from linux/ptrace.h).</summary>
internal static unsafe class Ptrace
{
    public const long SYS_ptrace = 101, SYS_wait4 = 61, SYS_tgkill = 234, SYS_kill = 62;

    public const int PTRACE_CONT = 7, PTRACE_KILL = 8, PTRACE_GETREGS = 12, PTRACE_SETREGS = 13,
        PTRACE_GETFPREGS = 14, PTRACE_SETFPREGS = 15, PTRACE_SETOPTIONS = 0x4200,
        PTRACE_GETSIGINFO = 0x4202, PTRACE_SYSEMU = 31,
        PTRACE_SEIZE = 0x4206, PTRACE_INTERRUPT = 0x4207;
    public const int PTRACE_EVENT_STOP = 128;
    /// <summary>Thread-directed signal used to make a running stub thread stop (Interrupt()).
    /// SIGURG is harmless if it ever reached an untraced thread (default action: ignore).</summary>
    public const int InterruptSignal = 23;

    public const int PTRACE_O_TRACESYSGOOD = 1, PTRACE_O_EXITKILL = 0x100000;
    public const int __WALL = 0x40000000;
    public const int SIGTRAP = 5, SIGSTOP = 19, SIGKILL = 9, SIGSEGV = 11, SIGBUS = 7, SIGILL = 4, SIGFPE = 8;

    public static long Request(int req, int pid, long addr = 0, long data = 0) =>
        HostSyscall.Call(SYS_ptrace, req, pid, addr, data);

    public static long GetRegs(int pid, ref UserRegs regs)
    {
        fixed (UserRegs* p = &regs) return Request(PTRACE_GETREGS, pid, 0, (long)p);
    }

    public static long SetRegs(int pid, ref UserRegs regs)
    {
        fixed (UserRegs* p = &regs) return Request(PTRACE_SETREGS, pid, 0, (long)p);
    }

    /// <summary>Waits for a state change of <paramref name="pid"/>; retries on EINTR (the runtime's GC signals).</summary>
    public static int Wait(int pid, out int status)
    {
        int s = 0;
        long r = HostSyscall.CallRestarting(SYS_wait4, pid, (long)&s, __WALL, 0);
        status = s;
        return (int)r;
    }

    public static bool Stopped(int status) => (status & 0xff) == 0x7f;
    public static int StopSignal(int status) => (status >> 8) & 0xff;
    public static bool Exited(int status) => (status & 0x7f) == 0;
    public static bool Signaled(int status) => ((status & 0x7f) + 1) >> 1 > 0 && !Stopped(status) && !Exited(status);
}
