using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Signals;

/// <summary>
/// ITIMER_VIRTUAL (user CPU time, SIGVTALRM) and ITIMER_PROF (user + system CPU time, SIGPROF).
/// The process's CPU time is sampled every few milliseconds while the timer is armed; Linux
/// accounts CPU time per tick too, so the resolution is the same order.
/// </summary>
public sealed class CpuTimer : IDisposable
{
    const int SampleMs = 5;
    readonly ThreadGroup _group;
    readonly Sandbox _sandbox;
    readonly bool _prof;
    readonly Timer _timer;
    readonly object _lock = new();
    long _expiresAtNs = -1, _intervalNs;

    public CpuTimer(Sandbox sandbox, ThreadGroup group, bool prof)
    {
        _sandbox = sandbox;
        _group = group;
        _prof = prof;
        _timer = new Timer(_ => Sample());
    }

    long CpuNs() => _prof ? _group.CpuNs(includeSystem: true, _sandbox) : _group.CpuNs(includeSystem: false, _sandbox);

    /// <summary>Arms (value &gt; 0) or disarms; returns the old (remaining, interval) in ns.</summary>
    public (long Left, long Interval) Set(long valueNs, long intervalNs)
    {
        lock (_lock)
        {
            var old = GetLocked();
            _intervalNs = intervalNs;
            if (valueNs > 0)
            {
                _expiresAtNs = CpuNs() + valueNs;
                _timer.Change(SampleMs, SampleMs);
            }
            else
            {
                _expiresAtNs = -1;
                _timer.Change(Timeout.Infinite, Timeout.Infinite);
            }
            return old;
        }
    }

    public (long Left, long Interval) Get() { lock (_lock) return GetLocked(); }

    (long, long) GetLocked() => _expiresAtNs < 0 ? (0, _intervalNs) : (Math.Max(1000, _expiresAtNs - CpuNs()), _intervalNs);

    void Sample()
    {
        lock (_lock)
        {
            if (_expiresAtNs < 0 || CpuNs() < _expiresAtNs) return;
            if (_intervalNs > 0) _expiresAtNs += _intervalNs;
            else
            {
                _expiresAtNs = -1;
                _timer.Change(Timeout.Infinite, Timeout.Infinite);
            }
        }
        _sandbox.PostToProcess(_group, SigInfo.FromKill(_prof ? 27 /* SIGPROF */ : 26 /* SIGVTALRM */, SigInfo.SI_KERNEL, 0, 0));
    }

    public void Dispose() => _timer.Dispose();
}
