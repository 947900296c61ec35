using Sentry.Kernel.Vfs;

namespace Sentry.Kernel.Tasks;

/// <summary>What CLONE_FS shares: the working directory and the umask.</summary>
public sealed class FsContext
{
    /// <summary>Canonical absolute path of the working directory.</summary>
    public string Cwd { get; private set; } = "/";
    /// <summary>The working directory's node (null for "/", which is the mount table's root).</summary>
    public Inode? CwdNode { get; private set; }
    public int Umask { get; set; } = 0x12; // 022

    public void SetCwd(string path, Inode? node) { Cwd = path; CwdNode = path == "/" ? null : node; }

    public FsContext Clone() => new() { Cwd = Cwd, CwdNode = CwdNode, Umask = Umask };
}
