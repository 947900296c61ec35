using Sentry.Kernel.Abi;
using Sentry.Kernel.Signals;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs.Tty;

/// <summary>
/// A pseudo-terminal pair as pty(7) describes it: the master (a /dev/ptmx open) and the slave
/// /dev/pts/<see cref="Index"/>, joined by a <see cref="LineDiscipline"/>. What the master writes
/// is the slave's input; what the slave writes (and the echo) is what the master reads. Every
/// state change notifies <see cref="Queue"/>, where readers, writers, poll and epoll wait.
/// </summary>
public sealed partial class Pty
{
    readonly object _lock = new();
    readonly LineDiscipline _ld = new();
    bool _masterOpen = true, _slaveEverOpened;
    int _slaveOpens;
    WinSize _winSize;

    public Pty(DevPts fs, int index, Sandbox sandbox, uint uid)
    {
        Fs = fs;
        Index = index;
        Sandbox = sandbox;
        Uid = uid;
        Created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    }

    public DevPts Fs { get; }
    /// <summary>N of /dev/pts/N (TIOCGPTN).</summary>
    public int Index { get; }
    public Sandbox Sandbox { get; }
    /// <summary>Owner and mode of the slave node: the opener's uid, the mount's gid and mode (chown/chmod may change them).</summary>
    public uint Uid { get; set; }
    public uint Gid { get; set; } = DevPts.TtyGid;
    public uint Perm { get; set; } = DevPts.SlavePerm;
    public long Created { get; }
    public WaitQueue Queue { get; } = new();

    /// <summary>The slave is locked (TIOCSPTLCK) from the master's open until unlockpt: opening it fails with EIO.</summary>
    public bool Locked { get { lock (_lock) return _locked; } set { lock (_lock) _locked = value; } }
    bool _locked = true;

    /// <summary>The master was closed: the slave is hung up (reads 0, writes and ioctls EIO).</summary>
    public bool HungUp { get { lock (_lock) return !_masterOpen; } }

    /// <summary>Every slave open was closed after one was made: the master reads EIO once drained and polls HUP.</summary>
    bool SlaveGone => _slaveEverOpened && _slaveOpens == 0;

    /// <summary>TIOCSWINSZ: a new size is kept and, when it changed, the foreground process group gets SIGWINCH.</summary>
    public void SetWindowSize(WinSize ws)
    {
        bool changed;
        lock (_lock)
        {
            changed = ws != _winSize;
            _winSize = ws;
        }
        if (changed) SignalForeground(1 << Linux.SIGWINCH);
    }

    // ---- the master side ----

    public long MasterRead(Span<byte> dst, bool nonblock)
    {
        if (dst.Length == 0) return 0;
        var task = Task.Current;
        while (true)
        {
            int n;
            lock (_lock)
            {
                n = _ld.TakeOutput(dst);
                if (n == 0 && SlaveGone) return -Errno.EIO;
            }
            if (n > 0) { Queue.NotifyAll(); return n; } // a slave writer may wait for room
            if (nonblock || task == null) return -Errno.EAGAIN;
            if (task.WaitOn(Queue, () => { lock (_lock) return _ld.OutputAvailable > 0 || SlaveGone; }) == -Errno.EINTR)
                return -SignalDelivery.ERESTARTSYS;
        }
    }

    public long MasterWrite(ReadOnlySpan<byte> src, bool nonblock)
    {
        var task = Task.Current;
        int done = 0;
        while (true)
        {
            int signals = 0, n;
            lock (_lock)
            {
                n = _ld.Receive(src[done..], ref signals);
                done += n;
            }
            // Signals and wake-ups go out after the lock is dropped: a waiter takes it inside its own.
            if (signals != 0) SignalForeground(signals);
            if (n > 0) Queue.NotifyAll();
            if (done == src.Length) return done;
            if (nonblock || task == null) return done > 0 ? done : -Errno.EAGAIN;
            if (task.WaitOn(Queue, () => { lock (_lock) return _ld.InputRoom; }) == -Errno.EINTR)
                return done > 0 ? done : -SignalDelivery.ERESTARTSYS;
        }
    }

    public int MasterPoll()
    {
        lock (_lock)
        {
            int r = 0;
            if (_ld.OutputAvailable > 0) r |= PollEvents.POLLIN | PollEvents.POLLRDNORM;
            if (_ld.InputRoom) r |= PollEvents.POLLOUT | PollEvents.POLLWRNORM;
            if (SlaveGone) r |= PollEvents.POLLHUP;
            return r;
        }
    }

    /// <summary>The master's last close: the slave hangs up, its session loses the terminal.</summary>
    public void MasterClosed()
    {
        bool gone;
        lock (_lock)
        {
            _masterOpen = false;
            gone = _slaveOpens == 0;
        }
        Queue.NotifyAll();
        HangUpSession();
        if (gone) Fs.Remove(this);
    }

