namespace Sentry.Platform.Ptrace;

/// <summary>
/// The ptrace platform: portable (needs only ptrace), slower than KVM. Each address space is a
/// stub process; each context drives it from the task's own thread with PTRACE_SYSEMU.
/// </summary>
public sealed class PtracePlatform : IPlatform
{
    public string Name => "ptrace";
    public ulong MinUserAddress => 0x10000;
    /// <summary>Below the stub, with a guard gap.</summary>
    public ulong MaxUserAddress => StubImage.Base - 0x10_0000;
    public MemoryFile Memory { get; }

    public PtracePlatform(MemoryFile? memory = null) => Memory = memory ?? new MemoryFile();

    public IAddressSpace NewAddressSpace() => new PtraceAddressSpace(Memory);
    public IContext NewContext() => new PtraceContext();

    public IReadOnlyList<string> HostSyscalls { get; } =
        ["ptrace", "wait4", "kill", "vfork", "clone", "execve", "memfd_create", "write", "sched_getcpu", "sched_setaffinity", "membarrier"];

    /// <summary>
    /// Checks that ptrace works here (not forbidden by seccomp, Yama or a container) by starting and
    /// killing one stub. Returns null when it does, else the reason.
    /// </summary>
    public static string? Probe()
    {
        try
        {
            using var mem = new MemoryFile(1L << 20);
            using var aspace = new PtraceAddressSpace(mem);
            return null;
        }
        catch (Exception e) { return e.Message; }
    }

    public void Dispose() => Memory.Dispose();
}
