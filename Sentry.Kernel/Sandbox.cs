using System.Runtime.ExceptionServices;
using Sentry.Kernel.Abi;
using Sentry.Kernel.Loader;
using Sentry.Kernel.Memory;
using Sentry.Kernel.Signals;
using Sentry.Kernel.Syscalls;
using Sentry.Kernel.Tasks;
using Sentry.Kernel.Vfs;
using Sentry.Platform;

namespace Sentry.Kernel;

/// <summary>The program could not be started: the message is for the user, the code is the exit status (127, 126, 1).</summary>
public sealed class SandboxStartException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>
/// One sandbox: a kernel instance on a platform running one application. The embedding API:
/// <see cref="Run"/> starts the program and returns its exit status.
/// </summary>
public sealed partial class Sandbox
{
    const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    readonly HashSet<string> _reported = new();

    public IPlatform Platform { get; }
    public SandboxOptions Options { get; }
    public FutexTable Futexes { get; } = new();
    /// <summary>Names AF_UNIX sockets are bound to, and the lock their state changes under.</summary>
    public Net.UnixNames UnixNames { get; } = new();
    /// <summary>
    /// The network stack behind AF_INET/AF_INET6 sockets, made on first use from
    /// <see cref="SandboxOptions.NetworkStack"/>, or for <see cref="SandboxOptions.Network"/>: the
    /// user-space TCP/IP stack with only loopback (none), host sockets (host).
    /// </summary>
    public Sentry.Net.INetworkStack? Network
    {
        get
        {
            if (Volatile.Read(ref _networkMade)) return _network;
            lock (_networkLock)
            {
                if (!_networkMade)
                {
                    _network = Options.NetworkStack != null ? Options.NetworkStack() : Options.Network switch
                    {
                        NetworkMode.Host => new Sentry.Net.Host.HostNetworkStack(),
                        _ => Sentry.Net.Stack.NetStack.Loopback(),
                    };
                    Volatile.Write(ref _networkMade, true);
                }
                return _network;
            }
        }
    }
    Sentry.Net.INetworkStack? _network;
    bool _networkMade;
    readonly object _networkLock = new();

    /// <summary>Stops the network stack's threads and closes what it holds (the sandbox has ended).</summary>
    public void StopNetwork()
    {
        lock (_networkLock)
        {
            _network?.Dispose();
            _network = null;
            _networkMade = true;
        }
    }

    /// <summary>flock, POSIX and OFD file locks of every process in the sandbox.</summary>
    public Vfs.FileLocks Locks { get; } = new();
    /// <summary>The file tree: the root overlay (host root read-only under an in-memory upper layer), /dev, /dev/shm, /proc, /sys.</summary>
    public Fs.MountTable Mounts { get; }

    /// <summary>The internal tmpfs that memfds live in (Linux's shm_mnt): mounted nowhere.</summary>
    internal Fs.Tmpfs Memfds { get; }

    /// <summary>A sandbox ready to <see cref="Run()"/> the program of <paramref name="options"/> on <paramref name="platform"/>.</summary>
    /// <summary>The console bridged to the host terminal of <see cref="SandboxOptions.ConsoleFd"/>, once init has it.</summary>
    public Vfs.Tty.HostConsole? Console { get; private set; }

    public Sandbox(IPlatform platform, SandboxOptions options)
    {
        Platform = platform;
        Options = options;
        Mounts = new(options.RootLower ?? Fs.HostInode.Root(), platform.Memory, options.ReadOnlyRoot);
        foreach (var v in options.Volumes) Mounts.AddVolume(v);
        foreach (var m in options.Tmpfs)
            if (Mounts.AddTmpfs(m, platform.Memory) < 0) throw new SandboxStartException(1, $"sentry: tmpfs at {m.Path}: invalid options {string.Join(',', m.Options)}");
        foreach (var f in options.Files) Mounts.AddCopiedFile(f);
        Memfds = new Fs.Tmpfs(platform.Memory);
    }

