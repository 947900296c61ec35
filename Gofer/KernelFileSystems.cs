namespace Sentry.Gofer;

/// <summary>
/// File systems the Gofer never serves, even when mounted inside the export (as /proc, /sys and
/// the rest are when the export is "/"): they are interfaces to the host kernel, not files.
/// Writing /proc/sys/kernel/core_pattern, a cgroup's release_agent or a binfmt_misc register
/// runs code on the host; reading /proc/PID/mem or /sys/kernel/debug leaks it. Sentry brings its
/// own procfs, sysfs and devpts. Walking onto such a mount answers EACCES. Values from
/// linux/magic.h.
/// </summary>
internal static class KernelFileSystems
{
    static readonly long[] Refused =
    [
        0x9fa0,      // PROC_SUPER_MAGIC
        0x62656572,  // SYSFS_MAGIC
        0x64626720,  // DEBUGFS_MAGIC
        0x74726163,  // TRACEFS_MAGIC
        0x73636673,  // SECURITYFS_MAGIC
        0xcafe4a11,  // BPF_FS_MAGIC
        0x27e0eb,    // CGROUP_SUPER_MAGIC
        0x63677270,  // CGROUP2_SUPER_MAGIC
        0x62656570,  // CONFIGFS_MAGIC
        0xde5e81e4,  // EFIVARFS_MAGIC
        0x6165676c,  // PSTOREFS_MAGIC
        0x65735543,  // FUSECTL_SUPER_MAGIC
        0x42494e4d,  // BINFMTFS_MAGIC
        0x1cd1,      // DEVPTS_SUPER_MAGIC
        0x19800202,  // MQUEUE_MAGIC
        0x6e736673,  // NSFS_MAGIC
        0xf97cff8c,  // SELINUX_MAGIC
        0x43415d53,  // SMACK_MAGIC
    ];

    public static bool IsRefused(long fsType) => Array.IndexOf(Refused, fsType & 0xffffffff) >= 0;
}
