namespace Sentry.Compare;

/// <summary>A whole command measured under every runner. <see cref="Setup"/> prepares its input once.</summary>
public sealed record Workload(string Name, string[] Command, Action? Setup = null)
{
    /// <summary>The commands of the report: start-up, an interpreter, a pipeline, bulk file reading.</summary>
    public static IReadOnlyList<Workload> All(string scratch)
    {
        string big = Path.Combine(scratch, "100MiB.bin");
        return
        [
            new("/bin/true", ["/bin/true"]),
            new("python3 -c pass", ["/usr/bin/python3", "-c", "pass"]),
            new("shell pipeline", ["/bin/sh", "-c", "ls /usr/bin | sort | uniq | wc -l > /dev/null"]),
            new("sha256sum of 100 MiB", ["/usr/bin/sha256sum", big], () => WriteRandomFile(big, 100 << 20)),
        ];
    }

    static void WriteRandomFile(string path, int bytes)
    {
        if (File.Exists(path) && new FileInfo(path).Length == bytes) return;
        var buf = new byte[1 << 20];
        using var f = File.Create(path);
        for (int done = 0; done < bytes; done += buf.Length)
        {
            Random.Shared.NextBytes(buf);
            f.Write(buf);
        }
    }
}
