using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;

namespace Sentry.Benchmarks;

public static class Program
{
    /// <summary>
    /// Runs the suites chosen on the command line (for example <c>--filter '*'</c>). Without a
    /// <c>--job</c> option every case runs under <see cref="QuickJob"/>, so the whole suite takes a
    /// few minutes; pass <c>--job default</c> for BenchmarkDotNet's own, longer defaults.
    /// </summary>
    public static int Main(string[] args)
    {
        // Say once, up front, which KVM cases are left out and why, rather than failing them.
        foreach (string line in KvmSupport.SkipNotes())
            Console.WriteLine(line);

        IConfig config = DefaultConfig.Instance
            .AddFilter(new SimpleFilter(b => KvmSupport.Allows(b.Descriptor.WorkloadMethod.Name)));
        // A default job in the config would take precedence over --job, so add it only without one.
        // Other options (--iterationCount, --warmupCount, ...) still adjust it.
        if (!args.Any(a => a is "--job" or "-j" || a.StartsWith("--job=", StringComparison.Ordinal)))
            config = config.AddJob(QuickJob.AsDefault());

        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }

    /// <summary>One launch, two warm-up and five measured iterations: enough to compare against
    /// the floors, which differ by orders of magnitude, not enough for fine-grained regressions.</summary>
    static Job QuickJob { get; } = Job.Default
        .WithId("Quick")
        .WithLaunchCount(1)
        .WithWarmupCount(2)
        .WithIterationCount(5);
}
