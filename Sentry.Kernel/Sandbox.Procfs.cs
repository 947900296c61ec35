using System.Diagnostics;

namespace Sentry.Kernel;

// The sandbox as a machine: when it "booted", its identity, and the counters /proc shows.
public sealed partial class Sandbox
{
    /// <summary>Stopwatch timestamp of the sandbox's start: time zero of /proc/uptime and of processes' start times.</summary>
    public long BootTimestamp { get; } = Stopwatch.GetTimestamp();

    /// <summary>Wall-clock second of the sandbox's start (btime in /proc/stat).</summary>
    public long BootTimeUnix { get; } = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>/proc/sys/kernel/random/boot_id: one random UUID per sandbox.</summary>
    public Guid BootId { get; } = Guid.NewGuid();

    /// <summary>Time since the sandbox started.</summary>
    public TimeSpan Uptime => Stopwatch.GetElapsedTime(BootTimestamp);

    /// <summary>The last pid handed out: pids are allocated in sequence, so it also counts the tasks created (/proc/loadavg, /proc/stat "processes").</summary>
    public int LastPid { get { lock (TreeLock) return _lastPid; } }
}
