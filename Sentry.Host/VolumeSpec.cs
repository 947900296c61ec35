namespace Sentry.Host;

/// <summary>
/// One `--volume HOST:DEST[:ro|:rw]` of `sentry do`: the host directory HOST appears at DEST in
/// the sandbox, writable unless `:ro`, served by the Gofer like the root (Sentry never opens it
/// itself). HOST may be relative to the current directory; DEST is an absolute path other than "/".
/// </summary>
public sealed record VolumeSpec(string HostDir, string Dest, bool ReadOnly)
{
    /// <summary>Parses and checks one option value; false with a one-line <paramref name="problem"/>.</summary>
    public static bool TryParse(string value, out VolumeSpec spec, out string problem)
    {
        spec = null!;
        problem = "";
        var parts = value.Split(':');
        bool readOnly = false;
        if (parts.Length == 3 && parts[2] is "ro" or "rw") readOnly = parts[2] == "ro";
        else if (parts.Length != 2)
        {
            problem = $"--volume {value}: expected HOST:DEST, HOST:DEST:ro or HOST:DEST:rw";
            return false;
        }
        string host = parts[0], dest = parts[1];
        if (host.Length == 0 || dest.Length == 0)
        {
            problem = $"--volume {value}: expected HOST:DEST, HOST:DEST:ro or HOST:DEST:rw";
            return false;
        }
        if (!dest.StartsWith('/') || dest.Split('/', StringSplitOptions.RemoveEmptyEntries) is not { Length: > 0 } names
            || names.Any(n => n is "." or ".."))
        {
            problem = $"--volume {value}: the sandbox path {dest} must be absolute, not /, and without . or ..";
            return false;
        }
        string full = Path.GetFullPath(host);
        if (!Directory.Exists(full))
        {
            problem = $"--volume {value}: {full} is not a directory on the host";
            return false;
        }
        spec = new VolumeSpec(full, "/" + string.Join('/', names), readOnly);
        return true;
    }
}
