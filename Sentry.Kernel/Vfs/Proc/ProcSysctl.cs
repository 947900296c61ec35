namespace Sentry.Kernel.Vfs.Proc;

/// <summary>
/// /proc/sys: the kernel parameters programs commonly read, with the values Sentry's ABI has
/// (pid_max is the sandbox's pid space, cap_last_cap what PR_CAPBSET_READ accepts). Read-only:
/// the sandbox cannot retune its kernel.
/// </summary>
public static class ProcSysctl
{
    public static VirtualNode Build()
    {
        var random = ProcFs.Dir("random")
            .Add(ProcFs.File("boot_id", (t, o) => { o.AppendLine(t.Sandbox.BootId.ToString()); return 0; }))
            .Add(ProcFs.Value("entropy_avail", "256"))
            .Add(ProcFs.Value("poolsize", "256"))
            // A fresh UUID on every open, as Linux generates one per read.
            .Add(ProcFs.File("uuid", (_, o) => { o.AppendLine(Guid.NewGuid().ToString()); return 0; }));
        var kernel = ProcFs.Dir("kernel")
            .Add(ProcFs.Value("cap_last_cap", "40"))
            .Add(ProcFs.Value("domainname", "(none)"))
            .Add(ProcFs.File("hostname", (_, o) => { o.AppendLine(HostInfo.Uname().Nodename); return 0; }))
            .Add(ProcFs.Value("ngroups_max", "65536"))
            .Add(ProcFs.File("osrelease", (_, o) => { o.AppendLine(HostInfo.Uname().Release); return 0; }))
            .Add(ProcFs.Value("ostype", "Linux"))
            .Add(ProcFs.Value("overflowgid", "65534"))
            .Add(ProcFs.Value("overflowuid", "65534"))
            .Add(ProcFs.Value("pid_max", (1 << 22).ToString()))
            .Add(random)
            .Add(ProcFs.Value("threads-max", Sandbox.MaxTasks.ToString()))
            .Add(ProcFs.File("version", (_, o) => { o.AppendLine(HostInfo.Uname().Version); return 0; }));
        var vm = ProcFs.Dir("vm")
            .Add(ProcFs.Value("max_map_count", "65530"))
            .Add(ProcFs.Value("overcommit_memory", "0"));
        var fs = ProcFs.Dir("fs")
            .Add(ProcFs.Value("file-max", long.MaxValue.ToString()))
            .Add(ProcFs.Value("nr_open", "1048576"))
            .Add(ProcFs.Value("pipe-max-size", "1048576"));
        var net = ProcFs.Dir("net").Add(ProcFs.Dir("core").Add(ProcFs.Value("somaxconn", "4096")));
        return ProcFs.Dir("sys").Add(fs).Add(kernel).Add(net).Add(vm);
    }
}
