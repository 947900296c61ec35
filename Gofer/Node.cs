using Sentry.Gofer.Abi;
using Sentry.Gofer.Host;

namespace Sentry.Gofer;

/// <summary>
/// A host file a connection reached by walking: an O_PATH fd that pins it, the node of the
/// directory it was found in and the name it had there. Parents make the nodes a tree rooted at
/// the export root, so ".." is the parent node: the host is never asked to resolve "..", and
/// ".." at the root is the root, wherever directories have moved on the host meanwhile.
/// <para>
/// Reference-counted, on one connection's thread only: a fid holds one reference, a child one on
/// its parent. Every live node is also on its connection's <see cref="NodeSet"/>, which closes
/// what is left when the connection ends (a rename can in principle tie nodes into a loop).
/// </para>
/// </summary>
internal sealed class Node
{
    readonly NodeSet _set;
    int _refs = 1;
    internal Node? PrevLive, NextLive;

    /// <summary>O_PATH|O_NOFOLLOW fd of the file (of a symlink itself when it is one).</summary>
    public int Fd { get; private set; }
    /// <summary>The directory this was walked from; null at the export root.</summary>
    public Node? Parent { get; private set; }
    /// <summary>Its name in <see cref="Parent"/> when it was walked (or last renamed through this connection).</summary>
    public byte[] Name { get; private set; }
    /// <summary>Identity at walk time: a name is trusted to still mean this file only if these match.</summary>
    public ulong Dev { get; }
    public ulong Ino { get; }
    /// <summary>S_IF* type; a file's type never changes.</summary>
    public uint Type { get; }

    public bool IsDir => Type == Linux.S_IFDIR;
    public bool IsSymlink => Type == Linux.S_IFLNK;
    public bool IsRegular => Type == Linux.S_IFREG;

    /// <summary>Takes ownership of <paramref name="fd"/> and a reference on <paramref name="parent"/>.</summary>
    public Node(NodeSet set, int fd, Node? parent, byte[] name, in LinuxStat st)
    {
        _set = set;
        Fd = fd;
        Parent = parent;
        parent?.AddRef();
        Name = name;
        Dev = st.st_dev;
        Ino = st.st_ino;
        Type = st.Type;
        set.Add(this);
    }

    public bool Is(in LinuxStat st) => st.st_dev == Dev && st.st_ino == Ino;

    public Node AddRef()
    {
        _refs++;
        return this;
    }

    /// <summary>Drops one reference; the last closes the fd and releases the parent (iteratively: chains can be long).</summary>
    public void Release()
    {
        Node? n = this;
        while (n != null && --n._refs == 0)
        {
            Node? parent = n.Parent;
            n.Close();
            n = parent;
        }
    }

    /// <summary>After a rename through this connection: the file now lives at <paramref name="name"/> in <paramref name="parent"/>.</summary>
    public void MoveTo(Node parent, byte[] name)
    {
        parent.AddRef();
        Parent?.Release();
        Parent = parent;
        Name = name;
    }

    /// <summary>Closes the fd and leaves the live set; the node is dead afterwards.</summary>
    internal void Close()
    {
        if (Fd < 0) return;
        Sys.Close(Fd);
        Fd = -1;
        Parent = null;
        _set.Remove(this);
    }
}

/// <summary>Every live node of one connection (an intrusive list), so that ending the connection closes every fd it opened.</summary>
internal sealed class NodeSet
{
    Node? _head;

    public int Count { get; private set; }

    public void Add(Node n)
    {
        n.NextLive = _head;
        if (_head != null) _head.PrevLive = n;
        _head = n;
        Count++;
    }

    public void Remove(Node n)
    {
        if (n.PrevLive != null) n.PrevLive.NextLive = n.NextLive;
        else if (_head == n) _head = n.NextLive;
        else return; // not on the list
        if (n.NextLive != null) n.NextLive.PrevLive = n.PrevLive;
        n.PrevLive = n.NextLive = null;
        Count--;
    }

    public void CloseAll()
    {
        while (_head != null) _head.Close();
    }
}
