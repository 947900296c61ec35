using Sentry.Tests.Infrastructure;

namespace Sentry.Tests;

/// <summary>
/// AF_INET/AF_INET6 sockets over 127.0.0.1 and ::1, compared with the same binary run natively:
/// tests/programs/inet.c (TCP echo, non-blocking and refused connects, half-close, UDP, names,
/// options, poll and epoll edge-triggered, FIONREAD and the interface ioctls, malformed
/// addresses and lengths, sendmmsg/recvmmsg, SIGPIPE, timeouts and signals). Both runs are in a
/// private network namespace with only lo (`unshare -n`), so nothing depends on the host's
/// network. Each test runs once per network mode the sandbox has a stack for.
/// </summary>
[TestFixtureSource(typeof(Platforms), nameof(Platforms.All))]
public sealed class InetTests(string platform) : PlatformFixture(platform)
{
    /// <summary>
    /// The network modes under test: host sockets now; the lead adds "none" once the user-space
    /// stack (Sentry.Net.Stack) is wired as the default.
    /// </summary>
    public static readonly string[] NetworkModes = ["host"];

    static RunOptions Options(string network) => new() { Timeout = TimeSpan.FromSeconds(60), PrivateNetwork = true, Network = network };

    [Test]
    public void MatchesNative(
        [Values("echo", "nonblock", "refused", "halfclose", "udp", "names", "options", "poll", "epoll", "fionread",
            "badaddr", "errors", "mmsg", "sigpipe", "timeouts", "connects", "ifaces")] string mode,
        [Values("4", "6")] string family,
        [ValueSource(nameof(NetworkModes))] string network,
        [Values] Flavour flavour)
    {
        var exe = TestPrograms.Get("inet", flavour);
        var options = Options(network);
        var native = SandboxRunner.Native(exe, [mode, family], options);
        Assert.That(native.ExitCode, Is.Zero, $"native run failed:\n{native.StdoutText}\n{native.Describe()}");
        Assert.That(native.StdoutText, Does.EndWith("done\n"), "native run did not finish");
        Behaviour.AssertSame(native, SandboxRunner.Sandbox(Platform, exe, [mode, family], options));
    }

    /// <summary>python3's http.server in the sandbox, fetched by urllib and by curl in the same sandbox.</summary>
    [Test]
    public void PythonHttpServerAnswersUrllibAndCurl([ValueSource(nameof(NetworkModes))] string network)
    {
        HostTools.Require("/usr/bin/python3", "python3");
        HostTools.Require("/usr/bin/curl", "curl");
        const string script = """
            import http.server, threading, urllib.request, subprocess, os, socketserver
            os.chdir("/etc")
            srv = socketserver.TCPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
            http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None
            port = srv.server_address[1]
            threading.Thread(target=srv.serve_forever, daemon=True).start()
            body = urllib.request.urlopen(f"http://127.0.0.1:{port}/hostname").read()
            print("urllib:", body == open("/etc/hostname", "rb").read())
            out = subprocess.run(["/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", f"http://localhost:{port}/hostname"], capture_output=True)
            print("curl:", out.stdout.decode())
            out = subprocess.run(["/usr/bin/curl", "-s", f"http://127.0.0.1:{port}/nosuchfile", "-o", "/dev/null", "-w", "%{http_code}"], capture_output=True)
            print("curl 404:", out.stdout.decode())
            srv.shutdown()
            """;
        var options = Options(network);
        var native = SandboxRunner.Native("/usr/bin/python3", ["-c", script], options);
        Assert.That(native.StdoutText, Is.EqualTo("urllib: True\ncurl: 200\ncurl 404: 404\n"), native.Describe());
        Behaviour.AssertSame(native, SandboxRunner.Sandbox(Platform, "/usr/bin/python3", ["-c", script], options), compareStderr: false);
    }

    /// <summary>/etc/hosts and getaddrinfo("localhost") work in the default root, as natively.</summary>
    [Test]
    public void LocalhostResolves()
    {
        HostTools.Require("/usr/bin/getent", "libc-bin");
        var native = SandboxRunner.Native("/usr/bin/getent", ["ahosts", "localhost"]);
        Assert.That(native.ExitCode, Is.Zero, native.Describe());
        Behaviour.AssertSame(native, SandboxRunner.Sandbox(Platform, "/usr/bin/getent", ["ahosts", "localhost"]));
    }
}
