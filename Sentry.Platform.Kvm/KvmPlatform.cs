namespace Sentry.Platform.Kvm;

/// <summary>
/// The KVM platform: the application runs in ring 3 of a KVM vCPU in 64-bit long mode, one vCPU per
/// application thread; each syscall or fault is one exit from KVM_RUN back to Sentry.
/// </summary>
public sealed class KvmPlatform : IPlatform
{
    readonly KvmMachine _machine;

    public string Name => "kvm";
    public ulong MinUserAddress => GuestLayout.MinUserAddress;
    public ulong MaxUserAddress => GuestLayout.MaxUserAddress;
    public MemoryFile Memory { get; }

    /// <summary>Creates the VM. Throws <see cref="KvmUnavailableException"/> when this host cannot run it.</summary>
    public KvmPlatform() : this(null) { }

    public KvmPlatform(MemoryFile? memory)
    {
        Memory = memory ?? new MemoryFile();
        try
        {
            KickSignal.Install();
            _machine = new KvmMachine(Memory);
        }
        catch
        {
            if (memory == null) Memory.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Why this host's KVM makes the platform slower than ptrace, or null. On PVM (kvm_pvm, the
    /// software virtualisation some nested cloud VMs use instead of VMX/SVM) the guest's ring 0 is
    /// emulated: each trip through the trampoline costs several raw exits (measured here: a null
    /// syscall ~41 µs against a 6.3 µs exit floor, while ptrace needs ~13 µs).
    /// </summary>
    public static string? SlowerThanPtraceReason() =>
        Directory.Exists("/sys/module/kvm_pvm")
            ? "this host's KVM is PVM, which emulates the guest's ring 0, so a system call costs several times what it costs on ptrace"
            : null;

    public IAddressSpace NewAddressSpace() => new KvmAddressSpace(_machine);
    public IContext NewContext() => new KvmContext(_machine);

    public IReadOnlyList<string> HostSyscalls { get; } =
        ["ioctl", "mmap", "munmap", "mprotect", "fallocate", "tgkill", "rt_sigaction", "gettid", "clock_gettime", "openat", "close", "membarrier"];

    public void Dispose()
    {
        _machine.Dispose();
        Memory.Dispose();
    }
}
