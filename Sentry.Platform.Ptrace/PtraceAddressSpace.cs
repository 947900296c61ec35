using System.Collections.Concurrent;

namespace Sentry.Platform.Ptrace;

/// <summary>
/// An address space on ptrace: one stub process, with memory-file pages mmapped into it on demand.
/// Host calls that change the mapping (mmap, munmap, mprotect) run in the calling task's own stub
/// thread when it has one (any thread's mmap changes the whole process), else in the stub's first
/// thread via the spawner.
/// </summary>
internal sealed class PtraceAddressSpace : IAddressSpace
{
    const int SYS_mmap = 9, SYS_mprotect = 10, SYS_munmap = 11;
    const int MAP_SHARED = 1, MAP_FIXED = 0x10, MAP_POPULATE = 0x8000;

    /// <summary>Stub threads of this address space by the host thread (managed id) that traces them.</summary>
    readonly ConcurrentDictionary<int, StubThread> _threads = new();

    public StubProcess Stub { get; }

    public PtraceAddressSpace(MemoryFile memory) => Stub = StubSpawner.Run(() => new StubProcess(memory));

    /// <summary>The calling thread's stub thread here, created and seized on first use.</summary>
    public StubThread ThreadForCaller()
    {
        int me = Environment.CurrentManagedThreadId;
        if (_threads.TryGetValue(me, out var t)) return t;
        t = StubThread.Attach(Stub);
        _threads[me] = t;
        return t;
    }

    /// <summary>The calling thread's stub thread here, or null.</summary>
    public StubThread? CallerThread() => _threads.TryGetValue(Environment.CurrentManagedThreadId, out var t) ? t : null;

    /// <summary>Ends the calling thread's stub thread (the task leaves this address space).</summary>
    public void ReleaseCaller()
    {
        if (_threads.TryRemove(Environment.CurrentManagedThreadId, out var t)) t.Exit();
    }

    long Inject(long nr, ulong a1 = 0, ulong a2 = 0, ulong a3 = 0, ulong a4 = 0, ulong a5 = 0, ulong a6 = 0)
    {
        if (_threads.TryGetValue(Environment.CurrentManagedThreadId, out var t) && !t.Dead)
            return t.Inject(nr, a1, a2, a3, a4, a5, a6);
        return StubSpawner.Run(() => Stub.Inject(nr, a1, a2, a3, a4, a5, a6));
    }

    public long MapFile(ulong va, ulong length, long fileOffset, Protection prot, bool written = false)
    {
        // Populating a written range costs one walk in this call instead of one host page fault per
        // page when the application first touches it (each a trip through the hypervisor on a VM).
        ulong flags = (ulong)(MAP_SHARED | MAP_FIXED | (written ? MAP_POPULATE : 0));
        long r = Inject(SYS_mmap, va, length, (ulong)prot, flags, StubImage.MemoryFd, (ulong)fileOffset);
        return r < 0 ? r : 0;
    }

    public long Unmap(ulong va, ulong length) => Inject(SYS_munmap, va, length);

    public long Protect(ulong va, ulong length, Protection prot) => Inject(SYS_mprotect, va, length, (ulong)prot);

    /// <summary>Whether the stub process registered for expedited barriers (once; twice is harmless).</summary>
    volatile bool _barrierRegistered;

    /// <summary>
    /// The application's threads are the stub's: a membarrier injected into the stub (through the
    /// caller's own stopped stub thread) IPIs exactly the CPUs that run them. The global barrier if the host refuses.
    /// </summary>
    public void Barrier()
    {
        if (!_barrierRegistered)
        {
            if (Inject(HostMembarrier.SYS_membarrier, HostMembarrier.MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE) < 0) { HostMembarrier.Global(); return; }
            _barrierRegistered = true;
        }
        if (Inject(HostMembarrier.SYS_membarrier, HostMembarrier.MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE) < 0) HostMembarrier.Global();
    }

    /// <summary>Kills the stub process with all its threads.</summary>
    public void Dispose()
    {
        ReleaseCaller();
        foreach (var t in _threads.Values) t.Dead = true;
        StubSpawner.Run(() => { Stub.Dispose(); return 0; });
    }
}
