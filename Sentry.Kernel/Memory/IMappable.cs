namespace Sentry.Kernel.Memory;

/// <summary>Something whose contents can back a file mapping: the memory manager reads pages from it on fault.</summary>
public interface IMappable
{
    /// <summary>
    /// Fills <paramref name="pages"/> (whole pages) with the bytes at <paramref name="offset"/>, zero
    /// beyond the end of the file. Returns the number of file bytes copied (0 when the range lies
    /// past the end) or -errno.
    /// </summary>
    long ReadPages(long offset, Span<byte> pages);

    /// <summary>Current size of the file in bytes: pages wholly past it raise SIGBUS when touched.</summary>
    long Size { get; }

    /// <summary>Takes a reference for a VMA that maps this object.</summary>
    void IncRef();
    /// <summary>Drops a VMA's reference.</summary>
    void DecRef();

    /// <summary>Name shown in /proc/self/maps.</summary>
    string MapName { get; }

    /// <summary>
    /// The pages of the file itself when it has a page cache Sentry owns (tmpfs): MAP_SHARED
    /// mappings then map these very frames, so they see write() and each other at once. Null
    /// when a shared mapping can only hold copies of the file's pages.
    /// </summary>
    SharedMemory? SharedPages => null;
}
