using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Sentry.Kernel.Abi;
using Sentry.Kernel.Memory;
using Sentry.Kernel.Tasks;
using Sentry.Kernel.Vfs;
using static Sentry.Kernel.Abi.Linux;

namespace Sentry.Kernel.Loader;

/// <summary>
/// Loads an ELF64 x86-64 executable into a task's fresh address space: static, static-PIE and
/// dynamic (with its interpreter), then builds the initial stack (argv, envp, auxv, AT_RANDOM).
/// Segments become private file mappings, so pages are read from the file only when touched.
/// </summary>
public static partial class ElfLoader
{
    const ushort ET_EXEC = 2, ET_DYN = 3, EM_X86_64 = 62;
    const uint PT_LOAD = 1, PT_INTERP = 3, PT_PHDR = 6;
    const uint PF_X = 1, PF_W = 2, PF_R = 4;
    /// <summary>Where Linux puts a PIE executable when address randomisation is off.</summary>
    const ulong PieBase = 0x5555_5555_4000;
    const ulong StackSize = 8UL << 20;

    [LibraryImport("libc")] private static partial ulong getauxval(ulong type);

    /// <summary>What one loaded image contributes to the auxiliary vector.</summary>
    readonly record struct Image(ulong Entry, ulong Phdr, ulong PhNum, ulong Bias, ulong End, string? Interp);

    /// <summary>
    /// Loads the executable at the walked path <paramref name="l"/> into <paramref name="task"/>'s
    /// (empty) address space and sets its registers. Returns 0 or -errno (ENOEXEC for a file that is
    /// not a loadable x86-64 ELF, EACCES for one that may not be executed).
    /// </summary>
    public static long Load(Task task, in Lookup l, IReadOnlyList<string> argv, IReadOnlyList<string> envp)
    {
        // mmap without a hint (the interpreter first) goes below the stack, leaving it room as Linux's mmap_base does.
        task.Mm.MmapTop = task.Mm.MaxAddress - StackSize - (128UL << 20);
        long r = LoadImage(task, l, isInterpreter: false, out var exe);
        if (r < 0) return r;
        Image? interp = null;
        if (exe.Interp != null)
        {
            var il = PathWalker.Resolve(task, AT_FDCWD, exe.Interp, followLast: true);
            if (il.Error < 0) return il.Error;
            r = LoadImage(task, il, isInterpreter: true, out var ii);
            if (r < 0) return r;
            interp = ii;
        }
        task.Mm.InitBrk(exe.End);
        task.ExePath = l.Path;
        task.Comm = System.IO.Path.GetFileName(l.Path) is { Length: > 15 } c ? c[..15] : System.IO.Path.GetFileName(l.Path);
        return BuildStack(task, exe, interp, argv, envp, l.Path);
    }

