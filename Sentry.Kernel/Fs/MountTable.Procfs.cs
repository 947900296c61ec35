namespace Sentry.Kernel.Fs;

// The mounts as /proc/<pid>/mounts and mountinfo list them.
public sealed partial class MountTable
{
    /// <summary>The tmpfs mounts in the order they were made.</summary>
    public IReadOnlyList<Mount> All => _mounts;
}
