using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sentry.Host.Oci;

// The parts of an OCI runtime bundle's config.json (runtime-spec config.md) that Sentry reads.
// Unknown fields are ignored, as the spec asks of a runtime.

public sealed record OciSpec
{
    public string? OciVersion { get; init; }
    public OciProcess? Process { get; init; }
    public OciRoot? Root { get; init; }
    public string? Hostname { get; init; }
    public List<OciMount>? Mounts { get; init; }
    public Dictionary<string, string>? Annotations { get; init; }
    public OciLinux? Linux { get; init; }
}

public sealed record OciProcess
{
    public bool Terminal { get; init; }
    public OciBox? ConsoleSize { get; init; }
    public OciUser? User { get; init; }
    public List<string>? Args { get; init; }
    public List<string>? Env { get; init; }
    public string? Cwd { get; init; }
    public List<OciRlimit>? Rlimits { get; init; }
    public bool NoNewPrivileges { get; init; }
}

public sealed record OciBox
{
    public ushort Height { get; init; }
    public ushort Width { get; init; }
}

public sealed record OciUser
{
    public uint Uid { get; init; }
    public uint Gid { get; init; }
    public uint? Umask { get; init; }
    public List<uint>? AdditionalGids { get; init; }
}

public sealed record OciRlimit
{
    public string? Type { get; init; }
    public ulong Hard { get; init; }
    public ulong Soft { get; init; }
}

public sealed record OciRoot
{
    public string? Path { get; init; }
    public bool Readonly { get; init; }
}

public sealed record OciMount
{
    public string? Destination { get; init; }
    public string? Type { get; init; }
    public string? Source { get; init; }
    public List<string>? Options { get; init; }
}

public sealed record OciLinux
{
    public List<OciNamespace>? Namespaces { get; init; }
    public List<string>? MaskedPaths { get; init; }
    public List<string>? ReadonlyPaths { get; init; }
}

public sealed record OciNamespace
{
    public string? Type { get; init; }
    public string? Path { get; init; }
}

/// <summary>What `state` prints (runtime-spec runtime.md "State"), and what Sentry keeps under --root for each container.</summary>
public sealed record OciState
{
    public string OciVersion { get; init; } = OciSpecs.Version;
    public required string Id { get; init; }
    /// <summary>creating, created, running or stopped.</summary>
    public required string Status { get; init; }
    public int Pid { get; init; }
    public required string Bundle { get; init; }
    public Dictionary<string, string>? Annotations { get; init; }
    /// <summary>When `create` made it (RFC 3339), as runc reports.</summary>
    public string? Created { get; init; }
    /// <summary>The sandbox process's start time in clock ticks since boot (/proc/PID/stat field 22), so a reused pid is not taken for it.</summary>
    public ulong? PidStartTime { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true)]
[JsonSerializable(typeof(OciSpec))]
[JsonSerializable(typeof(OciState))]
[JsonSerializable(typeof(OciProcess))]
public sealed partial class OciJson : JsonSerializerContext;

public static class OciSpecs
{
    /// <summary>The runtime-spec version Sentry implements.</summary>
    public const string Version = "1.0.2";

    /// <summary>Reads BUNDLE/config.json; a missing or malformed one is a one-line reason.</summary>
    public static bool TryLoad(string bundle, out OciSpec spec, out string problem)
    {
        spec = null!;
        problem = "";
        string file = Path.Combine(bundle, "config.json");
        string text;
        try { text = File.ReadAllText(file); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = $"cannot read {file}: {e.Message}";
            return false;
        }
        try { spec = JsonSerializer.Deserialize(text, OciJson.Default.OciSpec)!; }
        catch (JsonException e)
        {
            problem = $"{file} is not a valid OCI config: {e.Message}";
            return false;
        }
        if (spec == null) { problem = $"{file} is empty"; return false; }
        if (spec.Process?.Args is not { Count: > 0 }) { problem = $"{file}: process.args must name a program"; return false; }
        if (spec.Root?.Path is not { Length: > 0 }) { problem = $"{file}: root.path is required"; return false; }
        if (spec.Hostname is { Length: > 64 }) { problem = $"{file}: hostname is longer than 64 bytes"; return false; }
        return true;
    }

    /// <summary>The root file system's directory: root.path, relative to the bundle unless absolute.</summary>
    public static string RootPath(string bundle, OciSpec spec) =>
        Path.GetFullPath(spec.Root!.Path!, bundle);

    /// <summary>The config.json `sentry spec` writes: runc's default shape (sh in ./rootfs, a terminal, the usual mounts).</summary>
    public static string DefaultConfig() => """
        {
          "ociVersion": "1.0.2",
          "process": {
            "terminal": true,
            "user": { "uid": 0, "gid": 0 },
            "args": [ "sh" ],
            "env": [ "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm" ],
            "cwd": "/",
            "rlimits": [ { "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 } ],
            "noNewPrivileges": true
          },
          "root": { "path": "rootfs", "readonly": true },
          "hostname": "sentry",
          "mounts": [
            { "destination": "/proc", "type": "proc", "source": "proc" },
            { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": [ "nosuid", "strictatime", "mode=755", "size=65536k" ] },
            { "destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": [ "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620" ] },
            { "destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": [ "nosuid", "noexec", "nodev", "mode=1777", "size=65536k" ] },
            { "destination": "/sys", "type": "sysfs", "source": "sysfs", "options": [ "nosuid", "noexec", "nodev", "ro" ] }
          ],
          "linux": {
            "namespaces": [ { "type": "pid" }, { "type": "network" }, { "type": "ipc" }, { "type": "uts" }, { "type": "mount" } ],
            "maskedPaths": [ "/proc/kcore", "/proc/keys", "/sys/firmware" ],
            "readonlyPaths": [ "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger" ]
          }
        }

        """;
}
