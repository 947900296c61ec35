using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;
using static Sentry.Platform.PosixSpawn;

namespace Sentry.Platform.Ptrace;

/// <summary>
/// One traced stub process: the host process whose address space holds an application's pages.
/// Started with posix_spawn (vfork+exec inside libc, so the .NET runtime is never forked) from the
/// thread that will trace it; the stub makes itself a tracee of that thread (PTRACE_TRACEME).
/// </summary>
internal sealed unsafe partial class StubProcess : IDisposable
{
    static readonly object s_imageLock = new();
    static int s_imageFd = -1;

    public int Pid { get; private set; }

    /// <summary>The memory-file descriptor of the stub is <see cref="StubImage.MemoryFd"/>.</summary>
    public StubProcess(MemoryFile memory)
    {
        int imageFd = ImageFd();
        byte[] path = System.Text.Encoding.ASCII.GetBytes($"/proc/self/fd/{imageFd}\0");
        byte* fa = stackalloc byte[256];
        byte* attr = stackalloc byte[512];
        byte* mask = stackalloc byte[128];
        new Span<byte>(mask, 128).Clear();
        posix_spawn_file_actions_init(fa);
        posix_spawn_file_actions_adddup2(fa, memory.Fd, StubImage.MemoryFd);
        posix_spawnattr_init(attr);
        posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK);
        posix_spawnattr_setsigmask(attr, mask);
        int pid;
        byte* argv0 = stackalloc byte[] { (byte)'s', (byte)'e', (byte)'n', (byte)'t', (byte)'r', (byte)'y', (byte)'-', (byte)'s', (byte)'t', (byte)'u', (byte)'b', 0 };
        byte** argv = stackalloc byte*[2] { argv0, null };
        byte** envp = stackalloc byte*[1] { null };
        int rc;
        fixed (byte* p = path) rc = posix_spawn(&pid, p, fa, attr, argv, envp);
        posix_spawn_file_actions_destroy(fa);
        posix_spawnattr_destroy(attr);
        if (rc != 0) throw new InvalidOperationException($"cannot start ptrace stub: posix_spawn errno {rc}");
        Pid = pid;

        // The stub stops itself with SIGSTOP once it is traced.
        Ptrace.Wait(pid, out int status);
        if (!Ptrace.Stopped(status) || Ptrace.StopSignal(status) != Ptrace.SIGSTOP)
            throw new InvalidOperationException($"ptrace stub did not stop as expected (status 0x{status:x})");
        long r = Ptrace.Request(Ptrace.PTRACE_SETOPTIONS, pid, 0, Ptrace.PTRACE_O_TRACESYSGOOD | Ptrace.PTRACE_O_EXITKILL);
        if (r < 0) throw new InvalidOperationException($"PTRACE_SETOPTIONS failed: {r}");
        PinToCurrentCpu();
    }

    static int ImageFd()
    {
        lock (s_imageLock)
        {
            if (s_imageFd >= 0) return s_imageFd;
            byte[] name = "sentry-stub\0"u8.ToArray();
            int fd;
            fixed (byte* n = name) fd = memfd_create(n, MFD_CLOEXEC);
            if (fd < 0) throw new InvalidOperationException($"memfd_create(stub) failed: errno {errno}");
            ReadOnlySpan<byte> image = StubImage.Image;
            fixed (byte* p = image) write(fd, p, image.Length);
            return s_imageFd = fd;
        }
    }

    /// <summary>
    /// Puts the tracer thread and the stub on the same CPU: a ptrace round trip costs ~6 µs when
    /// they share one and ~46 µs across CPUs.
    /// </summary>
    public void PinToCurrentCpu() => PinToCurrentCpu(Pid);

    /// <summary>Pins the calling thread and stub thread <paramref name="tid"/> to the CPU the caller is on.</summary>
    public static void PinToCurrentCpu(int tid)
    {
        int cpu = sched_getcpu();
        if (cpu < 0) return;
        cpu_set_t set = default;
        CPU_SET(cpu, &set);
        sched_setaffinity(0, (size_t)sizeof(cpu_set_t), &set);
        sched_setaffinity(tid, (size_t)sizeof(cpu_set_t), &set);
    }

    /// <summary>
    /// Runs host syscall <paramref name="nr"/> inside the stub (which must be in a ptrace stop) and
    /// returns its result. Clobbers the stub's registers: the caller reloads application state.
    /// </summary>
    public long Inject(long nr, ulong a1 = 0, ulong a2 = 0, ulong a3 = 0, ulong a4 = 0, ulong a5 = 0, ulong a6 = 0) =>
        InjectAt(StubImage.SyscallSite, nr, a1, a2, a3, a4, a5, a6);

    long InjectAt(ulong site, long nr, ulong a1 = 0, ulong a2 = 0, ulong a3 = 0, ulong a4 = 0, ulong a5 = 0, ulong a6 = 0) =>
        InjectInto(Pid, site, nr, a1, a2, a3, a4, a5, a6, ref _interruptPending);

    /// <summary>Runs host syscall <paramref name="nr"/> in stub thread <paramref name="tid"/>, which the calling thread traces and which is stopped.</summary>
    internal static long InjectInto(int tid, ulong site, long nr, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5, ulong a6, ref bool interruptPending)
    {
        UserRegs regs = default;
        Ptrace.GetRegs(tid, ref regs);
        regs.rip = site;
        regs.rax = (ulong)nr; regs.orig_rax = ulong.MaxValue;
        regs.rdi = a1; regs.rsi = a2; regs.rdx = a3; regs.r10 = a4; regs.r8 = a5; regs.r9 = a6;
        Ptrace.SetRegs(tid, ref regs);
        while (true)
        {
            Ptrace.Request(Ptrace.PTRACE_CONT, tid, 0, 0);
            Ptrace.Wait(tid, out int status);
            if (!Ptrace.Stopped(status))
                throw new StubDiedException(status);
            int sig = Ptrace.StopSignal(status);
            if (sig == Ptrace.SIGTRAP) break;
            // A pending Interrupt() arrived first: it is reported by the next switch.
            if (sig == Ptrace.SIGSTOP || sig == Ptrace.InterruptSignal) { interruptPending = true; continue; }
            throw new InvalidOperationException($"ptrace stub got signal {sig} during injected syscall {nr}");
        }
        Ptrace.GetRegs(tid, ref regs);
        return (long)regs.rax;
    }

    /// <summary>Set when an interrupting signal was swallowed by an injection.</summary>
    internal bool _interruptPending;

    /// <summary>
    /// Creates a new stub thread (clone with CLONE_THREAD) that parks in pause() untraced, for a
    /// task thread to seize. Runs on the thread tracing the stub's first thread. Returns the tid or -errno.
    /// </summary>
    public long NewThread()
    {
        const ulong flags = 0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x40000; // VM|FS|FILES|SIGHAND|THREAD|SYSVSEM
        return InjectAt(StubImage.CloneSite, 56 /* clone */, flags);
    }

    /// <summary>Kills the whole stub process (all its threads). Must run on the thread that started it.</summary>
    public void Dispose()
    {
        if (Pid > 0)
        {
            kill(Pid, Ptrace.SIGKILL);
            // Reap the first thread; seized threads are reaped by their own tracers (or by init of the host).
            while (Ptrace.Wait(Pid, out int st) > 0 && Ptrace.Stopped(st)) { }
            Pid = 0;
        }
    }
}
