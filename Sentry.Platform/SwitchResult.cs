namespace Sentry.Platform;

/// <summary>Why <see cref="IContext.Switch"/> returned.</summary>
public enum SwitchReason
{
    /// <summary>The application executed <c>syscall</c>; number in orig_rax/rax, args in rdi..r9.
    /// rip already points after the instruction.</summary>
    Syscall,
    /// <summary>A page fault the memory manager may be able to resolve.</summary>
    PageFault,
    /// <summary>A synchronous fault that is not a page fault (invalid opcode, breakpoint,
    /// divide error, general protection, ...). <see cref="SwitchResult.Signal"/> says which signal Linux sends.</summary>
    Fault,
    /// <summary><see cref="IContext.Interrupt"/> was called, or the host interrupted the run.</summary>
    Interrupted,
}

/// <summary>Memory access kinds of a page fault, as far as the platform can tell.</summary>
[Flags]
public enum AccessType
{
    None = 0,
    Read = 1,
    Write = 2,
    Execute = 4,
    /// <summary>The platform cannot tell the access kind (ptrace); the kernel assumes the VMA's widest right.</summary>
    Unknown = 8,
}

/// <summary>Result of one <see cref="IContext.Switch"/>: no allocation, a plain struct.</summary>
public readonly record struct SwitchResult(SwitchReason Reason, ulong FaultAddress = 0, AccessType Access = AccessType.None, int Signal = 0, int SiCode = 0)
{
    public static SwitchResult Syscall => new(SwitchReason.Syscall);
    public static SwitchResult Interrupted => new(SwitchReason.Interrupted);
}
