using Sentry.Kernel.Abi;
using Sentry.Kernel.Memory;
using Sentry.Kernel.Tasks;
using static Sentry.Kernel.Abi.Linux;

namespace Sentry.Kernel.Syscalls;

// Memory: argument validation in the order Linux applies it; the work is in MemoryManager.
public static partial class Sys
{
    const ulong PageMask = PAGE_SIZE - 1;
    /// <summary>x86-64 TASK_SIZE with 4-level paging: the limit Linux checks user ranges against.</summary>
    const ulong TaskSize = 0x7fff_ffff_f000;

    internal static void RegisterMemory(SyscallHandler?[] t)
    {
        t[9] = Mmap; t[11] = Munmap; t[10] = Mprotect; t[25] = Mremap; t[12] = Brk; t[28] = Madvise; t[26] = Msync;
    }

    static long Mmap(Task t, in SyscallArgs a)
    {
        ulong addr = a.A0, len = a.A1;
        int prot = (int)a.A2, flags = (int)a.A3, fd = (int)a.A4;
        long off = (long)a.A5;
        if (len == 0 || ((ulong)off & PageMask) != 0) return -Errno.EINVAL;
        int type = flags & MAP_TYPE;
        if (type != MAP_SHARED && type != MAP_PRIVATE && type != MAP_SHARED_VALIDATE) return -Errno.EINVAL;
        if ((prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN | PROT_GROWSUP)) != 0) return -Errno.EINVAL;
        ulong alen = MemoryManager.PageUp(len);
        if (alen == 0 || alen > t.Mm.MaxAddress) return -Errno.ENOMEM;
        if ((flags & MAP_ANONYMOUS) == 0 && (ulong)off + alen < (ulong)off) return -Errno.EOVERFLOW;
        if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) != 0 && (addr & PageMask) != 0) return -Errno.EINVAL;
        if ((flags & MAP_HUGETLB) != 0) return -Errno.ENOMEM; // no huge page pool in the sandbox
        Memory.IMappable? file = null;
        bool mayWrite = true;
        if ((flags & MAP_ANONYMOUS) == 0)
        {
            var f = t.Fds.Get(fd);
            if (f == null || (f.Flags & O_PATH) != 0) return -Errno.EBADF;
            file = f.Mappable;
            if (file == null) return f is Vfs.CharDevice ? MapDevice(t, f, addr, alen, prot, flags) : -Errno.ENODEV;
            if (!f.Readable) return -Errno.EACCES;
            if ((type == MAP_SHARED || type == MAP_SHARED_VALIDATE) && (prot & PROT_WRITE) != 0 && !f.Writable) return -Errno.EACCES;
            if ((type == MAP_SHARED || type == MAP_SHARED_VALIDATE) && (prot & PROT_WRITE) != 0 && !file.SharedWritable)
            {
                t.Sandbox.ReportUnsupported("writable MAP_SHARED mapping of a host file without a page cache");
                return -Errno.ENODEV;
            }
            if (type != MAP_PRIVATE)
            {
                bool sealedFile = file.SealedAgainstWrite;
                if (sealedFile && (prot & PROT_WRITE) != 0) return -Errno.EPERM;
                mayWrite = f.Writable && !sealedFile;
            }
        }
        else off = 0;
        return t.Mm.Map(addr, alen, prot, flags, file, off, mayWrite: mayWrite);
    }

    /// <summary>/dev/zero maps as anonymous memory; the other memory devices cannot be mapped.</summary>
    static long MapDevice(Task t, Vfs.FileDescription f, ulong addr, ulong len, int prot, int flags)
    {
        var st = default(LinuxStat);
        f.Stat(out st);
        if (LinuxStatx.Minor(st.st_rdev) != (uint)Vfs.CharDevice.Kind.Zero) return -Errno.ENODEV;
        return t.Mm.Map(addr, len, prot, flags | MAP_ANONYMOUS, null, 0);
    }

    static long Munmap(Task t, in SyscallArgs a)
    {
        ulong addr = a.A0, len = MemoryManager.PageUp(a.A1);
        if ((addr & PageMask) != 0 || a.A1 == 0 || len == 0 || addr + len < addr || addr + len > TaskSize) return -Errno.EINVAL;
        // Above the sandbox's user range (where the platform keeps its stub) the application has nothing to unmap.
        if (addr >= t.Mm.MaxAddress) return 0;
        return t.Mm.Unmap(addr, Math.Min(len, t.Mm.MaxAddress - addr));
    }

    static long Mprotect(Task t, in SyscallArgs a)
    {
        ulong addr = a.A0;
        int prot = (int)a.A2;
        if ((addr & PageMask) != 0) return -Errno.EINVAL;
        if ((prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN | PROT_GROWSUP)) != 0) return -Errno.EINVAL;
        ulong len = MemoryManager.PageUp(a.A1);
        if (a.A1 == 0) return 0;
        if (len == 0 || addr + len < addr) return -Errno.ENOMEM;
        if (addr + len > t.Mm.MaxAddress) return -Errno.ENOMEM;
        return t.Mm.Protect(addr, len, prot);
    }

    static long Mremap(Task t, in SyscallArgs a)
    {
        ulong oldAddr = a.A0, oldLen = a.A1, newLen = a.A2, newAddr = a.A4;
        int flags = (int)a.A3;
        if ((oldAddr & PageMask) != 0) return -Errno.EINVAL;
        if ((flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) != 0) return -Errno.EINVAL;
        if ((flags & MREMAP_FIXED) != 0 && (flags & MREMAP_MAYMOVE) == 0) return -Errno.EINVAL;
        if ((flags & MREMAP_DONTUNMAP) != 0) return -Errno.EINVAL; // not supported for now: Linux also refuses it for most mappings
        if ((flags & MREMAP_FIXED) != 0 && (newAddr & PageMask) != 0) return -Errno.EINVAL;
        if (MemoryManager.PageUp(newLen) == 0) return -Errno.EINVAL;
        if (oldLen == 0) return -Errno.EINVAL; // duplicating shared mappings is not supported; private ones get EINVAL on Linux too
        if (oldAddr + MemoryManager.PageUp(oldLen) < oldAddr) return -Errno.EFAULT;
        return t.Mm.Remap(oldAddr, oldLen, newLen, flags, newAddr);
    }

    static long Brk(Task t, in SyscallArgs a) => (long)t.Mm.SetBrk(a.A0);

    static long Madvise(Task t, in SyscallArgs a)
    {
        ulong addr = a.A0;
        int advice = (int)a.A2;
        if ((addr & PageMask) != 0) return -Errno.EINVAL;
        ulong len = MemoryManager.PageUp(a.A1);
        bool known = advice is >= MADV_NORMAL and <= MADV_DONTNEED or >= MADV_FREE and <= MADV_POPULATE_WRITE;
        if (!known) return -Errno.EINVAL;
        if (a.A1 == 0) return 0;
        if (len == 0 || addr + len < addr) return -Errno.EINVAL;
        switch (advice)
        {
            case MADV_DONTNEED:
            case MADV_FREE:
            case MADV_REMOVE:
                return t.Mm.DropRange(addr, len);
            case MADV_HWPOISON:
                return -Errno.EPERM;
            default:
                // Hints about access patterns change nothing observable here.
                for (ulong p = addr; p < addr + len;)
                {
                    var v = t.Mm.Find(p);
                    if (v == null) return -Errno.ENOMEM;
                    p = v.End;
                }
                return 0;
        }
    }

    static long Msync(Task t, in SyscallArgs a)
    {
        const int MS_ASYNC = 1, MS_INVALIDATE = 2, MS_SYNC = 4;
        int flags = (int)a.A2;
        if ((a.A0 & PageMask) != 0 || (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) != 0 || (flags & (MS_ASYNC | MS_SYNC)) == (MS_ASYNC | MS_SYNC))
            return -Errno.EINVAL;
        ulong len = MemoryManager.PageUp(a.A1);
        long result = 0;
        for (ulong p = a.A0; p < a.A0 + len;)
        {
            var v = t.Mm.Find(p);
            if (v == null) return -Errno.ENOMEM;
            // Shared mappings of a volume file write back to the host file; tmpfs, anonymous and
            // private mappings have nothing to write.
            if ((flags & (MS_ASYNC | MS_SYNC)) != 0 && v.Shared && v.Shm?.WriteBack() is < 0 and var r && result == 0) result = r;
            p = v.End;
        }
        return result < 0 ? -Errno.EIO : 0;
    }
}
