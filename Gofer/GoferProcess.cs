using System.Runtime.CompilerServices;
using Sentry.Gofer.Abi;
using Sentry.Gofer.Confinement;
using Sentry.Gofer.Host;
using Sentry.P9;

namespace Sentry.Gofer;

/// <summary>
/// The Gofer process: `sentry gofer --root DIR --fd N [--read-only] [--volume M=VDIR]...`.
/// Confines itself (see <see cref="GoferConfinement"/>: mount namespace, pivot_root into DIR,
/// capabilities, seccomp; each step not permitted is skipped with one line on stderr) and serves
/// 9P2000.L for DIR on the connected socket N until the peer closes it, and each volume VDIR
/// (a bind mount of the sandbox) on its own socket M.
/// </summary>
public static class GoferProcess
{
    /// <summary>Runs the Gofer; returns the process exit code: 0 when the peer closed the connection, 1 if serving failed, 2 for bad arguments.</summary>
    public static int Run(string[] args)
    {
        try
        {
            return RunOrThrow(args);
        }
        catch (Exception e)
        {
            // A bug in the set-up; the server itself answers EIO rather than throw.
            Console.Error.WriteLine($"sentry gofer: internal error: {e.GetType().Name}: {e.Message}");
            return 1;
        }
    }

    static int RunOrThrow(string[] args)
    {
        TextWriter err = Console.Error;
        if (!GoferArguments.TryParse(args, out GoferArguments a, out string problem))
        {
            err.WriteLine($"sentry gofer: {problem}");
            err.WriteLine(GoferArguments.Usage);
            return 2;
        }
        if (Sys.Fstat(a.Fd, out LinuxStat sock) < 0 || sock.Type != Linux.S_IFSOCK)
        {
            err.WriteLine($"sentry gofer: --fd {a.Fd} is not an open socket");
            return 2;
        }
        int rootFd = Sys.Open(a.Root, Linux.O_PATH | Linux.O_DIRECTORY);
        if (rootFd < 0)
        {
            err.WriteLine($"sentry gofer: cannot open the export --root {a.Root}: errno {-rootFd}");
            return 1;
        }
        // Volumes are opened before any step: these fds keep reaching their directories (in the
        // host's mount namespace, so the root's read-only remount does not touch them) after
        // pivot_root has hidden every other host path.
        var volumeFds = new List<int>();
        foreach (var v in a.Volumes)
        {
            if (Sys.Fstat(v.Fd, out LinuxStat vs) < 0 || vs.Type != Linux.S_IFSOCK)
            {
                err.WriteLine($"sentry gofer: --volume {v.Fd}={v.Dir}: {v.Fd} is not an open socket");
                return 2;
            }
            int fd = Sys.Open(v.Dir, Linux.O_PATH | Linux.O_DIRECTORY);
            if (fd < 0)
            {
                err.WriteLine($"sentry gofer: cannot open the volume {v.Dir}: errno {-fd}");
                return 1;
            }
            volumeFds.Add(fd);
        }
        // Modes are applied exactly as clients ask (Sentry applies the sandbox's umask itself).
        Sys.Umask(0);
        if (RuntimeFeature.IsDynamicCodeSupported) Warmup(rootFd);

        using var confinement = new GoferConfinement(a.Root, rootFd, a.ReadOnly, err, a.Volumes.Any(v => !v.ReadOnly));
        confinement.ApplyBeforeServing();
        Sys.Close(rootFd);
        if (confinement.ExportFd < 0)
        {
            err.WriteLine($"sentry gofer: cannot open the export root after confinement: errno {-confinement.ExportFd}");
            return 1;
        }
        using var server = new GoferServer(confinement.ExportFd, new GoferOptions
        {
            ReadOnly = a.ReadOnly,
            ProcSelfFd = confinement.ProcSelfFd,
            ReopenThroughProc = confinement.ProcSelfFd >= 0,
        });
        var volumeServers = new List<GoferServer>();
        for (int i = 0; i < a.Volumes.Count; i++)
        {
            volumeServers.Add(new GoferServer(volumeFds[i], new GoferOptions
            {
                ReadOnly = a.Volumes[i].ReadOnly,
                ProcSelfFd = confinement.ProcSelfFd,
                ReopenThroughProc = confinement.ProcSelfFd >= 0,
            }));
            Sys.Close(volumeFds[i]);
        }
        confinement.Dispose();
        // Each volume has its own connection, served on its own thread; the process ends with the
        // root's connection, as Sentry does. The threads are made now, confined like the one
        // making them, because the system call filter refuses what starting a thread needs; they
        // serve only once the filter (synchronised to every thread) is in place.
        using var filtered = new ManualResetEventSlim();
        for (int i = 0; i < volumeServers.Count; i++)
        {
            var (volumeServer, fd) = (volumeServers[i], a.Volumes[i].Fd);
            new Thread(() => { filtered.Wait(); volumeServer.Serve(fd); }) { Name = $"gofer volume {fd}", IsBackground = true }.Start();
        }
        confinement.RestrictSystemCalls();
        filtered.Set();
        err.Flush();

        int rc = server.Serve(a.Fd);
        if (rc < 0)
        {
            err.WriteLine(rc == -Errno.EPROTO
                ? "sentry gofer: the client sent a frame with an impossible size; connection closed"
                : $"sentry gofer: the connection failed: errno {-rc}");
            return 1;
        }
        return 0;
    }

    /// <summary>
    /// Under the JIT, the runtime loads an assembly (and binds a P/Invoke) the first time code
    /// needs it, from files that are gone after pivot_root. A short read-only session with the
    /// export over a socketpair, before any step, touches everything the server uses. Native
    /// AOT needs none of this and skips it.
    /// </summary>
    static void Warmup(int rootFd)
    {
        if (Sys.SocketPair(out int client, out int serverEnd) < 0) return;
        using var server = new GoferServer(rootFd, new GoferOptions { ReadOnly = true, MaxMessageSize = 65536 });
        var thread = new Thread(() => server.Serve(serverEnd)) { Name = "gofer warm-up" };
        thread.Start();
        using (var c = new P9Client(client, 65536))
        {
            if (c.Version() == 0 && c.Attach("warmup"u8, ""u8, P9Const.P9_NONUNAME, out uint root, out _) == 0)
            {
                c.GetAttr(root, P9Const.P9_GETATTR_BASIC, out _);
                c.StatFs(root, out _);
                c.Walk(root, "\0"u8, out _);
                c.Walk(root, ".."u8, out uint up);
                c.Clunk(up);
                if (c.Walk(root, ""u8, out uint dir) == 0 && c.Lopen(dir, Linux.O_RDONLY | Linux.O_DIRECTORY, out _, out _, out int fd) == 0)
                {
                    Sys.Close(fd);
                    byte[] buf = new byte[4096];
                    c.ReadDir(dir, 0, buf);
                    c.Read(dir, 0, buf);
                    c.XattrWalk(dir, ""u8, out uint list, out _);
                    c.Clunk(list);
                    c.Mkdir(dir, "x"u8, 0, 0, out _);
                    c.Clunk(dir);
                }
                c.Clunk(root);
            }
        }
        thread.Join();
        Console.Error.Flush();
    }
}
