using System.Globalization;
using System.Text;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs.Proc;

/// <summary>
/// The machine-wide files of /proc as the sandbox sees its machine: uptime and boot time are the
/// sandbox's, process counts and CPU times are its processes', memory in use is what its processes
/// hold in Sentry's memory file. The CPU description, total memory and load come from the host, the
/// same values cpuid, sysinfo(2) and uname(2) give inside.
/// </summary>
public static class ProcMachine
{
    static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>The host's /proc/cpuinfo, read once and cut to the CPUs the sandbox is offered.</summary>
    static readonly Lazy<string> s_cpuInfo = new(() =>
    {
        int cpus = Environment.ProcessorCount;
        var host = HostInfo.ReadFile("/proc/cpuinfo");
        if (host == null)
        {
            var sb = new StringBuilder();
            for (int i = 0; i < cpus; i++) sb.Append("processor\t: ").Append(i).Append('\n').Append("vendor_id\t: unknown\n\n");
            return sb.ToString();
        }
        // One block per processor, separated by blank lines.
        var blocks = host.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        return string.Concat(blocks.Take(cpus).Select(b => b.TrimEnd('\n') + "\n\n"));
    });

    public static int CpuInfo(Task reader, SeqBuffer o)
    {
        o.Append(s_cpuInfo.Value);
        return 0;
    }

    /// <summary>The file system types Sentry implements.</summary>
    public static int FileSystems(Task reader, SeqBuffer o)
    {
        o.Append("nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\nnodev\tpipefs\nnodev\tanon_inodefs\nnodev\t9p\n");
        return 0;
    }

    public static int LoadAvg(Task reader, SeqBuffer o)
    {
        var si = HostInfo.Sys();
        var s = reader.Sandbox;
        // Loads are sysinfo(2)'s (fixed point, 16 fraction bits), as the sandbox's sysinfo reports them.
        o.AppendLine(string.Format(C, "{0:F2} {1:F2} {2:F2} {3}/{4} {5}",
            si.load1 / 65536.0, si.load5 / 65536.0, si.load15 / 65536.0, 1, s.TaskCount, s.LastPid));
        return 0;
    }

    public static int MemInfo(Task reader, SeqBuffer o)
    {
        var si = HostInfo.Sys();
        ulong total = si.totalram * si.mem_unit / 1024;
        ulong used = (ulong)Math.Max(0, reader.Sandbox.Platform.Memory.AllocatedBytes) / 1024;
        ulong free = total > used ? total - used : 0;
        // The sandbox has no page cache or buffers of its own and no swap.
        var sb = new StringBuilder();
        void Line(string name, ulong kb) => sb.Append((name + ":").PadRight(16)).Append(kb.ToString(C).PadLeft(8)).Append(" kB\n");
        Line("MemTotal", total); Line("MemFree", free); Line("MemAvailable", free);
        Line("Buffers", 0); Line("Cached", 0); Line("SwapCached", 0);
        Line("SwapTotal", 0); Line("SwapFree", 0);
        o.Append(sb.ToString());
        return 0;
    }

    /// <summary>Kernel/system statistics: CPU time of the sandbox's processes spread over its CPUs, idle the rest.</summary>
    public static int Stat(Task reader, SeqBuffer o)
    {
        var s = reader.Sandbox;
        int cpus = Environment.ProcessorCount;
        var (user, sys) = SandboxCpuTicks(s);
        long elapsed = (long)(s.Uptime.TotalMilliseconds / 10);
        long idle = Math.Max(0, elapsed * cpus - user - sys);
        var sb = new StringBuilder();
        void Cpu(string name, long u, long sy, long id) =>
            sb.Append(name).Append(' ').Append(u).Append(" 0 ").Append(sy).Append(' ').Append(id).Append(" 0 0 0 0 0 0\n");
        Cpu("cpu ", user, sys, idle);
        for (int i = 0; i < cpus; i++) Cpu("cpu" + i, user / cpus, sys / cpus, idle / cpus);
        sb.Append("intr 0\nctxt 0\n")
          .Append("btime ").Append(s.BootTimeUnix).Append('\n')
          .Append("processes ").Append(s.LastPid).Append('\n')
          .Append("procs_running 1\nprocs_blocked 0\n")
          .Append("softirq 0 0 0 0 0 0 0 0 0 0 0\n");
        o.Append(sb.ToString());
        return 0;
    }

    public static int Swaps(Task reader, SeqBuffer o)
    {
        o.Append("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
        return 0;
    }

    /// <summary>Seconds since the sandbox started, and the idle time of its CPUs.</summary>
    public static int Uptime(Task reader, SeqBuffer o)
    {
        var s = reader.Sandbox;
        double up = s.Uptime.TotalSeconds;
        var (user, sys) = SandboxCpuTicks(s);
        double idle = Math.Max(0, up * Environment.ProcessorCount - (user + sys) / (double)ProcStat.TicksPerSecond);
        o.AppendLine(string.Format(C, "{0:F2} {1:F2}", up, idle));
        return 0;
    }

    public static int Version(Task reader, SeqBuffer o)
    {
        var u = HostInfo.Uname();
        o.AppendLine($"Linux version {u.Release} (sentry@sentry) (sentry) {u.Version}");
        return 0;
    }

    /// <summary>CPU ticks used by the sandbox's processes: the live ones (with exited threads) and the children they reaped.</summary>
    static (long User, long Sys) SandboxCpuTicks(Sandbox s)
    {
        long user = 0, sys = 0;
        List<(ThreadGroup Group, Task[] Threads)> groups;
        lock (s.TreeLock)
        {
            groups = s.LiveGroupsUnlocked().Select(g => (g, g.Threads.ToArray())).ToList();
            foreach (var (g, _) in groups) { user += g.DeadUserNs + g.ChildUserNs; sys += g.DeadSysNs + g.ChildSysNs; }
        }
        foreach (var (_, threads) in groups)
            foreach (var t in threads) { user += t.UserNs; sys += t.SysNs; }
        return (ProcStat.Ticks(user), ProcStat.Ticks(sys));
    }
}
