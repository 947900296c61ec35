using System.Buffers;
using Sentry.Kernel.Abi;
using Sentry.Platform;

namespace Sentry.Kernel.Memory;

/// <summary>
/// Pages that several address spaces map at once: the data of a tmpfs file (its page cache: the
/// file is nothing but these pages) or a MAP_SHARED|MAP_ANONYMOUS region. Owned here, not by any
/// address space, so a MAP_SHARED mapping, read() and write() and forked children all see the
/// same bytes. Frames live in the <see cref="MemoryFile"/>; a page never written or faulted has
/// none and reads as zeros. Reference counted: the file (or the first mapping) holds one, every
/// VMA one more.
/// </summary>
public sealed class SharedMemory
{
    const int Page = MemoryFile.PageSize;

    readonly MemoryFile _mem;
    /// <summary>Frame of each page that has one, by page-aligned offset.</summary>
    readonly Dictionary<long, long> _frames = new();
    /// <summary>Address spaces that have (or had) a VMA on these pages: the ones a truncation must reach.</summary>
    readonly HashSet<MemoryManager> _mappers = new();
    int _refs = 1;
    /// <summary>VMAs that map these pages MAP_SHARED and may write them (Linux's i_mmap_writable): F_SEAL_WRITE waits for none.</summary>
    int _writableMappings;

    public SharedMemory(MemoryFile mem) => _mem = mem;

    /// <summary>
    /// The file these pages cache: a missing page is read from it, never made as zeros. The root's
    /// read-only lower layer gives its file (read-only cache); a volume's file gives an
    /// <see cref="IBackingFile"/>, which <see cref="WriteBack"/> (msync, each unmap, the last
    /// reference) writes the pages back to. Null for tmpfs files and anonymous memory, whose pages
    /// are the data itself, so a page never written reads as zeros.
    /// </summary>
    public IPageSource? Source { get; init; }

    /// <summary>The host file stores are written back to: <see cref="Source"/> when it takes writes.</summary>
    IBackingFile? Backing => Source as IBackingFile;

    /// <summary>
    /// The frame holding byte <paramref name="offset"/> (page aligned), made on first use (zeroed,
    /// or read from <see cref="Source"/>); -1 when out of memory or the read failed. Callers that
    /// need a run of pages call <see cref="Fill(long, int)"/> first, so a cache reads the run at once.
    /// </summary>
    public long FrameAt(long offset)
    {
        lock (_frames)
        {
            if (_frames.TryGetValue(offset, out long f)) return f;
            if (Source != null) return Fill(offset, 1, Source) < 0 ? -1 : _frames[offset];
            f = _mem.Allocate(1);
            if (f >= 0) _frames[offset] = f;
            return f;
        }
    }

    /// <summary>Copies the cached pages' bytes over <paramref name="buffer"/> (file bytes at <paramref name="offset"/>, already read from the file): what reads see while a mapping holds stores not written back.</summary>
    public void OverlayCached(long offset, Span<byte> buffer)
    {
        lock (_frames) CopyOut(offset, buffer, clearHoles: false);
    }

    /// <summary>Copies <paramref name="data"/> into the pages already cached (a write(2) that also went to the file), making none.</summary>
    public void UpdateCached(long offset, ReadOnlySpan<byte> data)
    {
        lock (_frames) CopyIn(offset, data);
    }

    /// <summary>Copies the bytes at <paramref name="offset"/> into <paramref name="buffer"/> a run at a time; pages without a frame are cleared or left (caller holds the lock).</summary>
    void CopyOut(long offset, Span<byte> buffer, bool clearHoles)
    {
        while (buffer.Length > 0)
        {
            int n = Run(offset, buffer.Length, out long frame);
            if (frame >= 0) _mem.Read(frame, buffer[..n]);
            else if (clearHoles) buffer[..n].Clear();
            buffer = buffer[n..];
            offset += n;
        }
    }

    /// <summary>Copies <paramref name="data"/> to <paramref name="offset"/> a run at a time, into the pages that have frames (caller holds the lock).</summary>
    void CopyIn(long offset, ReadOnlySpan<byte> data)
    {
        while (data.Length > 0)
        {
            int n = Run(offset, data.Length, out long frame);
            if (frame >= 0) _mem.Write(frame, data[..n]);
            data = data[n..];
            offset += n;
        }
    }

    /// <summary>Writes every cached page within the file's size back to <see cref="Backing"/>: 0 or the first -errno.</summary>
    public long WriteBack()
    {
        if (Backing == null) return 0;
        lock (_frames)
        {
            if (_frames.Count == 0) return 0;
            long size = Backing.Size, result = 0;
            Span<byte> page = stackalloc byte[Page];
            foreach (var (offset, frame) in _frames)
            {
                if (offset >= size) continue;
                int n = (int)Math.Min(Page, size - offset);
                _mem.Read(frame, page[..n]);
                long r = Backing.WritePages(offset, page[..n]);
                if (r < 0 && result == 0) result = r;
            }
            return result;
        }
    }

