namespace Sentry.Tests.Infrastructure;

/// <summary>
/// Finds the `sentry` executable under test. Order:
/// 1. $SENTRY_BIN (an apphost or a .dll), for testing an installed or published build;
/// 2. the test output directory: Sentry.Tests references Sentry.Host, so the build copies
///    sentry.dll, sentry.runtimeconfig.json and the apphost `sentry` next to the tests;
/// 3. Sentry.Host/bin/&lt;Configuration&gt;/net10.0/ in the repository.
/// A .dll without a usable apphost is started through the `dotnet` host.
/// </summary>
public static class SentryBinary
{
    static readonly Lazy<(string File, string[] Prefix)?> Found = new(Locate);

    /// <summary>The file to execute and the arguments that precede sentry's own.</summary>
    public static (string File, string[] Prefix) Command =>
        Found.Value ?? throw new AssertionException(
            "sentry executable not found: build Sentry.Host (dotnet build tests/Sentry.Tests builds it), " +
            $"or set SENTRY_BIN. Looked in {RepoPaths.TestOutput} and " +
            Path.Combine(RepoPaths.RepoRoot, "Sentry.Host", "bin", RepoPaths.Configuration, "net10.0"));

    static (string, string[])? Locate()
    {
        var env = Environment.GetEnvironmentVariable("SENTRY_BIN");
        if (!string.IsNullOrEmpty(env))
        {
            if (!File.Exists(env))
                throw new AssertionException($"SENTRY_BIN={env} does not exist");
            return env.EndsWith(".dll", StringComparison.Ordinal) ? (DotnetHost(), [env]) : (env, []);
        }
        foreach (var dir in new[]
                 {
                     RepoPaths.TestOutput,
                     Path.Combine(RepoPaths.RepoRoot, "Sentry.Host", "bin", RepoPaths.Configuration, "net10.0"),
                 })
        {
            var dll = Path.Combine(dir, "sentry.dll");
            // Without its runtimeconfig the assembly cannot be started on its own.
            if (!File.Exists(dll) || !File.Exists(Path.Combine(dir, "sentry.runtimeconfig.json")))
                continue;
            var apphost = Path.Combine(dir, "sentry");
            if (File.Exists(apphost) && IsExecutable(apphost))
                return (apphost, []);
            return (DotnetHost(), [dll]);
        }
        return null;
    }

    static bool IsExecutable(string path) =>
        (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;

    // `dotnet test` tells the test host where the muxer is; fall back to PATH.
    static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } p && File.Exists(p) ? p : "dotnet";
}
