using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Microsoft.Win32.SafeHandles;
using Sentry.Kernel;
using Sentry.Platform;
using Sentry.Platform.Ptrace;
using Sentry.Platform.Systrap;

namespace Sentry.Benchmarks;

/// <summary>
/// The cost of one null system call (getppid), in the sandbox and next to its floors, in one run:
/// <list type="bullet">
/// <item><see cref="NativeGetppid"/>: the host kernel answering directly (the baseline).</item>
/// <item><see cref="PtraceFloorRoundTrip"/>: the least a PTRACE_SYSEMU platform can cost per call
/// (SETREGS + SYSEMU + wait + GETREGS against a stub, no kernel behind it).</item>
/// <item><see cref="SandboxGetppidPtrace"/>: a static C program calling getppid <see cref="N"/> times
/// inside a full sandbox on the ptrace platform. Reported per call; the program's start-up and
/// exit (one sandbox, ~20 other syscalls) are spread over the N calls.</item>
/// <item><see cref="KvmFloorRoundTrip"/> and <see cref="SandboxGetppidKvm"/>: the same on KVM,
/// left out (with one line saying why) where KVM is unavailable.</item>
/// <item>systrap and its floors: <see cref="SigsysTrapFloor"/>, a seccomp SECCOMP_RET_TRAP + SIGSYS
/// handler + rt_sigreturn round trip inside one process; <see cref="ShmHandoffFloor"/>, a token
/// passed there and back between two processes through shared memory (spin, then a shared futex),
/// i.e. the two handoffs of one systrap call; <see cref="SystrapFloorRoundTrip"/>, the platform's
/// own round trip with no kernel behind it; <see cref="SandboxGetppidSystrap"/>, the full sandbox.</item>
/// </list>
/// Each case runs in its own process, so one case's thread pinning does not affect another's.
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
public partial class NullSyscallBenchmarks
{
    /// <summary>getppid calls per sandbox run.</summary>
    public const int N = 200_000;

    [LibraryImport("libc")]
    private static partial int getppid();

    // ptrace requests (and KVM vCPU ioctls) must come from the thread that created the tracee
    // (vCPU). BenchmarkDotNet calls setup and the workload on the same thread; the owner check in
    // each workload costs one compare and recreates the object if that ever changes.
    SysemuFloor? _ptraceFloor;
    int _ptraceFloorThread;
    IDisposable? _kvmFloor;
    Action? _kvmRoundTrip;
    int _kvmFloorThread;

    SafeFileHandle? _devNull;
    SandboxOptions? _loop;

