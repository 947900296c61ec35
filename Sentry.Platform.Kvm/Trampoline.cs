using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Sentry.Platform.Kvm;

/// <summary>
/// The ring-0 code page, assembled with Iced. It does almost nothing by design: every way into
/// ring 0 ends in an <c>out</c> to a port that names the reason, which makes KVM_RUN return to
/// Sentry with the application's registers in kvm_run (KVM_CAP_SYNC_REGS); Sentry then points rip
/// at <see cref="Iret"/> with an interrupt frame it wrote itself to go back to the application.
/// <list type="bullet">
/// <item><see cref="Lstar"/>: MSR_LSTAR. On hardware KVM, <c>syscall</c> arrives here in ring 0 and exits
/// with <see cref="SyscallPort"/>. Some nested hypervisors (this VM's) jump to LSTAR without leaving
/// ring 3; the page is supervisor-only, so that becomes a #PF at exactly this address, which
/// Sentry recognises as the same syscall.</item>
/// <item>Vector stubs, one per exception (32): push a zero error code where the CPU pushes none, so
/// every frame has the same shape, and exit with <see cref="VectorPortBase"/> + vector.</item>
/// <item><see cref="Apply"/>: writes rcx (address, value) pairs from [rsi] and exits with
/// <see cref="ApplyPort"/>. Page-table entries that were present are changed this way, by the guest,
/// because a shadow-paging hypervisor only notices writes the guest makes (see KvmAddressSpace).</item>
/// <item><see cref="FloorLoop"/>: exits forever with <see cref="FloorPort"/>; the raw exit floor benchmark.</item>
/// </list>
/// </summary>
internal static class Trampoline
{
    public const ushort SyscallPort = 0x10, VectorPortBase = 0x20, ApplyPort = 0x40, FloorPort = 0x41;

    public const ulong Lstar = GuestLayout.CodeVa + 0x000;
    public const ulong Iret = GuestLayout.CodeVa + 0x010;
    public const ulong Apply = GuestLayout.CodeVa + 0x020;
    public const ulong FloorLoop = GuestLayout.CodeVa + 0x060;
    public const ulong VectorStubs = GuestLayout.CodeVa + 0x100;
    public const int VectorStubSize = 16;

    /// <summary>Vectors for which the CPU pushes an error code (#DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP, #VC, #SX).</summary>
    static bool HasErrorCode(int vector) => vector is 8 or 10 or 11 or 12 or 13 or 14 or 17 or 21 or 29 or 30;

    /// <summary>The code page's bytes (4 KiB).</summary>
    public static byte[] Assemble()
    {
        var page = new byte[MemoryFile.PageSize];
        Place(page, Lstar, a =>
        {
            var again = a.CreateLabel();
            a.Label(ref again);
            a.@out((byte)SyscallPort, al);
            a.hlt();
            a.jmp(again);
        });
        Place(page, Iret, a => a.iretq());
        Place(page, Apply, a =>
        {
            var loop = a.CreateLabel();
            var done = a.CreateLabel();
            a.test(rcx, rcx);
            a.jz(done);
            a.Label(ref loop);
            a.mov(rax, __qword_ptr[rsi]);
            a.mov(rdx, __qword_ptr[rsi + 8]);
            a.mov(__qword_ptr[rax], rdx);
            a.add(rsi, 16);
            a.dec(rcx);
            a.jnz(loop);
            a.Label(ref done);
            a.@out((byte)ApplyPort, al);
            a.hlt();
        });
        Place(page, FloorLoop, a =>
        {
            var loop = a.CreateLabel();
            a.Label(ref loop);
            a.@out((byte)FloorPort, al);
            a.jmp(loop);
        });
        for (int v = 0; v < 32; v++)
        {
            int vector = v;
            Place(page, VectorStubs + (ulong)(v * VectorStubSize), a =>
            {
                if (!HasErrorCode(vector)) a.push(0);
                a.@out((byte)(VectorPortBase + vector), al);
                a.hlt();
            });
        }
        return page;
    }

    static void Place(byte[] page, ulong va, Action<Assembler> body)
    {
        var a = new Assembler(64);
        body(a);
        var writer = new ArrayWriter();
        a.Assemble(writer, va);
        var bytes = writer.ToArray();
        bytes.CopyTo(page, (int)(va - GuestLayout.CodeVa));
    }

    sealed class ArrayWriter : CodeWriter
    {
        readonly List<byte> _bytes = new();
        public override void WriteByte(byte value) => _bytes.Add(value);
        public byte[] ToArray() => _bytes.ToArray();
    }
}
