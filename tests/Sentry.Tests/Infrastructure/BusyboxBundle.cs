using System.Text.Json.Nodes;

namespace Sentry.Tests.Infrastructure;

/// <summary>
/// An OCI bundle whose root is a static busybox with its applets as links (Debian's
/// busybox-static), made fresh in a temporary directory: config.json from `sentry spec`,
/// adjusted per test.
/// </summary>
public sealed class BusyboxBundle : IDisposable
{
    public const string Busybox = "/bin/busybox";
    static readonly string[] Applets = ["sh", "echo", "ls", "cat", "sleep", "id", "pwd", "hostname", "env", "true", "false", "wc", "touch", "mkdir", "rm"];

    public string Dir { get; }
    public string Rootfs => Path.Combine(Dir, "rootfs");

    /// <summary>Ignores the test when busybox (static) is missing.</summary>
    public static void Require()
    {
        if (!File.Exists(Busybox)) Assert.Ignore($"{Busybox} missing (Debian package busybox-static)");
    }

    public BusyboxBundle()
    {
        Require();
        Dir = Directory.CreateTempSubdirectory("sentry-oci-bundle-").FullName;
        Directory.CreateDirectory(Path.Combine(Rootfs, "bin"));
        foreach (var d in new[] { "proc", "dev", "sys", "tmp", "etc", "data" }) Directory.CreateDirectory(Path.Combine(Rootfs, d));
        File.Copy(Busybox, Path.Combine(Rootfs, "bin", "busybox"));
        foreach (var a in Applets) File.CreateSymbolicLink(Path.Combine(Rootfs, "bin", a), "busybox");
        File.WriteAllText(Path.Combine(Rootfs, "etc", "motd"), "inside the bundle\n");
    }

    /// <summary>Writes config.json: `sentry spec`'s default with these args, no terminal, and <paramref name="edit"/> applied.</summary>
    public void Configure(string sentry, string[] args, Action<JsonObject>? edit = null)
    {
        File.Delete(Path.Combine(Dir, "config.json"));
        var r = ProcessRunner.Run(sentry, ["spec", "--bundle", Dir]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Describe());
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(Dir, "config.json")))!.AsObject();
        var process = config["process"]!.AsObject();
        process["terminal"] = false;
        config["root"]!["readonly"] = false; // what engines pass unless asked for --read-only
        process["args"] = new JsonArray([.. args.Select(a => (JsonNode)a)]);
        edit?.Invoke(config);
        File.WriteAllText(Path.Combine(Dir, "config.json"), config.ToJsonString());
    }

    public void Dispose()
    {
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
