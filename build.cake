// Build script: `dotnet tool restore` once, then `dotnet cake [--target=NAME]`.
//   Build    build the whole solution (Sentry.slnx)
//   Test     Build, then run every test project          (default)
//   Bench    run the BenchmarkDotNet suites              (--filter=PATTERN, default '*')
//   Publish  publish Sentry.Host to artifacts/publish     (the `sentry` executable, Native AOT)
//   Compare  Publish, then run whole commands natively, in sentry and in runsc side by side
//            and write docs/benchmarks.md with its SVG charts   (--runs=N, default 20)
// Common options: --configuration=Release|Debug (default Release).

var target = Argument("target", "Test");
var configuration = Argument("configuration", "Release");
var benchFilter = Argument("filter", "*");
var compareRuns = Argument("runs", 20);

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

Task("Compare")
    .IsDependentOn("Publish")
    .Does(() =>
{
    // The report names the build it measured.
    string label = "(unknown commit)";
    var git = StartProcess("git", new ProcessSettings { Arguments = "describe --always --dirty", RedirectStandardOutput = true }, out var lines);
    if (git == 0) label = "commit " + string.Join("", lines).Trim();
    // Build first and stop the compiler and MSBuild servers that the build leaves running: measured
    // with them alive (as under `dotnet run`), `sentry do /bin/true` came out ~40% slower.
    DotNetBuild("benchmarks/Sentry.Compare/Sentry.Compare.csproj", new DotNetBuildSettings { Configuration = "Release" });
    DotNetBuildServerShutdown();
    DotNetExecute("benchmarks/Sentry.Compare/bin/Release/net10.0/Sentry.Compare.dll",
        new ProcessArgumentBuilder()
            .Append("--sentry").AppendQuoted(MakeAbsolute(publishDir + File("sentry")).FullPath)
            .Append("--runs").Append(compareRuns.ToString())
            .Append("--out").AppendQuoted("docs/benchmarks.md")
            .Append("--version-label").AppendQuoted(label));
});

Task("Default")
    .IsDependentOn("Test");

RunTarget(target);
