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
        if (t.Fds.Get((int)a.A0) is not { } ef) return -Errno.EBADF;
        var target = t.Fds.Get((int)a.A2);
        if (target == null) return -Errno.EBADF;
        if (ef is not EventPoll ep || target == ef) return -Errno.EINVAL;
        if (target.Inode is { IsRegular: true } || target.IsDirectory) return -Errno.EPERM; // regular files and directories cannot be polled
        const int EPOLL_CTL_DEL = 2;
        uint events = 0; ulong data = 0;
        if ((int)a.A1 != EPOLL_CTL_DEL)
        {
            // struct epoll_event is packed on x86-64: u32 events, u64 data.
            if (t.Mm.Read(a.A3, out uint ev) < 0 || t.Mm.Read(a.A3 + 4, out ulong d) < 0) return -Errno.EFAULT;
            events = ev; data = d;
        }
        return ep.Control((int)a.A1, (int)a.A2, target, events, data);
    }

    static long EpollPwait2(Task t, in SyscallArgs a)
    {
        long r = ReadTimeout(t, a.A3, out var deadline);
        if (r < 0) return r;
        return EpollWait(t, (int)a.A0, a.A1, (int)a.A2, deadline, a.A4, a.A5);
    }

    static long EpollWait(Task t, int epfd, ulong events, int max, long? deadline, ulong sigmask, ulong sigsetsize)
    {
        if (max <= 0 || max > int.MaxValue / 12) return -Errno.EINVAL;
        if (t.Fds.Get(epfd) is not { } f) return -Errno.EBADF;
        if (f is not EventPoll ep) return -Errno.EINVAL;
        if (!t.Mm.IsWritable(events, (ulong)max * 12)) return -Errno.EFAULT;
        long m = SwapMask(t, sigmask, sigsetsize);
        if (m < 0) return m;
        var ready = new (uint Events, ulong Data)[Math.Min(max, 1024)];
        while (true)
        {
            int n = ep.Collect(ready);
            if (n > 0)
            {
                for (int i = 0; i < n; i++)
                {
                    if (Put(t, events + (ulong)i * 12, ready[i].Events) < 0 || Put(t, events + (ulong)i * 12 + 4, ready[i].Data) < 0) return -Errno.EFAULT;
                }
                RestoreSavedMask(t);
                return n;
            }
            if (deadline is { } d && System.Diagnostics.Stopwatch.GetTimestamp() >= d)
            {
                RestoreSavedMask(t);
                return 0;
            }
            if (t.SignalPending) return -Errno.EINTR;
            var entries = ep.Snapshot();
            var hostEntries = entries.Where(e => e.File.HostPollFd >= 0).ToArray();
            var queues = entries.Select(e => e.File.PollQueue).OfType<WaitQueue>().Distinct().ToList();
            foreach (var q in queues) q.Add(t);
            try
            {
                if (hostEntries.Length > 0)
                {
                    var pe = hostEntries.Select(e => new PollEntry { Fd = e.Fd, Events = (short)(e.Events & 0xffff) }).ToArray();
                    WaitHost(t, pe, hostEntries.Select(e => (FileDescription?)e.File).ToArray(), deadline);
                }
                else t.Block(deadline, () => ep.Poll(PollEvents.POLLIN) != 0);
            }
            finally { foreach (var q in queues) q.Remove(t); }
        }
    }
}
