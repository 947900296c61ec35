using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs;

/// <summary>
/// Signal-driven I/O of one open file (O_ASYNC with F_SETOWN, fcntl(2)): while O_ASYNC is set the
/// file's owner gets SIGIO (or the F_SETSIG signal) each time the file becomes readable or
/// writable, as kill_fasync sends it. It sits on the file's poll queue like an epoll item.
/// </summary>
public sealed class AsyncNotify : IWaiter
{
    const int SIGIO = 29, SI_SIGIO = -5, POLL_IN = 1, POLL_OUT = 2, POLL_ERR = 4, POLL_HUP = 6;

    readonly Sandbox _sandbox;
    readonly FileDescription _file;
    readonly WaitQueue _queue;
    bool _on;

    /// <summary>F_SETOWN: a process (pid &gt; 0) or a process group (-pgid); 0 sends nothing.</summary>
    public int Owner { get; set; }
    /// <summary>F_SETSIG: the signal sent; 0 means SIGIO.</summary>
    public int Signal { get; set; }

    public AsyncNotify(Sandbox sandbox, FileDescription file, WaitQueue queue)
    {
        _sandbox = sandbox;
        _file = file;
        _queue = queue;
    }

    /// <summary>Follows the file's O_ASYNC flag: on the file's poll queue while it is set.</summary>
    public void Update()
    {
        bool want = (_file.Flags & Linux.O_ASYNC) != 0;
        lock (this)
        {
            if (want == _on) return;
            _on = want;
            if (want) _queue.Add(this); else _queue.Remove(this);
        }
    }

    /// <summary>The file's last close: no more signals for it.</summary>
    public void Detach()
    {
        lock (this)
        {
            if (_on) _queue.Remove(this);
            _on = false;
        }
    }

    public bool Wake(int key)
    {
        if (key == WaitQueue.BlockedOnly) return false;
        int owner = Owner;
        if (owner == 0) return false;
        int sig = Signal == 0 ? SIGIO : Signal;
        // With F_SETSIG the siginfo says which band; plain SIGIO carries SI_KERNEL's nothing much.
        int band = key == 0 ? PollEvents.POLLIN | PollEvents.POLLOUT : key;
        var info = SigInfo.FromKill(sig, Signal == 0 ? SigInfo.SI_KERNEL : SI_SIGIO, 0, 0);
        info.si_code = Signal == 0 ? SigInfo.SI_KERNEL : (band & PollEvents.POLLERR) != 0 ? POLL_ERR
            : (band & PollEvents.POLLHUP) != 0 ? POLL_HUP : (band & PollEvents.POLLIN) != 0 ? POLL_IN : POLL_OUT;
        // Posted from a thread-pool work item: a wake-up runs under the queue's lock, which must
        // not reach the process tree's.
        ThreadPool.UnsafeQueueUserWorkItem(static s => s.Self.Send(s.Owner, s.Info), (Self: this, Owner: owner, Info: info), preferLocal: false);
        return true;
    }

    void Send(int owner, SigInfo info)
    {
        if (owner > 0)
        {
            if (_sandbox.FindGroup(owner) is { } g) _sandbox.PostToProcess(g, info);
            return;
        }
        foreach (var g in _sandbox.LiveGroups())
            if (g.Pgid == -owner) _sandbox.PostToProcess(g, info);
    }
}
