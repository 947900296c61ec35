using System.Text.RegularExpressions;
using Sentry.Tests.Infrastructure;

namespace Sentry.Tests;

/// <summary>
/// The sandbox's own /proc (and minimal /sys): procps (ps, top, pgrep) sees exactly the
/// sandbox's processes, /proc/self/* describes the calling process as Linux does, and nothing of
/// the host's process tree shows. tests/programs/procfs.c checks /proc/self against what the
/// program learns through syscalls, compared byte for byte with the same binary run natively.
/// </summary>
[TestFixtureSource(typeof(Platforms), nameof(Platforms.All))]
public sealed class ProcfsTests(string platform) : PlatformFixture(platform)
{
    static readonly RunOptions Limited = new() { Timeout = TimeSpan.FromSeconds(30) };

    // self:    status/stat/statm/comm vs getpid, getppid, getuid, PR_GET_NAME; cmdline == argv;
    //          environ == environ[]; exe, cwd, root, self links; maps lines for code, stack,
    //          a file mapping (path, offset, dev, inode), anonymous memory; order and name column
    // fds:     fd/ lists the known fds and the directory's own; pipe:[ino], anon_inode:[eventfd],
    //          paths; link modes by access mode; fdinfo pos and flags (with O_CLOEXEC)
    // threads: task/ lists both threads; a thread's comm, stat and status; /proc/<tid>; thread-self
    // files:   seq-file behaviour: read in pieces, pread, SEEK_SET/CUR, EINVAL for SEEK_END,
    //          fstat size 0 mode 0444, write refused; ENOENT for absent pids and names
    // hostile: another process unmapped the end of its argv: its cmdline ends at the hole
    [Test]
    public void ProgramMatchesNative([Values("self", "fds", "threads", "files", "hostile")] string mode, [Values] Flavour flavour)
    {
        var exe = TestPrograms.Get("procfs", flavour);
        string[] args = [mode, TestRun.Data.DataDir];
        var native = SandboxRunner.Native(exe, args, Limited);
        Assert.That(native.ExitCode, Is.Zero, $"native run failed:\n{native.StdoutText}\n{native.Describe()}");
        Assert.That(native.StdoutText, Does.EndWith("done\n"), "native run did not finish");
        Assert.That(native.StdoutText, Does.Not.Contain(": no\n"), "the program's expectations do not hold natively");
        Behaviour.AssertSame(native, SandboxRunner.Sandbox(Platform, exe, args, Limited));
    }

    /// <summary>Rows of ps/top output after the header line that starts with <paramref name="header"/>, split on blanks.</summary>
    static List<string[]> Rows(string output, string header)
    {
        var lines = output.Split('\n');
        int start = Array.FindIndex(lines, l => l.TrimStart().StartsWith(header, StringComparison.Ordinal));
        Assert.That(start, Is.GreaterThanOrEqualTo(0), $"no '{header}' header in:\n{output}");
        return lines.Skip(start + 1).TakeWhile(l => l.Trim().Length > 0)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
    }

    [Test]
    public void PsShowsExactlyTheSandboxsProcesses()
    {
        var r = Sandbox(Limited, "/bin/sh", "-c", "sleep 1 & ps -eo pid,ppid,comm; wait");
        Assert.That(r.ExitCode, Is.Zero, r.Describe());
        var rows = Rows(r.StdoutText, "PID");
        var byName = rows.ToDictionary(x => x[2], x => (Pid: int.Parse(x[0]), Ppid: int.Parse(x[1])));
        Assert.That(byName.Keys, Is.EquivalentTo(new[] { "sh", "sleep", "ps" }), r.StdoutText);
        Assert.That(byName["sh"], Is.EqualTo((1, 0)), "the shell is the sandbox's init, its parent outside");
        Assert.That(byName["sleep"].Ppid, Is.EqualTo(1), r.StdoutText);
        Assert.That(byName["ps"].Ppid, Is.EqualTo(1), r.StdoutText);
    }

