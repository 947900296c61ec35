namespace Sentry.Tests.Infrastructure;

/// <summary>Looks up host tools without trusting PATH order blindly (PATH may hold pyenv shims).</summary>
public static class HostTools
{
    /// <summary>The first executable named <paramref name="name"/> in /usr/bin, /bin, then PATH; null if none.</summary>
    public static string? Find(string name)
    {
        var dirs = new List<string> { "/usr/bin", "/bin", "/usr/local/bin" };
        dirs.AddRange((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries));
        foreach (var d in dirs)
        {
            var p = Path.Combine(d, name);
            if (File.Exists(p))
                return p;
        }
        return null;
    }

    /// <summary>Ignores the current test unless <paramref name="path"/> exists (e.g. a Debian binary).</summary>
    public static string Require(string path, string package)
    {
        if (!File.Exists(path))
            Assert.Ignore($"{path} not installed (apt-get install {package})");
        return path;
    }
}
