using Sentry.Tests.Infrastructure;

namespace Sentry.Tests;

/// <summary>
/// The Gofer as `sentry do` uses it: the sandbox's files come from a separate `sentry gofer`
/// process over 9P, and when that process dies the sandbox's file calls fail with EIO and
/// sentry stops with a clear message instead of hanging or crashing.
/// </summary>
[TestFixtureSource(typeof(Platforms), nameof(Platforms.All))]
public sealed class GoferTests(string platform) : PlatformFixture(platform)
{
    /// <summary>The gofer processes started by the sentry whose command line contains <paramref name="marker"/>.</summary>
    static List<int> GofersOf(string marker)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            string cmd, stat;
            try { cmd = File.ReadAllText(Path.Combine(dir, "cmdline")); stat = File.ReadAllText(Path.Combine(dir, "stat")); }
            catch (IOException) { continue; }
            catch (UnauthorizedAccessException) { continue; }
            if (!cmd.Contains("\0gofer\0")) continue;
            int ppid = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
            try { if (File.ReadAllText($"/proc/{ppid}/cmdline").Contains(marker)) found.Add(pid); }
            catch (IOException) { }
        }
        return found;
    }

    [Test]
    public void FilesAreServedByASeparateGoferProcess()
    {
        string marker = $"marker-{Guid.NewGuid():N}";
        List<int> seen = [];
        var watcher = System.Threading.Tasks.Task.Run(() =>
        {
            for (int i = 0; i < 100 && seen.Count == 0; i++) { seen = GofersOf(marker); Thread.Sleep(50); }
        });
        var r = Sandbox("/bin/sh", "-c", $": {marker}; sleep 2; cat /etc/hostname");
        watcher.Wait();
        Assert.That(r.ExitCode, Is.Zero, r.Describe());
        Assert.That(r.StdoutText, Is.EqualTo(File.ReadAllText("/etc/hostname")), r.Describe());
        Assert.That(seen, Has.Count.EqualTo(1), "no `sentry gofer` child of this sandbox's sentry was seen while it ran");
    }

    [Test]
    public void GoferDeathFailsFileCallsAndStopsTheSandbox()
    {
        string marker = $"marker-{Guid.NewGuid():N}";
        var killer = System.Threading.Tasks.Task.Run(() =>
        {
            for (int i = 0; i < 200; i++)
            {
                var g = GofersOf(marker);
                if (g.Count > 0)
                {
                    // Kill it once the sandbox is surely running (its script sleeps 2 s after starting).
                    Thread.Sleep(1000);
                    System.Diagnostics.Process.GetProcessById(g[0]).Kill();
                    return true;
                }
                Thread.Sleep(25);
            }
            return false;
        });
        // The script reads files only after the gofer is gone (an uncached lookup needs it).
        var r = Sandbox(new RunOptions { Timeout = TimeSpan.FromSeconds(30) }, "/bin/sh", "-c",
            $": {marker}; echo started; sleep 3; cat /usr/share/doc/coreutils/copyright; echo after $?");
        Assert.That(killer.Result, Is.True, "the gofer was never found to kill");
        Assert.That(r.StdoutText, Does.StartWith("started\n"), r.Describe());
        Assert.That(r.StdoutText, Does.Not.Contain("after 0"), "a file call succeeded after the gofer died\n" + r.Describe());
        Assert.That(r.StderrText, Does.Contain("sentry: the gofer exited"), r.Describe());
        Assert.That(r.ExitCode, Is.Not.Zero, r.Describe());
    }

    /// <summary>
    /// The Gofer keeps serving once its runtime starts threads after confinement: under the JIT,
    /// the tiered compiler's worker starts and stops as methods get hot, and each new thread sets
    /// its CPU affinity. Bursts of file calls with pauses between them make it come and go;
    /// before sched_setaffinity was allowed the Gofer aborted in the second or third burst.
    /// </summary>
    [Test]
    public void GoferSurvivesThreadsItsRuntimeStartsLater()
    {
        const string script = "for r in 1 2 3 4 5 6; do for i in $(seq 80); do readlink /lib64 > /dev/null; stat -c %s /etc/hostname > /dev/null; done; sleep 0.3; done; cat /etc/hostname > /dev/null && echo ok";
        var r = Sandbox(new RunOptions { Timeout = TimeSpan.FromSeconds(120) }, "/bin/sh", "-c", script);
        Assert.That(r.StderrText, Does.Not.Contain("the gofer exited"), r.Describe());
        Assert.That(r.StdoutText, Is.EqualTo("ok\n"), r.Describe());
        Assert.That(r.ExitCode, Is.Zero, r.Describe());
    }

    /// <summary>
    /// A walk over more files than the host lets the Gofer hold open (every node it serves is an
    /// fd): `ls -lR` of /usr/share with RLIMIT_NOFILE at 2048 for sentry and its Gofer lists what
    /// it lists natively, instead of failing with EMFILE once the lookup cache fills the Gofer.
    /// </summary>
    [Test]
    public void WalkOfMoreFilesThanTheGoferMayOpen()
    {
        HostTools.Require("/usr/bin/prlimit", "util-linux");
        const string script = "ls -lR /usr/share/doc 2>&1 | wc -l";
        var native = SandboxRunner.Native("/bin/sh", ["-c", script]);
        int entries = int.Parse(native.StdoutText.Trim());
        if (entries < 4096) Assert.Ignore($"/usr/share/doc lists {entries} lines here; the test needs more than the 2048 fds it allows");
        var (sentry, prefix) = SentryBinary.Command;
        var r = SandboxRunner.Native("/usr/bin/prlimit", ["--nofile=2048:2048", "--", sentry, .. prefix, "do", $"--platform={Platform}", "--", "/bin/sh", "-c", script],
            new RunOptions { Timeout = TimeSpan.FromMinutes(3) });
        Assert.That(r.StdoutText, Is.EqualTo(native.StdoutText), r.Describe());
        Assert.That(r.ExitCode, Is.Zero, r.Describe());
    }
}
