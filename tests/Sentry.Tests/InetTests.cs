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
    /// The network modes under test: the default (Sentry's own TCP/IP stack, loopback only) and
    /// host sockets.
    /// </summary>
    public static readonly string[] NetworkModes = ["none", "host"];

    static RunOptions Options(string network) => new() { Timeout = TimeSpan.FromSeconds(60), PrivateNetwork = true, Network = network };

    static readonly string[] Modes = ["echo", "nonblock", "refused", "halfclose", "udp", "names", "options", "poll", "epoll", "fionread",
        "badaddr", "errors", "mmsg", "sigpipe", "timeouts", "connects", "ifaces", "sendfile", "cmsg"];

    /// <summary>
    /// Every mode and family in both network modes. The default network (the user-space stack)
    /// runs with every libc flavour; host networking, whose sockets are the host's, with one:
    /// the kernel's socket layer in front of both is the same code.
    /// </summary>
    public static IEnumerable<TestCaseData> Cases() =>
        from mode in Modes
        from family in new[] { "4", "6" }
        from network in NetworkModes
        from flavour in network == "none" ? Enum.GetValues<Flavour>() : [Flavour.GlibcDynamic]
        select new TestCaseData(mode, family, network, flavour);

    [TestCaseSource(nameof(Cases))]
    public void MatchesNative(string mode, string family, string network, Flavour flavour)
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

    /// <summary>
    /// NETLINK_ROUTE: `ip` (iproute2) shows the same interfaces, addresses and routes in the
    /// sandbox as natively in the same kind of network namespace; glibc's if_nameindex and
    /// getaddrinfo with AI_ADDRCONFIG (both over netlink) answer the same.
    /// </summary>
    [Test]
    public void IpCommandsMatchNative(
        [Values("addr", "-6 addr", "-4 addr show lo", "link", "route", "-6 route", "-br addr", "-s link")] string command,
        [ValueSource(nameof(NetworkModes))] string network)
    {
        string ip = HostTools.Require("/usr/sbin/ip", "iproute2");
        var options = Options(network);
        string[] args = command.Split(' ');
        var native = SandboxRunner.Native(ip, args, options);
        Assert.That(native.ExitCode, Is.Zero, native.Describe());
        Behaviour.AssertSame(native, SandboxRunner.Sandbox(Platform, ip, args, options));
    }

    [Test]
    public void GlibcInterfaceListsMatchNative([ValueSource(nameof(NetworkModes))] string network)
    {
        HostTools.Require("/usr/bin/python3", "python3");
        const string script = """
            import socket
            print(socket.if_nameindex())
            print(sorted(set(a[4][0] for a in socket.getaddrinfo("localhost", 80, flags=socket.AI_ADDRCONFIG))))
            print(socket.if_nametoindex("lo"), socket.if_indextoname(1))
            """;
        var options = Options(network);
        var native = SandboxRunner.Native("/usr/bin/python3", ["-c", script], options);
        Assert.That(native.ExitCode, Is.Zero, native.Describe());
        Behaviour.AssertSame(native, SandboxRunner.Sandbox(Platform, "/usr/bin/python3", ["-c", script], options));
    }

    /// <summary>
    /// With the default network (no --network) a server listening on the host's loopback is not
    /// reachable from inside: the sandbox has no inet sockets (EAFNOSUPPORT) or its own loopback
    /// (ECONNREFUSED), never the host's.
    /// </summary>
    [Test]
    public void DefaultNetworkCannotReachHostLoopback()
    {
        HostTools.Require("/usr/bin/python3", "python3");
        using var server = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        server.Start();
        int port = ((System.Net.IPEndPoint)server.LocalEndpoint).Port;
        string script = $$"""
            import socket, errno
            try:
                c = socket.create_connection(("127.0.0.1", {{port}}), timeout=5)
                print("connected")
            except OSError as e:
                print("unreachable:", errno.errorcode.get(e.errno, e.errno))
            """;
        var r = Sandbox(new RunOptions { Timeout = TimeSpan.FromSeconds(60) }, "/usr/bin/python3", "-c", script);
        Assert.That(r.StdoutText, Is.EqualTo("unreachable: EAFNOSUPPORT\n").Or.EqualTo("unreachable: ECONNREFUSED\n"), r.Describe());
        Assert.That(server.Pending(), Is.False, "the host's server saw a connection from the sandbox");
    }

    /// <summary>
    /// --network=host: python's http.server in the sandbox listens on a port the test chose, and
    /// curl run natively (in the same private network namespace) fetches a file from it.
    /// </summary>
    [Test]
    public void HostCurlReachesServerInSandbox()
    {
        HostTools.Require("/usr/bin/python3", "python3");
        string curl = HostTools.Require("/usr/bin/curl", "curl");
        NetworkNamespace.Require();
        string dir = Directory.CreateTempSubdirectory("sentry-http-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "hello.txt"), "served from the sandbox\n");
            int port = 20000 + Random.Shared.Next(20000);
            var (sentry, prefix) = SentryBinary.Command;
            string sentryCommand = string.Join(' ', new[] { sentry }.Concat(prefix).Select(a => $"'{a}'"));
            string script = $"""
                {sentryCommand} do --platform={Platform} --network=host -- /usr/bin/python3 -m http.server {port} --bind 127.0.0.1 --directory {dir} >/dev/null 2>&1 &
                pid=$!
                for i in $(seq 150); do
                    out=$({curl} -s --max-time 5 http://127.0.0.1:{port}/hello.txt) && break
                    sleep 0.2
                done
                echo "$out"
                {curl} -s -o /dev/null -w '%{"{"}http_code{"}"}\n' http://127.0.0.1:{port}/missing
                kill $pid; wait $pid
                """;
            var (program, args) = NetworkNamespace.Wrap("/bin/sh", ["-c", script]);
            var r = ProcessRunner.Run(program, args, timeout: TimeSpan.FromSeconds(90));
            Assert.That(r.StdoutText, Is.EqualTo("served from the sandbox\n404\n"), r.Describe());
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>A Node.js `net` echo server in the sandbox with 100 concurrent clients in the same process.</summary>
    [Test]
    public void NodeEchoServerWith100Clients([ValueSource(nameof(NetworkModes))] string network)
    {
        string node = HostTools.Require("/usr/bin/node", "nodejs");
        const string script = """
            const net = require('net');
            const server = net.createServer(s => s.pipe(s));
            server.listen(0, '127.0.0.1', () => {
              const port = server.address().port;
              let done = 0, ok = 0;
              const N = 100;
              for (let i = 0; i < N; i++) {
                const c = net.connect(port, '127.0.0.1', () => c.write('hello ' + i));
                let got = '';
                c.on('data', d => { got += d; if (got === 'hello ' + i) { ok++; c.end(); } });
                c.on('close', () => { if (++done === N) { console.log('ok', ok, 'of', N); server.close(); } });
                c.on('error', e => console.log('error', e.code));
              }
            });
            """;
        var options = Options(network);
        var native = SandboxRunner.Native(node, ["-e", script], options);
        Assert.That(native.StdoutText, Is.EqualTo("ok 100 of 100\n"), native.Describe());
        Behaviour.AssertSame(native, SandboxRunner.Sandbox(Platform, node, ["-e", script], options));
    }

    /// <summary>
    /// CPython's own epoll, socket-server, asyncio socket, http.client and urllib-over-localhost
    /// suites pass in the sandbox. (test_socket, minutes long, is left to a manual run: in host
    /// mode its inet classes, ancillary data included, pass; it fails only on an AF_UNIX name
    /// that is not UTF-8 and on sethostname.)
    /// </summary>
    /// <remarks>
    /// On the default network only: with host sockets, test_epoll's test_control_and_wait fails
    /// about one run in four (an edge-triggered item registered right after a connect misses its
    /// first edge when the host's readiness event races the registration); README lists it.
    /// </remarks>
    [Test]
    public void PythonNetworkSuitesPass([Values("none")] string network)
    {
        HostTools.Require("/usr/lib/python3.11/test/test_epoll.py", "libpython3.11-testsuite");
        string[] args = ["-m", "test", "-u", "network", "test_epoll", "test_socketserver", "test_asyncio.test_sock_lowlevel", "test_httplib", "test_urllib2_localnet"];
        var options = Options(network) with { Timeout = TimeSpan.FromMinutes(4) };
        var sandbox = SandboxRunner.Sandbox(Platform, "/usr/bin/python3", args, options);
        Assert.That(sandbox.StdoutText, Does.Contain("Tests result: SUCCESS"), sandbox.Describe());
        Assert.That(sandbox.ExitCode, Is.Zero, sandbox.Describe());
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
