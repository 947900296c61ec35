namespace Sentry.Compare;

/// <summary>
/// One way of running a command: natively, in sentry on a platform, or in runsc. A runner that
/// cannot work on this machine carries the reason instead, and the report says it was skipped.
/// </summary>
public sealed record Runner(string Name, string[] Prefix, string? Unavailable = null)
{
    public bool IsNative => Prefix.Length == 0;

    /// <summary>The argv that runs <paramref name="command"/> through this runner.</summary>
    public string[] Argv(string[] command) => [.. Prefix, .. command];

    public static Runner Native() => new("native", []);

    public static Runner Sentry(string sentry, string platform) =>
        Probe(new Runner($"sentry ({platform})", [sentry, "do", $"--platform={platform}"]));

    public static Runner Runsc()
    {
        string? runsc = Which("runsc");
        if (runsc == null) return new Runner("runsc (ptrace)", [], "runsc is not installed (Debian package runsc)");
        return Probe(new Runner("runsc (ptrace)", [runsc, "--rootless", "--network=none", "--platform=ptrace", "do"]));
    }

    /// <summary>Runs /bin/true once through the runner; a failure makes it unavailable with what it printed.</summary>
    static Runner Probe(Runner r)
    {
        var res = CommandRun.Run(r.Argv(["/bin/true"]), TimeSpan.FromSeconds(30));
        if (res.ExitCode == 0) return r;
        string why = res.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";
        return r with { Unavailable = $"`/bin/true` exited {res.ExitCode}: {why}" };
    }

    static string? Which(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':')
            .Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);
}
