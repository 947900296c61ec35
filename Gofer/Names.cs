using Sentry.Gofer.Abi;

namespace Sentry.Gofer;

/// <summary>
/// Checks on the names clients send. Every path operation takes exactly one name relative to a
/// directory fd; a name that would make the host resolve more than that ('/' inside it), that C
/// would cut short (a NUL), or that is empty is refused before any host call sees it.
/// </summary>
internal static class Names
{
    public static bool IsDot(ReadOnlySpan<byte> name) => name.Length == 1 && name[0] == (byte)'.';
    public static bool IsDotDot(ReadOnlySpan<byte> name) => name.Length == 2 && name[0] == (byte)'.' && name[1] == (byte)'.';
    public static bool IsDotOrDotDot(ReadOnlySpan<byte> name) => IsDot(name) || IsDotDot(name);

    /// <summary>0 if <paramref name="name"/> is one component (possibly "." or ".."), else -errno: ENOENT for "", EINVAL for '/' or NUL, ENAMETOOLONG past NAME_MAX.</summary>
    public static int Check(ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty) return -Errno.ENOENT;
        if (name.Length > Linux.NAME_MAX) return -Errno.ENAMETOOLONG;
        if (name.IndexOfAny((byte)'/', (byte)0) >= 0) return -Errno.EINVAL;
        return 0;
    }

    /// <summary>
    /// Check for a name a new file is to get: "." and ".." exist already, which is Linux's answer
    /// too (mkdir(".") is EEXIST), and the host never sees them.
    /// </summary>
    public static int CheckNew(ReadOnlySpan<byte> name)
    {
        int rc = Check(name);
        if (rc < 0) return rc;
        return IsDotOrDotDot(name) ? -Errno.EEXIST : 0;
    }
}
