using System.Buffers.Binary;
using System.Text;
using Sentry.Kernel.Abi;
using Sentry.Platform;

namespace Sentry.Kernel.Vfs;

/// <summary>One entry of a directory listing (not "." or ".."): its name, DT_* type and inode number.</summary>
public readonly record struct DirEntry(string Name, byte Type, ulong Ino)
{
    /// <summary>The DT_* type for an S_IFMT mode.</summary>
    public static byte TypeOf(uint mode) => (byte)((mode & Linux.S_IFMT) >> 12);

    /// <summary>Reads every entry of an open host directory except "." and "..".</summary>
    public static unsafe long ReadHost(int fd, List<DirEntry> entries)
    {
        byte* buf = stackalloc byte[8192];
        while (true)
        {
            long n = HostSyscall.CallRestarting(217 /* getdents64 */, fd, (long)buf, 8192);
            if (n < 0) return n;
            if (n == 0) return 0;
            var span = new ReadOnlySpan<byte>(buf, (int)n);
            for (int off = 0; off < n;)
            {
                var rec = span[off..];
                ulong ino = BinaryPrimitives.ReadUInt64LittleEndian(rec);
                int reclen = BinaryPrimitives.ReadUInt16LittleEndian(rec[16..]);
                var nameBytes = rec[19..reclen];
                int len = nameBytes.IndexOf((byte)0);
                string name = Encoding.UTF8.GetString(len < 0 ? nameBytes : nameBytes[..len]);
                if (name != "." && name != "..") entries.Add(new DirEntry(name, rec[18], ino));
                off += reclen;
            }
        }
    }
}
