using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs;

/// <summary>
/// epoll(7): an interest list of (fd, file, events, data). Readiness is asked of each file when
/// waiting (level-triggered); EPOLLET reports a file again only after it was seen not ready,
/// EPOLLONESHOT disarms an entry after one report.
/// </summary>
public sealed class EventPoll : FileDescription
{
    public const uint EPOLLIN = 1, EPOLLOUT = 4, EPOLLERR = 8, EPOLLHUP = 0x10, EPOLLRDHUP = 0x2000,
        EPOLLEXCLUSIVE = 1u << 28, EPOLLWAKEUP = 1u << 29, EPOLLONESHOT = 1u << 30, EPOLLET = 1u << 31;

    public sealed class Entry
    {
        public int Fd;
        public required FileDescription File;
        public uint Events;
        public ulong Data;
        public bool Disarmed;
        public bool WasReady;
    }

    readonly Dictionary<(int, FileDescription), Entry> _entries = new();

    public EventPoll() { Flags = Linux.O_RDWR; Path = "anon_inode:[eventpoll]"; }

    public long Control(int op, int fd, FileDescription file, uint events, ulong data)
    {
        const int EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLL_CTL_MOD = 3;
        lock (_entries)
        {
            var key = (fd, file);
            switch (op)
            {
                case EPOLL_CTL_ADD:
                    if (_entries.ContainsKey(key)) return -Errno.EEXIST;
                    file.AddRef();
                    _entries[key] = new Entry { Fd = fd, File = file, Events = events | EPOLLERR | EPOLLHUP, Data = data };
                    return 0;
                case EPOLL_CTL_MOD:
                    if (!_entries.TryGetValue(key, out var e)) return -Errno.ENOENT;
                    e.Events = events | EPOLLERR | EPOLLHUP; e.Data = data; e.Disarmed = false; e.WasReady = false;
                    return 0;
                case EPOLL_CTL_DEL:
                    if (!_entries.Remove(key, out var d)) return -Errno.ENOENT;
                    d.File.Release();
                    return 0;
                default:
                    return -Errno.EINVAL;
            }
        }
    }

    public Entry[] Snapshot() { lock (_entries) return [.. _entries.Values]; }

    /// <summary>Collects up to <paramref name="max"/> ready entries as (events, data).</summary>
    public int Collect(Span<(uint Events, ulong Data)> output)
    {
        int n = 0;
        foreach (var e in Snapshot())
        {
            if (n >= output.Length) break;
            if (e.Disarmed) continue;
            uint ready = (uint)e.File.Poll((int)(e.Events & 0xffff)) & (e.Events | EPOLLERR | EPOLLHUP) & 0xffff;
            if (ready == 0) { e.WasReady = false; continue; }
            if ((e.Events & EPOLLET) != 0 && e.WasReady) continue;
            e.WasReady = true;
            if ((e.Events & EPOLLONESHOT) != 0) e.Disarmed = true;
            output[n++] = (ready, e.Data);
        }
        return n;
    }

    public override int Poll(int events)
    {
        foreach (var e in Snapshot())
            if (!e.Disarmed && ((uint)e.File.Poll((int)(e.Events & 0xffff)) & e.Events & 0xffff) != 0) return PollEvents.POLLIN & events;
        return 0;
    }

    public override long Stat(out LinuxStat st)
    {
        st = new LinuxStat { st_dev = 14, st_ino = 2, st_nlink = 1, st_mode = 0x180, st_blksize = 4096 };
        return 0;
    }

    protected override void OnLastClose()
    {
        foreach (var e in Snapshot()) e.File.Release();
        lock (_entries) _entries.Clear();
    }
}
