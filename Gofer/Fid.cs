using Sentry.Gofer.Host;

namespace Sentry.Gofer;

/// <summary>What a fid is a handle for.</summary>
internal enum FidKind
{
    /// <summary>A file, walked to (and maybe opened with Tlopen/Tlcreate).</summary>
    File,
    /// <summary>The value (or name list) of an extended attribute, read by Txattrwalk: Tread reads it.</summary>
    XattrRead,
    /// <summary>An extended attribute being written after Txattrcreate: Twrite fills it, Tclunk sets it.</summary>
    XattrWrite,
}

/// <summary>
/// One fid of a connection: the node it refers to, the attaching user, and the open host fd
/// once Tlopen/Tlcreate opened it (regular files' fds are also donated to the client).
/// </summary>
internal sealed class Fid
{
    public Fid(Node node, uint uid)
    {
        Node = node;
        Uid = uid;
    }

    public Node Node { get; set; }
    public FidKind Kind { get; set; }
    /// <summary>n_uname of the Tattach this fid descends from: owner of the files it creates.</summary>
    public uint Uid { get; }

    /// <summary>The opened host fd, or -1.</summary>
    public int OpenFd { get; set; } = -1;
    /// <summary>The open(2) flags it was opened with (access mode for checks).</summary>
    public int OpenFlags { get; set; }
    /// <summary>Opened file is a FIFO or socket: I/O ignores offsets (pread would say ESPIPE).</summary>
    public bool IsStream { get; set; }
    /// <summary>Treaddir offset at which the directory fd's position is (no lseek needed), or ulong.MaxValue if unknown.</summary>
    public ulong DirPosition { get; set; }

    public bool IsOpen => OpenFd >= 0;

    // Extended attribute handles.
    public byte[]? XattrValue { get; set; }
    public byte[]? XattrName { get; set; }
    public uint XattrFlags { get; set; }
    public long XattrWritten { get; set; }

    /// <summary>Closes the open fd (if any) and drops the node reference; the fid is dead afterwards.</summary>
    public void Release()
    {
        if (OpenFd >= 0) Sys.Close(OpenFd);
        OpenFd = -1;
        Node.Release();
        XattrValue = null;
    }
}
