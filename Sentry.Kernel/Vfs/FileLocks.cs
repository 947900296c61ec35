using Sentry.Kernel.Abi;
using Sentry.Kernel.Signals;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs;

/// <summary>
/// Advisory locks of the sandbox, per file (device and inode number): flock(2) locks, owned by an
/// open file description; POSIX record locks (fcntl F_SETLK), owned by a process and dropped when
/// it closes any fd of the file; and OFD record locks, owned by an open file description. Locks of
/// one owner never conflict with each other; a read lock conflicts only with another owner's
/// write lock. Waiters sleep on one queue per file and re-check when anything is unlocked.
/// </summary>
public sealed class FileLocks
{
    public const short F_RDLCK = 0, F_WRLCK = 1, F_UNLCK = 2;
    public const int LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;

    /// <summary>One held lock: [Start, End) of the file (End is long.MaxValue for "to the end, growing").</summary>
    sealed record Held(object Owner, int Pid, bool Ofd, bool Write, long Start, long End);

    sealed class PerFile
    {
        public readonly List<Held> Flocks = new();
        public readonly List<Held> Records = new();
        public readonly WaitQueue Queue = new();
        public bool Empty => Flocks.Count == 0 && Records.Count == 0;
    }

    readonly Dictionary<(ulong, ulong), PerFile> _files = new();

    PerFile For((ulong, ulong) key)
    {
        if (!_files.TryGetValue(key, out var f)) _files[key] = f = new PerFile();
        return f;
    }

    static bool Overlaps(Held h, long start, long end) => h.Start < end && start < h.End;

    /// <summary>flock(2) on the description <paramref name="file"/>.</summary>
    public long Flock(Task task, FileDescription file, int operation)
    {
        var key = file.Inode!.Key;
        bool nonblock = (operation & LOCK_NB) != 0;
        int op = operation & ~LOCK_NB;
        if (op is not (LOCK_SH or LOCK_EX or LOCK_UN)) return -Errno.EINVAL;
        PerFile pf;
        lock (_files)
        {
            pf = For(key);
            // Converting a lock drops the old one first, as Linux does (the conversion is not atomic).
            pf.Flocks.RemoveAll(h => h.Owner == file);
            if (op == LOCK_UN) { Tidy(key, pf); pf.Queue.NotifyAll(); return 0; }
            file.LockTable = this;
        }
        var want = new Held(file, task.Group.Tgid, true, op == LOCK_EX, 0, long.MaxValue);
        bool Free() => !pf.Flocks.Exists(h => h.Owner != file && (h.Write || want.Write));
        return Acquire(task, pf, nonblock, Free, () => pf.Flocks.Add(want), Errno.EAGAIN);
    }

    /// <summary>Takes a lock when <paramref name="free"/> holds, waiting unless <paramref name="nonblock"/>.</summary>
    long Acquire(Task task, PerFile pf, bool nonblock, Func<bool> free, Action take, int busyErrno)
    {
        while (true)
        {
            lock (_files)
            {
                if (free()) { take(); return 0; }
                if (nonblock) return -busyErrno;
            }
            if (task.WaitOn(pf.Queue, () => { lock (_files) return free(); }) == -Errno.EINTR) return -SignalDelivery.ERESTARTSYS;
        }
    }

    /// <summary>
    /// F_SETLK/F_SETLKW (or the OFD forms) for the range [start, end): take a read or write lock
    /// or (<paramref name="type"/> F_UNLCK) release it. The owner is the process, or the description for OFD locks.
    /// </summary>
    public long SetRecord(Task task, FileDescription file, bool ofd, short type, long start, long end, bool wait)
    {
        var key = file.Inode!.Key;
        object owner = ofd ? file : task.Group;
        PerFile pf;
        lock (_files)
        {
            pf = For(key);
            if (type == F_UNLCK)
            {
                Cut(pf.Records, owner, start, end);
                Tidy(key, pf);
                pf.Queue.NotifyAll();
                return 0;
            }
            if (ofd) file.LockTable = this;
        }
        bool write = type == F_WRLCK;
        bool Free() => !pf.Records.Exists(h => h.Owner != owner && Overlaps(h, start, end) && (h.Write || write));
        void Take()
        {
            Cut(pf.Records, owner, start, end);
            pf.Records.Add(new Held(owner, task.Group.Tgid, ofd, write, start, end));
            Merge(pf.Records, owner);
            pf.Queue.NotifyAll(); // a write lock turned read may let readers in
        }
        return Acquire(task, pf, !wait, Free, Take, Errno.EAGAIN);
    }

