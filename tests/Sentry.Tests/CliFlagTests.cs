using System.Text;
using Sentry.Tests.Infrastructure;

namespace Sentry.Tests;

/// <summary>Command-line handling that does not depend on a platform being available.</summary>
public sealed class CliFlagTests
{
    [Test]
    public void UnknownFlagExits2WithUsage()
    {
        var r = SandboxRunner.Sentry(["do", "--definitely-not-a-flag", "--", "/bin/true"]);
        Assert.That(r.ExitCode, Is.EqualTo(2), r.Describe());
        Assert.That(r.StderrText, Does.Contain("usage").IgnoreCase, r.Describe());
    }

    [Test]
    public void DoWithoutProgramIsAUsageError()
    {
        var r = SandboxRunner.Sentry(["do"]);
        Assert.That(r.ExitCode, Is.Not.Zero, r.Describe());
        Assert.That(r.StderrText, Is.Not.Empty, r.Describe());
    }

    [Test]
    public void UnknownPlatformIsRejected()
    {
        var r = SandboxRunner.Sentry(["do", "--platform=bogus", "--", "/bin/true"]);
        Assert.That(r.ExitCode, Is.Not.Zero, r.Describe());
        Assert.That(r.StderrText, Is.Not.Empty, r.Describe());
    }

    [Test]
    public void UnknownNetworkModeIsRejectedInOneLine()
    {
        var r = SandboxRunner.Sentry(["do", "--network=bogus", "--", "/bin/true"]);
        Assert.That(r.ExitCode, Is.EqualTo(2), r.Describe());
        Assert.That(r.StderrText, Does.StartWith("sentry: --network bogus: expected none or host\n"), r.Describe());
    }

    [Test]
    public void AutoPlatformRunsAndSaysWhich()
    {
        if (Platforms.All.All(p => Platforms.Unavailable(p) != null))
            Assert.Ignore("no platform available on this host");
        var r = SandboxRunner.Sentry(["do", "--platform=auto", "--debug", "--", "/bin/echo", "ok"]);
        Assert.That(r.ExitCode, Is.Zero, r.Describe());
        Assert.That(r.StdoutText, Is.EqualTo("ok\n"));
        // auto takes KVM silently when it runs here; falling back to systrap (or, where the host
        // refuses seccomp, ptrace) is said (with --debug) on one line with the reason.
        if (Platforms.KvmAvailable && Sentry.Platform.Kvm.KvmPlatform.SlowerThanPtraceReason() == null)
            Assert.That(r.StderrText, Does.Not.Contain("using platform"), r.Describe());
        else if (Platforms.SystrapAvailable)
            Assert.That(r.StderrText, Does.Contain("sentry: using platform systrap (").And.Contain("kvm").IgnoreCase, r.Describe());
        else
            Assert.That(r.StderrText, Does.Contain("sentry: using platform ptrace (").And.Contain("systrap unavailable").IgnoreCase, r.Describe());
    }

    [Test]
    public void AutoPlatformSaysNothingWithoutDebug()
    {
        var r = SandboxRunner.Sentry(["do", "--platform=auto", "--", "/bin/echo", "ok"]);
        Assert.That(r.ExitCode, Is.Zero, r.Describe());
        Assert.That(r.StderrText, Does.Not.Contain("using platform"), r.Describe());
    }

    [Test]
    public void KvmRequestedWithoutDevKvmFailsWithOneLine()
    {
        if (Platforms.KvmAvailable)
            Assert.Ignore("/dev/kvm is usable here, so --platform=kvm cannot fail for lack of it");
        var r = SandboxRunner.Sentry(["do", "--platform=kvm", "--", "/bin/true"]);
        Assert.That(r.ExitCode, Is.EqualTo(1), r.Describe());
        var lines = r.StderrText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), "exactly one line on stderr\n" + r.Describe());
        Assert.That(Encoding.UTF8.GetByteCount(lines[0]), Is.LessThan(300), "one short line, not a stack trace");
    }
}
