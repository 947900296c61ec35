using Sentry.Tests.Infrastructure;

namespace Sentry.Tests;

/// <summary>
/// Real servers over TCP inside one sandbox, on its default network (Sentry's own TCP/IP stack),
/// compared with the same script run natively in a private network namespace: Redis with
/// redis-cli and redis-benchmark, nginx serving a file, and signal-driven I/O (O_ASYNC, which
/// nginx's master sets on its worker channels).
/// </summary>
[TestFixtureSource(typeof(Platforms), nameof(Platforms.All))]
public sealed class ServerTests(string platform) : PlatformFixture(platform)
{
    static readonly RunOptions Options = new() { Timeout = TimeSpan.FromSeconds(120), PrivateNetwork = true };

    (RunResult Native, RunResult Sandbox) Both(string script)
    {
        var native = SandboxRunner.Native("/bin/sh", ["-c", script], Options);
        var sandbox = SandboxRunner.Sandbox(Platform, "/bin/sh", ["-c", script], Options);
        return (native, sandbox);
    }

    [Test]
    public void RedisAnswersRedisCliAndRedisBenchmark()
    {
        HostTools.Require("/usr/bin/redis-server", "redis-server");
        string dir = Directory.CreateTempSubdirectory("sentry-redis-").FullName;
        try
        {
            string script = $"""
                redis-server --port 6390 --bind 127.0.0.1 --save '' --appendonly no --dir {dir} --logfile {dir}/log &
                i=0; until redis-cli -p 6390 ping >/dev/null 2>&1; do i=$((i+1)); [ $i -gt 100 ] && exit 9; sleep 0.1; done
                redis-cli -p 6390 set greeting hello
                redis-cli -p 6390 get greeting
                redis-cli -p 6390 incrby n 41; redis-cli -p 6390 incr n
                redis-cli -p 6390 rpush l a b c; redis-cli -p 6390 lrange l 0 -1
                redis-benchmark -p 6390 -q -n 20000 -t set,get 2>/dev/null | tr '\r' '\n' | grep -c 'requests per second'
                redis-cli -p 6390 dbsize
                redis-cli -p 6390 shutdown nosave
                wait
                """;
            var (native, sandbox) = Both(script);
            Assert.That(native.ExitCode, Is.Zero, native.Describe());
            Assert.That(native.StdoutText, Does.Contain("hello\n41\n42\n"), native.Describe());
            Behaviour.AssertSame(native, sandbox);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Test]
    public void NginxServesAFile()
    {
        HostTools.Require("/usr/sbin/nginx", "nginx-light");
        HostTools.Require("/usr/bin/curl", "curl");
        string dir = Directory.CreateTempSubdirectory("sentry-nginx-").FullName;
        try
        {
            // The workers run as nginx's unprivileged user: they must be able to read the files.
            File.SetUnixFileMode(dir, (UnixFileMode)0x1ed);
            Directory.CreateDirectory(Path.Combine(dir, "html"));
            File.WriteAllText(Path.Combine(dir, "html", "index.html"), "hello from nginx\n");
            File.WriteAllBytes(Path.Combine(dir, "html", "big.bin"), Enumerable.Range(0, 3 << 20).Select(i => (byte)(i * 7)).ToArray());
            File.WriteAllText(Path.Combine(dir, "nginx.conf"), $$"""
                daemon off;
                worker_processes 2;
                pid {{dir}}/nginx.pid;
                error_log {{dir}}/error.log;
                events { worker_connections 64; }
                http {
                  access_log off;
                  client_body_temp_path {{dir}}/body; proxy_temp_path {{dir}}/proxy; fastcgi_temp_path {{dir}}/fcgi;
                  uwsgi_temp_path {{dir}}/uwsgi; scgi_temp_path {{dir}}/scgi;
                  server { listen 127.0.0.1:8089; root {{dir}}/html; }
                }
                """);
            string script = $$"""
                nginx -c {{dir}}/nginx.conf &
                i=0; until curl -s -o /dev/null http://127.0.0.1:8089/; do i=$((i+1)); [ $i -gt 100 ] && exit 9; sleep 0.1; done
                curl -s http://127.0.0.1:8089/index.html
                curl -s -o /dev/null -w '%{http_code}\n' http://127.0.0.1:8089/missing
                curl -s http://127.0.0.1:8089/big.bin | cksum
                nginx -c {{dir}}/nginx.conf -s quit 2>/dev/null
                wait
                echo "nginx exited $?"
                """;
            var (native, sandbox) = Both(script);
            Assert.That(native.StdoutText, Does.StartWith("hello from nginx\n404\n"), native.Describe());
            Behaviour.AssertSame(native, sandbox);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Test]
    public void SignalDrivenIoRaisesSigio()
    {
        HostTools.Require("/usr/bin/python3", "python3");
        const string script = """
            import fcntl, os, signal, socket, struct, termios
            got = []
            signal.signal(signal.SIGIO, lambda s, f: got.append(s))
            a, b = socket.socketpair()
            print("owner before", fcntl.fcntl(a, fcntl.F_GETOWN))
            fcntl.fcntl(a, fcntl.F_SETOWN, os.getpid())
            print("owner is me", fcntl.fcntl(a, fcntl.F_GETOWN) == os.getpid())
            fcntl.ioctl(a, termios.FIOASYNC, struct.pack("i", 1))
            print("O_ASYNC", bool(fcntl.fcntl(a, fcntl.F_GETFL) & os.O_ASYNC))
            b.send(b"x")
            signal.sigtimedwait([], 0) if False else None
            for _ in range(100):
                if got: break
                signal.pause() if not got else None
            print("sigio", len(got) > 0)
            fcntl.fcntl(a, fcntl.F_SETFL, fcntl.fcntl(a, fcntl.F_GETFL) & ~os.O_ASYNC)
            got.clear()
            signal.setitimer(signal.ITIMER_REAL, 0.3)
            signal.signal(signal.SIGALRM, lambda s, f: None)
            b.send(b"y")
            signal.pause()
            print("after O_ASYNC off", len(got))
            """;
        var (native, sandbox) = (SandboxRunner.Native("/usr/bin/python3", ["-c", script]), SandboxRunner.Sandbox(Platform, "/usr/bin/python3", ["-c", script]));
        Assert.That(native.StdoutText, Does.Contain("sigio True"), native.Describe());
        Behaviour.AssertSame(native, sandbox);
    }
}
