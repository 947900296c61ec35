using Sentry.Kernel.Abi;

namespace Sentry.Kernel.Vfs;

/// <summary>A process's file descriptor table: fd number -> open file description plus FD_CLOEXEC.</summary>
public sealed partial class FdTable
{
    struct Entry { public FileDescription? File; public bool CloseOnExec; }

    Entry[] _entries = new Entry[64];
    int _users = 1;

    /// <summary>Another task shares this table (CLONE_FILES).</summary>
    public void AddUser() => Interlocked.Increment(ref _users);

    public int Users => Volatile.Read(ref _users);

    /// <summary>A task stops using the table; the last one closes every fd.</summary>
    public void ReleaseUser()
    {
        if (Interlocked.Decrement(ref _users) == 0) CloseAll();
    }

    /// <summary>fork without CLONE_FILES: a new table whose fds share the same open file descriptions.</summary>
    public FdTable Clone()
    {
        lock (this)
        {
            var t = new FdTable { Limit = Limit, _entries = (Entry[])_entries.Clone() };
            foreach (var e in t._entries) e.File?.AddRef();
            return t;
        }
    }

    /// <summary>RLIMIT_NOFILE soft limit: fds at or above it cannot be allocated.</summary>
    public int Limit { get; set; } = 1024;

    /// <summary>fs.nr_open: the most fds a process may have, whatever its RLIMIT_NOFILE (Linux's default).</summary>
    public const int NrOpen = 1048576;

    /// <summary>The fd table size a soft RLIMIT_NOFILE of <paramref name="soft"/> allows.</summary>
    public static int LimitFor(ulong soft) => (int)Math.Min(soft, (ulong)NrOpen);

    /// <summary>
    /// Grows the table past <paramref name="fd"/> as expand_fdtable does (a power of two times 128),
    /// so <see cref="Capacity"/> is Linux's max_fds: select(2) looks no further, and FDSize shows it.
    /// </summary>
    void Grow(int fd)
    {
        int n = fd / 128 + 1;
        n = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)n);
        Array.Resize(ref _entries, (int)Math.Min((long)n * 128, NrOpen));
    }

    public FileDescription? Get(int fd) => fd >= 0 && fd < _entries.Length ? _entries[fd].File : null;

    /// <summary>Installs <paramref name="file"/> at the lowest free fd at or above <paramref name="minFd"/>. Takes the caller's reference.</summary>
    public int Install(FileDescription file, bool cloexec, int minFd = 0)
    {
        for (int fd = minFd; fd < Limit; fd++)
        {
            if (fd >= _entries.Length) Grow(fd);
            if (_entries[fd].File == null)
            {
                _entries[fd] = new Entry { File = file, CloseOnExec = cloexec };
                return fd;
            }
        }
        file.Release();
        return -Errno.EMFILE;
    }

    /// <summary>Puts <paramref name="file"/> at exactly <paramref name="fd"/>, closing what was there (dup2/dup3).</summary>
    public int InstallAt(int fd, FileDescription file, bool cloexec)
    {
        if (fd < 0 || fd >= Limit) { file.Release(); return -Errno.EBADF; }
        if (fd >= _entries.Length) Grow(fd);
        var old = _entries[fd].File;
        _entries[fd] = new Entry { File = file, CloseOnExec = cloexec };
        old?.Release();
        return fd;
    }

    public int Close(int fd)
    {
        var f = Get(fd);
        if (f == null) return -Errno.EBADF;
        _entries[fd] = default;
        f.Release();
        return 0;
    }

    public bool GetCloseOnExec(int fd) => Get(fd) != null && _entries[fd].CloseOnExec;

    public int SetCloseOnExec(int fd, bool value)
    {
        if (Get(fd) == null) return -Errno.EBADF;
        _entries[fd].CloseOnExec = value;
        return 0;
    }

    /// <summary>Closes the fds marked FD_CLOEXEC (execve).</summary>
    public void CloseOnExec()
    {
        for (int fd = 0; fd < _entries.Length; fd++)
            if (_entries[fd].File != null && _entries[fd].CloseOnExec) Close(fd);
    }

    /// <summary>Closes every fd (process exit).</summary>
    public void CloseAll()
    {
        for (int fd = 0; fd < _entries.Length; fd++)
            if (_entries[fd].File != null) Close(fd);
    }
}
