using System.Runtime.InteropServices;
using Sentry.Kernel.Abi;
using Sentry.Platform;
using static Sentry.Kernel.Abi.Linux;

namespace Sentry.Kernel.Memory;

/// <summary>
/// One application address space: the VMAs (the truth), the pages that back them (ranges of the
/// MemoryFile, populated on first touch) and the platform address space, which is told about
/// pages lazily when the application faults on them.
/// </summary>
public sealed partial class MemoryManager : IDisposable
{
    const ulong Page = PAGE_SIZE;
    /// <summary>Pages populated around a faulting address (one host mapping call for all).</summary>
    const int FaultAroundPages = 16;

    /// <summary>
    /// A populated page: where it lives in the MemoryFile, whether the platform maps it yet, whether
    /// the frame belongs to a <see cref="SharedMemory"/> rather than to this address space, and
    /// whether it may still be shared with a forked relative (copy-on-write: mapped without write
    /// until a write copies it, or takes it over when the relative has let go), and whether its
    /// frame has been written (file contents, a copy): then the memory file holds the page and the
    /// platform may map it eagerly at no cost in memory, where a frame never written is a hole the
    /// host allocates on first touch.
    /// </summary>
    struct Pte { public long Frame; public bool Mapped; public bool Shared; public bool Cow; public bool Written; }

    /// <summary>Threads sharing the address space (CLONE_VM) call in concurrently: one lock serialises them.</summary>
    readonly object _lock = new();
    readonly List<Vma> _vmas = new();
    readonly Dictionary<ulong, Pte> _pages = new();
    readonly MemoryFile _mem;

    IAddressSpace? _addressSpace;
    int _users = 1;

    /// <summary>The platform address space. A forked copy gets one on its first run, from its own thread.</summary>
    public IAddressSpace AddressSpace => _addressSpace ?? throw new InvalidOperationException("address space not attached");
    public bool HasAddressSpace => _addressSpace != null;
    public void AttachAddressSpace(IAddressSpace aspace) => _addressSpace = aspace;

    /// <summary>
    /// Hands the platform address space over (emptied of every application mapping) so an exec can
    /// reuse it instead of creating a new one; this manager is left without one.
    /// </summary>
    public IAddressSpace? TakeAddressSpace()
    {
        lock (_lock)
        {
            var aspace = _addressSpace;
            if (aspace == null) return null;
            foreach (var kv in _pages)
                if (kv.Value.Mapped) { aspace.Unmap(MinAddress, MaxAddress - MinAddress); break; }
            foreach (var va in _pages.Keys.ToArray())
                CollectionsMarshal.GetValueRefOrNullRef(_pages, va).Mapped = false;
            _addressSpace = null;
            return aspace;
        }
    }
    public ulong MinAddress { get; }
    public ulong MaxAddress { get; }
    /// <summary>Top of the area where mmap places mappings without a hint (grows down).</summary>
    public ulong MmapTop { get; set; }
    public ulong BrkStart { get; private set; }
    public ulong Brk { get; private set; }
    /// <summary>membarrier(2) REGISTER_* commands this address space made (Linux keeps them per mm: fork copies them, exec starts afresh).</summary>
    public int MembarrierRegistrations;

    public MemoryManager(IPlatform platform, IAddressSpace? addressSpace)
        : this(platform.Memory, platform.MinUserAddress, platform.MaxUserAddress & ~(Page - 1))
    {
        _addressSpace = addressSpace;
    }

    MemoryManager(MemoryFile mem, ulong min, ulong max)
    {
        _mem = mem;
        MinAddress = min;
        MaxAddress = max;
        MmapTop = max;
    }

    /// <summary>Another task shares this address space (CLONE_VM).</summary>
    public void AddUser() => Interlocked.Increment(ref _users);

    /// <summary>A task stops using this address space; the last one frees it.</summary>
    public void ReleaseUser()
    {
        if (Interlocked.Decrement(ref _users) == 0) Dispose();
    }

    /// <summary>Number of tasks sharing this address space.</summary>
    public int Users => Volatile.Read(ref _users);

