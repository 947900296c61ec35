using BenchmarkDotNet.Attributes;

namespace Sentry.Benchmarks;

/// <summary>
/// Costs of common kernel paths, native beside the sandbox in one run: open+read+close of a
/// 4 KiB file, mmap + touching 16 pages + munmap, and a pipe ping-pong and an AF_UNIX socket
/// ping-pong between two processes.
/// Each program loops many times per invocation; results are per operation.
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
// Each category's native case is the baseline its sandbox case is compared with.
[GroupBenchmarksBy(BenchmarkDotNet.Configs.BenchmarkLogicalGroupRule.ByCategory)]
public class KernelPathBenchmarks
{
    public const int OpenN = 20_000, MmapN = 2_000, PipeN = 10_000;

    string _open = "", _mmap = "", _pipe = "", _unix = "", _file = "";

    [GlobalSetup]
    public void Setup()
    {
        _open = GuestPrograms.Compile("open_read_close");
        _mmap = GuestPrograms.Compile("mmap_touch");
        _pipe = GuestPrograms.Compile("pipe_pingpong");
        _unix = GuestPrograms.Compile("unix_pingpong");
        _file = Path.Combine(Path.GetTempPath(), "sentry-bench-4k.bin");
        File.WriteAllBytes(_file, new byte[4096]);
        SandboxRun.Check(SandboxRun.Run(_open, [_open, _file, "2"]), "open_read_close");
        SandboxRun.Check(SandboxRun.Run(_mmap, [_mmap, "2"]), "mmap_touch");
        SandboxRun.Check(SandboxRun.Run(_pipe, [_pipe, "2"]), "pipe_pingpong");
        SandboxRun.Check(SandboxRun.Run(_unix, [_unix, "2"]), "unix_pingpong");
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = OpenN)]
    [BenchmarkCategory("open+read+close 4 KiB")]
    public int NativeOpenReadClose() => SandboxRun.Check(HostCommand.Run(_open, _file, OpenN.ToString()), "open_read_close");

    [Benchmark(OperationsPerInvoke = OpenN)]
    [BenchmarkCategory("open+read+close 4 KiB")]
    public int SandboxOpenReadClosePtrace() => SandboxRun.Check(SandboxRun.Run(_open, [_open, _file, OpenN.ToString()]), "open_read_close");

    [Benchmark(Baseline = true, OperationsPerInvoke = MmapN)]
    [BenchmarkCategory("mmap+touch 16 pages+munmap")]
    public int NativeMmapTouch() => SandboxRun.Check(HostCommand.Run(_mmap, MmapN.ToString()), "mmap_touch");

    [Benchmark(OperationsPerInvoke = MmapN)]
    [BenchmarkCategory("mmap+touch 16 pages+munmap")]
    public int SandboxMmapTouchPtrace() => SandboxRun.Check(SandboxRun.Run(_mmap, [_mmap, MmapN.ToString()]), "mmap_touch");

    [Benchmark(Baseline = true, OperationsPerInvoke = PipeN)]
    [BenchmarkCategory("pipe ping-pong")]
    public int NativePipePingPong() => SandboxRun.Check(HostCommand.Run(_pipe, PipeN.ToString()), "pipe_pingpong");

    [Benchmark(OperationsPerInvoke = PipeN)]
    [BenchmarkCategory("pipe ping-pong")]
    public int SandboxPipePingPongPtrace() => SandboxRun.Check(SandboxRun.Run(_pipe, [_pipe, PipeN.ToString()]), "pipe_pingpong");

    [Benchmark(Baseline = true, OperationsPerInvoke = PipeN)]
    [BenchmarkCategory("unix socket ping-pong, 64 B")]
    public int NativeUnixPingPong() => SandboxRun.Check(HostCommand.Run(_unix, PipeN.ToString()), "unix_pingpong");

    [Benchmark(OperationsPerInvoke = PipeN)]
    [BenchmarkCategory("unix socket ping-pong, 64 B")]
    public int SandboxUnixPingPongPtrace() => SandboxRun.Check(SandboxRun.Run(_unix, [_unix, PipeN.ToString()]), "unix_pingpong");
}
