using System.Buffers.Binary;
using System.Text;

namespace Sentry.Kernel.Abi;

/// <summary><c>struct linux_dirent64</c> records as getdents64 returns them.</summary>
public static class Dirent64
{
    public const byte DT_CHR = 2, DT_DIR = 4, DT_REG = 8, DT_LNK = 10;

    /// <summary>
    /// Writes entries[<paramref name="pos"/>..] into <paramref name="buffer"/> while they fit, advancing
    /// <paramref name="pos"/> (the directory offset). Returns bytes written, or -EINVAL when not even
    /// one record fits.
    /// </summary>
    public static long Fill(Span<byte> buffer, IReadOnlyList<(string Name, byte Type, ulong Ino)> entries, ref long pos)
    {
        int written = 0;
        while (pos < entries.Count)
        {
            var (name, type, ino) = entries[(int)pos];
            int reclen = (19 + Encoding.UTF8.GetByteCount(name) + 1 + 7) & ~7;
            if (written + reclen > buffer.Length) break;
            var rec = buffer.Slice(written, reclen);
            rec.Clear();
            BinaryPrimitives.WriteUInt64LittleEndian(rec, ino);
            BinaryPrimitives.WriteInt64LittleEndian(rec[8..], pos + 1);
            BinaryPrimitives.WriteUInt16LittleEndian(rec[16..], (ushort)reclen);
            rec[18] = type;
            Encoding.UTF8.GetBytes(name, rec[19..]);
            written += reclen;
            pos++;
        }
        return written == 0 && pos < entries.Count ? -Errno.EINVAL : written;
    }
}
