using Sentry.Tests.Infrastructure;

namespace Sentry.Tests;

/// <summary>
/// Pseudo-terminals, compared with the same programs run natively: tests/programs/pty.c opens
/// ptys through /dev/ptmx and devpts, drives the line discipline (canonical editing and echo,
/// VMIN/VTIME, output processing), job-control signals and SIGWINCH from the terminal, SIGTTIN and
/// SIGTTOU for background groups, hangup,
/// poll/epoll/select readiness and /dev/tty; then real programs that run a child on a pty.
/// </summary>
[TestFixtureSource(typeof(Platforms), nameof(Platforms.All))]
public sealed class PtyTests(string platform) : PlatformFixture(platform)
{
    const string Python = "/usr/bin/python3";
    static readonly RunOptions Limited = new() { Timeout = TimeSpan.FromSeconds(60) };

    [Test]
    public void MatchesNative(
        [Values("open", "canon", "raw", "signals", "winsize", "hangup", "poll", "devtty", "jobctl", "leaderexit")] string mode,
        [Values] Flavour flavour)
    {
        var exe = TestPrograms.Get("pty", flavour);
        var native = Native(exe, mode);
        Assert.That(native.ExitCode, Is.Zero, $"native run failed:\n{native.StdoutText}\n{native.Describe()}");
        Assert.That(native.StdoutText, Does.EndWith("done\n"), "native run did not finish");
        Behaviour.AssertSame(native, Sandbox(Limited, exe, mode));
    }

    /// <summary>Python the tests share: read_rest(fd) reads a pty master until the slave side is gone (EOF or EIO).</summary>
    const string ReadRest = """
        import os
        def read_rest(fd):
            out = b""
            while True:
                try:
                    b = os.read(fd, 1024)
                except OSError:
                    break
                if not b:
                    break
                out += b
            return out

        """;

    /// <summary>
    /// Real tty(1), stty(1) and ps(1) on a pty that python3's pty.fork made the child's controlling
    /// terminal (ps finds the terminal and the foreground group in /proc/PID/stat).
    /// </summary>
    [Test]
    public void SttyOnAPty()
    {
        HostTools.Require(Python, "python3");
        string program = ReadRest + """
            import os, pty, sys
            pid, fd = pty.fork()
            if pid == 0:
                os.execv("/bin/sh", ["sh", "-c", "tty | cut -c1-9; stty size; stty -a | head -1; ps -o tty=,tpgid=,pgid= -p $$ | awk '{ print substr($1, 1, 4), $2 == $3 }'; stty raw -echo; stty -a | tail -n +5"])
            out = read_rest(fd)
            _, st = os.waitpid(pid, 0)
            sys.stdout.write(out.decode() + str(os.waitstatus_to_exitcode(st)) + "\n")
            """;
        var (_, sandbox) = AssertMatchesNative(Python, "-c", program);
        Assert.That(sandbox.StdoutText, Does.StartWith("/dev/pts/\r\n0 0\r\nspeed 38400 baud"));
    }

    /// <summary>util-linux script(1): a pty pair, TIOCGPTPEER, signalfd for SIGCHLD and window changes, the child's output relayed.</summary>
    [Test]
    public void ScriptRunsACommandOnAPty()
    {
        HostTools.Require("/usr/bin/script", "bsdutils");
        var (_, sandbox) = AssertMatchesNative("/usr/bin/script", "-qec", "echo hi from script; tty | cut -c1-9; exit 3", "/dev/null");
        Assert.That(sandbox.StdoutText, Does.Contain("hi from script"));
        Assert.That(sandbox.ExitCode, Is.EqualTo(3));
    }

    /// <summary>python3's pty module: pty.fork gives the child a new session on the slave; the parent reads its output.</summary>
    [Test]
    public void PythonPtyFork()
    {
        HostTools.Require(Python, "python3");
        string program = ReadRest + """
            import os, pty, sys
            pid, fd = pty.fork()
            if pid == 0:
                print("child tty:", os.isatty(0), os.ttyname(0).startswith("/dev/pts/"), os.getsid(0) == os.getpid())
                print("line:", input())
                os._exit(3)
            out = b""
            while b"\n" not in out:
                out += os.read(fd, 1024)
            os.write(fd, b"typed\n")
            out += read_rest(fd)
            _, st = os.waitpid(pid, 0)
            sys.stdout.write(repr(out) + " " + str(os.waitstatus_to_exitcode(st)) + "\n")
            """;
        var (_, sandbox) = AssertMatchesNative(Python, "-c", program);
        Assert.That(sandbox.StdoutText, Does.Contain("typed"));
    }

    /// <summary>
    /// An interactive bash on a pty: prompt, line editing by the terminal, a background job with
    /// job control, ^C to a foreground cat, and the exit status of the shell.
    /// </summary>
    [Test]
    public void InteractiveBash()
    {
        HostTools.Require(Python, "python3");
        string program = ReadRest + """
            import os, pty, re, sys, time
            pid, fd = pty.fork()
            if pid == 0:
                os.execve("/bin/bash", ["bash", "--norc", "--noprofile", "-i"],
                          {"PS1": "$ ", "TERM": "dumb", "PATH": "/usr/bin:/bin", "HISTFILE": "/dev/null"})
            def read_until(token):
                out = b""
                while token not in out:
                    b = os.read(fd, 1024)
                    if not b:
                        break
                    out += b
                return out
            def show(b):
                sys.stdout.write(repr(re.sub(rb"\[1\] [0-9]+", b"[1] PID", b)) + "\n")
            show(read_until(b"$ "))
            os.write(fd, b"echo $((6*7)); tty | cut -c1-9; sleep 0.2 & wait; echo jobs-done\n")
            show(read_until(b"jobs-done\r\n$ "))
            os.write(fd, b"cat\n")
            time.sleep(0.3)
            os.write(fd, b"\x03")
            show(read_until(b"$ "))
            os.write(fd, b"exit 3\n")
            out = read_rest(fd)
            _, st = os.waitpid(pid, 0)
            show(out)
            print(os.waitstatus_to_exitcode(st))
            """;
        var (_, sandbox) = AssertMatchesNative(Python, "-c", program);
        Assert.That(sandbox.StdoutText, Does.Contain("42\\r\\n/dev/pts/"));
    }

    [Test]
    public void HostTerminalAsStdioReportsItsSettingsAsNatively()
    {
        // A host terminal handed to `sentry do` as stdio: TCGETS must copy the kernel's 36-byte
        // termios (glibc's 60-byte struct once overflowed the caller's stack: "stack smashing").
        if (!File.Exists("/usr/bin/script")) Assert.Ignore("script(1) missing (Debian package bsdutils)");
        var (file, prefix) = SentryBinary.Command;
        string sentry = string.Join(' ', new[] { file }.Concat(prefix).Concat(["do", $"--platform={Platform}", "/usr/bin/stty", "-a"]));
        var native = ProcessRunner.Run("/usr/bin/script", ["-qec", "/usr/bin/stty -a", "/dev/null"]);
        var sandboxed = ProcessRunner.Run("/usr/bin/script", ["-qec", sentry, "/dev/null"]);
        Assert.That(sandboxed.StdoutText, Is.EqualTo(native.StdoutText), sandboxed.Describe());
        Assert.That(sandboxed.StdoutText, Does.Contain("speed"), native.Describe());
    }
}
