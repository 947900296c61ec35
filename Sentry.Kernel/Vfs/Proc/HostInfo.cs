using System.Runtime.InteropServices;
using System.Text;
using Sentry.Platform;

namespace Sentry.Kernel.Vfs.Proc;

/// <summary>
/// What procfs takes from the host machine, through the same host calls the rest of the kernel
/// already makes: the kernel identity uname(2) reports inside (osrelease, version, hostname), the
/// memory sizes and load sysinfo(2) reports inside, and the CPU description.
/// </summary>
internal static unsafe class HostInfo
{
    public static readonly IReadOnlyList<string> HostSyscalls = ["uname", "sysinfo", "openat", "read", "close", "newfstatat"];

    public readonly record struct Utsname(string Sysname, string Nodename, string Release, string Version, string Machine);

    /// <summary>struct sysinfo (x86-64): the fields procfs uses.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 112)]
    public struct SysInfo
    {
        public long uptime;
        public ulong load1, load5, load15;
        public ulong totalram, freeram, sharedram, bufferram, totalswap, freeswap;
        public ushort procs;
        ushort _pad0; uint _pad1;
        public ulong totalhigh, freehigh;
        public uint mem_unit;
    }

    public static Utsname Uname()
    {
        byte* buf = stackalloc byte[390];
        new Span<byte>(buf, 390).Clear();
        HostSyscall.Call(63 /* uname */, (long)buf);
        string Field(int i)
        {
            var f = new ReadOnlySpan<byte>(buf + i * 65, 65);
            int n = f.IndexOf((byte)0);
            return Encoding.UTF8.GetString(n < 0 ? f : f[..n]);
        }
        return new Utsname(Field(0), Field(1), Field(2), Field(3), Field(4));
    }

    public static SysInfo Sys()
    {
        SysInfo si;
        if (HostSyscall.Call(99 /* sysinfo */, (long)&si) < 0) si = default;
        if (si.mem_unit == 0) si.mem_unit = 1;
        return si;
    }

    /// <summary>st_dev of the host root, which stat of "/" reports inside the sandbox (0 when unknown); read once.</summary>
    public static ulong RootDev => s_rootDev.Value;

    static readonly Lazy<ulong> s_rootDev = new(() =>
    {
        Abi.LinuxStat st;
        long r;
        fixed (byte* p = "/\0"u8) r = HostSyscall.Call(262 /* newfstatat */, -100 /* AT_FDCWD */, (long)p, (long)&st, 0);
        return r < 0 ? 0 : st.st_dev;
    });

    /// <summary>The contents of a small host file (at most 1 MiB), or null when it cannot be read.</summary>
    public static string? ReadFile(string path)
    {
        long fd;
        fixed (byte* p = Encoding.UTF8.GetBytes(path + "\0")) fd = HostSyscall.CallRestarting(257 /* openat */, -100, (long)p, 0x80000 /* O_RDONLY|O_CLOEXEC */, 0);
        if (fd < 0) return null;
        try
        {
            var buf = new byte[1 << 20];
            int len = 0;
            while (len < buf.Length)
            {
                long r;
                fixed (byte* b = buf) r = HostSyscall.CallRestarting(0 /* read */, fd, (long)(b + len), buf.Length - len);
                if (r <= 0) break;
                len += (int)r;
            }
            return Encoding.UTF8.GetString(buf, 0, len);
        }
        finally { HostSyscall.Call(3 /* close */, fd); }
    }
}
