using Sentry.Kernel.Abi;
using Sentry.Kernel.Memory;
using Sentry.Kernel.Vfs;
using Sentry.Platform;

namespace Sentry.Kernel.Tasks;

/// <summary>
/// One application thread: its registers, its platform context and the process state it points
/// at (address space, fd table, fs context). Run by one dedicated host thread.
/// </summary>
public sealed class Task
{
    public required Sandbox Sandbox { get; init; }
    public required MemoryManager Mm { get; set; }
    public FdTable Fds { get; set; } = new();
    public FsContext Fs { get; set; } = new();
    public SignalState Signals { get; } = new();
    public CpuState Cpu { get; } = new();
    public required IContext Context { get; init; }

    /// <summary>Thread id and thread-group id as the application sees them (its own PID namespace).</summary>
    public int Tid { get; init; } = 1;
    public int Pid { get; init; } = 1;
    /// <summary>The parent is outside the sandbox's PID namespace, so it reads as 0 (as for a container's init).</summary>
    public int Ppid { get; init; } = 0;
    public uint Uid { get; set; }
    public uint Gid { get; set; }

    /// <summary>Path of the running executable (the target of /proc/self/exe).</summary>
    public string ExePath { get; set; } = "";

    /// <summary>prctl state: thread name, parent-death signal, dumpable, no_new_privs, subreaper.</summary>
    public string Comm { get; set; } = "";
    public int ParentDeathSignal { get; set; }
    public bool Dumpable { get; set; } = true;
    public bool NoNewPrivs { get; set; }
    public bool ChildSubreaper { get; set; }

    public ulong ClearChildTid { get; set; }
    public ulong RobustList { get; set; }
    public ulong RobustListLen { get; set; }

    public readonly (ulong Cur, ulong Max)[] Limits = DefaultLimits();

    /// <summary>Set by exit/exit_group or a fatal signal; the run loop stops.</summary>
    public bool Exited { get; private set; }
    /// <summary>Wait status: exit code &lt;&lt; 8, or the terminating signal.</summary>
    public int WaitStatus { get; private set; }

    /// <summary>Scratch buffer for copying between files and application memory (no allocation per call).</summary>
    public readonly byte[] Bounce = new byte[64 * 1024];

    public void Exit(int code) { Exited = true; WaitStatus = (code & 0xff) << 8; }
    public void Kill(int signal) { Exited = true; WaitStatus = signal & 0x7f; }

    /// <summary>The exit status a shell would report: code, or 128+signal.</summary>
    public int ShellStatus => (WaitStatus & 0x7f) != 0 ? 128 + (WaitStatus & 0x7f) : (WaitStatus >> 8) & 0xff;

    static (ulong, ulong)[] DefaultLimits()
    {
        var l = new (ulong, ulong)[Linux.RLIMIT_NLIMITS];
        for (int i = 0; i < l.Length; i++) l[i] = (Linux.RLIM_INFINITY, Linux.RLIM_INFINITY);
        l[Linux.RLIMIT_STACK] = (8UL << 20, Linux.RLIM_INFINITY);
        l[Linux.RLIMIT_NOFILE] = (1024, 4096);
        l[Linux.RLIMIT_CORE] = (0, Linux.RLIM_INFINITY);
        l[Linux.RLIMIT_NPROC] = (4096, 4096);
        l[Linux.RLIMIT_MEMLOCK] = (8UL << 20, 8UL << 20);
        l[11] = (63304, 63304);   // RLIMIT_SIGPENDING
        l[12] = (819200, 819200); // RLIMIT_MSGQUEUE
        l[13] = (0, 0);           // RLIMIT_NICE
        l[14] = (0, 0);           // RLIMIT_RTPRIO
        return l;
    }
}
