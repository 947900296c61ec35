using BenchmarkDotNet.Attributes;

namespace Sentry.Benchmarks;

/// <summary>
/// File-system costs through the whole stack a user runs — `sentry do`, whose files come from the
/// Gofer over 9P under the in-memory overlay — beside the same program natively and in
/// `runsc --platform=ptrace do`, on the same files: open+read+close of a 4 KiB file, stat of a
/// path 5 levels deep, and reading a 100 MiB file sequentially. Each invocation is a whole run,
/// start-up included; the loops are long enough that start-up adds a few percent at most
/// (sentry ~30 ms, runsc ~270 ms here, over runs of seconds).
/// </summary>
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkDotNet.Configs.BenchmarkLogicalGroupRule.ByCategory)]
public class FileBenchmarks
{
    public const int OpenN = 20_000, StatN = 20_000, ReadN = 8;

    string _open = "", _stat = "", _read = "", _small = "", _deep = "", _big = "";

    [GlobalSetup]
    public void Setup()
    {
        _open = GuestPrograms.Compile("open_read_close");
        _stat = GuestPrograms.Compile("stat_deep");
        _read = GuestPrograms.Compile("seq_read");
        string root = Path.Combine(Path.GetTempPath(), "sentry-bench-files");
        _small = Path.Combine(root, "small-4k.bin");
        _deep = Path.Combine(root, "a", "b", "c", "d", "file");
        _big = Path.Combine(root, "big-100m.bin");
        Directory.CreateDirectory(Path.GetDirectoryName(_deep)!);
        File.WriteAllBytes(_small, new byte[4096]);
        File.WriteAllText(_deep, "deep\n");
        if (!File.Exists(_big) || new FileInfo(_big).Length != 100 << 20)
        {
            var data = new byte[1 << 20];
            new Random(1).NextBytes(data);
            using var f = File.Create(_big);
            for (int i = 0; i < 100; i++) f.Write(data);
        }
        SandboxRun.Check(SentryCommand.Run(_open, _small, "2"), "sentry open_read_close");
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = OpenN)]
    [BenchmarkCategory("open+read+close 4 KiB")]
    public int NativeOpenReadClose() => SandboxRun.Check(HostCommand.Run(_open, _small, OpenN.ToString()), "open_read_close");

    [Benchmark(OperationsPerInvoke = OpenN)]
    [BenchmarkCategory("open+read+close 4 KiB")]
    public int SentryOpenReadClose() => SandboxRun.Check(SentryCommand.Run(_open, _small, OpenN.ToString()), "sentry open_read_close");

    [Benchmark(OperationsPerInvoke = OpenN)]
    [BenchmarkCategory("open+read+close 4 KiB")]
    public int RunscOpenReadClose() => SandboxRun.Check(SentryCommand.RunRunsc(_open, _small, OpenN.ToString()), "runsc open_read_close");

    [Benchmark(Baseline = true, OperationsPerInvoke = StatN)]
    [BenchmarkCategory("stat, 5 levels deep")]
    public int NativeStatDeep() => SandboxRun.Check(HostCommand.Run(_stat, _deep, StatN.ToString()), "stat_deep");

    [Benchmark(OperationsPerInvoke = StatN)]
    [BenchmarkCategory("stat, 5 levels deep")]
    public int SentryStatDeep() => SandboxRun.Check(SentryCommand.Run(_stat, _deep, StatN.ToString()), "sentry stat_deep");

    [Benchmark(OperationsPerInvoke = StatN)]
    [BenchmarkCategory("stat, 5 levels deep")]
    public int RunscStatDeep() => SandboxRun.Check(SentryCommand.RunRunsc(_stat, _deep, StatN.ToString()), "runsc stat_deep");

    [Benchmark(Baseline = true, OperationsPerInvoke = ReadN)]
    [BenchmarkCategory("sequential read, 100 MiB")]
    public int NativeSequentialRead() => SandboxRun.Check(HostCommand.Run(_read, _big, ReadN.ToString()), "seq_read");

    [Benchmark(OperationsPerInvoke = ReadN)]
    [BenchmarkCategory("sequential read, 100 MiB")]
    public int SentrySequentialRead() => SandboxRun.Check(SentryCommand.Run(_read, _big, ReadN.ToString()), "sentry seq_read");

    [Benchmark(OperationsPerInvoke = ReadN)]
    [BenchmarkCategory("sequential read, 100 MiB")]
    public int RunscSequentialRead() => SandboxRun.Check(SentryCommand.RunRunsc(_read, _big, ReadN.ToString()), "runsc seq_read");
}
