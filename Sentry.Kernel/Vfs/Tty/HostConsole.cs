using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;
using Sentry.Platform;

namespace Sentry.Kernel.Vfs.Tty;

/// <summary>
/// The sandbox's console: a pty of the sandbox's own devpts whose slave is the first process's
/// stdio and controlling terminal, bridged to a host terminal (the engine's console of an OCI
/// container with process.terminal). The host terminal is put in raw mode and only carries bytes;
/// echo, line editing, ^C and job control are the sandbox pty's, as on a real system, so
/// ttyname, tcsetpgrp and SIGINT to the foreground group behave as Linux's.
/// </summary>
public sealed unsafe class HostConsole
{
    readonly int _hostFd;
    readonly Pty _pty;
    readonly Thread _output;
    /// <summary>The pty's master, held open for as long as the console lives.</summary>
    readonly FileDescription _master;

    HostConsole(int hostFd, Pty pty, FileDescription master)
    {
        _hostFd = hostFd;
        _pty = pty;
        _master = master;
        _output = new Thread(PumpOutput) { IsBackground = true, Name = "sentry-console-out" };
    }

    /// <summary>
    /// Gives <paramref name="task"/> (a session leader with no terminal yet) a new pty as fds 0, 1
    /// and 2 and its controlling terminal, and starts copying between it and <paramref name="hostFd"/>.
    /// </summary>
    public static HostConsole Attach(Task task, int hostFd)
    {
        var pts = task.Sandbox.Mounts.Pts;
        long r = pts.OpenMaster(task, Linux.O_RDWR, "/dev/ptmx", out var masterFile);
        if (r < 0) throw new SandboxStartException(1, $"sentry: cannot make the console's pty: errno {-r}");
        var pty = ((PtyMaster)masterFile!).Pty;
        pty.Locked = false;
        r = pty.OpenSlave(task, Linux.O_RDWR, $"/dev/pts/{pty.Index}", out var slave);
        if (r < 0) throw new SandboxStartException(1, $"sentry: cannot open the console's pty: errno {-r}");
        for (int fd = 0; fd < 3; fd++)
        {
            if (fd > 0) slave!.AddRef();
            task.Fds.InstallAt(fd, slave!, false);
        }
        var console = new HostConsole(hostFd, pty, masterFile!);
        console._saved = MakeRaw(hostFd);
        console.Resize();
        console._output.Start();
        new Thread(console.PumpInput) { IsBackground = true, Name = "sentry-console-in" }.Start();
        return console;
    }

    /// <summary>Takes the host terminal's window size (after SIGWINCH): the foreground group inside gets SIGWINCH when it changed.</summary>
    public void Resize()
    {
        byte* ws = stackalloc byte[WinSize.Size];
        if (HostSyscall.Call(16 /* ioctl */, _hostFd, Linux.TIOCGWINSZ, (long)ws) == 0)
            _pty.SetWindowSize(WinSize.ReadFrom(new ReadOnlySpan<byte>(ws, WinSize.Size)));
    }

    /// <summary>
    /// Waits (at most <paramref name="timeout"/>) until what the sandbox wrote has reached the host
    /// terminal, then gives the host terminal back its settings (it may be the user's own).
    /// </summary>
    public void Drain(TimeSpan timeout)
    {
        _output.Join(timeout);
        if (_saved is { } saved)
            fixed (byte* t = saved) HostSyscall.Call(16, _hostFd, Linux.TCSETSW, (long)t);
    }

    /// <summary>The host terminal's settings before <see cref="MakeRaw"/>.</summary>
    byte[]? _saved;

    /// <summary>cfmakeraw on the host terminal: it must not echo, edit lines or turn keys into signals itself. Returns the settings it replaced.</summary>
    static byte[]? MakeRaw(int fd)
    {
        byte* t = stackalloc byte[Termios.Size];
        if (HostSyscall.Call(16, fd, Linux.TCGETS, (long)t) != 0) return null;
        byte[] saved = new ReadOnlySpan<byte>(t, Termios.Size).ToArray();
        uint* flags = (uint*)t; // c_iflag, c_oflag, c_cflag, c_lflag
        flags[0] &= ~(Termios.IGNBRK | Termios.BRKINT | Termios.PARMRK | Termios.ISTRIP | Termios.INLCR | Termios.IGNCR | Termios.ICRNL | Termios.IXON);
        flags[1] &= ~Termios.OPOST;
        flags[3] &= ~(Termios.ECHO | Termios.ECHONL | Termios.ICANON | Termios.ISIG | Termios.IEXTEN);
        const uint CSIZE = 0x30, PARENB = 0x100;
        flags[2] = (flags[2] & ~(CSIZE | PARENB)) | Termios.CS8;
        HostSyscall.Call(16, fd, Linux.TCSETS, (long)t);
        return saved;
    }

    /// <summary>Keys typed on the host terminal go into the pty as if typed on it.</summary>
    void PumpInput()
    {
        var buf = new byte[4096];
        var waiter = new HostWaiter();
        while (true)
        {
            long n;
            fixed (byte* p = buf) n = HostSyscall.CallRestarting(0 /* read */, _hostFd, (long)p, buf.Length);
            if (n <= 0) return; // the engine closed its side
            int done = 0;
            while (done < n)
            {
                long w = _pty.MasterWrite(buf.AsSpan(done, (int)n - done), nonblock: true);
                if (w > 0) { done += (int)w; continue; }
                if (w != -Errno.EAGAIN || _pty.HungUp) return;
                waiter.WaitOn(_pty.Queue, () => (_pty.MasterPoll() & PollEvents.POLLOUT) != 0);
            }
        }
    }

    /// <summary>What the sandbox writes to the terminal goes to the host terminal, until every slave is closed.</summary>
    void PumpOutput()
    {
        var buf = new byte[4096];
        var waiter = new HostWaiter();
        while (true)
        {
            long n = _pty.MasterRead(buf, nonblock: true);
            if (n == -Errno.EAGAIN)
            {
                waiter.WaitOn(_pty.Queue, () => (_pty.MasterPoll() & (PollEvents.POLLIN | PollEvents.POLLHUP)) != 0);
                continue;
            }
            if (n <= 0) return; // EIO: the last slave closed
            int done = 0;
            while (done < n)
            {
                long w;
                fixed (byte* p = buf) w = HostSyscall.CallRestarting(1 /* write */, _hostFd, (long)(p + done), (int)n - done);
                if (w <= 0) return;
                done += (int)w;
            }
        }
    }

    /// <summary>A host thread waiting on a wait queue of the sandbox, as a task waits in <see cref="Task.WaitOn"/>.</summary>
    sealed class HostWaiter : IWaiter
    {
        readonly SemaphoreSlim _woken = new(0);

        public bool Wake(int key)
        {
            if (_woken.CurrentCount == 0) _woken.Release();
            return true;
        }

        public void WaitOn(WaitQueue queue, Func<bool> ready)
        {
            queue.Add(this);
            try
            {
                while (!ready()) _woken.Wait(100);
            }
            finally { queue.Remove(this); }
        }
    }
}
