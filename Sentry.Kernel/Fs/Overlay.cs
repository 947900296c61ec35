using Sentry.Kernel.Abi;
using Sentry.Kernel.Vfs;

namespace Sentry.Kernel.Fs;

/// <summary>
/// The sandbox's root: a read-only lower tree (the host root or the Gofer's) under a tmpfs upper
/// layer that takes every change, so programs can write anywhere they have permission while the
/// host's files stay untouched. What was written vanishes with the sandbox.
/// </summary>
public sealed class Overlay
{
    public Tmpfs Upper { get; }
    public OverlayInode Root { get; }
    /// <summary>Serialises copy-ups so two tasks cannot copy the same lower file at once.</summary>
    internal object CopyUpLock { get; } = new();
    /// <summary>Bumped by every copy-up: tells nodes looked up earlier to look for their new upper copy.</summary>
    internal int Generation;
    /// <summary>
    /// A read-only root (an OCI root.readonly, `podman run --read-only`): every change answers
    /// EROFS. Mount points for volumes are still made in the upper layer by the kernel itself.
    /// </summary>
    public bool ReadOnly { get; init; }

    public Overlay(Inode lower, Tmpfs upper)
    {
        Upper = upper;
        // The root directory of a system is drwxr-xr-x root:root. It is not read from the lower
        // root, so the sandbox can be built while the lower tree (the Gofer) is still starting.
        upper.Root.FileMode = (uint)Linux.S_IFDIR | 0x1ed;
        upper.Root.OwnerUid = upper.Root.OwnerGid = 0;
        Root = new OverlayInode(this, null, "", upper.Root, lower);
    }
}
