namespace Sentry.Compare;

/// <summary>What one runner gave for one workload: wall time and peak memory, or why it failed.</summary>
public sealed record Cell(Stats WallMs, Stats PeakMiB, string? Failure = null);

/// <summary>Every measurement of one comparison run, with what the report needs to describe it.</summary>
public sealed record Results(
    IReadOnlyList<Workload> Workloads,
    IReadOnlyList<Runner> Runners,
    IReadOnlyDictionary<(string Workload, string Runner), Cell> Cells,
    int Runs,
    DateTime When)
{
    public Cell? Get(Workload w, Runner r) => Cells.TryGetValue((w.Name, r.Name), out var c) ? c : null;
}
