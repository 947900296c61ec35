using System.Diagnostics;

namespace Sentry.Kernel.Tasks;

// What /proc/<pid>/stat and status need to know about a task beyond its running state.
public sealed partial class Task
{
    /// <summary>Stopwatch timestamp of the task's creation (clone; exec keeps it, as Linux's start_time).</summary>
    public long StartTimestamp { get; } = Stopwatch.GetTimestamp();
}
