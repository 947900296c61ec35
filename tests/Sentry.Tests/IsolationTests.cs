using Sentry.Tests.Infrastructure;

namespace Sentry.Tests;

/// <summary>
/// The sandbox sees the host root read-only and none of the host's processes: whatever a
/// program does inside, the host file system is unchanged and host /proc stays hidden.
/// </summary>
[TestFixtureSource(typeof(Platforms), nameof(Platforms.All))]
public sealed class IsolationTests(string platform) : PlatformFixture(platform)
{
    string dir = "";

    [SetUp]
    public void MakeScratchDir()
    {
        // A fresh host directory per test that the sandbox could otherwise write into.
        dir = Path.Combine(TestRun.Data.Root, "iso-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        File.SetUnixFileMode(dir, (UnixFileMode)0b111_111_111);
        File.WriteAllText(Path.Combine(dir, "keep.txt"), "original\n");
    }

    [Test]
    public void TouchCannotCreateHostFile()
    {
        var target = Path.Combine(dir, "created-by-sandbox");
        var r = Sandbox("/usr/bin/touch", target);
        Assert.That(File.Exists(target), Is.False, "the sandbox created a file on the host\n" + r.Describe());
        Assert.That(r.ExitCode, Is.Not.Zero, "writing to the read-only root should fail\n" + r.Describe());
    }

    [Test]
    public void MkdirCannotCreateHostDirectory()
    {
        var target = Path.Combine(dir, "newdir");
        var r = Sandbox("/bin/mkdir", target);
        Assert.That(Directory.Exists(target), Is.False, "the sandbox created a directory on the host\n" + r.Describe());
        Assert.That(r.ExitCode, Is.Not.Zero, r.Describe());
    }

    [Test]
    public void TruncateCannotChangeHostFile()
    {
        var keep = Path.Combine(dir, "keep.txt");
        var r = Sandbox("/usr/bin/truncate", "-s", "0", keep);
        Assert.That(File.ReadAllText(keep), Is.EqualTo("original\n"), "host file modified\n" + r.Describe());
        Assert.That(r.ExitCode, Is.Not.Zero, r.Describe());
    }

    [Test]
    public void RmCannotDeleteHostFile()
    {
        var keep = Path.Combine(dir, "keep.txt");
        var r = Sandbox("/bin/rm", "-f", keep);
        Assert.That(File.Exists(keep), Is.True, "host file deleted\n" + r.Describe());
        Assert.That(r.ExitCode, Is.Not.Zero, r.Describe());
    }

    [Test]
    public void HostProcessesAreNotListedInProc()
    {
        // ls may fail (no procfs yet) or list the sandbox's own pids; it must never show
        // the host's, such as the test runner's or sentry's own pid.
        var r = Sandbox("/bin/ls", "-1", "/proc");
        var listed = r.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        Assert.That(listed, Does.Not.Contain(Environment.ProcessId.ToString()), "test runner pid visible\n" + r.Describe());
        Assert.That(listed, Does.Not.Contain(r.Pid.ToString()), "sentry's own pid visible\n" + r.Describe());
    }

    [Test]
    public void HostProcessDetailsAreUnreadable()
    {
        var r = Sandbox("/bin/cat", $"/proc/{Environment.ProcessId}/cmdline");
        Assert.That(r.ExitCode, Is.Not.Zero, "host /proc/<pid> readable from the sandbox\n" + r.Describe());
        Assert.That(r.Stdout, Is.Empty, r.Describe());
    }
}
