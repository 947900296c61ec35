using System.Text;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Sentry.Gofer.Tests;

/// <summary>Host calls the Gofer tests need beyond the 9P tests' <c>Native</c>.</summary>
public static unsafe class TestNative
{
    public const int O_PATH = 0x200000;
    public const int O_DIRECTORY = 0x10000;
    public const int O_NOFOLLOW = 0x20000;

    /// <summary>open(2) with O_CLOEXEC; throws on failure.</summary>
    public static int Open(string path, int flags, int mode = 0)
    {
        byte[] p = Encoding.UTF8.GetBytes(path + "\0");
        int fd;
        fixed (byte* pp = p) fd = open(pp, flags | O_CLOEXEC, (mode_t)mode);
        if (fd < 0) throw new InvalidOperationException($"open {path}: errno {errno}");
        return fd;
    }

    /// <summary>
    /// Number of open descriptors of this process (entries of /proc/self/fd, less the one listing
    /// them), not counting assemblies the runtime keeps open once it loaded them (.dll files).
    /// </summary>
    public static int OpenFdCount() => Directory.GetFiles("/proc/self/fd").Count(f =>
    {
        try { return new FileInfo(f).LinkTarget is string t && !t.EndsWith(".dll", StringComparison.Ordinal); }
        catch (IOException) { return false; } // the directory's own fd, gone by now
    });

    /// <summary>statfs(2) f_type of the file system holding <paramref name="path"/>.</summary>
    public static long StatFsType(string path)
    {
        int fd = Open(path, O_PATH);
        try
        {
            int rc = Sentry.Gofer.Host.Sys.Fstatfs(fd, out Sentry.Gofer.Abi.LinuxStatfs st);
            if (rc < 0) throw new InvalidOperationException($"statfs {path}: errno {-rc}");
            return st.f_type;
        }
        finally { close(fd); }
    }

    /// <summary>The content of a host fd from offset 0 (pread), at most <paramref name="max"/> bytes.</summary>
    public static byte[] PreadAll(int fd, int max = 1 << 24)
    {
        var buf = new byte[max];
        int total = 0;
        fixed (byte* b = buf)
        {
            while (total < max)
            {
                long n = pread(fd, b + total, (size_t)(max - total), total);
                if (n < 0 && errno == EINTR) continue;
                if (n < 0) throw new InvalidOperationException($"pread: errno {errno}");
                if (n == 0) break;
                total += (int)n;
            }
        }
        return buf[..total];
    }

    /// <summary>Sets SO_RCVTIMEO so a missing reply fails a test instead of hanging it.</summary>
    public static void SetReceiveTimeout(int fd, int milliseconds)
    {
        long* tv = stackalloc long[2] { milliseconds / 1000, milliseconds % 1000 * 1000 }; // struct timeval
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv, (socklen_t)16);
    }

    /// <summary>Gives the owner full access to everything under <paramref name="dir"/> so it can be deleted (tests chmod things).</summary>
    public static void MakeRemovable(string dir)
    {
        try
        {
            // Symlinks are skipped, not followed: tests make loops of them.
            var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = true };
            foreach (string d in Directory.EnumerateDirectories(dir, "*", options))
                File.SetUnixFileMode(d, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>SHA-256 of a host file's bytes, to show it did not change.</summary>
    public static string Hash(string path) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path)));
}
