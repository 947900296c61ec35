using System.Text;
using Sentry.Kernel.Abi;

namespace Sentry.Kernel.Fs;

/// <summary>
/// The extended attributes of a tmpfs node, kept in memory: the user., trusted. and security.
/// namespaces as Linux tmpfs has them; others are EOPNOTSUPP. Callers hold the file system's lock.
/// </summary>
public sealed class XattrMap
{
    const int XATTR_CREATE = 1, XATTR_REPLACE = 2, XATTR_SIZE_MAX = 65536;
    readonly Dictionary<string, byte[]> _values = new();

    public static bool Supported(string name) =>
        name.StartsWith("user.", StringComparison.Ordinal) || name.StartsWith("trusted.", StringComparison.Ordinal) || name.StartsWith("security.", StringComparison.Ordinal);

    public long Get(string name, Span<byte> value)
    {
        if (!Supported(name)) return -Errno.EOPNOTSUPP;
        if (!_values.TryGetValue(name, out var v)) return -Errno.ENODATA;
        if (value.Length == 0) return v.Length;
        if (value.Length < v.Length) return -Errno.ERANGE;
        v.CopyTo(value);
        return v.Length;
    }

    public long List(Span<byte> list)
    {
        int total = 0;
        foreach (var k in _values.Keys) total += Encoding.UTF8.GetByteCount(k) + 1;
        if (list.Length == 0) return total;
        if (list.Length < total) return -Errno.ERANGE;
        int at = 0;
        foreach (var k in _values.Keys)
        {
            at += Encoding.UTF8.GetBytes(k, list[at..]);
            list[at++] = 0;
        }
        return total;
    }

    public long Set(string name, ReadOnlySpan<byte> value, int flags)
    {
        if ((flags & ~(XATTR_CREATE | XATTR_REPLACE)) != 0) return -Errno.EINVAL;
        if (!Supported(name)) return -Errno.EOPNOTSUPP;
        if (name.IndexOf('.') == name.Length - 1) return -Errno.EINVAL; // a namespace with no name
        if (value.Length > XATTR_SIZE_MAX) return -Errno.E2BIG;
        bool exists = _values.ContainsKey(name);
        if ((flags & XATTR_CREATE) != 0 && exists) return -Errno.EEXIST;
        if ((flags & XATTR_REPLACE) != 0 && !exists) return -Errno.ENODATA;
        _values[name] = value.ToArray();
        return 0;
    }

    public long Remove(string name)
    {
        if (!Supported(name)) return -Errno.EOPNOTSUPP;
        return _values.Remove(name) ? 0 : -Errno.ENODATA;
    }
}
