using Sentry.Tests.Infrastructure;

namespace Sentry.Tests;

/// <summary>
/// containerd running containers through its runc shim with `--runc-binary` set to the published
/// `sentry`: the path a Kubernetes node's RuntimeClass takes. Each fixture starts a private
/// containerd (its own root, state and socket) and imports the busybox image podman built.
/// Skipped with the reason when containerd or podman is missing.
/// </summary>
[TestFixtureSource(typeof(Platforms), nameof(Platforms.All))]
public sealed class ContainerdTests(string platform) : PlatformFixture(platform)
{
    const string Containerd = "/usr/bin/containerd", CtrTool = "/usr/bin/ctr", Podman = "/usr/bin/podman";
    readonly string _image = $"localhost/sentry-test-ctr:{platform}-{Environment.ProcessId}";
    string? _dir;
    BusyboxBundle? _bundle;
    System.Diagnostics.Process? _daemon;
    Lazy<string?>? _problem;
    string _sentry = "";

    string Address => Path.Combine(_dir!, "containerd.sock");

    string? Start()
    {
        foreach (var tool in new[] { Containerd, CtrTool, Podman })
            if (!File.Exists(tool)) return $"{tool} is not installed (Debian packages containerd and podman)";
        var bundle = _bundle = new BusyboxBundle();
        _dir = Directory.CreateTempSubdirectory("sentry-containerd-").FullName;
        string tar = Path.Combine(_dir, "rootfs.tar"), archive = Path.Combine(_dir, "image.tar");
        var steps = new (string, string[])[]
        {
            ("/bin/tar", ["-C", bundle.Rootfs, "-cf", tar, "."]),
            (Podman, ["import", tar, _image]),
            (Podman, ["save", "--format", "oci-archive", "-o", archive, _image]),
            (Podman, ["rmi", "-f", _image]),
        };
        foreach (var (tool, args) in steps)
        {
            var r = ProcessRunner.TryRun(tool, args, timeout: TimeSpan.FromMinutes(2));
            if (r.ExitCode != 0) return $"{Path.GetFileName(tool)} {args[0]} failed: {r.Problem ?? r.StderrText.Trim()}";
        }
        var psi = new System.Diagnostics.ProcessStartInfo(Containerd)
        {
            ArgumentList = { "--root", Path.Combine(_dir, "root"), "--state", Path.Combine(_dir, "state"), "--address", Address },
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            // ctr cannot pass runtime flags: the shim's `sentry` takes its platform from here.
            Environment = { ["SENTRY_PLATFORM"] = Platform },
        };
        _daemon = System.Diagnostics.Process.Start(psi)!;
        _daemon.OutputDataReceived += (_, _) => { };
        _daemon.ErrorDataReceived += (_, _) => { };
        _daemon.BeginOutputReadLine();
        _daemon.BeginErrorReadLine();
        for (int i = 0; i < 100 && !File.Exists(Address); i++) Thread.Sleep(100);
        if (!File.Exists(Address)) return "containerd did not start";
        var import = ProcessRunner.TryRun(CtrTool, ["--address", Address, "image", "import", "--base-name", _image.Split(':')[0], archive], timeout: TimeSpan.FromMinutes(2));
        return import.ExitCode == 0 ? null : $"ctr image import failed: {import.StderrText.Trim()}";
    }

    [OneTimeTearDown]
    public void Stop()
    {
        if (_daemon is { HasExited: false }) { _daemon.Kill(entireProcessTree: true); _daemon.WaitForExit(10_000); }
        _bundle?.Dispose();
        if (_dir != null) try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [SetUp]
    public void RequireContainerd()
    {
        _sentry = PublishedSentry.Require();
        _problem ??= new Lazy<string?>(Start);
        if (_problem.Value is { } why) Assert.Ignore(why);
    }

    RunResult Ctr(params string[] args) => ProcessRunner.Run(CtrTool, ["--address", Address, .. args], timeout: TimeSpan.FromMinutes(2));

    string[] RunFlags => ["--runtime", "io.containerd.runc.v2", "--runc-binary", _sentry];

    [Test]
    public void RunPrintsAndExits()
    {
        const string script = "echo hello from containerd; ls /bin | wc -l; cat /etc/motd; exit 3";
        var native = ProcessRunner.Run("/usr/sbin/chroot", [_bundle!.Rootfs, "/bin/sh", "-c", script]);
        var r = Ctr(["run", "--rm", .. RunFlags, _image, $"run-{Platform}", "sh", "-c", script]);
        Assert.That(r.StdoutText, Is.EqualTo(native.StdoutText), r.Describe());
        Assert.That(r.ExitCode, Is.EqualTo(3), r.Describe());
    }

    [Test]
    public void ExecIntoATaskAndKillIt()
    {
        string id = $"exec-{Platform}";
        try
        {
            var run = Ctr(["run", "-d", .. RunFlags, _image, id, "sh", "-c", "echo up > /tmp/u; sleep 100"]);
            Assert.That(run.ExitCode, Is.EqualTo(0), run.Describe());
            RunResult exec = Ctr("task", "exec", "--exec-id", "e1", id, "sh", "-c", "cat /tmp/u; exit 6");
            for (int i = 0; i < 20 && exec.StdoutText == ""; i++) { Thread.Sleep(200); exec = Ctr("task", "exec", "--exec-id", $"e{i + 2}", id, "sh", "-c", "cat /tmp/u; exit 6"); }
            Assert.That(exec.StdoutText, Is.EqualTo("up\n"), exec.Describe());
            Assert.That(exec.ExitCode, Is.EqualTo(6), exec.Describe());
            Assert.That(Ctr("task", "kill", "-s", "KILL", id).ExitCode, Is.EqualTo(0));
            RunResult list = Ctr("task", "ls");
            for (int i = 0; i < 50 && !list.StdoutText.Contains("STOPPED"); i++) { Thread.Sleep(100); list = Ctr("task", "ls"); }
            Assert.That(list.StdoutText, Does.Match($"{id}\\s+\\d+\\s+STOPPED"), list.Describe());
        }
        finally
        {
            ProcessRunner.TryRun(CtrTool, ["--address", Address, "task", "delete", "--force", id]);
            ProcessRunner.TryRun(CtrTool, ["--address", Address, "container", "delete", id]);
        }
    }
}