    /// <summary>
    /// Runs the program described by <paramref name="options"/> to completion and returns its exit
    /// status as a shell reports it (128+signal when killed). Throws <see cref="SandboxStartException"/>
    /// when the program cannot be started.
    /// </summary>
    public static int Run(IPlatform platform, SandboxOptions options) => new Sandbox(platform, options).Run();

    /// <summary>Runs the program to completion; see <see cref="Run(IPlatform, SandboxOptions)"/>.</summary>
    public int Run()
    {
        int status = 0;
        ExceptionDispatchInfo? failure = null;
        // ptrace binds a tracee to the thread that traces it: each task gets its own host thread.
        var thread = new Thread(() =>
        {
            try { status = RunInit(); }
            catch (Exception e) { failure = ExceptionDispatchInfo.Capture(e); }
        }, TaskRunner.StackSize) { Name = "sentry-task-1", IsBackground = true };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return status;
    }

    /// <summary>
    /// <see cref="Run()"/> with the calling thread as the first task's host thread instead of a new
    /// one: a thread's start is a few milliseconds on a nested VM, and `sentry do` has a main thread
    /// with nothing else to do. The caller must have at least <see cref="TaskRunner.StackSize"/> of
    /// stack and do nothing else until this returns; its CPU affinity (the platform pins a tracer
    /// beside its tracee) is given back on return.
    /// </summary>
    public unsafe int RunOnCallingThread()
    {
        const int maskBytes = 128;
        byte* affinity = stackalloc byte[maskBytes];
        long saved = HostSyscall.Call(204 /* sched_getaffinity */, 0, maskBytes, (long)affinity);
        try { return RunInit(); }
        finally
        {
            Task.Current = null;
            if (saved > 0) HostSyscall.Call(203 /* sched_setaffinity */, 0, saved, (long)affinity);
        }
    }

    /// <summary>Prints "sentry: unsupported syscall NAME(N)" the first time a number is seen.</summary>
    public void ReportUnsupported(long nr) => ReportUnsupported($"syscall {SyscallNames.Name(nr)}({nr})");

    public void ReportUnsupported(string what)
    {
        lock (_reported)
            if (_reported.Add(what)) Options.Log.WriteLine($"sentry: unsupported {what}");
    }

    /// <summary>
    /// Sends <paramref name="signal"/> to the sandbox's init from outside (the host forwarding
    /// SIGINT/SIGTERM to `sentry`). Ignored before init exists or after it ended.
    /// </summary>
    public void SignalInit(int signal)
    {
        var init = _init;
        if (init == null || init.Zombie) return;
        PostToProcess(init, SigInfo.FromKill(signal, SigInfo.SI_USER, 0, 0));
    }

    /// <summary>
    /// A signal to init from the container runtime, that is from an ancestor PID namespace
    /// (pid_namespaces(7)): SIGKILL and SIGSTOP always arrive; any other signal only when init
    /// has a handler for it (a shell as init ignores `podman stop`'s SIGTERM, as under runc).
    /// </summary>
    public void SignalInitFromParentNamespace(int signal)
    {
        var init = _init;
        if (init == null || init.Zombie) return;
        if (signal is not (Linux.SIGKILL or Linux.SIGSTOP))
        {
            var thread = init.Threads.FirstOrDefault();
            if (thread == null) return;
            var handler = thread.Signals.Actions[signal].Handler;
            if (handler == SignalState.SIG_DFL || handler == SignalState.SIG_IGN) return;
        }
        PostToProcess(init, SigInfo.FromKill(signal, SigInfo.SI_USER, 0, 0));
    }

    /// <summary>Sends <paramref name="signal"/> to every process of the sandbox from outside (an OCI `kill --all`); init as <see cref="SignalInitFromParentNamespace"/>.</summary>
    public void SignalAll(int signal)
    {
        foreach (var g in LiveGroups())
            if (g != _init) PostToProcess(g, SigInfo.FromKill(signal, SigInfo.SI_USER, 0, 0));
        SignalInitFromParentNamespace(signal);
    }

