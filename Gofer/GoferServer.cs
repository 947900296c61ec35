using Sentry.Gofer.Abi;
using Sentry.Gofer.Host;

namespace Sentry.Gofer;

/// <summary>
/// A 9P2000.L file server for one exported directory tree. <see cref="Serve"/> answers one
/// connection until its peer closes it; several connections may be served at once from
/// different threads (each has its own fids, nodes and buffers; the server itself is immutable).
/// <para>
/// Security: a client can reach only files under the export root. Every path operation takes one
/// name relative to a directory fd the server holds (openat2 with RESOLVE_BENEATH |
/// RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS, O_PATH|O_NOFOLLOW), names with '/' or NUL are
/// refused, ".." is resolved by the server's own tree (at the root it is the root), and symlinks
/// are never followed: they are returned as symlinks for the client to resolve. Mounts of the
/// host kernel's own file systems (procfs, sysfs, cgroupfs, ...: <see cref="KernelFileSystems"/>)
/// inside the export are not entered.
/// </para>
/// <para>
/// Errors never escape: each request is answered (Rlerror EIO for an unexpected exception) and a
/// frame whose size cannot be trusted ends the connection.
/// </para>
/// </summary>
public sealed class GoferServer : IDisposable
{
    int _rootFd;
    int _procFd;

    /// <summary>
    /// Serves the directory <paramref name="exportRootFd"/> refers to (any fd of it, O_PATH
    /// included; the server keeps its own O_PATH duplicate and the caller keeps theirs).
    /// Throws <see cref="ArgumentException"/> if it is not a directory.
    /// </summary>
    public GoferServer(int exportRootFd, GoferOptions? options = null)
    {
        Options = options ?? new GoferOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.MaxMessageSize, MinMessageSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.MaxFids, 1);
        _rootFd = Sys.OpenAt(exportRootFd, "."u8, Linux.O_PATH | Linux.O_DIRECTORY | Linux.O_CLOEXEC);
        if (_rootFd < 0) throw new ArgumentException($"the export root (fd {exportRootFd}) is not an open directory: errno {-_rootFd}", nameof(exportRootFd));
        if (Sys.Fstatfs(_rootFd, out LinuxStatfs fs) == 0 && KernelFileSystems.IsRefused(fs.f_type))
        {
            Sys.Close(_rootFd);
            throw new ArgumentException($"the export root is a kernel file system (type 0x{fs.f_type:x}), which the Gofer does not serve", nameof(exportRootFd));
        }
        _procFd = -1;
        if (Options.ReopenThroughProc)
        {
            _procFd = Options.ProcSelfFd >= 0
                ? Sys.DupCloexec(Options.ProcSelfFd)
                : Sys.OpenAt(Linux.AT_FDCWD, "/proc/self/fd"u8, Linux.O_PATH | Linux.O_DIRECTORY | Linux.O_CLOEXEC);
            if (_procFd < 0) _procFd = -1;
        }
    }

    /// <summary>Smallest msize and <see cref="GoferOptions.MaxMessageSize"/> accepted: every fixed-size reply fits, and a page of data.</summary>
    public const int MinMessageSize = 4096;

    public GoferOptions Options { get; }

    /// <summary>Whether files are reopened through /proc/self/fd (see <see cref="GoferOptions.ReopenThroughProc"/>).</summary>
    public bool ReopensThroughProc => _procFd >= 0;

    internal int RootFd => _rootFd;

    /// <summary>Called before each request is handled (tests make it throw, to check that the server answers EIO and goes on).</summary>
    internal Action<P9.P9MessageType>? RequestHook { get; set; }
    internal int ProcFd => _procFd;

    /// <summary>
    /// Serves the connected stream socket <paramref name="socketFd"/> until the peer closes it.
    /// Returns 0 when the peer closed (or went away mid-reply), -EPROTO when it sent a frame
    /// whose size field is out of range (the stream cannot be followed further, so the server
    /// closes it), or the socket's -errno. Never throws for anything the peer sends.
    /// </summary>
    /// <param name="ownsSocket">Close <paramref name="socketFd"/> when done.</param>
    public int Serve(int socketFd, bool ownsSocket = true)
    {
        ObjectDisposedException.ThrowIf(_rootFd < 0, this);
        using var connection = new GoferConnection(this, socketFd, ownsSocket);
        return connection.Run();
    }

    public void Dispose()
    {
        Sys.Close(_rootFd);
        Sys.Close(_procFd);
        _rootFd = _procFd = -1;
    }
}
