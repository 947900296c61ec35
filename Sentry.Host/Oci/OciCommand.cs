using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Sentry.Platform;

namespace Sentry.Host.Oci;

/// <summary>
/// The OCI runtime command line (runtime-spec runtime.md, in runc's shape) that podman, Docker
/// and containerd call: each command is a separate invocation; what lasts between them is the
/// state under --root and the container's own sandbox process. Errors are one line on stderr
/// ("sentry: ...") and a record in --log, exit code 1 (2 for bad usage).
/// </summary>
public static partial class OciCommand
{
    public static readonly string[] Commands = ["create", "start", "run", "exec", "state", "kill", "delete", "pause", "resume", "spec", "features", "ps", "list"];

    [LibraryImport("libc", SetLastError = true)] private static partial int pipe2(Span<int> fds, int flags);
    [LibraryImport("libc")] private static partial int close(int fd);

    const int O_CLOEXEC = 0x80000;

    sealed class UsageException(string message) : Exception(message);

    public static int Run(string[] args)
    {
        var g = OciGlobals.Parse(args, out var rest, out string? problem);
        if (problem != null) return Fail(g, problem, 2);
        string command = rest[0];
        var (flags, positional) = CommandArgs(rest.Skip(1).ToList(), out problem);
        if (problem != null) return Fail(g, $"{command}: {problem}", 2);
        try
        {
            return command switch
            {
                "create" => Create(g, flags, Id(positional), start: false),
                "run" => Create(g, flags, Id(positional), start: true),
                "start" => Start(g, Id(positional)),
                "pause" => PauseOrResume(g, Id(positional), pause: true),
                "resume" => PauseOrResume(g, Id(positional), pause: false),
                "exec" => Exec(g, flags, Id(positional), positional.Skip(1).ToList()),
                "state" => State(g, Id(positional)),
                "kill" => Kill(g, flags, Id(positional), positional.Count > 1 ? positional[1] : "TERM"),
                "delete" => Delete(g, flags, Id(positional)),
                "spec" => Spec(g, flags),
                "features" => Features(),
                "ps" => Ps(g, Id(positional)),
                "list" => List(g),
                _ => Fail(g, $"unknown command {command}", 2),
            };
        }
        catch (UsageException e) { return Fail(g, $"{command}: {e.Message}", 2); }
    }

    static int Fail(OciGlobals g, string message, int code = 1)
    {
        Console.Error.WriteLine($"sentry: {message}");
        g.Log.Record("error", message);
        return code;
    }

    static readonly string[] s_valued = ["--bundle", "-b", "--pid-file", "--console-socket", "--preserve-fds", "--format", "-f", "--process", "-p", "--cwd", "--env", "-e", "--signal", "--root", "--user", "-u", "--ready-fd"];
    static readonly string[] s_bool = ["--detach", "-d", "--force", "-f", "--all", "-a", "--no-pivot", "--no-new-keyring", "--no-subreaper", "--tty", "-t", "--keep", "--rootless"];

