using Sentry.Kernel.Abi;

namespace Sentry.Kernel.Memory;

// mincore, the mlock family and per-VMA NUMA policies: bookkeeping on the VMAs, since every page
// of the sandbox is already in memory (no swap) and there is one NUMA node.
public sealed partial class MemoryManager
{
    /// <summary>mlockall(MCL_FUTURE): mappings made from now on are locked too.</summary>
    public bool LockFuture;

    /// <summary>Bytes in VMAs locked with mlock/mlockall (VmLck, counted against RLIMIT_MEMLOCK).</summary>
    public ulong LockedBytes
    {
        get
        {
            lock (_lock)
            {
                ulong n = 0;
                foreach (var v in _vmas) if (v.Locked) n += v.Length;
                return n;
            }
        }
    }

    /// <summary>mincore: one byte per page of [addr, addr + pages × 4 KiB), 1 when it holds a frame here; -ENOMEM when part is unmapped.</summary>
    public long Residency(ulong addr, Span<byte> vec)
    {
        lock (_lock)
        {
            ulong end = addr + (ulong)vec.Length * Page;
            if (!FullyMapped(addr, end)) return -Errno.ENOMEM;
            for (int i = 0; i < vec.Length; i++)
            {
                ulong va = addr + (ulong)i * Page;
                bool resident = _pages.ContainsKey(va);
                // A shared mapping's page may be in its file's pages though this address space has not touched it.
                if (!resident && Find(va) is { Shm: { } shm } v && v.File != null)
                    resident = shm.HasFrame(v.FileOffset + (long)(va - v.Start));
                vec[i] = resident ? (byte)1 : (byte)0;
            }
            return 0;
        }
    }

    /// <summary>
    /// mlock/munlock of [addr, addr+length) (page aligned). Locking checks the total against
    /// <paramref name="limit"/> (RLIMIT_MEMLOCK in bytes, ulong.MaxValue for a privileged caller)
    /// first; -ENOMEM for a hole or past the limit, as Linux.
    /// </summary>
    public long SetLocked(ulong addr, ulong length, bool locked, ulong limit)
    {
        lock (_lock)
        {
            ulong end = addr + length;
            if (locked)
            {
                ulong already = 0, total = 0;
                foreach (var v in _vmas)
                {
                    if (v.Locked) total += v.Length;
                    ulong a = Math.Max(v.Start, addr), b = Math.Min(v.End, end);
                    if (a < b && v.Locked) already += b - a;
                }
                if (total - already + length > limit) return -Errno.ENOMEM;
            }
            if (!FullyMapped(addr, end)) return -Errno.ENOMEM;
            SplitAt(addr);
            SplitAt(end);
            for (int i = IndexAtOrAfter(addr); i < _vmas.Count && _vmas[i].Start < end; i++) _vmas[i].Locked = locked;
            return 0;
        }
    }

    /// <summary>mlockall(MCL_CURRENT): every VMA locked, if all of them fit in <paramref name="limit"/> bytes (else -ENOMEM).</summary>
    public long LockAll(ulong limit)
    {
        lock (_lock)
        {
            ulong total = 0;
            foreach (var v in _vmas) total += v.Length;
            if (total > limit) return -Errno.ENOMEM;
            foreach (var v in _vmas) v.Locked = true;
            return 0;
        }
    }

    /// <summary>munlockall: nothing locked, now or later.</summary>
    public void UnlockAll()
    {
        lock (_lock)
        {
            foreach (var v in _vmas) v.Locked = false;
            LockFuture = false;
        }
    }

    /// <summary>mbind: sets the NUMA policy of [addr, addr+length); -EFAULT when part of it is unmapped, as Linux.</summary>
    public long SetPolicy(ulong addr, ulong length, int mode, ulong nodes)
    {
        lock (_lock)
        {
            ulong end = addr + length;
            if (!FullyMapped(addr, end)) return -Errno.EFAULT;
            SplitAt(addr);
            SplitAt(end);
            for (int i = IndexAtOrAfter(addr); i < _vmas.Count && _vmas[i].Start < end; i++)
            {
                _vmas[i].PolicyMode = mode;
                _vmas[i].PolicyNodes = nodes;
            }
            return 0;
        }
    }
}
