using Sentry.Tests.Infrastructure;

namespace Sentry.Tests;

/// <summary>
/// File mappings as a matrix (tests/programs/mapping.c), compared with the same binary run
/// natively: each kind of file the sandbox has (the root's read-only lower layer, a lower file
/// copied up by a writable open, tmpfs, a volume, /dev/zero) x MAP_SHARED / MAP_PRIVATE x
/// PROT_READ / PROT_READ|PROT_WRITE x the events that move bytes between a mapping and its file
/// (write(2) after mapping, stores then read(2), msync, truncation below and past the mapping,
/// munmap and map again, fork, a second process's own mapping, mprotect to PROT_NONE and back,
/// mremap grow and move, offsets, SIGBUS past the end), and exec of a program that is mapped
/// MAP_SHARED, in both orders.
/// </summary>
[TestFixtureSource(typeof(Platforms), nameof(Platforms.All))]
public sealed class MappingTests(string platform) : PlatformFixture(platform)
{
    static readonly RunOptions Limited = new() { Timeout = TimeSpan.FromSeconds(120) };

    string _dir = "";

    [SetUp]
    public void MakeHostDir() => _dir = Directory.CreateTempSubdirectory("sentry-mapping-").FullName;

    [TearDown]
    public void RemoveHostDir() => Directory.Delete(_dir, recursive: true);

    /// <summary>The matrix binary. One flavour: the cases are about the kernel's pages, not the libc.</summary>
    static string Program => TestPrograms.Get("mapping", Flavour.GlibcDynamic);

    /// <summary>A host file holding the matrix's pattern, made natively by the program itself.</summary>
    string MakePatternFile(string name)
    {
        string path = Path.Combine(_dir, name);
        var made = SandboxRunner.Native(Program, ["make", path], Limited);
        Assert.That(made.ExitCode, Is.Zero, made.Describe());
        return path;
    }

    RunResult NativeRun(params string[] args)
    {
        var native = SandboxRunner.Native(Program, args, Limited);
        Assert.That(native.ExitCode, Is.Zero, $"native run failed:\n{native.StdoutText}\n{native.Describe()}");
        Assert.That(native.StdoutText, Does.EndWith("done\n"), "native run did not finish");
        return native;
    }

    [Test]
    public void LowerLayerFile()
    {
        // The same host file: the sandbox sees it through the Gofer as part of its read-only root.
        string file = MakePatternFile("lower.dat");
        Behaviour.AssertSame(NativeRun("ro", file), SandboxRunner.Sandbox(Platform, Program, ["ro", file], Limited));
    }

    [Test]
    public void WritableFile([Values("copied-up", "tmpfs", "volume")] string kind)
    {
        var native = NativeRun("rw", Path.Combine(_dir, "native.dat"));
        RunResult sandbox = kind switch
        {
            // A lower-layer file opened O_RDWR inside is copied up to the in-memory upper layer;
            // the host file stays as it was.
            "copied-up" => SandboxRunner.Sandbox(Platform, Program, ["rw", MakePatternFile("lower.dat")], Limited),
            "tmpfs" => SandboxRunner.Sandbox(Platform, Program, ["rw", "/dev/shm/mapping.dat"], Limited),
            _ => SandboxRunner.Sandbox(Platform, Program, ["rw", "/vol/mapping.dat"], Limited with { Volumes = [$"{_dir}:/vol"] }),
        };
        Behaviour.AssertSame(native, sandbox);
        if (kind == "copied-up")
            Assert.That(File.ReadAllBytes(Path.Combine(_dir, "lower.dat")), Is.EqualTo(File.ReadAllBytes(MakePatternFile("expected.dat"))),
                "the host's file changed: writes reached the lower layer");
    }

    /// <summary>The writable-file matrix on a memfd: its pages are tmpfs pages, reached again through /proc/self/fd.</summary>
    [Test]
    public void Memfd() =>
        Behaviour.AssertSame(NativeRun("memfd"), SandboxRunner.Sandbox(Platform, Program, ["memfd"], Limited));

    [Test]
    public void DevZero() =>
        Behaviour.AssertSame(NativeRun("zero"), SandboxRunner.Sandbox(Platform, Program, ["zero"], Limited));

    /// <summary>A program mapped MAP_SHARED still runs when exec'd, and maps the same after it ran: /bin/echo from the lower layer, and a copy written inside.</summary>
    [Test]
    public void ExecOfAMappedProgram() =>
        Behaviour.AssertSame(NativeRun("exec", "/bin/echo", _dir), SandboxRunner.Sandbox(Platform, Program, ["exec", "/bin/echo", "/dev/shm"], Limited));

    /// <summary>A read-only shared mapping of a root file, then the same file run: the page cache is not poisoned for the program after it.</summary>
    [Test]
    public void SharedMappingDoesNotPoisonLaterRuns()
    {
        HostTools.Require("/usr/bin/python3", "python3");
        const string script = """
            import mmap, subprocess
            f = open('/usr/bin/ls', 'rb')
            m = mmap.mmap(f.fileno(), 0, mmap.MAP_SHARED, mmap.PROT_READ)
            print(m[:4] == open('/usr/bin/ls', 'rb').read(4), m[:] == open('/usr/bin/ls', 'rb').read())
            print(subprocess.run(['/usr/bin/ls', '-d', '/etc'], capture_output=True).stdout)
            """;
        var native = SandboxRunner.Native("/usr/bin/python3", ["-c", script], Limited);
        Assert.That(native.StdoutText, Is.EqualTo("True True\nb'/etc\\n'\n"), native.Describe());
        Behaviour.AssertSame(native, SandboxRunner.Sandbox(Platform, "/usr/bin/python3", ["-c", script], Limited));
    }
}
