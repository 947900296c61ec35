using System.CommandLine;
using Sentry.Kernel;

namespace Sentry.Host;

/// <summary>
/// The `sentry` command line. `do` runs one program in a sandbox; the OCI runtime commands come
/// with their own issue. Exit codes: the program's status, 127 program not found, 126 not
/// executable, 2 bad usage, 1 Sentry could not set up the sandbox.
/// </summary>
public static class Cli
{
    public const string DoUsage = "usage: sentry do [--platform=ptrace|kvm|auto] [--network=none|host] [--strace] [--debug] [--cwd DIR] [--env K=V]... [--volume HOST:DEST[:ro]]... PROGRAM [ARGS...]";

    /// <summary>Options of `do` that take a value (so the program's own flags can be told apart from ours).</summary>
    static readonly string[] s_valueOptions = ["--platform", "--network", "--cwd", "--env", "--volume", "-v"];

    public static int Run(string[] args)
    {
        // `sentry gofer` is internal: the file server GoferLauncher starts for a sandbox, not a user command.
        if (args.Length > 0 && args[0] == "gofer") return GoferCommand.Run(args[1..]);
        // The OCI runtime commands (create, start, state, kill, delete, run ...) and `boot`, the
        // internal sandbox process `create` starts, after runc's global flags.
        if (Oci.OciGlobals.IsBoot(args)) return Oci.BootCommand.Run(args);
        if (Oci.OciGlobals.IsOciCommand(args)) return Oci.OciCommand.Run(args);
        if (UnknownOption(args) is { } bad)
        {
            Console.Error.WriteLine($"sentry: unknown option {bad}");
            Console.Error.WriteLine(DoUsage);
            return 2;
        }
        // The Gofer takes longer to start than anything else `do` does before it needs a file: it
        // starts before the full parse (a failing one ends Sentry, and the Gofer with its socket).
        var volumes = new List<VolumeSpec>();
        foreach (var v in VolumeValues(args))
        {
            if (!VolumeSpec.TryParse(v, out var spec, out string problem)) { Console.Error.WriteLine($"sentry: {problem}"); Console.Error.WriteLine(DoUsage); return 2; }
            volumes.Add(spec);
        }
        GoferLauncher.Started? gofer = null;
        if (NamesProgram(args))
        {
            try { gofer = GoferLauncher.Start("/", volumes); }
            catch (InvalidOperationException e)
            {
                Console.Error.WriteLine($"sentry: {e.Message}");
                return 1;
            }
        }
        // System.CommandLine's objects are made only now: their help texts come from resources,
        // over a millisecond to load, which the Gofer's start should not wait for.
        var platform = new Option<string>("--platform") { Description = "ptrace, systrap, kvm or auto (KVM when usable and fast, else systrap, else ptrace)", DefaultValueFactory = _ => "auto" };
        platform.AcceptOnlyFromAmong("ptrace", "systrap", "kvm", "auto");
        var network = new Option<string>("--network") { Description = "none (the default: a loopback network of the sandbox's own) or host (the host's sockets: see README)", DefaultValueFactory = _ => "none" };
        var strace = new Option<bool>("--strace") { Description = "print every system call like strace" };
        var debug = new Option<bool>("--debug") { Description = "print Sentry's own notes on stderr (unsupported system calls, the platform auto chose)" };
        var cwd = new Option<string?>("--cwd") { Description = "working directory inside the sandbox" };
        var env = new Option<string[]>("--env") { Description = "add KEY=VALUE to the program's environment" };
        var volume = new Option<string[]>("--volume", "-v") { Description = "bind-mount the host directory HOST at DEST in the sandbox (HOST:DEST, read-only with :ro)" };
        var command = new Argument<string[]>("program") { Arity = ArgumentArity.OneOrMore, Description = "program and its arguments" };

        var doCmd = new Command("do", "run a program in a sandbox, the host root visible read-only") { platform, network, strace, debug, cwd, env, volume, command };
        var root = new RootCommand("sentry: a user-space Linux kernel that runs programs in a sandbox") { doCmd };
        var parse = root.Parse(SeparateProgram(args));
        if (parse.Errors.Count > 0)
        {
            Console.Error.WriteLine($"sentry: {parse.Errors[0].Message}");
            Console.Error.WriteLine(parse.CommandResult.Command == doCmd || args.Length == 0 ? DoUsage : "usage: sentry do ...");
            return 2;
        }
        if (parse.CommandResult.Command != doCmd || gofer == null)
            return parse.Invoke(); // --help, --version

        string networkMode = parse.GetValue(network)!;
        if (networkMode is not ("none" or "host"))
        {
            Console.Error.WriteLine($"sentry: --network {networkMode}: expected none or host");
            Console.Error.WriteLine(DoUsage);
            return 2;
        }
        var argv = parse.GetValue(command)!;
        var environment = new List<string>();
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
            environment.Add($"{e.Key}={e.Value}");
        foreach (var kv in parse.GetValue(env) ?? [])
        {
            if (!kv.Contains('=')) { Console.Error.WriteLine($"sentry: --env {kv}: expected KEY=VALUE"); Console.Error.WriteLine(DoUsage); return 2; }
            string key = kv[..kv.IndexOf('=')];
            environment.RemoveAll(x => x.StartsWith(key + "=", StringComparison.Ordinal));
            environment.Add(kv);
        }
        var options = new SandboxOptions
        {
            Program = argv[0],
            Args = argv,
            Env = environment,
            Cwd = parse.GetValue(cwd) ?? Environment.CurrentDirectory,
            Strace = parse.GetValue(strace),
            // The application's stderr carries Sentry's notes only when the user asks for them.
            Log = parse.GetValue(strace) || parse.GetValue(debug) ? Console.Error : TextWriter.Null,
            Limits = ResourceLimit.OfHost(), // the program starts with ours, as if we had exec'd it
        };
        // --network=none (the default) is the user-space stack with loopback only; host gives host sockets.
        if (networkMode == "host") options = options with { Network = NetworkMode.Host };
        return DoCommand.Execute(gofer, parse.GetValue(platform)!, options, volumes);
    }

