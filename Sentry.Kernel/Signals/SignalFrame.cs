using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;
using Sentry.Platform;

namespace Sentry.Kernel.Signals;

/// <summary>
/// The x86-64 rt_sigframe a handler runs on: return address (sa_restorer), ucontext (with the
/// interrupted registers in a struct sigcontext and the old mask), siginfo, and the FXSAVE image
/// the sigcontext's fpstate points at. rt_sigreturn reads it back.
/// </summary>
public static class SignalFrame
{
    // struct ucontext: uc_flags, uc_link, uc_stack (24), uc_mcontext (sigcontext, 256), uc_sigmask (8).
    const int UcFlags = 0, UcLink = 8, UcStack = 16, UcMcontext = 40, UcSigmask = 296, UcSize = 304;
    // Frame: pretcode (8) + ucontext + siginfo.
    const int FramePretcode = 0, FrameUc = 8, FrameInfo = FrameUc + UcSize, FrameSize = FrameInfo + 128;
    const int FpSize = CpuState.FxsaveSize;
    const ulong UC_SIGCONTEXT_SS = 2, UC_STRICT_RESTORE_SS = 4;
    const int SS_ONSTACK = 1, SS_DISABLE = 2;
    const int RedZone = 128;

    /// <summary>
    /// Pushes a frame for <paramref name="info"/> and points the registers at the handler.
    /// Returns false when the frame cannot be written (the caller then kills with SIGSEGV).
    /// </summary>
    public static bool Push(Task task, in SignalState.Action act, in SigInfo info, ulong oldMask)
    {
        var cpu = task.Cpu;
        task.Context.LoadFpState(cpu);
        ref var r = ref cpu.Regs;
        var ss = task.Signals;
        bool onAlt = ss.AltStackSize != 0 && r.rsp > ss.AltStackSp && r.rsp <= ss.AltStackSp + ss.AltStackSize;
        ulong sp;
        if ((act.Flags & SignalState.SA_ONSTACK) != 0 && ss.AltStackSize != 0 && !onAlt && ss.AltStackFlags != SS_DISABLE)
            sp = ss.AltStackSp + ss.AltStackSize;
        else
            sp = r.rsp - RedZone;
        ulong fpAddr = (sp - FpSize) & ~63UL;
        ulong frame = ((fpAddr - FrameSize) & ~15UL) - 8;

        Span<byte> buf = stackalloc byte[FrameSize];
        buf.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(buf[FramePretcode..], act.Restorer);
        var uc = buf[FrameUc..];
        BinaryPrimitives.WriteUInt64LittleEndian(uc[UcFlags..], UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS);
        BinaryPrimitives.WriteUInt64LittleEndian(uc[UcStack..], ss.AltStackSp);
        BinaryPrimitives.WriteInt32LittleEndian(uc[(UcStack + 8)..], ss.AltStackSize == 0 ? SS_DISABLE : onAlt ? SS_ONSTACK : ss.AltStackFlags);
        BinaryPrimitives.WriteUInt64LittleEndian(uc[(UcStack + 16)..], ss.AltStackSize);
        WriteSigcontext(uc.Slice(UcMcontext, 256), r, fpAddr, oldMask, info);
        BinaryPrimitives.WriteUInt64LittleEndian(uc[UcSigmask..], oldMask);
        MemoryMarshal.Write(buf[FrameInfo..], info);

        if (task.Mm.CopyOut(fpAddr, cpu.Fp) < 0 || task.Mm.CopyOut(frame, buf) < 0) return false;

        r.rsp = frame;
        r.rip = act.Handler;
        r.rdi = (ulong)info.si_signo;
        r.rsi = frame + FrameInfo;
        r.rdx = frame + FrameUc;
        r.rax = 0;
        r.eflags &= ~(0x100UL | 0x400UL); // TF and DF clear in the handler, as the ABI requires
        if ((act.Flags & SignalState.SA_ONSTACK) != 0 && ss.AltStackFlags == unchecked((int)0x80000000)) // SS_AUTODISARM
        {
            ss.AltStackSp = 0; ss.AltStackSize = 0; ss.AltStackFlags = SS_DISABLE;
        }
        return true;
    }

    static ulong Gp(ReadOnlySpan<byte> sc, int i) => BinaryPrimitives.ReadUInt64LittleEndian(sc[(i * 8)..]);

