using static Sentry.Platform.Kvm.GuestLayout;

namespace Sentry.Platform.Kvm;

/// <summary>
/// Guest-physical memory of one VM: the MemoryFile, registered with KVM in fixed-size slots as it is
/// used (one slot for the whole 128 GiB file would make KVM allocate and zero its per-page metadata,
/// ~250 ms and ~160 MiB here), plus the platform's own frames (page tables, ring-0 code and data).
/// <para>
/// Platform frames come from the top of the file (<see cref="MemoryFile.AllocateTop"/>) and their
/// guest-physical address is never reused once freed. On hypervisors that shadow the guest's page
/// tables (this VM's nested KVM does) the host caches what it once read from a page-table page; a
/// recycled page-table frame could bring stale translations back. Each 2 MiB chunk of them is
/// mapped at <see cref="GuestLayout.PhysmapBase"/> + gpa so ring-0 code can write page tables itself.
/// </para>
/// </summary>
internal sealed unsafe class GuestMemory
{
    const int ChunkPages = 512; // 2 MiB

    readonly int _vmFd;
    readonly long _slotSize;
    readonly bool[] _slots;
    readonly object _lock = new();
    long _chunk = -1, _chunkUsed = ChunkPages;

    public MemoryFile File { get; }

    /// <summary>Guest-physical address of the PDPT that every address space's PML4 slot 511 points to.</summary>
    public long KernelPdpt { get; }

    public GuestMemory(int vmFd, MemoryFile file, int maxSlots)
    {
        _vmFd = vmFd;
        File = file;
        // Slots of at least 256 MiB, fewer than the host allows.
        long size = 256L << 20;
        while (file.Capacity / size > maxSlots - 16) size <<= 1;
        _slotSize = size;
        _slots = new bool[(file.Capacity + size - 1) / size];
        lock (_lock)
        {
            long chunk = TakeChunk();
            KernelPdpt = chunk + MemoryFile.PageSize; // frame 0 maps the chunk, frame 1 is the PDPT
            _chunkUsed = 2;
            InstallPhysmap(chunk);
        }
    }

    /// <summary>Host pointer to guest-physical <paramref name="gpa"/>.</summary>
    public byte* Host(long gpa) => File.Pointer(gpa);

    /// <summary>Makes [gpa, gpa+length) visible to the guest. Idempotent and cheap when already done.</summary>
    public void EnsureRegistered(long gpa, long length)
    {
        long first = gpa / _slotSize, last = (gpa + length - 1) / _slotSize;
        for (long i = first; i <= last; i++)
        {
            if (Volatile.Read(ref _slots[i])) continue;
            lock (_lock)
            {
                if (_slots[i]) continue;
                long start = i * _slotSize;
                var region = new KvmUserspaceMemoryRegion
                {
                    slot = (uint)i,
                    guest_phys_addr = (ulong)start,
                    memory_size = (ulong)Math.Min(_slotSize, File.Capacity - start),
                    userspace_addr = (ulong)File.Pointer(start),
                };
                Kvm.Check(Kvm.Ioctl(_vmFd, KvmAbi.KVM_SET_USER_MEMORY_REGION, ref region), "KVM_SET_USER_MEMORY_REGION");
                Volatile.Write(ref _slots[i], true);
            }
        }
    }

    /// <summary>
    /// A zeroed 4 KiB platform frame, registered with KVM and reachable by ring 0 at
    /// <see cref="Physmap"/>. Throws when the memory file is exhausted.
    /// </summary>
    public long AllocateFrame()
    {
        lock (_lock) return AllocateFrameLocked();
    }

    /// <summary>Gives a platform frame's memory back to the host; its address is never handed out again.</summary>
    public void FreeFrame(long gpa) => File.Discard(gpa);

    /// <summary>The ring-0 address of a platform frame.</summary>
    public static ulong Physmap(long gpa) => PhysmapBase + (ulong)gpa;

    /// <summary>Takes a new 2 MiB chunk of platform frames; its first frame is the kernel page table
    /// that maps the chunk into the physmap. Caller holds the lock.</summary>
    long TakeChunk()
    {
        long chunk = File.AllocateTop(ChunkPages);
        if (chunk < 0) throw new OutOfMemoryException("the sandbox memory file is exhausted (platform frames)");
        EnsureRegistered(chunk, (long)ChunkPages << MemoryFile.PageShift);
        ulong* pte = (ulong*)Host(chunk);
        for (int i = 0; i < ChunkPages; i++)
            pte[i] = (ulong)(chunk + ((long)i << MemoryFile.PageShift)) | PteP | PteRw | PteNx;
        _chunk = chunk;
        _chunkUsed = 1;
        return chunk;
    }

    /// <summary>Points the physmap's PD entry for <paramref name="chunk"/> at the chunk's own page table.</summary>
    void InstallPhysmap(long chunk)
    {
        ulong* pde = KernelEntry(Physmap(chunk), level: 2);
        *pde = (ulong)chunk | PteP | PteRw;
    }

    void NewChunk() => InstallPhysmap(TakeChunk());

    /// <summary>Maps one 4 KiB kernel page (supervisor only). Kernel mappings are only ever added.</summary>
    public void MapKernelPage(ulong va, long gpa, bool writable, bool executable)
    {
        lock (_lock)
        {
            ulong* pte = KernelEntry(va, level: 1);
            *pte = (ulong)gpa | PteP | (writable ? PteRw : 0) | (executable ? 0 : PteNx);
        }
    }

    /// <summary>The kernel table entry for <paramref name="va"/> at <paramref name="level"/> (1 = PTE,
    /// 2 = PDE), creating the tables above it. Caller holds the lock.</summary>
    ulong* KernelEntry(ulong va, int level)
    {
        long table = KernelPdpt;
        for (int l = 3; l > level; l--)
        {
            ulong* e = (ulong*)Host(table) + ((va >> (12 + 9 * (l - 1))) & 511);
            if ((*e & PteP) == 0)
            {
                long next = AllocateFrameLocked();
                *e = (ulong)next | PteP | PteRw;
            }
            table = (long)(*e & PteAddrMask);
        }
        return (ulong*)Host(table) + ((va >> (12 + 9 * (level - 1))) & 511);
    }

    long AllocateFrameLocked()
    {
        if (_chunkUsed == ChunkPages) NewChunk();
        return _chunk + ((long)_chunkUsed++ << MemoryFile.PageShift);
    }
}
