using Sentry.Kernel.Tasks;
using Sentry.Platform;

namespace Sentry.Kernel.Syscalls;

/// <summary>
/// The legacy vsyscall page: old binaries, and the JVM's fallback for sched_getcpu, call
/// gettimeofday, time and getcpu at fixed addresses in the kernel half. Linux (vsyscall=xonly,
/// the default) has no code there: executing an entry faults and the kernel runs the system call
/// as if the program had made it, then returns to the caller. The sandbox does the same on
/// platforms whose guest has nothing at those addresses (KVM); on ptrace the host kernel's own
/// emulation turns the call into an ordinary system call first.
/// </summary>
internal static class Vsyscall
{
    const ulong Base = 0xffffffffff600000;

    /// <summary>The system call behind the vsyscall entry at <paramref name="addr"/>, or -1.</summary>
    static long Entry(ulong addr) => addr switch
    {
        Base => 96,            // gettimeofday
        Base + 0x400 => 201,   // time
        Base + 0x800 => 309,   // getcpu
        _ => -1,
    };

    /// <summary>
    /// Emulates a call when the task faulted by jumping to a vsyscall entry: runs the system call,
    /// then returns as the entry's `ret` would. False when the fault was anything else (or the
    /// return address cannot be read, which then faults as on Linux).
    /// </summary>
    public static bool TryEmulate(Task task, ulong faultAddress)
    {
        ref var regs = ref task.Cpu.Regs;
        long nr = Entry(faultAddress);
        if (nr < 0 || regs.rip != faultAddress) return false;
        if (task.Mm.Read(regs.rsp, out ulong returnAddress) < 0) return false;
        regs.rax = (ulong)SyscallTable.Dispatch(task, nr, new SyscallArgs(regs.rdi, regs.rsi, regs.rdx));
        regs.rip = returnAddress;
        regs.rsp += 8;
        return true;
    }
}
