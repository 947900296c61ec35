using System.Buffers.Binary;
using Sentry.Platform;
using System.Text;
using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;
using static Sentry.Kernel.Abi.Linux;

namespace Sentry.Kernel.Loader;

// The initial stack and registers (System V x86-64 ABI, "Process Initialization").
public static partial class ElfLoader
{
    const ulong AT_NULL = 0, AT_PHDR = 3, AT_PHENT = 4, AT_PHNUM = 5, AT_PAGESZ = 6, AT_BASE = 7, AT_FLAGS = 8,
        AT_ENTRY = 9, AT_UID = 11, AT_EUID = 12, AT_GID = 13, AT_EGID = 14, AT_PLATFORM = 15, AT_HWCAP = 16,
        AT_CLKTCK = 17, AT_SECURE = 23, AT_RANDOM = 25, AT_HWCAP2 = 26, AT_EXECFN = 31, AT_MINSIGSTKSZ = 51;

    static long BuildStack(Task task, Image exe, Image? interp, IReadOnlyList<string> argv, IReadOnlyList<string> envp, string execFn)
    {
        var mm = task.Mm;
        ulong top = mm.MaxAddress;
        long r = mm.Map(top - StackSize, StackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, null, 0, "[stack]");
        if (r < 0) return r;

        // Strings and AT_RANDOM bytes at the very top.
        ulong sp = top - 8;
        ulong Push(ReadOnlySpan<byte> bytes)
        {
            sp -= (ulong)bytes.Length;
            mm.CopyOut(sp, bytes);
            return sp;
        }
        ulong PushString(string s) => Push(Encoding.UTF8.GetBytes(s + "\0"));

        ulong execFnAddr = PushString(execFn);
        var envAddrs = new ulong[envp.Count];
        for (int i = envp.Count - 1; i >= 0; i--) envAddrs[i] = PushString(envp[i]);
        var argAddrs = new ulong[argv.Count];
        for (int i = argv.Count - 1; i >= 0; i--) argAddrs[i] = PushString(argv[i]);
        ulong platform = PushString("x86_64");
        Span<byte> rnd = stackalloc byte[16];
        HostRandom.Fill(rnd);
        ulong random = Push(rnd);

        var aux = new List<(ulong, ulong)>
        {
            (AT_HWCAP, getauxval(AT_HWCAP)), (AT_PAGESZ, PAGE_SIZE), (AT_CLKTCK, 100),
            (AT_PHDR, exe.Phdr), (AT_PHENT, 56), (AT_PHNUM, exe.PhNum),
            (AT_BASE, interp?.Bias ?? 0), (AT_FLAGS, 0), (AT_ENTRY, exe.Entry),
            (AT_UID, task.Uid), (AT_EUID, task.Uid), (AT_GID, task.Gid), (AT_EGID, task.Gid), (AT_SECURE, 0),
            (AT_RANDOM, random), (AT_HWCAP2, getauxval(AT_HWCAP2)), (AT_EXECFN, execFnAddr), (AT_PLATFORM, platform),
        };
        ulong minsig = getauxval(AT_MINSIGSTKSZ);
        if (minsig != 0) aux.Add((AT_MINSIGSTKSZ, minsig));
        aux.Add((AT_NULL, 0));

        int words = 1 + argv.Count + 1 + envp.Count + 1 + aux.Count * 2;
        sp = (sp - (ulong)words * 8) & ~15UL;
        var block = new byte[words * 8];
        int w = 0;
        void Word(ulong v) { BinaryPrimitives.WriteUInt64LittleEndian(block.AsSpan(w * 8), v); w++; }
        Word((ulong)argv.Count);
        foreach (var a in argAddrs) Word(a);
        Word(0);
        foreach (var e in envAddrs) Word(e);
        Word(0);
        foreach (var (k, v) in aux) { Word(k); Word(v); }
        if (mm.CopyOut(sp, block) < 0) return -Errno.E2BIG;
        ulong envStart = envAddrs.Length > 0 ? envAddrs[0] : execFnAddr;
        mm.Layout = new Memory.StackLayout(sp, argAddrs.Length > 0 ? argAddrs[0] : envStart, envStart, envStart, execFnAddr);

        ref var regs = ref task.Cpu.Regs;
        regs = default;
        regs.rsp = sp;
        regs.rip = interp?.Entry ?? exe.Entry;
        regs.cs = 0x33;
        regs.ss = 0x2b;
        regs.eflags = 0x202;
        return 0;
    }
}
