using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs;

/// <summary>
/// epoll(7) as Linux keeps it: an interest list of items, each subscribed to its file's wait
/// queue, and a ready list that those wakeups fill. epoll_wait takes items off the ready list and
/// asks each file for its readiness; a level-triggered item goes back on the list while it reports
/// something, an edge-triggered one only when its file is woken again (every write that adds data,
/// every new connection, every hangup is a new edge, even if the file was readable already), and an
/// EPOLLONESHOT item is disarmed until EPOLL_CTL_MOD. An item goes away with EPOLL_CTL_DEL or when
/// its file's last reference is dropped, not when one of its fds is closed.
/// </summary>
public sealed partial class EventPoll : FileDescription
{
    public const uint EPOLLIN = 1, EPOLLPRI = 2, EPOLLOUT = 4, EPOLLERR = 8, EPOLLHUP = 0x10, EPOLLRDNORM = 0x40,
        EPOLLRDBAND = 0x80, EPOLLWRNORM = 0x100, EPOLLWRBAND = 0x200, EPOLLMSG = 0x400, EPOLLRDHUP = 0x2000,
        EPOLLEXCLUSIVE = 1u << 28, EPOLLWAKEUP = 1u << 29, EPOLLONESHOT = 1u << 30, EPOLLET = 1u << 31;
    public const int EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLL_CTL_MOD = 3;

    /// <summary>The event bits EPOLLEXCLUSIVE may be combined with (fs/eventpoll.c EPOLLEXCLUSIVE_OK_BITS).</summary>
    const uint ExclusiveOkBits = EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;
    /// <summary>Bits that say how an item reports rather than what it reports.</summary>
    const uint PrivateBits = EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE;
    /// <summary>How deep epoll instances may nest (EP_MAX_NESTS).</summary>
    const int MaxNests = 4;

    readonly object _lock = new();
    readonly Dictionary<(int, FileDescription), Item> _items = new();
    /// <summary>Items woken since they were last reported, in the order their wakeups came.</summary>
    readonly LinkedList<Item> _ready = new();
    /// <summary>Items whose file has no wait queue (host stdio, signalfd): asked on every wait.</summary>
    readonly List<Item> _unqueued = new();

    /// <summary>Tasks in epoll_wait on this instance, and epoll instances or polls that watch it.</summary>
    public WaitQueue Queue { get; } = new();

    public EventPoll() { Flags = Linux.O_RDWR; Path = "anon_inode:[eventpoll]"; }

    public override WaitQueue? PollQueue => Queue;

    /// <summary>Tasks sleeping in epoll_wait here (Linux's ep->wq, apart from pollers and parent epolls on ep->poll_wait).</summary>
    int _sleepers;

    /// <summary>epoll_wait is about to sleep: <paramref name="t"/> hears every wakeup from now on.</summary>
    public void AddSleeper(Task t)
    {
        Queue.Add(t);
        Interlocked.Increment(ref _sleepers);
    }

    public void RemoveSleeper(Task t)
    {
        Interlocked.Decrement(ref _sleepers);
        Queue.Remove(t);
    }

    /// <summary>
    /// epoll_ctl(2) once the fds are resolved: <paramref name="events"/> and <paramref name="data"/>
    /// come from the caller's struct epoll_event (ignored for EPOLL_CTL_DEL). Returns 0 or -errno.
    /// </summary>
    public long Control(int op, int fd, FileDescription file, uint events, ulong data)
    {
        bool hasEvent = op is EPOLL_CTL_ADD or EPOLL_CTL_MOD;
        if (hasEvent)
        {
            events &= ~EPOLLWAKEUP; // it only keeps a system from suspending, which the sandbox never does
            if ((events & EPOLLEXCLUSIVE) != 0)
            {
                if (op == EPOLL_CTL_MOD) return -Errno.EINVAL;
                if (file is EventPoll || (events & ~ExclusiveOkBits) != 0) return -Errno.EINVAL;
            }
        }
        if (op == EPOLL_CTL_ADD && file is EventPoll nested)
        {
            long loop = CheckNesting(nested);
            if (loop < 0) return loop;
        }
        Item? item;
        lock (_lock)
        {
            _items.TryGetValue((fd, file), out item);
            switch (op)
            {
                case EPOLL_CTL_ADD:
                    if (item != null) return -Errno.EEXIST;
                    item = new Item(this, fd, file) { Events = events | EPOLLERR | EPOLLHUP, Data = data };
                    _items[(fd, file)] = item;
                    if (file.PollQueue == null) _unqueued.Add(item);
                    break;
                case EPOLL_CTL_MOD:
                    if (item == null) return -Errno.ENOENT;
                    if ((item.Events & EPOLLEXCLUSIVE) != 0) return -Errno.EINVAL;
                    item.Events = events | EPOLLERR | EPOLLHUP;
                    item.Data = data;
                    break;
                case EPOLL_CTL_DEL:
                    if (item == null) return -Errno.ENOENT;
                    Unlink(item);
                    break;
                default:
                    return -Errno.EINVAL;
            }
        }
        // Queue membership changes outside our lock: a queue's wakeup holds the queue's lock and
        // then takes ours, so the other order here could deadlock.
        switch (op)
        {
            case EPOLL_CTL_ADD:
                file.AddEpollItem(item);
                file.PollQueue?.Add(item, (events & EPOLLEXCLUSIVE) != 0);
                break;
            case EPOLL_CTL_DEL:
                Detach(item);
                return 0;
        }
        // As ep_insert and ep_modify: an item whose file is ready now is on the ready list at once
        // (one without a wait queue is asked on every wait instead).
        if (file.PollQueue != null && (file.Poll((int)(item.Events & 0xffff)) & (int)(item.Events & ~PrivateBits)) != 0) MarkReady(item);
        return 0;
    }

