namespace Sentry.Kernel;

/// <summary>What to run in a sandbox and how it is wired to the host. The embedding API's input.</summary>
public sealed record SandboxOptions
{
    /// <summary>Program path as the user gave it; resolved against PATH inside the sandbox when it has no '/'.</summary>
    public required string Program { get; init; }
    /// <summary>argv, including argv[0].</summary>
    public required IReadOnlyList<string> Args { get; init; }
    /// <summary>Environment as "KEY=VALUE" strings.</summary>
    public IReadOnlyList<string> Env { get; init; } = [];
    /// <summary>Initial working directory inside the sandbox.</summary>
    public string Cwd { get; init; } = "/";
    /// <summary>Print every syscall like strace on <see cref="Log"/>.</summary>
    public bool Strace { get; init; }
    /// <summary>Where Sentry's own messages go (unsupported syscalls, strace).</summary>
    public TextWriter Log { get; init; } = Console.Error;
    /// <summary>Host descriptors that become the application's fds 0, 1 and 2.</summary>
    public int StdinFd { get; init; } = 0;
    public int StdoutFd { get; init; } = 1;
    public int StderrFd { get; init; } = 2;
    /// <summary>
    /// A host terminal (the engine's console) to bridge to a pty of the sandbox, which then is the
    /// first process's stdio and controlling terminal instead of the Std*Fd; -1 for none.
    /// </summary>
    public int ConsoleFd { get; init; } = -1;
    /// <summary>
    /// The read-only lower layer of the root overlay, normally the Gofer's tree
    /// (<see cref="Fs.GoferFs.Root"/>). Null reads the host root directly from Sentry (embedders
    /// and tests that run without a Gofer).
    /// </summary>
    public Vfs.Inode? RootLower { get; init; }
    /// <summary>Trees mounted over the root (bind mounts of host directories), in order.</summary>
    public IReadOnlyList<VolumeMount> Volumes { get; init; } = [];
    /// <summary>tmpfs file systems mounted when the sandbox starts, after the volumes.</summary>
    public IReadOnlyList<TmpfsMount> Tmpfs { get; init; } = [];
    /// <summary>Files put in the root (copies of single host files an OCI config binds), after the mounts.</summary>
    public IReadOnlyList<CopiedFile> Files { get; init; } = [];
    /// <summary>
    /// The first process's resource limits by RLIMIT_* number (as <see cref="ResourceLimit.OfHost"/>
    /// reads them, so the program starts as if started directly); null gives the limits of a
    /// fresh Linux login. Resources past the list keep those defaults.
    /// </summary>
    public IReadOnlyList<ResourceLimit>? Limits { get; init; }
    /// <summary>The first process's user and group ids inside the sandbox (an OCI process.user; 0 = root).</summary>
    public uint Uid { get; init; }
    public uint Gid { get; init; }
    /// <summary>The sandbox's host name (uname's nodename); null shows the host's.</summary>
    public string? Hostname { get; init; }
    /// <summary>The root file system refuses every change (EROFS); volumes keep their own setting.</summary>
    public bool ReadOnlyRoot { get; init; }
    /// <summary>
    /// What the sandbox's AF_INET/AF_INET6 sockets reach (`--network`): <see cref="NetworkMode.None"/>
    /// (the default: loopback inside the sandbox only) or <see cref="NetworkMode.Host"/> (host sockets).
    /// </summary>
    public NetworkMode Network { get; init; } = NetworkMode.None;
    /// <summary>
    /// Makes the network stack, called once when the first inet or netlink socket is made (the
    /// stack is disposed with the sandbox). Null: the one <see cref="Network"/> names (the
    /// user-space TCP/IP stack with loopback only for None, host sockets for Host).
    /// </summary>
    public Func<Sentry.Net.INetworkStack>? NetworkStack { get; init; }
}

/// <summary>The `--network` modes of a sandbox.</summary>
public enum NetworkMode
{
    /// <summary>Only the sandbox's own loopback network: nothing reaches the host's network.</summary>
    None,
    /// <summary>Sockets are host sockets Sentry holds: the host's interfaces, addresses and ports.</summary>
    Host,
}