    static readonly string[] s_flagOptions = ["--strace", "--debug", "--help", "-h", "-?"];

    /// <summary>The first option of `do` (before the program) that Sentry does not know, or null.</summary>
    static string? UnknownOption(string[] args)
    {
        if (args.Length == 0 || args[0] != "do") return null;
        for (int i = 1; i < args.Length; i++)
        {
            string a = args[i];
            if (a == "--" || !a.StartsWith('-') || a.Length == 1) return null;
            string name = a.Contains('=') ? a[..a.IndexOf('=')] : a;
            if (Array.IndexOf(s_valueOptions, name) >= 0) { if (!a.Contains('=')) i++; continue; }
            if (Array.IndexOf(s_flagOptions, a) >= 0) continue;
            return a;
        }
        return null;
    }

    /// <summary>
    /// The values of `do`'s --volume/-v options, read without the full parser (which runs after
    /// the Gofer, which needs them, has started): the options before the program, as
    /// <see cref="SeparateProgram"/> tells them apart.
    /// </summary>
    static List<string> VolumeValues(string[] args)
    {
        var values = new List<string>();
        string[] separated = SeparateProgram(args);
        for (int i = 1; i < separated.Length && separated[i] != "--"; i++)
        {
            string a = separated[i];
            int eq = a.IndexOf('=');
            string name = eq >= 0 ? a[..eq] : a;
            if (Array.IndexOf(s_valueOptions, name) < 0) continue;
            string? value = eq >= 0 ? a[(eq + 1)..] : i + 1 < separated.Length && separated[i + 1] != "--" ? separated[++i] : null;
            if (value != null && name is "--volume" or "-v") values.Add(value);
        }
        return values;
    }

    /// <summary>`do` with a program to run and no request for help: the command that needs a Gofer.</summary>
    static bool NamesProgram(string[] args)
    {
        string[] separated = SeparateProgram(args);
        int end = Array.IndexOf(separated, "--");
        if (separated.Length == 0 || separated[0] != "do" || end < 0 || end == separated.Length - 1) return false;
        for (int i = 1; i < end; i++)
            if (separated[i] is "--help" or "-h" or "-?") return false;
        return true;
    }

    /// <summary>
    /// Inserts "--" before the program name after `do`, so that the program's own flags
    /// (`ls -l`) are never taken for Sentry's, as with `runsc do` and `env`.
    /// </summary>
    static string[] SeparateProgram(string[] args)
    {
        if (args.Length == 0 || args[0] != "do") return args;
        var list = new List<string> { "do" };
        for (int i = 1; i < args.Length; i++)
        {
            string a = args[i];
            if (a == "--") { list.AddRange(args[i..]); return [.. list]; }
            if (a.StartsWith('-') && a.Length > 1)
            {
                list.Add(a);
                if (Array.IndexOf(s_valueOptions, a) >= 0 && i + 1 < args.Length) list.Add(args[++i]);
                continue;
            }
            list.Add("--");
            list.AddRange(args[i..]);
            return [.. list];
        }
        return [.. list];
    }
}
