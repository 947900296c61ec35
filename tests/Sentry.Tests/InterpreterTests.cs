using Sentry.Tests.Infrastructure;

namespace Sentry.Tests;

/// <summary>
/// Script interpreters using threads and child processes: CPython's threading and
/// subprocess modules (vfork/posix_spawn, pipes, waitpid, timeouts that kill the child) and
/// perl's fork/waitpid/pipe/kill. Compared with the same command run natively.
/// </summary>
[TestFixtureSource(typeof(Platforms), nameof(Platforms.All))]
public sealed class InterpreterTests(string platform) : PlatformFixture(platform)
{
    const string Python = "/usr/bin/python3";
    const string Perl = "/usr/bin/perl";
    static readonly RunOptions Limited = new() { Timeout = TimeSpan.FromSeconds(30) };

    // 8 threads with deterministic results; a locked counter; a queue; an event.
    const string PythonThreads = """
        import hashlib, queue, threading

        # 8 threads, each with a deterministic result of its own.
        results = [None] * 8
        def work(i):
            h = hashlib.sha256()
            for k in range(2000):
                h.update(f"{i}:{k}".encode())
            results[i] = (sum(x * x for x in range(i * 10000, (i + 1) * 10000)), h.hexdigest()[:16])
        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for t in threads: t.start()
        for t in threads: t.join()
        for i, (squares, digest) in enumerate(results):
            print(i, squares, digest)

        # A shared counter under a lock, and a producer/consumer queue.
        lock = threading.Lock()
        count = 0
        def bump():
            global count
            for _ in range(5000):
                with lock:
                    count += 1
        threads = [threading.Thread(target=bump) for _ in range(8)]
        for t in threads: t.start()
        for t in threads: t.join()
        print("counter", count)
        q = queue.Queue(maxsize=4)
        total = []
        def consume():
            s = 0
            while (item := q.get()) is not None:
                s += item
            total.append(s)
        consumers = [threading.Thread(target=consume) for _ in range(4)]
        for t in consumers: t.start()
        for i in range(1, 2001): q.put(i)
        for _ in consumers: q.put(None)
        for t in consumers: t.join()
        print("queue sum", sum(total))
        ev = threading.Event()
        waiter = threading.Thread(target=lambda: print("event seen", ev.wait(10)))
        waiter.start(); ev.set(); waiter.join()
        print("threads alive at end", threading.active_count())
        """;

    [Test]
    public void PythonThreading()
    {
        HostTools.Require(Python, "python3");
        Behaviour.AssertMatchesNative(Platform, Python, ["-c", PythonThreads], Limited);
    }

    // run/check_output/Popen.communicate, a missing program, a timeout that kills the
    // child, send_signal, and os.fork. ls and wc come from PATH, the same on both sides.
    const string PythonSubprocessScript = """
        import os, signal, subprocess
        r = subprocess.run(['/bin/echo', 'x'], capture_output=True)
        print("run echo:", r.returncode, r.stdout)
        print("shell pipeline:", subprocess.check_output('ls /usr | wc -l', shell=True))
        print("exit status:", subprocess.run(['/bin/sh', '-c', 'exit 3']).returncode)
        p = subprocess.Popen(['/bin/cat'], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        out, _ = p.communicate(b'through cat\n' * 1000)
        print("communicate:", len(out), p.returncode)
        try:
            subprocess.run(['/nonexistent/program'])
        except FileNotFoundError as e:
            print("missing program: FileNotFoundError", e.errno)
        try:
            subprocess.run(['/bin/sleep', '10'], timeout=0.3)
        except subprocess.TimeoutExpired:
            print("timeout: TimeoutExpired")
        p = subprocess.Popen(['/bin/sleep', '10'])
        p.send_signal(signal.SIGTERM)
        print("killed child:", p.wait())
        pid = os.fork()
        if pid == 0:
            os._exit(4)
        print("os.fork child:", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
        """;

    [Test]
    public void PythonSubprocess()
    {
        HostTools.Require(Python, "python3");
        Behaviour.AssertMatchesNative(Platform, Python, ["-c", PythonSubprocessScript], Limited);
    }

    // Five children reaped by pid, a pipe, a piped open, backticks, and signals to children.
    const string PerlFork = """
        use strict; use warnings; use POSIX ();
        $| = 1;
        my @kids;
        for my $i (1 .. 5) {
            my $pid = fork() // die "fork: $!";
            if ($pid == 0) { POSIX::_exit($i) }
            push @kids, $pid;
        }
        my $sum = 0;
        for my $pid (reverse @kids) {
            waitpid($pid, 0) == $pid or die "waitpid: $!";
            $sum += $? >> 8;
        }
        print "children exit status sum: $sum\n";
        print "waitpid with no children: ", waitpid(-1, 0), "\n";
        pipe(my $r, my $w) or die;
        my $pid = fork() // die;
        if ($pid == 0) { close $r; print $w "line from the child\n"; close $w; POSIX::_exit(0) }
        close $w;
        print "parent read: ", scalar <$r>;
        waitpid($pid, 0);
        open(my $fh, '-|', '/bin/echo', 'from a piped open') or die;
        print scalar <$fh>;
        close $fh;
        print "piped open status: $?\n";
        print `/bin/echo backticks`;
        # The handler is set before fork, so the child has it whenever the signal lands.
        $SIG{USR1} = sub { POSIX::_exit(42) };
        $pid = fork() // die;
        if ($pid == 0) { sleep 10 while 1 }
        $SIG{USR1} = 'DEFAULT';
        kill 'USR1', $pid;
        waitpid($pid, 0);
        print "child with a USR1 handler: ", $? >> 8, "\n";
        $pid = fork() // die;
        if ($pid == 0) { sleep 10 while 1 }
        kill 'TERM', $pid;
        waitpid($pid, 0);
        print "child killed by signal: ", $? & 127, "\n";
        """;

    [Test]
    public void PerlForkAndWaitpid()
    {
        HostTools.Require(Perl, "perl-base");
        Behaviour.AssertMatchesNative(Platform, Perl, ["-e", PerlFork], Limited);
    }
}
