namespace Sentry.Benchmarks;

/// <summary>
/// Runs programs through the `sentry` executable itself, so a case measures what users run: the
/// Gofer serving the files over 9P included. Prefers the Native AOT build
/// (<c>artifacts/publish/sentry</c>, `dotnet cake --target=Publish`), else the JIT apphost of
/// Sentry.Host's Release build; SENTRY_BIN overrides both.
/// </summary>
internal static class SentryCommand
{
    static readonly Lazy<string> s_path = new(Find);

    public static string Path => s_path.Value;

    public static int Run(string program, params string[] args) =>
        HostCommand.Run(Path, ["do", "--platform=ptrace", "--", program, .. args]);

    /// <summary>`runsc do` with the same isolation the Compare report uses, or null when runsc is not installed.</summary>
    public static string? Runsc => File.Exists("/usr/bin/runsc") ? "/usr/bin/runsc" : null;

    public static int RunRunsc(string program, params string[] args) =>
        HostCommand.Run(Runsc ?? throw new InvalidOperationException("runsc is not installed (Debian package runsc)"),
            ["--rootless", "--network=none", "--platform=ptrace", "do", program, .. args]);

    static string Find()
    {
        if (Environment.GetEnvironmentVariable("SENTRY_BIN") is { Length: > 0 } bin) return bin;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            if (!File.Exists(System.IO.Path.Combine(dir.FullName, "Sentry.slnx"))) continue;
            foreach (var candidate in new[] { "artifacts/publish/sentry", "Sentry.Host/bin/Release/net10.0/sentry" })
            {
                string p = System.IO.Path.Combine(dir.FullName, candidate);
                if (File.Exists(p)) return p;
            }
        }
        throw new InvalidOperationException("cannot find the sentry executable: build Sentry.Host in Release, publish it, or set SENTRY_BIN");
    }
}
