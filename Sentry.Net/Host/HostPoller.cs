using System.Runtime.InteropServices;
using Sentry.Platform;

namespace Sentry.Net.Host;

/// <summary>
/// The one thread that watches every host socket of a <see cref="HostNetworkStack"/>: a host
/// epoll set (edge-triggered, so each arrival, each freed room, each state change is one event)
/// whose events become <see cref="IEndpointListener.OnReadiness"/> calls on the endpoint's
/// listener, which wakes the tasks and epoll items of the sandbox's socket file.
/// </summary>
sealed unsafe class HostPoller : IDisposable
{
    const int EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2;
    const uint EPOLLIN = 1, EPOLLPRI = 2, EPOLLOUT = 4, EPOLLRDHUP = 0x2000, EPOLLET = 1u << 31;

    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    struct EpollEvent { public uint Events; public ulong Data; }

    readonly int _epfd, _wakeFd;
    readonly Thread _thread;
    readonly Dictionary<ulong, HostEndpoint> _endpoints = new();
    ulong _nextId = 1;
    volatile bool _stopping;

    public HostPoller()
    {
        _epfd = (int)HostSyscall.Call(291 /* epoll_create1 */, 0x80000 /* EPOLL_CLOEXEC */);
        if (_epfd < 0) throw new InvalidOperationException($"epoll_create1: {Errno.Name(-_epfd)}");
        _wakeFd = (int)HostSyscall.Call(290 /* eventfd2 */, 0, 0x80000 | 0x800);
        var ev = new EpollEvent { Events = EPOLLIN, Data = 0 };
        HostSyscall.Call(233 /* epoll_ctl */, _epfd, EPOLL_CTL_ADD, _wakeFd, (long)&ev);
        _thread = new Thread(Loop) { Name = "sentry-net-host", IsBackground = true };
        _thread.Start();
    }

    /// <summary>Starts watching <paramref name="e"/>'s host fd; the id goes with it until <see cref="Remove"/>.</summary>
    public ulong Add(HostEndpoint e)
    {
        ulong id;
        lock (_endpoints)
        {
            id = _nextId++;
            _endpoints[id] = e;
        }
        // Adding a ready fd queues one event for what already holds: not a change the sandbox
        // should see as an edge (an edge-triggered epoll item added after it would fire twice).
        // The first event is dropped when it says nothing new: no bit that was not ready as the
        // fd was added, no more bytes to read (then it also carries a real change and goes on).
        e.EchoMask = e.Readiness;
        e.EchoAvailable = e.Available;
        Volatile.Write(ref e.EchoPending, e.EchoMask != 0 ? 1 : 0);
        var ev = new EpollEvent { Events = EPOLLIN | EPOLLOUT | EPOLLPRI | EPOLLRDHUP | EPOLLET, Data = id };
        HostSyscall.Call(233, _epfd, EPOLL_CTL_ADD, e.Fd, (long)&ev);
        return id;
    }

    /// <summary>Stops watching (before the fd is closed, so a reused number is never confused).</summary>
    public void Remove(ulong id, int fd)
    {
        HostSyscall.Call(233, _epfd, EPOLL_CTL_DEL, fd, 0);
        lock (_endpoints) _endpoints.Remove(id);
    }

    void Loop()
    {
        const int Max = 64;
        var events = new EpollEvent[Max];
        while (!_stopping)
        {
            long n;
            fixed (EpollEvent* p = events) n = HostSyscall.Call(232 /* epoll_wait */, _epfd, (long)p, Max, -1);
            if (n < 0) { if (n == -Errno.EINTR) continue; return; }
            for (int i = 0; i < n; i++)
            {
                if (events[i].Data == 0) continue; // the stop eventfd
                HostEndpoint? e;
                lock (_endpoints) _endpoints.TryGetValue(events[i].Data, out e);
                if (e == null) continue;
                int bits = (int)(events[i].Events & 0xffff);
                if (Interlocked.Exchange(ref e.EchoPending, 0) == 1 && (bits & ~e.EchoMask) == 0 && e.Available == e.EchoAvailable) continue;
                try { e.Listener?.OnReadiness(bits); }
                catch (Exception ex) { Console.Error.WriteLine($"sentry: host network listener failed: {ex}"); }
            }
        }
    }

    public void Dispose()
    {
        _stopping = true;
        ulong one = 1;
        HostSyscall.Call(1 /* write */, _wakeFd, (long)&one, 8);
        _thread.Join(TimeSpan.FromSeconds(2));
        HostSyscall.Call(3, _epfd);
        HostSyscall.Call(3, _wakeFd);
    }
}
