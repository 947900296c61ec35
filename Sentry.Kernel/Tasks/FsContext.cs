namespace Sentry.Kernel.Tasks;

/// <summary>What CLONE_FS shares: the working directory and the umask.</summary>
public sealed class FsContext
{
    /// <summary>Canonical absolute path of the working directory.</summary>
    public string Cwd { get; set; } = "/";
    public int Umask { get; set; } = 0x12; // 022
}