    /// <summary>
    /// Gives each page of [offset, offset + pages × 4 KiB) that has no frame one: read from
    /// <see cref="Source"/> for a file's cache (runs of missing pages with one call each), zeroed
    /// otherwise. Returns 0, -ENOMEM or the read's -errno.
    /// </summary>
    public long Fill(long offset, int pages)
    {
        if (Source != null) return Fill(offset, pages, Source);
        lock (_frames) return Populate(offset, (long)pages * Page) ? 0 : -Errno.ENOMEM;
    }

    /// <summary>
    /// Gives each page of [offset, offset + pages × 4 KiB) that has no frame one filled from
    /// <paramref name="source"/> (runs of missing pages are read with one call). Returns 0,
    /// -ENOMEM or the read's -errno.
    /// </summary>
    long Fill(long offset, int pages, IPageSource source)
    {
        lock (_frames)
        {
            long end = offset + (long)pages * Page;
            for (long page = offset; NextMissing(ref page, end, out int n); page += (long)n * Page)
            {
                long frame = _mem.AllocateRun(ref n);
                if (frame < 0) return -Errno.ENOMEM;
                byte[] bounce = ArrayPool<byte>.Shared.Rent(n * Page);
                try
                {
                    var span = bounce.AsSpan(0, n * Page);
                    long r = source.ReadPages(page, span);
                    if (r < 0)
                    {
                        for (int i = 0; i < n; i++) _mem.Free(frame + (long)i * Page);
                        return r;
                    }
                    _mem.Write(frame, span);
                }
                finally { ArrayPool<byte>.Shared.Return(bounce); }
                Adopt(page, n, frame);
            }
            return 0;
        }
    }

    /// <summary>
    /// SEEK_DATA and SEEK_HOLE over these pages, as Linux answers them for tmpfs (a page with a
    /// frame is data, one without is a hole): the first offset at or after <paramref name="from"/>
    /// and before <paramref name="end"/> (the file size) in data (<paramref name="data"/>) or in a
    /// hole; -1 when there is no data there, <paramref name="end"/> when there is no hole.
    /// Costs the smaller of the pages walked and the frames held, so a huge hole is cheap too.
    /// </summary>
    public long Seek(long from, long end, bool data)
    {
        lock (_frames)
        {
            long page = from & ~(long)(Page - 1);
            if (data && (end - page) / Page > _frames.Count)
            {
                long first = -1;
                foreach (long key in _frames.Keys)
                    if (key >= page && key < end && (first < 0 || key < first)) first = key;
                return first < 0 ? -1 : Math.Max(first, from);
            }
            for (; page < end; page += Page)
                if (_frames.ContainsKey(page) == data) return Math.Max(page, from);
            return data ? -1 : end;
        }
    }

    /// <summary>Whether the page at <paramref name="offset"/> (page aligned) holds a frame (mincore).</summary>
    public bool HasFrame(long offset) { lock (_frames) return _frames.ContainsKey(offset); }

    /// <summary>Number of pages that hold a frame.</summary>
    public long Pages { get { lock (_frames) return _frames.Count; } }

    /// <summary>Copies the bytes at <paramref name="offset"/> into <paramref name="buffer"/>; pages without a frame read as zeros.</summary>
    public void Read(long offset, Span<byte> buffer)
    {
        lock (_frames) CopyOut(offset, buffer, clearHoles: true);
    }

    /// <summary>Copies <paramref name="data"/> to <paramref name="offset"/>, giving every page it touches a frame. False when memory ran out (nothing is undone).</summary>
    public bool Write(long offset, ReadOnlySpan<byte> data)
    {
        lock (_frames)
        {
            if (!Populate(offset, data.Length)) return false;
            CopyIn(offset, data);
            return true;
        }
    }

    /// <summary>
    /// The longest stretch from <paramref name="offset"/> (at most <paramref name="length"/> bytes)
    /// that is either contiguous in the memory file, starting at <paramref name="frame"/>, or
    /// without frames (<paramref name="frame"/> = -1): one host call moves it.
    /// </summary>
    int Run(long offset, int length, out long frame)
    {
        long page = offset & ~(long)(Page - 1);
        int inPage = (int)(offset - page);
        frame = _frames.TryGetValue(page, out long f) ? f + inPage : -1;
        int n = Math.Min(length, Page - inPage);
        while (n < length)
        {
            page += Page;
            bool has = _frames.TryGetValue(page, out long next);
            if (frame < 0 ? has : !has || next != frame + n) break;
            n += Math.Min(length - n, Page);
        }
        return n;
    }

