namespace Sentry.Platform;

/// <summary>
/// An execution context: runs one application thread's user code on the platform.
/// <see cref="Switch"/> is called only from the task's own host thread (ptrace requires it);
/// <see cref="Interrupt"/> may be called from any thread.
/// </summary>
public interface IContext : IDisposable
{
    /// <summary>
    /// Loads <paramref name="state"/>, runs the application in <paramref name="addressSpace"/> until it
    /// makes a syscall, faults or is interrupted, and stores the resulting general registers back into
    /// <paramref name="state"/>. The FPU image is not transferred unless <see cref="CpuState.FpDirty"/>
    /// was set by the kernel (then it is loaded before running and the flag cleared) — see <see cref="LoadFpState"/>.
    /// </summary>
    SwitchResult Switch(IAddressSpace addressSpace, CpuState state);

    /// <summary>Fetches the live FPU state into <paramref name="state"/> (signal delivery, inspection).</summary>
    void LoadFpState(CpuState state);

    /// <summary>
    /// Tells the platform this context will not run in <paramref name="addressSpace"/> again (the
    /// task execs or exits), so per-thread resources there are freed. Called on the context's thread.
    /// </summary>
    void Release(IAddressSpace addressSpace);

    /// <summary>CPU time the application has spent running in this context so far (user time), in nanoseconds.</summary>
    long UserTimeNs { get; }

    /// <summary>Makes a running or the next <see cref="Switch"/> return <see cref="SwitchReason.Interrupted"/> promptly.</summary>
    void Interrupt();
}
