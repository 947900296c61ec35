using System.CommandLine;
using Sentry.Compare;

// Whole commands side by side: native, sentry on each platform, runsc. Writes docs/benchmarks.md.
var sentryOpt = new Option<string>("--sentry") { Description = "the published (Native AOT) sentry executable", Required = true };
var runsOpt = new Option<int>("--runs") { Description = "timed runs per command and runner", DefaultValueFactory = _ => 20 };
var memRunsOpt = new Option<int>("--memory-runs") { Description = "runs per command and runner while sampling peak memory", DefaultValueFactory = _ => 5 };
var outOpt = new Option<string>("--out") { Description = "the markdown report to write (SVG charts go beside it)", DefaultValueFactory = _ => "docs/benchmarks.md" };
var versionOpt = new Option<string>("--version-label") { Description = "how the report names the sentry build (e.g. a commit)", DefaultValueFactory = _ => "(unlabelled build)" };
var root = new RootCommand("Runs whole commands natively, in sentry and in runsc, and writes a report") { sentryOpt, runsOpt, memRunsOpt, outOpt, versionOpt };
var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    Console.Error.WriteLine($"compare: {parse.Errors[0].Message}");
    return 2;
}
if (parse.Action is not null && parse.CommandResult.Command == root && args.Any(a => a is "--help" or "-h" or "-?"))
    return parse.Invoke();

string sentry = Path.GetFullPath(parse.GetValue(sentryOpt)!);
if (!File.Exists(sentry))
{
    Console.Error.WriteLine($"compare: {sentry}: no such file (run the Publish target first)");
    return 2;
}
int runs = Math.Max(2, parse.GetValue(runsOpt));
if (Hyperfine.Unavailable is { } noHyperfine)
{
    Console.Error.WriteLine($"compare: {noHyperfine}");
    return 1;
}
string scratch = Path.Combine(Path.GetTempPath(), "sentry-compare");
Directory.CreateDirectory(scratch);

var runners = new List<Runner> { Runner.Native(), Runner.Sentry(sentry, "ptrace"), Runner.Sentry(sentry, "systrap"), Runner.Sentry(sentry, "kvm"), Runner.Runsc() };
foreach (var r in runners) Console.WriteLine(r.Unavailable == null ? $"runner {r.Name}: ok" : $"runner {r.Name}: skipped, {r.Unavailable}");
var results = Comparison.Run(Workload.All(scratch), runners, runs, Math.Max(0, parse.GetValue(memRunsOpt)), Console.Out);
Report.Write(results, parse.GetValue(outOpt)!, parse.GetValue(versionOpt)!);
Console.WriteLine($"wrote {parse.GetValue(outOpt)}");
return 0;
