using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;
using static Sentry.Platform.Systrap.Layout;

namespace Sentry.Platform.Systrap;

/// <summary>
/// The systrap stub's whole program, a tiny static ELF assembled with Iced at first use. Started
/// with execve of a memfd (no fork of .NET), it unmaps everything but itself, maps the shared
/// region, installs its signal handlers and the seccomp filter Sentry wrote into the header, and
/// becomes the control thread: it serves requests on slot 1 (host calls that change the address
/// space, creating a stub thread, exiting). Each stub thread runs application code; every trap
/// (SIGSYS from the filter, a fault, the kick signal) enters <c>handler</c> on the thread's own
/// signal stack inside its slot, which posts the event and waits for Sentry's command. Sentry reads
/// and writes the registers directly in the signal frame; the handler returns through rt_sigreturn.
/// </summary>
internal static class StubCode
{
    internal readonly record struct Assembled(byte[] Elf, ulong Handler, ulong Restorer, ulong TrapLoop);

    const ulong CodeOffset = 0x100;
    public const uint CloneFlags = 0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x40000 | 0x200000 | 0x1000000; // VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|CHILD_CLEARTID|CHILD_SETTID

    /// <summary>Signals the stub handles: SIGSYS, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP and the kick.</summary>
    public static readonly int[] HandledSignals = [31, 11, 7, 8, 4, 5, KickSignal];

    static readonly Lazy<Assembled> s_image = new(Assemble);
    public static Assembled Image => s_image.Value;

