using System.Runtime.InteropServices;
using Sentry.Kernel.Abi;
using Sentry.Platform;
using static Sentry.Kernel.Abi.Linux;

namespace Sentry.Kernel.Memory;

// Page faults from the platform and the kernel's own reads and writes of application memory.
public sealed partial class MemoryManager
{
    /// <summary>HandleFault's answer for a fault on a page that is already mapped.</summary>
    public const int Spurious = -1;

    /// <summary>
    /// Resolves a fault at <paramref name="addr"/>: populates and maps the page and its neighbours.
    /// Returns 0 when the application may retry, <see cref="Spurious"/> when the page was already
    /// mapped, else the signal Linux would send (SIGSEGV, SIGBUS).
    /// </summary>
    public int HandleFault(ulong addr, AccessType access)
    {
        lock (_lock)
        {
            var v = Find(addr);
            if (v == null || v.Prot == 0) return SIGSEGV;
            if ((access & AccessType.Write) != 0 && (v.Prot & PROT_WRITE) == 0) return SIGSEGV;
            if ((access & AccessType.Execute) != 0 && (v.Prot & PROT_EXEC) == 0) return SIGSEGV;
            ulong page = PageDown(addr);
            // A write (or, on ptrace, an access of unknown kind) to a writable area is what ends
            // copy-on-write sharing of the faulting page. Only a private page of a file that may
            // change waits for a known write: copied at a read, it would miss the file's changes;
            // a write then faults again, as a write.
            bool mayWrite = (v.Prot & PROT_WRITE) != 0 && (access & (AccessType.Write | AccessType.Unknown)) != 0;
            bool firstTouchWrites = (access & AccessType.Write) != 0 || (mayWrite && !v.PrivateOfChangingFile);
            if (_pages.TryGetValue(page, out var pte) && pte.Mapped)
            {
                if (pte.Cow && mayWrite)
                    return BreakCow(page) < 0 ? SIGBUS : MapOne(v, page);
                // Already mapped with the VMA's rights: another thread mapped it while this fault was in
                // flight (or an mprotect raced it). The page is mapped again for this thread: on systrap
                // the other thread's mapping may still wait in its own queue, to run when it resumes,
                // which under load can take longer than three retries (the JVM's G1 died of that). The
                // caller retries; repeated faults mean a real violation.
                MapOne(v, page);
                return Spurious;
            }
            ulong limit = FileLimit(v);
            if (page >= limit) return SIGBUS;

            const ulong block = FaultAroundPages * Page;
            ulong ws = Math.Max(v.Start, page & ~(block - 1));
            ulong we = Math.Min(Math.Min(v.End, limit), ws + block);
            if (Populate(v, ws, we) < 0) return SIGBUS;
            // The faulting page is copied now rather than mapped read-only and faulted on again: a
            // copy is far cheaper than a second trip through the platform. Its neighbours stay shared.
            if (firstTouchWrites && _pages[page].Cow && BreakCow(page) < 0) return SIGBUS;
            MapPopulated(v, ws, we);
            return 0;
        }
    }

    /// <summary>
    /// Ends copy-on-write sharing of the populated page at <paramref name="va"/>: copies the frame
    /// when a relative still holds it, else takes it over. A platform mapping of the page is left
    /// pointing at the old frame and marked unmapped; the caller maps it again. Returns 0 or -ENOMEM.
    /// </summary>
    int BreakCow(ulong va)
    {
        ref var pte = ref CollectionsMarshal.GetValueRefOrNullRef(_pages, va);
        if (_mem.IsShared(pte.Frame))
        {
            long f = _mem.Allocate(1);
            if (f < 0) return -Errno.ENOMEM;
            _mem.Span(pte.Frame, PAGE_SIZE).CopyTo(_mem.Span(f, PAGE_SIZE));
            _mem.Free(pte.Frame);
            pte.Frame = f;
            pte.Written = true;
        }
        pte.Cow = false;
        pte.Mapped = false;
        return 0;
    }

    /// <summary>Maps the one populated page at <paramref name="va"/> with its VMA's rights (replacing an older mapping). Returns 0.</summary>
    int MapOne(Vma v, ulong va)
    {
        ref var pte = ref CollectionsMarshal.GetValueRefOrNullRef(_pages, va);
        if (AddressSpace.MapFile(va, Page, pte.Frame, PteProtection(v, pte), pte.Written) == 0) pte.Mapped = true;
        return 0;
    }

    /// <summary>Rights a page is mapped with: its VMA's, without write while it is copy-on-write.</summary>
    static Protection PteProtection(Vma v, in Pte pte) => (Protection)((pte.Cow ? v.Prot & ~PROT_WRITE : v.Prot) & 7);

    /// <summary>End of the pages of <paramref name="v"/> that have file data behind them (VMA end for anonymous memory).</summary>
    static ulong FileLimit(Vma v)
    {
        if (v.File == null) return v.End;
        long size = v.File.Size;
        long pagesPastOffset = (long)PageUp((ulong)Math.Max(0, size)) - v.FileOffset;
        if (pagesPastOffset <= 0) return v.Start;
        ulong lim = v.Start + (ulong)pagesPastOffset;
        return lim < v.Start || lim > v.End ? v.End : lim;
    }

