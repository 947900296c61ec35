using Sentry.Tests.Infrastructure;

namespace Sentry.Tests;

/// <summary>
/// `sentry do --volume HOST:DEST[:ro]`: a host directory bind-mounted into the sandbox, served by
/// the Gofer. Changes reach the host (file-system calls and tools on a volume are compared with
/// native in <see cref="FsCallTests"/>); here the boundary: the volume reaches its own directory
/// and nothing beside or above it, a read-only one stays unchanged, and bad option values get one
/// line and exit status 2.
/// </summary>
[TestFixtureSource(typeof(Platforms), nameof(Platforms.All))]
public sealed class VolumeTests(string platform) : PlatformFixture(platform)
{
    static readonly RunOptions Limited = new() { Timeout = TimeSpan.FromSeconds(60) };

    string _parent = "", _volume = "", _secret = "";

    [SetUp]
    public void MakeHostTree()
    {
        // parent/vol is the volume; parent/secret beside it must stay out of reach. The parent is
        // on the host's /dev/shm, which the sandbox does not see (its /dev/shm is its own tmpfs),
        // so the secret is reachable only by escaping the volume.
        if (!Directory.Exists("/dev/shm")) Assert.Ignore("the host has no /dev/shm to keep the secret out of the sandbox's view");
        _parent = Path.Combine("/dev/shm", "sentry-vol-" + Guid.NewGuid().ToString("N")[..8]);
        _volume = Path.Combine(_parent, "vol");
        _secret = Path.Combine(_parent, "secret");
        Directory.CreateDirectory(_volume);
        File.WriteAllText(_secret, "host secret\n");
        File.WriteAllText(Path.Combine(_volume, "shared.txt"), "from the host\n");
    }

    [TearDown]
    public void RemoveHostTree() => Directory.Delete(_parent, recursive: true);

    RunResult Run(string volume, string script) =>
        Sandbox(Limited with { Volumes = [volume] }, "/bin/sh", "-c", script);

    [Test]
    public void ChangesReachTheHostAndHostFilesAreSeen()
    {
        var r = Run($"{_volume}:/data", "cat /data/shared.txt && echo made > /data/new.txt && mkdir /data/d && mv /data/new.txt /data/d/ && rm /data/shared.txt && ls /data");
        Assert.That(r.ExitCode, Is.Zero, r.Describe());
        Assert.That(r.StdoutText, Is.EqualTo("from the host\nd\n"));
        Assert.That(File.ReadAllText(Path.Combine(_volume, "d", "new.txt")), Is.EqualTo("made\n"));
        Assert.That(File.Exists(Path.Combine(_volume, "shared.txt")), Is.False, "the file removed in the sandbox is still on the host");
    }

    [Test]
    public void StoresThroughASharedMappingReachTheHostFile()
    {
        HostTools.Require("/usr/bin/python3", "python3");
        File.WriteAllText(Path.Combine(_volume, "mapped"), "hello world\n");
        var r = Run($"{_volume}:/data", """
            python3 -c "
            import mmap
            f = open('/data/mapped', 'r+b')
            m = mmap.mmap(f.fileno(), 0)
            m[0:5] = b'HELLO'
            print(open('/data/mapped').read(), end='')
            m.flush()
            m[6:11] = b'WORLD'
            m.close()
            "
            """);
        Assert.That(r.ExitCode, Is.Zero, r.Describe());
        Assert.That(r.StdoutText, Is.EqualTo("HELLO world\n"), "read(2) in the sandbox did not see the mapped store");
        Assert.That(File.ReadAllText(Path.Combine(_volume, "mapped")), Is.EqualTo("HELLO WORLD\n"), "msync and munmap did not write the stores back to the host file");
    }