    /// <summary>
    /// fork: a copy of this address space. Private pages are shared copy-on-write: both sides keep
    /// the frame, lose write access to it, and copy it on their first write. Shared anonymous pages
    /// stay shared. The copy has no platform address space yet: the child attaches one from its own
    /// thread.
    /// </summary>
    public MemoryManager Fork()
    {
        lock (_lock)
        {
            // Mark and write-protect first, so no sibling thread of ours can write a frame once the child shares it.
            // Shared mappings of files without a page cache of Sentry's hold private copies of the
            // file's pages, so they fork like private ones; shared memory and tmpfs files stay shared.
            foreach (var va in _pages.Keys)
            {
                ref var pte = ref CollectionsMarshal.GetValueRefOrNullRef(_pages, va);
                if (!pte.Shared) pte.Cow = true;
            }
            foreach (var v in _vmas)
                if (!v.Shared && (v.Prot & PROT_WRITE) != 0) ReprotectMapped(v, v.Start, v.End);
            var child = new MemoryManager(_mem, MinAddress, MaxAddress) { MmapTop = MmapTop, BrkStart = BrkStart, Brk = Brk, Layout = Layout, MembarrierRegistrations = MembarrierRegistrations };
            // mlock does not survive fork (the child's VMAs are unlocked), mlockall(MCL_FUTURE) neither.
            foreach (var v in _vmas)
            {
                var c = v.Clone();
                c.Locked = false;
                child._vmas.Add(c);
                if (v.Shm != null) child.MapsShared(v.Shm);
            }
            child._pages.EnsureCapacity(_pages.Count);
            foreach (var va in _pages.Keys)
            {
                ref var pte = ref CollectionsMarshal.GetValueRefOrNullRef(_pages, va);
                if (!pte.Shared) _mem.IncRef(pte.Frame);
                child._pages[va] = new Pte { Frame = pte.Frame, Shared = pte.Shared, Cow = pte.Cow };
            }
            return child;
        }
    }

    public IReadOnlyList<Vma> Vmas => _vmas;

    public static ulong PageDown(ulong a) => a & ~(Page - 1);
    public static ulong PageUp(ulong a) => (a + Page - 1) & ~(Page - 1);

    /// <summary>The VMA containing <paramref name="addr"/>, or null.</summary>
    public Vma? Find(ulong addr)
    {
        lock (_lock)
        {
            int i = IndexAtOrAfter(addr);
            return i < _vmas.Count && _vmas[i].Start <= addr ? _vmas[i] : null;
        }
    }