    /// <summary>A command's flags (name → values, "--x=v" or "--x v") and its positional arguments.</summary>
    static (Dictionary<string, List<string>> Flags, List<string> Positional) CommandArgs(List<string> args, out string? problem)
    {
        problem = null;
        var flags = new Dictionary<string, List<string>>();
        var positional = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            if (a == "--") { positional.AddRange(args.Skip(i + 1)); break; }
            if (!a.StartsWith('-') || a.Length == 1 || positional.Count > 0) { positional.Add(a); continue; }
            int eq = a.IndexOf('=');
            string name = eq >= 0 ? a[..eq] : a;
            string key = name switch { "-b" => "--bundle", "-d" => "--detach", "-a" => "--all", "-t" => "--tty", "-e" => "--env", "-p" => "--process", "-u" => "--user", _ => name };
            if (name is "-f") key = "--force-or-format";
            string value;
            if (Array.IndexOf(s_bool, name) >= 0 && (name != "-f" || eq < 0))
                value = eq >= 0 ? a[(eq + 1)..] : "true";
            else if (Array.IndexOf(s_valued, name) >= 0)
            {
                if (eq >= 0) value = a[(eq + 1)..];
                else if (i + 1 < args.Count) value = args[++i];
                else { problem = $"flag needs an argument: {name}"; break; }
            }
            else { problem = $"flag provided but not defined: {name}"; break; }
            if (!flags.TryGetValue(key, out var list)) flags[key] = list = [];
            list.Add(value);
        }
        return (flags, positional);
    }

    static string? Flag(Dictionary<string, List<string>> flags, string name) =>
        flags.TryGetValue(name, out var v) ? v[^1] : null;

    static bool Bool(Dictionary<string, List<string>> flags, params string[] names) =>
        names.Any(n => Flag(flags, n) is "true" or "1");

    static string Id(List<string> positional)
    {
        if (positional.Count == 0) throw new UsageException("a container id is required");
        if (!ContainerStore.ValidId(positional[0])) throw new UsageException($"invalid container id {positional[0]}");
        return positional[0];
    }

    static int Create(OciGlobals g, Dictionary<string, List<string>> flags, string id, bool start)
    {
        var store = new ContainerStore(g.Root);
        string bundle = Path.GetFullPath(Flag(flags, "--bundle") ?? ".");
        if (!OciSpecs.TryLoad(bundle, out var spec, out string problem)) return Fail(g, problem);
        string? console = Flag(flags, "--console-socket");
        bool detached = !start || Bool(flags, "--detach");
        if (spec.Process!.Terminal && detached && console == null)
            return Fail(g, "cannot allocate a terminal for a detached container without --console-socket");
        if (console != null) console = Path.GetFullPath(console);
        try
        {
            if (!store.TryReserve(id)) return Fail(g, $"container with id {id} already exists");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fail(g, $"cannot use --root {g.Root}: {e.Message}");
        }
        var state = new OciState
        {
            Id = id, Status = "creating", Bundle = bundle, Annotations = spec.Annotations,
            Created = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ"),
        };
        var settings = new BootCommand.Settings(store, id, bundle, g.Platform, g.Log, g.Debug, console);
        if (start && !Bool(flags, "--detach"))
        {
            // `run` in the foreground: this process is the container's.
            int self = Environment.ProcessId;
            store.Save(state with { Status = "running", Pid = self, PidStartTime = ContainerStore.StartTime(self) });
            WritePidFile(flags, self);
            return BootCommand.Boot(settings, null, startAtOnce: true);
        }

        Span<int> fds = stackalloc int[2];
        if (pipe2(fds, O_CLOEXEC) != 0) return Fail(g, $"pipe2: errno {Marshal.GetLastPInvokeError()}");
        int pid;
        try
        {
            var bootArgs = new List<string> { "--root", store.Root, "--platform", g.Platform };
            if (g.Debug) bootArgs.Add("--debug");
            bootArgs.AddRange(["boot", "--id", id, "--bundle", bundle]);
            if (console != null) bootArgs.AddRange(["--console-socket", console]);
            pid = SelfSpawn.Start(g.LogArgs.Concat(bootArgs), fds[1]);
        }
        catch (InvalidOperationException e)
        {
            close(fds[0]); close(fds[1]);
            store.Remove(id);
            return Fail(g, e.Message);
        }
        close(fds[1]);
        // The state names the process before it reports: a `kill` or `delete` racing the create
        // finds it. It is "created" only once the sandbox process says it is ready.
        store.Save(state with { Pid = pid, PidStartTime = ContainerStore.StartTime(pid) });
        string answer = ReadLine(fds[0]);
        close(fds[0]);
        if (answer != "ok")
        {
            HostSyscall.Call(62 /* kill */, pid, 9);
            store.Remove(id);
            return Fail(g, answer.StartsWith("error ", StringComparison.Ordinal) ? answer[6..] : $"the sandbox process failed to start ({answer})");
        }
        store.Save(state with { Status = "created", Pid = pid, PidStartTime = ContainerStore.StartTime(pid) });
        WritePidFile(flags, pid);
        return start ? Start(g, id) : 0;
    }

    static void WritePidFile(Dictionary<string, List<string>> flags, int pid)
    {
        if (Flag(flags, "--pid-file") is not { } file) return;
        string tmp = file + ".tmp";
        File.WriteAllText(tmp, pid.ToString());
        File.Move(tmp, file, overwrite: true);
    }

    static string ReadLine(int fd)
    {
        var bytes = new List<byte>();
        Span<byte> b = stackalloc byte[1];
        while (true)
        {
            long n;
            unsafe { fixed (byte* p = b) n = HostSyscall.Call(0 /* read */, fd, (long)p, 1); }
            if (n == -Errno.EINTR) continue;
            if (n <= 0 || b[0] == '\n') break;
            bytes.Add(b[0]);
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>
    /// `exec`: runs another process in the container's sandbox (--process FILE, or ARGS with the
    /// container's env, cwd and user under --env/--cwd/--user). In the foreground it exits with
    /// the process's status; with --detach a copy of this command waits for the process (its
    /// host pid goes to --pid-file, for the engine to wait on) and this one returns at once.
    /// </summary>
    static int Exec(OciGlobals g, Dictionary<string, List<string>> flags, string id, List<string> args)
    {
        var state = Existing(g, id, out var store);
        if (state == null) return Fail(g, $"container {id} does not exist");
        if (state.Status != "running") return Fail(g, $"cannot exec in a container that is {state.Status}");
        OciProcess process;
        if (Flag(flags, "--process") is { } file)
        {
            try { process = JsonSerializer.Deserialize(File.ReadAllText(file), OciJson.Default.OciProcess)!; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException) { return Fail(g, $"--process {file}: {e.Message}"); }
        }
        else
        {
            if (args.Count == 0) return Fail(g, "exec: no program given", 2);
            OciSpecs.TryLoad(state.Bundle, out var spec, out _);
            var env = new List<string>(spec?.Process?.Env ?? []);
            foreach (var kv in flags.GetValueOrDefault("--env") ?? [])
            {
                int eq = kv.IndexOf('=');
                if (eq <= 0) return Fail(g, $"--env {kv}: expected KEY=VALUE", 2);
                env.RemoveAll(e => e.StartsWith(kv[..(eq + 1)], StringComparison.Ordinal));
                env.Add(kv);
            }
            var user = spec?.Process?.User ?? new OciUser();
            if (Flag(flags, "--user") is { } u)
            {
                var parts = u.Split(':');
                if (!uint.TryParse(parts[0], out uint uid) || (parts.Length > 1 && !uint.TryParse(parts[1], out _)))
                    return Fail(g, $"--user {u}: expected UID[:GID]", 2);
                user = new OciUser { Uid = uid, Gid = parts.Length > 1 ? uint.Parse(parts[1]) : 0 };
            }
            process = new OciProcess { Args = args, Env = env, Cwd = Flag(flags, "--cwd") ?? spec?.Process?.Cwd ?? "/", User = user, Terminal = Bool(flags, "--tty") };
        }
        if (process.Args is not { Count: > 0 }) return Fail(g, "exec: process.args must name a program");
        string? console = Flag(flags, "--console-socket");
        if (process.Terminal && console == null && (Bool(flags, "--detach") || Console.IsInputRedirected))
            return Fail(g, "exec with a terminal needs --console-socket (or a terminal as stdin)");
        if (console != null) console = Path.GetFullPath(console);

        if (Bool(flags, "--detach"))
        {
            // A copy of this command, in the foreground, holds the exec's connection and exits with
            // its status; it says on fd 3 when the process has started.
            Span<int> fds = stackalloc int[2];
            if (pipe2(fds, O_CLOEXEC) != 0) return Fail(g, $"pipe2: errno {Marshal.GetLastPInvokeError()}");
            string tmp = Path.Combine(store.Dir(id), $"exec-{Guid.NewGuid():N}.json");
            File.WriteAllText(tmp, JsonSerializer.Serialize(process, OciJson.Default.OciProcess));
            int pid;
            try
            {
                var copyArgs = new List<string>(g.LogArgs) { "--root", store.Root, "exec", "--process", tmp, "--ready-fd", "3" };
                if (console != null) copyArgs.AddRange(["--console-socket", console]);
                copyArgs.Add(id);
                pid = SelfSpawn.Start(copyArgs, fds[1]);
            }
            catch (InvalidOperationException e)
            {
                close(fds[0]); close(fds[1]);
                return Fail(g, e.Message);
            }
            close(fds[1]);
            string answer = ReadLine(fds[0]);
            close(fds[0]);
            File.Delete(tmp);
            if (answer != "ok") return Fail(g, answer.StartsWith("error ", StringComparison.Ordinal) ? answer[6..] : $"exec failed ({answer})");
            WritePidFile(flags, pid);
            return 0;
        }

        using var c = ControlConnection.Connect(store.ControlSocket(id), out string problem);
        if (c == null) return Fail(g, problem);
        int readyFd = int.TryParse(Flag(flags, "--ready-fd"), out int rf) ? rf : -1;
        // A terminal exec's stdio is a pty for the engine (its master went over --console-socket),
        // or this command's own terminal; the sandbox bridges it to a pty of its own.
        int terminal = -1;
        if (process.Terminal && console != null)
        {
            try { terminal = HostPty.OpenForEngine(console, process.ConsoleSize?.Height ?? 0, process.ConsoleSize?.Width ?? 0); }
            catch (InvalidOperationException e) { Tell(readyFd, "error " + e.Message); return Fail(g, e.Message); }
        }
        int[] stdio = terminal >= 0 ? [terminal, terminal, terminal] : [0, 1, 2];
        if (!c.Send("exec " + JsonSerializer.Serialize(process, OciJson.Default.OciProcess).Replace('\n', ' '), stdio))
            return Fail(g, "the sandbox closed the control connection");
        string? started = c.ReceiveLine(out _);
        if (started == null || !started.StartsWith("ok", StringComparison.Ordinal))
        {
            string reason = started?.StartsWith("error ", StringComparison.Ordinal) == true ? started[6..] : "the sandbox closed the control connection";
            Tell(readyFd, "error " + reason);
            return Fail(g, reason, reason.EndsWith("(exit 127)", StringComparison.Ordinal) ? 127 : reason.EndsWith("(exit 126)", StringComparison.Ordinal) ? 126 : 1);
        }
        Tell(readyFd, "ok");
        WritePidFile(flags, Environment.ProcessId);
        string? exit = c.ReceiveLine(out _);
        return exit != null && exit.StartsWith("exit ", StringComparison.Ordinal) && int.TryParse(exit[5..], out int status) ? status : 255;
    }

    /// <summary>One line to the waiting parent of a detached exec (fd <paramref name="fd"/>), then closes it.</summary>
    static void Tell(int fd, string line)
    {
        if (fd < 0) return;
        var bytes = Encoding.UTF8.GetBytes(line + "\n");
        unsafe { fixed (byte* b = bytes) HostSyscall.Call(1 /* write */, fd, (long)b, bytes.Length); }
        close(fd);
    }

    static OciState? Existing(OciGlobals g, string id, out ContainerStore store)
    {
        store = new ContainerStore(g.Root);
        return store.Load(id);
    }

    static int Start(OciGlobals g, string id)
    {
        var state = Existing(g, id, out var store);
        if (state == null) return Fail(g, $"container {id} does not exist");
        if (state.Status != "created") return Fail(g, $"cannot start a container in the {state.Status} state");
        string answer = ControlChannel.Ask(store.ControlSocket(id), "start");
        return answer == "ok" ? 0 : Fail(g, answer.StartsWith("error ", StringComparison.Ordinal) ? answer[6..] : answer);
    }

    /// <summary>`pause` freezes every process of a running container (nothing inside notices); `resume` lets them go on.</summary>
    static int PauseOrResume(OciGlobals g, string id, bool pause)
    {
        var state = Existing(g, id, out var store);
        if (state == null) return Fail(g, $"container {id} does not exist");
        if (state.Status != (pause ? "running" : "paused")) return Fail(g, $"container {id} is {state.Status}, not {(pause ? "running" : "paused")}");
        string answer = ControlChannel.Ask(store.ControlSocket(id), pause ? "pause" : "resume");
        return answer == "ok" ? 0 : Fail(g, answer.StartsWith("error ", StringComparison.Ordinal) ? answer[6..] : answer);
    }

    static int State(OciGlobals g, string id)
    {
        var state = Existing(g, id, out _);
        if (state == null) return Fail(g, $"container {id} does not exist");
        // The spec's state: what the host sees of the container's process.
        var shown = state with { Pid = state.Status == "stopped" ? 0 : state.Pid, PidStartTime = null };
        Console.Out.WriteLine(JsonSerializer.Serialize(shown, OciJson.Default.OciState));
        return 0;
    }

    static int Kill(OciGlobals g, Dictionary<string, List<string>> flags, string id, string signal)
    {
        int sig = SignalNames.Parse(signal);
        if (sig == 0) return Fail(g, $"unknown signal {signal}", 2);
        var state = Existing(g, id, out var store);
        if (state == null) return Fail(g, $"container {id} does not exist");
        if (state.Status == "stopped") return Fail(g, "container not running");
        if (sig == 9)
        {
            // SIGKILL cannot be refused: the sandbox process goes, and its stubs and Gofer with it.
            HostSyscall.Call(62 /* kill */, state.Pid, 9);
            return 0;
        }
        string answer = ControlChannel.Ask(store.ControlSocket(id), $"{(Bool(flags, "--all") ? "killall" : "kill")} {sig}");
        return answer == "ok" ? 0 : Fail(g, answer.StartsWith("error ", StringComparison.Ordinal) ? answer[6..] : answer);
    }

    static int Delete(OciGlobals g, Dictionary<string, List<string>> flags, string id)
    {
        var state = Existing(g, id, out var store);
        bool force = Bool(flags, "--force", "--force-or-format");
        if (state == null)
        {
            if (force) { store.Remove(id); return 0; }
            return Fail(g, $"container {id} does not exist");
        }
        if (state.Status is "running" or "paused" && !force)
            return Fail(g, $"cannot delete container {id} that is not stopped: {state.Status}");
        if (state.Status != "stopped")
        {
            // A created container (never started) is deleted without --force, as runc does.
            HostSyscall.Call(62 /* kill */, state.Pid, 9);
            for (int i = 0; i < 500 && ContainerStore.Alive(state.Pid, state.PidStartTime ?? 0); i++) Thread.Sleep(10);
        }
        store.Remove(id);
        return 0;
    }

    static int Spec(OciGlobals g, Dictionary<string, List<string>> flags)
    {
        string bundle = Flag(flags, "--bundle") ?? ".";
        string file = Path.Combine(bundle, "config.json");
        if (File.Exists(file)) return Fail(g, "File config.json exists. Remove it first");
        try { File.WriteAllText(file, OciSpecs.DefaultConfig()); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return Fail(g, $"cannot write {file}: {e.Message}"); }
        return 0;
    }

    static int Features()
    {
        Console.Out.WriteLine($$"""
            {
              "ociVersionMin": "1.0.0",
              "ociVersionMax": "{{OciSpecs.Version}}",
              "hooks": [],
              "mountOptions": [ "bind", "rbind", "ro", "rw" ],
              "linux": { "namespaces": [ "pid", "network", "ipc", "uts", "mount" ] },
              "annotations": { "io.github.sentry.runtime": "user-space kernel" }
            }
            """);
        return 0;
    }

    static int Ps(OciGlobals g, string id)
    {
        var state = Existing(g, id, out _);
        if (state == null) return Fail(g, $"container {id} does not exist");
        // The host sees one process per container: the sandbox (its stubs are its own threads' children).
        Console.Out.WriteLine(state.Status == "stopped" ? "[]" : $"[{state.Pid}]");
        return 0;
    }

    static int List(OciGlobals g)
    {
        var store = new ContainerStore(g.Root);
        Console.Out.WriteLine("ID\tPID\tSTATUS\tBUNDLE\tCREATED");
        foreach (var id in store.Ids())
            if (store.Load(id) is { } s) Console.Out.WriteLine($"{s.Id}\t{(s.Status == "stopped" ? 0 : s.Pid)}\t{s.Status}\t{s.Bundle}\t{s.Created}");
        return 0;
    }
}
