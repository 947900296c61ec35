using System.Diagnostics;
using System.Text;

namespace Sentry.P9.Tests;

/// <summary>
/// Debian's diod (a third-party 9P2000.L server) exporting a fresh temporary directory on a
/// unix socket, for wire-compatibility tests. Runs in the foreground without authentication,
/// serving only the current user (-u), with no config file. If diod is missing or will not start
/// the calling fixture is ignored with the reason, never passed.
/// </summary>
public sealed class DiodServer : IDisposable
{
    public const string Executable = "/usr/sbin/diod";

    readonly Process _process;
    readonly StringBuilder _log = new();
    readonly string _dir;

    /// <summary>Host path of the exported directory (also the aname to attach to).</summary>
    public string Root { get; }
    public string SocketPath { get; }

    DiodServer(string dir)
    {
        _dir = dir;
        Root = Path.Combine(dir, "export");
        SocketPath = Path.Combine(dir, "diod.sock");
        Directory.CreateDirectory(Root);
        var psi = new ProcessStartInfo(Executable)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { "--foreground", "--no-auth", "--config-file", "/dev/null",
                     "--runas-uid", Native.EffectiveUid.ToString(), "--nwthreads", "4",
                     "--export", Root, "--listen", SocketPath, "--logdest", "stderr" })
            psi.ArgumentList.Add(a);
        _process = Process.Start(psi) ?? throw new InvalidOperationException("Process.Start returned null");
        _process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (_log) _log.AppendLine(e.Data); };
        _process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (_log) _log.AppendLine(e.Data); };
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
    }

    /// <summary>What diod printed so far.</summary>
    public string Log { get { lock (_log) return _log.ToString(); } }

    /// <summary>Starts diod and waits until it accepts connections; ignores the test if it cannot.</summary>
    public static DiodServer StartOrIgnore()
    {
        if (!File.Exists(Executable))
            Assert.Ignore($"diod is not installed at {Executable} (Debian package 'diod'): 9P interop tests not run");
        string dir = Directory.CreateTempSubdirectory("sentry-p9-").FullName;
        var server = new DiodServer(dir);
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(15))
        {
            if (server._process.HasExited)
            {
                server._process.WaitForExit(); // flush the log
                string why = $"diod exited with status {server._process.ExitCode} at start: {server.Log.Trim()}";
                server.Dispose();
                Assert.Ignore(why);
            }
            if (File.Exists(server.SocketPath))
            {
                int fd = Native.ConnectUnix(server.SocketPath);
                if (fd >= 0)
                {
                    Native.Close(fd);
                    return server;
                }
            }
            Thread.Sleep(20);
        }
        string log = server.Log.Trim();
        server.Dispose();
        Assert.Ignore($"diod did not accept connections on its socket within 15 s: {log}");
        return null!;
    }

    /// <summary>A new connection, version negotiated and attached to the export as the current user.</summary>
    public P9Client Connect(out uint root, out P9Qid rootQid, int msize = P9Client.DefaultMSize)
    {
        int fd = Native.ConnectUnix(SocketPath);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0), $"connect to diod: {fd}; diod log: {Log}");
        var client = new P9Client(fd, msize);
        Assert.That(client.Version(), Is.Zero, "Tversion");
        int rc = client.Attach("root"u8, Encoding.UTF8.GetBytes(Root), Native.EffectiveUid, out root, out rootQid);
        Assert.That(rc, Is.Zero, $"Tattach: {rc}; diod log: {Log}");
        return client;
    }

    /// <summary>Host path of <paramref name="relative"/> inside the export.</summary>
    public string HostPath(string relative) => Path.Combine(Root, relative);

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
