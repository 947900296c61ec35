using System.Buffers.Binary;
using Sentry.Gofer.Confinement;

namespace Sentry.Gofer.Tests;

/// <summary>
/// Runs a seccomp filter the way the kernel does (classic BPF, the instructions the Gofer's
/// filter uses) on a struct seccomp_data, so the policy can be checked call by call without
/// installing it. Anything the kernel would refuse to load (a jump past the end, an unknown
/// opcode, falling off the end) fails the test.
/// </summary>
public static class BpfInterpreter
{
    public static uint Run(SockFilter[] program, uint arch, int nr, params ulong[] args)
    {
        var data = new byte[64];
        BinaryPrimitives.WriteInt32LittleEndian(data, nr);
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(4), arch);
        for (int i = 0; i < args.Length; i++) BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(16 + 8 * i), args[i]);
        uint a = 0;
        int pc = 0;
        while (true)
        {
            if (pc >= program.Length) throw new AssertionException($"the filter ran off its end (nr {nr})");
            SockFilter f = program[pc++];
            switch (f.Code)
            {
                case Seccomp.BPF_LD_W_ABS:
                    if (f.K % 4 != 0 || f.K + 4 > data.Length) throw new AssertionException($"bad load offset {f.K}");
                    a = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan((int)f.K));
                    break;
                case Seccomp.BPF_JMP_JEQ_K: pc += a == f.K ? f.Jt : f.Jf; break;
                case Seccomp.BPF_JMP_JGE_K: pc += a >= f.K ? f.Jt : f.Jf; break;
                case Seccomp.BPF_JMP_JSET_K: pc += (a & f.K) != 0 ? f.Jt : f.Jf; break;
                case Seccomp.BPF_RET_K: return f.K;
                default: throw new AssertionException($"opcode 0x{f.Code:x} at {pc - 1}");
            }
        }
    }

    /// <summary>Every jump lands inside the program and the last instruction returns, as the kernel's checker demands.</summary>
    public static void Validate(SockFilter[] program)
    {
        Assert.That(program, Has.Length.InRange(1, Seccomp.MaxInstructions));
        for (int pc = 0; pc < program.Length; pc++)
        {
            SockFilter f = program[pc];
            if ((f.Code & 0x07) == 0x05)
                Assert.That(pc + 1 + Math.Max(f.Jt, f.Jf), Is.LessThan(program.Length), $"jump at {pc}");
        }
        Assert.That(program[^1].Code, Is.EqualTo(Seccomp.BPF_RET_K));
    }
}
