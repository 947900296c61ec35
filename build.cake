// Build script: `dotnet tool restore` once, then `dotnet cake [--target=NAME]`.
//   Build    build the whole solution (Sentry.slnx)
//   Test     Build, then run every test project          (default)
//   Bench    run the BenchmarkDotNet suites              (--filter=PATTERN, default '*')
//   Publish  publish Sentry.Host to artifacts/publish     (the `sentry` executable)
// Common options: --configuration=Release|Debug (default Release).

var target = Argument("target", "Test");
var configuration = Argument("configuration", "Release");
var benchFilter = Argument("filter", "*");

const string Solution = "Sentry.slnx";
var publishDir = Directory("artifacts") + Directory("publish");

Task("Build")
    .Does(() =>
{
    DotNetBuild(Solution, new DotNetBuildSettings
    {
        Configuration = configuration,
    });
});

Task("Test")
    .IsDependentOn("Build")
    .Does(() =>
{
    DotNetTest(Solution, new DotNetTestSettings
    {
        Configuration = configuration,
        NoBuild = true,
        NoRestore = true,
    });
});

Task("Bench")
    .Does(() =>
{
    // Benchmarks are only meaningful in Release; BenchmarkDotNet refuses Debug builds anyway.
    DotNetRun("benchmarks/Sentry.Benchmarks/Sentry.Benchmarks.csproj",
        new ProcessArgumentBuilder().Append("--filter").AppendQuoted(benchFilter),
        new DotNetRunSettings { Configuration = "Release" });
});

Task("Publish")
    .Does(() =>
{
    DotNetPublish("Sentry.Host/Sentry.Host.csproj", new DotNetPublishSettings
    {
        Configuration = configuration,
        OutputDirectory = publishDir,
    });
    var exe = publishDir + File("sentry");
    if (!FileExists(exe))
        throw new Exception($"publish finished but {exe} is missing");
    Information("Published {0}", exe);
});

Task("Default")
    .IsDependentOn("Test");

RunTarget(target);
