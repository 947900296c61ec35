using System.Text;
using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs.Proc;

/// <summary>
/// /proc/&lt;pid&gt;/stat, statm and comm in Linux's formats (proc(5)): the one-line records ps,
/// top and pgrep parse. Values Sentry does not track (page faults, context switches, scheduling
/// policy) are 0, as Linux shows for a process that has none.
/// </summary>
public static class ProcStat
{
    /// <summary>USER_HZ: the unit of every time in these files.</summary>
    public const long TicksPerSecond = 100;

    internal static long Ticks(long ns) => ns / (1_000_000_000 / TicksPerSecond);

    /// <summary>State letter and name (status shows "R (running)"): stopped, the reader itself running, else asleep.</summary>
    internal static (char Letter, string Name) State(ProcScope s, Task reader)
    {
        if (s.Group.Stopped) return ('T', "stopped");
        bool running = s.IsThread ? reader == s.Task : reader.Group == s.Group;
        return running ? ('R', "running") : ('S', "sleeping");
    }

    public static int Comm(ProcScope s, Task reader, SeqBuffer o)
    {
        o.AppendLine(s.Task.Comm);
        return 0;
    }

    public static int Stat(ProcScope s, Task reader, SeqBuffer o)
    {
        var t = s.Task;
        var g = s.Group;
        var (ppid, pgrp, sid, threads, ttyNr, tpgid) = s.ReadTreeIds();
        var (user, sys) = CpuTimes(s);
        var (state, _) = State(s, reader);
        var mm = t.Mm;
        var usage = mm.Usage(t.ExePath);
        var layout = mm.Layout;
        var (startCode, endCode) = CodeRange(t);
        var sig = ProcStatus.Signals(t);
        ulong rsslim = t.Limits[Linux.RLIMIT_RSS].Cur;
        // PF_FORKNOEXEC until the process execs (ps's F column shows it as 1).
        const uint PF_FORKNOEXEC = 0x40, PF_RANDOMIZE = 0x400000;
        uint flags = PF_RANDOMIZE | (g.Execed ? 0 : PF_FORKNOEXEC);
        var sb = new StringBuilder(256);
        sb.Append(s.Pid).Append(" (").Append(t.Comm).Append(") ").Append(state)
          .Append(' ').Append(ppid).Append(' ').Append(pgrp).Append(' ').Append(sid)
          .Append(' ').Append(ttyNr).Append(' ').Append(tpgid).Append(' ') // tty_nr, tpgid
          .Append(flags).Append(" 0 0 0 0 ")                 // flags, minflt cminflt majflt cmajflt
          .Append(Ticks(user)).Append(' ').Append(Ticks(sys)).Append(' ')
          .Append(s.IsThread ? 0 : Ticks(g.ChildUserNs)).Append(' ').Append(s.IsThread ? 0 : Ticks(g.ChildSysNs))
          .Append(" 20 0 ").Append(threads).Append(" 0 ")    // priority, nice, num_threads, itrealvalue
          .Append(ProcessDir.StartTicks(t)).Append(' ')
          .Append(usage.VmSize).Append(' ').Append(usage.VmRss / Linux.PAGE_SIZE).Append(' ').Append(rsslim).Append(' ')
          .Append(startCode).Append(' ').Append(endCode).Append(' ').Append(layout.StartStack)
          .Append(" 0 0 ")                                   // kstkesp, kstkeip
          .Append(sig.Pending).Append(' ').Append(sig.Blocked).Append(' ').Append(sig.Ignored).Append(' ').Append(sig.Caught)
          .Append(" 0 0 0 ")                                 // wchan, nswap, cnswap
          .Append(s.IsThread && t.Tid != g.Tgid ? -1 : g.ExitSignal)
          .Append(" 0 0 0 0 0 0 ")                           // processor, rt_priority, policy, delayacct_blkio_ticks, guest_time, cguest_time
          .Append("0 0 ").Append(mm.BrkStart).Append(' ')   // start_data, end_data, start_brk
          .Append(layout.ArgStart).Append(' ').Append(layout.ArgEnd).Append(' ')
          .Append(layout.EnvStart).Append(' ').Append(layout.EnvEnd)
          .Append(" 0");                                     // exit_code
        o.AppendLine(sb.ToString());
        return 0;
    }

    /// <summary>size resident shared text lib data dt, in pages.</summary>
    public static int Statm(ProcScope s, Task reader, SeqBuffer o)
    {
        var u = s.Task.Mm.Usage(s.Task.ExePath);
        const ulong P = Linux.PAGE_SIZE;
        o.AppendLine($"{u.VmSize / P} {u.VmRss / P} {(u.RssFile + u.RssShmem) / P} {u.VmExe / P} 0 {(u.VmData + u.VmStk) / P} 0");
        return 0;
    }

    /// <summary>User and system CPU time in ns: the thread's, or the whole process's (live and exited threads).</summary>
    internal static (long User, long Sys) CpuTimes(ProcScope s)
    {
        if (s.IsThread) return (s.Task.UserNs, s.Task.SysNs);
        long user, sys;
        lock (s.Sandbox.TreeLock) { user = s.Group.DeadUserNs; sys = s.Group.DeadSysNs; }
        foreach (var t in s.Threads()) { user += t.UserNs; sys += t.SysNs; }
        return (user, sys);
    }

    /// <summary>Start and end of the executable's code (Linux's start_code/end_code): its executable mappings.</summary>
    static (ulong Start, ulong End) CodeRange(Task t)
    {
        ulong start = 0, end = 0;
        string exe = t.ExePath;
        t.Mm.VisitVmas(v =>
        {
            if ((v.Prot & Linux.PROT_EXEC) == 0 || v.File == null || v.File.MapName != exe) return;
            if (start == 0) start = v.Start;
            end = v.End;
        });
        return (start, end);
    }
}
