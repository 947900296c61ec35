using Sentry.Platform;

namespace Sentry.Kernel.Syscalls;

/// <summary>The six syscall argument registers (rdi, rsi, rdx, r10, r8, r9), copied once per call.</summary>
public readonly struct SyscallArgs
{
    public readonly ulong A0, A1, A2, A3, A4, A5;

    public SyscallArgs(in UserRegs r)
    {
        A0 = r.rdi; A1 = r.rsi; A2 = r.rdx; A3 = r.r10; A4 = r.r8; A5 = r.r9;
    }

    public SyscallArgs(ulong a0, ulong a1 = 0, ulong a2 = 0, ulong a3 = 0, ulong a4 = 0, ulong a5 = 0)
    {
        A0 = a0; A1 = a1; A2 = a2; A3 = a3; A4 = a4; A5 = a5;
    }

    public ulong this[int i] => i switch { 0 => A0, 1 => A1, 2 => A2, 3 => A3, 4 => A4, _ => A5 };
}

/// <summary>A syscall handler: returns the result, or -errno. Never throws for application errors.</summary>
public delegate long SyscallHandler(Tasks.Task t, in SyscallArgs a);
