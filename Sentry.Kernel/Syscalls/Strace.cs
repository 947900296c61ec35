using System.Text;
using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Syscalls;

/// <summary>
/// --strace: one line per syscall in strace's shape, <c>name(args) = result</c>. Arguments are
/// decoded from a small signature table (d = int, u = unsigned, x = hex, s = path string, f = dirfd,
/// o = open flags); calls without a signature show their first three arguments in hex.
/// </summary>
public static class Strace
{
    static readonly Dictionary<string, string> s_sigs = new()
    {
        ["read"] = "dxu", ["write"] = "dxu", ["open"] = "sox", ["close"] = "d", ["stat"] = "sx", ["fstat"] = "dx",
        ["lstat"] = "sx", ["lseek"] = "ddd", ["mmap"] = "xuxxdx", ["mprotect"] = "xux", ["munmap"] = "xu", ["brk"] = "x",
        ["rt_sigaction"] = "dxxu", ["rt_sigprocmask"] = "dxxu", ["ioctl"] = "dxx", ["pread64"] = "dxud", ["pwrite64"] = "dxud",
        ["readv"] = "dxd", ["writev"] = "dxd", ["access"] = "sd", ["dup"] = "d", ["dup2"] = "dd", ["getpid"] = "",
        ["exit"] = "d", ["uname"] = "x", ["fcntl"] = "ddx", ["getcwd"] = "xu", ["chdir"] = "s", ["readlink"] = "sxu",
        ["umask"] = "x", ["getuid"] = "", ["getgid"] = "", ["geteuid"] = "", ["getegid"] = "", ["getppid"] = "",
        ["arch_prctl"] = "xx", ["gettid"] = "", ["futex"] = "xdux", ["set_tid_address"] = "x", ["exit_group"] = "d",
        ["openat"] = "fsox", ["newfstatat"] = "fsxx", ["readlinkat"] = "fsxu", ["faccessat"] = "fsd", ["faccessat2"] = "fsdx",
        ["set_robust_list"] = "xu", ["dup3"] = "ddx", ["prlimit64"] = "ddxx", ["getrandom"] = "xux", ["statx"] = "fsxxx",
        ["getdents64"] = "dxu", ["clone"] = "xxxxx", ["execve"] = "sxx", ["wait4"] = "dxdx", ["kill"] = "dd", ["pipe2"] = "xd", ["poll"] = "xud", ["clock_gettime"] = "dx", ["rseq"] = "xuxx", ["madvise"] = "xud", ["mremap"] = "xuuxx",
        ["sched_getaffinity"] = "dux", ["getxattr"] = "ssxu", ["lgetxattr"] = "ssxu",
    };

    /// <summary>Like strace -f: lines of the first task carry no prefix, the others "[pid N] ".</summary>
    public static string Prefix(Task t) => t.Tid == 1 ? "" : $"[pid {t.Tid}] ";

    /// <summary>Formats "name(args" before the call runs (strings are read while they are still valid).</summary>
    public static string Enter(Task t, long nr, in SyscallArgs a)
    {
        string name = SyscallNames.Name(nr);
        var sb = new StringBuilder(name).Append('(');
        string sig = s_sigs.TryGetValue(name, out var s) ? s : "xxx";
        for (int i = 0; i < sig.Length; i++)
        {
            if (i > 0) sb.Append(", ");
            ulong v = a[i];
            switch (sig[i])
            {
                case 'd': sb.Append((int)v); break;
                case 'u': sb.Append(v); break;
                case 'f': sb.Append((int)v == Linux.AT_FDCWD ? "AT_FDCWD" : ((int)v).ToString()); break;
                case 'o': sb.Append(OpenFlags((int)v)); break;
                case 's': sb.Append(PathArg(t, v)); break;
                default: sb.Append(v == 0 ? "NULL" : $"0x{v:x}"); break;
            }
        }
        return sb.Append(')').ToString();
    }

    /// <summary>Completes the line with the result.</summary>
    public static string Exit(string entered, long nr, long result, bool exited)
    {
        if (exited) return entered + " = ?";
        if (result < 0 && result >= -4095) return $"{entered} = -1 {Errno.Name((int)-result)}";
        string name = SyscallNames.Name(nr);
        return name is "mmap" or "brk" or "mremap" ? $"{entered} = 0x{result:x}" : $"{entered} = {result}";
    }

    static string PathArg(Task t, ulong addr)
    {
        if (addr == 0) return "NULL";
        Span<byte> buf = stackalloc byte[256];
        int n = t.Mm.ReadCString(addr, buf);
        if (n == -Errno.ENAMETOOLONG) return "\"" + Encoding.UTF8.GetString(buf) + "\"...";
        if (n < 0) return $"0x{addr:x}";
        return "\"" + Encoding.UTF8.GetString(buf[..n]) + "\"";
    }

    static string OpenFlags(int f)
    {
        var parts = new List<string> { (f & Linux.O_ACCMODE) switch { Linux.O_WRONLY => "O_WRONLY", Linux.O_RDWR => "O_RDWR", _ => "O_RDONLY" } };
        (int, string)[] names = [(Linux.O_CREAT, "O_CREAT"), (Linux.O_EXCL, "O_EXCL"), (Linux.O_NOCTTY, "O_NOCTTY"), (Linux.O_TRUNC, "O_TRUNC"),
            (Linux.O_APPEND, "O_APPEND"), (Linux.O_NONBLOCK, "O_NONBLOCK"), (Linux.O_DIRECTORY, "O_DIRECTORY"), (Linux.O_NOFOLLOW, "O_NOFOLLOW"),
            (Linux.O_CLOEXEC, "O_CLOEXEC"), (Linux.O_PATH, "O_PATH")];
        foreach (var (bit, n) in names) if ((f & bit) == bit) parts.Add(n);
        return string.Join('|', parts);
    }
}
