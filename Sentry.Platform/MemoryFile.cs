using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Sentry.Platform;

/// <summary>
/// The sandbox's "physical memory": one sparse memfd, mapped once into the Sentry process so the
/// kernel reads and writes application pages as spans. Pages are handed out in runs (so a fault
/// can map several contiguous pages with one host call) and returned with a hole punch so the
/// host frees them.
/// </summary>
public sealed unsafe class MemoryFile : IDisposable
{
    public const int PageSize = 4096;
    public const int PageShift = 12;

    /// <summary>
    /// Address-space-like limit of the file; sparse, so only touched pages cost memory, and a
    /// file's holes take none of it. 128 GiB leaves room for tmpfs mounts whose default limit is
    /// half of RAM each on machines with more RAM than that, and stays within what the KVM
    /// platform maps: it registers the file in slots as they are used, and its ring-0 physmap of
    /// platform frames (taken from the top of the file) has 256 GiB of address space.
    /// </summary>
    public const long DefaultCapacity = 128L << 30;

    readonly object _lock = new();
    readonly Stack<long> _free = new();
    /// <summary>Frames with more than one owner (copy-on-write after fork), by offset: the number of
    /// owners beyond the first. A frame absent here has exactly one owner; most frames never appear.</summary>
    readonly Dictionary<long, int> _extraRefs = new();
    long _next = 0;
    long _top = -1;
    byte* _base;

    public int Fd { get; }
    public long Capacity { get; }

    /// <summary>Creates the memfd and maps it. Throws if the host refuses (out of memory, no memfd).</summary>
    public MemoryFile(long capacity = DefaultCapacity)
    {
        Capacity = capacity;
        byte[] name = "sentry-memory\0"u8.ToArray();
        fixed (byte* n = name) Fd = memfd_create(n, MFD_CLOEXEC);
        if (Fd < 0) throw new InvalidOperationException($"memfd_create failed: errno {errno}");
        if (ftruncate(Fd, capacity) < 0) throw new InvalidOperationException($"ftruncate(memfd) failed: errno {errno}");
        void* p = mmap(null, (size_t)(ulong)capacity, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, Fd, 0);
        if (p == MAP_FAILED) throw new InvalidOperationException($"mmap(memfd) failed: errno {errno}");
        _base = (byte*)p;
    }

    /// <summary>Sentry's view of bytes [offset, offset+length) of the file.</summary>
    public Span<byte> Span(long offset, int length) => new(_base + offset, length);

