using Sentry.Kernel.Abi;
using Sentry.Kernel.Signals;
using Sentry.Kernel.Tasks;
using Sentry.Kernel.Vfs;
using Sentry.Platform;
using static Sentry.Kernel.Abi.Linux;
using static Sentry.Kernel.Vfs.PollEvents;

namespace Sentry.Kernel.Syscalls;

// pipe, pipe2, poll, ppoll, select, pselect6.
public static unsafe partial class Sys
{
    internal static void RegisterPoll(SyscallHandler?[] t)
    {
        t[22] = (Task k, in SyscallArgs a) => DoPipe(k, a.A0, 0);
        t[293] = (Task k, in SyscallArgs a) => DoPipe(k, a.A0, (int)a.A1);
        t[7] = PollCall; t[271] = PPoll; t[23] = Select; t[270] = PSelect6;
    }

    static long DoPipe(Task t, ulong fdsAddr, int flags)
    {
        if ((flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT)) != 0) return -Errno.EINVAL;
        if (!t.Mm.IsWritable(fdsAddr, 8)) return -Errno.EFAULT;
        var pipe = new Pipe();
        bool cloexec = (flags & O_CLOEXEC) != 0;
        int r = t.Fds.Install(new PipeEnd(pipe, false, flags), cloexec);
        if (r < 0) return r;
        int w = t.Fds.Install(new PipeEnd(pipe, true, flags), cloexec);
        if (w < 0) { t.Fds.Close(r); return w; }
        if (Put(t, fdsAddr, (r, w)) < 0) { t.Fds.Close(r); t.Fds.Close(w); return -Errno.EFAULT; }
        return 0;
    }

    struct PollEntry { public int Fd; public short Events, Revents; }

    /// <summary>
    /// The poll loop shared by poll/ppoll/select/pselect: compute readiness, return when something is
    /// ready or the deadline passes, else sleep until a file's wait queue, a host fd or a signal wakes us.
    /// </summary>
    static long PollEntries(Task t, PollEntry[] entries, long? deadline)
    {
        var files = new FileDescription?[entries.Length];
        for (int i = 0; i < entries.Length; i++) files[i] = entries[i].Fd < 0 ? null : t.Fds.Get(entries[i].Fd);
        while (true)
        {
            int ready = 0;
            for (int i = 0; i < entries.Length; i++)
            {
                ref var e = ref entries[i];
                if (e.Fd < 0) { e.Revents = 0; continue; }
                var f = files[i];
                int rev = f == null ? POLLNVAL : f.Poll(e.Events | POLLERR | POLLHUP) & (e.Events | POLLERR | POLLHUP);
                e.Revents = (short)rev;
                if (rev != 0) ready++;
            }
            if (ready > 0) return ready;
            if (deadline is { } d && System.Diagnostics.Stopwatch.GetTimestamp() >= d) return 0;
            if (t.SignalPending) return -SignalDelivery.ERESTARTNOHAND;

            bool anyHost = false;
            var queues = new List<WaitQueue>();
            foreach (var f in files)
            {
                if (f == null) continue;
                anyHost |= f.HostPollFd >= 0;
                if (f.PollQueue is { } q) queues.Add(q);
            }
            foreach (var q in queues) q.Add(t);
            try
            {
                if (anyHost) WaitHost(t, entries, files, deadline);
                else
                    t.Block(deadline, () => AnyReady(entries, files));
            }
            finally { foreach (var q in queues) q.Remove(t); }
        }
    }

    static bool AnyReady(PollEntry[] entries, FileDescription?[] files)
    {
        for (int i = 0; i < entries.Length; i++)
            if (files[i] is { } f && (f.Poll(entries[i].Events | POLLERR | POLLHUP) & (entries[i].Events | POLLERR | POLLHUP)) != 0) return true;
        return false;
    }

    /// <summary>Sleeps in the host's poll on the host fds and the task's wake eventfd (kicked by signals and wait queues).</summary>
    static void WaitHost(Task t, PollEntry[] entries, FileDescription?[] files, long? deadline)
    {
        int n = 0;
        Span<(int HostFd, short Events)> host = stackalloc (int, short)[entries.Length];
        for (int i = 0; i < entries.Length; i++)
            if (files[i] is { HostPollFd: >= 0 } f) host[n++] = (f.HostPollFd, (short)(entries[i].Events & 0xffff));
        WaitHostFds(t, host[..n], deadline);
    }

    /// <summary>One host poll(2) on <paramref name="fds"/> and the task's wake eventfd, until one is ready or the deadline.</summary>
    static void WaitHostFds(Task t, ReadOnlySpan<(int HostFd, short Events)> fds, long? deadline)
    {
        int n = 0;
        var host = stackalloc int[2 * (fds.Length + 1)];
        foreach (var (fd, ev) in fds) { host[2 * n] = fd; host[2 * n + 1] = ev & 0xffff; n++; }
        host[2 * n] = t.WakeFd; host[2 * n + 1] = POLLIN; n++;
        int timeout = -1;
        if (deadline is { } d)
        {
            long left = d - System.Diagnostics.Stopwatch.GetTimestamp();
            timeout = (int)Math.Max(0, Math.Min(int.MaxValue, (left * 1000 + System.Diagnostics.Stopwatch.Frequency - 1) / System.Diagnostics.Stopwatch.Frequency));
        }
        HostSyscall.Call(7 /* poll */, (long)host, n, timeout);
        t.DrainWake();
    }

    static long ReadPollFds(Task t, ulong addr, ulong nfds, out PollEntry[] entries)
    {
        entries = [];
        if (nfds > (ulong)t.Fds.Limit) return -Errno.EINVAL;
        entries = new PollEntry[nfds];
        for (int i = 0; i < (int)nfds; i++)
            if (t.Mm.Read(addr + (ulong)i * 8, out entries[i]) < 0) return -Errno.EFAULT;
        return 0;
    }

    static long WritePollFds(Task t, ulong addr, PollEntry[] entries)
    {
        for (int i = 0; i < entries.Length; i++)
            if (Put(t, addr + (ulong)i * 8 + 6, entries[i].Revents) < 0) return -Errno.EFAULT;
        return 0;
    }

    static long PollCall(Task t, in SyscallArgs a)
    {
        long r = ReadPollFds(t, a.A0, a.A1, out var entries);
        if (r < 0) return r;
        int ms = (int)a.A2;
        long? deadline = ms < 0 ? null : DeadlineAfter(ms * 1_000_000L);
        r = PollEntries(t, entries, deadline);
        if (r >= 0 && WritePollFds(t, a.A0, entries) < 0) return -Errno.EFAULT;
        return r;
    }

    /// <summary>Applies a ppoll/pselect signal mask for the duration of the call (restored after a handler runs).</summary>
    static long SwapMask(Task t, ulong maskAddr, ulong size)
    {
        if (maskAddr == 0) return 0;
        if (size != 8) return -Errno.EINVAL;
        if (t.Mm.Read(maskAddr, out ulong mask) < 0) return -Errno.EFAULT;
        t.SavedMask = t.Signals.Mask;
        t.Signals.Mask = mask & ~SignalState.Unblockable;
        return 0;
    }

    static long PPoll(Task t, in SyscallArgs a)
    {
        long r = ReadPollFds(t, a.A0, a.A1, out var entries);
        if (r < 0) return r;
        r = ReadTimeout(t, a.A2, out var deadline);
        if (r < 0) return r;
        r = SwapMask(t, a.A3, a.A4);
        if (r < 0) return r;
        r = PollEntries(t, entries, deadline);
        if (r >= 0 && WritePollFds(t, a.A0, entries) < 0) return -Errno.EFAULT;
        if (r >= 0) RestoreSavedMask(t);
        return r;
    }

    static long Select(Task t, in SyscallArgs a)
    {
        long? deadline = null;
        if (a.A4 != 0)
        {
            if (t.Mm.Read(a.A4, out (long Sec, long Usec) tv) < 0) return -Errno.EFAULT;
            if (tv.Sec < 0 || tv.Usec < 0 || tv.Usec >= 1_000_000) return -Errno.EINVAL;
            deadline = DeadlineAfter(tv.Sec * NsPerSec + tv.Usec * 1000);
        }
        return DoSelect(t, (int)a.A0, a.A1, a.A2, a.A3, deadline);
    }

    static long PSelect6(Task t, in SyscallArgs a)
    {
        long r0 = ReadTimeout(t, a.A4, out var deadline);
        if (r0 < 0) return r0;
        if (a.A5 != 0)
        {
            if (t.Mm.Read(a.A5, out (ulong Mask, ulong Size) sm) < 0) return -Errno.EFAULT;
            long m = SwapMask(t, sm.Mask, sm.Size);
            if (m < 0) return m;
        }
        long r = DoSelect(t, (int)a.A0, a.A1, a.A2, a.A3, deadline);
        if (r >= 0) RestoreSavedMask(t);
        return r;
    }

    static long DoSelect(Task t, int nfds, ulong rAddr, ulong wAddr, ulong eAddr, long? deadline)
    {
        if (nfds < 0) return -Errno.EINVAL;
        // As core_sys_select: fds past the table's size are neither read nor looked at.
        nfds = Math.Min(nfds, t.Fds.Capacity);
        int words = (nfds + 63) / 64;
        var sets = new ulong[3][];
        ulong[] addrs = [rAddr, wAddr, eAddr];
        for (int k = 0; k < 3; k++)
        {
            sets[k] = new ulong[words];
            if (addrs[k] != 0)
                for (int w = 0; w < words; w++)
                    if (t.Mm.Read(addrs[k] + (ulong)w * 8, out sets[k][w]) < 0) return -Errno.EFAULT;
        }
        var list = new List<PollEntry>();
        for (int fd = 0; fd < nfds; fd++)
        {
            ulong bit = 1UL << (fd % 64);
            int ev = ((sets[0][fd / 64] & bit) != 0 ? POLLIN : 0) | ((sets[1][fd / 64] & bit) != 0 ? POLLOUT : 0) | ((sets[2][fd / 64] & bit) != 0 ? POLLPRI : 0);
            if (ev == 0) continue;
            if (t.Fds.Get(fd) == null) return -Errno.EBADF;
            list.Add(new PollEntry { Fd = fd, Events = (short)ev });
        }
        var entries = list.ToArray();
        long r = PollEntries(t, entries, deadline);
        if (r < 0) return r;
        var outSets = new ulong[3][] { new ulong[words], new ulong[words], new ulong[words] };
        int count = 0;
        foreach (var e in entries)
        {
            ulong bit = 1UL << (e.Fd % 64);
            bool rd = (e.Events & POLLIN) != 0 && (e.Revents & (POLLIN | POLLHUP | POLLERR)) != 0;
            bool wr = (e.Events & POLLOUT) != 0 && (e.Revents & (POLLOUT | POLLERR)) != 0;
            bool ex = (e.Events & POLLPRI) != 0 && (e.Revents & POLLPRI) != 0;
            if (rd) { outSets[0][e.Fd / 64] |= bit; count++; }
            if (wr) { outSets[1][e.Fd / 64] |= bit; count++; }
            if (ex) { outSets[2][e.Fd / 64] |= bit; count++; }
        }
        for (int k = 0; k < 3; k++)
            if (addrs[k] != 0)
                for (int w = 0; w < words; w++)
                    if (Put(t, addrs[k] + (ulong)w * 8, outSets[k][w]) < 0) return -Errno.EFAULT;
        return count;
    }
}
