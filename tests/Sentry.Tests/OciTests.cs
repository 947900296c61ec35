using System.Text.Json.Nodes;
using Sentry.Tests.Infrastructure;

namespace Sentry.Tests;

/// <summary>
/// `sentry` as an OCI runtime, driven as container engines drive it: separate invocations of
/// create, start, state, kill, exec and delete against a --root, with a static busybox bundle.
/// What the container prints is compared with the same commands run natively in a chroot of
/// the bundle's root. Runs on every platform (the global --platform flag).
/// </summary>
[TestFixtureSource(typeof(Platforms), nameof(Platforms.All))]
public sealed class OciTests(string platform) : PlatformFixture(platform)
{
    string _sentry = "";
    string _root = "";
    BusyboxBundle? _bundle;
    readonly List<string> _ids = new();

    BusyboxBundle Bundle => _bundle!;

    [SetUp]
    public void MakeBundle()
    {
        _sentry = PublishedSentry.Require();
        _bundle = new BusyboxBundle();
        _root = Directory.CreateTempSubdirectory("sentry-oci-root-").FullName;
    }

    [TearDown]
    public void RemoveContainers()
    {
        foreach (var id in _ids) ProcessRunner.TryRun(_sentry, ["--root", _root, "delete", "--force", id]);
        _bundle?.Dispose();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    string NewId(string name)
    {
        string id = $"{name}-{Platform}-{Environment.ProcessId}";
        _ids.Add(id);
        return id;
    }

    RunResult Oci(params string[] args) => ProcessRunner.Run(_sentry, ["--root", _root, "--platform", Platform, .. args]);

    /// <summary>
    /// `create` (and `exec --detach`) leave a process behind that holds the stdio it was given:
    /// run through a shell that points stdio at files, as an engine's monitor would.
    /// </summary>
    RunResult OciDetached(string output, params string[] args) =>
        ProcessRunner.Run("/bin/sh", ["-c", "exec \"$@\" >\"$OUT\" 2>&1 </dev/null", "sh", _sentry, "--root", _root, "--platform", Platform, .. args],
            environment: new Dictionary<string, string> { ["OUT"] = output });

    RunResult Chroot(string script) => ProcessRunner.Run("/usr/sbin/chroot", [Bundle.Rootfs, "/bin/sh", "-c", script]);

    static void WaitFor(Func<bool> condition, string what, double seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting for {what}");
            Thread.Sleep(50);
        }
    }

    string Status(string id)
    {
        var r = Oci("state", id);
        return r.ExitCode != 0 ? "missing" : JsonNode.Parse(r.StdoutText)!["status"]!.GetValue<string>();
    }

    [Test]
    public void RunMatchesTheSameCommandsInAChroot()
    {
        const string script = "echo hello; ls /; cat /etc/motd; pwd; echo err >&2; exit 3";
        var native = Chroot(script);
        Bundle.Configure(_sentry, ["sh", "-c", script]);
        var r = Oci("run", "--bundle", Bundle.Dir, NewId("run"));
        Assert.That(r.StdoutText, Is.EqualTo(native.StdoutText), r.Describe());
        Assert.That(r.StderrText, Is.EqualTo(native.StderrText), r.Describe());
        Assert.That(r.ExitCode, Is.EqualTo(3), r.Describe());
    }