    /// <summary>Guards the process tree: parents, children, groups, the task table.</summary>
    public object TreeLock { get; } = new();
    readonly Dictionary<int, Task> _tasks = new();
    readonly Dictionary<int, ThreadGroup> _groups = new();
    readonly List<Thread> _threads = new();
    int _lastPid;
    ThreadGroup? _init;
    readonly ManualResetEventSlim _initExited = new();

    /// <summary>Most tasks the sandbox will hold at once, whatever RLIMIT_NPROC says (protects Sentry).</summary>
    public const int MaxTasks = 4096;

    /// <summary>The next free pid of the sandbox's namespace (call under <see cref="TreeLock"/>).</summary>
    public int AllocatePid()
    {
        for (int i = 0; i < 1 << 22; i++)
        {
            _lastPid = _lastPid >= (1 << 22) ? 2 : _lastPid + 1;
            if (!_tasks.ContainsKey(_lastPid) && !_groups.ContainsKey(_lastPid)) return _lastPid;
        }
        return -1;
    }

    public int TaskCount { get { lock (TreeLock) return _tasks.Count; } }

    public Task? FindTask(int tid) { lock (TreeLock) return _tasks.TryGetValue(tid, out var t) ? t : null; }
    public ThreadGroup? FindGroup(int tgid) { lock (TreeLock) return _groups.TryGetValue(tgid, out var g) && !g.Zombie ? g : null; }

    /// <summary>All live processes; the caller holds <see cref="TreeLock"/>.</summary>
    public List<ThreadGroup> LiveGroupsUnlocked() => _groups.Values.Where(g => !g.Zombie).ToList();

    /// <summary>All live processes (a snapshot).</summary>
    public List<ThreadGroup> LiveGroups() { lock (TreeLock) return LiveGroupsUnlocked(); }

    /// <summary>Registers a new task (and its group when it is the first thread). Call under <see cref="TreeLock"/>.</summary>
    public void AddTask(Task t)
    {
        _tasks[t.Tid] = t;
        if (!_groups.ContainsKey(t.Group.Tgid)) _groups[t.Group.Tgid] = t.Group;
        t.Group.Threads.Add(t);
    }

    public void TrackThread(Thread t) { lock (_threads) _threads.Add(t); }

    int RunInit()
    {
        // The first exec replaces this empty address space, as for any execve.
        var mm = new MemoryManager(Platform, Platform.NewAddressSpace());
        Task task;
        lock (TreeLock)
        {
            int pid = AllocatePid();
            var group = new ThreadGroup { Tgid = pid, Pgid = pid, Sid = pid };
            _init = group;
            task = new Task { Sandbox = this, Mm = mm, Tid = pid, Group = group, Uid = Options.Uid, Gid = Options.Gid };
            if (Options.Limits is { } limits)
            {
                for (int r = 0; r < Math.Min(limits.Count, group.Limits.Length); r++) group.Limits[r] = (limits[r].Soft, limits[r].Hard);
                task.Fds.Limit = FdTable.LimitFor(group.Limits[Linux.RLIMIT_NOFILE].Cur);
            }
            AddTask(task);
        }
        task.Context = Platform.NewContext();
        task.HostTid = (int)HostSyscall.Call(186 /* gettid */);
        try
        {
            Console = Prepare(task, new ProcessSpec(Options.Program, Options.Args, Options.Env, Options.Cwd, Options.Uid, Options.Gid,
                Options.StdinFd, Options.StdoutFd, Options.StderrFd, Options.ConsoleFd));
        }
        catch
        {
            task.ExitThread(1);
            TaskExited(task);
            throw;
        }
        TaskRunner.Run(task);
        _initExited.Wait();
        // Every other task was killed when init ended; wait for their host threads to finish.
        Thread[] others;
        lock (_threads) others = [.. _threads];
        foreach (var t in others) t.Join(TimeSpan.FromSeconds(10));
        Console?.Drain(TimeSpan.FromSeconds(2));
        StopNetwork();
        return _init!.ShellStatus;
    }

