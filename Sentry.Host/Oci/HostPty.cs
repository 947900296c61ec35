using System.Runtime.InteropServices;
using System.Text;
using Sentry.Platform;

namespace Sentry.Host.Oci;

/// <summary>
/// The terminal of a container whose process.terminal is true (`podman run -it`): a host pty
/// whose master goes to the engine over --console-socket (SCM_RIGHTS, as runc sends it) and whose
/// slave is the container process's stdin, stdout and stderr.
/// </summary>
public static unsafe partial class HostPty
{
    [LibraryImport("libc", SetLastError = true)] private static partial int posix_openpt(int flags);
    [LibraryImport("libc", SetLastError = true)] private static partial int grantpt(int fd);
    [LibraryImport("libc", SetLastError = true)] private static partial int unlockpt(int fd);
    [LibraryImport("libc", SetLastError = true)] private static partial int ptsname_r(int fd, byte* buf, nint len);

    const int O_RDWR = 2, O_NOCTTY = 0x100, O_CLOEXEC = 0x80000, TIOCSWINSZ = 0x5414;

    /// <summary>
    /// Makes a pty sized <paramref name="rows"/>x<paramref name="cols"/> (0 keeps the default),
    /// hands its master to the engine listening at <paramref name="consoleSocket"/>, and returns
    /// the slave's descriptor. Throws with a one-line reason.
    /// </summary>
    public static int OpenForEngine(string consoleSocket, ushort rows, ushort cols)
    {
        int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0) throw new InvalidOperationException($"posix_openpt: errno {Marshal.GetLastPInvokeError()}");
        try
        {
            if (grantpt(master) != 0 || unlockpt(master) != 0)
                throw new InvalidOperationException($"grantpt/unlockpt: errno {Marshal.GetLastPInvokeError()}");
            byte* name = stackalloc byte[128];
            if (ptsname_r(master, name, 128) != 0) throw new InvalidOperationException($"ptsname_r: errno {Marshal.GetLastPInvokeError()}");
            string path = Marshal.PtrToStringUTF8((nint)name)!;
            if (rows != 0 && cols != 0)
            {
                ushort* ws = stackalloc ushort[4] { rows, cols, 0, 0 }; // struct winsize
                HostSyscall.Call(16 /* ioctl */, master, TIOCSWINSZ, (long)ws);
            }
            long slave;
            fixed (byte* p = Encoding.UTF8.GetBytes(path + "\0"))
                slave = HostSyscall.Call(257 /* openat */, -100 /* AT_FDCWD */, (long)p, O_RDWR | O_NOCTTY | O_CLOEXEC, 0);
            if (slave < 0) throw new InvalidOperationException($"cannot open {path}: errno {-slave}");
            using (var c = ControlConnection.Connect(consoleSocket, out string problem))
            {
                if (c == null) { HostSyscall.Call(3, slave); throw new InvalidOperationException($"--console-socket: {problem}"); }
                // runc sends the terminal's name beside the master; engines read only the descriptor.
                if (!c.Send(path, [master])) { HostSyscall.Call(3, slave); throw new InvalidOperationException("--console-socket: the engine closed the connection"); }
            }
            return (int)slave;
        }
        finally { HostSyscall.Call(3 /* close */, master); }
    }
}
