namespace Sentry.Tests.Infrastructure;

/// <summary>
/// Private network namespaces for network tests: `unshare -n` (inside a user namespace of its
/// own, `-r`, when not root) with `lo` brought up, so a program natively and `sentry --network=host` both see
/// only 127.0.0.1 and ::1, never the host's interfaces or its listening ports.
/// </summary>
public static class NetworkNamespace
{
    static readonly Lazy<string?> Problem = new(Probe);

    /// <summary>`unshare` flags: a network namespace, inside a user namespace of its own when not root.</summary>
    static readonly Lazy<string[]> Flags = new(() => IsRoot() ? ["-n"] : ["-r", "-n"]);

    static bool IsRoot()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("Uid:", StringComparison.Ordinal))
                return line.Split('\t', StringSplitOptions.RemoveEmptyEntries)[2] == "0"; // the effective uid
        return false;
    }

    /// <summary>Ignores the test when this host cannot make a private network namespace.</summary>
    public static void Require()
    {
        if (Problem.Value is { } why) Assert.Ignore(why);
    }

    static string? Probe()
    {
        if (HostTools.Find("unshare") == null) return "unshare not installed (apt-get install util-linux)";
        if (HostTools.Find("ip") == null) return "ip not installed (apt-get install iproute2)";
        var r = ProcessRunner.TryRun(HostTools.Find("unshare")!, [.. Flags.Value, "/bin/sh", "-c", "ip link set lo up && ip -o addr show lo"], timeout: TimeSpan.FromSeconds(20));
        if (r.Problem != null || r.ExitCode != 0 || !r.StdoutText.Contains("127.0.0.1"))
            return $"cannot make a private network namespace (unshare -n): {r.StderrText.Trim()}";
        return null;
    }

    /// <summary>The command that runs <paramref name="program"/> with <paramref name="args"/> in a new network namespace with lo up.</summary>
    public static (string Program, IEnumerable<string> Args) Wrap(string program, IEnumerable<string> args)
    {
        Require();
        string ip = HostTools.Find("ip")!;
        return (HostTools.Find("unshare")!, [.. Flags.Value, "/bin/sh", "-c", $"{ip} link set lo up && exec \"$0\" \"$@\"", program, .. args]);
    }
}