    /// <summary>ELOOP when adding <paramref name="target"/> would close a cycle or nest epolls deeper than Linux allows.</summary>
    long CheckNesting(EventPoll target)
    {
        if (target == this) return -Errno.EINVAL;
        int depth = target.Depth(this, 0);
        return depth < 0 || depth + 1 > MaxNests ? -Errno.ELOOP : 0;
    }

    /// <summary>How many epoll levels lie below this one (0 when it watches none); -1 when <paramref name="forbidden"/> is among them.</summary>
    int Depth(EventPoll forbidden, int level)
    {
        if (this == forbidden) return -1;
        if (level > MaxNests) return level;
        int deepest = 0;
        foreach (var child in Snapshot())
        {
            if (child.File is not EventPoll ep) continue;
            int d = ep.Depth(forbidden, level + 1);
            if (d < 0) return -1;
            deepest = Math.Max(deepest, d + 1);
        }
        return deepest;
    }

    Item[] Snapshot() { lock (_lock) return [.. _items.Values]; }

    /// <summary>How many items the interest list holds (the most one epoll_wait can report).</summary>
    public int ItemCount { get { lock (_lock) return _items.Count; } }

    /// <summary>Drops <paramref name="item"/> from the interest and ready lists (under our lock).</summary>
    void Unlink(Item item)
    {
        _items.Remove((item.Fd, item.File));
        if (item.ReadyNode.List != null) _ready.Remove(item.ReadyNode);
        if (item.File.PollQueue == null) _unqueued.Remove(item);
        item.Removed = true;
    }

    /// <summary>Unsubscribes an unlinked item from its file (outside our lock).</summary>
    static void Detach(Item item)
    {
        item.File.PollQueue?.Remove(item);
        item.File.RemoveEpollItem(item);
    }

    /// <summary>The file of <paramref name="item"/> lost its last reference: the item goes, as eventpoll_release does.</summary>
    internal void FileReleased(Item item)
    {
        lock (_lock)
        {
            if (item.Removed) return;
            Unlink(item);
        }
        item.File.PollQueue?.Remove(item);
    }

    /// <summary>A wakeup of an item's file (the item's wait queue entry, as ep_poll_callback).</summary>
    bool ItemWoken(Item item, int key)
    {
        uint events;
        lock (_lock)
        {
            events = item.Events;
            // Disarmed (EPOLLONESHOT reported), removed, or woken for bits it does not want.
            if (item.Removed || (events & ~PrivateBits) == 0) return false;
            if (key != 0 && ((uint)key & events & ~PrivateBits) == 0) return false;
            if (item.ReadyNode.List == null) _ready.AddLast(item.ReadyNode);
        }
        Queue.Notify(PollEvents.POLLIN);
        if ((events & EPOLLEXCLUSIVE) == 0) return true;
        // An exclusive item takes a wakeup only when a task sleeps in epoll_wait on its instance
        // (else the next exclusive one hears it too), and only for what it waits for.
        if (Volatile.Read(ref _sleepers) == 0) return false;
        return (key & (PollEvents.POLLIN | PollEvents.POLLOUT)) switch
        {
            PollEvents.POLLIN => (events & EPOLLIN) != 0,
            PollEvents.POLLOUT => (events & EPOLLOUT) != 0,
            0 => true,
            _ => false,
        };
    }

