using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using static Sentry.Platform.Systrap.Layout;
using Tmds.Linux;
using static Tmds.Linux.LibC;
using static Sentry.Platform.PosixSpawn;

namespace Sentry.Platform.Systrap;

/// <summary>
/// One systrap stub process: the host process whose address space holds one application address
/// space. Started with posix_spawn of the stub image (vfork+exec inside libc, so .NET is never
/// forked) from one long-lived thread (the stub's parent-death signal follows that thread), given
/// the memory file and its own shared region. Sentry talks to its control thread through slot 1.
/// </summary>
internal sealed unsafe partial class StubProcess : IDisposable
{
    [LibraryImport("libc")] private static partial ulong getauxval(ulong type);

    static readonly object s_imageLock = new();
    static int s_imageFd = -1;
    static readonly byte[] s_filter = SeccompFilter.Build();
    /// <summary>Whether user space may use rdfsbase/wrfsbase here (AT_HWCAP2 bit HWCAP2_FSGSBASE).</summary>
    public static readonly bool Fsgsbase = (getauxval(26 /* AT_HWCAP2 */) & 2) != 0;

    public int Pid { get; private set; }
    int _pidfd = -1;
    int _sharedFd = -1;
    public byte* SharedPointer { get; private set; }
    public Slot Control { get; }
    readonly object _controlLock = new();
    readonly ConcurrentBag<int> _freeSlots = new();
    int _nextSlot = ControlSlot + 1;
    volatile bool _disposed;

    public StubProcess(MemoryFile memory)
    {
        byte[] name = "sentry-systrap\0"u8.ToArray();
        fixed (byte* n = name) _sharedFd = memfd_create(n, MFD_CLOEXEC);
        if (_sharedFd < 0) throw new InvalidOperationException($"memfd_create(systrap shared) failed: errno {errno}");
        // posix_spawn dup2s the memory file to MemoryFd first: the shared region's descriptor must
        // not be that number, or it would be overwritten before it is moved to SharedFd.
        if (_sharedFd <= SharedFd)
        {
            int high = fcntl(_sharedFd, F_DUPFD_CLOEXEC, SharedFd + 1);
            if (high < 0) throw new InvalidOperationException($"fcntl(F_DUPFD_CLOEXEC) failed: errno {errno}");
            close(_sharedFd);
            _sharedFd = high;
        }
        if (ftruncate(_sharedFd, (long)SharedSize) < 0) throw new InvalidOperationException($"ftruncate(systrap shared) failed: errno {errno}");
        void* p = mmap(null, (size_t)SharedSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, _sharedFd, 0);
        if (p == MAP_FAILED) throw new InvalidOperationException($"mmap(systrap shared) failed: errno {errno}");
        SharedPointer = (byte*)p;
        Control = new Slot(this, ControlSlot);
        WriteHeader();
        try
        {
            Pid = s_spawner.Run(() => Spawn(memory.Fd, _sharedFd));
            _pidfd = (int)HostSyscall.Call(434 /* pidfd_open */, Pid, 0);
            // The control thread posts once it is set up (or failed, saying why in SetupError).
            long started = System.Diagnostics.Stopwatch.GetTimestamp();
            Control.Unresponsive = () => System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds > 20;
            Control.WaitEvent(thread: false);
            Control.Unresponsive = null;
            int err = (int)Control.Word(SetupError);
            if (err != 0) throw new InvalidOperationException($"systrap stub setup failed: errno {-err}");
        }
        catch
        {
            Dispose();
            throw;
        }
        close(_sharedFd);
        _sharedFd = -1;
    }

    void WriteHeader()
    {
        var image = StubCode.Image;
        byte* h = SharedPointer;
        s_filter.CopyTo(new Span<byte>(h + Filter, s_filter.Length));
        *(ushort*)(h + Fprog) = (ushort)(s_filter.Length / 8);
        *(ulong*)(h + Fprog + 8) = SharedBase + Filter;
        *(uint*)(h + HasFsgsbase) = Fsgsbase ? 1u : 0u;
        ulong* act = (ulong*)(h + SigAction);
        act[0] = image.Handler;
        act[1] = 4 /* SA_SIGINFO */ | 0x0800_0000 /* SA_ONSTACK */ | 0x0400_0000 /* SA_RESTORER */;
        act[2] = image.Restorer;
        act[3] = ulong.MaxValue; // block everything while the handler runs
        *(uint*)(h + Spin) = 0;
    }

    int Spawn(int memoryFd, int sharedFd)
    {
        int imageFd = ImageFd();
        byte[] path = System.Text.Encoding.ASCII.GetBytes($"/proc/self/fd/{imageFd}\0");
        byte* fa = stackalloc byte[256];
        byte* attr = stackalloc byte[512];
        byte* mask = stackalloc byte[128];
        new Span<byte>(mask, 128).Clear();
        posix_spawn_file_actions_init(fa);
        posix_spawn_file_actions_adddup2(fa, memoryFd, MemoryFd);
        posix_spawn_file_actions_adddup2(fa, sharedFd, SharedFd);
        posix_spawnattr_init(attr);
        // Its own process group: a terminal's ^C or ^Z goes to Sentry, never straight to a stub.
        posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
        posix_spawnattr_setsigmask(attr, mask);
        posix_spawnattr_setpgroup(attr, 0);
        int pid;
        byte[] argv0 = "sentry-systrap\0"u8.ToArray();
        int rc;
        fixed (byte* a0 = argv0)
        {
            byte** argv = stackalloc byte*[2] { a0, null };
            byte** envp = stackalloc byte*[1] { null };
            fixed (byte* pp = path) rc = posix_spawn(&pid, pp, fa, attr, argv, envp);
        }
        posix_spawn_file_actions_destroy(fa);
        posix_spawnattr_destroy(attr);
        if (rc != 0) throw new InvalidOperationException($"cannot start systrap stub: posix_spawn errno {rc}");
        return pid;
    }

