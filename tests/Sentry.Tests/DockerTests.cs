using System.Text.Json.Nodes;
using Sentry.Tests.Infrastructure;

namespace Sentry.Tests;

/// <summary>
/// Docker with `sentry` added as a runtime (daemon.json "runtimes", runtimeArgs giving the
/// platform), as a user configures it. Each fixture starts a private dockerd (its own data root,
/// socket and managed containerd; no bridge or iptables, so it touches nothing of the host's
/// network) and imports the busybox image. Skipped with the reason when Docker is missing.
/// </summary>
[TestFixtureSource(typeof(Platforms), nameof(Platforms.All))]
public sealed class DockerTests(string platform) : PlatformFixture(platform)
{
    const string Dockerd = "/usr/sbin/dockerd", DockerCli = "/usr/bin/docker";
    readonly string _image = $"localhost/sentry-test-docker:{platform}-{Environment.ProcessId}";
    string? _dir;
    BusyboxBundle? _bundle;
    System.Diagnostics.Process? _daemon;
    Lazy<string?>? _problem;
    string _sentry = "";

    string Socket => Path.Combine(_dir!, "docker.sock");

    string? Start()
    {
        foreach (var tool in new[] { Dockerd, DockerCli })
            if (!File.Exists(tool)) return $"{tool} is not installed (Debian package docker.io)";
        _bundle = new BusyboxBundle();
        // Short: dockerd's own unix sockets (containerd's) live under it.
        _dir = Directory.CreateTempSubdirectory("sd-").FullName;
        var config = new JsonObject
        {
            ["runtimes"] = new JsonObject { ["sentry"] = new JsonObject { ["path"] = _sentry, ["runtimeArgs"] = new JsonArray("--platform", Platform) } },
            ["bridge"] = "none", ["iptables"] = false, ["ip6tables"] = false,
            ["data-root"] = Path.Combine(_dir, "data"), ["exec-root"] = Path.Combine(_dir, "exec"),
            ["pidfile"] = Path.Combine(_dir, "docker.pid"), ["hosts"] = new JsonArray($"unix://{Socket}"),
        };
        string configFile = Path.Combine(_dir, "daemon.json");
        File.WriteAllText(configFile, config.ToJsonString());
        var psi = new System.Diagnostics.ProcessStartInfo(Dockerd)
        {
            ArgumentList = { "--config-file", configFile },
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        _daemon = System.Diagnostics.Process.Start(psi)!;
        var log = new System.Text.StringBuilder();
        _daemon.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        _daemon.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        _daemon.BeginOutputReadLine();
        _daemon.BeginErrorReadLine();
        for (int i = 0; i < 300 && !Docker(["version"], check: false).StdoutText.Contains("Server"); i++)
        {
            if (_daemon.HasExited) break;
            Thread.Sleep(100);
        }
        if (_daemon.HasExited || !Docker(["version"], check: false).StdoutText.Contains("Server"))
        {
            lock (log) return $"dockerd did not start here: {string.Join(' ', log.ToString().Split('\n').TakeLast(3))}";
        }
        string tar = Path.Combine(_dir, "rootfs.tar");
        var t = ProcessRunner.TryRun("/bin/tar", ["-C", _bundle.Rootfs, "-cf", tar, "."]);
        if (t.ExitCode != 0) return $"tar failed: {t.StderrText}";
        var import = Docker(["import", tar, _image], check: false);
        return import.ExitCode == 0 ? null : $"docker import failed: {import.StderrText.Trim()}";
    }

    [OneTimeTearDown]
    public void Stop()
    {
        if (_daemon is { HasExited: false }) { _daemon.Kill(entireProcessTree: true); _daemon.WaitForExit(10_000); }
        _bundle?.Dispose();
        if (_dir != null) ProcessRunner.TryRun("/bin/rm", ["-rf", _dir]);
    }

    [SetUp]
    public void RequireDocker()
    {
        _sentry = PublishedSentry.Require();
        _problem ??= new Lazy<string?>(Start);
        if (_problem.Value is { } why) Assert.Ignore(why);
    }

    RunResult Docker(string[] args, bool check = true)
    {
        var r = ProcessRunner.TryRun(DockerCli, ["-H", $"unix://{Socket}", .. args], timeout: TimeSpan.FromMinutes(2));
        if (check && r.Problem != null) Assert.Fail(r.Problem);
        return r;
    }

    static readonly string[] HostFlags = ["--runtime", "sentry", "--network", "none", "--ulimit", "nofile=1024:1024"];

    [Test]
    public void RunPrintsAndExitsAsInAChroot()
    {
        const string script = "echo hello; ls /bin | wc -l; cat /etc/motd; exit 5";
        var native = ProcessRunner.Run("/usr/sbin/chroot", [_bundle!.Rootfs, "/bin/sh", "-c", script]);
        var r = Docker(["run", "--rm", .. HostFlags, _image, "sh", "-c", script]);
        Assert.That(r.StdoutText, Is.EqualTo(native.StdoutText), r.Describe());
        Assert.That(r.ExitCode, Is.EqualTo(5), r.Describe());
    }

    [Test]
    public void DetachedContainerExecLogsAndStop()
    {
        string name = $"sentry-docker-{Platform}-{Environment.ProcessId}";
        try
        {
            var run = Docker(["run", "-d", "--name", name, .. HostFlags, _image, "sh", "-c", "echo up > /tmp/state; echo up; sleep 100"]);
            Assert.That(run.ExitCode, Is.EqualTo(0), run.Describe());
            var exec = Docker(["exec", name, "sh", "-c", "cat /tmp/state; exit 2"]);
            Assert.That(exec.StdoutText, Is.EqualTo("up\n"), exec.Describe());
            Assert.That(exec.ExitCode, Is.EqualTo(2), exec.Describe());
            Assert.That(Docker(["logs", name]).StdoutText, Is.EqualTo("up\n"));
            Assert.That(Docker(["stop", "-t", "1", name]).ExitCode, Is.EqualTo(0));
            var status = Docker(["inspect", "--format", "{{.State.ExitCode}}", name]);
            Assert.That(status.StdoutText.Trim(), Is.EqualTo("137"), status.Describe());
        }
        finally { Docker(["rm", "-f", name], check: false); }
    }
}
