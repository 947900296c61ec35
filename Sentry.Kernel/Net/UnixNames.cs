namespace Sentry.Kernel.Net;

/// <summary>
/// The sandbox's AF_UNIX names: sockets bound to a path (found by the socket inode's device and
/// inode numbers, so any path to it connects) and to abstract names. Also the one lock all of the
/// sandbox's unix sockets change state and queues under: connecting touches two sockets at once,
/// and one lock keeps that simple and free of lock-order problems.
/// </summary>
public sealed class UnixNames
{
    readonly Dictionary<(ulong, ulong), UnixSocket> _paths = new();
    readonly Dictionary<string, UnixSocket> _abstract = new();

    public object Lock { get; } = new();

    /// <summary>Registers a bound socket (caller holds <see cref="Lock"/>); false when the abstract name is taken.</summary>
    public bool Add(UnixAddress address, (ulong, ulong) inode, UnixSocket socket)
    {
        if (address.Abstract != null) return _abstract.TryAdd(address.AbstractKey, socket);
        _paths[inode] = socket;
        return true;
    }

    public void Remove(UnixAddress address, (ulong, ulong) inode, UnixSocket socket)
    {
        if (address.Abstract != null) { if (_abstract.TryGetValue(address.AbstractKey, out var s) && s == socket) _abstract.Remove(address.AbstractKey); }
        else if (_paths.TryGetValue(inode, out var s) && s == socket) _paths.Remove(inode);
    }

    /// <summary>Every bound socket (caller holds <see cref="Lock"/>): what /proc/net/unix lists.</summary>
    public List<UnixSocket> Bound() => [.. _paths.Values, .. _abstract.Values];

    /// <summary>The socket bound at a path's inode or an abstract name (caller holds <see cref="Lock"/>), or null.</summary>
    public UnixSocket? Find(UnixAddress address, (ulong, ulong) inode) =>
        address.Abstract != null ? _abstract.GetValueOrDefault(address.AbstractKey) : _paths.GetValueOrDefault(inode);
}