    /// <summary>Gives every page of [start, end) in <paramref name="v"/> a frame; runs of new pages get contiguous frames.</summary>
    long Populate(Vma v, ulong start, ulong end)
    {
        ulong va = start;
        while (va < end)
        {
            if (_pages.ContainsKey(va)) { va += Page; continue; }
            ulong runEnd = va + Page;
            while (runEnd < end && !_pages.ContainsKey(runEnd)) runEnd += Page;
            int n = (int)((runEnd - va) / Page);
            long fileOffset = v.FileOffset + (long)(va - v.Start);
            // A writable private mapping of the unchanging lower layer (.data) is written soon: it
            // gets its own copies at once, read straight from the file, below.
            if (v.Shm != null && (v.Shared || (v.Prot & PROT_WRITE) == 0 || v.PrivateOfChangingFile))
            {
                // The pages themselves: a file's cache reads missing ones from the file (one read
                // for the run), shared memory and tmpfs make them zeroed. A shared mapping maps
                // them directly; a private one copy-on-write, so it sees the file change until it
                // writes (code and read-only data share one copy between all processes).
                long r = v.Shm.Fill(fileOffset, n);
                if (r < 0) return r;
                for (int k = 0; k < n; k++)
                {
                    long sf = v.Shm.FrameAt(fileOffset + (long)k * PAGE_SIZE);
                    if (sf < 0) return -Errno.ENOMEM;
                    if (!v.Shared) _mem.IncRef(sf);
                    _pages[va + (ulong)k * Page] = v.Shared
                        ? new Pte { Frame = sf, Shared = true, Written = v.Shm.Source != null }
                        : new Pte { Frame = sf, Cow = true, Written = true };
                }
                va = runEnd;
                continue;
            }
            long frame = _mem.AllocateRun(ref n);
            if (frame < 0) return -Errno.ENOMEM;
            if (v.File != null)
            {
                long r = ReadFilePages(v, va, frame, n);
                if (r < 0) { for (int j = 0; j < n; j++) _mem.Free(frame + (long)j * PAGE_SIZE); return r; }
            }
            for (int k = 0; k < n; k++)
                _pages[va + (ulong)k * Page] = new Pte { Frame = frame + (long)k * PAGE_SIZE, Written = v.File != null };
            va += (ulong)n * Page; // the whole run, or less when the memory file gave fewer pages
        }
        return 0;
    }

    /// <summary>File bytes are staged here on their way to the MemoryFile (one fault-around block).</summary>
    [ThreadStatic] static byte[]? t_fileBounce;

    /// <summary>Copies the file contents behind <paramref name="n"/> pages of <paramref name="v"/> from <paramref name="va"/> into the frames from <paramref name="frame"/>. Returns 0 or -errno.</summary>
    long ReadFilePages(Vma v, ulong va, long frame, int n)
    {
        var bounce = t_fileBounce ??= new byte[FaultAroundPages * PAGE_SIZE];
        for (int done = 0; done < n;)
        {
            int chunk = Math.Min(n - done, FaultAroundPages);
            var span = bounce.AsSpan(0, chunk * PAGE_SIZE);
            long r = v.File!.ReadPages(v.FileOffset + (long)(va - v.Start) + (long)done * PAGE_SIZE, span);
            if (r < 0) return r;
            _mem.Write(frame + (long)done * PAGE_SIZE, span);
            done += chunk;
        }
        return 0;
    }

    /// <summary>Maps the populated, not yet mapped pages of [start, end) into the platform, coalescing contiguous frames.</summary>
    void MapPopulated(Vma v, ulong start, ulong end)
    {
        ulong va = start;
        while (va < end)
        {
            if (!_pages.TryGetValue(va, out var first) || first.Mapped) { va += Page; continue; }
            ulong runEnd = va + Page;
            long nextFrame = first.Frame + PAGE_SIZE;
            while (runEnd < end && _pages.TryGetValue(runEnd, out var p) && !p.Mapped && p.Frame == nextFrame && p.Cow == first.Cow && p.Written == first.Written)
            {
                runEnd += Page;
                nextFrame += PAGE_SIZE;
            }
            long r = AddressSpace.MapFile(va, runEnd - va, first.Frame, PteProtection(v, first), first.Written);
            if (r == 0)
                for (ulong a = va; a < runEnd; a += Page)
                {
                    CollectionsMarshal.GetValueRefOrNullRef(_pages, a).Mapped = true;
                }
            va = runEnd;
        }
    }

