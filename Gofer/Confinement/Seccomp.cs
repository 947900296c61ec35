using System.Runtime.InteropServices;
using Sentry.Gofer.Abi;
using Sentry.Platform;

namespace Sentry.Gofer.Confinement;

/// <summary>struct sock_filter (linux/filter.h): one classic BPF instruction, 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct SockFilter(ushort Code, byte Jt, byte Jf, uint K);

/// <summary>What the filter does with one system call number.</summary>
public enum SeccompAction
{
    /// <summary>Allowed whatever its arguments.</summary>
    Allow,
    /// <summary>Allowed only if the low 32 bits of its first argument are one of <see cref="SeccompRule.Values"/>.</summary>
    AllowIfArg0In,
    /// <summary>Allowed only if its first argument has one of the bits of <see cref="SeccompRule.Values"/>[0].</summary>
    AllowIfArg0HasBit,
    /// <summary>Refused with errno <see cref="SeccompRule.Values"/>[0] (e.g. ENOSYS, so that libc falls back to a call the filter can inspect).</summary>
    Errno,
}

/// <summary>One entry of a seccomp policy: a system call (name for people, number for the filter) and what to do with it.</summary>
public sealed record SeccompRule(string Name, int Nr, SeccompAction Action, params uint[] Values);

/// <summary>
/// Builds and installs a seccomp-bpf allowlist: the architecture must be x86-64 (anything else,
/// e.g. an i386 call through int 0x80, kills the process), x32 numbers are refused, each rule is
/// matched in order, and every call no rule names fails with EPERM. EPERM rather than a kill, so
/// that a call the .NET runtime makes only rarely degrades (the runtime copes with failures)
/// instead of killing the file server; nothing the Gofer needs is missing from the list.
/// </summary>
public static unsafe class Seccomp
{
    // Classic BPF opcodes (linux/bpf_common.h) and seccomp return values (linux/seccomp.h).
    public const ushort BPF_LD_W_ABS = 0x00 | 0x00 | 0x20;
    public const ushort BPF_JMP_JEQ_K = 0x05 | 0x10 | 0x00;
    public const ushort BPF_JMP_JGE_K = 0x05 | 0x30 | 0x00;
    public const ushort BPF_JMP_JSET_K = 0x05 | 0x40 | 0x00;
    public const ushort BPF_RET_K = 0x06 | 0x00;
    public const uint SECCOMP_RET_KILL_PROCESS = 0x80000000;
    public const uint SECCOMP_RET_ERRNO = 0x00050000;
    public const uint SECCOMP_RET_ALLOW = 0x7fff0000;
    public const uint AUDIT_ARCH_X86_64 = 0xC000003E;
    public const uint __X32_SYSCALL_BIT = 0x40000000;
    /// <summary>Offsets in struct seccomp_data: nr[4] arch[4] instruction_pointer[8] args[6][8].</summary>
    public const uint OffsetNr = 0, OffsetArch = 4, OffsetArg0 = 16;
    /// <summary>BPF_MAXINSNS.</summary>
    public const int MaxInstructions = 4096;

    const int SECCOMP_SET_MODE_FILTER = 1;
    const int SECCOMP_FILTER_FLAG_TSYNC = 1;

    /// <summary>The filter program for <paramref name="rules"/>, first match wins; EPERM for the rest.</summary>
    public static SockFilter[] Build(IReadOnlyList<SeccompRule> rules)
    {
        var p = new List<SockFilter>
        {
            new(BPF_LD_W_ABS, 0, 0, OffsetArch),
            new(BPF_JMP_JEQ_K, 1, 0, AUDIT_ARCH_X86_64),
            new(BPF_RET_K, 0, 0, SECCOMP_RET_KILL_PROCESS),
            new(BPF_LD_W_ABS, 0, 0, OffsetNr),
            new(BPF_JMP_JGE_K, 0, 1, __X32_SYSCALL_BIT),
            new(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | Errno.EPERM),
        };
        foreach (SeccompRule r in rules)
        {
            switch (r.Action)
            {
                case SeccompAction.Allow:
                    p.Add(new(BPF_JMP_JEQ_K, 0, 1, (uint)r.Nr));
                    p.Add(new(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW));
                    break;
                case SeccompAction.Errno:
                    p.Add(new(BPF_JMP_JEQ_K, 0, 1, (uint)r.Nr));
                    p.Add(new(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | (r.Values[0] & 0xffff)));
                    break;
                case SeccompAction.AllowIfArg0In:
                {
                    // nr? no: skip the block. yes: load arg0, any value jumps to ALLOW, else EPERM.
                    int n = r.Values.Length;
                    if (n is 0 or > 200) throw new ArgumentException($"{r.Name}: 1 to 200 values");
                    p.Add(new(BPF_JMP_JEQ_K, 0, (byte)(n + 3), (uint)r.Nr));
                    p.Add(new(BPF_LD_W_ABS, 0, 0, OffsetArg0));
                    for (int i = 0; i < n; i++) p.Add(new(BPF_JMP_JEQ_K, (byte)(n - i), 0, r.Values[i]));
                    p.Add(new(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | Errno.EPERM));
                    p.Add(new(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW));
                    // The accumulator now holds arg0, but every path above returned.
                    break;
                }
                case SeccompAction.AllowIfArg0HasBit:
                    p.Add(new(BPF_JMP_JEQ_K, 0, 4, (uint)r.Nr));
                    p.Add(new(BPF_LD_W_ABS, 0, 0, OffsetArg0));
                    p.Add(new(BPF_JMP_JSET_K, 1, 0, r.Values[0]));
                    p.Add(new(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | Errno.EPERM));
                    p.Add(new(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW));
                    break;
            }
        }
        p.Add(new(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | Errno.EPERM));
        if (p.Count > MaxInstructions) throw new ArgumentException($"the filter has {p.Count} instructions, more than BPF allows");
        return [.. p];
    }

    /// <summary>
    /// Installs <paramref name="program"/> on every thread of the process (SECCOMP_FILTER_FLAG_TSYNC,
    /// which also gives each thread the caller's no_new_privs). The caller must have set
    /// PR_SET_NO_NEW_PRIVS (or hold CAP_SYS_ADMIN). Returns 0 or -errno (-ESRCH if a thread could
    /// not be synchronised).
    /// </summary>
    public static int Install(ReadOnlySpan<SockFilter> program)
    {
        fixed (SockFilter* f = program)
        {
            // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
            long* fprog = stackalloc long[2];
            fprog[0] = program.Length;
            fprog[1] = (long)f;
            long rc = HostSyscall.Call(SyscallNumbers.SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, (long)fprog);
            return rc > 0 ? -Errno.ESRCH : (int)rc;
        }
    }
}
