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

    public Overlay(Inode lower, Tmpfs upper)
    {
        Upper = upper;
        lower.Stat(out var st);
        // The upper root takes the lower root's attributes: the sandbox's / looks like the host's.
        upper.Root.FileMode = st.st_mode;
        upper.Root.OwnerUid = st.st_uid;
        upper.Root.OwnerGid = st.st_gid;
        Root = new OverlayInode(this, null, "", upper.Root, lower);
    }
}
