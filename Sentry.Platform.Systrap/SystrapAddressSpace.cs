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

    public SystrapAddressSpace(MemoryFile memory, Action<string>? onFailure = null) => Stub = new StubProcess(memory) { OnFailure = onFailure };

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

    /// <summary>Guards the queues of host calls in this address space's slots: what is queued, posted, stolen.</summary>
    readonly object _opsLock = new();
    /// <summary>Threads with calls queued and not yet posted.</summary>
    readonly HashSet<StubThread> _pending = new();
    /// <summary>Threads posted with calls they may still be running (until their queue reads empty).</summary>
    readonly HashSet<StubThread> _inFlight = new();

    /// <summary>
    /// Runs one host call in the stub. <paramref name="deferred"/>: a call that only adds access may
    /// wait in the caller's queue until its thread next resumes the application (see
    /// <see cref="BeforeResume"/>). A call that removes access first makes every queued call of every
    /// thread here run (stolen into the caller's queue, or waited for when already posted), so no
    /// older mapping can reappear after it.
    /// </summary>
    long Run(bool deferred, long nr, ulong a1 = 0, ulong a2 = 0, ulong a3 = 0, ulong a4 = 0, ulong a5 = 0, ulong a6 = 0)
    {
        var t = CallerThread();
        if (t != null && t.Dead) t = null;
        lock (_opsLock)
        {
            // The caller's thread trapped since its last resume, so what it posted then has run.
            if (t != null) _inFlight.Remove(t);
            if (deferred && t != null)
            {
                if (!t.Slot.Queue(nr, a1, a2, a3, a4, a5, a6))
                {
                    RunNow(t, t.Slot);
                    t.Slot.Queue(nr, a1, a2, a3, a4, a5, a6);
                }
                _pending.Add(t);
                Volatile.Write(ref _queued, 1);
                return 0;
            }
            Slot q = t?.Slot ?? Stub.Control;
            lock (t == null ? Stub.ControlLock : _opsLock)
            {
                // Everything queued before this call runs before it.
                foreach (var other in _inFlight) WaitApplied(other);
                _inFlight.Clear();
                foreach (var other in _pending)
                {
                    if (other == t) continue;
                    var from = other.Slot;
                    int n = from.QueuedOps;
                    for (int i = 0; i < n; i++)
                    {
                        if (q.QueuedOps >= Layout.MaxOps) RunNow(t, q);
                        q.CopyOp(from, i);
                    }
                    from.Word(Layout.OpCount) = 0;
                }
                _pending.Clear();
                if (q.QueuedOps >= Layout.MaxOps) RunNow(t, q);
                q.Queue(nr, a1, a2, a3, a4, a5, a6);
                return RunNow(t, q);
            }
        }
    }

    /// <summary>Runs queue <paramref name="q"/> now in <paramref name="t"/> (or the control thread when null); the last call's result.</summary>
    long RunNow(StubThread? t, Slot q)
    {
        int n = q.QueuedOps;
        if (n == 0) return 0;
        if (t != null) return t.RunQueued(n);
        Stub.RunControl(CmdOps);
        return q.OpResult(n - 1);
    }

    /// <summary>Waits until the stub thread of <paramref name="t"/> ran the calls posted with its last resume.</summary>
    void WaitApplied(StubThread t)
    {
        var spin = new SpinWait();
        while (t.Slot.QueuedOps != 0 && !t.Dead)
        {
            spin.SpinOnce();
            if (spin.Count > 1000 && (spin.Count & 1023) == 0 && (!Stub.Alive || Volatile.Read(ref t.Slot.Word(Layout.Tid)) == 0)) break;
        }
    }

    /// <summary>
    /// A page fault in thread <paramref name="t"/> may be on a page another thread has just had
    /// mapped, in a queue that has not run yet: the kernel would find the page mapped and call the
    /// fault spurious, and after a few such faults, a violation. So before a fault is reported, every
    /// other thread's queued calls run (here, in <paramref name="t"/>) and posted ones finish.
    /// </summary>
    public void FlushOthers(StubThread t)
    {
        if (Volatile.Read(ref _queued) == 0) return;
        lock (_opsLock)
        {
            foreach (var other in _inFlight) if (other != t) WaitApplied(other);
            _inFlight.Clear();
            var q = t.Slot;
            foreach (var other in _pending)
            {
                if (other == t) continue;
                var from = other.Slot;
                int n = from.QueuedOps;
                for (int i = 0; i < n; i++)
                {
                    if (q.QueuedOps >= Layout.MaxOps) RunNow(t, q);
                    q.CopyOp(from, i);
                }
                from.Word(Layout.OpCount) = 0;
            }
            bool mine = _pending.Contains(t);
            _pending.Clear();
            if (mine) _pending.Add(t);
            // The caller's own queue runs too: its thread is about to be told about the fault, not resumed.
            RunNow(t, q);
            _pending.Remove(t);
            Volatile.Write(ref _queued, 0);
        }
    }

    /// <summary>Nonzero while some thread may have calls queued or in flight (read without the lock).</summary>
    int _queued;

    /// <summary>Called by the context before it posts "resume" with calls queued: they are now in flight.</summary>
    public void BeforeResume(StubThread t, Slot slot)
    {
        if (slot.QueuedOps == 0) return;
        lock (_opsLock)
        {
            _pending.Remove(t);
            if (slot.QueuedOps > 0) _inFlight.Add(t);
            slot.Post(CmdResume);
        }
    }

    static readonly bool NoDefer = Environment.GetEnvironmentVariable("SENTRY_SYSTRAP_NODEFER") == "1";

    public long MapFile(ulong va, ulong length, long fileOffset, Protection prot, bool written = false)
    {
        ulong flags = (ulong)(MAP_SHARED | MAP_FIXED | (written ? MAP_POPULATE : 0));
        long r = Run(deferred: !NoDefer, SYS_mmap, va, length, (ulong)prot, flags, MemoryFd, (ulong)fileOffset);
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
