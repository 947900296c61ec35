namespace Sentry.Platform;

/// <summary>
/// The host's membarrier(2), for platforms that answer the application's membarrier with it:
/// an expedited barrier of Sentry's own process (its vCPU threads, on KVM) or the slow global one.
/// </summary>
public static class HostMembarrier
{
    public const int SYS_membarrier = 324;
    public const int MEMBARRIER_CMD_GLOBAL = 1, MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE = 32,
        MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE = 64;

    /// <summary>Host calls this class makes, for Sentry's seccomp allowlist.</summary>
    public static readonly IReadOnlyList<string> HostSyscalls = ["membarrier"];

    /// <summary>1 once Sentry's process is registered for expedited barriers, -1 when the host refused.</summary>
    static int s_registered;

    /// <summary>Every running thread of the host passes a barrier (an RCU grace period: milliseconds).</summary>
    public static void Global() => HostSyscall.Call(SYS_membarrier, MEMBARRIER_CMD_GLOBAL);

    /// <summary>
    /// Every CPU that runs a thread of Sentry's process gets an IPI, which serialises it (a vCPU in
    /// guest mode exits): microseconds. Falls back to <see cref="Global"/> where the host has no expedited barriers.
    /// </summary>
    public static void SentryExpedited()
    {
        int state = Volatile.Read(ref s_registered);
        if (state == 0)
        {
            // Registering twice is harmless, so racing threads need no lock.
            state = HostSyscall.Call(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE) == 0 ? 1 : -1;
            Volatile.Write(ref s_registered, state);
        }
        if (state < 0 || HostSyscall.Call(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE) < 0) Global();
    }
}
