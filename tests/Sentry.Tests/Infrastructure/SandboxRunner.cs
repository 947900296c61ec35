namespace Sentry.Tests.Infrastructure;

/// <summary>How to run a program, identically on the host and in the sandbox.</summary>
public sealed record RunOptions
{
    /// <summary>Working directory: the host process's cwd, and `--cwd` for the sandbox.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Variables added to the launched process's environment (the program inherits them either way).</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <summary>`--env K=V` additions for the sandboxed program only.</summary>
    public IReadOnlyList<string> SandboxEnv { get; init; } = [];

    /// <summary>`--volume HOST:DEST[:ro]` bind mounts for the sandbox.</summary>
    public IReadOnlyList<string> Volumes { get; init; } = [];

    /// <summary>Pass `--strace`.</summary>
    public bool Strace { get; init; }

    public TimeSpan? Timeout { get; init; }

    /// <summary>Bytes fed to the program's stdin (then EOF); null means an empty stdin.</summary>
    public byte[]? Stdin { get; init; }

    /// <summary>`--network=MODE` for the sandbox (none, host); null leaves Sentry's default.</summary>
    public string? Network { get; init; }

    /// <summary>
    /// Run the command (natively, or `sentry` itself) in a private network namespace with only
    /// `lo`, up (`unshare -n`), so results never depend on the host's network.
    /// </summary>
    public bool PrivateNetwork { get; init; }
}

/// <summary>
/// Runs a command natively and inside the sandbox as
/// `sentry do --platform=P [--cwd D] [--env K=V]... [--volume V]... [--strace] -- PROGRAM ARGS...`.
/// </summary>
public static class SandboxRunner
{
    public static RunResult Native(string program, IEnumerable<string> args, RunOptions? options = null)
    {
        var o = options ?? new RunOptions();
        if (o.PrivateNetwork) (program, args) = NetworkNamespace.Wrap(program, args);
        return ProcessRunner.Run(program, args, o.WorkingDirectory, o.Environment, o.Timeout, o.Stdin);
    }

    public static RunResult Sandbox(string platform, string program, IEnumerable<string> args, RunOptions? options = null)
    {
        var o = options ?? new RunOptions();
        var sentryArgs = new List<string> { "do", $"--platform={platform}" };
        if (o.WorkingDirectory != null)
            sentryArgs.AddRange(["--cwd", o.WorkingDirectory]);
        foreach (var kv in o.SandboxEnv)
            sentryArgs.AddRange(["--env", kv]);
        foreach (var v in o.Volumes)
            sentryArgs.AddRange(["--volume", v]);
        if (o.Strace)
            sentryArgs.Add("--strace");
        if (o.Network != null)
            sentryArgs.Add($"--network={o.Network}");
        sentryArgs.Add("--");
        sentryArgs.Add(program);
        sentryArgs.AddRange(args);
        return Sentry(sentryArgs, o);
    }

    /// <summary>Runs sentry with exactly <paramref name="sentryArgs"/> (for CLI tests).</summary>
    public static RunResult Sentry(IEnumerable<string> sentryArgs, RunOptions? options = null)
    {
        var o = options ?? new RunOptions();
        var (file, prefix) = SentryBinary.Command;
        IEnumerable<string> all = prefix.Concat(sentryArgs);
        if (o.PrivateNetwork) (file, all) = NetworkNamespace.Wrap(file, all);
        return ProcessRunner.Run(file, all, o.WorkingDirectory, o.Environment, o.Timeout, o.Stdin);
    }
}