    /// <summary>
    /// Writes <paramref name="data"/> at <paramref name="offset"/> of the file with pwrite rather than
    /// through Sentry's mapping: a page Sentry never touched then costs no page-table entry here
    /// (on machines with shadow paging a first touch costs as much as a whole host syscall, many times over).
    /// </summary>
    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            int done = 0;
            while (done < data.Length)
            {
                long n = pwrite(Fd, p + done, (size_t)(data.Length - done), offset + done);
                if (n < 0 && errno == EINTR) continue;
                if (n <= 0) throw new InvalidOperationException($"pwrite(memory file) failed: errno {errno}");
                done += (int)n;
            }
        }
    }

    /// <summary>Reads bytes at <paramref name="offset"/> of the file with pread, for the same reason <see cref="Write"/> uses pwrite.</summary>
    public void Read(long offset, Span<byte> data)
    {
        fixed (byte* p = data)
        {
            int done = 0;
            while (done < data.Length)
            {
                long n = pread(Fd, p + done, (size_t)(data.Length - done), offset + done);
                if (n < 0 && errno == EINTR) continue;
                if (n <= 0) throw new InvalidOperationException($"pread(memory file) failed: errno {errno}");
                done += (int)n;
            }
        }
    }

    static readonly byte[] ZeroPage = new byte[PageSize];

    /// <summary>Pointer to byte <paramref name="offset"/> of the file in Sentry's mapping.</summary>
    public byte* Pointer(long offset) => _base + offset;

    /// <summary>
    /// Allocates <paramref name="pages"/> contiguous zero-filled pages and returns the file offset of
    /// the first, or -1 when the file is exhausted. A single page may come from the free list.
    /// </summary>
    public long Allocate(int pages)
    {
        lock (_lock)
        {
            if (pages == 1 && _free.Count > 0) return _free.Pop();
            long size = (long)pages << PageShift;
            if (_next + size > (_top < 0 ? Capacity : _top)) return -1;
            long off = _next;
            _next += size;
            return off;
        }
    }

    /// <summary>
    /// Allocates a run of at most <paramref name="pages"/> contiguous zero-filled pages and sets
    /// <paramref name="pages"/> to how many it gave: the whole run while the file has room past
    /// everything handed out, else one page from the free list. Runs are never carved out of
    /// freed pages, so a sandbox that writes and deletes big files goes on with single pages
    /// once its address range is used up rather than failing. -1 when nothing is left.
    /// </summary>
    public long AllocateRun(ref int pages)
    {
        long run = Allocate(pages);
        if (run >= 0 || pages == 1) return run;
        pages = 1;
        return Allocate(1);
    }

    /// <summary>
    /// Allocates <paramref name="pages"/> contiguous pages from the top of the file, downwards, for a
    /// platform's own structures (page tables, ring-0 code). These never return to the general pool:
    /// a platform whose hypervisor caches what it has seen in a page (shadow paging) must never see
    /// that page reused for something else. Give them back with <see cref="Discard"/>. Returns -1 when
    /// the file is exhausted. The result is aligned to the size when the size is a power of two.
    /// </summary>
    public long AllocateTop(int pages)
    {
        lock (_lock)
        {
            long size = (long)pages << PageShift;
            long top = _top < 0 ? Capacity : _top;
            long off = top - size;
            if ((size & (size - 1)) == 0) off &= ~(size - 1);
            if (off < _next) return -1;
            _top = off;
            return off;
        }
    }

    /// <summary>Returns a page's memory to the host without making its offset reusable (see <see cref="AllocateTop"/>).</summary>
    public void Discard(long offset, long length = PageSize) =>
        fallocate(Fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length);

    /// <summary>Free pages kept committed for reuse; beyond this the host gets them back (hole punch).</summary>
    const int KeepFreePages = 16384; // 64 MiB

    /// <summary>Adds an owner to the page at <paramref name="offset"/> (a forked address space sharing it copy-on-write).</summary>
    public void IncRef(long offset)
    {
        lock (_lock)
        {
            _extraRefs.TryGetValue(offset, out int n);
            _extraRefs[offset] = n + 1;
        }
    }

    /// <summary>Whether the page at <paramref name="offset"/> has more than one owner, so a writer must copy it first.</summary>
    public bool IsShared(long offset)
    {
        lock (_lock) return _extraRefs.ContainsKey(offset);
    }

    /// <summary>
    /// Drops one owner of a page; when it was the last, the page goes back to the allocator and its
    /// contents are discarded (zero when reused). Up to
    /// <see cref="KeepFreePages"/> pages are zeroed and kept for reuse (a fork or exit frees
    /// thousands, one hole-punch syscall each would dominate); past that they go back to the host.
    /// </summary>
    public void Free(long offset)
    {
        bool keep;
        lock (_lock)
        {
            if (_extraRefs.TryGetValue(offset, out int n))
            {
                if (n == 1) _extraRefs.Remove(offset); else _extraRefs[offset] = n - 1;
                return;
            }
            keep = _free.Count < KeepFreePages;
        }
        if (keep) Write(offset, ZeroPage);
        else fallocate(Fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, PageSize);
        lock (_lock) _free.Push(offset);
    }

    /// <summary>Bytes of the file handed out and not freed (a footprint measure).</summary>
    public long AllocatedBytes { get { lock (_lock) return _next - (long)_free.Count * PageSize; } }

    public void Dispose()
    {
        if (_base != null)
        {
            munmap(_base, (size_t)(ulong)Capacity);
            _base = null;
            close(Fd);
        }
    }

    /// <summary>Host calls the memory file makes.</summary>
    public static readonly IReadOnlyList<string> HostSyscalls = ["memfd_create", "ftruncate", "mmap", "munmap", "fallocate", "close"];
}
