using System.Text;
using Sentry.Kernel;
using Sentry.Platform;

namespace Sentry.Host.Oci;

/// <summary>
/// `sentry boot` (internal): the long-lived process of one container, started by `create`. It
/// starts the Gofer on the bundle's root, listens on the container's control socket, tells
/// `create` on fd 3 that it is ready ("ok", or "error REASON"), waits for `start`, then runs the
/// container's process in a sandbox and exits with its status, as runc's container init does.
/// </summary>
public static class BootCommand
{
    /// <summary>Mount types the sandbox's kernel provides itself at their usual places.</summary>
    static readonly string[] s_kernelMounts = ["proc", "sysfs", "devpts", "mqueue", "cgroup", "cgroup2"];

    public sealed record Settings(ContainerStore Store, string Id, string Bundle, string Platform, OciLog Log, bool Debug, string? ConsoleSocket);

    public static int Run(string[] args)
    {
        var g = OciGlobals.Parse(args, out var rest, out string? problem);
        string? id = null, bundle = null, console = null;
        for (int i = 0; i < rest.Count; i++)
        {
            if (rest[i] == "--bundle" && i + 1 < rest.Count) bundle = rest[++i];
            else if (rest[i] == "--id" && i + 1 < rest.Count) id = rest[++i];
            else if (rest[i] == "--console-socket" && i + 1 < rest.Count) console = rest[++i];
        }
        using var ready = new ReadyPipe(3);
        if (problem != null || id == null || bundle == null)
        {
            ready.Fail(problem ?? "boot: --id and --bundle are required");
            return 2;
        }
        var settings = new Settings(new ContainerStore(g.Root), id, bundle, g.Platform, g.Log, g.Debug, console);
        return Boot(settings, ready, startAtOnce: false);
    }

    /// <summary>
    /// Prepares and runs the container. With <paramref name="startAtOnce"/> (`sentry run`) there
    /// is no wait for `start`.
    /// </summary>
    public static int Boot(Settings s, ReadyPipe? ready, bool startAtOnce)
    {
        if (!OciSpecs.TryLoad(s.Bundle, out var spec, out string problem))
        {
            ready?.Fail(problem);
            return 1;
        }
        string rootPath = OciSpecs.RootPath(s.Bundle, spec);
        if (!Directory.Exists(rootPath))
        {
            ready?.Fail($"root.path {rootPath}: no such directory");
            return 1;
        }
        var (volumes, tmpfs, files) = Mounts(spec, s.Log);
        GoferLauncher.Started gofer;
        try { gofer = GoferLauncher.Start(rootPath, volumes); }
        catch (InvalidOperationException e)
        {
            ready?.Fail(e.Message);
            return 1;
        }
        var process = spec.Process!;
        int console = -1;
        if (process.Terminal && s.ConsoleSocket != null)
        {
            try
            {
                console = HostPty.OpenForEngine(s.ConsoleSocket, process.ConsoleSize?.Height ?? 0, process.ConsoleSize?.Width ?? 0);
            }
            catch (InvalidOperationException e)
            {
                ready?.Fail(e.Message);
                return 1;
            }
        }
        var options = new SandboxOptions
        {
            ConsoleFd = console,
            Program = process.Args![0],
            Args = process.Args,
            Env = process.Env ?? [],
            Cwd = string.IsNullOrEmpty(process.Cwd) ? "/" : process.Cwd,
            Log = s.Log, // never the container's stderr: engines read the runtime's log
            Limits = Limits(process.Rlimits),
            Uid = process.User?.Uid ?? 0,
            Gid = process.User?.Gid ?? 0,
            Hostname = spec.Hostname,
            ReadOnlyRoot = spec.Root!.Readonly,
            Tmpfs = tmpfs,
            Files = files,
        };

        using var started = new ManualResetEventSlim(startAtOnce);
        using var created = new ManualResetEventSlim();
        Sandbox? sandbox = null;
        ControlChannel.Serve(s.Store.ControlSocket(s.Id), (connection, request, fds) =>
        {
            try { Answer(s, connection, request, fds, started, () => SandboxOnceStarted(started, created, ref sandbox)); }
            finally { foreach (int f in fds) HostSyscall.Call(3 /* close */, f); }
        });
        ready?.Succeed();
        started.Wait();
        s.Log.Record("info", $"container {s.Id} starting {string.Join(' ', process.Args!)}");
        // The engine resizes the terminal it gave us: the sandbox's pty follows (SIGWINCH inside).
        using var resize = System.Runtime.InteropServices.PosixSignalRegistration.Create((System.Runtime.InteropServices.PosixSignal)28 /* SIGWINCH, raw: Linux only */,
            _ => Volatile.Read(ref sandbox)?.Console?.Resize());
        int status = DoCommand.Execute(gofer, s.Platform, options, volumes, box => { Volatile.Write(ref sandbox, box); created.Set(); });
        s.Log.Record("info", $"container {s.Id} exited with status {status}");
        Save(s, "stopped");
        return status;
    }

