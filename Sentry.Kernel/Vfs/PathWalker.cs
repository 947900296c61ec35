using System.Text;
using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;
using Sentry.Platform;

namespace Sentry.Kernel.Vfs;

/// <summary>Result of a path walk: a canonical absolute path (no symlinks, "." or ".."), what is there, or an error.</summary>
public readonly record struct Lookup(int Error, string Path, bool Exists, uint Mode, VirtualNode? Node)
{
    /// <summary>The tmpfs inode found (when the path is inside a tmpfs mount and exists).</summary>
    public Fs.TmpfsNode? Tmp { get; init; }
    /// <summary>For a tmpfs path: the directory that holds (or would hold) the last component, and its name.</summary>
    public Fs.TmpfsNode? TmpParent { get; init; }
    public string LastName { get; init; } = "";
    public bool IsDir => (Mode & Linux.S_IFMT) == Linux.S_IFDIR;
    public bool IsSymlink => (Mode & Linux.S_IFMT) == Linux.S_IFLNK;
    public static Lookup Fail(int errno) => new(-errno, "", false, 0, null);
}

/// <summary>
/// Walks paths component by component the way Linux does — symlinks (at most 40), "..", trailing
/// slashes, *at() directory fds — over the host root with Sentry's own /dev, /proc and /sys in
/// front of the host's. Walking in Sentry (rather than letting the host resolve a whole path)
/// keeps host symlinks into /proc from reaching the host's procfs.
/// </summary>
public static unsafe class PathWalker
{
    const int SYS_readlink = 89, SYS_newfstatat = 262;
    const int MaxSymlinks = 40;
    public const int PATH_MAX = 4096;

    static readonly VirtualNode s_dev = VirtualNode.BuildDev(), s_proc = VirtualNode.BuildProc(), s_sys = VirtualNode.BuildSys();

    public static Lookup Resolve(Task task, int dirfd, string path, bool followLast)
    {
        if (path.Length == 0) return Lookup.Fail(Errno.ENOENT);
        if (path.Length >= PATH_MAX) return Lookup.Fail(Errno.ENAMETOOLONG);
        string basePath;
        if (path[0] == '/') basePath = "/";
        else if (dirfd == Linux.AT_FDCWD) basePath = task.Fs.Cwd;
        else
        {
            var f = task.Fds.Get(dirfd);
            if (f == null) return Lookup.Fail(Errno.EBADF);
            if (!f.IsDirectory) return Lookup.Fail(Errno.ENOTDIR);
            basePath = f.Path;
        }

        var stack = new List<string>(basePath.Split('/', StringSplitOptions.RemoveEmptyEntries));
        var queue = new LinkedList<string>(path.Split('/'));
        int links = 0;
        uint mode = Linux.S_IFDIR;
        // Inside a tmpfs mount: the inode reached so far and its directory.
        Fs.TmpfsNode? tmp = task.Sandbox.Mounts.NodeAt(stack), tmpParent = tmp?.Parent;
        VirtualNode? node = null;
        bool exists = true;

        while (queue.Count > 0)
        {
            string c = queue.First!.Value;
            queue.RemoveFirst();
            bool last = queue.Count == 0 || AllEmpty(queue);
            if (c.Length == 0 || c == ".")
            {
                if (c == "." && (mode & Linux.S_IFMT) != Linux.S_IFDIR) return Lookup.Fail(Errno.ENOTDIR);
                continue;
            }
            if ((mode & Linux.S_IFMT) != Linux.S_IFDIR) return Lookup.Fail(exists ? Errno.ENOTDIR : Errno.ENOENT);
            if (c == "..")
            {
                if (stack.Count > 0) stack.RemoveAt(stack.Count - 1);
                (exists, mode, node) = (true, Linux.S_IFDIR, VirtualFor(task, stack));
                tmp = task.Sandbox.Mounts.NodeAt(stack);
                tmpParent = tmp?.Parent;
                continue;
            }
            if (c.Length > 255) return Lookup.Fail(Errno.ENAMETOOLONG);
            stack.Add(c);
            string? target;
            var mount = task.Sandbox.Mounts.Find(stack);
            var virt = mount == null ? VirtualRoot(stack) : null;
            if (mount is { } m)
            {
                node = null;
                var parent = tmp;
                lock (m.Fs.Lock) tmp = stack.Count == m.Depth ? m.Fs.Root : tmp?.Children?.GetValueOrDefault(c);
                tmpParent = stack.Count == m.Depth ? m.Fs.Root : parent;
                if (tmp == null) { exists = false; mode = 0; if (!last) return Lookup.Fail(Errno.ENOENT); continue; }
                exists = true;
                mode = tmp.Mode;
                target = tmp.IsSymlink ? tmp.Target : null;
            }
            else if (virt != null)
            {
                node = Descend(task, virt, stack);
                if (node == null) { exists = false; mode = 0; if (!last) return Lookup.Fail(Errno.ENOENT); continue; }
                exists = true;
                mode = node.Stat().st_mode;
                target = node.Type == VirtualNode.NodeType.Symlink ? node.Target!(task) : null;
            }
            else
            {
                node = null;
                string p = Join(stack);
                LinuxStat st;
                long r;
                fixed (byte* pp = Encoding.UTF8.GetBytes(p + "\0")) r = HostSyscall.Call(SYS_newfstatat, Linux.AT_FDCWD, (long)pp, (long)&st, Linux.AT_SYMLINK_NOFOLLOW);
                if (r < 0)
                {
                    if (r == -Errno.ENOENT && last) { exists = false; mode = 0; continue; }
                    return Lookup.Fail((int)-r);
                }
                exists = true;
                mode = st.st_mode;
                target = (mode & Linux.S_IFMT) == Linux.S_IFLNK ? ReadHostLink(p) : null;
            }
            bool trailingSlash = queue.Count > 0;
            if (target != null && (!last || followLast || trailingSlash))
            {
                if (++links > MaxSymlinks) return Lookup.Fail(Errno.ELOOP);
                stack.RemoveAt(stack.Count - 1);
                tmp = tmpParent;
                if (target.StartsWith('/')) stack.Clear();
                tmp = task.Sandbox.Mounts.NodeAt(stack);
                tmpParent = tmp?.Parent;
                var parts = target.Split('/');
                for (int i = parts.Length - 1; i >= 0; i--) queue.AddFirst(parts[i]);
                mode = Linux.S_IFDIR;
                node = VirtualFor(task, stack);
                exists = true;
            }
        }
        // "dir/" must name a directory.
        if (exists && path.EndsWith('/') && (mode & Linux.S_IFMT) != Linux.S_IFDIR) return Lookup.Fail(Errno.ENOTDIR);
        bool inTmpfs = task.Sandbox.Mounts.Find(stack) != null;
        return new Lookup(0, Join(stack), exists, mode, !inTmpfs && VirtualRoot(stack) != null ? node ?? VirtualFor(task, stack) : null)
        {
            Tmp = inTmpfs && exists ? tmp : null,
            TmpParent = inTmpfs ? tmpParent : null,
            LastName = stack.Count > 0 ? stack[^1] : "",
        };
    }

