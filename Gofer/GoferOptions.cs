namespace Sentry.Gofer;

/// <summary>How a <see cref="GoferServer"/> serves its export.</summary>
public sealed record GoferOptions
{
    /// <summary>Refuse every change to the export with EROFS (opens for writing, creation, removal, renames, setattr, xattr writes).</summary>
    public bool ReadOnly { get; init; }

    /// <summary>Largest msize agreed to in Tversion; also the size of the connection's two buffers.</summary>
    public int MaxMessageSize { get; init; } = 1 << 20;

    /// <summary>Pass the opened host fd of regular files with Rlopen/Rlcreate (SCM_RIGHTS), so the client can read and write without 9P.</summary>
    public bool DonateFds { get; init; } = true;

    /// <summary>
    /// Reopen files (Tlopen, truncation, xattrs) through their /proc/self/fd magic link, which
    /// reaches exactly the file a fid holds even after it was renamed. Without it (or without
    /// /proc) the Gofer reopens by parent directory and name, checking the inode, which fails
    /// with ESTALE for a file renamed other than by Trename on the same fid.
    /// </summary>
    public bool ReopenThroughProc { get; init; } = true;

    /// <summary>
    /// An fd of the process's /proc/self/fd directory opened earlier (the confined Gofer opens
    /// it before pivot_root, after which /proc is gone), or -1 to open it when the server is made.
    /// The server keeps a duplicate; the caller keeps its own.
    /// </summary>
    public int ProcSelfFd { get; init; } = -1;

    /// <summary>Most fids one connection may hold; beyond it new fids get ENFILE.</summary>
    public int MaxFids { get; init; } = 1 << 20;
}
