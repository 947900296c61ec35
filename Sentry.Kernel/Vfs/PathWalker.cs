using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs;

/// <summary>
/// Result of a path walk: the canonical absolute path (no symlinks, "." or ".."), the node there
/// (null when the last component does not exist), the directory that holds or would hold the last
/// component and its name — or an error.
/// </summary>
public readonly record struct Lookup(int Error, string Path, Inode? Node, Inode? Parent, string LastName)
{
    public bool Exists => Node != null;
    public uint Mode => Node?.Mode ?? 0;
    public bool IsDir => Node?.IsDir ?? false;
    public bool IsSymlink => Node?.IsSymlink ?? false;
    /// <summary>The path ended in "/": only a directory may be there (or be made there).</summary>
    public bool TrailingSlash { get; init; }
    public static Lookup Fail(int errno) => new(-errno, "", null, null, "");
}

/// <summary>
/// Walks paths component by component the way Linux does — symlinks (at most 40), "..", trailing
/// slashes, *at() directory fds, mount points — over the sandbox's mount table. Every component is
/// looked up in Sentry's own tree; the host never resolves a path for the application, so a
/// symlink cannot lead out of the sandbox's root and ".." stops at "/".
/// </summary>
public static class PathWalker
{
    const int MaxSymlinks = 40;
    public const int PATH_MAX = 4096, NAME_MAX = 255;

    /// <summary>The walk's position: the names from "/" and the node of each (null until needed).</summary>
    sealed class Position
    {
        public readonly List<string> Names = new();
        public readonly List<Inode?> Nodes = new();
        public Inode Root = null!;

        public Inode Top(Task task)
        {
            if (Names.Count == 0) return Root;
            if (Nodes[^1] == null) Refill(task);
            return Nodes[^1]!;
        }

        public Inode? ParentOfTop(Task task) => Names.Count == 0 ? null : Names.Count == 1 ? Root : NodeAt(task, Names.Count - 2);

        Inode NodeAt(Task task, int i)
        {
            if (Nodes[i] == null) Refill(task);
            return Nodes[i] ?? Root;
        }

        /// <summary>Fills the nodes of a base path given only by name (a dirfd's or the cwd's ancestors) by walking it from "/".</summary>
        void Refill(Task task)
        {
            Inode cur = Root;
            var mounts = task.Sandbox.Mounts;
            var prefix = new List<string>();
            for (int i = 0; i < Names.Count; i++)
            {
                prefix.Add(Names[i]);
                if (Nodes[i] == null)
                {
                    Inode? next = mounts.MountedAt(prefix);
                    if (next == null && cur.Lookup(task, Names[i], out next) < 0) return; // gone: later lookups fail
                    Nodes[i] = next;
                }
                cur = Nodes[i]!;
            }
        }

        public void Push(string name, Inode? node) { Names.Add(name); Nodes.Add(node); }
        public void Pop() { Names.RemoveAt(Names.Count - 1); Nodes.RemoveAt(Nodes.Count - 1); }
        public string Path => Names.Count == 0 ? "/" : "/" + string.Join('/', Names);
    }

