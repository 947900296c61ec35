using Sentry.Kernel.Abi;

namespace Sentry.Kernel.Vfs.Proc;

/// <summary>
/// A minimal /sys: what common programs probe. glibc's get_nprocs and nproc, Python, Java and Go
/// read /sys/devices/system/cpu (online, possible, the cpuN directories); container-aware runtimes
/// look at /sys/fs/cgroup, which is empty (no limits set inside).
/// </summary>
public static class SysFs
{
    /// <summary>st_dev of sysfs nodes (an anonymous device, 0:21, as sysfs has on Linux).</summary>
    public static readonly ulong Dev = LinuxStatx.MakeDev(0, 21);

    public static VirtualNode Build()
    {
        int cpus = Environment.ProcessorCount;
        string range = cpus > 1 ? $"0-{cpus - 1}" : "0";
        var cpu = Dir("cpu")
            .Add(Value("online", range))
            .Add(Value("possible", range))
            .Add(Value("present", range))
            .Add(Value("kernel_max", "8191"));
        for (int i = 0; i < cpus; i++) cpu.Add(Dir($"cpu{i}"));
        var devices = Dir("devices").Add(Dir("system").Add(cpu));
        var fs = Dir("fs").Add(Dir("cgroup"));
        return Dir("sys").Add(Dir("block")).Add(Dir("bus")).Add(Dir("class")).Add(Dir("dev")).Add(devices).Add(fs).Add(Dir("kernel"));
    }

    static VirtualNode Dir(string name) => new(name, VirtualNode.NodeType.Dir) { Dev = Dev };

    static VirtualNode Value(string name, string line) =>
        new(name, VirtualNode.NodeType.File) { Dev = Dev, Content = (_, o) => { o.AppendLine(line); return 0; } };
}
