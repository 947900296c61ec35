using System.Diagnostics;
using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs.Proc;

/// <summary>
/// /proc/&lt;pid&gt; and /proc/&lt;pid&gt;/task/&lt;tid&gt;: built when looked up, from one table of
/// entries (in Linux's tgid_base_stuff order), each entry made only when it is looked up or listed.
/// Entries belong to the process's user, as on Linux (ps takes a process's user from its directory).
/// </summary>
public static class ProcessDir
{
    /// <summary>Writes a file of the directory for <paramref name="reader"/>; 0 or -errno.</summary>
    public delegate int Generator(ProcScope target, Task reader, SeqBuffer output);

    sealed record Entry(string Name, Func<ProcScope, ulong, string, VirtualNode> Make, bool ProcessOnly = false);

    static readonly Entry[] s_entries =
    [
        new("task", TaskDir, ProcessOnly: true),
        new("fd", ProcFds.FdDir),
        new("fdinfo", ProcFds.FdInfoDir),
        new("environ", File(ProcArgs.Environ, 0x100 /* 0400 */)),
        new("status", File(ProcStatus.Status)),
        new("limits", File(ProcLimits.Limits)),
        new("comm", File(ProcStat.Comm)),
        new("cmdline", File(ProcArgs.Cmdline)),
        new("stat", File(ProcStat.Stat)),
        new("statm", File(ProcStat.Statm)),
        new("maps", File(ProcMaps.Maps)),
        new("cwd", Link(s => s.Task.Fs.Cwd)),
        new("root", Link(_ => "/")),
        new("exe", Link(s => s.Task.ExePath)),
        new("mounts", File((_, r, o) => ProcMounts.Mounts(r, o))),
        new("mountinfo", File((_, r, o) => ProcMounts.MountInfo(r, o))),
        // Sentry does not name kernel functions a task sleeps in: "0", as Linux shows when it will not tell.
        new("wchan", File((_, _, o) => { o.Append("0"); return 0; })),
        // No OOM killer runs in the sandbox; the setting reads as its default.
        new("oom_score_adj", File((_, _, o) => { o.AppendLine("0"); return 0; })),
        // The sandbox's processes sit at the root of an empty cgroup v2 hierarchy.
        new("cgroup", File((_, _, o) => { o.AppendLine("0::/"); return 0; })),
    ];

    /// <summary>The directory called <paramref name="name"/> in the directory with inode <paramref name="parentIno"/>, describing <paramref name="scope"/>.</summary>
    public static VirtualNode Create(ProcScope scope, ulong parentIno, string name)
    {
        ulong ino = VirtualNode.InoOf(parentIno, name);
        return new VirtualNode(name, VirtualNode.NodeType.Dir, ino)
        {
            Dev = ProcFs.Dev, Uid = scope.Task.Uid, Gid = scope.Task.Gid, Time = StartTimeUnix(scope.Task),
            Lookup = (_, n) => Find(scope, ino, n),
            List = _ => All(scope, ino),
        };
    }

    static VirtualNode? Find(ProcScope scope, ulong dirIno, string name)
    {
        foreach (var e in s_entries)
            if (e.Name == name && !(e.ProcessOnly && scope.IsThread)) return e.Make(scope, VirtualNode.InoOf(dirIno, name), name);
        return null;
    }

    static IEnumerable<VirtualNode> All(ProcScope scope, ulong dirIno)
    {
        foreach (var e in s_entries)
            if (!(e.ProcessOnly && scope.IsThread)) yield return e.Make(scope, VirtualNode.InoOf(dirIno, e.Name), e.Name);
    }

    /// <summary>/proc/&lt;pid&gt;/task: one directory per thread of the process.</summary>
    static VirtualNode TaskDir(ProcScope scope, ulong ino, string name) =>
        new(name, VirtualNode.NodeType.Dir, ino)
        {
            Dev = ProcFs.Dev, Uid = scope.Task.Uid, Gid = scope.Task.Gid, Time = StartTimeUnix(scope.Task),
            Lookup = (_, n) =>
            {
                if (!ProcFs.TryParsePid(n, out int tid)) return null;
                var thread = scope.Threads().FirstOrDefault(x => x.Tid == tid);
                return thread == null ? null : Create(new ProcScope(thread, tid, IsThread: true), ino, n);
            },
            List = _ => scope.Threads().OrderBy(x => x.Tid).Select(x => Create(new ProcScope(x, x.Tid, IsThread: true), ino, x.Tid.ToString())),
        };

    /// <summary>A generated file of the directory; <paramref name="perm"/> as on Linux (0444 unless private).</summary>
    static Func<ProcScope, ulong, string, VirtualNode> File(Generator generate, int perm = 0x124) =>
        (scope, ino, name) => new VirtualNode(name, VirtualNode.NodeType.File, ino)
        {
            Dev = ProcFs.Dev, Uid = scope.Task.Uid, Gid = scope.Task.Gid, Time = StartTimeUnix(scope.Task), Perm = perm,
            Content = (reader, output) => scope.Alive ? generate(scope, reader, output) : -Errno.ESRCH,
            WriteError = -Errno.EINVAL,
        };

    static Func<ProcScope, ulong, string, VirtualNode> Link(Func<ProcScope, string> target) =>
        (scope, ino, name) => new VirtualNode(name, VirtualNode.NodeType.Symlink, ino)
        {
            Dev = ProcFs.Dev, Uid = scope.Task.Uid, Gid = scope.Task.Gid, Time = StartTimeUnix(scope.Task),
            Target = _ => target(scope),
        };

    /// <summary>When <paramref name="t"/> started, in seconds since the epoch (the sandbox's boot plus the task's age at its start).</summary>
    internal static long StartTimeUnix(Task t) =>
        t.Sandbox.BootTimeUnix + (long)Stopwatch.GetElapsedTime(t.Sandbox.BootTimestamp, t.StartTimestamp).TotalSeconds;

    /// <summary>Clock ticks (USER_HZ = 100) from the sandbox's boot to <paramref name="t"/>'s start: starttime in stat.</summary>
    internal static long StartTicks(Task t) =>
        (long)(Stopwatch.GetElapsedTime(t.Sandbox.BootTimestamp, t.StartTimestamp).TotalMilliseconds / 10);
}
