using Sentry.Tests.Infrastructure;

namespace Sentry.Tests;

/// <summary>
/// Shells drive fork, exec, pipes, wait and signals the way real users do: dash (/bin/sh)
/// and busybox sh scripts given with -c, xargs running children in parallel, find walking a
/// tree. Only read-only commands (the sandbox's root is read-only); absolute paths, because
/// PATH may hold pyenv shims. Compared with the same command run natively.
/// </summary>
[TestFixtureSource(typeof(Platforms), nameof(Platforms.All))]
public sealed class ShellTests(string platform) : PlatformFixture(platform)
{
    const string Sh = "/bin/sh";
    const string Busybox = "/bin/busybox";
    static readonly RunOptions Limited = new() { Timeout = TimeSpan.FromSeconds(30) };

    RunResult Same(string shell, string script) =>
        Behaviour.AssertMatchesNative(Platform, shell, ["-c", script], Limited).Sandbox;

    [Test]
    public void Pipeline() =>
        Same(Sh, "/bin/ls /usr/bin | /usr/bin/sort | /usr/bin/uniq | /usr/bin/wc -l");

    [Test]
    public void ExitStatus() => Assert.That(Same(Sh, "exit 7").ExitCode, Is.EqualTo(7));

    // Subshells, command substitution (nested), background jobs and wait, functions, a
    // pipeline stage reading, a child shell killed by SIGTERM, and the EXIT trap.
    const string JobsScript = """
        trap 'echo "exit trap, status $?"' EXIT
        inner=$(echo start; (echo in-subshell; exit 3); echo "subshell status $?")
        echo "$inner"
        (exit 4); echo "paren status $?"
        up=$( (echo nested) | /usr/bin/tr a-z A-Z ); echo "nested substitution: $up"
        echo "arithmetic: $(( $(echo 6) * 7 ))"
        /bin/sleep 0.2 & first=$!
        (exit 5) & second=$!
        { /bin/echo from-group-in-background > /dev/null; exit 6; } & third=$!
        wait $first; echo "wait sleep: $?"
        wait $second; echo "wait subshell: $?"
        wait $third; echo "wait group: $?"
        for i in 1 2 3; do /bin/echo "job $i" & wait $!; done
        /bin/false & wait; echo "wait for all: $?"
        f() { return 9; }; f; echo "function status $?"
        echo piped | { read -r line; echo "read in a pipeline stage: $line"; }
        /bin/sh -c 'kill -TERM $$'; echo "child shell killed by SIGTERM: $?"
        /bin/sh -c 'exit 300'; echo "exit 300 wraps to: $?"
        /nonexistent/cmd 2>/dev/null; echo "missing command: $?"
        exit 3
        """;

    [Test]
    public void SubshellsJobsAndTraps() => Assert.That(Same(Sh, JobsScript).ExitCode, Is.EqualTo(3));

    // The shell signals itself; SIGTERM's default action ends it: 128 + 15.
    [Test]
    public void KillTermSelf() =>
        Assert.That(Same(Sh, "echo before; kill -TERM $$; echo after").ExitCode, Is.EqualTo(143));

    [Test]
    public void TrapTermSelf() =>
        Assert.That(Same(Sh, "trap 'echo caught TERM; exit 9' TERM; trap 'echo exit trap' EXIT; " +
                             "kill -TERM $$; echo not reached").ExitCode, Is.EqualTo(9));

    // About 25 applets of the static busybox, all in pipelines and substitutions.
    const string BusyboxScript = """
        b=/bin/busybox
        $b echo "applets:" $($b seq 1 3 | $b tr '\n' ' ')
        $b cat /etc/os-release | $b grep -c '='
        $b wc -l /etc/passwd | $b cut -d' ' -f1
        $b sort /etc/passwd | $b head -n 3 | $b cut -d: -f1
        $b cut -d: -f7 /etc/passwd | $b sort | $b uniq -c | $b sort -rn | $b head -n 2
        $b tail -n 1 /etc/os-release | $b sed 's/=.*/=.../'
        $b awk -F: '{ n += length($1) } END { print "name chars", n }' /etc/passwd
        $b expr 6 \* 7
        $b basename /usr/share/doc/README
        $b dirname /usr/share/doc/README
        $b printf '%05d|%s\n' 42 printf
        $b test -d /usr && $b echo "test -d: yes"
        $b test -f /nonexistent || $b echo "test -f missing: no"
        $b true && $b echo "true: $?"
        $b false || $b echo "false: $?"
        $b ls /usr | $b wc -l
        $b env -i A=1 B=2 $b env | $b sort
        $b uname -s
        $b seq 1 100 | $b awk '{ s += $1 } END { print "sum", s }'
        $b echo "hello world" | $b tr a-z A-Z | $b rev
        $b find /usr/share/doc -maxdepth 1 -name 'lib*' | $b sort | $b head -n 3
        $b md5sum /etc/os-release | $b cut -c1-8
        $b seq 1 6 | $b xargs -n 2 $b echo
        x=$($b sh -c 'exit 5'); $b echo "nested busybox sh: $?"
        """;

    [Test]
    public void BusyboxApplets()
    {
        HostTools.Require(Busybox, "busybox-static");
        Same(Busybox, BusyboxScript);
    }

    // Four echo children at a time; sort makes the order deterministic.
    [Test]
    public void XargsParallel() =>
        Same(Sh, "/usr/bin/seq 1 20 | /usr/bin/xargs -P4 -n1 /bin/echo | /usr/bin/sort -n");

    // A tree that does not change while the tests run: count, and a checksum of the sorted names.
    [Test]
    public void FindTree() =>
        Same(Sh, "/usr/bin/find /usr/share/doc -xdev | /usr/bin/wc -l; " +
                 "/usr/bin/find /usr/share/doc -xdev | /usr/bin/sort | /usr/bin/cksum");
}