    /// <summary>Gives each page of [offset, offset+length) a frame; runs of missing pages get contiguous frames.</summary>
    bool Populate(long offset, long length)
    {
        long end = offset + length;
        for (long page = offset & ~(long)(Page - 1); NextMissing(ref page, end, out int n); page += (long)n * Page)
        {
            long frame = _mem.AllocateRun(ref n);
            if (frame < 0) return false;
            Adopt(page, n, frame);
        }
        return true;
    }

    /// <summary>Moves <paramref name="page"/> to the next page below <paramref name="end"/> without a frame; <paramref name="n"/> is how many follow it without one. False when there is none.</summary>
    bool NextMissing(ref long page, long end, out int n)
    {
        n = 0;
        while (page < end && _frames.ContainsKey(page)) page += Page;
        if (page >= end) return false;
        long runEnd = page + Page;
        while (runEnd < end && !_frames.ContainsKey(runEnd)) runEnd += Page;
        n = (int)((runEnd - page) / Page);
        return true;
    }

    /// <summary>Records <paramref name="n"/> contiguous frames from <paramref name="frame"/> as the pages from <paramref name="page"/>.</summary>
    void Adopt(long page, int n, long frame)
    {
        for (int i = 0; i < n; i++) _frames[page + (long)i * Page] = frame + (long)i * Page;
    }

    /// <summary>
    /// Cuts out the bytes of [from, to) (to = long.MaxValue: everything from <paramref name="from"/>,
    /// a truncation): partial pages at the edges are zeroed in place, whole pages lose their
    /// frames. Call <see cref="Cut.Complete"/> on the result once the file's own lock is released:
    /// it takes the pages out of every address space that maps them, then frees them.
    /// </summary>
    public Cut Remove(long from, long to)
    {
        long firstWhole = (from + Page - 1) & ~(long)(Page - 1);
        long endWhole = to == long.MaxValue ? long.MaxValue : to & ~(long)(Page - 1);
        List<long>? cut = null;
        lock (_frames)
        {
            if (from < firstWhole) ZeroLocked(from, Math.Min(firstWhole, to));
            if (to != long.MaxValue && endWhole >= firstWhole && endWhole < to) ZeroLocked(endWhole, to);
            foreach (var (offset, frame) in _frames)
                if (offset >= firstWhole && offset < endWhole) (cut ??= new()).Add(offset);
            if (cut == null) return default;
            for (int i = 0; i < cut.Count; i++)
            {
                _frames.Remove(cut[i], out long frame);
                cut[i] = frame;
            }
        }
        return new Cut(this, cut, firstWhole, endWhole);
    }

    void ZeroLocked(long from, long to)
    {
        Span<byte> zeros = stackalloc byte[256];
        zeros.Clear();
        for (long o = from; o < to; o += zeros.Length)
            CopyIn(o, zeros[..(int)Math.Min(to - o, zeros.Length)]);
    }

    /// <summary>Pages taken out of a <see cref="SharedMemory"/> whose mappings and frames are yet to go.</summary>
    public readonly struct Cut(SharedMemory owner, List<long> frames, long from, long to)
    {
        /// <summary>Unmaps the pages from every address space that maps them, then frees their frames.</summary>
        public void Complete()
        {
            if (owner == null) return;
            MemoryManager[] mappers;
            lock (owner._mappers) mappers = [.. owner._mappers];
            foreach (var mm in mappers) mm.DropShared(owner, from, to, frames);
            foreach (long f in frames) owner._mem.Free(f);
        }
    }

    /// <summary>Records that <paramref name="mm"/> has a VMA on these pages; it says <see cref="Forget"/> when it goes away.</summary>
    internal void AddMapper(MemoryManager mm) { lock (_mappers) _mappers.Add(mm); }
    internal void Forget(MemoryManager mm) { lock (_mappers) _mappers.Remove(mm); }

    /// <summary>Whether a shared mapping that may write these pages exists (F_ADD_SEALS F_SEAL_WRITE answers EBUSY).</summary>
    public bool HasWritableMappings => Volatile.Read(ref _writableMappings) > 0;

    /// <summary>Counts a shared VMA that may write (+1) or its end (-1).</summary>
    internal void CountWritableMapping(int delta) => Interlocked.Add(ref _writableMappings, delta);

    public SharedMemory IncRef()
    {
        Interlocked.Increment(ref _refs);
        return this;
    }

    public void DecRef()
    {
        if (Interlocked.Decrement(ref _refs) != 0) return;
        WriteBack();
        lock (_frames)
        {
            foreach (var f in _frames.Values) _mem.Free(f);
            _frames.Clear();
        }
    }
}
