namespace Sentry.Kernel.Vfs;

/// <summary>
/// A change of inode attributes (chmod, chown, truncate, utimensat): <see cref="Mask"/> says
/// which fields are set. Times are (seconds, nanoseconds); the caller has already turned
/// UTIME_NOW into the current time.
/// </summary>
public readonly record struct SetAttr
{
    [Flags]
    public enum Fields { None = 0, Mode = 1, Uid = 2, Gid = 4, Size = 8, Atime = 16, Mtime = 32 }

    public Fields Mask { get; init; }
    public uint Mode { get; init; }
    public uint Uid { get; init; }
    public uint Gid { get; init; }
    public long Size { get; init; }
    public (long Sec, long Nsec) Atime { get; init; }
    public (long Sec, long Nsec) Mtime { get; init; }

    public bool Has(Fields f) => (Mask & f) != 0;
}
