using Sentry.Tests.Infrastructure;

namespace Sentry.Tests;

/// <summary>
/// The sandbox sees the host root under an in-memory overlay and none of the host's processes:
/// a program may change any file inside, but the host file system is unchanged and host /proc
/// stays hidden.
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

    /// <summary>Runs a shell script in the sandbox that must succeed there (the overlay takes the change).</summary>
    RunResult SucceedsInside(string script)
    {
        var r = Sandbox("/bin/sh", "-c", script);
        Assert.That(r.ExitCode, Is.Zero, "the change should succeed inside the sandbox (in its overlay)\n" + r.Describe());
        return r;
    }

    [Test]
    public void CreatedFileStaysInTheSandbox()
    {
        var target = Path.Combine(dir, "created-by-sandbox");
        var r = SucceedsInside($"touch {target} && echo inside > {target} && cat {target}");
        Assert.That(r.StdoutText, Is.EqualTo("inside\n"), r.Describe());
        Assert.That(File.Exists(target), Is.False, "the sandbox created a file on the host\n" + r.Describe());
    }

    [Test]
    public void CreatedDirectoryStaysInTheSandbox()
    {
        var target = Path.Combine(dir, "newdir");
        SucceedsInside($"mkdir {target} && test -d {target}");
        Assert.That(Directory.Exists(target), Is.False, "the sandbox created a directory on the host");
    }

    [Test]
    public void ChangedHostFileIsChangedOnlyInside()
    {
        var keep = Path.Combine(dir, "keep.txt");
        var r = SucceedsInside($"truncate -s 0 {keep} && echo changed >> {keep} && chmod 600 {keep} && cat {keep} && stat -c %a {keep}");
        Assert.That(r.StdoutText, Is.EqualTo("changed\n600\n"), r.Describe());
        Assert.That(File.ReadAllText(keep), Is.EqualTo("original\n"), "host file modified\n" + r.Describe());
        Assert.That(File.GetUnixFileMode(keep), Is.Not.EqualTo((UnixFileMode)0b110_000_000), "host file mode changed");
    }

    [Test]
    public void DeletedHostFileIsDeletedOnlyInside()
    {
        var keep = Path.Combine(dir, "keep.txt");
        var r = SucceedsInside($"rm {keep} && ! test -e {keep} && ls -A {dir} | wc -l && mv {dir} {dir}.moved && test -d {dir}.moved");
        Assert.That(r.StdoutText, Is.EqualTo("0\n"), "the deleted file still shows inside\n" + r.Describe());
        Assert.That(File.Exists(keep), Is.True, "host file deleted\n" + r.Describe());
        Assert.That(Directory.Exists(dir + ".moved"), Is.False, "host directory renamed");
    }

    [Test]
    public void EachSandboxStartsFromTheHostTree()
    {
        var keep = Path.Combine(dir, "keep.txt");
        SucceedsInside($"echo first > {keep}");
        var r = SucceedsInside($"cat {keep}");
        Assert.That(r.StdoutText, Is.EqualTo("original\n"), "a change leaked from one sandbox to the next");
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
