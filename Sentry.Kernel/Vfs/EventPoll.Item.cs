using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs;

public sealed partial class EventPoll
{
    /// <summary>
    /// One interest: an (fd, file) pair with its events and data. It is its file's wait queue
    /// entry, so every wakeup of the file reaches <see cref="ItemWoken"/>; its ready-list node is
    /// made once, so becoming ready allocates nothing.
    /// </summary>
    public sealed class Item : IWaiter
    {
        public readonly EventPoll Owner;
        public readonly int Fd;
        public readonly FileDescription File;
        /// <summary>The EPOLL* bits asked for; only the private bits remain once EPOLLONESHOT disarmed it.</summary>
        public uint Events;
        public ulong Data;
        /// <summary>Gone from the interest list (EPOLL_CTL_DEL, the file's last close, the epoll's last close).</summary>
        public bool Removed;
        /// <summary>For a file without a wait queue: whether it was ready when last asked (edges are seen as rises).</summary>
        public bool WasReady;
        public readonly LinkedListNode<Item> ReadyNode;

        public Item(EventPoll owner, int fd, FileDescription file)
        {
            Owner = owner;
            Fd = fd;
            File = file;
            ReadyNode = new LinkedListNode<Item>(this);
        }

        bool IWaiter.Wake(int key) => Owner.ItemWoken(this, key);
    }
}
