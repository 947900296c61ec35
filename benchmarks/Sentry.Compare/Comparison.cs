namespace Sentry.Compare;

/// <summary>
/// Runs every workload under every available runner: one checking run each (which must exit 0),
/// then <c>runs</c> timed runs each through <see cref="Hyperfine"/>, then a few runs each while <see cref="PeakMemory"/> watches the process tree.
/// </summary>
public static class Comparison
{
    static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    public static Results Run(IReadOnlyList<Workload> workloads, IReadOnlyList<Runner> runners, int runs, int memoryRuns, TextWriter log)
    {
        var cells = new Dictionary<(string, string), Cell>();
        var usable = runners.Where(r => r.Unavailable == null).ToList();
        foreach (var w in workloads)
        {
            w.Setup?.Invoke();
            var ok = new List<Runner>();
            foreach (var r in usable)
            {
                var warm = CommandRun.Run(r.Argv(w.Command), Timeout);
                if (warm.ExitCode == 0) ok.Add(r);
                else
                {
                    string why = warm.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";
                    cells[(w.Name, r.Name)] = new Cell(default, default, $"exited {warm.ExitCode}: {why}");
                    log.WriteLine($"  {w.Name} / {r.Name}: FAILED ({why})");
                }
            }
            var times = ok.Count > 0 ? Hyperfine.Time(ok.Select(r => r.Argv(w.Command)).ToList(), runs) : [];
            foreach (var r in ok)
            {
                var peaks = new List<double>();
                for (int i = 0; i < memoryRuns; i++)
                {
                    long bytes = PeakMemory.Measure(r.Argv(w.Command), Timeout);
                    if (bytes >= 0) peaks.Add(bytes / (1024.0 * 1024.0));
                }
                var cell = new Cell(Stats.Of(times[ok.IndexOf(r)]), Stats.Of(peaks));
                cells[(w.Name, r.Name)] = cell;
                log.WriteLine($"  {w.Name} / {r.Name}: {cell.WallMs.Median:F1} ms, {cell.PeakMiB.Median:F1} MiB");
            }
        }
        return new Results(workloads, runners, cells, runs, DateTime.UtcNow);
    }
}
