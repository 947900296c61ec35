using static Sentry.Platform.Systrap.Layout;

namespace Sentry.Platform.Systrap;

/// <summary>
/// The stub's seccomp program (classic BPF). Every system call traps (SECCOMP_RET_TRAP, a SIGSYS
/// the stub's handler turns into an event for Sentry) unless it comes from the stub's own code and
/// is one of the few calls the stub makes; 32-bit system calls (int 0x80) fail with ENOSYS, as on
/// a kernel built without IA32 emulation. The application can jump into the stub's code, so the
/// calls allowed there are only ones that cannot reach outside the stub process (see DESIGN.md).
/// </summary>
internal static class SeccompFilter
{
    const ushort LdW = 0x20, JeqK = 0x15, JgeK = 0x35, RetK = 0x06;
    const uint RetAllow = 0x7fff_0000, RetTrap = 0x0003_0000, RetErrno = 0x0005_0000;
    const uint AuditArchX86_64 = 0xc000_003e;

    /// <summary>System calls the stub's code may make, with no argument checks.</summary>
    public static readonly int[] Allowed =
    [
        15,  // rt_sigreturn
        202, // futex
        10,  // mprotect
        11,  // munmap
        60,  // exit (a stub thread)
        231, // exit_group
        131, // sigaltstack
        158, // arch_prctl (fs/gs base without FSGSBASE)
        324, // membarrier
    ];

    /// <summary>The program as struct sock_filter entries (8 bytes each).</summary>
    public static byte[] Build()
    {
        var p = new List<(ushort code, byte jt, byte jf, uint k)>();
        // Jumps are forward to the three returns at the end; fixed up once the length is known.
        const int Allow = -1, Trap = -2, Enosys = -3;
        var jumps = new List<(int index, int jtTarget, int jfTarget)>();
        void Ld(uint off) => p.Add((LdW, 0, 0, off));
        void J(ushort code, uint k, int jt, int jf) { jumps.Add((p.Count, jt, jf)); p.Add((code, 0, 0, k)); }
        const int Next = 0;

        Ld(4); J(JeqK, AuditArchX86_64, Next, Enosys);
        Ld(12); J(JeqK, (uint)(CodeBase >> 32), Next, Trap);
        Ld(8); J(JgeK, unchecked((uint)CodeBase), Next, Trap);
        J(JgeK, unchecked((uint)(CodeBase + CodeSize)), Trap, Next);
        Ld(0);
        foreach (int nr in Allowed) J(JeqK, (uint)nr, Allow, Next);
        // mmap only of the memory file; clone only of a stub thread.
        int mmapCheck = p.Count;
        J(JeqK, 9, Next, 3);
        Ld(16 + 4 * 8); J(JeqK, MemoryFd, Allow, Trap);
        Ld(0);
        J(JeqK, 56, Next, Trap);
        Ld(16); J(JeqK, StubCode.CloneFlags, Allow, Trap);
        int trap = p.Count; p.Add((RetK, 0, 0, RetTrap));
        int allow = p.Count; p.Add((RetK, 0, 0, RetAllow));
        int enosys = p.Count; p.Add((RetK, 0, 0, RetErrno | 38));

        byte Resolve(int from, int target) => target switch
        {
            Next => 0,
            Allow => checked((byte)(allow - from - 1)),
            Trap => checked((byte)(trap - from - 1)),
            Enosys => checked((byte)(enosys - from - 1)),
            _ => checked((byte)target),
        };
        foreach (var (i, jt, jf) in jumps)
        {
            var e = p[i];
            p[i] = (e.code, Resolve(i, jt), Resolve(i, jf), e.k);
        }
        _ = mmapCheck;
        var bytes = new byte[p.Count * 8];
        for (int i = 0; i < p.Count; i++)
        {
            var (code, jt, jf, k) = p[i];
            BitConverter.TryWriteBytes(bytes.AsSpan(i * 8), code);
            bytes[i * 8 + 2] = jt; bytes[i * 8 + 3] = jf;
            BitConverter.TryWriteBytes(bytes.AsSpan(i * 8 + 4), k);
        }
        return bytes;
    }
}
