namespace Sentry.Kernel.Tasks;

/// <summary>
/// Something a <see cref="WaitQueue"/> wakes: a blocked task (which re-checks its condition) or
/// an epoll interest item (which puts itself on its epoll's ready list), as Linux's wait queue
/// entries carry their own wake function.
/// </summary>
public interface IWaiter
{
    /// <summary>
    /// Called by a wakeup of the queue with the poll bits that changed (<paramref name="key"/>, 0
    /// when the waker does not say). Returns whether this waiter took the wakeup: only an
    /// exclusive waiter's answer counts, and a keyed wakeup stops after the first exclusive one
    /// that took it. Runs under the queue's lock: it must not add itself to or remove itself
    /// from any queue, and must not take a lock that is held while waiting on a queue.
    /// </summary>
    bool Wake(int key);
}

/// <summary>
/// The waiters of some object (a pipe, a socket, an eventfd, an epoll instance, a child's exit).
/// The object calls <see cref="Notify"/> after changing its state, outside its own lock (a waiter
/// re-checks its condition under that lock). Each wakeup reaches every non-exclusive waiter and,
/// as Linux's keyed wakeups, one exclusive waiter (EPOLLEXCLUSIVE): exclusive waiters sit after
/// the others in the order they came, and a new non-exclusive waiter goes first (as
/// add_wait_queue puts it at the head: the epoll item of the fd added last hears first).
/// </summary>
public sealed class WaitQueue
{
    /// <summary>
    /// A key for wakeups meant only for tasks blocked in a call (room for a blocked sender) that
    /// are no poll event: no epoll item asks for this bit, so none sees an edge.
    /// </summary>
    public const int BlockedOnly = 1 << 30;

    readonly List<(IWaiter Waiter, bool Exclusive)> _waiters = new();

    public void Add(IWaiter w, bool exclusive = false)
    {
        lock (_waiters)
        {
            int at = exclusive ? _waiters.Count : 0;
            _waiters.Insert(at, (w, exclusive));
        }
    }

    /// <summary>Removes one registration of <paramref name="w"/> (a task polling two fds of one pipe is on its queue twice).</summary>
    public void Remove(IWaiter w)
    {
        lock (_waiters)
        {
            for (int i = 0; i < _waiters.Count; i++)
                if (_waiters[i].Waiter == w) { _waiters.RemoveAt(i); return; }
        }
    }

    /// <summary>
    /// A wakeup for the poll bits in <paramref name="key"/> (e.g. POLLIN when data arrived, POLLOUT
    /// when room appeared): every non-exclusive waiter, then exclusive ones until one takes it.
    /// </summary>
    public void Notify(int key) => Wake(key, all: false);

    /// <summary>A wakeup of every waiter, exclusive or not, with no key (a side closed, a state change of any kind).</summary>
    public void NotifyAll() => Wake(0, all: true);

    void Wake(int key, bool all)
    {
        lock (_waiters)
        {
            // Indexing, not a snapshot: a wakeup allocates nothing, and waiters never change the
            // list from Wake (see IWaiter).
            for (int i = 0; i < _waiters.Count; i++)
                if (_waiters[i].Waiter.Wake(key) && _waiters[i].Exclusive && !all) return;
        }
    }
}
