using System.Reflection;

namespace Sentry.Tests.Infrastructure;

/// <summary>Paths recorded at build time (see Sentry.Tests.csproj) and derived from the test output.</summary>
public static class RepoPaths
{
    static string Metadata(string key) =>
        typeof(RepoPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == key)?.Value
        ?? throw new InvalidOperationException($"assembly metadata '{key}' missing from Sentry.Tests.csproj");

    /// <summary>The repository root (the directory holding Sentry.slnx).</summary>
    public static string RepoRoot => Path.GetFullPath(Metadata("SentryRepoRoot"));

    /// <summary>The build configuration the tests were compiled with (Debug/Release).</summary>
    public static string Configuration => Metadata("SentryConfiguration");

    /// <summary>tests/programs: the C sources of the test programs.</summary>
    public static string ProgramsSource => Path.Combine(RepoRoot, "tests", "programs");

    /// <summary>Where this test assembly (and, normally, the sentry executable) lives.</summary>
    public static string TestOutput => AppContext.BaseDirectory;
}
