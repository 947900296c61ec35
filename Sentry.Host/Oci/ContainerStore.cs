using System.Text.Json;
using System.Text.RegularExpressions;

namespace Sentry.Host.Oci;

/// <summary>
/// The containers under a `--root` directory: ROOT/ID/state.json (the <see cref="OciState"/>) and
/// ROOT/ID/control.sock (the sandbox process's control socket). State is written by rename, so a
/// CLI call that dies half-way never leaves a torn file; whether a container still runs is read
/// from its process, not trusted from the file.
/// </summary>
public sealed partial class ContainerStore(string root)
{
    /// <summary>runc's default is /run/runc; ours sits beside it.</summary>
    public const string DefaultRoot = "/run/sentry";

    public string Root { get; } = Path.GetFullPath(root);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_+\\-.]*$")]
    private static partial Regex IdPattern();

    /// <summary>Container ids as runc accepts them: letters, digits and _+-., not starting with a symbol.</summary>
    public static bool ValidId(string id) => id.Length is > 0 and <= 1024 && IdPattern().IsMatch(id);

    public string Dir(string id) => Path.Combine(Root, id);
    public string StateFile(string id) => Path.Combine(Dir(id), "state.json");
    public string ControlSocket(string id) => Path.Combine(Dir(id), "control.sock");

    public bool Exists(string id) => File.Exists(StateFile(id));

    /// <summary>Makes ROOT/ID for a new container; false when the id is taken.</summary>
    public bool TryReserve(string id)
    {
        Directory.CreateDirectory(Root);
        try
        {
            // mkdir is the atomic test-and-set: two creates of one id cannot both win.
            if (Directory.Exists(Dir(id))) return false;
            Directory.CreateDirectory(Dir(id));
            return true;
        }
        catch (IOException) { return false; }
    }

    public void Save(OciState state)
    {
        string tmp = StateFile(state.Id) + ".tmp";
        File.WriteAllText(tmp, JsonSerializer.Serialize(state, OciJson.Default.OciState));
        File.Move(tmp, StateFile(state.Id), overwrite: true);
    }

    /// <summary>The saved state with its status corrected: a container whose process is gone is stopped.</summary>
    public OciState? Load(string id)
    {
        OciState? s;
        try { s = JsonSerializer.Deserialize(File.ReadAllText(StateFile(id)), OciJson.Default.OciState); }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException) { return null; }
        if (s == null) return null;
        if (s.Status != "stopped" && !Alive(s.Pid, s.PidStartTime ?? 0)) s = s with { Status = "stopped" };
        return s;
    }

    public IEnumerable<string> Ids() =>
        Directory.Exists(Root) ? Directory.EnumerateDirectories(Root).Select(Path.GetFileName).OfType<string>().Where(Exists) : [];

    public void Remove(string id)
    {
        try { Directory.Delete(Dir(id), recursive: true); }
        catch (DirectoryNotFoundException) { }
    }

    /// <summary>Whether <paramref name="pid"/> is the process that was started at <paramref name="startTime"/> and has not exited.</summary>
    public static bool Alive(int pid, ulong startTime)
    {
        if (pid <= 0) return false;
        ulong now = StartTime(pid);
        if (now == 0 || now != startTime) return false;
        // A zombie (exited, not yet reaped by its parent) has stopped.
        return ProcState(pid) is not ('Z' or 'X' or '\0');
    }

    /// <summary>Field 22 of /proc/PID/stat (start time in ticks), or 0 when there is no such process.</summary>
    public static ulong StartTime(int pid)
    {
        string? rest = StatAfterName(pid);
        if (rest == null) return 0;
        var fields = rest.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // rest starts at field 3 (state); field 22 is index 19.
        return fields.Length > 19 && ulong.TryParse(fields[19], out ulong t) ? t : 0;
    }

    static char ProcState(int pid) => StatAfterName(pid) is { Length: > 0 } rest ? rest.TrimStart()[0] : '\0';

    static string? StatAfterName(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            int close = stat.LastIndexOf(')'); // the name may hold spaces and parentheses
            return close < 0 ? null : stat[(close + 1)..];
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
