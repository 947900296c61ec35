using System.Text;
using Sentry.Kernel.Abi;

namespace Sentry.Kernel.Net;

/// <summary>
/// A struct sockaddr_un: unnamed, a path in the file system, or a name in the abstract namespace
/// (sun_path starting with a NUL byte, the rest of the given length being the name).
/// </summary>
public readonly record struct UnixAddress(string? Path, byte[]? Abstract)
{
    public const int AF_UNIX = 1;
    /// <summary>sizeof(struct sockaddr_un): sun_family and 108 bytes of sun_path.</summary>
    public const int Size = 110, PathMax = 108;

    public bool IsUnnamed => Path == null && Abstract == null;

    /// <summary>The abstract name as a registry key.</summary>
    public string AbstractKey => Convert.ToHexString(Abstract!);

    /// <summary>Parses <paramref name="raw"/> (the addrlen bytes the application gave): 0, or -EINVAL as Linux's unix_mkname.</summary>
    public static long Parse(ReadOnlySpan<byte> raw, out UnixAddress address)
    {
        address = default;
        if (raw.Length < 2 || raw.Length > Size || BitConverter.ToUInt16(raw) != AF_UNIX) return -Errno.EINVAL;
        var path = raw[2..];
        if (path.IsEmpty) return 0; // unnamed: autobind for bind(2)
        if (path[0] == 0)
        {
            address = new UnixAddress(null, path[1..].ToArray());
            return 0;
        }
        int nul = path.IndexOf((byte)0);
        if (nul >= 0) path = path[..nul];
        address = new UnixAddress(Encoding.UTF8.GetString(path), null);
        return 0;
    }

    /// <summary>The sockaddr_un bytes and their length as getsockname reports them (unnamed: the family only).</summary>
    public int Format(Span<byte> buffer)
    {
        buffer[..Size].Clear();
        BitConverter.TryWriteBytes(buffer, (ushort)AF_UNIX);
        if (Abstract != null)
        {
            Abstract.CopyTo(buffer[3..]);
            return 3 + Abstract.Length;
        }
        if (Path == null) return 2;
        int n = Encoding.UTF8.GetBytes(Path, buffer[2..PathMax]);
        return 2 + n + 1; // with the terminating NUL, as Linux counts it
    }
}
