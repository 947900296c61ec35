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
public sealed class Sandbox
{
    const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    readonly HashSet<string> _reported = new();

    public IPlatform Platform { get; }
    public SandboxOptions Options { get; }
    public FutexTable Futexes { get; } = new();

    Sandbox(IPlatform platform, SandboxOptions options)
    {
        Platform = platform;
        Options = options;
    }

    /// <summary>
    /// Runs the program described by <paramref name="options"/> to completion and returns its exit
    /// status as a shell reports it (128+signal when killed). Throws <see cref="SandboxStartException"/>
    /// when the program cannot be started.
    /// </summary>
    public static int Run(IPlatform platform, SandboxOptions options)
    {
        var sandbox = new Sandbox(platform, options);
        int status = 0;
        ExceptionDispatchInfo? failure = null;
        // ptrace binds a tracee to the thread that traces it: each task gets its own host thread.
        var thread = new Thread(() =>
        {
            try { status = sandbox.RunInit(); }
            catch (Exception e) { failure = ExceptionDispatchInfo.Capture(e); }
        }, 16 << 20) { Name = "sentry-task-1", IsBackground = true };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return status;
    }

    /// <summary>Prints "sentry: unsupported syscall NAME(N)" the first time a number is seen.</summary>
    public void ReportUnsupported(long nr) => ReportUnsupported($"syscall {SyscallNames.Name(nr)}({nr})");

    public void ReportUnsupported(string what)
    {
        lock (_reported)
            if (_reported.Add(what)) Options.Log.WriteLine($"sentry: unsupported {what}");
    }

    int RunInit()
    {
        // The first exec replaces this empty address space, as for any execve.
        var mm = new MemoryManager(Platform, Platform.NewAddressSpace());
        using var context = Platform.NewContext();
        var task = new Task { Sandbox = this, Mm = mm, Context = context };
        try
        {
            WireStdio(task);
            var cwd = PathWalker.Resolve(task, Linux.AT_FDCWD, Options.Cwd, followLast: true);
            if (cwd.Error < 0 || !cwd.Exists || !cwd.IsDir)
                throw new SandboxStartException(1, $"sentry: --cwd {Options.Cwd}: No such directory");
            task.Fs.Cwd = cwd.Path;

            var exe = FindProgram(task);
            long r = Exec.Run(task, exe, exe.Path, [.. Options.Args], Options.Env);
            if (r < 0)
            {
                int code = r == -Errno.ENOENT ? 127 : 126;
                throw new SandboxStartException(code, $"sentry: {Options.Program}: {Describe((int)-r)}");
            }
            RunLoop(task);
            return task.ShellStatus;
        }
        finally
        {
            task.ReleaseHost();
            task.Fds.CloseAll();
            task.Mm.Dispose();
        }
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

    /// <summary>Resolves the program like execvp: a path when it has a '/', else a search of PATH.</summary>
    Lookup FindProgram(Task task)
    {
        string prog = Options.Program;
        if (prog.Length == 0) throw new SandboxStartException(127, "sentry: : No such file or directory");
        if (prog.Contains('/'))
        {
            var l = PathWalker.Resolve(task, Linux.AT_FDCWD, prog, followLast: true);
            if (l.Error < 0 || !l.Exists)
                throw new SandboxStartException(127, $"sentry: {prog}: {Describe(l.Error < 0 ? -l.Error : Errno.ENOENT)}");
            return l;
        }
        string path = DefaultPath;
        foreach (var e in Options.Env)
            if (e.StartsWith("PATH=", StringComparison.Ordinal)) path = e[5..];
        foreach (var dir in path.Split(':'))
        {
            var l = PathWalker.Resolve(task, Linux.AT_FDCWD, (dir.Length == 0 ? "." : dir) + "/" + prog, followLast: true);
            if (l.Error == 0 && l.Exists && (l.Mode & Linux.S_IFMT) == Linux.S_IFREG && (l.Mode & 0x49) != 0) return l;
        }
        throw new SandboxStartException(127, $"sentry: {prog}: No such file or directory");
    }

    void WireStdio(Task task)
    {
        int[] hostFds = [Options.StdinFd, Options.StdoutFd, Options.StderrFd];
        for (int fd = 0; fd < 3; fd++)
        {
            if (HostSyscall.Call(72 /* fcntl */, hostFds[fd], Linux.F_GETFD) < 0) continue; // closed on the host: closed inside
            task.Fds.InstallAt(fd, new HostStdio(hostFds[fd], $"/dev/fd/{fd}"), false);
        }
    }

    /// <summary>The task loop: deliver signals, run the application until it traps, answer, repeat.</summary>
    void RunLoop(Task task)
    {
        var cpu = task.Cpu;
        bool strace = Options.Strace;
        long restart = 0;
        while (true)
        {
            if (restart != 0 || task.Signals.PendingSet != 0 || task.SavedMask != null)
            {
                SignalDelivery.Deliver(task, restart);
                restart = 0;
            }
            if (task.Exited) break;
            var res = task.Context.Switch(task.Mm.AddressSpace, cpu);
            switch (res.Reason)
            {
                case SwitchReason.Syscall:
                {
                    long nr = (long)cpu.Regs.orig_rax;
                    var args = new SyscallArgs(cpu.Regs);
                    long r;
                    if (strace)
                    {
                        string entered = Strace.Enter(task, nr, args);
                        r = SyscallTable.Dispatch(task, nr, args);
                        Options.Log.WriteLine(Strace.Exit(entered, nr, r, task.Exited));
                    }
                    else r = SyscallTable.Dispatch(task, nr, args);
                    if (SignalDelivery.IsRestart(r)) restart = r;
                    else cpu.Regs.rax = (ulong)r;
                    break;
                }
                case SwitchReason.PageFault:
                {
                    int sig = task.Mm.HandleFault(res.FaultAddress, res.Access);
                    if (sig != 0) Fault(task, sig, res.SiCode > 0 ? res.SiCode : SigInfo.SEGV_MAPERR, res.FaultAddress);
                    break;
                }
                case SwitchReason.Fault:
                    Fault(task, res.Signal, res.SiCode, res.FaultAddress);
                    break;
                case SwitchReason.Interrupted:
                    break;
            }
        }
        if (strace) Options.Log.WriteLine(task.WaitStatus is var w && (w & 0x7f) != 0 ? $"+++ killed by signal {w & 0x7f} +++" : $"+++ exited with {(w >> 8) & 0xff} +++");
    }

    /// <summary>A synchronous fault becomes a forced signal (a handler may fix it and return).</summary>
    void Fault(Task task, int sig, int code, ulong addr)
    {
        if (Options.Strace) Options.Log.WriteLine($"--- signal {sig} {{si_code={code}, si_addr=0x{addr:x}}} rip=0x{task.Cpu.Regs.rip:x} ---");
        task.ForceSignal(SigInfo.Fault(sig, code, addr));
    }
}
