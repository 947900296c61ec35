namespace Sentry.Platform.Systrap;

/// <summary>
/// The systrap platform: the application runs in a stub process under a seccomp filter that
/// turns each of its system calls into a SIGSYS; the stub's handler hands it to Sentry through
/// memory both share and waits for the answer. No ptrace, no context switch through a tracer: a
/// system call costs one signal delivery, two handoffs between CPUs and one rt_sigreturn.
/// </summary>
public sealed class SystrapPlatform : IPlatform
{
    public string Name => "systrap";
    public ulong MinUserAddress => 0x10000;
    /// <summary>Below the stub's shared region, with a guard gap.</summary>
    public ulong MaxUserAddress => Layout.SharedBase - 0x10_0000;
    public MemoryFile Memory { get; }

    public SystrapPlatform(MemoryFile? memory = null) => Memory = memory ?? new MemoryFile();

    public IAddressSpace NewAddressSpace() => new SystrapAddressSpace(Memory, RecordFailure);

    string? _failure;
    public string? Failure => Volatile.Read(ref _failure);
    void RecordFailure(string why) => Interlocked.CompareExchange(ref _failure, why, null);
    public IContext NewContext() => new SystrapContext();

    public IReadOnlyList<string> HostSyscalls { get; } =
        ["vfork", "clone", "execve", "memfd_create", "ftruncate", "mmap", "munmap", "futex", "tgkill", "kill", "wait4", "pidfd_open", "poll", "close", "write", "membarrier"];

    /// <summary>
    /// Checks that systrap works here (seccomp filters, SIGSYS delivery, the stub starts and answers)
    /// by starting one stub, running one thread in it and ending it. Null when it works, else the reason.
    /// </summary>
    public static string? Probe()
    {
        try
        {
            using var mem = new MemoryFile(1L << 20);
            using var aspace = new SystrapAddressSpace(mem);
            var t = aspace.ThreadForCaller();
            aspace.ReleaseCaller();
            return null;
        }
        catch (Exception e) { return e.Message; }
    }

    public void Dispose() => Memory.Dispose();
}
