using System.Collections.Concurrent;

namespace Sentry.Platform;

/// <summary>
/// One long-lived host thread that runs the work given to it, in order. Platforms start their
/// stub processes from one (ptrace: tracing belongs to the tracer thread, and PTRACE_O_EXITKILL
/// fires when it exits; systrap: PR_SET_PDEATHSIG fires when the creating thread exits), so
/// stubs must be owned by a thread that lives as long as Sentry, not by a task thread.
/// </summary>
public sealed class DedicatedThread
{
    readonly BlockingCollection<Action> _work = new();
    int _threadId;

    public DedicatedThread(string name)
    {
        new Thread(() =>
        {
            _threadId = Environment.CurrentManagedThreadId;
            foreach (var work in _work.GetConsumingEnumerable()) work();
        }) { Name = name, IsBackground = true }.Start();
    }

    /// <summary>Runs <paramref name="f"/> on the thread (at once when called from it) and returns its result; its exception comes back wrapped.</summary>
    public T Run<T>(Func<T> f)
    {
        if (Environment.CurrentManagedThreadId == Volatile.Read(ref _threadId)) return f();
        T result = default!;
        Exception? error = null;
        using var done = new ManualResetEventSlim();
        _work.Add(() =>
        {
            try { result = f(); }
            catch (Exception e) { error = e; }
            finally { done.Set(); }
        });
        done.Wait();
        if (error != null) throw new InvalidOperationException(error.Message, error);
        return result;
    }
}