    /// <summary>Starts ending every thread of <paramref name="group"/> with <paramref name="waitStatus"/> (exit_group, fatal signal).</summary>
    public void ExitGroup(ThreadGroup group, int waitStatus)
    {
        Task[] threads;
        lock (TreeLock)
        {
            if (group.Exiting) return;
            group.WaitStatus = waitStatus;
            group.Exiting = true;
            threads = [.. group.Threads];
        }
        foreach (var t in threads) t.Kick();
    }

    /// <summary>
    /// A task's host thread is done: give back its stub thread, clear_child_tid, release what it
    /// shared; the last thread of a process turns it into a zombie for its parent to reap.
    /// </summary>
    public void TaskExited(Task task)
    {
        var mm = task.Mm;
        long userNs = task.UserNs;
        try { if (mm.HasAddressSpace) task.Context?.Release(mm.AddressSpace); } catch (Exception) { }
        userNs = Math.Max(userNs, task.UserNs);
        lock (TreeLock) { task.Group.DeadUserNs += userNs; task.Group.DeadSysNs += task.SysNs; }
        if (mm.Users > 1) RobustList.Release(task);
        if (task.ClearChildTid != 0 && mm.Users > 1)
        {
            mm.Write(task.ClearChildTid, 0);
            Futexes.Wake(FutexKey.Of(mm, task.ClearChildTid, shared: true), 1, uint.MaxValue); // Linux wakes it as a shared futex
        }
        ReleaseVfork(task);
        task.ReleaseHost();
        mm.ReleaseUser();
        task.Fds.ReleaseUser();
        task.Context?.Dispose();

        ThreadGroup group = task.Group;
        bool last;
        Task[] remaining;
        lock (TreeLock)
        {
            _tasks.Remove(task.Tid);
            group.Threads.Remove(task);
            last = group.Threads.Count == 0;
            remaining = [.. group.Threads];
            if (last && !group.Exiting) group.WaitStatus = task.ThreadExitCode;
            if (last) group.Exiting = true;
        }
        foreach (var r in remaining) r.Notify(); // an exec waiting for the other threads to go
        if (last) ProcessEnded(group);
    }

    /// <summary>execve in a multi-threaded process: every other thread exits first.</summary>
    public void KillOtherThreads(Task task)
    {
        Task[] others;
        lock (TreeLock) others = task.Group.Threads.Where(x => x != task).ToArray();
        if (others.Length == 0) return;
        foreach (var o in others) { o.ExitThread(0); o.Kick(); }
        task.Block(null, () => { lock (TreeLock) return task.Group.Threads.Count == 1; }, interruptible: false);
        // The exec'ing thread becomes the process's only thread and takes the leader's tid.
        lock (TreeLock)
        {
            if (task.Tid == task.Group.Tgid) return;
            _tasks.Remove(task.Tid);
            task.Tid = task.Group.Tgid;
            _tasks[task.Tid] = task;
        }
    }

    /// <summary>Wakes a parent blocked in vfork once the child has exec'd or exited.</summary>
    public static void ReleaseVfork(Task task)
    {
        var parent = task.VforkParent;
        if (parent == null) return;
        task.VforkParent = null;
        task.VforkPending = false;
        parent.Notify();
    }

