namespace Sentry.Kernel.Fs;

/// <summary>A set of 4 KiB page numbers of a file, as a bitmap: which pages of a tmpfs file hold data.</summary>
public sealed class PageSet
{
    const int PageShift = 12;
    ulong[] _bits = [];

    public long Count { get; private set; }

    /// <summary>Adds every page that [offset, offset+length) touches.</summary>
    public void Add(long offset, long length)
    {
        if (length <= 0) return;
        long first = offset >> PageShift, last = (offset + length - 1) >> PageShift;
        if (last / 64 >= _bits.Length) Array.Resize(ref _bits, (int)Math.Max(last / 64 + 1, _bits.Length * 2L));
        for (long p = first; p <= last; p++) Set(p, true);
    }

    /// <summary>Removes the pages wholly inside [offset, offset+length) (a punched hole).</summary>
    public void RemoveWhole(long offset, long length)
    {
        long first = (offset + (1 << PageShift) - 1) >> PageShift, end = (offset + length) >> PageShift;
        for (long p = first; p < end && p / 64 < _bits.Length; p++) Set(p, false);
    }

    /// <summary>Removes the pages that start at or after <paramref name="size"/> (truncation).</summary>
    public void RemoveFrom(long size)
    {
        long first = (size + (1 << PageShift) - 1) >> PageShift;
        for (long p = first; p / 64 < _bits.Length; p++) Set(p, false);
    }

    void Set(long page, bool on)
    {
        ref ulong word = ref _bits[page / 64];
        ulong bit = 1UL << (int)(page % 64);
        if (((word & bit) != 0) == on) return;
        word ^= bit;
        Count += on ? 1 : -1;
    }
}