    static Assembled Assemble()
    {
        var a = new Assembler(64);
        var fail = a.CreateLabel();
        var mapped = a.CreateLabel();
        var control = a.CreateLabel();
        var notOps = a.CreateLabel(); var notClone = a.CreateLabel();
        var child = a.CreateLabel();
        var postWait = a.CreateLabel();
        var doOps = a.CreateLabel();
        var handler = a.CreateLabel();
        var restorer = a.CreateLabel();
        var trapLoop = a.CreateLabel();
        const ulong Header = SharedBase;

        // ---- start-up (main thread) -----------------------------------------------------
        // munmap(0, CodeBase) and above us: the host's stack, vDSO and vvar must not sit in the application's range.
        a.mov(eax, 11); a.xor(edi, edi); a.mov(rsi, CodeBase); a.syscall();
        a.mov(eax, 11); a.mov(rdi, CodeBase + Layout.CodeSize); a.mov(rsi, TaskSize - CodeBase - Layout.CodeSize); a.syscall();
        // mmap(SharedBase, SharedSize, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_FIXED, SharedFd, 0)
        a.mov(eax, 9); a.mov(rdi, SharedBase); a.mov(rsi, SharedSize); a.mov(edx, 3); a.mov(r10d, 0x11);
        a.mov(r8d, SharedFd); a.xor(r9d, r9d); a.syscall();
        a.cmp(rax, rdi);
        a.je(mapped);
        a.mov(eax, 231); a.mov(edi, 2); a.syscall(); // exit_group(2): Sentry sees the process die
        a.Label(ref mapped);
        a.mov(r12, Header + SlotSize * ControlSlot);
        a.mov(rsp, Header + SlotSize * (ControlSlot + 1));
        // close_range(0, MemoryFd - 1, 0); close_range(MemoryFd + 1, ~0U, 0): only the memory file stays.
        a.mov(eax, 436); a.xor(edi, edi); a.mov(esi, MemoryFd - 1); a.xor(edx, edx); a.syscall();
        a.mov(eax, 436); a.mov(edi, MemoryFd + 1); a.mov(esi, uint.MaxValue); a.xor(edx, edx); a.syscall();
        // prctl(PR_SET_PDEATHSIG, SIGKILL): the stub never outlives Sentry's spawner thread.
        a.mov(eax, 157); a.mov(edi, 1); a.mov(esi, 9); a.syscall();
        // rt_sigaction(sig, &header.SigAction, NULL, 8) for every handled signal.
        foreach (int sig in HandledSignals)
        {
            a.mov(eax, 13); a.mov(edi, sig); a.mov(rsi, Header + SigAction); a.xor(edx, edx); a.mov(r10d, 8); a.syscall();
            a.test(rax, rax); a.jnz(fail);
        }
        // prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); seccomp(SECCOMP_SET_MODE_FILTER, 0, &header.Fprog)
        a.mov(eax, 157); a.mov(edi, 38); a.mov(esi, 1); a.xor(edx, edx); a.xor(r10d, r10d); a.xor(r8d, r8d); a.syscall();
        a.test(rax, rax); a.jnz(fail);
        a.mov(eax, 317); a.mov(edi, 1); a.xor(esi, esi); a.mov(rdx, Header + Fprog); a.syscall();
        a.test(rax, rax); a.jnz(fail);
        // mprotect(Header, SlotSize, PROT_READ): nothing in the stub writes the header again.
        a.mov(eax, 10); a.mov(rdi, Header); a.mov(esi, (int)SlotSize); a.mov(edx, 1); a.syscall();
        a.test(rax, rax); a.jnz(fail);

        // ---- control loop (slot 1) ------------------------------------------------------
        a.Label(ref control);
        a.call(postWait);
        a.mov(eax, __dword_ptr[r12 + Command]);
        a.cmp(eax, CmdOps); a.jne(notOps);
        a.call(doOps); a.jmp(control);
        a.Label(ref notOps);
        a.cmp(eax, CmdClone); a.jne(notClone);
        // clone(CloneFlags, slot + SlotSize, NULL, &slot.Tid, 0): the child starts on its slot's stack.
        a.mov(rbx, __qword_ptr[r12 + CloneSlot]);
        a.mov(edi, CloneFlags); a.lea(rsi, __qword_ptr[rbx + (int)SlotSize]); a.xor(edx, edx);
        a.lea(r10, __qword_ptr[rbx + Tid]); a.xor(r8d, r8d); a.mov(eax, 56); a.syscall();
        a.test(rax, rax); a.jz(child);
        a.mov(__qword_ptr[r12 + CloneResult], rax);
        a.jmp(control);
        a.Label(ref notClone);
        a.cmp(eax, CmdExit); a.jne(control);
        a.mov(eax, 231); a.xor(edi, edi); a.syscall();

        a.Label(ref fail);
        a.mov(__dword_ptr[r12 + SetupError], eax);
        a.call(postWait);
        a.mov(eax, 231); a.mov(edi, 1); a.syscall();

        // ---- a new stub thread ----------------------------------------------------------
        // rbx = its slot. sigaltstack({slot + StackOffset, 0, SlotSize - StackOffset}), then trap:
        // the handler posts the first event and Sentry answers it with the application's registers.
        a.Label(ref child);
        a.sub(rsp, 32);
        a.lea(rax, __qword_ptr[rbx + StackOffset]); a.mov(__qword_ptr[rsp], rax);
        a.mov(__qword_ptr[rsp + 8], 0); a.mov(__qword_ptr[rsp + 16], (int)(SlotSize - StackOffset));
        a.mov(rdi, rsp); a.xor(esi, esi); a.mov(eax, 131); a.syscall();
        a.int3();
        a.mov(eax, 60); a.xor(edi, edi); a.syscall();

        // ---- post the event on slot r12 and wait for Sentry's command ---------------------
        var wait = a.CreateLabel(); var spin = a.CreateLabel(); var sleep = a.CreateLabel();
        var woke = a.CreateLabel(); var done = a.CreateLabel();
        a.Label(ref postWait);
        a.mov(eax, Posted); a.xchg(__dword_ptr[r12 + State], eax);
        a.cmp(__dword_ptr[r12 + SentryWaiting], 0); a.je(wait);
        a.lea(rdi, __qword_ptr[r12 + State]); a.mov(esi, 1 /* FUTEX_WAKE */); a.mov(edx, 1); a.mov(eax, 202); a.syscall();
        a.Label(ref wait);
        a.mov(ecx, __dword_ptr[r12 + Spin]);
        a.Label(ref spin);
        a.cmp(__dword_ptr[r12 + State], Commanded); a.je(done);
        a.pause();
        a.dec(ecx); a.jg(spin);
        a.Label(ref sleep);
        a.mov(eax, 1); a.xchg(__dword_ptr[r12 + StubWaiting], eax);
        a.cmp(__dword_ptr[r12 + State], Commanded); a.je(woke);
        a.lea(rdi, __qword_ptr[r12 + State]); a.xor(esi, esi /* FUTEX_WAIT */); a.mov(edx, Posted); a.xor(r10d, r10d);
        a.mov(eax, 202); a.syscall();
        a.jmp(sleep);
        a.Label(ref woke);
        a.mov(__dword_ptr[r12 + StubWaiting], 0);
        a.Label(ref done);
        a.ret();

        // ---- run the queued host calls of slot r12 ----------------------------------------
        var opLoop = a.CreateLabel(); var opEnd = a.CreateLabel(); var opCountOk = a.CreateLabel();
        a.Label(ref doOps);
        a.mov(r14d, __dword_ptr[r12 + OpCount]);
        a.cmp(r14d, MaxOps); a.jbe(opCountOk); a.mov(r14d, MaxOps);
        a.Label(ref opCountOk);
        a.lea(r13, __qword_ptr[r12 + Ops]);
        a.Label(ref opLoop);
        a.test(r14d, r14d); a.jz(opEnd);
        a.mov(rax, __qword_ptr[r13]); a.mov(rdi, __qword_ptr[r13 + 8]); a.mov(rsi, __qword_ptr[r13 + 16]);
        a.mov(rdx, __qword_ptr[r13 + 24]); a.mov(r10, __qword_ptr[r13 + 32]); a.mov(r8, __qword_ptr[r13 + 40]);
        a.mov(r9, __qword_ptr[r13 + 48]);
        a.syscall();
        a.mov(__qword_ptr[r13 + 56], rax);
        a.add(r13, OpSize); a.dec(r14d); a.jmp(opLoop);
        a.Label(ref opEnd);
        a.mov(__dword_ptr[r12 + OpCount], 0);
        a.ret();

        // ---- the signal handler: rdi = signal, rsi = siginfo, rdx = ucontext -------------
        var noFs = a.CreateLabel(); var again = a.CreateLabel(); var notHOps = a.CreateLabel(); var resume = a.CreateLabel();
        var fsOk = a.CreateLabel(); var fsSlow = a.CreateLabel(); var gsOk = a.CreateLabel(); var gsSlow = a.CreateLabel();
        a.Label(ref handler);
        a.mov(r12, rsp); a.and(r12, -(int)SlotSize);
        a.mov(__qword_ptr[r12 + Ucontext], rdx); a.mov(__qword_ptr[r12 + Siginfo], rsi); a.mov(__dword_ptr[r12 + Signo], edi);
        a.mov(rax, Header); a.cmp(__dword_ptr[rax + HasFsgsbase], 0); a.je(noFs);
        a.rdfsbase(rcx); a.mov(__qword_ptr[r12 + FsHave], rcx);
        a.rdgsbase(rcx); a.mov(__qword_ptr[r12 + GsHave], rcx);
        a.Label(ref noFs);
        a.nop(); // one label per instruction
        a.Label(ref again);
        a.call(postWait);
        a.mov(eax, __dword_ptr[r12 + Command]);
        a.cmp(eax, CmdOps); a.jne(notHOps);
        a.call(doOps); a.jmp(again);
        a.Label(ref notHOps);
        a.cmp(eax, CmdExit); a.jne(resume);
        a.mov(eax, 60); a.xor(edi, edi); a.syscall(); // exit(0): this thread only; the host clears slot.Tid
        a.Label(ref resume);
        a.call(doOps); // address-space changes queued with the answer
        a.mov(rax, __qword_ptr[r12 + FsWant]); a.cmp(rax, __qword_ptr[r12 + FsHave]); a.je(fsOk);
        a.mov(__qword_ptr[r12 + FsHave], rax);
        a.mov(rcx, Header); a.cmp(__dword_ptr[rcx + HasFsgsbase], 0); a.je(fsSlow);
        a.wrfsbase(rax); a.jmp(fsOk);
        a.Label(ref fsSlow);
        a.mov(rsi, rax); a.mov(edi, 0x1002 /* ARCH_SET_FS */); a.mov(eax, 158); a.syscall();
        a.Label(ref fsOk);
        a.mov(rax, __qword_ptr[r12 + GsWant]); a.cmp(rax, __qword_ptr[r12 + GsHave]); a.je(gsOk);
        a.mov(__qword_ptr[r12 + GsHave], rax);
        a.mov(rcx, Header); a.cmp(__dword_ptr[rcx + HasFsgsbase], 0); a.je(gsSlow);
        a.wrgsbase(rax); a.jmp(gsOk);
        a.Label(ref gsSlow);
        a.mov(rsi, rax); a.mov(edi, 0x1001 /* ARCH_SET_GS */); a.mov(eax, 158); a.syscall();
        a.Label(ref gsOk);
        a.mov(__dword_ptr[r12 + State], Running);
        a.ret();

        a.Label(ref restorer);
        a.mov(eax, 15); a.syscall(); // rt_sigreturn
        a.ud2();

        // The trap floor: an endless loop of getppid, every one trapped (the benchmark's SIGSYS round trip).
        a.Label(ref trapLoop);
        a.mov(eax, 110); a.syscall(); a.jmp(trapLoop);

        var writer = new CodeWriterImpl();
        var result = a.Assemble(writer, CodeBase + CodeOffset, BlockEncoderOptions.ReturnNewInstructionOffsets);
        byte[] code = writer.ToArray();
        if ((ulong)code.Length + CodeOffset > Layout.CodeSize) throw new InvalidOperationException("systrap stub code too large");

        byte[] elf = new byte[(int)CodeOffset + code.Length];
        var w = new BinaryWriter(new MemoryStream(elf));
        w.Write([0x7f, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0]); w.Write(0UL);
        w.Write((ushort)2 /* ET_EXEC */); w.Write((ushort)62 /* EM_X86_64 */); w.Write(1u);
        w.Write(CodeBase + CodeOffset); /* e_entry */ w.Write(64UL); /* e_phoff */ w.Write(0UL); /* e_shoff */
        w.Write(0u); w.Write((ushort)64); w.Write((ushort)56); w.Write((ushort)1); w.Write((ushort)64); w.Write((ushort)0); w.Write((ushort)0);
        // One PT_LOAD, R+X, covering the file.
        w.Write(1u); w.Write(5u); w.Write(0UL); w.Write(CodeBase); w.Write(CodeBase);
        w.Write((ulong)elf.Length); w.Write((ulong)elf.Length); w.Write(0x1000UL);
        code.CopyTo(elf, (int)CodeOffset);
        return new Assembled(elf, result.GetLabelRIP(handler), result.GetLabelRIP(restorer), result.GetLabelRIP(trapLoop));
    }

    sealed class CodeWriterImpl : CodeWriter
    {
        readonly List<byte> _bytes = new();
        public override void WriteByte(byte value) => _bytes.Add(value);
        public byte[] ToArray() => _bytes.ToArray();
    }
}
