using Sentry.Tests.Infrastructure;

namespace Sentry.Tests;

/// <summary>
/// podman with `--runtime` set to the published `sentry`, as a user configures it, on an image
/// imported from a static busybox root. Compared with what the same commands print in a chroot
/// of that root. The flags this host needs (capped rlimits, no CNI network) are passed as the
/// guide's notes say runsc needs them too. Skipped with the reason when podman is missing.
/// </summary>
[TestFixtureSource(typeof(Platforms), nameof(Platforms.All))]
public sealed class PodmanTests(string platform) : PlatformFixture(platform)
{
    // One image per fixture (per platform): each fixture removes its own when it ends.
    readonly string _image = $"localhost/sentry-test-busybox:{platform}-{Environment.ProcessId}";
    Lazy<string?>? _imageProblem;
    BusyboxBundle? _bundle;
    string _sentry = "";

    string Image => _image;

    string? ImportImage()
    {
        if (!File.Exists("/usr/bin/podman")) return "podman is not installed (Debian package podman)";
        if (!File.Exists(BusyboxBundle.Busybox)) return $"{BusyboxBundle.Busybox} missing (Debian package busybox-static)";
        _bundle = new BusyboxBundle();
        string tar = Path.Combine(_bundle.Dir, "rootfs.tar");
        var t = ProcessRunner.TryRun("/bin/tar", ["-C", _bundle.Rootfs, "-cf", tar, "."]);
        if (t.ExitCode != 0) return $"tar failed: {t.StderrText}";
        var r = ProcessRunner.TryRun("/usr/bin/podman", ["import", tar, Image], timeout: TimeSpan.FromMinutes(2));
        return r.ExitCode == 0 ? null : $"podman import failed: {r.Problem ?? r.StderrText.Trim()}";
    }

    [OneTimeTearDown]
    public void RemoveImage()
    {
        if (_imageProblem is { IsValueCreated: true, Value: null })
            ProcessRunner.TryRun("/usr/bin/podman", ["rmi", "-f", Image]);
        _bundle?.Dispose();
    }

    [SetUp]
    public void RequirePodman()
    {
        _sentry = PublishedSentry.Require();
        _imageProblem ??= new Lazy<string?>(ImportImage);
        if (_imageProblem.Value is { } why) Assert.Ignore(why);
    }

    RunResult Podman(params string[] args) => ProcessRunner.Run("/usr/bin/podman",
        ["--runtime", _sentry, "--runtime-flag", $"platform={Platform}", .. args], timeout: TimeSpan.FromMinutes(2));

    static readonly string[] HostFlags = ["--network=none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"];

    RunResult Chroot(string script) => ProcessRunner.Run("/usr/sbin/chroot", [_bundle!.Rootfs, "/bin/sh", "-c", script]);

    [Test]
    public void RunPrintsAndExitsAsInAChroot()
    {
        const string script = "echo hello; ls /bin | wc -l; cat /etc/motd; echo oops >&2; exit 7";
        var native = Chroot(script);
        var r = Podman(["run", "--rm", .. HostFlags, Image, "sh", "-c", script]);
        Assert.That(r.StdoutText, Is.EqualTo(native.StdoutText), r.Describe());
        Assert.That(r.StderrText, Does.Contain("oops"), r.Describe());
        Assert.That(r.ExitCode, Is.EqualTo(7), r.Describe());
    }

    [Test]
    public void EnvWorkdirVolumeAndReadOnlyRoot()
    {
        string host = Directory.CreateTempSubdirectory("sentry-podman-volume-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(host, "in.txt"), "from the host\n");
            var r = Podman(["run", "--rm", .. HostFlags, "--read-only", "-e", "FOO=bar", "-w", "/etc", "-v", $"{host}:/data",
                "--hostname", "podbox", Image, "sh", "-c",
                "echo $FOO $(pwd) $(hostname); cat /data/in.txt; echo out > /data/out.txt; echo t > /tmp/t && cat /tmp/t; echo x > /x || echo refused"]);
            Assert.That(r.StdoutText, Is.EqualTo("bar /etc podbox\nfrom the host\nt\nrefused\n"), r.Describe());
            Assert.That(r.StderrText, Does.Contain("Read-only file system"), r.Describe());
            Assert.That(File.ReadAllText(Path.Combine(host, "out.txt")), Is.EqualTo("out\n"));
        }
        finally { Directory.Delete(host, recursive: true); }
    }