    static long LoadImage(Task task, in Lookup l, bool isInterpreter, out Image image)
    {
        image = default;
        if (!l.Exists) return -Errno.ENOENT;
        if (l.IsDir) return -Errno.EACCES;
        if ((l.Mode & S_IFMT) != S_IFREG) return -Errno.EACCES;
        if ((l.Mode & 0x49) == 0) return -Errno.EACCES; // no x bit for anyone
        var file = Open.File(task, l, O_RDONLY, out int err);
        if (file == null) return err;
        try
        {
            Span<byte> eh = stackalloc byte[64];
            if (file.PRead(eh, 0) != 64) return -Errno.ENOEXEC;
            if (eh[0] != 0x7f || eh[1] != 'E' || eh[2] != 'L' || eh[3] != 'F' || eh[4] != 2 || eh[5] != 1) return -Errno.ENOEXEC;
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(eh[16..]);
            ushort machine = BinaryPrimitives.ReadUInt16LittleEndian(eh[18..]);
            if ((type != ET_EXEC && type != ET_DYN) || machine != EM_X86_64) return -Errno.ENOEXEC;
            ulong entry = BinaryPrimitives.ReadUInt64LittleEndian(eh[24..]);
            ulong phoff = BinaryPrimitives.ReadUInt64LittleEndian(eh[32..]);
            ushort phentsize = BinaryPrimitives.ReadUInt16LittleEndian(eh[54..]);
            ushort phnum = BinaryPrimitives.ReadUInt16LittleEndian(eh[56..]);
            if (phentsize != 56 || phnum == 0 || phnum > 1024 || phoff > long.MaxValue) return -Errno.ENOEXEC;
            var ph = new byte[phnum * 56];
            if (file.PRead(ph, (long)phoff) != ph.Length) return -Errno.ENOEXEC;

            ulong lo = ulong.MaxValue, hi = 0, phdrVaddr = 0;
            string? interp = null;
            for (int i = 0; i < phnum; i++)
            {
                var p = ph.AsSpan(i * 56, 56);
                uint ptype = BinaryPrimitives.ReadUInt32LittleEndian(p);
                ulong off = BinaryPrimitives.ReadUInt64LittleEndian(p[8..]);
                ulong vaddr = BinaryPrimitives.ReadUInt64LittleEndian(p[16..]);
                ulong filesz = BinaryPrimitives.ReadUInt64LittleEndian(p[32..]);
                ulong memsz = BinaryPrimitives.ReadUInt64LittleEndian(p[40..]);
                if (ptype == PT_LOAD)
                {
                    if (memsz < filesz || vaddr + memsz < vaddr || (off & 0xfff) != (vaddr & 0xfff)) return -Errno.ENOEXEC;
                    lo = Math.Min(lo, MemoryManager.PageDown(vaddr));
                    hi = Math.Max(hi, vaddr + memsz);
                    if (phoff >= off && phoff + (ulong)ph.Length <= off + filesz) phdrVaddr = vaddr + (phoff - off);
                }
                else if (ptype == PT_PHDR) phdrVaddr = vaddr;
                else if (ptype == PT_INTERP && !isInterpreter)
                {
                    if (filesz < 2 || filesz > PathWalker.PATH_MAX) return -Errno.ENOEXEC;
                    var buf = new byte[filesz];
                    if (file.PRead(buf, (long)off) != buf.Length) return -Errno.ENOEXEC;
                    interp = Encoding.UTF8.GetString(buf).TrimEnd('\0');
                }
            }
            if (lo == ulong.MaxValue) return -Errno.ENOEXEC;
            ulong span = MemoryManager.PageUp(hi) - lo;

            ulong bias = 0;
            if (type == ET_DYN)
            {
                ulong baseAddr = isInterpreter ? task.Mm.FindGap(span) : PieBase;
                if (baseAddr == 0) return -Errno.ENOMEM;
                bias = baseAddr - lo;
            }
            else if (lo < task.Mm.MinAddress || hi > task.Mm.MaxAddress) return -Errno.ENOEXEC;

            var mappable = file.Mappable;
            if (mappable == null) return -Errno.EACCES;
            for (int i = 0; i < phnum; i++)
            {
                var p = ph.AsSpan(i * 56, 56);
                if (BinaryPrimitives.ReadUInt32LittleEndian(p) != PT_LOAD) continue;
                uint flags = BinaryPrimitives.ReadUInt32LittleEndian(p[4..]);
                ulong off = BinaryPrimitives.ReadUInt64LittleEndian(p[8..]);
                ulong vaddr = BinaryPrimitives.ReadUInt64LittleEndian(p[16..]) + bias;
                ulong filesz = BinaryPrimitives.ReadUInt64LittleEndian(p[32..]);
                ulong memsz = BinaryPrimitives.ReadUInt64LittleEndian(p[40..]);
                int prot = ((flags & PF_R) != 0 ? PROT_READ : 0) | ((flags & PF_W) != 0 ? PROT_WRITE : 0) | ((flags & PF_X) != 0 ? PROT_EXEC : 0);
                ulong start = MemoryManager.PageDown(vaddr);
                ulong fileEnd = vaddr + filesz, memEnd = vaddr + memsz;
                if (filesz > 0)
                {
                    long m = task.Mm.Map(start, MemoryManager.PageUp(fileEnd) - start, prot, MAP_PRIVATE | MAP_FIXED, mappable, (long)MemoryManager.PageDown(off));
                    if (m < 0) return m;
                    // The rest of the last file page belongs to .bss: it must read as zeros, not file bytes.
                    ulong pad = MemoryManager.PageUp(fileEnd) - fileEnd;
                    if (memsz > filesz && pad > 0)
                    {
                        task.Mm.CopyOut(fileEnd, new byte[pad], force: true);
                    }
                }
                ulong anonStart = filesz > 0 ? MemoryManager.PageUp(fileEnd) : start;
                if (MemoryManager.PageUp(memEnd) > anonStart)
                {
                    long m = task.Mm.Map(anonStart, MemoryManager.PageUp(memEnd) - anonStart, prot, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, null, 0);
                    if (m < 0) return m;
                }
            }
            image = new Image(entry + bias, phdrVaddr + bias, phnum, bias, hi + bias, interp);
            return 0;
        }
        finally
        {
            file.Release();
        }
    }
}
