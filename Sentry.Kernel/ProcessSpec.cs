namespace Sentry.Kernel;

/// <summary>
/// A program to start in a sandbox: the first process (from <see cref="SandboxOptions"/>) or one
/// started later from outside in the running sandbox (<see cref="Sandbox.StartProcess"/>, an OCI
/// `exec`). The std* fields are host descriptors that become fds 0, 1 and 2, unless
/// <see cref="ConsoleFd"/> names a host terminal: then a pty of the sandbox bridged to it is the
/// process's stdio and controlling terminal (see <see cref="Vfs.Tty.HostConsole"/>).
/// </summary>
public sealed record ProcessSpec(
    string Program,
    IReadOnlyList<string> Args,
    IReadOnlyList<string> Env,
    string Cwd,
    uint Uid,
    uint Gid,
    int StdinFd,
    int StdoutFd,
    int StderrFd,
    int ConsoleFd = -1);
