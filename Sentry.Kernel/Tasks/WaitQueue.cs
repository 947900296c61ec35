namespace Sentry.Kernel.Tasks;

/// <summary>
/// Tasks blocked until some object changes (a pipe gets data, a child exits). The object calls
/// <see cref="NotifyAll"/> after changing its state; waiters re-check their condition.
/// </summary>
public sealed class WaitQueue
{
    readonly HashSet<Task> _waiters = new();

    public void Add(Task t) { lock (_waiters) _waiters.Add(t); }
    public void Remove(Task t) { lock (_waiters) _waiters.Remove(t); }

    public void NotifyAll()
    {
        Task[] ws;
        lock (_waiters)
        {
            if (_waiters.Count == 0) return;
            ws = [.. _waiters];
        }
        foreach (var t in ws) t.Notify();
    }
}