    /// <summary>F_GETLK: the first lock of another owner that would block the described one, or null.</summary>
    public (short Type, long Start, long End, int Pid)? FindConflict(Task task, FileDescription file, bool ofd, short type, long start, long end)
    {
        object owner = ofd ? file : task.Group;
        lock (_files)
        {
            if (!_files.TryGetValue(file.Inode!.Key, out var pf)) return null;
            foreach (var h in pf.Records)
                if (h.Owner != owner && Overlaps(h, start, end) && (h.Write || type == F_WRLCK))
                    return (h.Write ? F_WRLCK : F_RDLCK, h.Start, h.End, h.Ofd ? -1 : h.Pid);
        }
        return null;
    }

    /// <summary>Removes <paramref name="owner"/>'s locks from [start, end), splitting the ones that straddle it.</summary>
    static void Cut(List<Held> list, object owner, long start, long end)
    {
        for (int i = list.Count - 1; i >= 0; i--)
        {
            var h = list[i];
            if (h.Owner != owner || !Overlaps(h, start, end)) continue;
            list.RemoveAt(i);
            if (h.Start < start) list.Add(h with { End = start });
            if (h.End > end) list.Add(h with { Start = end });
        }
    }

    /// <summary>Joins an owner's touching locks of the same type, so F_GETLK reports ranges as Linux does.</summary>
    static void Merge(List<Held> list, object owner)
    {
        var mine = list.Where(h => h.Owner == owner).OrderBy(h => h.Start).ToList();
        if (mine.Count < 2) return;
        list.RemoveAll(h => h.Owner == owner);
        var cur = mine[0];
        foreach (var h in mine.Skip(1))
        {
            if (h.Write == cur.Write && h.Start <= cur.End) cur = cur with { End = Math.Max(cur.End, h.End) };
            else { list.Add(cur); cur = h; }
        }
        list.Add(cur);
    }

    void Tidy((ulong, ulong) key, PerFile pf)
    {
        if (pf.Empty) _files.Remove(key);
    }

    /// <summary>A process closed an fd of <paramref name="file"/>'s inode: its POSIX record locks on that file go (fcntl(2)).</summary>
    public void ProcessClosed(ThreadGroup group, FileDescription file)
    {
        if (file.Inode == null) return;
        lock (_files)
        {
            if (!_files.TryGetValue(file.Inode.Key, out var pf)) return;
            if (pf.Records.RemoveAll(h => h.Owner == group) == 0) return;
            Tidy(file.Inode.Key, pf);
            pf.Queue.NotifyAll();
        }
    }

    /// <summary>A process ended: every POSIX record lock it held goes.</summary>
    public void ProcessEnded(ThreadGroup group)
    {
        lock (_files)
            foreach (var (key, pf) in _files.ToList())
                if (pf.Records.RemoveAll(h => h.Owner == group) > 0)
                {
                    Tidy(key, pf);
                    pf.Queue.NotifyAll();
                }
    }

    /// <summary>The last reference to a description went: its flock and OFD locks go.</summary>
    public void DescriptionClosed(FileDescription file)
    {
        if (file.Inode == null) return;
        lock (_files)
        {
            if (!_files.TryGetValue(file.Inode.Key, out var pf)) return;
            int n = pf.Flocks.RemoveAll(h => h.Owner == file) + pf.Records.RemoveAll(h => h.Owner == file);
            if (n == 0) return;
            Tidy(file.Inode.Key, pf);
            pf.Queue.NotifyAll();
        }
    }
}
