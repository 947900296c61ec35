using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs.Proc;

/// <summary>/proc/&lt;pid&gt;/limits: the process's resource limits in Linux's table (proc_pid_limits).</summary>
public static class ProcLimits
{
    static readonly (string Name, string Unit)[] s_rows =
    [
        ("Max cpu time", "seconds"), ("Max file size", "bytes"), ("Max data size", "bytes"),
        ("Max stack size", "bytes"), ("Max core file size", "bytes"), ("Max resident set", "bytes"),
        ("Max processes", "processes"), ("Max open files", "files"), ("Max locked memory", "bytes"),
        ("Max address space", "bytes"), ("Max file locks", "locks"), ("Max pending signals", "signals"),
        ("Max msgqueue size", "bytes"), ("Max nice priority", ""), ("Max realtime priority", ""),
        ("Max realtime timeout", "us"),
    ];

    public static int Limits(ProcScope s, Task reader, SeqBuffer o)
    {
        var limits = s.Task.Limits;
        o.AppendLine($"{"Limit",-25} {"Soft Limit",-20} {"Hard Limit",-20} {"Units",-10}");
        for (int i = 0; i < s_rows.Length && i < limits.Length; i++)
        {
            var (name, unit) = s_rows[i];
            var (cur, max) = limits[i];
            string line = $"{name,-25} {Value(cur),-20} {Value(max),-20} ";
            o.AppendLine(unit.Length > 0 ? line + $"{unit,-10}" : line);
        }
        return 0;
    }

    static string Value(ulong v) => v == Linux.RLIM_INFINITY ? "unlimited" : v.ToString();
}
