namespace Sentry.Host.Oci;

/// <summary>Signal names and numbers as `kill` takes them (KILL, SIGKILL, 9; RTMIN+N).</summary>
public static class SignalNames
{
    static readonly string[] s_names =
    [
        "", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE",
        "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ",
        "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
    ];

    /// <summary>The signal number, or 0 when <paramref name="text"/> names none.</summary>
    public static int Parse(string text)
    {
        if (int.TryParse(text, out int n)) return n is >= 1 and <= 64 ? n : 0;
        string name = text.ToUpperInvariant();
        if (name.StartsWith("SIG", StringComparison.Ordinal)) name = name[3..];
        if (name == "IOT") return 6;
        if (name == "POLL") return 29;
        if (name.StartsWith("RTMIN", StringComparison.Ordinal))
            return name.Length == 5 ? 34 : name[5] == '+' && int.TryParse(name[6..], out int k) && k is >= 0 and <= 30 ? 34 + k : 0;
        if (name.StartsWith("RTMAX", StringComparison.Ordinal))
            return name.Length == 5 ? 64 : name[5] == '-' && int.TryParse(name[6..], out int k) && k is >= 0 and <= 30 ? 64 - k : 0;
        int i = Array.IndexOf(s_names, name);
        return i > 0 ? i : 0;
    }
}