    static bool AllEmpty(LinkedList<string> q)
    {
        foreach (var s in q) if (s.Length != 0) return false;
        return true;
    }

    static string Join(List<string> stack) => stack.Count == 0 ? "/" : "/" + string.Join('/', stack);

    static VirtualNode? VirtualRoot(List<string> stack) => stack.Count == 0 ? null : stack[0] switch
    {
        "dev" => s_dev,
        "proc" => s_proc,
        "sys" => s_sys,
        _ => null,
    };

    static VirtualNode? Descend(Task task, VirtualNode root, List<string> stack)
    {
        VirtualNode? n = root;
        for (int i = 1; i < stack.Count && n != null; i++) n = n.Child(stack[i], task);
        return n;
    }

    static VirtualNode? VirtualFor(Task task, List<string> stack)
    {
        var root = VirtualRoot(stack);
        return root == null ? null : Descend(task, root, stack);
    }

    static string? ReadHostLink(string path)
    {
        byte* buf = stackalloc byte[PATH_MAX];
        long r;
        fixed (byte* pp = Encoding.UTF8.GetBytes(path + "\0")) r = HostSyscall.Call(SYS_readlink, (long)pp, (long)buf, PATH_MAX);
        return r < 0 ? null : Encoding.UTF8.GetString(buf, (int)r);
    }

    /// <summary>readlink(2) of a resolved (not followed) path: the link's text, or -errno.</summary>
    public static long ReadLink(Task task, in Lookup l, out string target)
    {
        target = "";
        if (!l.Exists) return -Errno.ENOENT;
        if (!l.IsSymlink) return -Errno.EINVAL;
        if (l.Node != null) { target = l.Node.Target!(task); return 0; }
        if (l.Tmp != null) { target = l.Tmp.Target!; return 0; }
        var t = ReadHostLink(l.Path);
        if (t == null) return -Errno.EINVAL;
        target = t;
        return 0;
    }
}
