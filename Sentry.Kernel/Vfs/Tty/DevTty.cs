using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs.Tty;

/// <summary>
/// /dev/tty (char 5,0): the opener's controlling terminal. A process without one gets ENXIO, as on
/// Linux; that includes the usual case of a sandbox whose stdio is the host's terminal, which is
/// not a terminal of the sandbox's sessions.
/// </summary>
public static class DevTty
{
    public const uint TTYAUX_MAJOR = 5, Minor = 0;

    public static FileDescription? Open(Task task, int flags, string path, out int error)
    {
        Pty? pty;
        lock (task.Sandbox.TreeLock) pty = task.Group.ControllingTerminal;
        if (pty == null) { error = -Errno.ENXIO; return null; }
        error = (int)pty.OpenSlave(task, flags | Linux.O_NOCTTY, path, out var file);
        return file;
    }
}