    static int ImageFd()
    {
        lock (s_imageLock)
        {
            if (s_imageFd >= 0) return s_imageFd;
            byte[] name = "sentry-systrap-stub\0"u8.ToArray();
            int fd;
            fixed (byte* n = name) fd = memfd_create(n, MFD_CLOEXEC);
            if (fd < 0) throw new InvalidOperationException($"memfd_create(stub) failed: errno {errno}");
            byte[] image = StubCode.Image.Elf;
            fixed (byte* p = image) write(fd, p, image.Length);
            return s_imageFd = fd;
        }
    }

    /// <summary>Whether the stub process still runs.</summary>
    public bool Alive
    {
        get
        {
            if (_disposed || Pid <= 0) return false;
            if (_pidfd < 0) return HostSyscall.Call(62 /* kill */, Pid, 0) == 0;
            pollfd pfd = new() { fd = _pidfd, events = POLLIN };
            return poll(&pfd, 1, 0) == 0;
        }
    }

    /// <summary>Told once why the stub failed under a running sandbox (the platform reports it).</summary>
    public Action<string>? OnFailure;

    /// <summary>The exception for a stub that failed, reported to <see cref="OnFailure"/> first.</summary>
    public StubDiedException Failed(string why)
    {
        if (!_disposed) OnFailure?.Invoke(why);
        return new StubDiedException(why);
    }

    public string DeathReason() => _disposed ? "the systrap stub was shut down" : $"the systrap stub process {Pid} died unexpectedly";

    /// <summary>Runs the control thread's queue (see <see cref="Slot.Queue"/>); the caller holds <see cref="ControlLock"/>.</summary>
    public void RunControl(uint command)
    {
        Control.Post(command);
        Control.WaitEvent(thread: false);
    }

    public object ControlLock => _controlLock;

    /// <summary>Allocates a slot for a new stub thread and creates the thread. Returns the slot, its thread trapped at start.</summary>
    public Slot NewThread()
    {
        int index;
        if (!_freeSlots.TryTake(out index))
        {
            index = Interlocked.Increment(ref _nextSlot) - 1;
            if (index >= MaxSlots) throw new InvalidOperationException("too many systrap stub threads");
        }
        var slot = new Slot(this, index);
        slot.Word(State) = Running;
        slot.Word(StubWaiting) = 0;
        slot.Word(SentryWaiting) = 0;
        slot.Word(OpCount) = 0;
        slot.Qword(FsWant) = 0; slot.Qword(FsHave) = 0; slot.Qword(GsWant) = 0; slot.Qword(GsHave) = 0;
        slot.Word(Spin) = Slot.MaxStubSpin;
        long tid;
        lock (_controlLock)
        {
            Control.Qword(CloneSlot) = slot.StubAddress;
            RunControl(CmdClone);
            tid = (long)Control.Qword(CloneResult);
        }
        if (tid <= 0) { _freeSlots.Add(index); throw new InvalidOperationException($"cannot create a systrap stub thread: clone returned {tid}"); }
        // The new thread traps at once (int3 in the stub): that is its first event.
        slot.WaitEvent(thread: true);
        return slot;
    }

    /// <summary>Ends the thread of <paramref name="slot"/> (it must be waiting for a command) and recycles the slot once the host says it is gone.</summary>
    public void EndThread(Slot slot)
    {
        if (!Alive) return;
        int tid = (int)Volatile.Read(ref slot.Word(Tid));
        slot.Post(CmdExit);
        // CLONE_CHILD_CLEARTID: the host zeroes the tid word and wakes it when the thread is gone.
        long* timeout = stackalloc long[2];
        for (int tries = 0; tries < 50 && tid != 0; tries++)
        {
            timeout[0] = 0; timeout[1] = 100_000_000;
            HostSyscall.Call(202, (long)(slot.P + Tid), 0 /* FUTEX_WAIT */, tid, (long)timeout);
            tid = (int)Volatile.Read(ref slot.Word(Tid));
            if (!Alive) return;
        }
        if (tid == 0) _freeSlots.Add(slot.Index);
    }

    /// <summary>Kills the stub process (its threads' waiters then see it gone); Dispose still reaps it.</summary>
    public void Kill()
    {
        if (Pid > 0 && !_disposed) kill(Pid, SIGKILL);
    }

    /// <summary>Kills the stub process with all its threads and frees the shared region.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (Pid > 0)
        {
            kill(Pid, SIGKILL);
            int status;
            HostSyscall.CallRestarting(61 /* wait4 */, Pid, (long)&status, 0x40000000 /* __WALL */, 0);
        }
        if (_pidfd >= 0) close(_pidfd);
        if (_sharedFd >= 0) close(_sharedFd);
        // The shared mapping stays until here: a Sentry thread may still look at a slot.
        if (SharedPointer != null) munmap(SharedPointer, (size_t)SharedSize);
        SharedPointer = null;
    }

    /// <summary>One long-lived thread that starts every stub (PR_SET_PDEATHSIG fires when the creating thread exits).</summary>
    static readonly DedicatedThread s_spawner = new("sentry-systrap-spawner");
}
