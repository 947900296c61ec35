using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Sentry.Platform.Ptrace;

/// <summary>
/// The stub process's whole program: a tiny static ELF, written below with Iced's assembler. The
/// bytes Sentry uses are the assembled result kept in StubImage.Prebuilt.cs (assembling at
/// start-up cost ~4 ms of every sandbox's start, Iced's tables being initialised); a test checks
/// that they still equal what <see cref="Assemble"/> produces, and prints the new file when not. Once started it unmaps everything
/// but itself (the host's stack, vDSO and vvar would otherwise sit in the application's address
/// range), closes inherited descriptors except the memory file, asks to be traced and stops.
/// After that the tracer drives it: application code runs under PTRACE_SYSEMU, and Sentry runs
/// host calls in it (mmap of the memory file) by pointing rip at <see cref="SyscallSite"/>.
/// </summary>
internal static partial class StubImage
{
    /// <summary>Where the stub lives in every application address space; above the user range.</summary>
    public const ulong Base = 0x7fff_fff0_0000;
    public const ulong Size = 0x1000;
    /// <summary>End of the host's user address space on x86-64 (TASK_SIZE, 47-bit).</summary>
    public const ulong TaskSize = 0x7fff_ffff_f000;
    /// <summary>Descriptor number of the memory file inside the stub.</summary>
    public const int MemoryFd = 100;

    const ulong CodeOffset = 0x100;

    /// <summary>Address of "syscall; int3": injected host calls run here and trap back.</summary>
    public const ulong SyscallSite = Base + CodeOffset + PrebuiltSyscallSite;
    /// <summary>Address of the clone site: "syscall" whose child parks in pause() and whose parent traps.</summary>
    public const ulong CloneSite = Base + CodeOffset + PrebuiltCloneSite;
    /// <summary>Address of "loop: syscall; jmp loop", used by the raw SYSEMU floor benchmark.</summary>
    public const ulong SyscallLoop = Base + CodeOffset + PrebuiltSyscallLoop;

    /// <summary>The stub's ELF file.</summary>
    public static ReadOnlySpan<byte> Image => Prebuilt;

    /// <summary>What <see cref="Assemble"/> gives: the ELF and its sites as offsets from the code start.</summary>
    internal readonly record struct Assembled(byte[] Elf, ulong SyscallSite, ulong CloneSite, ulong SyscallLoop);

    internal static Assembled Assemble()
    {
        var a = new Assembler(64);
        var site = a.CreateLabel();
        var loop = a.CreateLabel();
        var cloneSite = a.CreateLabel();
        var cloneParent = a.CreateLabel();
        var park = a.CreateLabel();
        // munmap(0, Base): drops the host stack, vDSO and vvar if they sit below us.
        a.mov(eax, 11); a.xor(edi, edi); a.mov(rsi, Base); a.syscall();
        // munmap(Base + Size, TaskSize - Base - Size): and anything above us.
        a.mov(eax, 11); a.mov(rdi, Base + Size); a.mov(rsi, TaskSize - Base - Size); a.syscall();
        // close_range(0, MemoryFd - 1, 0) and close_range(MemoryFd + 1, ~0U, 0).
        a.mov(eax, 436); a.xor(edi, edi); a.mov(esi, MemoryFd - 1); a.xor(edx, edx); a.syscall();
        a.mov(eax, 436); a.mov(edi, MemoryFd + 1); a.mov(esi, uint.MaxValue); a.xor(edx, edx); a.syscall();
        // ptrace(PTRACE_TRACEME, 0, 0, 0); kill(getpid(), SIGSTOP).
        a.mov(eax, 101); a.xor(edi, edi); a.xor(esi, esi); a.xor(edx, edx); a.xor(r10d, r10d); a.syscall();
        a.mov(eax, 39); a.syscall();
        a.mov(edi, eax); a.mov(esi, 19); a.mov(eax, 62); a.syscall();
        a.Label(ref site);
        a.syscall();
        a.int3();
        a.jmp(site);
        a.Label(ref loop);
        a.syscall();
        a.jmp(loop);
        // clone(CLONE_THREAD|...) lands here in both threads: the parent traps back to its tracer,
        // the new thread parks in pause() until a task thread seizes it.
        a.Label(ref cloneSite);
        a.syscall();
        a.test(rax, rax);
        a.jnz(cloneParent);
        a.Label(ref park);
        a.mov(eax, 34);
        a.syscall();
        a.jmp(park);
        a.Label(ref cloneParent);
        a.int3();
        a.jmp(site);

        var writer = new CodeWriterImpl();
        var result = a.Assemble(writer, Base + CodeOffset, BlockEncoderOptions.ReturnNewInstructionOffsets);
        ulong code0 = Base + CodeOffset;
        byte[] code = writer.ToArray();

        byte[] elf = new byte[(int)CodeOffset + code.Length];
        var w = new BinaryWriter(new MemoryStream(elf));
        // ELF64 header.
        w.Write([0x7f, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0]); w.Write(0UL);
        w.Write((ushort)2 /* ET_EXEC */); w.Write((ushort)62 /* EM_X86_64 */); w.Write(1u);
        w.Write(Base + CodeOffset); /* e_entry */ w.Write(64UL); /* e_phoff */ w.Write(0UL); /* e_shoff */
        w.Write(0u); w.Write((ushort)64); w.Write((ushort)56); w.Write((ushort)1); w.Write((ushort)64); w.Write((ushort)0); w.Write((ushort)0);
        // One PT_LOAD, R+X, covering the file.
        w.Write(1u); w.Write(5u); w.Write(0UL); w.Write(Base); w.Write(Base);
        w.Write((ulong)elf.Length); w.Write((ulong)elf.Length); w.Write(0x1000UL);
        code.CopyTo(elf, (int)CodeOffset);
        return new Assembled(elf, result.GetLabelRIP(site) - code0, result.GetLabelRIP(cloneSite) - code0, result.GetLabelRIP(loop) - code0);
    }

    sealed class CodeWriterImpl : CodeWriter
    {
        readonly List<byte> _bytes = new();
        public override void WriteByte(byte value) => _bytes.Add(value);
        public byte[] ToArray() => _bytes.ToArray();
    }
}
