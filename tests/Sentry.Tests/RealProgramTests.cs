using System.Security.Cryptography;
using Sentry.Tests.Infrastructure;

namespace Sentry.Tests;

/// <summary>
/// Unmodified Debian binaries (coreutils, busybox-static, python3) must behave in the sandbox
/// exactly as on the host. Absolute paths everywhere: PATH may contain pyenv shims.
/// </summary>
[TestFixtureSource(typeof(Platforms), nameof(Platforms.All))]
public sealed class RealProgramTests(string platform) : PlatformFixture(platform)
{
    const string Busybox = "/bin/busybox";
    const long BigFileSize = 50L << 20;

    static string BigFile => TestRun.Data.WriteDeterministicFile("big-50MiB.bin", BigFileSize);

    [Test]
    public void Echo()
    {
        var (_, sandbox) = AssertMatchesNative("/bin/echo", "hello");
        Assert.That(sandbox.StdoutText, Is.EqualTo("hello\n"));
    }

    [Test]
    public void TrueExitsZero() => Assert.That(AssertMatchesNative("/bin/true").Sandbox.ExitCode, Is.Zero);

    [Test]
    public void FalseExitsOne() => Assert.That(AssertMatchesNative("/bin/false").Sandbox.ExitCode, Is.EqualTo(1));

    [Test]
    public void CatOsRelease() => AssertMatchesNative("/bin/cat", "/etc/os-release");

    // Long listing: stat of every entry, uid/gid -> name via /etc/passwd, time formatting.
    [Test]
    public void LsLongUsr() => AssertMatchesNative("/bin/ls", "-l", "/usr");

    [Test]
    public void EnvWithEmptyEnvironment()
    {
        var (_, sandbox) = AssertMatchesNative("/usr/bin/env", "-i", "A=1", "/usr/bin/env");
        Assert.That(sandbox.StdoutText, Is.EqualTo("A=1\n"));
    }

    [Test]
    public void Sha256sumOf50MiB()
    {
        var file = BigFile;
        var (native, _) = AssertMatchesNative("/usr/bin/sha256sum", file);
        // Cross-check the native side against .NET so a broken host tool cannot hide a bug.
        using var s = File.OpenRead(file);
        var expected = Convert.ToHexStringLower(SHA256.HashData(s));
        Assert.That(native.StdoutText, Is.EqualTo($"{expected}  {file}\n"));
    }

    [Test]
    public void WcCountsBytes()
    {
        var (_, sandbox) = AssertMatchesNative("/usr/bin/wc", "-c", BigFile);
        Assert.That(sandbox.StdoutText, Is.EqualTo($"{BigFileSize} {BigFile}\n"));
    }

    // Random bytes differ per run, so only the amount is checked.
    [Test]
    public void HeadOfDevUrandom()
    {
        var r = Sandbox("/usr/bin/head", "-c", "1000", "/dev/urandom");
        Assert.That(r.ExitCode, Is.Zero, r.Describe());
        Assert.That(r.Stdout, Has.Length.EqualTo(1000), r.Describe());
    }

    [TestCase("echo", "hello", "from", "busybox")]
    [TestCase("ls", "/usr")]
    [TestCase("cat", "/etc/os-release")]
    [TestCase("wc", "-c", "/etc/os-release")]
    [TestCase("uname", "-s")]
    [TestCase("true")]
    [TestCase("false")]
    public void BusyboxApplet(params string[] appletAndArgs)
    {
        // Debian's busybox-static: a statically linked binary with its own libc use.
        HostTools.Require(Busybox, "busybox-static");
        AssertMatchesNative(Busybox, appletAndArgs);
    }

    [Test]
    public void BusyboxSha256sum()
    {
        HostTools.Require(Busybox, "busybox-static");
        AssertMatchesNative(Busybox, "sha256sum", Path.Combine(TestRun.Data.DataDir, "pages.bin"));
    }

    // CPython start-up: hundreds of opens/stats/mmaps of the stdlib, then big-int arithmetic.
    [Test]
    public void Python()
    {
        var python = HostTools.Require("/usr/bin/python3", "python3");
        var (_, sandbox) = AssertMatchesNative(python, "-c", "print(2**100)");
        Assert.That(sandbox.StdoutText, Is.EqualTo("1267650600228229401496703205376\n"));
    }
}
