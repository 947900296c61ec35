using System.Diagnostics;

namespace Sentry.Compare;

/// <summary>
/// Peak memory of a command with every process it starts: the sum, over the whole process tree,
/// of each process's peak resident set (VmHWM). The tree is walked through
/// /proc/PID/task/TID/children about every millisecond while the command runs, so a process that
/// lives shorter than that may be missed. Pages mapped by several processes count in each (the
/// memory file that sentry and its stubs share, runsc's sandbox and gofer binaries), so this is
/// an upper bound of what the host spends. A memory cgroup would count shared pages once, but
/// runsc moves its sandbox out of the caller's cgroup, so it could not compare the two.
/// The command runs under GNU time (/usr/bin/time, Debian package time), whose wait4 rusage gives
/// the exact peak of the largest process even when it ended before the first sample; the result
/// is the larger of that and the sampled sum. time itself is not counted. A process counts with
/// the program it ends up running: a child started with posix_spawn (vfork, then exec) shares its
/// parent's memory until exec and shows the parent's VmHWM, so its peak starts again whenever the
/// executable behind /proc/PID/exe changes.
/// </summary>
public static class PeakMemory
{
    /// <summary>Runs <paramref name="argv"/> and returns the summed peak in bytes, or -1 when it failed.</summary>
    public static long Measure(string[] argv, TimeSpan timeout)
    {
        string maxRssFile = Path.GetTempFileName();
        try { return Measure(argv, timeout, maxRssFile); }
        finally { File.Delete(maxRssFile); }
    }

    const string GnuTime = "/usr/bin/time";

    static long Measure(string[] argv, TimeSpan timeout, string maxRssFile)
    {
        bool timed = File.Exists(GnuTime);
        if (timed) argv = [GnuTime, "-f", "%M", "-o", maxRssFile, .. argv];
        using var p = CommandRun.Start(argv, out var drainOut, out var drainErr);
        var peaks = new Dictionary<int, (string Exe, long Peak)>();
        var deadline = Stopwatch.StartNew();
        while (!p.HasExited)
        {
            Sample(p.Id, peaks);
            if (deadline.Elapsed > timeout) { p.Kill(entireProcessTree: true); p.WaitForExit(); return -1; }
            Thread.Sleep(1);
        }
        p.WaitForExit();
        Task.WaitAll(drainOut, drainErr);
        if (p.ExitCode != 0) return -1;
        if (!timed) return peaks.Values.Sum(v => v.Peak);
        peaks.Remove(p.Id);
        long largest = long.TryParse(File.ReadAllText(maxRssFile).Trim(), out long kib) ? kib * 1024 : 0;
        return Math.Max(largest, peaks.Values.Sum(v => v.Peak));
    }

    static void Sample(int root, Dictionary<int, (string Exe, long Peak)> peaks)
    {
        var todo = new Stack<int>();
        todo.Push(root);
        while (todo.Count > 0)
        {
            int pid = todo.Pop();
            long hwm = VmHwmBytes(pid);
            if (hwm < 0) continue;
            foreach (var child in Children(pid)) todo.Push(child);
            if (hwm == 0) continue; // a zombie: its peak was taken while it ran
            // A new program (exec) starts a new peak: what was there before was its parent's
            // memory. An executable that cannot be read (a process exiting, or one that made
            // itself non-dumpable) is taken for the one seen before.
            string exe = Executable(pid);
            var (knownExe, peak) = peaks.GetValueOrDefault(pid, (exe, 0));
            bool exec = exe != "" && knownExe != "" && exe != knownExe;
            peaks[pid] = (exe == "" ? knownExe : exe, exec ? hwm : Math.Max(peak, hwm));
        }
    }

    static string Executable(int pid)
    {
        try { return new FileInfo($"/proc/{pid}/exe").LinkTarget ?? ""; }
        catch (IOException) { return ""; }
        catch (UnauthorizedAccessException) { return ""; }
    }

    static long VmHwmBytes(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith("VmHWM:"))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
            return 0; // a zombie has no memory left
        }
        catch (IOException) { return -1; }
        catch (UnauthorizedAccessException) { return -1; }
    }

    static IEnumerable<int> Children(int pid)
    {
        string[] tasks;
        try { tasks = Directory.GetDirectories($"/proc/{pid}/task"); }
        catch (IOException) { yield break; }
        foreach (var t in tasks)
        {
            string text;
            try { text = File.ReadAllText(Path.Combine(t, "children")); }
            catch (IOException) { continue; }
            foreach (var c in text.Split(' ', StringSplitOptions.RemoveEmptyEntries)) yield return int.Parse(c);
        }
    }
}
