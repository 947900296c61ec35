using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs.Proc;

/// <summary>
/// The sandbox's /proc: the machine-wide files (meminfo, stat, uptime, ...), /proc/sys, the
/// self and thread-self links, and one directory per live process of the sandbox's PID namespace,
/// computed when looked up. Nothing here reads the host's processes: every pid, count and time is
/// the sandbox's own.
/// </summary>
public static class ProcFs
{
    /// <summary>st_dev of procfs nodes (an anonymous device, 0:20, as procfs has on Linux).</summary>
    public static readonly ulong Dev = LinuxStatx.MakeDev(0, 20);

    /// <summary>Time stamp of the fixed nodes: when Sentry started.</summary>
    static readonly long s_created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    public static VirtualNode Build()
    {
        VirtualNode root = null!;
        root = new VirtualNode("proc", VirtualNode.NodeType.Dir)
        {
            Dev = Dev, Time = s_created,
            Lookup = (t, name) => LookupPid(root, t, name),
            List = t => ListPids(root, t),
        };
        root.Add(Link("self", t => t.Pid.ToString()))
            .Add(Link("thread-self", t => $"{t.Pid}/task/{t.Tid}"))
            .Add(Link("mounts", _ => "self/mounts"))
            .Add(File("cpuinfo", ProcMachine.CpuInfo, -Errno.EIO))
            .Add(File("filesystems", ProcMachine.FileSystems, -Errno.EIO))
            .Add(File("loadavg", ProcMachine.LoadAvg, -Errno.EIO))
            .Add(File("meminfo", ProcMachine.MemInfo, -Errno.EIO))
            .Add(File("stat", ProcMachine.Stat, -Errno.EIO))
            .Add(File("swaps", ProcMachine.Swaps, -Errno.EIO))
            .Add(File("uptime", ProcMachine.Uptime, -Errno.EIO))
            .Add(File("version", ProcMachine.Version, -Errno.EIO))
            .Add(ProcSysctl.Build())
            .Add(ProcNet.Build());
        return root;
    }

    /// <summary>A fixed directory of procfs.</summary>
    internal static VirtualNode Dir(string name) => new(name, VirtualNode.NodeType.Dir) { Dev = Dev, Time = s_created };

    /// <summary>
    /// A fixed generated file of procfs; <paramref name="writeError"/> as <see cref="VirtualNode.WriteError"/>
    /// (EIO for the files at /proc's top, which have no write method; 0 for /proc/sys, whose read-only files refuse even root).
    /// </summary>
    internal static VirtualNode File(string name, ContentGenerator content, int writeError = 0) =>
        new(name, VirtualNode.NodeType.File) { Dev = Dev, Time = s_created, Content = content, WriteError = writeError };

    /// <summary>A fixed generated file holding one line of text.</summary>
    internal static VirtualNode Value(string name, string line) => File(name, (_, o) => { o.AppendLine(line); return 0; });

    /// <summary>A fixed symlink of procfs whose target depends on the task asking.</summary>
    internal static VirtualNode Link(string name, Func<Task, string> target) =>
        new(name, VirtualNode.NodeType.Symlink) { Dev = Dev, Time = s_created, Target = target };

    /// <summary>
    /// /proc/&lt;n&gt;: a process (its main thread) when n is a tgid, or, as on Linux, a thread of
    /// some process when n is a tid (reachable by name, not listed).
    /// </summary>
    static VirtualNode? LookupPid(VirtualNode root, Task t, string name)
    {
        if (!TryParsePid(name, out int pid)) return null;
        var sandbox = t.Sandbox;
        Task? bound;
        lock (sandbox.TreeLock)
        {
            bound = sandbox.FindTask(pid);
            if (bound == null || bound.Group.Zombie)
            {
                // The main thread has exited but the process lives on in its other threads.
                var g = sandbox.FindGroup(pid);
                bound = g?.Threads.FirstOrDefault();
            }
        }
        return bound == null ? null : ProcessDir.Create(new ProcScope(bound, pid, IsThread: false), root.Ino, name);
    }

    static IEnumerable<VirtualNode> ListPids(VirtualNode root, Task t)
    {
        var sandbox = t.Sandbox;
        var found = new List<(int Tgid, Task Main)>();
        lock (sandbox.TreeLock)
        {
            foreach (var g in sandbox.LiveGroupsUnlocked())
            {
                var main = g.Threads.FirstOrDefault(x => x.Tid == g.Tgid) ?? g.Threads.FirstOrDefault();
                if (main != null) found.Add((g.Tgid, main));
            }
        }
        found.Sort((a, b) => a.Tgid.CompareTo(b.Tgid));
        foreach (var (tgid, main) in found)
            yield return ProcessDir.Create(new ProcScope(main, tgid, IsThread: false), root.Ino, tgid.ToString());
    }

    /// <summary>An fd number as procfs accepts it: like a pid, and 0.</summary>
    internal static bool TryParsePidOrZero(string name, out int n)
    {
        n = 0;
        return name == "0" || TryParsePid(name, out n);
    }

    /// <summary>A pid as procfs accepts it: decimal digits without a leading zero, fitting an int.</summary>
    internal static bool TryParsePid(string name, out int pid)
    {
        pid = 0;
        if (name.Length == 0 || name.Length > 10 || name[0] == '0') return false;
        long v = 0;
        foreach (char c in name)
        {
            if (c < '0' || c > '9') return false;
            v = v * 10 + (c - '0');
        }
        if (v > int.MaxValue) return false;
        pid = (int)v;
        return true;
    }
}