    /// <summary>Index of the first VMA whose End is above <paramref name="addr"/>.</summary>
    int IndexAtOrAfter(ulong addr)
    {
        int lo = 0, hi = _vmas.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >> 1;
            if (_vmas[mid].End <= addr) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    /// <summary>Makes sure no VMA straddles <paramref name="addr"/>.</summary>
    void SplitAt(ulong addr)
    {
        int i = IndexAtOrAfter(addr);
        if (i < _vmas.Count && _vmas[i].Start < addr && addr < _vmas[i].End)
            _vmas.Insert(i + 1, _vmas[i].SplitAt(addr));
    }

    void Insert(Vma v)
    {
        int i = IndexAtOrAfter(v.Start);
        _vmas.Insert(i, v);
    }

    bool RangeFree(ulong start, ulong end)
    {
        int i = IndexAtOrAfter(start);
        return i >= _vmas.Count || _vmas[i].Start >= end;
    }

    /// <summary>Finds a free range of <paramref name="length"/> bytes, highest first below MmapTop.</summary>
    public ulong FindGap(ulong length)
    {
        lock (_lock)
        {
            ulong top = MmapTop;
            for (int i = _vmas.Count - 1; i >= -1; i--)
            {
                ulong gapEnd = top;
                ulong gapStart = i >= 0 ? _vmas[i].End : MinAddress;
                if (i >= 0 && _vmas[i].Start >= top) continue;
                if (gapEnd > gapStart && gapEnd - gapStart >= length) return gapEnd - length;
                if (i >= 0) top = Math.Min(top, _vmas[i].Start);
            }
            return 0;
        }
    }

    /// <summary>
    /// mmap(2) after argument validation: places and records a mapping. Returns the address or -errno.
    /// </summary>
    public long Map(ulong addr, ulong length, int prot, int flags, IMappable? file, long offset, string? label = null, bool mayWrite = true)
    {
        lock (_lock)
        {
            length = PageUp(length);
            bool fixedMap = (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) != 0;
            if (fixedMap)
            {
                if (addr < MinAddress || addr + length > MaxAddress || addr + length < addr) return -Errno.ENOMEM;
                if ((flags & MAP_FIXED_NOREPLACE) != 0 && !RangeFree(addr, addr + length)) return -Errno.EEXIST;
                Unmap(addr, length);
            }
            else
            {
                addr = PageDown(addr);
                if (addr == 0 || addr < MinAddress || addr + length > MaxAddress || !RangeFree(addr, addr + length))
                    addr = FindGap(length);
                if (addr == 0) return -Errno.ENOMEM;
            }
            bool shared = (flags & MAP_TYPE) is MAP_SHARED or MAP_SHARED_VALIDATE;
            var v = new Vma
            {
                Start = addr, End = addr + length, Prot = prot & (PROT_READ | PROT_WRITE | PROT_EXEC),
                Shared = shared, File = file, FileOffset = file != null ? offset : 0, Label = label,
                Shm = file != null ? file.SharedPages?.IncRef() : shared ? new SharedMemory(_mem) : null,
                MayWrite = mayWrite, Locked = LockFuture,
            };
            file?.IncRef();
            if (v.CountsAsWritable) v.Shm!.CountWritableMapping(1);
            if (v.Shm != null) MapsShared(v.Shm);
            Insert(v);
            return (long)addr;
        }
    }

    /// <summary>Shared pages this address space has mapped: each knows to reach it when it is cut (<see cref="DropShared"/>).</summary>
    readonly HashSet<SharedMemory> _sharedWith = new();

    void MapsShared(SharedMemory shm)
    {
        if (_sharedWith.Add(shm)) shm.AddMapper(this);
    }

    /// <summary>
    /// Takes the pages of <paramref name="shm"/> at offsets [from, to) out of this address space
    /// (a file truncated or a hole punched under a mapping): the next touch faults and finds the
    /// file's new page, or raises SIGBUS past its end. As on Linux, a truncation also takes a
    /// private mapping's own copies of those pages; a punched hole takes only the pages that
    /// still share <paramref name="cutFrames"/>, the cache's frames.
    /// </summary>
    internal void DropShared(SharedMemory shm, long from, long to, IReadOnlyList<long> cutFrames)
    {
        lock (_lock)
        {
            bool truncation = to == long.MaxValue;
            HashSet<long>? cut = null;
            foreach (var v in _vmas)
            {
                if (v.Shm != shm) continue;
                long a = Math.Max(from, v.FileOffset), b = Math.Min(to, v.FileOffset + (long)v.Length);
                if (a >= b) continue;
                ulong start = v.Start + (ulong)(a - v.FileOffset), end = v.Start + (ulong)(b - v.FileOffset);
                if (v.Shared || truncation) { DropPages(start, end); continue; }
                cut ??= [.. cutFrames];
                foreach (var va in PopulatedIn(start, end).ToArray())
                    if (cut.Contains(_pages[va].Frame)) DropPages(va, va + Page);
            }
        }
    }

    /// <summary>munmap(2) on a validated, page-aligned range. Always succeeds.</summary>
    public long Unmap(ulong addr, ulong length)
    {
        lock (_lock)
        {
            ulong end = addr + PageUp(length);
            SplitAt(addr);
            SplitAt(end);
            int i = IndexAtOrAfter(addr);
            bool any = false;
            while (i < _vmas.Count && _vmas[i].Start < end)
            {
                any = true;
                _vmas[i].Release();
                _vmas.RemoveAt(i);
            }
            if (any) DropPages(addr, end);
            return 0;
        }
    }

    /// <summary>Frees the pages in [start, end) and removes them from the platform address space.</summary>
    void DropPages(ulong start, ulong end)
    {
        bool anyMapped = false;
        if (WalkRange(start, end))
            for (ulong va = start; va < end; va += Page) anyMapped |= FreePage(va); // munmap's usual case: no allocation
        else
            foreach (var va in PopulatedIn(start, end).ToArray()) anyMapped |= FreePage(va);
        if (anyMapped) _addressSpace?.Unmap(start, end - start);
    }

    bool FreePage(ulong va)
    {
        if (!_pages.Remove(va, out var pte)) return false;
        if (!pte.Shared) _mem.Free(pte.Frame);
        return pte.Mapped;
    }

    /// <summary>mprotect(2) on a validated range. Returns 0 or -ENOMEM when part of it is unmapped.</summary>
    public long Protect(ulong addr, ulong length, int prot)
    {
        lock (_lock)
        {
            ulong end = addr + PageUp(length);
            if (!FullyMapped(addr, end)) return -Errno.ENOMEM;
            // A shared mapping that may not write (read-only open, write-sealed file) never gets PROT_WRITE.
            if ((prot & PROT_WRITE) != 0)
                for (int i = IndexAtOrAfter(addr); i < _vmas.Count && _vmas[i].Start < end; i++)
                    if (_vmas[i].Shared && !_vmas[i].MayWrite) return -Errno.EACCES;
            SplitAt(addr);
            SplitAt(end);
            // Pages already mapped in the platform take the new rights now; the rest get them at fault time.
            for (int i = IndexAtOrAfter(addr); i < _vmas.Count && _vmas[i].Start < end; i++)
            {
                _vmas[i].Prot = prot & (PROT_READ | PROT_WRITE | PROT_EXEC);
                ReprotectMapped(_vmas[i], _vmas[i].Start, _vmas[i].End);
            }
            return 0;
        }
    }

    /// <summary>
    /// Gives the platform's mapped pages of <paramref name="v"/> in [start, end) the VMA's current
    /// rights (copy-on-write pages without write). Only mapped runs are changed: a host mprotect
    /// stops at the first hole, and most of a VMA is usually not mapped yet.
    /// </summary>
    void ReprotectMapped(Vma v, ulong start, ulong end)
    {
        if (_addressSpace == null) return;
        ulong runStart = 0, runEnd = 0;
        Protection runProt = 0;
        foreach (var va in PopulatedIn(start, end))
        {
            var pte = _pages[va];
            if (!pte.Mapped) continue;
            var prot = PteProtection(v, pte);
            if (runEnd == va && prot == runProt) { runEnd += Page; continue; }
            if (runEnd > runStart) _addressSpace.Protect(runStart, runEnd - runStart, runProt);
            runStart = va; runEnd = va + Page; runProt = prot;
        }
        if (runEnd > runStart) _addressSpace.Protect(runStart, runEnd - runStart, runProt);
    }

    /// <summary>The populated pages of [start, end), walking whichever is smaller: the range or the page table.</summary>
    IEnumerable<ulong> PopulatedIn(ulong start, ulong end)
    {
        if (!WalkRange(start, end))
        {
            List<ulong>? found = null;
            foreach (var va in _pages.Keys)
                if (va >= start && va < end) (found ??= new()).Add(va);
            return found ?? (IEnumerable<ulong>)Array.Empty<ulong>();
        }
        return RangePages(start, end);
    }

    /// <summary>Whether walking [start, end) page by page is cheaper than scanning the page table.</summary>
    bool WalkRange(ulong start, ulong end) => (end - start) / Page <= (ulong)_pages.Count * 4;

    IEnumerable<ulong> RangePages(ulong start, ulong end)
    {
        for (ulong va = start; va < end; va += Page)
            if (_pages.ContainsKey(va)) yield return va;
    }

    bool FullyMapped(ulong start, ulong end)
    {
        ulong pos = start;
        for (int i = IndexAtOrAfter(start); i < _vmas.Count && pos < end; i++)
        {
            if (_vmas[i].Start > pos) return false;
            pos = _vmas[i].End;
        }
        return pos >= end;
    }

    /// <summary>madvise(2) advice that changes contents: MADV_DONTNEED/FREE/REMOVE drop pages.</summary>
    public long DropRange(ulong addr, ulong length)
    {
        lock (_lock)
        {
            ulong end = addr + PageUp(length);
            if (!FullyMapped(addr, end)) return -Errno.ENOMEM;
            DropPages(addr, end);
            return 0;
        }
    }

    /// <summary>Sets the initial program break (the loader calls this after mapping the executable).</summary>
    public void InitBrk(ulong start)
    {
        lock (_lock)
        {
            BrkStart = Brk = PageUp(start);
        }
    }

    /// <summary>brk(2): returns the new break, or the old one when the request cannot be met.</summary>
    public ulong SetBrk(ulong newBrk)
    {
        lock (_lock)
        {
            if (newBrk < BrkStart) return Brk;
            ulong oldEnd = PageUp(Brk), newEnd = PageUp(newBrk);
            if (newEnd > oldEnd)
            {
                if (!RangeFree(oldEnd, newEnd) || newEnd > MaxAddress) return Brk;
                var heap = oldEnd > BrkStart ? Find(oldEnd - 1) : null;
                if (heap != null && heap.Label == "[heap]" && heap.End == oldEnd) heap.End = newEnd;
                else Insert(new Vma { Start = oldEnd, End = newEnd, Prot = PROT_READ | PROT_WRITE, Label = "[heap]" });
            }
            else if (newEnd < oldEnd)
            {
                Unmap(newEnd, oldEnd - newEnd);
            }
            Brk = newBrk;
            return Brk;
        }
    }

    /// <summary>mremap(2) on validated arguments. Returns the new address or -errno.</summary>
    public long Remap(ulong oldAddr, ulong oldLen, ulong newLen, int flags, ulong newAddr)
    {
        lock (_lock)
        {
            oldLen = PageUp(oldLen); newLen = PageUp(newLen);
            var v = Find(oldAddr);
            if (v == null || oldAddr + oldLen > v.End) return -Errno.EFAULT;
            if ((flags & MREMAP_FIXED) == 0)
            {
                if (newLen <= oldLen)
                {
                    if (newLen < oldLen) Unmap(oldAddr + newLen, oldLen - newLen);
                    return (long)oldAddr;
                }
                // Grow in place when the tail of the VMA is the tail of the range and the space after is free.
                if (oldAddr + oldLen == v.End && v.End + (newLen - oldLen) <= MaxAddress && RangeFree(v.End, v.End + (newLen - oldLen)))
                {
                    v.End += newLen - oldLen;
                    return (long)oldAddr;
                }
                if ((flags & MREMAP_MAYMOVE) == 0) return -Errno.ENOMEM;
                newAddr = FindGap(newLen);
                if (newAddr == 0) return -Errno.ENOMEM;
            }
            else
            {
                if (newAddr < MinAddress || newAddr + newLen > MaxAddress) return -Errno.EINVAL;
                if (newAddr < oldAddr + oldLen && oldAddr < newAddr + newLen) return -Errno.EINVAL;
                Unmap(newAddr, newLen);
            }
            // Move: the new VMA takes the old one's backing; populated pages move by re-keying, no copy.
            SplitAt(oldAddr);
            SplitAt(oldAddr + oldLen);
            var src = Find(oldAddr)!;
            var moved = src.Clone();
            moved.Start = newAddr;
            moved.End = newAddr + newLen;
            ulong keep = Math.Min(oldLen, newLen);
            var movedPages = new List<(ulong, Pte)>();
            bool anyMapped = false;
            for (ulong off = 0; off < keep; off += Page)
            {
                if (_pages.Remove(oldAddr + off, out var pte))
                {
                    anyMapped |= pte.Mapped;
                    pte.Mapped = false;
                    movedPages.Add((newAddr + off, pte));
                }
            }
            if (anyMapped) _addressSpace?.Unmap(oldAddr, oldLen);
            Unmap(oldAddr, oldLen);
            Insert(moved);
            foreach (var (va, pte) in movedPages) _pages[va] = pte;
            return (long)newAddr;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var pte in _pages.Values) if (!pte.Shared) _mem.Free(pte.Frame);
            _pages.Clear();
            foreach (var v in _vmas) v.Release();
            _vmas.Clear();
            foreach (var shm in _sharedWith) shm.Forget(this);
            _sharedWith.Clear();
            _addressSpace?.Dispose();
            _addressSpace = null;
        }
    }
}