    [Test]
    public void CreateStartKillDeleteFromSeparateCalls()
    {
        string id = NewId("life"), output = Path.Combine(Bundle.Dir, "out.txt");
        Bundle.Configure(_sentry, ["sh", "-c", "trap 'echo got TERM; exit 7' TERM; echo started; while true; do sleep 1; done"]);
        string pidFile = Path.Combine(Bundle.Dir, "pid");
        var c = OciDetached(output, "create", "--bundle", Bundle.Dir, "--pid-file", pidFile, id);
        Assert.That(c.ExitCode, Is.EqualTo(0), c.Describe() + File.ReadAllText(output));
        Assert.That(Status(id), Is.EqualTo("created"));
        int pid = int.Parse(File.ReadAllText(pidFile));
        Assert.That(Directory.Exists($"/proc/{pid}"), $"the container's process {pid} runs");
        Assert.That(File.ReadAllText(output), Is.Empty, "nothing runs before start");

        Assert.That(Oci("start", id).ExitCode, Is.EqualTo(0));
        WaitFor(() => File.ReadAllText(output).Contains("started"), "the container's first line");
        Assert.That(Status(id), Is.EqualTo("running"));
        var again = ProcessRunner.TryRun(_sentry, ["--root", _root, "start", id]);
        Assert.That(again.ExitCode, Is.EqualTo(1), "a running container cannot start again");

        Assert.That(Oci("kill", id, "TERM").ExitCode, Is.EqualTo(0));
        WaitFor(() => Status(id) == "stopped", "the container to stop after SIGTERM");
        Assert.That(File.ReadAllText(output), Is.EqualTo("started\ngot TERM\n"));

        var late = ProcessRunner.TryRun(_sentry, ["--root", _root, "kill", id, "KILL"]);
        Assert.That(late.ExitCode, Is.EqualTo(1), late.Describe());
        Assert.That(late.StderrText, Does.StartWith("sentry: "), late.Describe());
        Assert.That(Oci("delete", id).ExitCode, Is.EqualTo(0));
        var gone = ProcessRunner.TryRun(_sentry, ["--root", _root, "state", id]);
        Assert.That(gone.ExitCode, Is.EqualTo(1), gone.Describe());
    }

    [Test]
    public void InitWithoutAHandlerIgnoresTermButNotKill()
    {
        // pid_namespaces(7): from the parent namespace only SIGKILL and SIGSTOP, and signals init
        // handles, reach it; this is why `podman stop` of a shell waits and then kills.
        string id = NewId("init"), output = Path.Combine(Bundle.Dir, "out.txt");
        Bundle.Configure(_sentry, ["sh", "-c", "echo started; sleep 100"]);
        Assert.That(OciDetached(output, "create", "--bundle", Bundle.Dir, id).ExitCode, Is.EqualTo(0));
        Assert.That(Oci("start", id).ExitCode, Is.EqualTo(0));
        WaitFor(() => File.ReadAllText(output).Contains("started"), "the container's first line");
        Assert.That(Oci("kill", id, "SIGTERM").ExitCode, Is.EqualTo(0));
        Thread.Sleep(1000);
        Assert.That(Status(id), Is.EqualTo("running"), "SIGTERM without a handler does not end init");
        Assert.That(Oci("kill", id, "9").ExitCode, Is.EqualTo(0));
        WaitFor(() => Status(id) == "stopped", "the container to stop after SIGKILL");
    }

    [Test]
    public void ExecRunsInTheContainersKernel()
    {
        string id = NewId("exec"), output = Path.Combine(Bundle.Dir, "out.txt");
        Bundle.Configure(_sentry, ["sh", "-c", "echo shared > /tmp/mark; echo started; sleep 100"]);
        Assert.That(OciDetached(output, "create", "--bundle", Bundle.Dir, id).ExitCode, Is.EqualTo(0));
        Assert.That(Oci("start", id).ExitCode, Is.EqualTo(0));
        WaitFor(() => File.ReadAllText(output).Contains("started"), "the container's first line");

        // The file init wrote lives only in the sandbox's own upper layer: seeing it proves the
        // exec'd process is in the same kernel, not a new sandbox.
        var cat = Oci("exec", id, "cat", "/tmp/mark");
        Assert.That(cat.StdoutText, Is.EqualTo("shared\n"), cat.Describe());
        var status = ProcessRunner.Run(_sentry, ["--root", _root, "exec", "--env", "X=42", "--cwd", "/etc", id, "sh", "-c", "echo $X $PPID $(pwd); exit 4"]);
        Assert.That(status.StdoutText, Is.EqualTo("42 0 /etc\n"), status.Describe());
        Assert.That(status.ExitCode, Is.EqualTo(4), status.Describe());
        var missing = ProcessRunner.TryRun(_sentry, ["--root", _root, "exec", id, "/no/such/program"]);
        Assert.That(missing.ExitCode, Is.EqualTo(127), missing.Describe());
        Assert.That(Status(id), Is.EqualTo("running"), "a failed exec leaves the container alone");
        Assert.That(Oci("kill", id, "KILL").ExitCode, Is.EqualTo(0));
        WaitFor(() => Status(id) == "stopped", "the container to stop");
        var late = ProcessRunner.TryRun(_sentry, ["--root", _root, "exec", id, "true"]);
        Assert.That(late.ExitCode, Is.EqualTo(1), late.Describe());
    }

