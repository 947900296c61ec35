using System.Text.RegularExpressions;
using Sentry.Tests.Infrastructure;

namespace Sentry.Tests;

/// <summary>
/// The `sentry do` contract as seen from a shell: exit statuses for programs that cannot run,
/// environment and working directory handling, and --strace output. Runs on every platform.
/// </summary>
[TestFixtureSource(typeof(Platforms), nameof(Platforms.All))]
public sealed class CliTests(string platform) : PlatformFixture(platform)
{
    [Test]
    public void MissingProgramExits127()
    {
        const string missing = "/nonexistent/sentry-test-program";
        var r = Sandbox(missing);
        Assert.That(r.ExitCode, Is.EqualTo(127), r.Describe());
        Assert.That(r.StderrText, Does.Contain($"sentry: {missing}: No such file or directory"), r.Describe());
    }

    [Test]
    public void TextFileExits126()
    {
        var path = TestRun.Data.WriteFile("cli/not-elf.txt", "just some text, no #! line\n"u8.ToArray(),
            (UnixFileMode)0b111_101_101);
        AssertCannotExecute(Sandbox(path));
    }

    [Test]
    public void GarbageWithElfMagicExits126()
    {
        // The magic passes a first check; the rest is deterministic junk.
        var bytes = new byte[256];
        new Random(1234).NextBytes(bytes);
        "\x7f"u8.CopyTo(bytes);
        "ELF"u8.CopyTo(bytes.AsSpan(1));
        var path = TestRun.Data.WriteFile("cli/garbage.elf", bytes, (UnixFileMode)0b111_101_101);
        AssertCannotExecute(Sandbox(path));
    }

    [Test]
    public void TruncatedElfExits126()
    {
        // A real header whose program headers and segments lie past the end of the file.
        var head = File.ReadAllBytes("/bin/true").AsSpan(0, 100).ToArray();
        var path = TestRun.Data.WriteFile("cli/truncated.elf", head, (UnixFileMode)0b111_101_101);
        AssertCannotExecute(Sandbox(path));
    }

    static void AssertCannotExecute(RunResult r)
    {
        Assert.That(r.ExitCode, Is.EqualTo(126), r.Describe());
        Assert.That(r.StderrText, Does.StartWith("sentry: "), "a clear error line is expected\n" + r.Describe());
    }

    [Test]
    public void ProgramInheritsEnvironmentPlusEnvFlags()
    {
        var r = Sandbox(new RunOptions
        {
            Environment = new Dictionary<string, string>
            {
                ["SENTRY_TEST_INHERITED"] = "from-host",
                ["SENTRY_TEST_OVERRIDDEN"] = "old",
            },
            SandboxEnv = ["SENTRY_TEST_ADDED=via-flag", "SENTRY_TEST_SECOND=2", "SENTRY_TEST_OVERRIDDEN=new"],
        }, "/usr/bin/env");
        Assert.That(r.ExitCode, Is.Zero, r.Describe());
        var lines = r.StdoutText.Split('\n');
        Assert.That(lines, Does.Contain("SENTRY_TEST_INHERITED=from-host"));
        Assert.That(lines, Does.Contain("SENTRY_TEST_ADDED=via-flag"));
        Assert.That(lines, Does.Contain("SENTRY_TEST_SECOND=2"));
        // An --env entry replaces an inherited variable of the same name; no duplicates.
        Assert.That(lines.Where(l => l.StartsWith("SENTRY_TEST_OVERRIDDEN=", StringComparison.Ordinal)),
            Is.EqualTo(new[] { "SENTRY_TEST_OVERRIDDEN=new" }));
    }

    [Test]
    public void CwdFlagSetsWorkingDirectory()
    {
        var r = Sandbox(new RunOptions { WorkingDirectory = "/usr/share" }, "/bin/pwd", "-P");
        Assert.That(r.ExitCode, Is.Zero, r.Describe());
        Assert.That(r.StdoutText, Is.EqualTo("/usr/share\n"));
    }

    [Test]
    public void ArgumentsAfterDoubleDashReachTheProgram()
    {
        // "-n" must go to echo, not be parsed as a sentry flag.
        var r = Sandbox("/bin/echo", "-n", "--platform=bogus", "x y");
        Assert.That(r.ExitCode, Is.Zero, r.Describe());
        Assert.That(r.StdoutText, Is.EqualTo("--platform=bogus x y"));
    }

    [Test]
    public void BinaryOutputPassesThroughUnchanged()
    {
        // stdout is a byte stream: no re-encoding of invalid UTF-8 or NULs.
        var path = TestRun.Data.WriteFile("cli/bytes.bin", Enumerable.Range(0, 256).Select(i => (byte)i).ToArray());
        var r = Sandbox("/bin/cat", path);
        Assert.That(r.ExitCode, Is.Zero, r.Describe());
        Assert.That(r.Stdout, Is.EqualTo(File.ReadAllBytes(path)));
    }

    [Test]
    public void StdinIsPassedThrough()
    {
        // 200 KiB: more than a pipe buffer, so the sandbox must keep reading until EOF.
        var data = new byte[200 * 1024];
        new Random(42).NextBytes(data);
        var r = Sandbox(new RunOptions { Stdin = data }, "/bin/cat");
        Assert.That(r.ExitCode, Is.Zero, r.Describe());
        Assert.That(r.Stdout, Is.EqualTo(data), r.Describe());
    }

    [Test]
    public void UnsupportedSyscallIsReportedOncePerName()
    {
        var exe = TestPrograms.Get("enosys", Flavour.GlibcStatic);
        var native = Native(exe);
        // Without --debug the application's stderr is its own: exactly what it printed natively.
        var quiet = Sandbox(exe);
        Behaviour.AssertSame(native, quiet);
        Assert.That(quiet.StderrText, Is.EqualTo(native.StderrText), "Sentry wrote on the application's stderr without --debug\n" + quiet.Describe());
        var sandbox = SandboxRunner.Sentry(["do", $"--platform={Platform}", "--debug", "--", exe]);
        Behaviour.AssertSame(native, sandbox); // three ENOSYS lines, no other stderr
        var reports = sandbox.StderrText.Split('\n')
            .Where(l => Regex.IsMatch(l, @"^sentry: unsupported syscall \S+\(1000\)$")).ToArray();
        Assert.That(reports, Has.Length.EqualTo(1), "expected one 'sentry: unsupported syscall NAME(1000)' line\n" + sandbox.Describe());
    }

    [Test]
    public void StracePrintsSyscallLines()
    {
        var r = Sandbox(new RunOptions { Strace = true }, "/bin/true");
        Assert.That(r.ExitCode, Is.Zero, r.Describe());
        Assert.That(r.Stdout, Is.Empty);
        // strace style: "name(args) = result", optionally prefixed by "[pid] ".
        Assert.That(Regex.IsMatch(r.StderrText, @"(?m)^(\[\d+\] )?[a-z_0-9]+\(.*\) = "), Is.True,
            "no 'name(args) = result' line\n" + r.Describe());
        Assert.That(r.StderrText, Does.Match(@"(?m)^(\[\d+\] )?exit_group\(0\)"), r.Describe());
    }

    [Test]
    public void NoStraceOutputWithoutFlag()
    {
        var r = Sandbox("/bin/true");
        Assert.That(r.ExitCode, Is.Zero, r.Describe());
        Assert.That(r.StderrWithoutSentryLines, Is.Empty, r.Describe());
    }
}
