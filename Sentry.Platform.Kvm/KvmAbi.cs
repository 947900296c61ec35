using System.Runtime.InteropServices;

namespace Sentry.Platform.Kvm;

/// <summary>
/// The KVM ioctl interface (linux/kvm.h, x86-64): request numbers, exit reasons and the structures
/// Sentry exchanges with the kernel, laid out as the C headers lay them out. KvmAbiTests compares the
/// numbers and offsets with a gcc-compiled probe.
/// </summary>
internal static class KvmAbi
{
    public const uint KVM_GET_API_VERSION = 0xAE00, KVM_CREATE_VM = 0xAE01, KVM_CHECK_EXTENSION = 0xAE03,
        KVM_GET_VCPU_MMAP_SIZE = 0xAE04, KVM_GET_SUPPORTED_CPUID = 0xC008AE05, KVM_CREATE_VCPU = 0xAE41,
        KVM_SET_USER_MEMORY_REGION = 0x4020AE46, KVM_RUN = 0xAE80, KVM_GET_REGS = 0x8090AE81,
        KVM_SET_REGS = 0x4090AE82, KVM_GET_SREGS = 0x8138AE83, KVM_SET_SREGS = 0x4138AE84,
        KVM_SET_MSRS = 0x4008AE89, KVM_SET_CPUID2 = 0x4008AE90, KVM_GET_XSAVE = 0x9000AEA4,
        KVM_SET_XSAVE = 0x5000AEA5, KVM_SET_XCRS = 0x4188AEA7;

    public const int KVM_API_VERSION = 12;
    public const int KVM_CAP_NR_MEMSLOTS = 10, KVM_CAP_XSAVE = 55, KVM_CAP_XCRS = 56, KVM_CAP_MAX_VCPUS = 66,
        KVM_CAP_SYNC_REGS = 74, KVM_CAP_IMMEDIATE_EXIT = 136;

    public const uint KVM_EXIT_IO = 2, KVM_EXIT_HLT = 5, KVM_EXIT_MMIO = 6, KVM_EXIT_SHUTDOWN = 8,
        KVM_EXIT_FAIL_ENTRY = 9, KVM_EXIT_INTR = 10, KVM_EXIT_INTERNAL_ERROR = 17;

    public const ulong KVM_SYNC_X86_REGS = 1, KVM_SYNC_X86_SREGS = 2;

    // struct kvm_run offsets.
    public const int RunImmediateExit = 1, RunExitReason = 8, RunExitData = 0x20,
        RunValidRegs = 0x120, RunDirtyRegs = 0x128, RunRegs = 0x130, RunSregs = 0x1c0;
    // The io member of the exit union: direction (u8), size (u8), port (u16), count (u32), data_offset (u64).
    public const int IoPort = RunExitData + 2;

    public const int KvmXsaveSize = 4096;
    public const int CpuidEntrySize = 40;

    public const uint MSR_STAR = 0xC0000081, MSR_LSTAR = 0xC0000082, MSR_SYSCALL_MASK = 0xC0000084;
}

/// <summary>struct kvm_regs.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvmRegs
{
    public ulong rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp, r8, r9, r10, r11, r12, r13, r14, r15, rip, rflags;
}

/// <summary>struct kvm_segment (24 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvmSegment
{
    public ulong Base;
    public uint Limit;
    public ushort Selector;
    public byte Type, Present, Dpl, Db, S, L, G, Avl, Unusable, Padding;
}

/// <summary>struct kvm_dtable.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvmDtable
{
    public ulong Base;
    public ushort Limit;
    public ushort Pad0, Pad1, Pad2;
}

/// <summary>struct kvm_sregs (312 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct KvmSregs
{
    public KvmSegment cs, ds, es, fs, gs, ss, tr, ldt;
    public KvmDtable gdt, idt;
    public ulong cr0, cr2, cr3, cr4, cr8, efer, apic_base;
    public fixed ulong interrupt_bitmap[4];
}

/// <summary>struct kvm_userspace_memory_region.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvmUserspaceMemoryRegion
{
    public uint slot, flags;
    public ulong guest_phys_addr, memory_size, userspace_addr;
}