    [Test]
    public void ConfigGivesUserHostnameReadOnlyRootAndVolumes()
    {
        string host = Directory.CreateTempSubdirectory("sentry-oci-volume-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(host, "in.txt"), "from the host\n");
            Bundle.Configure(_sentry, ["sh", "-c", "hostname; id -u; id -g; cat /data/in.txt; echo out > /data/out.txt; echo x > /x || echo refused"], c =>
            {
                c["hostname"] = "box1";
                c["process"]!["user"] = new JsonObject { ["uid"] = 1000, ["gid"] = 1001 };
                c["root"]!["readonly"] = true;
                c["mounts"]!.AsArray().Add(new JsonObject { ["destination"] = "/data", ["type"] = "bind", ["source"] = host, ["options"] = new JsonArray("rbind", "rw") });
            });
            // The volume is world-writable so uid 1000 may write there, as natively.
            File.SetUnixFileMode(host, (UnixFileMode)0x1ff);
            var r = Oci("run", "--bundle", Bundle.Dir, NewId("config"));
            Assert.That(r.StdoutText, Is.EqualTo("box1\n1000\n1001\nfrom the host\nrefused\n"), r.Describe());
            Assert.That(r.StderrText, Does.Contain("Read-only file system"), r.Describe());
            Assert.That(File.ReadAllText(Path.Combine(host, "out.txt")), Is.EqualTo("out\n"));
        }
        finally { Directory.Delete(host, recursive: true); }
    }

    [Test]
    public void BadInputGetsOneLineAndLeavesNothingRunning()
    {
        string id = NewId("bad");
        var noBundle = ProcessRunner.TryRun(_sentry, ["--root", _root, "create", "--bundle", "/nonexistent/bundle", id]);
        Assert.That(noBundle.ExitCode, Is.EqualTo(1), noBundle.Describe());
        Assert.That(noBundle.StderrText.Trim().Split('\n'), Has.Length.EqualTo(1), noBundle.Describe());
        Assert.That(noBundle.StderrText, Does.StartWith("sentry: "), noBundle.Describe());
        Assert.That(ProcessRunner.TryRun(_sentry, ["--root", _root, "state", id]).ExitCode, Is.EqualTo(1), "a failed create leaves no container");

        File.WriteAllText(Path.Combine(Bundle.Dir, "config.json"), "{ \"process\": [1, 2");
        var malformed = ProcessRunner.TryRun(_sentry, ["--root", _root, "create", "--bundle", Bundle.Dir, id]);
        Assert.That(malformed.ExitCode, Is.EqualTo(1), malformed.Describe());
        Assert.That(malformed.StderrText, Does.Contain("config.json"), malformed.Describe());

        foreach (var bad in new[] { "", "../escape", "a/b", "-flag" })
        {
            var r = ProcessRunner.TryRun(_sentry, ["--root", _root, "state", bad]);
            Assert.That(r.ExitCode, Is.Not.EqualTo(0), r.Describe());
        }
        var unknownSignal = ProcessRunner.TryRun(_sentry, ["--root", _root, "kill", id, "SIGNOPE"]);
        Assert.That(unknownSignal.ExitCode, Is.EqualTo(2), unknownSignal.Describe());

        Bundle.Configure(_sentry, ["sh", "-c", "echo started; sleep 100"]);
        string output = Path.Combine(Bundle.Dir, "out.txt");
        Assert.That(OciDetached(output, "create", "--bundle", Bundle.Dir, id).ExitCode, Is.EqualTo(0));
        var twice = ProcessRunner.TryRun(_sentry, ["--root", _root, "create", "--bundle", Bundle.Dir, id]);
        Assert.That(twice.ExitCode, Is.EqualTo(1), twice.Describe());
        Assert.That(twice.StderrText, Does.Contain("already exists"), twice.Describe());
        Assert.That(Oci("start", id).ExitCode, Is.EqualTo(0));
        var busy = ProcessRunner.TryRun(_sentry, ["--root", _root, "delete", id]);
        Assert.That(busy.ExitCode, Is.EqualTo(1), "a running container is deleted only with --force: " + busy.Describe());
        Assert.That(Status(id), Is.EqualTo("running"));
        var pid = JsonNode.Parse(Oci("state", id).StdoutText)!["pid"]!.GetValue<int>();
        Assert.That(Oci("delete", "--force", id).ExitCode, Is.EqualTo(0));
        WaitFor(() => !Directory.Exists($"/proc/{pid}") || File.ReadAllText($"/proc/{pid}/stat").Contains(") Z "), "the sandbox process to end");
        Assert.That(ProcessRunner.TryRun(_sentry, ["--root", _root, "state", id]).ExitCode, Is.EqualTo(1));
    }