    [Test]
    public void DetachedContainerExecLogsStopAndRemove()
    {
        string name = $"sentry-test-{Platform}-{Environment.ProcessId}";
        try
        {
            var run = Podman(["run", "-d", "--name", name, .. HostFlags, Image, "sh", "-c", "echo up > /tmp/state; echo up; sleep 100"]);
            Assert.That(run.ExitCode, Is.EqualTo(0), run.Describe());
            var exec = Podman(["exec", name, "sh", "-c", "cat /tmp/state; exit 5"]);
            Assert.That(exec.StdoutText, Is.EqualTo("up\n"), exec.Describe());
            Assert.That(exec.ExitCode, Is.EqualTo(5), exec.Describe());
            Assert.That(Podman(["logs", name]).StdoutText, Is.EqualTo("up\n"));
            // The shell is init and has no SIGTERM handler: stop waits, then kills (137), as with runc.
            var stop = Podman(["stop", "-t", "1", name]);
            Assert.That(stop.ExitCode, Is.EqualTo(0), stop.Describe());
            var status = Podman(["inspect", "--format", "{{.State.ExitCode}}", name]);
            Assert.That(status.StdoutText.Trim(), Is.EqualTo("137"), status.Describe());
        }
        finally { ProcessRunner.TryRun("/usr/bin/podman", ["rm", "-f", name], timeout: TimeSpan.FromMinutes(1)); }
    }

    [Test]
    public void InteractiveTerminalIsThePtyOfTheSandbox()
    {
        // podman -it needs a terminal of its own: script(1) gives it one and types our input.
        if (!File.Exists("/usr/bin/script")) Assert.Ignore("script(1) missing (Debian package bsdutils)");
        string command = string.Join(' ', new[] { "/usr/bin/podman", "--runtime", _sentry, "--runtime-flag", $"platform={Platform}",
            "run", "-it", "--rm" }.Concat(HostFlags).Concat([Image, "sh", "-c", "'tty; read x; echo got $x; exit 4'"]));
        var r = ProcessRunner.Run("/usr/bin/script", ["-qec", command, "/dev/null"], stdin: "hello\n"u8.ToArray(), timeout: TimeSpan.FromMinutes(2));
        string text = r.StdoutText.Replace("\r", "");
        // The sandbox's own pty (its line discipline echoes "hello"), not the host's terminal.
        Assert.That(text, Does.Contain("/dev/pts/0\ngot hello\n"), r.Describe());
        Assert.That(r.ExitCode, Is.EqualTo(4), r.Describe());
    }

    [Test]
    public void InteractiveExecGetsAPtyOfItsOwn()
    {
        if (!File.Exists("/usr/bin/script")) Assert.Ignore("script(1) missing (Debian package bsdutils)");
        string name = $"sentry-test-it-{Platform}-{Environment.ProcessId}";
        try
        {
            var run = Podman(["run", "-d", "--name", name, .. HostFlags, Image, "sh", "-c", "sleep 100"]);
            Assert.That(run.ExitCode, Is.EqualTo(0), run.Describe());
            string command = string.Join(' ', new[] { "/usr/bin/podman", "--runtime", _sentry, "--runtime-flag", $"platform={Platform}",
                "exec", "-it", name, "sh", "-c", "'tty; read x; echo got $x; exit 6'" });
            var r = ProcessRunner.Run("/usr/bin/script", ["-qec", command, "/dev/null"], stdin: "typed\n"u8.ToArray(), timeout: TimeSpan.FromMinutes(2));
            Assert.That(r.StdoutText.Replace("\r", ""), Does.Contain("/dev/pts/0\ngot typed\n"), r.Describe());
            Assert.That(r.ExitCode, Is.EqualTo(6), r.Describe());
        }
        finally { ProcessRunner.TryRun("/usr/bin/podman", ["rm", "-f", "-t", "0", name], timeout: TimeSpan.FromMinutes(1)); }
    }
}