    static void WriteSigcontext(Span<byte> sc, in UserRegs r, ulong fpAddr, ulong oldMask, in SigInfo info)
    {
        ulong[] gp = [r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rdi, r.rsi, r.rbp, r.rbx, r.rdx, r.rax, r.rcx, r.rsp, r.rip, r.eflags];
        for (int i = 0; i < gp.Length; i++) BinaryPrimitives.WriteUInt64LittleEndian(sc[(i * 8)..], gp[i]);
        // cs, gs, fs, ss as four u16 at offset 144.
        BinaryPrimitives.WriteUInt16LittleEndian(sc[144..], (ushort)r.cs);
        BinaryPrimitives.WriteUInt16LittleEndian(sc[150..], (ushort)r.ss);
        BinaryPrimitives.WriteUInt64LittleEndian(sc[152..], 0);                 // err
        BinaryPrimitives.WriteUInt64LittleEndian(sc[160..], info.si_signo == Linux.SIGSEGV ? 14UL : 0); // trapno
        BinaryPrimitives.WriteUInt64LittleEndian(sc[168..], oldMask);
        BinaryPrimitives.WriteUInt64LittleEndian(sc[176..], info.si_signo is Linux.SIGSEGV or Linux.SIGBUS ? info.si_addr : 0); // cr2
        BinaryPrimitives.WriteUInt64LittleEndian(sc[184..], fpAddr);
    }

    /// <summary>
    /// rt_sigreturn: restores registers, FPU state, mask and alternate stack from the frame the
    /// handler returned through. Returns false when the frame is unreadable (SIGSEGV follows).
    /// </summary>
    public static bool Restore(Task task)
    {
        var cpu = task.Cpu;
        ref var r = ref cpu.Regs;
        ulong frame = r.rsp - 8; // the handler's ret popped pretcode
        Span<byte> buf = stackalloc byte[FrameSize];
        if (task.Mm.CopyIn(frame, buf) < 0) return false;
        var uc = buf[FrameUc..];
        var sc = uc.Slice(UcMcontext, 256);
        r.r8 = Gp(sc, 0); r.r9 = Gp(sc, 1); r.r10 = Gp(sc, 2); r.r11 = Gp(sc, 3); r.r12 = Gp(sc, 4); r.r13 = Gp(sc, 5);
        r.r14 = Gp(sc, 6); r.r15 = Gp(sc, 7); r.rdi = Gp(sc, 8); r.rsi = Gp(sc, 9); r.rbp = Gp(sc, 10); r.rbx = Gp(sc, 11);
        r.rdx = Gp(sc, 12); r.rax = Gp(sc, 13); r.rcx = Gp(sc, 14); r.rsp = Gp(sc, 15); r.rip = Gp(sc, 16);
        // Only the flags user code may change come from the frame (FIX_EFLAGS); TF included.
        const ulong FixEflags = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x400 | 0x800 | 0x40000 | 0x10000;
        r.eflags = (r.eflags & ~FixEflags) | (Gp(sc, 17) & FixEflags);
        r.cs = 0x33; r.ss = 0x2b;
        r.orig_rax = ulong.MaxValue; // no syscall restart after sigreturn
        ulong fp = BinaryPrimitives.ReadUInt64LittleEndian(sc[184..]);
        if (fp != 0)
        {
            if (task.Mm.CopyIn(fp, cpu.Fp) < 0) return false;
            // MXCSR reserved bits set would make the restore fault on the host: clear them like Linux.
            uint mxcsr = BinaryPrimitives.ReadUInt32LittleEndian(cpu.Fp.AsSpan(24));
            BinaryPrimitives.WriteUInt32LittleEndian(cpu.Fp.AsSpan(24), mxcsr & 0xffff);
            cpu.FpDirty = true;
        }
        ulong mask = BinaryPrimitives.ReadUInt64LittleEndian(uc[UcSigmask..]);
        task.Signals.Mask = mask & ~SignalState.Unblockable;
        // uc_stack: restore the alternate stack setting as sigaltstack would.
        ulong ssSp = BinaryPrimitives.ReadUInt64LittleEndian(uc[UcStack..]);
        int ssFlags = BinaryPrimitives.ReadInt32LittleEndian(uc[(UcStack + 8)..]);
        ulong ssSize = BinaryPrimitives.ReadUInt64LittleEndian(uc[(UcStack + 16)..]);
        if ((ssFlags & SS_DISABLE) != 0) { task.Signals.AltStackSp = 0; task.Signals.AltStackSize = 0; task.Signals.AltStackFlags = SS_DISABLE; }
        else if (ssSize >= 2048) { task.Signals.AltStackSp = ssSp; task.Signals.AltStackSize = ssSize; task.Signals.AltStackFlags = ssFlags & unchecked((int)0x80000000); }
        return true;
    }
}
