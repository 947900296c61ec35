using BenchmarkDotNet.Attributes;

namespace Sentry.Benchmarks;

/// <summary>
/// Process and thread costs, native beside the sandbox in one run:
/// fork + execve + wait of a static program (<see cref="ForkExecN"/> times per run, from a small
/// parent and from one with <see cref="BigParentMiB"/> MiB of written heap), and a futex
/// ping-pong between two threads (<see cref="PingPongN"/> round trips per run). Each program runs
/// once per invocation, natively or in a fresh sandbox; results are per operation, with the
/// program's own start-up spread over its iterations.
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
// Each category's native case is the baseline its sandbox case is compared with.
[GroupBenchmarksBy(BenchmarkDotNet.Configs.BenchmarkLogicalGroupRule.ByCategory)]
public class ProcessBenchmarks
{
    public const int ForkExecN = 200, PingPongN = 20_000;
    /// <summary>Heap the parent fills before forking in the "big parent" case: what copy-on-write saves.</summary>
    public const string BigParentMiB = "64";

    string _forkExec = "", _true = "", _pingPong = "";

    [GlobalSetup]
    public void Setup()
    {
        _forkExec = GuestPrograms.Compile("fork_exec_wait");
        _true = GuestPrograms.Compile("true_static");
        _pingPong = GuestPrograms.Compile("futex_pingpong");
        // A short check run in the sandbox, so a broken sandbox fails here, not as a timing.
        Check(RunSandbox(_forkExec, [_forkExec, _true, "2"]), "fork_exec_wait");
        Check(RunSandbox(_pingPong, [_pingPong, "10"]), "futex_pingpong");
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = ForkExecN)]
    [BenchmarkCategory("fork+exec+wait")]
    public int NativeForkExecWait() => Check(HostCommand.Run(_forkExec, _true, ForkExecN.ToString()), "fork_exec_wait");

    [Benchmark(OperationsPerInvoke = ForkExecN)]
    [BenchmarkCategory("fork+exec+wait")]
    public int SandboxForkExecWaitPtrace() => Check(RunSandbox(_forkExec, [_forkExec, _true, ForkExecN.ToString()]), "fork_exec_wait");

    [Benchmark(Baseline = true, OperationsPerInvoke = ForkExecN)]
    [BenchmarkCategory("fork+exec+wait, 64 MiB parent")]
    public int NativeForkExecWaitBigParent() => Check(HostCommand.Run(_forkExec, _true, ForkExecN.ToString(), BigParentMiB), "fork_exec_wait");

    [Benchmark(OperationsPerInvoke = ForkExecN)]
    [BenchmarkCategory("fork+exec+wait, 64 MiB parent")]
    public int SandboxForkExecWaitBigParentPtrace() => Check(RunSandbox(_forkExec, [_forkExec, _true, ForkExecN.ToString(), BigParentMiB]), "fork_exec_wait");

    [Benchmark(Baseline = true, OperationsPerInvoke = PingPongN)]
    [BenchmarkCategory("futex ping-pong")]
    public int NativeFutexPingPong() => Check(HostCommand.Run(_pingPong, PingPongN.ToString()), "futex_pingpong");

    [Benchmark(OperationsPerInvoke = PingPongN)]
    [BenchmarkCategory("futex ping-pong")]
    public int SandboxFutexPingPongPtrace() => Check(RunSandbox(_pingPong, [_pingPong, PingPongN.ToString()]), "futex_pingpong");

    static int RunSandbox(string program, string[] args) => SandboxRun.Run(program, args);

    static int Check(int status, string what) => SandboxRun.Check(status, what);
}