    void MarkReady(Item item)
    {
        lock (_lock)
        {
            if (item.Removed || item.ReadyNode.List != null) return;
            _ready.AddLast(item.ReadyNode);
        }
        Queue.Notify(PollEvents.POLLIN);
    }

    /// <summary>
    /// Reports up to output.Length ready items as (events, data), in the order they became ready,
    /// as ep_send_events: an item found not ready leaves the ready list, a level-triggered one that
    /// reported goes back to its end, an edge-triggered one waits for its next wakeup.
    /// </summary>
    public int Collect(Span<(uint Events, ulong Data)> output)
    {
        int n = 0;
        lock (_lock)
        {
            // Items without a wait queue are asked every time; edge-triggered ones report a rise only.
            foreach (var item in _unqueued)
            {
                if (n >= output.Length) break;
                uint ready = ItemReadiness(item);
                bool rose = ready != 0 && !item.WasReady;
                item.WasReady = ready != 0;
                if (ready == 0 || ((item.Events & EPOLLET) != 0 && !rose)) continue;
                n = Report(item, ready, output, n);
            }
            // One pass over the items that were ready when we started; those put back go after them.
            int count = _ready.Count;
            for (int i = 0; i < count && n < output.Length; i++)
            {
                var node = _ready.First!;
                var item = node.Value;
                _ready.RemoveFirst();
                uint ready = ItemReadiness(item);
                if (ready == 0) continue;
                n = Report(item, ready, output, n);
                if ((item.Events & (EPOLLET | EPOLLONESHOT)) == 0) _ready.AddLast(node);
            }
        }
        return n;
    }

    int Report(Item item, uint ready, Span<(uint Events, ulong Data)> output, int n)
    {
        output[n] = (ready, item.Data);
        if ((item.Events & EPOLLONESHOT) != 0) item.Events &= PrivateBits; // disarmed until EPOLL_CTL_MOD
        return n + 1;
    }

    /// <summary>What the item's file reports now of what the item asks for (0 when disarmed).</summary>
    static uint ItemReadiness(Item item)
    {
        uint want = item.Events & ~PrivateBits;
        if (want == 0) return 0;
        return (uint)item.File.Poll((int)(want & 0xffff)) & want;
    }

    /// <summary>Whether epoll_wait would report something now (the condition a waiting task re-checks).</summary>
    public bool HasReady
    {
        get
        {
            lock (_lock)
            {
                foreach (var item in _ready)
                    if (ItemReadiness(item) != 0) return true;
                foreach (var item in _unqueued)
                {
                    uint ready = ItemReadiness(item);
                    if (ready != 0 && ((item.Events & EPOLLET) == 0 || !item.WasReady)) return true;
                }
                return false;
            }
        }
    }

    /// <summary>Host fds among the items (host stdio), which only the host can wait on.</summary>
    public int HostItems(Span<(int HostFd, short Events)> output)
    {
        int n = 0;
        lock (_lock)
            foreach (var item in _unqueued)
                if (item.File.HostPollFd >= 0 && n < output.Length)
                    output[n++] = (item.File.HostPollFd, (short)(item.Events & 0xffff));
        return n;
    }

    /// <summary>
    /// Readiness of the instance itself (poll, select, a nested epoll): readable when an item on the
    /// ready list is ready; the ones that are not leave it, as ep_eventpoll_poll does.
    /// </summary>
    public override int Poll(int events)
    {
        if ((events & PollEvents.POLLIN) == 0) return 0;
        lock (_lock)
        {
            for (var node = _ready.First; node != null;)
            {
                var next = node.Next;
                if (ItemReadiness(node.Value) != 0) return PollEvents.POLLIN;
                _ready.Remove(node);
                node = next;
            }
            foreach (var item in _unqueued)
                if (ItemReadiness(item) != 0 && ((item.Events & EPOLLET) == 0 || !item.WasReady)) return PollEvents.POLLIN;
        }
        return 0;
    }

    public override long Stat(out LinuxStat st)
    {
        st = new LinuxStat { st_dev = 14, st_ino = 2, st_nlink = 1, st_mode = 0x180, st_blksize = 4096 };
        return 0;
    }

    protected override void OnLastClose()
    {
        Item[] items;
        lock (_lock)
        {
            items = [.. _items.Values];
            foreach (var item in items) Unlink(item);
        }
        foreach (var item in items) Detach(item);
    }
}
