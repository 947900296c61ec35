namespace Sentry.Tests.Infrastructure;

/// <summary>
/// The platforms every behaviour test runs on. A platform the host cannot offer makes the
/// test Ignored with the reason, never silently passed.
/// </summary>
public static class Platforms
{
    public static readonly string[] All = ["ptrace", "systrap", "kvm"];

    static readonly Lazy<string?> PtraceProblem = new(ProbePtrace);

    /// <summary>
    /// SENTRY_TEST_PLATFORMS=systrap,ptrace (comma-separated) runs the behaviour tests on those
    /// platforms only; the others are Ignored saying so. Unset: every platform the host offers.
    /// </summary>
    static readonly string[]? Chosen = Environment.GetEnvironmentVariable("SENTRY_TEST_PLATFORMS") is { Length: > 0 } v
        ? v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : null;

    /// <summary>Why <paramref name="platform"/> cannot run here, or null when it can.</summary>
    public static string? Unavailable(string platform) =>
        Chosen != null && !Chosen.Contains(platform) ? $"{platform} not in SENTRY_TEST_PLATFORMS" : Probe(platform);

    static string? Probe(string platform) => platform switch
    {
        "kvm" => KvmProblem(),
        "ptrace" => PtraceProblem.Value,
        "systrap" => SystrapProblem.Value,
        _ => throw new ArgumentException($"unknown platform {platform}"),
    };

    /// <summary>Ignores the current test when the platform is unavailable on this host.</summary>
    public static void Require(string platform)
    {
        if (Unavailable(platform) is { } why)
            Assert.Ignore(why);
    }

    public static bool KvmAvailable => KvmProblem() == null;

    public static bool SystrapAvailable => SystrapProblem.Value == null;

    static readonly Lazy<string?> SystrapProblem = new(ProbeSystrap);

    // systrap needs seccomp filters (SECCOMP_RET_TRAP) and SIGSYS delivery: sentry itself says
    // whether its stub starts here (exit 1 and one line when it cannot).
    static string? ProbeSystrap()
    {
        if (!File.ReadAllText("/proc/self/status").Contains("Seccomp:"))
            return "systrap unavailable: the host kernel has no seccomp";
        var r = SandboxRunner.Sentry(["do", "--platform=systrap", "--", "/bin/true"]);
        return r.ExitCode == 0 ? null : $"systrap unavailable: {r.StderrText.Trim()}";
    }

    static readonly Lazy<string?> KvmProblemOnce = new(ProbeKvm);

    static string? KvmProblem() => KvmProblemOnce.Value;

    static string? ProbeKvm()
    {
        if (!File.Exists("/dev/kvm"))
            return "KVM unavailable: /dev/kvm missing";
        try
        {
            using var f = new FileStream("/dev/kvm", FileMode.Open, FileAccess.ReadWrite);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"KVM unavailable: cannot open /dev/kvm: {e.Message}";
        }
        // /dev/kvm works: sentry itself says whether its KVM platform can run here (exit 1 and
        // one line when it cannot), so the tests follow what the build offers.
        var r = SandboxRunner.Sentry(["do", "--platform=kvm", "--", "/bin/true"]);
        return r.ExitCode == 0 ? null : $"KVM unavailable: {r.StderrText.Trim()}";
    }

    // Whether this host lets a process trace a child with PTRACE_SYSEMU (a seccomp profile or
    // Yama scope 3 can forbid it). Checked with a tiny native probe, independent of sentry, so
    // a broken sandbox shows up as failures rather than as skipped tests.
    static string? ProbePtrace()
    {
        if (File.Exists("/proc/sys/kernel/yama/ptrace_scope") &&
            File.ReadAllText("/proc/sys/kernel/yama/ptrace_scope").Trim() == "3")
            return "ptrace unavailable: kernel.yama.ptrace_scope is 3";
        var probe = TestPrograms.TryBuildProbe("probes/ptrace_probe.c");
        if (probe == null)
            return null; // no compiler for the probe: assume available and let the tests speak
        var r = ProcessRunner.Run(probe, [], timeout: TimeSpan.FromSeconds(20));
        return r.ExitCode == 0 ? null : $"ptrace unavailable: {r.StdoutText.Trim()} (probe exit {r.ExitCode})";
    }
}
