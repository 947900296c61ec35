namespace Sentry.Kernel.Memory;

/// <summary>Where pages come from when a page cache fills itself.</summary>
public interface IPageSource
{
    /// <summary>
    /// Fills <paramref name="pages"/> (whole pages) with the bytes at <paramref name="offset"/>, zero
    /// beyond the end of the file. Returns the number of file bytes copied (0 when the range lies
    /// past the end) or -errno.
    /// </summary>
    long ReadPages(long offset, Span<byte> pages);
}

/// <summary>A file behind a page cache that fills itself from it and writes stores back to it (a host file of a volume).</summary>
public interface IBackingFile : IPageSource
{
    /// <summary>Writes <paramref name="data"/> at <paramref name="offset"/> of the file: 0 or -errno.</summary>
    long WritePages(long offset, ReadOnlySpan<byte> data);
    /// <summary>The file's size now.</summary>
    long Size { get; }
}

/// <summary>Something whose contents can back a file mapping: the memory manager reads pages from it on fault.</summary>
public interface IMappable : IPageSource
{
    /// <summary>Current size of the file in bytes: pages wholly past it raise SIGBUS when touched.</summary>
    long Size { get; }

    /// <summary>Takes a reference for a VMA that maps this object.</summary>
    void IncRef();
    /// <summary>Drops a VMA's reference.</summary>
    void DecRef();

    /// <summary>Name shown in /proc/self/maps.</summary>
    string MapName { get; }

    /// <summary>
    /// The page cache MAP_SHARED mappings map, so they see write() and each other at once: a tmpfs
    /// file's own pages, the read-only lower layer's cache, or a writable volume file's cache that
    /// writes back to the host. Null when a shared mapping can only hold copies of the file's pages.
    /// </summary>
    SharedMemory? SharedPages => null;

    /// <summary>
    /// The page cache of a file nobody changes while the sandbox runs (the root's read-only lower
    /// layer): private mappings map its frames copy-on-write instead of copying every page, so the
    /// pages of a library are read from the host once and shared by every process that maps it.
    /// </summary>
    SharedMemory? ReadOnlyCache => null;

    /// <summary>
    /// Whether a MAP_SHARED mapping may be writable. Without a page cache that writes back, a shared
    /// mapping holds copies, which is sound only while nobody writes through it: such a file says
    /// false, and mmap answers ENODEV rather than drop the stores.
    /// </summary>
    bool SharedWritable => true;

    /// <summary>
    /// A memfd or tmpfs file sealed with F_SEAL_WRITE or F_SEAL_FUTURE_WRITE: a writable MAP_SHARED
    /// mapping is refused (EPERM) and a read-only one may never become writable (mprotect: EACCES).
    /// </summary>
    bool SealedAgainstWrite => false;
}
