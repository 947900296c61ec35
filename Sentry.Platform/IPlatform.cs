namespace Sentry.Platform;

/// <summary>
/// A way to run application code: the kernel asks it for address spaces and contexts and never
/// knows which concrete platform it has.
/// </summary>
public interface IPlatform : IDisposable
{
    /// <summary>Short name as used on the command line ("ptrace", "kvm").</summary>
    string Name { get; }

    /// <summary>Lowest address the application may map (inclusive).</summary>
    ulong MinUserAddress { get; }

    /// <summary>One past the highest address the application may map. The platform may reserve
    /// memory above it for its own stub (ptrace) or ring-0 code (KVM).</summary>
    ulong MaxUserAddress { get; }

    /// <summary>The sandbox's physical memory; every application page is a range of it.</summary>
    MemoryFile Memory { get; }

    /// <summary>Creates an empty address space. Must be called on the thread that will run contexts in it.</summary>
    IAddressSpace NewAddressSpace();

    /// <summary>Creates an execution context bound to the calling thread.</summary>
    IContext NewContext();

    /// <summary>
    /// Why the platform stopped working under the sandbox (a stub process died or stopped answering),
    /// or null. The sandbox then ends its processes; the host says this once, whatever the log is.
    /// </summary>
    string? Failure => null;

    /// <summary>Host system calls this platform itself makes (names as in unistd_64.h), for Sentry's seccomp allowlist.</summary>
    IReadOnlyList<string> HostSyscalls { get; }
}
