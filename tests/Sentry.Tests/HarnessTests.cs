using Sentry.Tests.Infrastructure;

namespace Sentry.Tests;

/// <summary>
/// Checks of the test harness itself, so a broken harness cannot make sandbox tests pass:
/// comparisons must notice differences, and hung processes must be killed.
/// </summary>
public sealed class HarnessTests
{
    [Test]
    public void TimeoutKillsTheProcess()
    {
        var started = DateTime.UtcNow;
        var r = ProcessRunner.TryRun("/bin/sleep", ["30"], timeout: TimeSpan.FromSeconds(1));
        Assert.That(r.Problem, Does.StartWith("timed out"));
        Assert.That(DateTime.UtcNow - started, Is.LessThan(TimeSpan.FromSeconds(15)));
    }

    [Test]
    public void CapturesBytesAndExitStatus()
    {
        var r = ProcessRunner.Run("/usr/bin/printf", ["a\\000b"]);
        Assert.That(r.Stdout, Is.EqualTo(new byte[] { (byte)'a', 0, (byte)'b' }));
        Assert.That(ProcessRunner.Run("/bin/false", []).ExitCode, Is.EqualTo(1));
    }

    [Test]
    public void SignalDeathIs128PlusSignal()
    {
        // The same convention the sandbox must follow for its exit status.
        var r = ProcessRunner.Run("/bin/sh", ["-c", "kill -TERM $$"]);
        Assert.That(r.ExitCode, Is.EqualTo(128 + 15));
    }

    [Test]
    public void StdinIsFedThenClosed()
    {
        var r = ProcessRunner.Run("/bin/cat", [], stdin: "piped\n"u8.ToArray());
        Assert.That(r.StdoutText, Is.EqualTo("piped\n"));
    }

    [Test]
    public void SentryDiagnosticsAreDroppedFromStderrOnly()
    {
        var r = new RunResult("x", 0, [], "sentry: unsupported syscall foo(1)\nreal error\nsentry: x\n"u8.ToArray(), 1);
        Assert.That(r.StderrWithoutSentryLines, Is.EqualTo("real error\n"));
    }

    [Test]
    public void CompareNoticesDifferences()
    {
        var a = new RunResult("a", 0, "same\nline\n"u8.ToArray(), [], 1);
        var b = new RunResult("b", 0, "same\nLINE\n"u8.ToArray(), [], 2);
        var c = new RunResult("c", 3, "same\nline\n"u8.ToArray(), [], 3);
        Assert.That(() => Behaviour.AssertSame(a, b), Throws.InstanceOf<AssertionException>()
            .With.Message.Contains("line 2"));
        Assert.That(() => Behaviour.AssertSame(a, c), Throws.InstanceOf<AssertionException>()
            .With.Message.Contains("exit status"));
    }
}
