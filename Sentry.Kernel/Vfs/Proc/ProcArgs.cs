using Sentry.Kernel.Abi;
using Sentry.Kernel.Memory;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs.Proc;

/// <summary>
/// /proc/&lt;pid&gt;/cmdline and environ: the argv and envp strings read from the process's own
/// memory, where exec put them (so a process that rewrote them shows what it wrote), as Linux's
/// get_mm_cmdline and environ_read do. Unmapped or unreadable memory ends the contents early,
/// never the reader's open.
/// </summary>
public static class ProcArgs
{
    const int Page = Linux.PAGE_SIZE;

    public static int Cmdline(ProcScope s, Task reader, SeqBuffer o)
    {
        var mm = s.Task.Mm;
        var l = mm.Layout;
        // No exec has laid out a stack yet (Linux: a kernel thread or an mm being set up): empty.
        if (l.EnvEnd == 0 || l.ArgEnd <= l.ArgStart) return 0;
        // setproctitle(3) overwrote the NUL that ended argv: the title is the one string that now
        // starts at arg_start, read up to its NUL within one page (get_mm_proctitle).
        Span<byte> last = stackalloc byte[1];
        if (mm.CopyIn(l.ArgEnd - 1, last) == 0 && last[0] != 0)
        {
            Span<byte> page = stackalloc byte[Page];
            int got = ReadUpTo(mm, l.ArgStart, page);
            int len = page[..got].IndexOf((byte)0);
            o.Append(page[..(len < 0 ? got : len + 1)]);
            return 0;
        }
        Copy(mm, l.ArgStart, l.ArgEnd, o);
        return 0;
    }

    public static int Environ(ProcScope s, Task reader, SeqBuffer o)
    {
        if (!s.MayInspect(reader)) return -Errno.EACCES;
        var l = s.Task.Mm.Layout;
        if (l.EnvEnd > l.EnvStart) Copy(s.Task.Mm, l.EnvStart, l.EnvEnd, o);
        return 0;
    }

    /// <summary>Appends the bytes of [start, end), page by page, stopping at the first that cannot be read.</summary>
    static void Copy(MemoryManager mm, ulong start, ulong end, SeqBuffer o)
    {
        Span<byte> chunk = stackalloc byte[Page];
        for (ulong a = start; a < end;)
        {
            int n = (int)Math.Min(end - a, (ulong)(Page - (int)(a & (Page - 1))));
            if (mm.CopyIn(a, chunk[..n]) < 0) return;
            o.Append(chunk[..n]);
            a += (ulong)n;
        }
    }

    /// <summary>Reads as much of <paramref name="dst"/> from <paramref name="addr"/> as is readable (page by page); returns the count.</summary>
    static int ReadUpTo(MemoryManager mm, ulong addr, Span<byte> dst)
    {
        int done = 0;
        while (done < dst.Length)
        {
            int n = Math.Min(dst.Length - done, Page - (int)((addr + (ulong)done) & (Page - 1)));
            if (mm.CopyIn(addr + (ulong)done, dst.Slice(done, n)) < 0) break;
            done += n;
        }
        return done;
    }
}
