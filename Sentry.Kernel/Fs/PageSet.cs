namespace Sentry.Kernel.Fs;

/// <summary>
/// A set of 4 KiB page numbers of a file: which pages of a tmpfs file are allocated (what
/// st_blocks and the file system's use count). Sparse, one 64-page word per 256 KiB of file that
/// has any page in it, so a 5 GiB file holding one page costs one word, whatever its size.
/// </summary>
public sealed class PageSet
{
    const int PageShift = 12;
    readonly Dictionary<long, ulong> _words = new();

    public long Count { get; private set; }

    /// <summary>How many of the pages that [offset, offset+length) touches are not in the set.</summary>
    public long CountMissing(long offset, long length)
    {
        if (length <= 0) return 0;
        long missing = 0;
        long first = offset >> PageShift, last = (offset + length - 1) >> PageShift;
        for (long word = first >> 6; word <= last >> 6; word++)
            missing += System.Numerics.BitOperations.PopCount(~Get(word) & WordMask(word, first, last));
        return missing;
    }

    /// <summary>
    /// The longest prefix of [offset, offset+length) whose missing pages number at most
    /// <paramref name="budget"/>: a write that fills the file system stops at the first page it
    /// cannot have, as Linux's page-by-page write does.
    /// </summary>
    public long FitLength(long offset, long length, long budget)
    {
        long end = offset + length;
        for (long p = offset >> PageShift; (p << PageShift) < end; p++)
        {
            if (Contains(p)) continue;
            if (budget-- == 0) return Math.Max(0, (p << PageShift) - offset);
        }
        return length;
    }

    /// <summary>Adds every page that [offset, offset+length) touches; returns how many were new.</summary>
    public long Add(long offset, long length)
    {
        if (length <= 0) return 0;
        long added = 0;
        long first = offset >> PageShift, last = (offset + length - 1) >> PageShift;
        for (long word = first >> 6; word <= last >> 6; word++)
        {
            ulong old = Get(word), mask = WordMask(word, first, last);
            if ((old & mask) == mask) continue;
            added += System.Numerics.BitOperations.PopCount(~old & mask);
            _words[word] = old | mask;
        }
        Count += added;
        return added;
    }

    /// <summary>Removes the pages wholly inside [offset, offset+length) (a punched hole); returns how many were in the set.</summary>
    public long RemoveWhole(long offset, long length)
    {
        long first = (offset + (1 << PageShift) - 1) >> PageShift;
        long end = length >= long.MaxValue - offset ? long.MaxValue >> PageShift : (offset + length) >> PageShift;
        if (end <= first) return 0;
        return RemovePages(first, end);
    }

    /// <summary>Removes the pages that start at or after <paramref name="size"/> (truncation); returns how many were in the set.</summary>
    public long RemoveFrom(long size) => RemovePages((size + (1 << PageShift) - 1) >> PageShift, long.MaxValue >> PageShift);

    /// <summary>Empties the set; returns how many pages it had.</summary>
    public long Clear()
    {
        long n = Count;
        _words.Clear();
        Count = 0;
        return n;
    }

    bool Contains(long page) => (Get(page >> 6) & (1UL << (int)(page & 63))) != 0;

    ulong Get(long word) => _words.GetValueOrDefault(word);

    /// <summary>Removes pages [first, end); walks the words present rather than the range, which may span a huge hole.</summary>
    long RemovePages(long first, long end)
    {
        long removed = 0;
        List<long>? empty = null;
        foreach (var (word, bits) in _words)
        {
            long lo = word << 6, hi = lo + 64;
            if (hi <= first || lo >= end) continue;
            ulong mask = Mask((int)Math.Max(0, first - lo), (int)Math.Min(64, end - lo));
            ulong cleared = bits & mask;
            if (cleared == 0) continue;
            removed += System.Numerics.BitOperations.PopCount(cleared);
            (empty ??= new()).Add(word);
        }
        if (empty != null)
            foreach (long word in empty)
            {
                long lo = word << 6;
                ulong left = _words[word] & ~Mask((int)Math.Max(0, first - lo), (int)Math.Min(64, end - lo));
                if (left == 0) _words.Remove(word); else _words[word] = left;
            }
        Count -= removed;
        return removed;
    }

    /// <summary>Bits [from, to) of a word.</summary>
    static ulong Mask(int from, int to) =>
        (to >= 64 ? ulong.MaxValue : (1UL << to) - 1) & ~((1UL << from) - 1);

    /// <summary>The bits of <paramref name="word"/> that pages [first, last] cover.</summary>
    static ulong WordMask(long word, long first, long last)
    {
        long lo = word << 6;
        return Mask((int)Math.Max(0, first - lo), (int)Math.Min(64, last + 1 - lo));
    }
}
