using System.Collections.Concurrent;

namespace Sentry.Platform.Ptrace;

/// <summary>
/// One long-lived host thread that starts every stub process and traces each one's first thread.
/// Tracing is per host thread and PTRACE_O_EXITKILL fires when the tracer thread exits, so the
/// process-wide stub must be owned by a thread that lives as long as Sentry, not by a task thread
/// that may exit while other tasks still run in that address space. Task threads get their own
/// stub threads, cloned here and seized by them.
/// </summary>
internal static class StubSpawner
{
    static readonly BlockingCollection<Action> s_work = new();
    static readonly Thread s_thread = Start();
    static int s_threadId;

    static Thread Start()
    {
        var t = new Thread(() =>
        {
            s_threadId = Environment.CurrentManagedThreadId;
            foreach (var work in s_work.GetConsumingEnumerable()) work();
        }) { Name = "sentry-stub-spawner", IsBackground = true };
        t.Start();
        return t;
    }

    /// <summary>Runs <paramref name="f"/> on the spawner thread and returns its result (exceptions propagate).</summary>
    public static T Run<T>(Func<T> f)
    {
        _ = s_thread;
        if (Environment.CurrentManagedThreadId == s_threadId) return f();
        T result = default!;
        Exception? error = null;
        using var done = new ManualResetEventSlim();
        s_work.Add(() =>
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
