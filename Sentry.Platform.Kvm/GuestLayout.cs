namespace Sentry.Platform.Kvm;

/// <summary>
/// Where things live in the guest. The application owns the whole lower half, as on Linux; the
/// ring-0 side lives in the top 512 GiB (PML4 slot 511), mapped without the user bit in every
/// address space through one shared set of kernel page tables.
/// <code>
///   KernelBase + 0            trampoline code (Trampoline)
///   KernelBase + 0x1000       IDT
///   KernelBase + 0x10_0000    per-vCPU blocks, VcpuStride apart: GDT+TSS, update queue, guard, stack
///   PhysmapBase + gpa         guest-physical pages of the platform's own frames (page tables)
/// </code>
/// Guest-physical addresses are offsets in the MemoryFile.
/// </summary>
internal static class GuestLayout
{
    public const ulong KernelBase = 0xffff_ff80_0000_0000;
    public const ulong CodeVa = KernelBase;
    public const ulong IdtVa = KernelBase + 0x1000;
    public const ulong VcpuAreaVa = KernelBase + 0x10_0000;
    public const ulong VcpuStride = 0x8000;
    public const ulong PhysmapBase = KernelBase + 0x40_0000_0000;

    // Offsets inside one vCPU block.
    public const ulong GdtOffset = 0, TssOffset = 0x800, QueueOffset = 0x1000, StackOffset = 0x3000, StackTopOffset = 0x5000;

    /// <summary>Selectors, as Linux numbers them (the application sees cs 0x33 and ss 0x2b as on Linux).</summary>
    public const ushort KernelCs = 0x10, KernelDs = 0x18, User32Cs = 0x23, UserDs = 0x2b, UserCs = 0x33, TssSelector = 0x40;

    /// <summary>Lowest address the application may map (Linux's default vm.mmap_min_addr).</summary>
    public const ulong MinUserAddress = 0x10000;
    /// <summary>One past the highest user address (Linux's TASK_SIZE with 4-level paging).</summary>
    public const ulong MaxUserAddress = 0x7fff_ffff_f000;

    // Page-table entry bits.
    public const ulong PteP = 1, PteRw = 2, PteUser = 4, PteNx = 1UL << 63;
    /// <summary>Software bit (ignored by the CPU, the entry being not present): a PROT_NONE page that is mapped.</summary>
    public const ulong PteProtNone = 1UL << 9;
    public const ulong PteAddrMask = 0x000f_ffff_ffff_f000;

    /// <summary>Largest number of vCPUs (application threads running at once) this layout has room for.</summary>
    public const int MaxVcpus = 4096;

    public static ulong VcpuBlock(int index) => VcpuAreaVa + (ulong)index * VcpuStride;

    public static bool IsCanonical(ulong va) => va < 0x0000_8000_0000_0000 || va >= 0xffff_8000_0000_0000;
}
