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
    /// <summary>Backing file, or null for anonymous memory.</summary>
    public IMappable? File;
    /// <summary>File offset of <see cref="Start"/>.</summary>
    public long FileOffset;
    /// <summary>Pages a MAP_SHARED mapping maps directly: its own for shared anonymous memory, the file's for a tmpfs file; or null (private copies).</summary>
    public SharedMemory? Shm;
    /// <summary>Label in /proc/self/maps ([heap], [stack]) for anonymous areas.</summary>
    public string? Label;

    public ulong Length => End - Start;

    /// <summary>A copy that holds its own reference on the backing file.</summary>
    public Vma Clone()
    {
        File?.IncRef();
        Shm?.IncRef();
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
