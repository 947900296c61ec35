using System.Collections.Concurrent;
using static Sentry.Platform.Systrap.Layout;

namespace Sentry.Platform.Systrap;

/// <summary>
/// An address space on systrap: one stub process, with memory-file pages mapped into it on
/// demand. Host calls that change the mapping run in the calling task's own stub thread when it
/// has one here (it is waiting in its signal handler, and any thread's mmap changes the whole
/// process), else in the stub's control thread. Mappings that only add access (a fault being
/// resolved) are queued and run by the thread as it resumes the application, so a fault costs one
/// trip; anything that removes access (munmap, mprotect) runs before the call returns, because the
/// kernel frees or reuses the pages right after.
/// </summary>
internal sealed class SystrapAddressSpace : IAddressSpace
{
    const int SYS_mmap = 9, SYS_mprotect = 10, SYS_munmap = 11;
    const int MAP_SHARED = 1, MAP_FIXED = 0x10, MAP_POPULATE = 0x8000;

    /// <summary>Stub threads of this address space by the host thread (managed id) whose task runs in them.</summary>
    readonly ConcurrentDictionary<int, StubThread> _threads = new();

    public StubProcess Stub { get; }

    public SystrapAddressSpace(MemoryFile memory) => Stub = new StubProcess(memory);

    /// <summary>The calling thread's stub thread here, created on first use.</summary>
    public StubThread ThreadForCaller()
    {
        int me = Environment.CurrentManagedThreadId;
        if (_threads.TryGetValue(me, out var t)) return t;
        t = new StubThread(Stub, Stub.NewThread());
        _threads[me] = t;
        return t;
    }

    public StubThread? CallerThread() => _threads.TryGetValue(Environment.CurrentManagedThreadId, out var t) ? t : null;

    /// <summary>Ends the calling thread's stub thread (the task leaves this address space).</summary>
    public void ReleaseCaller()
    {
        if (_threads.TryRemove(Environment.CurrentManagedThreadId, out var t)) t.Exit();
    }

    /// <summary>
    /// Runs one host call in the stub. <paramref name="deferred"/>: the caller's own thread may run it
    /// when it next resumes the application (only for calls that add access).
    /// </summary>
    long Run(bool deferred, long nr, ulong a1 = 0, ulong a2 = 0, ulong a3 = 0, ulong a4 = 0, ulong a5 = 0, ulong a6 = 0)
    {
        var t = CallerThread();
        if (t != null && !t.Dead)
        {
            var slot = t.Slot;
            if (deferred && slot.Queue(nr, a1, a2, a3, a4, a5, a6)) return 0;
            if (slot.QueuedOps > 0 || !deferred)
            {
                int n = slot.QueuedOps;
                if (!deferred) { slot.Queue(nr, a1, a2, a3, a4, a5, a6); n++; }
                long r = t.RunQueued(n);
                if (!deferred) return r;
                slot.Queue(nr, a1, a2, a3, a4, a5, a6);
                return 0;
            }
        }
        lock (Stub.ControlLock)
        {
            var c = Stub.Control;
            c.Queue(nr, a1, a2, a3, a4, a5, a6);
            Stub.RunControl(CmdOps);
            return c.OpResult(0);
        }
    }

    public long MapFile(ulong va, ulong length, long fileOffset, Protection prot, bool written = false)
    {
        ulong flags = (ulong)(MAP_SHARED | MAP_FIXED | (written ? MAP_POPULATE : 0));
        long r = Run(deferred: false, SYS_mmap, va, length, (ulong)prot, flags, MemoryFd, (ulong)fileOffset);
        return r < 0 ? r : 0;
    }

    public long Unmap(ulong va, ulong length) => Run(deferred: false, SYS_munmap, va, length);

    public long Protect(ulong va, ulong length, Protection prot) => Run(deferred: false, SYS_mprotect, va, length, (ulong)prot);

    volatile bool _barrierRegistered;

    /// <summary>The application's threads are the stub's: an expedited membarrier run in the stub IPIs exactly their CPUs.</summary>
    public void Barrier()
    {
        if (!_barrierRegistered)
        {
            if (Run(false, HostMembarrier.SYS_membarrier, HostMembarrier.MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE) < 0) { HostMembarrier.Global(); return; }
            _barrierRegistered = true;
        }
        if (Run(false, HostMembarrier.SYS_membarrier, HostMembarrier.MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE) < 0) HostMembarrier.Global();
    }

    public void Dispose()
    {
        foreach (var t in _threads.Values) t.Dead = true;
        _threads.Clear();
        Stub.Dispose();
    }
}
