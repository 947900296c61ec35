using System.Text;

namespace Sentry.Kernel.Loader;

/// <summary>Parses a "#!interpreter [arg]" line the way Linux's binfmt_script does.</summary>
public static class Shebang
{
    /// <summary>Max bytes of the #! line Linux reads (BINPRM_BUF_SIZE).</summary>
    public const int BufSize = 256;

    /// <summary>True when <paramref name="head"/> starts with "#!"; returns the interpreter and its single optional argument.</summary>
    public static bool TryParse(ReadOnlySpan<byte> head, out string interpreter, out string? arg)
    {
        interpreter = "";
        arg = null;
        if (head.Length < 2 || head[0] != '#' || head[1] != '!') return false;
        var line = head[2..];
        int nl = line.IndexOf((byte)'\n');
        if (nl >= 0) line = line[..nl];
        string text = Encoding.UTF8.GetString(line).Trim(' ', '\t');
        if (text.Length == 0) return true; // "#!" alone: ENOEXEC at the caller
        int sp = text.IndexOfAny([' ', '\t']);
        if (sp < 0) { interpreter = text; return true; }
        interpreter = text[..sp];
        string rest = text[sp..].Trim(' ', '\t');
        arg = rest.Length == 0 ? null : rest;
        return true;
    }
}
