namespace Sentry.Kernel.Fs;

/// <summary>
/// The data string of mount(2) for a tmpfs ("size=64m,mode=755"), parsed as Linux's shmem
/// parameters are: size in bytes with k/m/g/t/p/e suffixes or as a percentage of RAM, nr_blocks
/// in pages; mode in octal, uid and gid in decimal. Options Sentry's tmpfs has no use for
/// (nr_inodes, huge, mpol, inode32/64, noswap) are accepted and ignored; anything else is EINVAL,
/// as Linux refuses an unknown tmpfs parameter.
/// </summary>
internal readonly record struct TmpfsOptions(long LimitPages, uint Mode, uint? Uid, uint? Gid, bool SizeGiven)
{
    const int PageShift = 12;

    public static long Parse(string data, long ramPages, out TmpfsOptions options)
    {
        options = new TmpfsOptions(ramPages / 2, 0x3ff /* 01777 */, null, null, false);
        foreach (var opt in data.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = opt.IndexOf('=');
            string key = eq < 0 ? opt : opt[..eq], value = eq < 0 ? "" : opt[(eq + 1)..];
            switch (key)
            {
                case "size":
                {
                    if (!MemParse(value, out ulong size, out int rest)) return -Errno.EINVAL;
                    if (rest < value.Length && value[rest] == '%')
                    {
                        // As shmem_parse_one: a percentage of RAM, in pages.
                        UInt128 bytes = ((UInt128)size << PageShift) * (ulong)ramPages / 100;
                        size = bytes > ulong.MaxValue ? ulong.MaxValue : (ulong)bytes;
                        rest++;
                    }
                    if (rest != value.Length) return -Errno.EINVAL;
                    ulong pages = size / 4096 + (size % 4096 != 0 ? 1UL : 0);
                    if (pages > long.MaxValue) return -Errno.EINVAL;
                    options = options with { LimitPages = (long)pages, SizeGiven = true };
                    break;
                }
                case "nr_blocks":
                {
                    if (!MemParse(value, out ulong pages, out int rest) || rest != value.Length || pages > long.MaxValue) return -Errno.EINVAL;
                    options = options with { LimitPages = (long)pages, SizeGiven = true };
                    break;
                }
                case "mode":
                    if (!ParseNumber(value, 8, out ulong mode) || mode > uint.MaxValue) return -Errno.EINVAL;
                    options = options with { Mode = (uint)mode & 0xfff };
                    break;
                case "uid":
                case "gid":
                    if (!ParseNumber(value, 10, out ulong id) || id >= uint.MaxValue) return -Errno.EINVAL;
                    options = key == "uid" ? options with { Uid = (uint)id } : options with { Gid = (uint)id };
                    break;
                case "nr_inodes" or "huge" or "mpol" or "inode32" or "inode64" or "noswap":
                    break;
                default:
                    return -Errno.EINVAL;
            }
        }
        return 0;
    }

    /// <summary>The options /proc/mounts shows beyond rw/ro: size only when it is not the default, as shmem_show_options.</summary>
    public string Shown(long ramPages)
    {
        string s = Mode != 0x3ff ? "," + "mode=" + Convert.ToString(Mode, 8).PadLeft(3, '0') : "";
        if (Uid is uint u && u != 0) s += ",uid=" + u;
        if (Gid is uint g && g != 0) s += ",gid=" + g;
        if (LimitPages != ramPages / 2) s += ",size=" + (LimitPages << (PageShift - 10)) + "k";
        return s;
    }

    /// <summary>
    /// Linux's memparse: a number in C notation (0x hex, leading 0 octal, else decimal) and an
    /// optional K/M/G/T/P/E suffix (either case); <paramref name="rest"/> is where parsing stopped.
    /// False when there is no number or it overflows.
    /// </summary>
    static bool MemParse(string s, out ulong value, out int rest)
    {
        value = 0;
        int i = 0, radix = 10;
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && s.Length > 2 && Uri.IsHexDigit(s[2])) { radix = 16; i = 2; }
        else if (s.StartsWith('0')) radix = 8;
        int start = i;
        for (; i < s.Length; i++)
        {
            int d = DigitValue(s[i]);
            if (d < 0 || d >= radix) break;
            if (value > (ulong.MaxValue - (ulong)d) / (ulong)radix) { rest = i; return false; }
            value = value * (ulong)radix + (ulong)d;
        }
        rest = i;
        if (i == start) return false;
        int shift = i < s.Length ? char.ToLowerInvariant(s[i]) switch { 'k' => 10, 'm' => 20, 'g' => 30, 't' => 40, 'p' => 50, 'e' => 60, _ => 0 } : 0;
        if (shift != 0)
        {
            if (value > ulong.MaxValue >> shift) return false;
            value <<= shift;
            rest++;
        }
        return true;
    }

    static bool ParseNumber(string s, int radix, out ulong value)
    {
        value = 0;
        if (s.Length == 0) return false;
        foreach (char c in s)
        {
            int d = DigitValue(c);
            if (d < 0 || d >= radix || value > (ulong.MaxValue - (ulong)d) / (ulong)radix) return false;
            value = value * (ulong)radix + (ulong)d;
        }
        return true;
    }

    static int DigitValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}
