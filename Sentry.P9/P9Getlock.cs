namespace Sentry.P9;

/// <summary>
/// A lock as Tgetlock asks about it and Rgetlock answers (Linux's struct p9_getlock without
/// client_id): type is P9_LOCK_TYPE_*, length 0 means to the end of the file.
/// </summary>
public record struct P9Getlock
{
    public byte type;
    public ulong start, length;
    public uint proc_id;
}
