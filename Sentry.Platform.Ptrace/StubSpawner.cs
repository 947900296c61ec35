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
    static readonly DedicatedThread s_thread = new("sentry-stub-spawner");

    /// <summary>Runs <paramref name="f"/> on the spawner thread and returns its result (exceptions propagate).</summary>
    public static T Run<T>(Func<T> f) => s_thread.Run(f);
}
