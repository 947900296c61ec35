using Sentry.Kernel.Abi;
using Sentry.Kernel.Signals;
using Sentry.Kernel.Tasks;
using Sentry.Kernel.Vfs;
using Sentry.Platform;
using static Sentry.Kernel.Abi.Linux;

namespace Sentry.Kernel.Syscalls;

// epoll and eventfd.
public static unsafe partial class Sys
{
    internal static void RegisterEpoll(SyscallHandler?[] t)
    {
        t[213] = (Task k, in SyscallArgs a) => (int)a.A0 <= 0 ? -Errno.EINVAL : k.Fds.Install(new EventPoll(), false); // epoll_create
        t[291] = (Task k, in SyscallArgs a) => ((int)a.A0 & ~O_CLOEXEC) != 0 ? -Errno.EINVAL : k.Fds.Install(new EventPoll(), ((int)a.A0 & O_CLOEXEC) != 0);
        t[233] = EpollCtl;
        t[232] = (Task k, in SyscallArgs a) => EpollWait(k, (int)a.A0, a.A1, (int)a.A2, (int)a.A3 < 0 ? null : DeadlineAfter((long)(int)a.A3 * 1_000_000), 0, 0);
        t[281] = (Task k, in SyscallArgs a) => EpollWait(k, (int)a.A0, a.A1, (int)a.A2, (int)a.A3 < 0 ? null : DeadlineAfter((long)(int)a.A3 * 1_000_000), a.A4, a.A5);
        t[441] = EpollPwait2;
        t[284] = (Task k, in SyscallArgs a) => k.Fds.Install(new EventFd((uint)a.A0, 0), false);  // eventfd
        t[290] = (Task k, in SyscallArgs a) =>                                                     // eventfd2
            ((int)a.A1 & ~(O_CLOEXEC | O_NONBLOCK | EventFd.EFD_SEMAPHORE)) != 0 ? -Errno.EINVAL
            : k.Fds.Install(new EventFd((uint)a.A0, (int)a.A1), ((int)a.A1 & O_CLOEXEC) != 0);
    }

    static long EpollCtl(Task t, in SyscallArgs a)
    {
        int op = (int)a.A1;
        uint events = 0; ulong data = 0;
        // The event is copied in before the fds are looked at, as do_epoll_ctl does.
        if (op is EventPoll.EPOLL_CTL_ADD or EventPoll.EPOLL_CTL_MOD)
        {
            // struct epoll_event is packed on x86-64: u32 events, u64 data.
            if (t.Mm.Read(a.A3, out uint ev) < 0 || t.Mm.Read(a.A3 + 4, out ulong d) < 0) return -Errno.EFAULT;
            events = ev; data = d;
        }
        if (t.Fds.Get((int)a.A0) is not { } ef) return -Errno.EBADF;
        if (t.Fds.Get((int)a.A2) is not { } target) return -Errno.EBADF;
        if (target.Inode is { IsRegular: true } || target.IsDirectory) return -Errno.EPERM; // files that cannot be polled
        if (ef is not EventPoll ep || target == ef) return -Errno.EINVAL;
        return ep.Control(op, (int)a.A2, target, events, data);
    }

    static long EpollPwait2(Task t, in SyscallArgs a)
    {
        long r = ReadTimeout(t, a.A3, out var deadline);
        if (r < 0) return r;
        return EpollWait(t, (int)a.A0, a.A1, (int)a.A2, deadline, a.A4, a.A5);
    }

    /// <summary>Most events an epoll_wait collects in a buffer on the stack; more take a pooled one.</summary>
    const int EpollBatch = 128;

    static long EpollWait(Task t, int epfd, ulong events, int max, long? deadline, ulong sigmask, ulong sigsetsize)
    {
        const int EP_MAX_EVENTS = int.MaxValue / 12; // INT_MAX / sizeof(struct epoll_event)
        if (max <= 0 || max > EP_MAX_EVENTS) return -Errno.EINVAL;
        if (!AccessOk(events, (ulong)max * 12)) return -Errno.EFAULT;
        if (t.Fds.Get(epfd) is not { } f) return -Errno.EBADF;
        if (f is not EventPoll ep) return -Errno.EINVAL;
        long m = SwapMask(t, sigmask, sigsetsize);
        if (m < 0) return m;
        // Room for every item that could be ready: on the stack when few, else pooled.
        int room = Math.Min(max, Math.Max(1, ep.ItemCount));
        (uint, ulong)[]? rented = room > EpollBatch ? System.Buffers.ArrayPool<(uint, ulong)>.Shared.Rent(room) : null;
        Span<(uint Events, ulong Data)> ready = rented != null ? rented.AsSpan(0, room) : stackalloc (uint, ulong)[Math.Min(room, EpollBatch)];
        try { return EpollWaitLoop(t, ep, events, ready, deadline); }
        finally { if (rented != null) System.Buffers.ArrayPool<(uint, ulong)>.Shared.Return(rented); }
    }

    static long EpollWaitLoop(Task t, EventPoll ep, ulong events, Span<(uint Events, ulong Data)> ready, long? deadline)
    {
        Span<(int HostFd, short Events)> host = stackalloc (int, short)[16];
        while (true)
        {
            int n = ep.Collect(ready);
            if (n > 0)
            {
                for (int i = 0; i < n; i++)
                {
                    ulong at = events + (ulong)i * 12;
                    if (Put(t, at, ready[i].Events) < 0 || Put(t, at + 4, ready[i].Data) < 0)
                    {
                        if (i == 0) return -Errno.EFAULT;
                        n = i;
                        break;
                    }
                }
                RestoreSavedMask(t);
                return n;
            }
            if (deadline is { } d && System.Diagnostics.Stopwatch.GetTimestamp() >= d)
            {
                RestoreSavedMask(t);
                return 0;
            }
            if (t.SignalPending) return -Errno.EINTR; // never restarted, as on Linux
            ep.AddSleeper(t);
            try
            {
                int nh = ep.HostItems(host);
                // Queued now, so a wakeup from here on kicks the host wait; one before is seen by HasReady.
                if (nh > 0) { if (!ep.HasReady) WaitHostFds(t, host[..nh], deadline); }
                else t.Block(deadline, () => ep.HasReady);
            }
            finally { ep.RemoveSleeper(t); }
        }
    }
}
