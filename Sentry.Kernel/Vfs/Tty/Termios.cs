using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Sentry.Kernel.Vfs.Tty;

/// <summary>The 19 control characters of the kernel's <c>struct termios</c> (c_cc[NCCS]).</summary>
[InlineArray(Termios.NCCS)]
public struct ControlChars
{
    byte _first;
}

/// <summary>
/// The kernel's <c>struct termios</c> (asm-generic/termbits.h, 36 bytes) as TCGETS/TCSETS copy it,
/// and its bits named as in the headers. The speeds of <c>struct termios2</c> (TCGETS2) are kept
/// beside it so that a program setting them reads them back.
/// </summary>
public struct Termios
{
    public const int NCCS = 19, Size = 36, Size2 = 44;

    // c_iflag
    public const uint IGNBRK = 0x1, BRKINT = 0x2, IGNPAR = 0x4, PARMRK = 0x8, INPCK = 0x10, ISTRIP = 0x20, INLCR = 0x40,
        IGNCR = 0x80, ICRNL = 0x100, IUCLC = 0x200, IXON = 0x400, IXANY = 0x800, IXOFF = 0x1000, IMAXBEL = 0x2000, IUTF8 = 0x4000;
    // c_oflag
    public const uint OPOST = 0x1, OLCUC = 0x2, ONLCR = 0x4, OCRNL = 0x8, ONOCR = 0x10, ONLRET = 0x20, TABDLY = 0x1800, XTABS = 0x1800;
    // c_cflag
    public const uint B38400 = 0xf, CS8 = 0x30, CREAD = 0x80, HUPCL = 0x400;
    // c_lflag
    public const uint ISIG = 0x1, ICANON = 0x2, XCASE = 0x4, ECHO = 0x8, ECHOE = 0x10, ECHOK = 0x20, ECHONL = 0x40, NOFLSH = 0x80,
        TOSTOP = 0x100, ECHOCTL = 0x200, ECHOPRT = 0x400, ECHOKE = 0x800, FLUSHO = 0x1000, PENDIN = 0x4000, IEXTEN = 0x8000;
    // c_cc indexes
    public const int VINTR = 0, VQUIT = 1, VERASE = 2, VKILL = 3, VEOF = 4, VTIME = 5, VMIN = 6, VSWTC = 7, VSTART = 8, VSTOP = 9,
        VSUSP = 10, VEOL = 11, VREPRINT = 12, VDISCARD = 13, VWERASE = 14, VLNEXT = 15, VEOL2 = 16;
    /// <summary>A c_cc entry with this value matches no input byte.</summary>
    public const byte _POSIX_VDISABLE = 0;

    public uint c_iflag, c_oflag, c_cflag, c_lflag;
    public byte c_line;
    public ControlChars c_cc;
    public uint c_ispeed, c_ospeed;

    /// <summary>What a new pty slave starts with (Linux's pty driver defaults: no HUPCL).</summary>
    public static Termios Default()
    {
        var t = new Termios
        {
            c_iflag = ICRNL | IXON,
            c_oflag = OPOST | ONLCR,
            c_cflag = B38400 | CS8 | CREAD,
            c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN,
            c_ispeed = 38400, c_ospeed = 38400,
        };
        ReadOnlySpan<byte> cc = [3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0];
        cc.CopyTo(t.c_cc);
        return t;
    }

    public readonly bool Has(uint lflag) => (c_lflag & lflag) != 0;
    public readonly bool In(uint iflag) => (c_iflag & iflag) != 0;
    public readonly bool Out(uint oflag) => (c_oflag & oflag) != 0;

    /// <summary>Whether <paramref name="c"/> is the enabled control character at <paramref name="index"/>.</summary>
    public readonly bool Is(int index, byte c) => c_cc[index] == c && c != _POSIX_VDISABLE;

    /// <summary>The layout TCGETS (<paramref name="two"/> false, 36 bytes) or TCGETS2 (44 bytes) copies out.</summary>
    public readonly void WriteTo(Span<byte> dst, bool two)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(dst, c_iflag);
        BinaryPrimitives.WriteUInt32LittleEndian(dst[4..], c_oflag);
        BinaryPrimitives.WriteUInt32LittleEndian(dst[8..], c_cflag);
        BinaryPrimitives.WriteUInt32LittleEndian(dst[12..], c_lflag);
        dst[16] = c_line;
        ((ReadOnlySpan<byte>)c_cc).CopyTo(dst[17..]);
        if (!two) return;
        BinaryPrimitives.WriteUInt32LittleEndian(dst[36..], c_ispeed);
        BinaryPrimitives.WriteUInt32LittleEndian(dst[40..], c_ospeed);
    }

    /// <summary>The settings TCSETS/TCSETS2 copied in; without speeds they follow the baud bits as Linux's do.</summary>
    public static Termios ReadFrom(ReadOnlySpan<byte> src, bool two, in Termios old)
    {
        var t = new Termios
        {
            c_iflag = BinaryPrimitives.ReadUInt32LittleEndian(src),
            c_oflag = BinaryPrimitives.ReadUInt32LittleEndian(src[4..]),
            c_cflag = BinaryPrimitives.ReadUInt32LittleEndian(src[8..]),
            c_lflag = BinaryPrimitives.ReadUInt32LittleEndian(src[12..]),
            c_line = src[16],
            c_ispeed = old.c_ispeed, c_ospeed = old.c_ospeed,
        };
        src.Slice(17, NCCS).CopyTo(t.c_cc);
        if (two)
        {
            t.c_ispeed = BinaryPrimitives.ReadUInt32LittleEndian(src[36..]);
            t.c_ospeed = BinaryPrimitives.ReadUInt32LittleEndian(src[40..]);
        }
        return t;
    }
}

/// <summary>The kernel's <c>struct winsize</c> (TIOCGWINSZ/TIOCSWINSZ, 8 bytes).</summary>
public record struct WinSize(ushort Rows, ushort Cols, ushort XPixel, ushort YPixel)
{
    public const int Size = 8;

    public readonly void WriteTo(Span<byte> dst)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(dst, Rows);
        BinaryPrimitives.WriteUInt16LittleEndian(dst[2..], Cols);
        BinaryPrimitives.WriteUInt16LittleEndian(dst[4..], XPixel);
        BinaryPrimitives.WriteUInt16LittleEndian(dst[6..], YPixel);
    }

    public static WinSize ReadFrom(ReadOnlySpan<byte> src) => new(
        BinaryPrimitives.ReadUInt16LittleEndian(src), BinaryPrimitives.ReadUInt16LittleEndian(src[2..]),
        BinaryPrimitives.ReadUInt16LittleEndian(src[4..]), BinaryPrimitives.ReadUInt16LittleEndian(src[6..]));
}
