namespace Sentry.Kernel.Memory;

/// <summary>
/// A virtual memory area: a page-aligned range with one protection and one backing. Private
/// mappings get their own copy of every page on first touch (file contents or zeros), so writes
/// never reach the backing object; that is copy-on-write with the copy taken eagerly.
/// </summary>
public sealed class Vma
{
    public ulong Start;
    public ulong End;
    /// <summary>PROT_* bits.</summary>
    public int Prot;
    public bool Shared;
    /// <summary>
    /// VM_MAYWRITE: whether mprotect may add PROT_WRITE. A shared file mapping may write only when its
    /// file was open for writing and is not write-sealed; such a mapping counts in its pages'
    /// writable mappings for as long as it exists, whatever its current protection (as Linux counts).
    /// </summary>
    public bool MayWrite = true;
    /// <summary>Backing file, or null for anonymous memory.</summary>
    public IMappable? File;
    /// <summary>File offset of <see cref="Start"/>.</summary>
    public long FileOffset;
    /// <summary>
    /// The pages behind the mapping: for shared anonymous memory its own, for a file its page cache
    /// (a tmpfs file's own pages, the lower layer's read-only cache, a volume file's cache). A
    /// MAP_SHARED mapping maps them directly; a MAP_PRIVATE one maps them copy-on-write, so it sees
    /// write(2) and truncation until it writes a page, as on Linux. Null for private anonymous
    /// memory and for files without a cache (their pages are copied).
    /// </summary>
    public SharedMemory? Shm;
    /// <summary>mlock(2)ed (VM_LOCKED): counted in VmLck and against RLIMIT_MEMLOCK.</summary>
    public bool Locked;
    /// <summary>mbind(2) policy (MPOL_* mode with its flags) and node mask; 0 and 0 is MPOL_DEFAULT.</summary>
    public int PolicyMode;
    public ulong PolicyNodes;
    /// <summary>Label in /proc/self/maps ([heap], [stack]) for anonymous areas.</summary>
    public string? Label;

    public ulong Length => End - Start;

    /// <summary>A shared mapping of a file's pages that may write them.</summary>
    internal bool CountsAsWritable => Shared && MayWrite && File != null && Shm != null;

    /// <summary>
    /// A private mapping of a file that may change under it (tmpfs, a volume): until a page is
    /// written it must keep the cache's frame to see the file's changes. The read-only lower
    /// layer never changes, so its private pages may be copied whenever that is cheaper.
    /// </summary>
    public bool PrivateOfChangingFile => !Shared && Shm != null && File?.ReadOnlyCache == null;

    /// <summary>Drops the VMA's references; a shared mapping's stores reach a volume's host file first (munmap, exit).</summary>
    public void Release()
    {
        if (CountsAsWritable) Shm!.CountWritableMapping(-1);
        if (Shared) Shm?.WriteBack();
        Shm?.DecRef();
        File?.DecRef();
    }

    /// <summary>A copy that holds its own reference on the backing file.</summary>
    public Vma Clone()
    {
        File?.IncRef();
        Shm?.IncRef();
        if (CountsAsWritable) Shm!.CountWritableMapping(1);
        return (Vma)MemberwiseClone();
    }

    /// <summary>Splits this VMA at <paramref name="addr"/> (strictly inside); this keeps the lower part.</summary>
    public Vma SplitAt(ulong addr)
    {
        var upper = Clone();
        upper.Start = addr;
        if (File != null || Shm != null) upper.FileOffset = FileOffset + (long)(addr - Start);
        End = addr;
        return upper;
    }

    public override string ToString() => $"{Start:x}-{End:x} prot={Prot} {(Shared ? "s" : "p")} {File?.MapName ?? Label}";
}