    void ProcessEnded(ThreadGroup group)
    {
        group.StopTimers();
        Locks.ProcessEnded(group);
        Vfs.Tty.Pty.ProcessEnded(this, group);
        ThreadGroup? parent;
        bool notifyInit = false;
        lock (TreeLock)
        {
            group.Zombie = true;
            parent = group.Parent;
            // Orphans are adopted by init, which reaps them. (When init itself ends, everything
            // left is killed below instead.)
            if (group != _init)
            {
                foreach (var child in group.Children)
                {
                    child.Parent = _init;
                    _init!.Children.Add(child);
                    if (child.Zombie) notifyInit = true;
                }
                group.Children.Clear();
            }
            if (parent != null && AutoReaps(parent))
            {
                parent.Children.Remove(group);
                _groups.Remove(group.Tgid);
            }
        }
        if (group == _init)
        {
            // The sandbox ends with its init: everything left is killed.
            foreach (var g in LiveGroups()) ExitGroup(g, Linux.SIGKILL);
            _initExited.Set();
            return;
        }
        if (notifyInit) _init!.ChildEvents.NotifyAll();
        if (parent == null)
        {
            // A process started from outside (StartProcess) has no parent inside to reap it: the
            // host's waiter hears of its end instead.
            if (group.Ended is { } ended)
            {
                lock (TreeLock) _groups.Remove(group.Tgid);
                ended.Set();
            }
            return;
        }
        if (group.ExitSignal != 0 && parent.Threads.Count > 0)
        {
            PostToProcess(parent, SigInfo.ChildEnded(group.ExitSignal, group.Tgid, group.WaitStatus));
        }
        parent.ChildEvents.NotifyAll();
    }

    /// <summary>A parent that ignores SIGCHLD (SIG_IGN or SA_NOCLDWAIT) never sees zombies: children are reaped at once.</summary>
    static bool AutoReaps(ThreadGroup parent)
    {
        var t = parent.Threads.FirstOrDefault();
        if (t == null) return false;
        var act = t.Signals.Actions[Linux.SIGCHLD];
        return act.Handler == SignalState.SIG_IGN || (act.Flags & SignalState.SA_NOCLDWAIT) != 0;
    }

    /// <summary>Stops every thread of <paramref name="group"/> (job control) and tells the parent once.</summary>
    public void StopGroup(ThreadGroup group, int sig)
    {
        Task[] threads;
        ThreadGroup? parent;
        lock (TreeLock)
        {
            if (group.Stopped || group.Exiting) return;
            group.Stopped = true;
            group.StopSignal = sig;
            group.StopToReport = true;
            group.ContinueToReport = false;
            threads = [.. group.Threads];
            parent = group.Parent;
        }
        foreach (var t in threads) t.Kick();
        NotifyParentOfJobControl(group, parent, SigInfo.CLD_STOPPED, sig);
    }

    /// <summary>SIGCONT: a stopped process runs again; the parent is told.</summary>
    public void ContinueGroup(ThreadGroup group)
    {
        Task[] threads;
        ThreadGroup? parent;
        lock (TreeLock)
        {
            if (!group.Stopped) return;
            group.Stopped = false;
            group.StopToReport = false;
            group.ContinueToReport = true;
            threads = [.. group.Threads];
            parent = group.Parent;
        }
        foreach (var t in threads) t.Notify();
        NotifyParentOfJobControl(group, parent, SigInfo.CLD_CONTINUED, Linux.SIGCONT);
    }

    void NotifyParentOfJobControl(ThreadGroup group, ThreadGroup? parent, int code, int sig)
    {
        if (parent == null) return;
        var t = parent.Threads.FirstOrDefault();
        if (t != null && (t.Signals.Actions[Linux.SIGCHLD].Flags & SignalState.SA_NOCLDSTOP) == 0)
            PostToProcess(parent, new SigInfo { si_signo = Linux.SIGCHLD, si_code = code, si_pid = group.Tgid, si_status = sig });
        parent.ChildEvents.NotifyAll();
    }

    /// <summary>Removes a reaped zombie from the tables (wait4 consumed it).</summary>
    public void Reap(ThreadGroup zombie)
    {
        lock (TreeLock)
        {
            if (zombie.Parent is { } p)
            {
                p.ChildUserNs += zombie.DeadUserNs + zombie.ChildUserNs;
                p.ChildSysNs += zombie.DeadSysNs + zombie.ChildSysNs;
            }
            zombie.Parent?.Children.Remove(zombie);
            _groups.Remove(zombie.Tgid);
        }
    }