    /// <summary>Answers one control request: start, kill N, killall N, exec JSON (with three stdio descriptors).</summary>
    static void Answer(Settings s, ControlConnection c, string request, int[] fds, ManualResetEventSlim started, Func<Sandbox?> sandbox)
    {
        int space = request.IndexOf(' ');
        string verb = space < 0 ? request : request[..space], arg = space < 0 ? "" : request[(space + 1)..];
        switch (verb)
        {
            case "start":
                if (started.IsSet) { c.Send("error the container has already started"); return; }
                Save(s, "running");
                started.Set();
                c.Send("ok");
                return;
            case "kill" or "killall" when int.TryParse(arg, out int sig) && sig is >= 1 and <= 64:
                if (!started.IsSet)
                {
                    // Not started: the process has not run an instruction; a signal whose default
                    // action ends it ends the container, as it ends runc's waiting init.
                    if (sig is 17 or 18 or 23 or 28) { c.Send("ok"); return; } // CHLD, CONT, URG, WINCH: ignored
                    s.Log.Record("info", $"signal {sig} before start: the container ends");
                    c.Send("ok");
                    Environment.Exit(128 + sig);
                }
                var box = sandbox();
                if (box == null) { c.Send("error the container did not start"); return; }
                if (verb == "killall") box.SignalAll(sig); else box.SignalInitFromParentNamespace(sig);
                c.Send("ok");
                return;
            case "pause" or "resume":
            {
                var frozen = sandbox();
                if (frozen == null) { c.Send("error the container is not running"); return; }
                if (verb == "pause") { frozen.Pause(); Save(s, "paused"); }
                else { Save(s, "running"); frozen.Resume(); }
                c.Send("ok");
                return;
            }
            case "exec":
                Exec(s, c, arg, fds, started, sandbox());
                return;
            default:
                c.Send($"error unknown request {verb}");
                return;
        }
    }

    /// <summary>
    /// Starts an `exec`'s process in the running sandbox with the caller's stdio, answers
    /// "ok PID", and once it ends "exit STATUS".
    /// </summary>
    static void Exec(Settings s, ControlConnection c, string json, int[] fds, ManualResetEventSlim started, Sandbox? box)
    {
        if (!started.IsSet || box == null) { c.Send("error cannot exec in a container that is not running"); return; }
        if (fds.Length != 3) { c.Send("error exec needs the three stdio descriptors"); return; }
        OciProcess? p;
        try { p = System.Text.Json.JsonSerializer.Deserialize(json, OciJson.Default.OciProcess); }
        catch (System.Text.Json.JsonException e) { c.Send($"error malformed exec request: {e.Message}"); return; }
        if (p?.Args is not { Count: > 0 }) { c.Send("error exec: process.args must name a program"); return; }
        Sandbox.StartedProcess proc;
        try
        {
            proc = box.StartProcess(new ProcessSpec(p.Args[0], p.Args, p.Env ?? [], string.IsNullOrEmpty(p.Cwd) ? "/" : p.Cwd,
                p.User?.Uid ?? 0, p.User?.Gid ?? 0, fds[0], fds[1], fds[2], ConsoleFd: p.Terminal ? fds[0] : -1));
        }
        catch (SandboxStartException e)
        {
            string reason = e.Message.StartsWith("sentry: ", StringComparison.Ordinal) ? e.Message[8..] : e.Message;
            c.Send($"error {reason} (exit {e.ExitCode})");
            return;
        }
        s.Log.Record("info", $"exec {string.Join(' ', p.Args)}: pid {proc.Pid}");
        c.Send($"ok {proc.Pid}");
        c.Send($"exit {proc.Wait()}");
    }

