namespace Sentry.Tests.Infrastructure;

/// <summary>
/// The Native AOT `sentry` as users install it (what container engines run). The OCI tests need
/// it: a container's Gofer serves a root other than the host's, and under the JIT a Gofer loads
/// assemblies lazily from paths that are gone once it has confined itself there. Order:
/// $SENTRY_PUBLISHED; artifacts/publish/sentry when newer than this build (CI publishes it
/// before testing); else one `dotnet publish` per test run into obj/.
/// </summary>
public static class PublishedSentry
{
    static readonly Lazy<(string? Path, string? Problem)> Found = new(Locate);

    /// <summary>The executable, or Ignores the test with the reason it could not be had.</summary>
    public static string Require()
    {
        var (path, problem) = Found.Value;
        if (path == null) Assert.Ignore(problem!);
        return path!;
    }

    static (string?, string?) Locate()
    {
        if (Environment.GetEnvironmentVariable("SENTRY_PUBLISHED") is { Length: > 0 } env)
            return File.Exists(env) ? (env, null) : (null, $"SENTRY_PUBLISHED={env} does not exist");
        string built = Path.Combine(RepoPaths.TestOutput, "sentry.dll");
        DateTime buildTime = File.Exists(built) ? File.GetLastWriteTimeUtc(built) : DateTime.MaxValue;
        string artifact = Path.Combine(RepoPaths.RepoRoot, "artifacts", "publish", "sentry");
        if (File.Exists(artifact) && File.GetLastWriteTimeUtc(artifact) >= buildTime) return (artifact, null);

        string dir = Path.Combine(RepoPaths.RepoRoot, "tests", "Sentry.Tests", "obj", "published-sentry");
        string exe = Path.Combine(dir, "sentry");
        if (File.Exists(exe) && File.GetLastWriteTimeUtc(exe) >= buildTime) return (exe, null);
        var r = ProcessRunner.TryRun("dotnet", ["publish", Path.Combine(RepoPaths.RepoRoot, "Sentry.Host"), "-c", RepoPaths.Configuration, "-o", dir],
            timeout: TimeSpan.FromMinutes(5));
        if (r.ExitCode != 0 || !File.Exists(exe))
            return (null, $"could not publish the Native AOT sentry for the OCI tests: {r.Problem ?? r.StdoutText[^Math.Min(2000, r.StdoutText.Length)..]}");
        return (exe, null);
    }
}
