using System.Runtime.Intrinsics.X86;
using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;
using static Sentry.Kernel.Abi.Linux;

namespace Sentry.Kernel.Syscalls;

// mincore, the mlock family (accounted against RLIMIT_MEMLOCK; the sandbox's memory never swaps,
// so a lock changes nothing else) and protection keys, which the sandbox does not offer.
public static partial class Sys
{
    const int MCL_CURRENT = 1, MCL_FUTURE = 2, MCL_ONFAULT = 4, MLOCK_ONFAULT = 1, PKEY_ACCESS_MASK = 3;

    internal static void RegisterMlock(SyscallHandler?[] t)
    {
        t[27] = Mincore; t[149] = (Task k, in SyscallArgs a) => Mlock(k, a.A0, a.A1, true);
        t[150] = (Task k, in SyscallArgs a) => Mlock(k, a.A0, a.A1, false);
        t[325] = (Task k, in SyscallArgs a) => (a.A2 & ~(ulong)MLOCK_ONFAULT) != 0 ? -Errno.EINVAL : Mlock(k, a.A0, a.A1, true);
        t[151] = Mlockall; t[152] = (Task k, in SyscallArgs a) => { k.Mm.UnlockAll(); return 0; };
        t[330] = PkeyAlloc; t[331] = (Task k, in SyscallArgs a) => -Errno.EINVAL; // no key is ever allocated
        t[329] = PkeyMprotect;
    }

    static long Mincore(Task t, in SyscallArgs a)
    {
        ulong addr = a.A0, len = a.A1;
        if ((addr & PageMask) != 0) return -Errno.EINVAL;
        if (!AccessOk(addr, len)) return -Errno.ENOMEM;
        ulong pages = (len + PageMask) / PAGE_SIZE;
        if (!AccessOk(a.A2, pages)) return -Errno.EFAULT;
        Span<byte> vec = stackalloc byte[256];
        for (ulong done = 0; done < pages;)
        {
            int n = (int)Math.Min(pages - done, (ulong)vec.Length);
            long r = t.Mm.Residency(addr + done * PAGE_SIZE, vec[..n]);
            if (r < 0) return r;
            if (t.Mm.CopyOut(a.A2 + done, vec[..n]) < 0) return -Errno.EFAULT;
            done += (ulong)n;
        }
        return 0;
    }

    /// <summary>RLIMIT_MEMLOCK in bytes, or no limit for root (CAP_IPC_LOCK).</summary>
    static ulong LockLimit(Task t) => t.Uid == 0 ? ulong.MaxValue : t.Limits[RLIMIT_MEMLOCK].Cur;

    static long Mlock(Task t, ulong addr, ulong len, bool on)
    {
        ulong start = addr & ~PageMask, end = MemoryManager_PageUp(len + (addr & PageMask));
        if (on && LockLimit(t) == 0) return -Errno.EPERM; // can_do_mlock
        if (start + end < start) return -Errno.EINVAL;
        if (end == 0) return 0;
        return t.Mm.SetLocked(start, end, on, on ? LockLimit(t) : ulong.MaxValue);
    }

    static ulong MemoryManager_PageUp(ulong a) => Memory.MemoryManager.PageUp(a);

    static long Mlockall(Task t, in SyscallArgs a)
    {
        int flags = (int)a.A0;
        if (flags == 0 || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) != 0 || flags == MCL_ONFAULT) return -Errno.EINVAL;
        if (LockLimit(t) == 0) return -Errno.EPERM;
        if ((flags & MCL_CURRENT) != 0)
        {
            long r = t.Mm.LockAll(LockLimit(t));
            if (r < 0) return r;
        }
        t.Mm.LockFuture = (flags & MCL_FUTURE) != 0;
        return 0;
    }

    /// <summary>
    /// No protection keys are offered. Linux without PKU in the CPU (OSPKE clear) answers EINVAL;
    /// with it, ENOSPC says every key is taken, which programs handle as "no keys".
    /// </summary>
    static long PkeyAlloc(Task t, in SyscallArgs a)
    {
        if (a.A0 != 0 || (a.A1 & ~(ulong)PKEY_ACCESS_MASK) != 0) return -Errno.EINVAL;
        return HostHasPku ? -Errno.ENOSPC : -Errno.EINVAL;
    }

    static readonly bool HostHasPku = X86Base.IsSupported && (X86Base.CpuId(7, 0).Ecx & (1 << 4)) != 0;

    static long PkeyMprotect(Task t, in SyscallArgs a)
    {
        // Key -1 is plain mprotect; any other key was never allocated.
        if ((int)a.A3 == -1) return Mprotect(t, a);
        if ((a.A0 & PageMask) != 0) return -Errno.EINVAL;
        return -Errno.EINVAL;
    }
}
