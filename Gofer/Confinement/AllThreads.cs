using System.Buffers.Binary;
using Sentry.Gofer.Abi;
using Sentry.Platform;
using static Sentry.Gofer.Abi.SyscallNumbers;

namespace Sentry.Gofer.Confinement;

/// <summary>
/// Makes every other thread of the process confine itself too. A mount namespace (unshare,
/// setns), the root and cwd, and capabilities belong to a thread, not a process, and the .NET
/// runtime has started several threads (GC, finalizer, tiered JIT, signal handling) before Run is
/// called; one unshare(CLONE_NEWNS) would leave them in the host's namespace with the host's root.
/// So each of them is sent a signal whose handler, a few bytes of machine code (no managed code
/// can run in a signal handler), makes the calls on its own thread: unshare(CLONE_FS) (its
/// fs_struct is shared, which setns forbids), setns(fd, CLONE_NEWNS) (which also moves its root
/// and cwd to the namespace's root, the export), and capset. Threads created later inherit all
/// of it from the (confined) thread that creates them.
/// </summary>
internal static unsafe class AllThreads
{
    /// <summary>SIGRTMIN+8 in glibc's numbering: the runtime uses SIGRTMIN (34) to suspend threads, not this.</summary>
    public const int Signal = 42;

    // The data page the handler uses, addressed from rbx.
    public const int DataNsFd = 0;        // int: mount namespace fd
    public const int DataDone = 8;        // int: handlers finished (lock inc)
    public const int DataFailed = 12;     // int: calls that failed (lock inc)
    public const int DataCapHeader = 16;  // struct __user_cap_header_struct { u32 version; int pid; }
    public const int DataCapData = 24;    // struct __user_cap_data_struct[2] { u32 effective, permitted, inheritable; }

    const int PageSize = 4096;
    const int PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4, MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20;
    const ulong SA_RESTORER = 0x04000000, SA_RESTART = 0x10000000;

    /// <summary>How it went: threads signalled, system calls that failed in them, threads that never ran the handler.</summary>
    public readonly record struct Result(int Threads, int FailedCalls, int Unanswered);

    /// <summary>
    /// The signal handler: x86-64 code using only registers the kernel restores at sigreturn
    /// (rax, rbx, rcx, rdx, rsi, rdi, r11), no stack beyond its return address, no libc.
    /// </summary>
    internal static byte[] Handler(ulong data, bool setns, bool capset)
    {
        var c = new List<byte>();
        void Add(params byte[] b) => c.AddRange(b);
        void Imm32(byte op, uint v) { Add(op); Add(BitConverter.GetBytes(v)); }
        void CountFailure() => Add(0x48, 0x85, 0xC0, /* test rax, rax */ 0x74, 0x04, /* jz +4 */ 0xF0, 0xFF, 0x43, DataFailed /* lock inc dword [rbx+12] */);

        Add(0x48, 0xBB); Add(BitConverter.GetBytes(data));            // mov rbx, data
        if (setns)
        {
            Imm32(0xB8, SYS_unshare);                                  // mov eax, SYS_unshare
            Imm32(0xBF, Linux.CLONE_FS);                               // mov edi, CLONE_FS
            Add(0x0F, 0x05);                                           // syscall
            CountFailure();
            Imm32(0xB8, SYS_setns);                                    // mov eax, SYS_setns
            Add(0x8B, 0x3B);                                           // mov edi, [rbx]   (the namespace fd)
            Imm32(0xBE, Linux.CLONE_NEWNS);                            // mov esi, CLONE_NEWNS
            Add(0x0F, 0x05);                                           // syscall
            CountFailure();
        }
        if (capset)
        {
            Imm32(0xB8, SYS_capset);                                   // mov eax, SYS_capset
            Add(0x48, 0x8D, 0x7B, DataCapHeader);                      // lea rdi, [rbx+16]
            Add(0x48, 0x8D, 0x73, DataCapData);                        // lea rsi, [rbx+24]
            Add(0x0F, 0x05);                                           // syscall
            CountFailure();
        }
        Add(0xF0, 0xFF, 0x43, DataDone);                               // lock inc dword [rbx+8]
        Add(0xC3);                                                     // ret
        return [.. c];
    }

    /// <summary>The restorer rt_sigaction needs with SA_RESTORER: mov eax, SYS_rt_sigreturn; syscall.</summary>
    internal static readonly byte[] Restorer = [0xB8, SYS_rt_sigreturn, 0, 0, 0, 0x0F, 0x05];