    [Test]
    public void DotDotAtTheVolumeRootIsTheSandboxsDirectory()
    {
        // /data/.. is the sandbox's /, where no "secret" is; the host's parent of the volume is never reached.
        var r = Run($"{_volume}:/data", "cat /data/../secret; ls -d /data/.. && test -d /data/../proc && echo sandbox-root");
        Assert.That(r.StdoutText, Does.Not.Contain("host secret"), r.Describe());
        Assert.That(r.StdoutText, Does.Contain("sandbox-root"), r.Describe());
    }

    [Test]
    public void SymlinksInTheVolumeResolveInsideTheSandbox(
        [Values("absolute", "relative", "deep-relative")] string kind)
    {
        string target = kind switch
        {
            "absolute" => _secret,
            "relative" => "../secret",
            _ => "../../../../../../../../" + _secret.TrimStart('/'),
        };
        File.CreateSymbolicLink(Path.Combine(_volume, "link"), target);
        var r = Run($"{_volume}:/data", "cat /data/link; echo status $?; echo written > /data/link 2>/dev/null; echo");
        Assert.That(r.StdoutText, Does.Not.Contain("host secret"), r.Describe());
        Assert.That(File.ReadAllText(_secret), Is.EqualTo("host secret\n"), "a write through a symlink in the volume reached the host file beside it");
    }

    [Test]
    public void ReadOnlyVolumeRefusesChanges()
    {
        var r = Run($"{_volume}:/data:ro", """
            cat /data/shared.txt
            (echo x >> /data/shared.txt) 2>/dev/null; echo "append $?"
            touch /data/new 2>/dev/null; echo "create $?"
            rm /data/shared.txt 2>/dev/null; echo "remove $?"
            chmod 600 /data/shared.txt 2>/dev/null; echo "chmod $?"
            grep ' /data ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1
            """);
        // dash: status 2 for a redirection that cannot open its file, 1 from the tools.
        Assert.That(r.StdoutText, Is.EqualTo("from the host\nappend 2\ncreate 1\nremove 1\nchmod 1\nro\n"), r.Describe());
        Assert.That(File.ReadAllText(Path.Combine(_volume, "shared.txt")), Is.EqualTo("from the host\n"));
        Assert.That(Directory.GetFileSystemEntries(_volume), Has.Length.EqualTo(1), "a read-only volume gained an entry");
    }

    [Test]
    public void DeviceNodesAreNotMadeOnTheHost()
    {
        var r = Run($"{_volume}:/data", "mknod /data/null c 1 3 2>/dev/null; echo \"mknod $?\"");
        Assert.That(r.StdoutText, Is.EqualTo("mknod 1\n"), r.Describe());
        Assert.That(File.Exists(Path.Combine(_volume, "null")), Is.False, "a device node was made in the host directory");
    }

    [Test]
    public void MountPointIsMadeWhenTheImageLacksIt()
    {
        var r = Run($"{_volume}:/no/such/place", "cat /no/such/place/shared.txt && ls /no/such");
        Assert.That(r.ExitCode, Is.Zero, r.Describe());
        Assert.That(r.StdoutText, Is.EqualTo("from the host\nplace\n"));
    }

    [TestCase("nocolon", TestName = "BadVolume(no DEST)")]
    [TestCase("/definitely/not/here:/data", TestName = "BadVolume(missing HOST)")]
    [TestCase("VOLUME:data", TestName = "BadVolume(relative DEST)")]
    [TestCase("VOLUME:/", TestName = "BadVolume(DEST is /)")]
    [TestCase("VOLUME:/data:rx", TestName = "BadVolume(unknown mode)")]
    public void BadVolumeIsOneLineAndStatus2(string value)
    {
        var r = SandboxRunner.Sentry(["do", $"--platform={Platform}", "--volume", value.Replace("VOLUME", _volume), "/bin/true"], Limited);
        Assert.That(r.ExitCode, Is.EqualTo(2), r.Describe());
        Assert.That(r.StderrText, Does.StartWith("sentry: --volume "), r.Describe());
    }
}
