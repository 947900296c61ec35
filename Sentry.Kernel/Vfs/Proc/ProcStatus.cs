using System.Numerics;
using System.Text;
using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs.Proc;

/// <summary>
/// /proc/&lt;pid&gt;/status: "Name:\tvalue" lines in the order Linux prints them. Lines for what
/// Sentry does not track (peak sizes, context switches, NUMA) are left out rather than invented;
/// every line printed exists with the same name on Linux.
/// </summary>
public static class ProcStatus
{
    /// <summary>Capabilities 0..CAP_LAST_CAP (40): root has them all inside the sandbox, others none.</summary>
    const ulong AllCaps = (1UL << 41) - 1;

    public static int Status(ProcScope s, Task reader, SeqBuffer o)
    {
        var t = s.Task;
        var g = s.Group;
        var (ppid, pgrp, sid, threads, _, _) = s.ReadTreeIds();
        var (_, stateName) = ProcStat.State(s, reader);
        var u = t.Mm.Usage(t.ExePath);
        var sig = Signals(t);
        ulong caps = t.Uid == 0 ? AllCaps : 0;
        int cpus = Environment.ProcessorCount;
        var sb = new StringBuilder(1024);
        sb.Append("Name:\t").Append(Escape(t.Comm)).Append('\n')
          .Append("Umask:\t").Append(Convert.ToString(t.Fs.Umask, 8).PadLeft(4, '0')).Append('\n')
          .Append("State:\t").Append(ProcStat.State(s, reader).Letter).Append(" (").Append(stateName).Append(")\n")
          .Append("Tgid:\t").Append(g.Tgid).Append('\n')
          .Append("Ngid:\t0\n")
          .Append("Pid:\t").Append(t.Tid).Append('\n')
          .Append("PPid:\t").Append(ppid).Append('\n')
          .Append("TracerPid:\t0\n")
          .Append("Uid:\t").Append(t.Uid).Append('\t').Append(t.Uid).Append('\t').Append(t.Uid).Append('\t').Append(t.Uid).Append('\n')
          .Append("Gid:\t").Append(t.Gid).Append('\t').Append(t.Gid).Append('\t').Append(t.Gid).Append('\t').Append(t.Gid).Append('\n')
          .Append("FDSize:\t").Append(t.Fds.Capacity).Append('\n')
          .Append("Groups:\t\n")
          .Append("NStgid:\t").Append(g.Tgid).Append('\n')
          .Append("NSpid:\t").Append(t.Tid).Append('\n')
          .Append("NSpgid:\t").Append(pgrp).Append('\n')
          .Append("NSsid:\t").Append(sid).Append('\n');
        if (u.VmSize > 0)
        {
            // Linux prints the memory lines only for a process with an address space.
            Kb(sb, "VmSize", u.VmSize); Kb(sb, "VmLck", t.Mm.LockedBytes); Kb(sb, "VmPin", 0);
            Kb(sb, "VmRSS", u.VmRss); Kb(sb, "RssAnon", u.RssAnon); Kb(sb, "RssFile", u.RssFile); Kb(sb, "RssShmem", u.RssShmem);
            Kb(sb, "VmData", u.VmData); Kb(sb, "VmStk", u.VmStk); Kb(sb, "VmExe", u.VmExe); Kb(sb, "VmLib", u.VmLib);
            Kb(sb, "VmSwap", 0);
        }
        sb.Append("Threads:\t").Append(threads).Append('\n')
          .Append("SigQ:\t").Append(BitOperations.PopCount(sig.Pending)).Append('/').Append(t.Limits[11 /* RLIMIT_SIGPENDING */].Cur).Append('\n');
        Hex(sb, "SigPnd", sig.Pending); Hex(sb, "ShdPnd", 0); Hex(sb, "SigBlk", sig.Blocked);
        Hex(sb, "SigIgn", sig.Ignored); Hex(sb, "SigCgt", sig.Caught);
        Hex(sb, "CapInh", 0); Hex(sb, "CapPrm", caps); Hex(sb, "CapEff", caps); Hex(sb, "CapBnd", AllCaps); Hex(sb, "CapAmb", 0);
        sb.Append("NoNewPrivs:\t").Append(t.NoNewPrivs ? 1 : 0).Append('\n')
          .Append("Seccomp:\t0\n")
          .Append("Cpus_allowed:\t").Append(CpuMask(cpus)).Append('\n')
          .Append("Cpus_allowed_list:\t").Append(cpus > 1 ? $"0-{cpus - 1}" : "0").Append('\n')
          .Append("Mems_allowed_list:\t0\n");
        o.Append(sb.ToString());
        return 0;
    }

    /// <summary>The signal sets of stat and status: pending, blocked, ignored and caught (a handler installed).</summary>
    internal static (ulong Pending, ulong Blocked, ulong Ignored, ulong Caught) Signals(Task t)
    {
        ulong ignored = 0, caught = 0;
        var actions = t.Signals.Actions;
        for (int sig = 1; sig <= Linux._NSIG && sig < actions.Length; sig++)
        {
            ulong h = actions[sig].Handler;
            if (h == SignalState.SIG_IGN) ignored |= SignalState.Bit(sig);
            else if (h != SignalState.SIG_DFL) caught |= SignalState.Bit(sig);
        }
        return (t.Signals.PendingSet, t.Signals.Mask, ignored, caught);
    }

    static void Kb(StringBuilder sb, string name, ulong bytes) =>
        sb.Append(name).Append(":\t").Append((bytes / 1024).ToString().PadLeft(8)).Append(" kB\n");

    static void Hex(StringBuilder sb, string name, ulong v) => sb.Append(name).Append(":\t").Append(v.ToString("x16")).Append('\n');

    /// <summary>A cpumask as Linux prints it: hex words of 32 bits, most significant first, comma separated.</summary>
    static string CpuMask(int cpus)
    {
        var words = new List<string>();
        for (int w = (cpus - 1) / 32; w >= 0; w--)
        {
            int bits = Math.Min(32, cpus - w * 32);
            uint mask = bits == 32 ? uint.MaxValue : (1u << bits) - 1;
            words.Add(words.Count == 0 ? mask.ToString("x") : mask.ToString("x8"));
        }
        return string.Join(',', words);
    }

    /// <summary>Name as Linux escapes it in status: backslash and newline.</summary>
    static string Escape(string comm) => comm.Replace("\\", "\\\\").Replace("\n", "\\n");
}