    // ---- the slave side ----

    /// <summary>open(2) of the slave (through /dev/pts/N, /dev/tty or TIOCGPTPEER): EIO while locked or after the master closed.</summary>
    public long OpenSlave(Task task, int flags, string path, out FileDescription? file)
    {
        file = null;
        lock (_lock)
        {
            if (_locked || !_masterOpen) return -Errno.EIO;
            _slaveOpens++;
            _slaveEverOpened = true;
        }
        file = new PtySlave(this, flags, path);
        if ((flags & Linux.O_NOCTTY) == 0) AcquireOnOpen(task);
        return 0;
    }

    public void SlaveClosed()
    {
        bool gone;
        lock (_lock)
        {
            _slaveOpens--;
            gone = _slaveOpens == 0 && !_masterOpen;
        }
        Queue.NotifyAll();
        if (gone) Fs.Remove(this);
    }

    /// <summary>
    /// Slave read: a line in canonical mode; otherwise by VMIN/VTIME (termios(3)): MIN bytes, or
    /// what is there (MIN 0), with TIME as an overall (MIN 0) or inter-byte (MIN &gt; 0) timer in 0.1 s.
    /// </summary>
    public long SlaveRead(Span<byte> dst, bool nonblock)
    {
        if (dst.Length == 0) return 0;
        var task = Task.Current;
        if (HungUp) return 0;
        if (task != null && CheckBackground(task, Linux.SIGTTIN) is < 0 and var stop) return stop;
        int done = 0;
        long? deadline = null;
        while (true)
        {
            int min, time;
            bool canon, gotLine = false;
            int before = done;
            lock (_lock)
            {
                if (!_masterOpen) return done;
                canon = _ld.Canonical;
                min = _ld.Termios.c_cc[Termios.VMIN];
                time = _ld.Termios.c_cc[Termios.VTIME];
                if (canon && _ld.Readable) { done = _ld.TakeLine(dst); gotLine = true; }
                else if (!canon) done += _ld.TakeInput(dst[done..]);
            }
            if (gotLine || done > 0) Queue.NotifyAll(); // room for the master's writes
            if (canon)
            {
                // A line, or an EOF (an empty one), ends the read at once.
                if (gotLine) return done;
            }
            else
            {
                if (done == dst.Length || (min > 0 && done >= min)) return done;
                if (min == 0 && (time == 0 || done > 0)) return done;
                if (time > 0 && (min == 0 ? deadline == null : done > before))
                    deadline = System.Diagnostics.Stopwatch.GetTimestamp() + time * System.Diagnostics.Stopwatch.Frequency / 10;
            }
            if (nonblock || task == null) return done > 0 ? done : -Errno.EAGAIN;
            long r = task.WaitOn(Queue, () => { lock (_lock) return !_masterOpen || (_ld.Canonical ? _ld.Readable : _ld.InputAvailable > 0); }, deadline);
            if (r == -Errno.ETIMEDOUT) return done;
            if (r == -Errno.EINTR) return done > 0 ? done : -SignalDelivery.ERESTARTSYS;
        }
    }

    public long SlaveWrite(ReadOnlySpan<byte> src, bool nonblock)
    {
        var task = Task.Current;
        if (HungUp) return -Errno.EIO;
        bool toStop;
        lock (_lock) toStop = _ld.Termios.Has(Termios.TOSTOP);
        if (toStop && task != null && CheckBackground(task, Linux.SIGTTOU) is < 0 and var stop) return stop;
        int done = 0;
        while (true)
        {
            int n = 0;
            lock (_lock)
            {
                if (!_masterOpen) return done > 0 ? done : -Errno.EIO;
                if (!_ld.Stopped) n = _ld.Transmit(src[done..]);
                done += n;
            }
            if (n > 0) Queue.NotifyAll();
            if (done == src.Length) return done;
            if (nonblock || task == null) return done > 0 ? done : -Errno.EAGAIN;
            if (task.WaitOn(Queue, () => { lock (_lock) return !_masterOpen || (!_ld.Stopped && _ld.OutputRoom); }) == -Errno.EINTR)
                return done > 0 ? done : -SignalDelivery.ERESTARTSYS;
        }
    }

    public int SlavePoll()
    {
        lock (_lock)
        {
            if (!_masterOpen)
                return PollEvents.POLLIN | PollEvents.POLLRDNORM | PollEvents.POLLOUT | PollEvents.POLLWRNORM | PollEvents.POLLERR | PollEvents.POLLHUP;
            int r = 0;
            if (_ld.Readable) r |= PollEvents.POLLIN | PollEvents.POLLRDNORM;
            if (_ld.OutputRoom && !_ld.Stopped) r |= PollEvents.POLLOUT | PollEvents.POLLWRNORM;
            return r;
        }
    }
}
