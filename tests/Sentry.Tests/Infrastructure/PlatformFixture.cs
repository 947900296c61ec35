namespace Sentry.Tests.Infrastructure;

/// <summary>
/// Base of every behaviour fixture. Fixtures derive from it with
/// [TestFixtureSource(typeof(Platforms), nameof(Platforms.All))], so each test runs once per
/// platform; on a host without that platform the test is Ignored with the reason.
/// </summary>
public abstract class PlatformFixture(string platform)
{
    protected string Platform { get; } = platform;

    [SetUp]
    public void RequirePlatform() => Platforms.Require(Platform);

    protected RunResult Native(string program, params string[] args) => SandboxRunner.Native(program, args);

    protected RunResult Sandbox(string program, params string[] args) => SandboxRunner.Sandbox(Platform, program, args);

    protected RunResult Sandbox(RunOptions options, string program, params string[] args) =>
        SandboxRunner.Sandbox(Platform, program, args, options);

    /// <summary>Runs natively and sandboxed; asserts same stdout, exit status and (filtered) stderr.</summary>
    protected (RunResult Native, RunResult Sandbox) AssertMatchesNative(string program, params string[] args) =>
        Behaviour.AssertMatchesNative(Platform, program, args);
}