    /// <summary>
    /// Runs the handler on every thread but the caller, found in <paramref name="taskDirFd"/>
    /// (/proc/self/task opened for reading, kept from before pivot_root). <paramref name="mountNsFd"/>
    /// is the namespace to join (-1: none); <paramref name="caps"/> the capability sets to set
    /// (null: none). Waits up to <paramref name="timeoutMs"/> per round for the handlers.
    /// </summary>
    public static Result Run(int taskDirFd, int mountNsFd, CapabilitySets? caps, int timeoutMs = 3000)
    {
        // Two pages: code (then made read+execute) and data. Never unmapped: a thread may still
        // be on its way out of the handler when the last counter moves.
        long mem = HostSyscall.Call(SYS_mmap, 0, 2 * PageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mem < 0 && mem > -4096) return new Result(0, 0, -1);
        byte* code = (byte*)mem, data = code + PageSize;
        byte[] handler = Handler((ulong)data, mountNsFd >= 0, caps != null);
        handler.CopyTo(new Span<byte>(code, handler.Length));
        int restorerAt = (handler.Length + 15) & ~15;
        Restorer.CopyTo(new Span<byte>(code + restorerAt, Restorer.Length));
        *(int*)(data + DataNsFd) = mountNsFd;
        if (caps is CapabilitySets sets) sets.Write(new Span<byte>(data + DataCapHeader, 32));
        if (HostSyscall.Call(SYS_mprotect, mem, PageSize, PROT_READ | PROT_EXEC) < 0) return new Result(0, 0, -1);

        // struct kernel_sigaction { handler; flags; restorer; mask }: every signal blocked while it runs.
        long* act = stackalloc long[4] { (long)code, (long)(SA_RESTORER | SA_RESTART), (long)(code + restorerAt), -1 };
        if (HostSyscall.Call(SYS_rt_sigaction, Signal, (long)act, 0, 8) < 0) return new Result(0, 0, -1);

        int pid = (int)HostSyscall.Call(SYS_getpid), self = (int)HostSyscall.Call(SYS_gettid);
        var handled = new HashSet<int> { self };
        int signalled = 0, unanswered = 0;
        int* done = (int*)(data + DataDone);
        // New threads can appear meanwhile (made by threads not yet moved): look again until none is new.
        for (int round = 0; round < 20; round++)
        {
            int before = signalled;
            foreach (int tid in Tasks(taskDirFd))
            {
                if (!handled.Add(tid)) continue;
                if (HostSyscall.Call(SYS_tgkill, pid, tid, Signal) == 0) signalled++;
            }
            if (signalled == before) break;
            long deadline = Environment.TickCount64 + timeoutMs;
            while (Volatile.Read(ref *done) < signalled && Environment.TickCount64 < deadline) Thread.Sleep(1);
            unanswered = signalled - Volatile.Read(ref *done);
        }
        // Late deliveries are harmless from now on.
        long* ignore = stackalloc long[4] { 1 /* SIG_IGN */, (long)SA_RESTORER, (long)(code + restorerAt), 0 };
        HostSyscall.Call(SYS_rt_sigaction, Signal, (long)ignore, 0, 8);
        return new Result(signalled, Volatile.Read(ref *(int*)(data + DataFailed)), unanswered);
    }

    /// <summary>Thread ids listed in a /proc/PID/task directory fd.</summary>
    static List<int> Tasks(int taskDirFd)
    {
        var tids = new List<int>();
        HostSyscall.Call(SYS_lseek, taskDirFd, 0, Linux.SEEK_SET);
        byte* buf = stackalloc byte[4096];
        while (true)
        {
            long n = HostSyscall.CallRestarting(SYS_getdents64, taskDirFd, (long)buf, 4096);
            if (n <= 0) return tids;
            var records = new ReadOnlySpan<byte>(buf, (int)n);
            while (records.Length >= 19)
            {
                int reclen = BinaryPrimitives.ReadUInt16LittleEndian(records[16..]);
                if (reclen < 19 || reclen > records.Length) break;
                ReadOnlySpan<byte> name = records[19..reclen];
                int nul = name.IndexOf((byte)0);
                if (nul >= 0) name = name[..nul];
                if (System.Buffers.Text.Utf8Parser.TryParse(name, out int tid, out int used) && used == name.Length) tids.Add(tid);
                records = records[reclen..];
            }
        }
    }
}
