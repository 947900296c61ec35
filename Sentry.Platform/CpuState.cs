using System.Runtime.InteropServices;

namespace Sentry.Platform;

/// <summary>
/// The application's user-mode register file. The general-register part has the layout of
/// Linux's <c>struct user_regs_struct</c> (x86-64) so platforms can move it with one copy;
/// <see cref="Fp"/> holds the FXSAVE/XSAVE image, loaded only when the kernel asks for it.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct UserRegs
{
    public ulong r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
    public ulong rax, rcx, rdx, rsi, rdi, orig_rax, rip, cs, eflags, rsp, ss;
    public ulong fs_base, gs_base, ds, es, fs, gs;
}

/// <summary>Full CPU state of one application thread as both platforms exchange it with the kernel.</summary>
public sealed class CpuState
{
    /// <summary>Size of the FPU area kept per task: the legacy FXSAVE image (512 bytes).</summary>
    public const int FxsaveSize = 512;

    public UserRegs Regs;

    /// <summary>FXSAVE image (x87, MXCSR, XMM0-15), filled by <see cref="IContext.LoadFpState"/> on request.</summary>
    public readonly byte[] Fp = new byte[FxsaveSize];

    /// <summary>Set by the kernel after it changed <see cref="Fp"/> (sigreturn): the platform loads it
    /// before running the application again and clears the flag.</summary>
    public bool FpDirty;

    /// <summary>Return value register for a finished syscall.</summary>
    public void SetReturn(long value) => Regs.rax = (ulong)value;
}
