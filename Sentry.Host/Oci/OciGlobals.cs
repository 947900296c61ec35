namespace Sentry.Host.Oci;

/// <summary>
/// runc's global flags, which engines put before the command: --root, --log, --log-format,
/// --debug, --systemd-cgroup (accepted; Sentry does not place itself in cgroups yet), and
/// Sentry's own --platform (as `podman --runtime-flag platform=kvm` passes it).
/// </summary>
public sealed record OciGlobals(string Root, OciLog Log, bool Debug, string Platform, IReadOnlyList<string> LogArgs)
{
    static readonly string[] s_valued = ["--root", "--log", "--log-format", "--platform", "--criu", "--rootless"];
    static readonly string[] s_flags = ["--debug", "--systemd-cgroup"];

    /// <summary>
    /// Takes the global flags from the front of <paramref name="args"/> (and any that follow the
    /// command's own, as urfave/cli allows only before); <paramref name="rest"/> is the command
    /// and its arguments. A problem is one line for the user.
    /// </summary>
    public static OciGlobals Parse(string[] args, out List<string> rest, out string? problem)
    {
        problem = null;
        // Engines that cannot pass runtime flags (containerd's runc shim) set SENTRY_PLATFORM on the daemon instead.
        string root = ContainerStore.DefaultRoot, format = "text";
        string platform = Environment.GetEnvironmentVariable("SENTRY_PLATFORM") is { Length: > 0 } fromEnv ? fromEnv : "auto";
        if (platform is not ("ptrace" or "systrap" or "kvm" or "auto")) problem = $"invalid SENTRY_PLATFORM: {platform} (ptrace, systrap, kvm or auto)";
        string? log = null;
        bool debug = false;
        int i = 0;
        for (; i < args.Length && args[i].StartsWith("--", StringComparison.Ordinal); i++)
        {
            string a = args[i];
            int eq = a.IndexOf('=');
            string name = eq >= 0 ? a[..eq] : a;
            if (Array.IndexOf(s_flags, name) >= 0)
            {
                if (name == "--debug") debug = eq < 0 || a[(eq + 1)..] != "false";
                continue;
            }
            if (Array.IndexOf(s_valued, name) < 0) { problem = $"flag provided but not defined: {a}"; break; }
            string? value = eq >= 0 ? a[(eq + 1)..] : i + 1 < args.Length ? args[++i] : null;
            if (value == null) { problem = $"flag needs an argument: {name}"; break; }
            switch (name)
            {
                case "--root": root = value; break;
                case "--log": log = value; break;
                case "--log-format":
                    if (value is not ("text" or "json")) problem = $"invalid log-format: {value}";
                    format = value;
                    break;
                case "--platform":
                    if (value is not ("ptrace" or "systrap" or "kvm" or "auto")) problem = $"invalid platform: {value} (ptrace, systrap, kvm or auto)";
                    platform = value;
                    break;
            }
        }
        rest = [.. args[i..]];
        string[] logArgs = string.IsNullOrEmpty(log) ? [] : ["--log", Path.GetFullPath(log), "--log-format", format];
        return new OciGlobals(root, new OciLog(string.IsNullOrEmpty(log) ? null : log, format == "json"), debug, platform, logArgs);
    }

    /// <summary>Whether <paramref name="args"/> run `sentry [globals] boot ...` (internal: a container's sandbox process).</summary>
    public static bool IsBoot(string[] args)
    {
        Parse(args, out var rest, out _);
        return rest.Count > 0 && rest[0] == "boot";
    }

    /// <summary>Whether <paramref name="args"/> (after the global flags) name one of the OCI commands.</summary>
    public static bool IsOciCommand(string[] args)
    {
        Parse(args, out var rest, out _);
        return rest.Count > 0 && Array.IndexOf(OciCommand.Commands, rest[0]) >= 0;
    }
}
