using System.Diagnostics;

namespace Sentry.Compare;

/// <summary>The facts about this machine and these builds that a result needs next to it.</summary>
public static class Machine
{
    public static string Cpu()
    {
        var model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"));
        return model == null ? "unknown CPU" : model[(model.IndexOf(':') + 1)..].Trim();
    }

    public static string MemoryGiB()
    {
        var total = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:"));
        long kib = long.Parse(total.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        return $"{kib / (1024.0 * 1024.0):F0} GiB";
    }

    public static string Kernel() => File.ReadAllText("/proc/sys/kernel/osrelease").Trim();

    public static string Os()
    {
        var pretty = File.Exists("/etc/os-release") ? File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=")) : null;
        return pretty?["PRETTY_NAME=".Length..].Trim('"') ?? "Linux";
    }

    public static string Kvm() => File.Exists("/dev/kvm") ? "/dev/kvm present" : "no /dev/kvm";

    /// <summary>First line a command prints, or null when it cannot run.</summary>
    public static string? FirstLine(string file, params string[] args)
    {
        try
        {
            var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            string all = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
            p.WaitForExit();
            return all.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        }
        catch (Exception) { return null; }
    }
}
