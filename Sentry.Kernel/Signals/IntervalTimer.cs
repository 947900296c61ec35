using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Signals;

/// <summary>
/// A one-shot or periodic timer on the host's monotonic clock: ITIMER_REAL and alarm (SIGALRM to
/// the process) and POSIX timers (timer_create). Expiry runs <c>fire</c> on a pool thread.
/// </summary>
public sealed class IntervalTimer : IDisposable
{
    readonly Action _fire;
    readonly Timer _timer;
    /// <summary>Expiries that happened while the previous signal was still pending (timer_getoverrun).</summary>
    public int Overrun;
    readonly object _lock = new();
    long _expiresAt; // Stopwatch timestamp, 0 = disarmed
    TimeSpan _interval;

    /// <summary>ITIMER_REAL of <paramref name="target"/>'s process.</summary>
    public IntervalTimer(Task target) : this(() => target.Sandbox.PostToProcess(target.Group, SigInfo.FromKill(Linux.SIGALRM, SigInfo.SI_KERNEL, 0, 0))) { }

    public IntervalTimer(Action fire)
    {
        _fire = fire;
        _timer = new Timer(_ => Fire());
    }

    /// <summary>Arms (value &gt; 0) or disarms the timer; returns what was left of the old setting.</summary>
    public (TimeSpan Left, TimeSpan Interval) Set(TimeSpan value, TimeSpan interval)
    {
        lock (_lock)
        {
            var old = GetLocked();
            _interval = interval;
            if (value > TimeSpan.Zero)
            {
                _expiresAt = System.Diagnostics.Stopwatch.GetTimestamp() + (long)(value.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
                _timer.Change(value, Timeout.InfiniteTimeSpan);
            }
            else
            {
                _expiresAt = 0;
                _timer.Change(Timeout.Infinite, Timeout.Infinite);
            }
            return old;
        }
    }

    public (TimeSpan Left, TimeSpan Interval) Get() { lock (_lock) return GetLocked(); }

    (TimeSpan, TimeSpan) GetLocked()
    {
        if (_expiresAt == 0) return (TimeSpan.Zero, _interval);
        long left = _expiresAt - System.Diagnostics.Stopwatch.GetTimestamp();
        // A timer that is due but not yet fired reports the smallest non-zero value, as Linux does.
        var span = left <= 0 ? TimeSpan.FromTicks(10) : TimeSpan.FromSeconds((double)left / System.Diagnostics.Stopwatch.Frequency);
        return (span, _interval);
    }

    void Fire()
    {
        lock (_lock)
        {
            if (_expiresAt == 0) return;
            long now = System.Diagnostics.Stopwatch.GetTimestamp();
            if (now < _expiresAt)
            {
                // Timer callbacks may run a little early: re-arm for the remainder.
                _timer.Change(TimeSpan.FromSeconds((double)(_expiresAt - now) / System.Diagnostics.Stopwatch.Frequency) + TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan);
                return;
            }
            if (_interval > TimeSpan.Zero)
            {
                _expiresAt = now + (long)(_interval.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
                _timer.Change(_interval, Timeout.InfiniteTimeSpan);
            }
            else _expiresAt = 0;
        }
        _fire();
    }

    public void Dispose() => _timer.Dispose();
}
