using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Microsoft.Win32.SafeHandles;
using Sentry.Kernel;
using Sentry.Platform;
using Sentry.Platform.Ptrace;

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
        _devNull?.Dispose();
        _devNull = null;
    }
}
