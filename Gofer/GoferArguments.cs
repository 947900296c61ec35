namespace Sentry.Gofer;

/// <summary>A further directory the Gofer serves (a bind mount of the sandbox) on its own connected socket.</summary>
public sealed record GoferVolume(string Dir, int Fd, bool ReadOnly);

/// <summary>
/// The command line of `sentry gofer`: --root DIR --fd N [--read-only] (also --root=DIR, --fd=N),
/// then any number of --volume N=DIR / --volume-read-only N=DIR: DIR served on socket N.
/// </summary>
public sealed record GoferArguments(string Root, int Fd, bool ReadOnly)
{
    public const string Usage = "usage: sentry gofer --root DIR --fd N [--read-only] [--volume N=DIR | --volume-read-only N=DIR]...";

    public IReadOnlyList<GoferVolume> Volumes { get; init; } = [];

    /// <summary>Parses <paramref name="args"/>; false with a one-line <paramref name="problem"/> for anything else.</summary>
    public static bool TryParse(IReadOnlyList<string> args, out GoferArguments parsed, out string problem)
    {
        parsed = null!;
        problem = "";
        string? root = null, fd = null;
        bool readOnly = false;
        var volumes = new List<GoferVolume>();
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            int eq = a.IndexOf('=');
            string name = eq > 0 && a.StartsWith("--", StringComparison.Ordinal) ? a[..eq] : a;
            string? inline = eq > 0 && name != a ? a[(eq + 1)..] : null;
            switch (name)
            {
                case "--root" or "--fd":
                    string? value = inline ?? (i + 1 < args.Count ? args[++i] : null);
                    if (string.IsNullOrEmpty(value)) { problem = $"{name} needs a value"; return false; }
                    if (name == "--root") root = value; else fd = value;
                    break;
                case "--read-only" when inline == null:
                    readOnly = true;
                    break;
                case "--volume" or "--volume-read-only":
                    string? spec = inline ?? (i + 1 < args.Count ? args[++i] : null);
                    int sep = spec?.IndexOf('=') ?? -1;
                    if (sep <= 0 || sep == spec!.Length - 1 || !int.TryParse(spec[..sep], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int vfd))
                    {
                        problem = $"{name} wants N=DIR, not '{spec}'";
                        return false;
                    }
                    volumes.Add(new GoferVolume(spec[(sep + 1)..], vfd, name == "--volume-read-only"));
                    break;
                default:
                    problem = $"unknown argument '{a}'";
                    return false;
            }
        }
        if (root == null) { problem = "--root DIR is required"; return false; }
        if (fd == null) { problem = "--fd N is required"; return false; }
        if (!int.TryParse(fd, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n))
        {
            problem = $"--fd wants a descriptor number, not '{fd}'";
            return false;
        }
        parsed = new GoferArguments(root, n, readOnly) { Volumes = volumes };
        return true;
    }
}
