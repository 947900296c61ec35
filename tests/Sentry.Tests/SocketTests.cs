using Sentry.Tests.Infrastructure;

namespace Sentry.Tests;

/// <summary>
/// AF_UNIX sockets, compared with the same binary run natively: tests/programs/sockets.c (pairs
/// of every type, a server with clients in child processes, SCM_RIGHTS, datagrams on path and
/// abstract names, and hostile arguments), and python3 using them the way real programs do.
/// </summary>
[TestFixtureSource(typeof(Platforms), nameof(Platforms.All))]
public sealed class SocketTests(string platform) : PlatformFixture(platform)
{
    static readonly RunOptions Limited = new() { Timeout = TimeSpan.FromSeconds(60) };

    [Test]
    public void MatchesNative([Values("pair", "server", "rights", "streamdata", "dgram", "errors")] string mode, [Values] Flavour flavour)
    {
        var exe = TestPrograms.Get("sockets", flavour);
        string hostDir = Directory.CreateTempSubdirectory("sentry-sockets-").FullName;
        try
        {
            var native = SandboxRunner.Native(exe, [hostDir, mode], Limited);
            Assert.That(native.ExitCode, Is.Zero, $"native run failed:\n{native.StdoutText}\n{native.Describe()}");
            Assert.That(native.StdoutText, Does.EndWith("done\n"), "native run did not finish");
            Behaviour.AssertSame(native, SandboxRunner.Sandbox(Platform, exe, ["/dev/shm/sockets", mode], Limited));
        }
        finally { Directory.Delete(hostDir, recursive: true); }
    }

    /// <summary>python3's socket module: a server and a forked client on a path, a description passed with SCM_RIGHTS, datagrams on an abstract name.</summary>
    [Test]
    public void PythonUsesThemLikeNative()
    {
        HostTools.Require("/usr/bin/python3", "python3");
        const string script = """
            import socket, os, sys, array, stat
            d = sys.argv[1]
            os.makedirs(d, exist_ok=True)
            path = os.path.join(d, "srv.sock")
            srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); srv.bind(path); srv.listen(5)
            print("socket file:", stat.S_ISSOCK(os.stat(path).st_mode))
            pid = os.fork()
            if pid == 0:
                c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); c.connect(path)
                c.sendall(b"from child")
                r, w = os.pipe(); os.write(w, b"via-fd"); os.close(w)
                c.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [r]))])
                print("child got:", c.recv(100)); c.close(); os._exit(0)
            conn, addr = srv.accept()
            print("server got:", conn.recv(10))
            msg, anc, flags, _ = conn.recvmsg(10, socket.CMSG_SPACE(4))
            fds = array.array("i"); fds.frombytes(anc[0][2])
            print("with an fd:", msg, os.read(fds[0], 100))
            conn.sendall(b"reply"); conn.close(); os.waitpid(pid, 0)
            srv.close()
            u1 = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); u1.bind("\0sentry-python-test")
            u2 = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            u2.sendto(b"one", "\0sentry-python-test"); u2.sendto(b"two", "\0sentry-python-test")
            print("datagrams:", u1.recv(10), u1.recv(10))
            """;
        string hostDir = Directory.CreateTempSubdirectory("sentry-pysock-").FullName;
        try
        {
            var native = SandboxRunner.Native("/usr/bin/python3", ["-c", script, hostDir], Limited);
            Assert.That(native.ExitCode, Is.Zero, native.Describe());
            Behaviour.AssertSame(native, SandboxRunner.Sandbox(Platform, "/usr/bin/python3", ["-c", script, "/dev/shm/pysock"], Limited));
        }
        finally { Directory.Delete(hostDir, recursive: true); }
    }
}