    // ---- native -------------------------------------------------------------------------------

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("native")]
    public int NativeGetppid() => getppid();

    // ---- ptrace -------------------------------------------------------------------------------

    [GlobalSetup(Target = nameof(PtraceFloorRoundTrip))]
    public void SetupPtraceFloor() => CreatePtraceFloor();

    void CreatePtraceFloor()
    {
        _ptraceFloor?.Dispose();
        _ptraceFloor = new SysemuFloor(); // pins this thread and the stub to the current CPU
        _ptraceFloorThread = Environment.CurrentManagedThreadId;
    }

    [Benchmark]
    [BenchmarkCategory("ptrace")]
    public void PtraceFloorRoundTrip()
    {
        if (Environment.CurrentManagedThreadId != _ptraceFloorThread)
            OwnerChanged("ptrace floor", CreatePtraceFloor);
        _ptraceFloor!.RoundTrip();
    }

    [GlobalSetup(Target = nameof(SandboxGetppidPtrace))]
    public void SetupSandboxPtrace() => SetupSandbox(() => new PtracePlatform());

    [Benchmark(OperationsPerInvoke = N)]
    [BenchmarkCategory("ptrace")]
    public int SandboxGetppidPtrace()
    {
        using var platform = new PtracePlatform();
        return Checked(Sandbox.Run(platform, _loop!));
    }

    // ---- systrap ------------------------------------------------------------------------------

    string? _sigsysTrap, _shmHandoff;
    SystrapFloor? _systrapFloor;

    [GlobalSetup(Target = nameof(SigsysTrapFloor))]
    public void SetupSigsysTrap() => _sigsysTrap = CheckedFloor(GuestPrograms.Compile("sigsys_trap"));

    /// <summary>One SIGSYS trap round trip in one process (N per run of the program).</summary>
    [Benchmark(OperationsPerInvoke = N)]
    [BenchmarkCategory("systrap")]
    public int SigsysTrapFloor() => Checked(HostCommand.Run(_sigsysTrap!, N.ToString()));

    [GlobalSetup(Target = nameof(ShmHandoffFloor))]
    public void SetupShmHandoff() => _shmHandoff = CheckedFloor(GuestPrograms.Compile("shm_handoff"));

    /// <summary>Two handoffs (there and back) between two processes through shared memory.</summary>
    [Benchmark(OperationsPerInvoke = N)]
    [BenchmarkCategory("systrap")]
    public int ShmHandoffFloor() => Checked(HostCommand.Run(_shmHandoff!, N.ToString()));

    [GlobalSetup(Target = nameof(SystrapFloorRoundTrip))]
    public void SetupSystrapFloor() => _systrapFloor = new SystrapFloor();

    [Benchmark]
    [BenchmarkCategory("systrap")]
    public void SystrapFloorRoundTrip() => _systrapFloor!.RoundTrip();

    [GlobalSetup(Target = nameof(SandboxGetppidSystrap))]
    public void SetupSandboxSystrap() => SetupSandbox(() => new SystrapPlatform());

    [Benchmark(OperationsPerInvoke = N)]
    [BenchmarkCategory("systrap")]
    public int SandboxGetppidSystrap()
    {
        using var platform = new SystrapPlatform();
        return Checked(Sandbox.Run(platform, _loop!));
    }

    static string CheckedFloor(string program)
    {
        int status = HostCommand.Run(program, "10");
        if (status != 0) throw new InvalidOperationException($"{program} 10 exited with status {status}; expected 0 (seccomp refused?)");
        return program;
    }

    // ---- kvm ----------------------------------------------------------------------------------

    [GlobalSetup(Target = nameof(KvmFloorRoundTrip))]
    public void SetupKvmFloor() => CreateKvmFloor();

    void CreateKvmFloor()
    {
        _kvmFloor?.Dispose();
        _kvmFloor = KvmSupport.NewFloor(out _kvmRoundTrip);
        _kvmFloorThread = Environment.CurrentManagedThreadId;
    }

    [Benchmark]
    [BenchmarkCategory("kvm")]
    public void KvmFloorRoundTrip()
    {
        if (Environment.CurrentManagedThreadId != _kvmFloorThread)
            OwnerChanged("kvm floor", CreateKvmFloor);
        _kvmRoundTrip!();
    }

    [GlobalSetup(Target = nameof(SandboxGetppidKvm))]
    public void SetupSandboxKvm() => SetupSandbox(KvmSupport.NewPlatform);

    [Benchmark(OperationsPerInvoke = N)]
    [BenchmarkCategory("kvm")]
    public int SandboxGetppidKvm()
    {
        using IPlatform platform = KvmSupport.NewPlatform();
        return Checked(Sandbox.Run(platform, _loop!));
    }

    // ---- shared -------------------------------------------------------------------------------

    void SetupSandbox(Func<IPlatform> newPlatform)
    {
        string program = GuestPrograms.Compile("getppid_loop");
        _devNull = File.OpenHandle("/dev/null", FileMode.Open, FileAccess.Write);
        int stdout = (int)_devNull.DangerousGetHandle();
        // Timed runs are silent: Sentry's one-per-sandbox notes (e.g. unsupported syscalls) would
        // repeat on every invocation. The check run below shows them once.
        _loop = new SandboxOptions { Program = program, Args = [program, N.ToString()], StdoutFd = stdout, Log = TextWriter.Null };

        // One short run first, so that a sandbox that cannot run the program fails here with a
        // clear message instead of producing a meaningless timing.
        using IPlatform platform = newPlatform();
        int status = Sandbox.Run(platform, new SandboxOptions { Program = program, Args = [program, "10"], StdoutFd = stdout });
        if (status != 0)
            throw new InvalidOperationException($"{program} exited with status {status} in the sandbox on {platform.Name}; expected 0");
    }

    static int Checked(int status) =>
        status == 0 ? 0 : throw new InvalidOperationException($"getppid_loop exited with status {status} in the sandbox");

    static void OwnerChanged(string what, Action recreate)
    {
        Console.WriteLine($"// note: workload thread differs from the {what}'s creator; recreating it on thread {Environment.CurrentManagedThreadId}");
        recreate();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _ptraceFloor?.Dispose();
        _ptraceFloor = null;
        _kvmFloor?.Dispose();
        _kvmFloor = null;
        _systrapFloor?.Dispose();
        _systrapFloor = null;
        _devNull?.Dispose();
        _devNull = null;
    }
}