    public static Lookup Resolve(Task task, int dirfd, string path, bool followLast)
    {
        if (path.Length == 0) return Lookup.Fail(Errno.ENOENT);
        if (path.Length >= PATH_MAX) return Lookup.Fail(Errno.ENAMETOOLONG);
        var pos = new Position { Root = task.Sandbox.Mounts.Root };
        if (path[0] != '/')
        {
            string basePath;
            Inode? baseNode;
            if (dirfd == Linux.AT_FDCWD) (basePath, baseNode) = (task.Fs.Cwd, task.Fs.CwdNode);
            else
            {
                var f = task.Fds.Get(dirfd);
                if (f == null) return Lookup.Fail(Errno.EBADF);
                if (!f.IsDirectory) return Lookup.Fail(Errno.ENOTDIR);
                (basePath, baseNode) = (f.Path, f.Inode);
            }
            foreach (var n in basePath.Split('/', StringSplitOptions.RemoveEmptyEntries)) pos.Push(n, null);
            if (pos.Names.Count > 0) pos.Nodes[^1] = baseNode;
        }

        var queue = new LinkedList<string>(path.Split('/'));
        int links = 0;
        Inode? node = pos.Top(task); // null once the last component turned out not to exist
        while (queue.Count > 0)
        {
            string c = queue.First!.Value;
            queue.RemoveFirst();
            if (c.Length == 0 || c == ".")
            {
                if (c == "." && node is { IsDir: false }) return Lookup.Fail(Errno.ENOTDIR);
                continue;
            }
            if (node == null) return Lookup.Fail(Errno.ENOENT);
            if (!node.IsDir) return Lookup.Fail(Errno.ENOTDIR);
            if (!Permission.May(task, node, Linux.X_OK)) return Lookup.Fail(Errno.EACCES);
            bool last = AllEmpty(queue);
            if (c == "..")
            {
                if (pos.Names.Count > 0) pos.Pop();
                node = pos.Top(task);
                continue;
            }
            if (NameTooLong(c)) return Lookup.Fail(Errno.ENAMETOOLONG);
            pos.Push(c, null);
            var mounted = task.Sandbox.Mounts.MountedAt(pos.Names);
            Inode? child = mounted;
            if (child == null)
            {
                long r = node.Lookup(task, c, out child);
                if (r == -Errno.ENOENT && last) { node = null; continue; }
                if (r < 0) return Lookup.Fail((int)-r);
            }
            pos.Nodes[^1] = child;
            node = child;
            bool trailingSlash = queue.Count > 0;
            if (child!.IsSymlink && (!last || followLast || trailingSlash))
            {
                if (++links > MaxSymlinks) return Lookup.Fail(Errno.ELOOP);
                if (child is SyntheticInode { Node.Opened: { Inode: null } anonymous } && last)
                {
                    // A pipe or the host's stdio: the walk ends at the open file itself.
                    node = new ReopenInode(anonymous);
                    pos.Nodes[^1] = node;
                    continue;
                }
                if (child is SyntheticInode { Node.Opened: { Inode: { } opened } file })
                {
                    // A magic link: continue at the open file's node, under the path it was opened by.
                    while (pos.Names.Count > 0) pos.Pop();
                    foreach (var n in file.Path.Split('/', StringSplitOptions.RemoveEmptyEntries)) pos.Push(n, null);
                    if (pos.Names.Count > 0) pos.Nodes[^1] = opened;
                    node = opened;
                    continue;
                }
                long r = child.ReadLink(task, out var target);
                if (r < 0) return Lookup.Fail((int)-r);
                if (target.Length == 0) return Lookup.Fail(Errno.ENOENT);
                pos.Pop();
                if (target[0] == '/') while (pos.Names.Count > 0) pos.Pop();
                var parts = target.Split('/');
                for (int i = parts.Length - 1; i >= 0; i--) queue.AddFirst(parts[i]);
                node = pos.Top(task);
            }
        }
        // "dir/" must name a directory.
        if (node != null && path.EndsWith('/') && !node.IsDir) return Lookup.Fail(Errno.ENOTDIR);
        string name = pos.Names.Count > 0 ? pos.Names[^1] : "";
        return new Lookup(0, pos.Path, node, pos.ParentOfTop(task), name) { TrailingSlash = path.EndsWith('/') };
    }

    static bool AllEmpty(LinkedList<string> q)
    {
        foreach (var s in q) if (s.Length != 0) return false;
        return true;
    }

    /// <summary>A component longer than NAME_MAX bytes (a string of at most 85 UTF-16 units cannot be).</summary>
    static bool NameTooLong(string c) => c.Length > NAME_MAX / 3 && System.Text.Encoding.UTF8.GetByteCount(c) > NAME_MAX;

    /// <summary>readlink(2) of a resolved (not followed) path: the link's text, or -errno.</summary>
    public static long ReadLink(Task task, in Lookup l, out string target)
    {
        target = "";
        if (!l.Exists) return -Errno.ENOENT;
        return l.Node!.ReadLink(task, out target);
    }
}