    /// <summary>
    /// The MemoryFile offset of the page at <paramref name="va"/>, populating it if needed (without
    /// telling the platform). Returns -EFAULT when the application could not make that access itself.
    /// </summary>
    long FrameFor(ulong va, bool write, bool force)
    {
        ulong page = PageDown(va);
        var v = Find(va);
        if (!_pages.TryGetValue(page, out var pte))
        {
            if (v == null) return -Errno.EFAULT;
            if (!force && (v.Prot == 0 || (write && (v.Prot & PROT_WRITE) == 0))) return -Errno.EFAULT;
            if (page >= FileLimit(v)) return -Errno.EFAULT;
            if (Populate(v, page, page + Page) < 0) return -Errno.EFAULT;
            pte = _pages[page];
        }
        else if (!force && (v == null || v.Prot == 0 || (write && (v.Prot & PROT_WRITE) == 0))) return -Errno.EFAULT;
        if (write && pte.Cow)
        {
            // Sentry writes into the application's own copy, never into one a relative still shares.
            bool wasMapped = pte.Mapped;
            if (BreakCow(page) < 0) return -Errno.EFAULT;
            if (wasMapped && v != null && _addressSpace != null) MapOne(v, page);
            pte = _pages[page];
        }
        return pte.Frame;
    }

    bool RangeOk(ulong addr, ulong len) => addr + len >= addr && addr + len <= MaxAddress;

    /// <summary>Copies application memory at <paramref name="addr"/> into <paramref name="dst"/>. Returns 0 or -EFAULT.</summary>
    public int CopyIn(ulong addr, Span<byte> dst)
    {
        lock (_lock)
        {
            if (!RangeOk(addr, (ulong)dst.Length)) return -Errno.EFAULT;
            while (dst.Length > 0)
            {
                long f = FrameFor(addr, false, false);
                if (f < 0) return -Errno.EFAULT;
                int off = (int)(addr & (Page - 1));
                int n = Math.Min(dst.Length, PAGE_SIZE - off);
                _mem.Span(f + off, n).CopyTo(dst);
                dst = dst[n..];
                addr += (ulong)n;
            }
            return 0;
        }
    }

    /// <summary>Copies <paramref name="src"/> to application memory. Returns 0 or -EFAULT.
    /// <paramref name="force"/> ignores protections (the loader zeroing a segment tail).</summary>
    public int CopyOut(ulong addr, ReadOnlySpan<byte> src, bool force = false)
    {
        lock (_lock)
        {
            if (!RangeOk(addr, (ulong)src.Length)) return -Errno.EFAULT;
            while (src.Length > 0)
            {
                long f = FrameFor(addr, true, force);
                if (f < 0) return -Errno.EFAULT;
                int off = (int)(addr & (Page - 1));
                int n = Math.Min(src.Length, PAGE_SIZE - off);
                src[..n].CopyTo(_mem.Span(f + off, n));
                src = src[n..];
                addr += (ulong)n;
            }
            return 0;
        }
    }

    /// <summary>Checks that [addr, addr+len) could be written by the application, without populating pages.</summary>
    public bool IsWritable(ulong addr, ulong len)
    {
        lock (_lock)
        {
            if (len == 0) return true;
            if (!RangeOk(addr, len)) return false;
            ulong end = addr + len;
            ulong pos = addr;
            for (int i = IndexAtOrAfter(addr); i < _vmas.Count && pos < end; i++)
            {
                if (_vmas[i].Start > pos || (_vmas[i].Prot & PROT_WRITE) == 0) return false;
                pos = _vmas[i].End;
            }
            return pos >= end;
        }
    }

    /// <summary>Reads a NUL-terminated string of at most <paramref name="max"/> bytes (incl. NUL).
    /// Returns -EFAULT, -ENAMETOOLONG (when <paramref name="max"/> is exceeded) or the length, with the bytes in <paramref name="buffer"/>.</summary>
    public int ReadCString(ulong addr, Span<byte> buffer)
    {
        lock (_lock)
        {
            int len = 0;
            while (len < buffer.Length)
            {
                if (!RangeOk(addr, 1)) return -Errno.EFAULT;
                long f = FrameFor(addr, false, false);
                if (f < 0) return -Errno.EFAULT;
                int off = (int)(addr & (Page - 1));
                int n = Math.Min(buffer.Length - len, PAGE_SIZE - off);
                var chunk = _mem.Span(f + off, n);
                int nul = chunk.IndexOf((byte)0);
                if (nul >= 0)
                {
                    chunk[..nul].CopyTo(buffer[len..]);
                    return len + nul;
                }
                chunk.CopyTo(buffer[len..]);
                len += n;
                addr += (ulong)n;
            }
            return -Errno.ENAMETOOLONG;
        }
    }

    /// <summary>Reads a little-endian value of type T from application memory.</summary>
    public int Read<T>(ulong addr, out T value) where T : unmanaged
    {
        value = default;
        var span = System.Runtime.InteropServices.MemoryMarshal.AsBytes(new Span<T>(ref value));
        return CopyIn(addr, span);
    }

    /// <summary>Writes a value of type T to application memory.</summary>
    public int Write<T>(ulong addr, in T value) where T : unmanaged
    {
        var copy = value;
        var span = System.Runtime.InteropServices.MemoryMarshal.AsBytes(new Span<T>(ref copy));
        return CopyOut(addr, span);
    }
}
