using System.Diagnostics;
using System.Net.Sockets;
using Sentry.Kernel;
using Sentry.Kernel.Fs;
using Sentry.Platform;
using Sentry.Tests.Infrastructure;

namespace Sentry.Tests;

/// <summary>
/// Sentry's 9P client against a third-party 9P2000.L server: Debian's diod exports the host root
/// and a sandbox (embedded in this process, as a .NET program would) runs real programs with
/// diod's tree as its root's lower layer. diod donates no host fds, so file data comes with
/// Tread. The output must match the same script run natively.
/// </summary>
[TestFixtureSource(typeof(Platforms), nameof(Platforms.All))]
public sealed class DiodLowerTests(string platform) : PlatformFixture(platform)
{
    const string Diod = "/usr/sbin/diod";

    [Test]
    public void ProgramsRunOnDiodsTree()
    {
        if (!File.Exists(Diod)) Assert.Ignore($"diod is not installed at {Diod} (Debian package 'diod')");
        const string script = """
            cat /etc/hostname
            ls /usr/share/doc/coreutils
            sha256sum /usr/share/doc/coreutils/copyright
            python3 -c 'import json; print(json.dumps({"x": 6 * 7}))'
            cd /tmp && mkdir -p diod-scratch && echo written > diod-scratch/f && cat diod-scratch/f && rm -r diod-scratch
            """;
        string dir = Directory.CreateTempSubdirectory("sentry-diod-").FullName;
        string socketPath = Path.Combine(dir, "diod.sock");
        using var diod = Process.Start(new ProcessStartInfo(Diod)
        {
            ArgumentList = { "--foreground", "--no-auth", "--config-file", "/dev/null", "--runas-uid", "0", "--export", "/", "--listen", socketPath, "--logdest", "stderr" },
            RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false,
        })!;
        try
        {
            using var socket = Connect(socketPath, diod);
            // The 9P client owns its descriptor: give it a duplicate of the socket's.
            long r = GoferFs.Connect((int)HostSyscall.Call(32 /* dup */, socket.Handle), out var files);
            Assert.That(r, Is.Zero, "attach to diod failed");
            string outPath = Path.Combine(dir, "stdout");
            int status;
            using (var output = File.Create(outPath))
            {
                IPlatform p = Platform switch { "ptrace" => new Sentry.Platform.Ptrace.PtracePlatform(), "systrap" => new Sentry.Platform.Systrap.SystrapPlatform(), _ => new Sentry.Platform.Kvm.KvmPlatform() };
                using (p)
                    status = Sentry.Kernel.Sandbox.Run(p, new SandboxOptions
                    {
                        Program = "/bin/sh", Args = ["/bin/sh", "-c", script], Env = ["PATH=/usr/bin:/bin"],
                        StdoutFd = (int)output.SafeFileHandle.DangerousGetHandle(), Log = TextWriter.Null, RootLower = files!.Root,
                    });
            }
            var native = SandboxRunner.Native("/bin/sh", ["-c", script]);
            files.Dispose();
            Assert.That(status, Is.EqualTo(native.ExitCode));
            Assert.That(File.ReadAllText(outPath), Is.EqualTo(native.StdoutText));
        }
        finally
        {
            if (!diod.HasExited) diod.Kill();
            Directory.Delete(dir, recursive: true);
        }
    }

    static Socket Connect(string path, Process diod)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(15))
        {
            if (diod.HasExited) Assert.Ignore($"diod exited at start: {diod.StandardError.ReadToEnd().Trim()}");
            if (File.Exists(path))
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try { s.Connect(new UnixDomainSocketEndPoint(path)); return s; }
                catch (SocketException) { s.Dispose(); }
            }
            Thread.Sleep(20);
        }
        Assert.Ignore("diod did not accept connections within 15 s");
        return null!;
    }
}
