using Sentry.Kernel.Memory;
using Sentry.Kernel.Tasks;
using Sentry.Kernel.Vfs;
using Sentry.Platform;

namespace Sentry.Kernel;

public sealed partial class Sandbox
{
    /// <summary>A process started by <see cref="StartProcess"/>: its pid inside, and its end.</summary>
    public sealed class StartedProcess(int pid, ThreadGroup group, Vfs.Tty.HostConsole? console)
    {
        public int Pid => pid;

        /// <summary>Waits for the process to end (and its terminal output to reach the host); its status as a shell reports it.</summary>
        public int Wait()
        {
            group.Ended!.Wait();
            console?.Drain(TimeSpan.FromSeconds(2));
            return group.ShellStatus;
        }
    }

    /// <summary>
    /// Starts another process in the running sandbox, as `runc exec` does in a container: in its
    /// own session, with init's resource limits, and no parent inside the sandbox (getppid gives
    /// 0, as for a process that entered the namespace from outside). It ends with the sandbox.
    /// Throws <see cref="SandboxStartException"/> when the program cannot start or init has ended.
    /// </summary>
    public StartedProcess StartProcess(ProcessSpec spec)
    {
        StartedProcess? started = null;
        Exception? failure = null;
        using var ready = new ManualResetEventSlim();
        // ptrace binds a tracee to its tracer's thread: the task is made on the thread that runs it.
        var thread = new Thread(() =>
        {
            Task task;
            try
            {
                var mm = new MemoryManager(Platform, Platform.NewAddressSpace());
                lock (TreeLock)
                {
                    if (_init == null || _init.Zombie || _init.Exiting) throw new SandboxStartException(1, "sentry: the sandbox's init has ended");
                    int pid = AllocatePid();
                    var group = new ThreadGroup { Tgid = pid, Pgid = pid, Sid = pid, Ended = new ManualResetEventSlim() };
                    Array.Copy(_init.Limits, group.Limits, group.Limits.Length);
                    task = new Task { Sandbox = this, Mm = mm, Tid = pid, Group = group, Uid = spec.Uid, Gid = spec.Gid };
                    task.Fds.Limit = FdTable.LimitFor(group.Limits[Abi.Linux.RLIMIT_NOFILE].Cur);
                    AddTask(task);
                }
            }
            catch (Exception e)
            {
                failure = e;
                ready.Set();
                return;
            }
            task.Context = Platform.NewContext();
            task.HostTid = (int)HostSyscall.Call(186 /* gettid */);
            Vfs.Tty.HostConsole? console;
            try { console = Prepare(task, spec); }
            catch (Exception e)
            {
                failure = e;
                task.ExitThread(1);
                TaskExited(task);
                ready.Set();
                return;
            }
            started = new StartedProcess(task.Tid, task.Group, console);
            ready.Set();
            TaskRunner.Run(task);
        }, TaskRunner.StackSize) { Name = "sentry-exec", IsBackground = true };
        TrackThread(thread);
        thread.Start();
        ready.Wait();
        if (failure is SandboxStartException) throw failure;
        if (failure != null) throw new SandboxStartException(1, $"sentry: cannot start {spec.Program}: {failure.Message}");
        return started!;
    }

    volatile bool _paused;

    /// <summary>Whether <see cref="Pause"/> holds every task (no application instruction runs).</summary>
    public bool Paused => _paused;

    /// <summary>
    /// Freezes the sandbox, as the cgroup freezer under `runc pause`: every task stops before its
    /// next application instruction (a running one is kicked out of application code; one asleep
    /// in a call stays asleep and stops when it returns). Nothing inside can see it: no signal,
    /// no state change. SIGKILL still ends a process.
    /// </summary>
    public void Pause()
    {
        _paused = true;
        Task[] all;
        lock (TreeLock) all = [.. _tasks.Values];
        foreach (var t in all) t.Kick();
    }

    /// <summary>Lets every task run again after <see cref="Pause"/>.</summary>
    public void Resume()
    {
        _paused = false;
        Task[] all;
        lock (TreeLock) all = [.. _tasks.Values];
        foreach (var t in all) t.Notify();
    }
}
