using static Sentry.Platform.Kvm.GuestLayout;

namespace Sentry.Platform.Kvm;

/// <summary>
/// An application address space: a 4-level page table in guest-physical memory whose user half
/// maps MemoryFile pages with the user bit, and whose slot 511 is the shared kernel half.
/// <para>
/// Sentry writes an entry itself only when it was not present: the hypervisor never caches an
/// absent translation, so the guest's next access walks the table and finds it. An entry that was
/// present (unmap, mprotect, a copy-on-write break) is changed by ring-0 code through
/// <see cref="KvmMachine.ApplyUpdates"/>: on this VM the host shadows the guest's page tables and
/// only notices writes the guest itself makes (measured: a host-side change stays invisible even
/// across a CR3 reload or invlpg). The update is in effect for every vCPU when the call returns.
/// </para>
/// <para>
/// Tables are freed only with the address space, and their frames are never reused (see
/// <see cref="GuestMemory"/>), so no stale shadow of them can ever be reached again.
/// </para>
/// </summary>
internal sealed unsafe class KvmAddressSpace : IAddressSpace
{
    readonly KvmMachine _machine;

    /// <summary>Every vCPU is a thread of Sentry's process: an expedited barrier of that process IPIs each one running guest code.</summary>
    public void Barrier() => HostMembarrier.SentryExpedited();

    readonly GuestMemory _mem;
    readonly object _lock = new();
    readonly List<long> _tables = new();
    readonly List<ulong> _updates = new();
    bool _disposed;

    /// <summary>Guest-physical address of the PML4 (what CR3 holds while this address space runs).</summary>
    public long Pml4 { get; }

    public KvmAddressSpace(KvmMachine machine)
    {
        _machine = machine;
        _mem = machine.Memory;
        Pml4 = machine.NewPml4();
        _tables.Add(Pml4);
    }

    /// <summary>
    /// A leaf for <paramref name="fileOffset"/> with <paramref name="prot"/>. PROT_NONE keeps the
    /// frame in a non-present entry marked <see cref="PteProtNone"/> (as Linux's _PAGE_PROTNONE):
    /// the page stays mapped for the memory manager, so a later Protect must find it and give it
    /// its new rights; a plain absent entry would be skipped and the page would fault forever.
    /// </summary>
    static ulong Leaf(long fileOffset, Protection prot)
    {
        if (prot == Protection.None) return (ulong)fileOffset | PteProtNone;
        ulong e = (ulong)fileOffset | PteP | PteUser;
        if ((prot & Protection.Write) != 0) e |= PteRw;
        if ((prot & Protection.Execute) == 0) e |= PteNx;
        return e;
    }

    public long MapFile(ulong va, ulong length, long fileOffset, Protection prot, bool written = false)
    {
        _mem.EnsureRegistered(fileOffset, (long)length);
        lock (_lock)
        {
            for (ulong off = 0; off < length;)
            {
                ulong* pt = Table(va + off, create: true);
                int first = Index(va + off, 1);
                int n = (int)Math.Min((ulong)(512 - first), (length - off) >> 12);
                for (int i = 0; i < n; i++)
                    Set(pt + first + i, Leaf(fileOffset + (long)off + ((long)i << 12), prot));
                off += (ulong)n << 12;
            }
            Flush();
        }
        return 0;
    }

    public long Unmap(ulong va, ulong length)
    {
        lock (_lock)
        {
            ForEachMapped(va, length, unmap: true, Protection.None);
            Flush();
        }
        return 0;
    }

    public long Protect(ulong va, ulong length, Protection prot)
    {
        lock (_lock)
        {
            ForEachMapped(va, length, unmap: false, prot);
            Flush();
        }
        return 0;
    }

    /// <summary>Clears (<paramref name="unmap"/>) or gives <paramref name="prot"/> to each mapped leaf (present,
    /// or PROT_NONE) in [va, va+length). Absent tables are skipped whole (an unmap of a large
    /// reservation touches only what was mapped).</summary>
    void ForEachMapped(ulong va, ulong length, bool unmap, Protection prot)
    {
        ulong end = va + length;
        for (ulong a = va; a < end;)
        {
            ulong* pt = Table(a, create: false, out ulong span);
            if (pt == null)
            {
                a = (a & ~(span - 1)) + span; // past the absent table's whole range
                continue;
            }
            int first = Index(a, 1);
            int n = (int)Math.Min((ulong)(512 - first), (end - a) >> 12);
            for (int i = 0; i < n; i++)
            {
                ulong e = pt[first + i];
                if ((e & (PteP | PteProtNone)) != 0) Set(pt + first + i, unmap ? 0 : Leaf((long)(e & PteAddrMask), prot));
            }
            a += (ulong)n << 12;
        }
    }

    /// <summary>Writes a leaf: directly when it was absent, through the guest when it was present.</summary>
    void Set(ulong* entry, ulong value)
    {
        ulong old = *entry;
        if (old == value) return;
        if ((old & PteP) == 0)
        {
            *entry = value;
            return;
        }
        long gpa = EntryGpa(entry);
        _updates.Add(GuestMemory.Physmap(gpa));
        _updates.Add(value);
    }

    long EntryGpa(ulong* entry) => (long)((byte*)entry - _mem.Host(0));

    void Flush()
    {
        if (_updates.Count == 0) return;
        _machine.ApplyUpdates(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_updates));
        _updates.Clear();
    }

    static int Index(ulong va, int level) => (int)((va >> (12 + 9 * (level - 1))) & 511);

    /// <summary>The page table (level 1) covering <paramref name="va"/>, created if asked, else null when absent.</summary>
    ulong* Table(ulong va, bool create) => Table(va, create, out _);

    /// <summary>As <see cref="Table(ulong, bool)"/>; when the result is null, <paramref name="span"/> is the
    /// size of the address range the missing entry would have covered (2 MiB, 1 GiB or 512 GiB).</summary>
    ulong* Table(ulong va, bool create, out ulong span)
    {
        long table = Pml4;
        for (int level = 4; level > 1; level--)
        {
            ulong* e = (ulong*)_mem.Host(table) + Index(va, level);
            if ((*e & PteP) == 0)
            {
                if (!create)
                {
                    span = 1UL << (12 + 9 * (level - 1));
                    return null;
                }
                long next = _mem.AllocateFrame();
                _tables.Add(next);
                *e = (ulong)next | PteP | PteRw | PteUser; // an absent entry: written by the host (see class comment)
            }
            table = (long)(*e & PteAddrMask);
        }
        span = 0;
        return (ulong*)_mem.Host(table);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (long t in _tables) _mem.FreeFrame(t);
            _tables.Clear();
        }
    }
}