    [Test]
    public void PsAuxAndEfListOnlySandboxProcesses()
    {
        var r = Sandbox(Limited, "/bin/sh", "-c", "sleep 1 & ps aux; echo; ps -ef; wait");
        Assert.That(r.ExitCode, Is.Zero, r.Describe());
        var aux = Rows(r.StdoutText, "USER");
        var ef = Rows(r.StdoutText, "UID");
        Assert.That(aux, Has.Count.EqualTo(3), r.StdoutText);
        Assert.That(ef, Has.Count.EqualTo(3), r.StdoutText);
        Assert.That(aux.Select(x => x[0]), Is.All.EqualTo(aux[0][0]), "one user for all");
        Assert.That(aux.Select(x => int.Parse(x[1])), Does.Contain(1).And.All.LessThan(100), r.StdoutText);
        Assert.That(r.StdoutText, Does.Contain("sleep 1").And.Contain("ps aux").And.Contain("ps -ef"));
    }

    [Test]
    public void TopListsOnlySandboxProcesses()
    {
        var r = Sandbox(Limited, "/bin/sh", "-c", "sleep 1 & top -bn1; wait");
        Assert.That(r.ExitCode, Is.Zero, r.Describe());
        var rows = Rows(r.StdoutText, "PID");
        Assert.That(rows.Select(x => x[^1]), Is.EquivalentTo(new[] { "sh", "sleep", "top" }), r.StdoutText);
        Assert.That(r.StdoutText, Does.Match(@"Tasks:\s+3 total"));
    }