    /// <summary>
    /// The sandbox, once `start` was answered: a request right after it (an engine's exec or kill)
    /// waits the moment the kernel takes to be made. Null when not started or it never came.
    /// </summary>
    static Sandbox? SandboxOnceStarted(ManualResetEventSlim started, ManualResetEventSlim created, ref Sandbox? sandbox)
    {
        if (!started.IsSet) return null;
        created.Wait(TimeSpan.FromSeconds(30));
        return Volatile.Read(ref sandbox);
    }

    static void Save(Settings s, string status)
    {
        var state = s.Store.Load(s.Id);
        if (state != null) s.Store.Save(state with { Status = status });
    }

    /// <summary>
    /// The spec's mounts as the sandbox takes them: bind mounts of host directories become
    /// volumes (served by the Gofer), tmpfs mounts new tmpfs instances, bind mounts of single
    /// files copies in the root. The kernel's own file systems (proc, sysfs, devpts, its /dev and
    /// /dev/shm) are already in place. Anything else is skipped with a log record.
    /// </summary>
    static (List<VolumeSpec>, List<TmpfsMount>, List<CopiedFile>) Mounts(OciSpec spec, OciLog log)
    {
        var volumes = new List<VolumeSpec>();
        var tmpfs = new List<TmpfsMount>();
        var files = new List<CopiedFile>();
        foreach (var m in spec.Mounts ?? [])
        {
            var opts = m.Options ?? [];
            string dest = m.Destination ?? "";
            bool bind = m.Type == "bind" || opts.Contains("bind") || opts.Contains("rbind");
            if (!dest.StartsWith('/') || dest == "/") { log.Record("warning", $"mount at {dest}: not an absolute path below /: skipped"); continue; }
            if (dest is "/dev" or "/dev/shm" or "/dev/pts" or "/proc" or "/sys" || (!bind && Array.IndexOf(s_kernelMounts, m.Type) >= 0))
                continue; // the kernel's own
            if (bind && m.Source != null && Directory.Exists(m.Source))
                volumes.Add(new VolumeSpec(m.Source, dest, opts.Contains("ro")));
            else if (bind && m.Source != null && File.Exists(m.Source))
            {
                try { files.Add(new CopiedFile(dest, File.ReadAllBytes(m.Source))); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { log.Record("warning", $"bind of {m.Source} at {dest}: {e.Message}: skipped"); }
            }
            else if (m.Type == "tmpfs")
                tmpfs.Add(new TmpfsMount(dest, opts));
            else
                log.Record("warning", $"mount of {m.Source} ({m.Type}) at {dest} is not supported yet: skipped");
        }
        return (volumes, tmpfs, files);
    }

    static readonly string[] s_rlimitNames =
    [
        "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE", "RLIMIT_RSS", "RLIMIT_NPROC",
        "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS", "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE",
        "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
    ];

    /// <summary>The host's limits (what the engine gave us) with the spec's rlimits over them.</summary>
    static ResourceLimit[] Limits(List<OciRlimit>? rlimits)
    {
        var limits = ResourceLimit.OfHost();
        foreach (var r in rlimits ?? [])
        {
            int i = Array.IndexOf(s_rlimitNames, r.Type);
            if (i >= 0) limits[i] = new ResourceLimit(r.Soft, r.Hard);
        }
        return limits;
    }

    /// <summary>fd 3 of `sentry boot`: one line to the waiting `create`, then closed.</summary>
    public sealed class ReadyPipe(int fd) : IDisposable
    {
        bool _done;

        public void Succeed() => Send("ok");
        public void Fail(string reason) => Send("error " + reason);

        void Send(string line)
        {
            if (_done) return;
            _done = true;
            var bytes = Encoding.UTF8.GetBytes(line + "\n");
            unsafe { fixed (byte* b = bytes) Sentry.Platform.HostSyscall.Call(1 /* write */, fd, (long)b, bytes.Length); }
            Sentry.Platform.HostSyscall.Call(3 /* close */, fd);
        }

        public void Dispose() { if (!_done) Fail("the sandbox process ended before it was ready"); }
    }
}
