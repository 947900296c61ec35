using Sentry.Platform;

namespace Sentry.Kernel;

/// <summary>One resource limit (struct rlimit64): the soft limit enforced and the hard limit it may be raised to.</summary>
public readonly record struct ResourceLimit(ulong Soft, ulong Hard)
{
    /// <summary>RLIM_NLIMITS: how many resources Linux has limits for.</summary>
    public const int Count = 16;

    /// <summary>
    /// The limits of the calling host process, by RLIMIT_* number: what a program started directly
    /// from it would inherit. One caveat: the CoreCLR runtime (not Native AOT) raises its own soft
    /// RLIMIT_NOFILE to the hard limit before any managed code runs, so under it that soft limit
    /// reads as the hard one.
    /// </summary>
    public static unsafe ResourceLimit[] OfHost()
    {
        var limits = new ResourceLimit[Count];
        ulong* l = stackalloc ulong[2]; // struct rlimit64 { rlim_cur, rlim_max }
        for (int r = 0; r < Count; r++)
        {
            long rc = HostSyscall.Call(302 /* prlimit64 */, 0, r, 0, (long)l);
            limits[r] = rc == 0 ? new ResourceLimit(l[0], l[1]) : new ResourceLimit(ulong.MaxValue, ulong.MaxValue);
        }
        return limits;
    }
}
