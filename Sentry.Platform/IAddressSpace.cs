namespace Sentry.Platform;

/// <summary>
/// An application address space as the platform sees it: a set of page ranges, each backed by
/// a range of the <see cref="MemoryFile"/>. The memory manager owns the truth (VMAs); it calls
/// these methods lazily, on fault, so an address space normally holds a subset of the VMAs.
/// Methods are called only from the thread that runs contexts in this address space.
/// </summary>
public interface IAddressSpace : IDisposable
{
    /// <summary>
    /// Maps <paramref name="length"/> bytes at <paramref name="va"/> to the MemoryFile range
    /// starting at <paramref name="fileOffset"/> with <paramref name="prot"/>, replacing any earlier
    /// mapping of that range. Preconditions: va, length and fileOffset are page aligned, the range
    /// lies within [<see cref="IPlatform.MinUserAddress"/>, <see cref="IPlatform.MaxUserAddress"/>).
    /// Returns 0 or a negative errno (e.g. -ENOMEM when the host refuses).
    /// <paramref name="written"/> says every page of the range holds data in the MemoryFile, so
    /// the platform may fill its page tables now (saving a host fault per page on first touch)
    /// without making the host allocate memory the application may never touch.
    /// </summary>
    long MapFile(ulong va, ulong length, long fileOffset, Protection prot, bool written = false);

    /// <summary>Removes any mapping of [va, va+length). Same alignment rules. Returns 0 or -errno.</summary>
    long Unmap(ulong va, ulong length);

    /// <summary>Changes the protection of mapped pages in [va, va+length). Returns 0 or -errno.</summary>
    long Protect(ulong va, ulong length, Protection prot);

    /// <summary>
    /// membarrier(2) for the application: returns once every thread that runs application code in
    /// this address space has executed a full memory barrier and a core-serialising instruction
    /// (as an IPI makes it). Threads stopped in Sentry need nothing: their way back to application
    /// code passes one. The default, a host MEMBARRIER_CMD_GLOBAL, reaches every CPU of the host and is
    /// right for any platform, but costs milliseconds; platforms do better where they can.
    /// </summary>
    void Barrier() => HostMembarrier.Global();
}