    /// <summary>A process-directed signal goes to a thread that does not block it (else the first thread).</summary>
    public void PostToProcess(ThreadGroup group, in SigInfo info)
    {
        Task? target;
        lock (TreeLock)
        {
            ulong bit = SignalState.Bit(info.si_signo);
            target = group.Threads.FirstOrDefault(t => (t.Signals.Mask & bit) == 0 && !t.Exited) ?? group.Threads.FirstOrDefault();
        }
        target?.PostSignal(info);
    }

    static string Describe(int errno) => errno switch
    {
        Errno.ENOENT => "No such file or directory",
        Errno.ENOEXEC => "Exec format error",
        Errno.EACCES => "Permission denied",
        Errno.ENOMEM => "Cannot allocate memory",
        Errno.ENOTDIR => "Not a directory",
        Errno.ELOOP => "Too many levels of symbolic links",
        _ => Errno.Name(errno),
    };

    /// <summary>
    /// A new task's first steps, before it runs: stdio from the host descriptors (or a console
    /// bridged to a host terminal, returned), the working directory, the execve of the program. Throws <see cref="SandboxStartException"/> with the
    /// exit code a shell would give (127 not found, 126 not executable).
    /// </summary>
    Vfs.Tty.HostConsole? Prepare(Task task, ProcessSpec spec)
    {
        Vfs.Tty.HostConsole? console = null;
        if (spec.ConsoleFd >= 0) console = Vfs.Tty.HostConsole.Attach(task, spec.ConsoleFd);
        else WireStdio(task, [spec.StdinFd, spec.StdoutFd, spec.StderrFd]);
        var cwd = PathWalker.Resolve(task, Linux.AT_FDCWD, spec.Cwd, followLast: true);
        if (cwd.Error < 0 || !cwd.Exists || !cwd.IsDir)
            throw new SandboxStartException(1, $"sentry: --cwd {spec.Cwd}: No such directory");
        task.Fs.SetCwd(cwd.Path, cwd.Node);

        var exe = FindProgram(task, spec.Program, spec.Env);
        long r = Exec.Run(task, exe, spec.Program.Contains('/') ? spec.Program : exe.Path, [.. spec.Args], spec.Env);
        if (r < 0)
        {
            int code = r == -Errno.ENOENT ? 127 : 126;
            throw new SandboxStartException(code, $"sentry: {spec.Program}: {Describe((int)-r)}");
        }
        return console;
    }

    /// <summary>Resolves the program like execvp: a path when it has a '/', else a search of PATH.</summary>
    Lookup FindProgram(Task task, string prog, IReadOnlyList<string> env)
    {
        if (prog.Length == 0) throw new SandboxStartException(127, "sentry: : No such file or directory");
        if (prog.Contains('/'))
        {
            var l = PathWalker.Resolve(task, Linux.AT_FDCWD, prog, followLast: true);
            if (l.Error < 0 || !l.Exists)
                throw new SandboxStartException(127, $"sentry: {prog}: {Describe(l.Error < 0 ? -l.Error : Errno.ENOENT)}");
            return l;
        }
        string path = DefaultPath;
        foreach (var e in env)
            if (e.StartsWith("PATH=", StringComparison.Ordinal)) path = e[5..];
        foreach (var dir in path.Split(':'))
        {
            var l = PathWalker.Resolve(task, Linux.AT_FDCWD, (dir.Length == 0 ? "." : dir) + "/" + prog, followLast: true);
            if (l.Error == 0 && l.Exists && (l.Mode & Linux.S_IFMT) == Linux.S_IFREG && (l.Mode & 0x49) != 0) return l;
        }
        throw new SandboxStartException(127, $"sentry: {prog}: No such file or directory");
    }

    void WireStdio(Task task, int[] hostFds)
    {
        for (int fd = 0; fd < 3; fd++)
        {
            if (HostSyscall.Call(72 /* fcntl */, hostFds[fd], Linux.F_GETFD) < 0) continue; // closed on the host: closed inside
            task.Fds.InstallAt(fd, new HostStdio(hostFds[fd], $"/dev/fd/{fd}"), false);
        }
    }
}