    [Test]
    public void StateDeeperThanASocketPathHolds()
    {
        // Docker's --root with a 64-character id puts the control socket past sun_path's 108 bytes.
        string deep = Path.Combine(_root, new string('d', 60), new string('e', 60));
        string id = NewId(new string('f', 40)), output = Path.Combine(Bundle.Dir, "out.txt");
        Bundle.Configure(_sentry, ["sh", "-c", "echo started; sleep 100"]);
        var c = ProcessRunner.Run("/bin/sh", ["-c", "exec \"$@\" >\"$OUT\" 2>&1 </dev/null", "sh", _sentry, "--root", deep, "--platform", Platform, "create", "--bundle", Bundle.Dir, id],
            environment: new Dictionary<string, string> { ["OUT"] = output });
        Assert.That(c.ExitCode, Is.EqualTo(0), c.Describe() + File.ReadAllText(output));
        try
        {
            Assert.That(ProcessRunner.Run(_sentry, ["--root", deep, "start", id]).ExitCode, Is.EqualTo(0));
            var exec = ProcessRunner.Run(_sentry, ["--root", deep, "exec", id, "echo", "deep"]);
            Assert.That(exec.StdoutText, Is.EqualTo("deep\n"), exec.Describe());
        }
        finally { ProcessRunner.TryRun(_sentry, ["--root", deep, "delete", "--force", id]); }
    }

    [Test]
    public void PauseFreezesEveryProcessUntilResume()
    {
        string host = Directory.CreateTempSubdirectory("sentry-oci-pause-").FullName;
        string id = NewId("pause"), output = Path.Combine(Bundle.Dir, "out.txt"), counter = Path.Combine(host, "n");
        try
        {
            // A busy shell loop writes a counter to a volume the test reads from outside.
            Bundle.Configure(_sentry, ["sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /data/n; done"], c =>
                c["mounts"]!.AsArray().Add(new JsonObject { ["destination"] = "/data", ["type"] = "bind", ["source"] = host, ["options"] = new JsonArray("rbind", "rw") }));
            Assert.That(OciDetached(output, "create", "--bundle", Bundle.Dir, id).ExitCode, Is.EqualTo(0));
            var early = ProcessRunner.TryRun(_sentry, ["--root", _root, "pause", id]);
            Assert.That(early.ExitCode, Is.EqualTo(1), "a created container cannot pause: " + early.Describe());
            Assert.That(Oci("start", id).ExitCode, Is.EqualTo(0));
            string Read() => File.Exists(counter) ? File.ReadAllText(counter).Trim() : "";
            WaitFor(() => Read().Length > 0 && Read() != "1", "the loop to count");

            Assert.That(Oci("pause", id).ExitCode, Is.EqualTo(0));
            Assert.That(Status(id), Is.EqualTo("paused"));
            Thread.Sleep(200); // a write under way when the pause came lands
            string frozen = Read();
            Thread.Sleep(700);
            Assert.That(Read(), Is.EqualTo(frozen), "nothing runs while paused");
            var busy = ProcessRunner.TryRun(_sentry, ["--root", _root, "delete", id]);
            Assert.That(busy.ExitCode, Is.EqualTo(1), "a paused container is deleted only with --force");

            Assert.That(Oci("resume", id).ExitCode, Is.EqualTo(0));
            Assert.That(Status(id), Is.EqualTo("running"));
            WaitFor(() => Read() != frozen && Read().Length > 0, "the loop to count again");
        }
        finally
        {
            ProcessRunner.TryRun(_sentry, ["--root", _root, "delete", "--force", id]);
            Directory.Delete(host, recursive: true);
        }
    }
}
