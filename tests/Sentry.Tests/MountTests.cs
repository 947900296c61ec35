using Sentry.Tests.Infrastructure;

namespace Sentry.Tests;

/// <summary>
/// mount(2) and umount2(2) inside the sandbox as a container's init uses them (tmpfs, bind
/// mounts, another procfs and sysfs): tests/programs/mounts.c, compared with the same binary run
/// natively in a private mount namespace (`unshare -m`), so the native run cannot touch the
/// host's mounts either.
/// </summary>
[TestFixtureSource(typeof(Platforms), nameof(Platforms.All))]
public sealed class MountTests(string platform) : PlatformFixture(platform)
{
    static readonly RunOptions Limited = new() { Timeout = TimeSpan.FromSeconds(60) };

    [Test]
    public void MatchesNative([Values("tmpfs", "bind", "proc")] string mode, [Values] Flavour flavour)
    {
        HostTools.Require("/usr/bin/unshare", "util-linux");
        if (Environment.UserName != "root") Assert.Ignore("the native side needs root to mount in a private namespace");
        var exe = TestPrograms.Get("mounts", flavour);
        string hostDir = Directory.CreateTempSubdirectory("sentry-mounts-").FullName;
        try
        {
            var native = SandboxRunner.Native("/usr/bin/unshare", ["-m", "--propagation", "private", exe, hostDir, mode], Limited);
            Assert.That(native.ExitCode, Is.Zero, $"native run failed:\n{native.StdoutText}\n{native.Describe()}");
            Assert.That(native.StdoutText, Does.EndWith("done\n"), "native run did not finish");
            Behaviour.AssertSame(native, SandboxRunner.Sandbox(Platform, exe, ["/dev/shm/mounts", mode], Limited));
        }
        finally { Directory.Delete(hostDir, recursive: true); }
    }
}
