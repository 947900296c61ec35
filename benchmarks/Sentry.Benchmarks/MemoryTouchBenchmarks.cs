using BenchmarkDotNet.Attributes;
using Sentry.Platform.Ptrace;
using Sentry.Platform.Systrap;

namespace Sentry.Benchmarks;

/// <summary>
/// First touch of 256 MiB of fresh anonymous memory (65,536 page faults, fault-around aside),
/// natively and in the sandbox on each platform, in one run. The KVM case is left out, with one
/// line saying why, where KVM is unavailable.
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
public class MemoryTouchBenchmarks
{
    public const int Mib = 256;

    string _program = "";
    readonly string[] _args = new string[2];

    [GlobalSetup]
    public void Setup()
    {
        _program = GuestPrograms.Compile("touch_memory");
        _args[0] = _program;
        _args[1] = Mib.ToString();
        SandboxRun.Check(SandboxRun.Run(_program, [_program, "4"]), "touch_memory");
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("native")]
    public int NativeTouch256MiB() => SandboxRun.Check(HostCommand.Run(_program, Mib.ToString()), "touch_memory");

    [Benchmark]
    [BenchmarkCategory("ptrace")]
    public int SandboxTouch256MiBPtrace() => SandboxRun.Check(SandboxRun.Run(_program, _args, () => new PtracePlatform()), "touch_memory");

    [Benchmark]
    [BenchmarkCategory("systrap")]
    public int SandboxTouch256MiBSystrap() => SandboxRun.Check(SandboxRun.Run(_program, _args, () => new SystrapPlatform()), "touch_memory");

    [Benchmark]
    [BenchmarkCategory("kvm")]
    public int SandboxTouch256MiBKvm() => SandboxRun.Check(SandboxRun.Run(_program, _args, KvmSupport.NewPlatform), "touch_memory");
}