    [Test]
    public void PgrepFindsTheSandboxsSleep()
    {
        var r = Sandbox(Limited, "/bin/sh", "-c", "sleep 5 & echo $!; pgrep -x sleep; kill $!");
        Assert.That(r.ExitCode, Is.Zero, r.Describe());
        var lines = r.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(2), r.StdoutText);
        Assert.That(lines[1], Is.EqualTo(lines[0]), "pgrep names the sleep the shell started");
    }

    [Test]
    public void ProcListsOnlySandboxPidsAndPid1IsItsInit()
    {
        var r = Sandbox(Limited, "/bin/sh", "-c", "cat /proc/1/comm; sleep 1 & ls /proc; wait");
        Assert.That(r.ExitCode, Is.Zero, r.Describe());
        var lines = r.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Is.EqualTo("sh"), "/proc/1 is the sandbox's init");
        var pids = lines.Skip(1).Where(l => l.All(char.IsAsciiDigit)).Select(int.Parse).ToList();
        // sh, sleep and ls: nothing else, and never the host's (the test runner, sentry itself).
        Assert.That(pids, Has.Count.EqualTo(3).And.Contain(1), r.StdoutText);
        if (Environment.ProcessId > 3)
            Assert.That(pids, Does.Not.Contain(Environment.ProcessId), "test runner pid visible");
        Assert.That(lines, Does.Contain("self").And.Contain("meminfo").And.Contain("sys"));
    }

    [Test]
    public void CatSelfMapsParsesAndShowsTheBinaryAndStack()
    {
        var r = Sandbox(Limited, "/bin/cat", "/proc/self/maps");
        Assert.That(r.ExitCode, Is.Zero, r.Describe());
        var line = new Regex(@"^([0-9a-f]{8,})-([0-9a-f]{8,}) [r-][w-][x-][ps] [0-9a-f]{8} [0-9a-f]{2}:[0-9a-f]{2} \d+ (?: *(\S.*))?$");
        var names = new List<string>();
        ulong last = 0;
        foreach (var l in r.StdoutText.TrimEnd('\n').Split('\n'))
        {
            var m = line.Match(l);
            Assert.That(m.Success, $"maps line does not parse: «{l}»");
            ulong lo = Convert.ToUInt64(m.Groups[1].Value, 16), hi = Convert.ToUInt64(m.Groups[2].Value, 16);
            Assert.That(lo, Is.GreaterThanOrEqualTo(last).And.LessThan(hi), l);
            last = hi;
            if (m.Groups[3].Success)
            {
                Assert.That(l.IndexOf(m.Groups[3].Value, StringComparison.Ordinal), Is.EqualTo(73), $"name not at column 73: «{l}»");
                names.Add(m.Groups[3].Value);
            }
        }
        Assert.That(names, Does.Contain("/usr/bin/cat").And.Contain("[stack]").And.Contain("[heap]"));
        Assert.That(names.Any(n => n.Contains("libc.so")), r.StdoutText);
    }

    /// <summary>"Name:" of each "Name:\tvalue" line.</summary>
    static List<string> FieldNames(string status) =>
        status.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l[..l.IndexOf(':')]).ToList();

    [Test]
    public void SelfStatusFieldsExistNativelyInTheSameOrder()
    {
        var native = Native("/bin/cat", "/proc/self/status");
        var sandbox = Sandbox(Limited, "/bin/cat", "/proc/self/status");
        Assert.That(sandbox.ExitCode, Is.Zero, sandbox.Describe());
        var nativeNames = FieldNames(native.StdoutText);
        int at = 0;
        foreach (var name in FieldNames(sandbox.StdoutText))
        {
            int found = nativeNames.IndexOf(name, at);
            Assert.That(found, Is.GreaterThanOrEqualTo(0), $"status field {name} does not exist natively after {(at > 0 ? nativeNames[at - 1] : "the start")}");
            at = found + 1;
        }
        Assert.That(sandbox.StdoutText, Does.Contain("Name:\tcat\n").And.Contain("\nPid:\t1\n").And.Contain("\nPPid:\t0\n"));
    }

    [Test]
    public void CmdlineMatchesNative() => AssertMatchesNative("/bin/cat", "/proc/self/cmdline", "/dev/null");

    [Test]
    public void ReadlinkSelfExeMatchesNative() => AssertMatchesNative("/usr/bin/readlink", "/proc/self/exe");

    [Test]
    public void ReadlinkOfFdsMatchesNative() =>
        AssertMatchesNative("/bin/sh", "-c", "exec 5</etc/os-release 7>/dev/null; readlink /proc/self/fd/5 /proc/self/fd/7");

    [Test]
    public void LsSelfFdListsTheOpenFds()
    {
        // Natively the list would also hold whatever the test runner leaks to its children; the
        // sandbox starts with stdio only, so it is exact.
        var r = Sandbox(Limited, "/bin/sh", "-c", "exec 5</etc/os-release 7>/dev/null; ls /proc/self/fd");
        Assert.That(r.ExitCode, Is.Zero, r.Describe());
        Assert.That(r.StdoutText, Is.EqualTo("0\n1\n2\n3\n5\n7\n"), "stdio, ls's directory, the shell's 5 and 7");
    }

    [Test]
    public void LsLongSelfFdShowsTheDirectoryItself()
    {
        var r = Sandbox(Limited, "/bin/ls", "-l", "/proc/self/fd");
        Assert.That(r.ExitCode, Is.Zero, r.Describe());
        Assert.That(r.StdoutText, Does.Match(@"\n(lr-x------) .* 3 -> /proc/1/fd\n"), r.StdoutText);
    }

    [Test]
    public void MountsAreTheSandboxs()
    {
        var r = Sandbox(Limited, "/bin/cat", "/proc/mounts");
        Assert.That(r.ExitCode, Is.Zero, r.Describe());
        var points = r.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[1]);
        Assert.That(points, Is.EqualTo(new[] { "/", "/proc", "/sys", "/dev", "/dev/pts", "/dev/shm" }), r.StdoutText);
    }

    [Test]
    public void CpuCountsAgree()
    {
        var r = Sandbox(Limited, "/bin/sh", "-c", "nproc; getconf _NPROCESSORS_ONLN; getconf _NPROCESSORS_CONF; cat /sys/devices/system/cpu/online; grep -c ^processor /proc/cpuinfo");
        Assert.That(r.ExitCode, Is.Zero, r.Describe());
        var l = r.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        int n = int.Parse(l[0]);
        Assert.That(l, Is.EqualTo(new[] { $"{n}", $"{n}", $"{n}", n > 1 ? $"0-{n - 1}" : "0", $"{n}" }), r.StdoutText);
    }

    /// <summary>
    /// /proc/self/fd/N and /dev/stdin lead to the open file itself, not to the text of the link:
    /// a pipe, a deleted file and bash's process substitution all read as natively.
    /// </summary>
    [Test]
    public void MagicLinksOpenTheFileItself()
    {
        const string script = """
            d=$(mktemp -d) && cd "$d" || exit 1
            echo via-pipe | cat /proc/self/fd/0
            echo redirected > r && cat /dev/stdin < r
            echo deleted > f && exec 5<f && rm f && cat /proc/self/fd/5
            /bin/bash -c 'cat <(echo process-substitution)'
            cd / && rm -r "$d"
            """;
        var native = SandboxRunner.Native("/bin/sh", ["-c", script], Limited);
        var sandbox = SandboxRunner.Sandbox(Platform, "/bin/sh", ["-c", script], Limited);
        Behaviour.AssertSame(native, sandbox, compareStderr: false);
    }
}
