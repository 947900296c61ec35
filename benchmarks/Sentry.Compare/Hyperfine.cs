using System.Diagnostics;
using System.Text.Json;

namespace Sentry.Compare;

/// <summary>
/// Wall times come from hyperfine (Debian package hyperfine), which starts commands without a
/// shell (-N) and with less overhead of its own than a .NET Process.Start, so short commands
/// such as /bin/true are not dominated by the measuring tool.
/// </summary>
public static class Hyperfine
{
    public const string Path = "/usr/bin/hyperfine";

    public static string? Unavailable => File.Exists(Path) ? null : "hyperfine is not installed (Debian package hyperfine)";

    /// <summary>Times each command line <paramref name="runs"/> times after one warm-up run; milliseconds per run, per command.</summary>
    public static List<double[]> Time(IReadOnlyList<string[]> commands, int runs)
    {
        string json = System.IO.Path.GetTempFileName();
        try
        {
            var psi = new ProcessStartInfo(Path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { "-N", "--style", "none", "--warmup", "1", "--runs", runs.ToString(), "--export-json", json })
                psi.ArgumentList.Add(a);
            foreach (var c in commands) psi.ArgumentList.Add(string.Join(' ', c.Select(Quote)));
            using var p = Process.Start(psi)!;
            var drain = p.StandardOutput.ReadToEndAsync();
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            drain.Wait();
            if (p.ExitCode != 0) throw new InvalidOperationException($"hyperfine failed: {err.Trim()}");
            using var doc = JsonDocument.Parse(File.ReadAllText(json));
            return doc.RootElement.GetProperty("results").EnumerateArray()
                .Select(r => r.GetProperty("times").EnumerateArray().Select(t => t.GetDouble() * 1000).ToArray())
                .ToList();
        }
        finally { File.Delete(json); }
    }

    /// <summary>Quotes an argument for hyperfine's shell-words splitting.</summary>
    static string Quote(string a) =>
        a.Length > 0 && a.All(ch => char.IsLetterOrDigit(ch) || "/-_.=+:,".Contains(ch)) ? a : "'" + a.Replace("'", "'\\''") + "'";
}
