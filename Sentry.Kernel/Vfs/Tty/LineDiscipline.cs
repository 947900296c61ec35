using Sentry.Kernel.Abi;
using static Sentry.Kernel.Vfs.Tty.Termios;

namespace Sentry.Kernel.Vfs.Tty;

/// <summary>
/// The line discipline of a pty slave (N_TTY, as termios(3) describes it): what the master writes
/// is input, edited into lines in canonical mode (ERASE, WERASE, KILL, EOF, EOL, LNEXT, REPRINT),
/// translated (ICRNL, INLCR, IGNCR, ISTRIP), turned into signals (ISIG) and echoed; what the slave
/// writes is output, processed (OPOST: ONLCR, OCRNL, ONOCR, ONLRET, XTABS) on its way to the master.
/// Not thread-safe: the owning <see cref="Pty"/> holds its lock around every call.
/// </summary>
public sealed class LineDiscipline
{
    /// <summary>Input the slave can hold, as Linux's N_TTY_BUF_SIZE; a canonical line keeps one byte for its end.</summary>
    public const int InputCapacity = 4096;
    /// <summary>Output waiting for the master to read it.</summary>
    public const int OutputCapacity = 65536;

    Termios _termios = Termios.Default();
    /// <summary>The canonical line being edited: not readable until a line end commits it.</summary>
    readonly ByteQueue _line = new(InputCapacity);
    /// <summary>Input the slave can read.</summary>
    readonly ByteQueue _ready = new(InputCapacity);
    /// <summary>Canonical mode: the lengths of the committed lines in <see cref="_ready"/>, oldest first (0: an EOF on an empty line).</summary>
    readonly int[] _lineLengths = new int[InputCapacity];
    int _lineHead, _lineCount;
    readonly ByteQueue _output = new(OutputCapacity);
    /// <summary>Output column (for tabs and erasing them) and where the line being edited began.</summary>
    int _column, _canonColumn;
    /// <summary>The last byte was LNEXT: the next one is taken literally.</summary>
    bool _literalNext;

    public ref readonly Termios Termios => ref _termios;
    public bool Canonical => _termios.Has(ICANON);
    /// <summary>Output stopped by the STOP character (IXON) until START.</summary>
    public bool Stopped { get; private set; }

    /// <summary>TCSETS: new settings; leaving canonical mode makes the line being edited readable, entering it commits what is readable as one line.</summary>
    public void SetTermios(in Termios t)
    {
        bool wasCanon = Canonical;
        _termios = t;
        if (wasCanon && !Canonical)
        {
            _ready.MoveFrom(_line);
            _lineCount = 0;
        }
        else if (!wasCanon && Canonical)
        {
            _lineCount = 0;
            if (_ready.Count > 0) AddLine(_ready.Count);
        }
        if (!_termios.In(IXON)) Stopped = false;
    }

    /// <summary>FIONREAD on the slave: what a read could return (in canonical mode, committed lines only).</summary>
    public int InputAvailable => _ready.Count;
    public int OutputAvailable => _output.Count;
    /// <summary>Whether a read has something to return: a committed line (canonical) or any byte.</summary>
    public bool Readable => Canonical ? _lineCount > 0 : _ready.Count > 0;
    /// <summary>Whether the master may write more input now.</summary>
    public bool InputRoom => _ready.Count + _line.Count < InputCapacity - 1;
    public bool OutputRoom => _output.Free > 0;

    public void FlushInput()
    {
        _ready.Clear();
        _line.Clear();
        _lineCount = 0;
        _literalNext = false;
    }

    public void FlushOutput() => _output.Clear();

    /// <summary>Master read: output of the slave and echoes.</summary>
    public int TakeOutput(Span<byte> dst) => _output.Take(dst);

    /// <summary>Non-canonical slave read of what is there.</summary>
    public int TakeInput(Span<byte> dst) => _ready.Take(dst);

    /// <summary>Canonical slave read: at most the rest of the oldest committed line (0 for an EOF). Call only when <see cref="Readable"/>.</summary>
    public int TakeLine(Span<byte> dst)
    {
        ref int len = ref _lineLengths[_lineHead];
        int n = _ready.Take(dst[..Math.Min(dst.Length, len)]);
        len -= n;
        if (len == 0)
        {
            _lineHead = (_lineHead + 1) % _lineLengths.Length;
            _lineCount--;
        }
        return n;
    }

    void AddLine(int length)
    {
        _lineLengths[(_lineHead + _lineCount) % _lineLengths.Length] = length;
        _lineCount++;
    }

    /// <summary>
    /// Master write: takes input bytes from <paramref name="src"/> until the input is full. Returns
    /// how many were taken; <paramref name="signals"/> gets bit (1 &lt;&lt; signo) for each signal a
    /// character generated for the foreground process group.
    /// </summary>
    public int Receive(ReadOnlySpan<byte> src, ref int signals)
    {
        int i = 0;
        for (; i < src.Length; i++)
        {
            // Full input waits for the reader, except a canonical line with nothing committed
            // before it: that one only grows to its limit and drops the rest, as Linux's does.
            if (!InputRoom && !(Canonical && _lineCount == 0))
                break;
            ReceiveByte(src[i], ref signals);
        }
        return i;
    }

    void ReceiveByte(byte c, ref int signals)
    {
        ref readonly var t = ref _termios;
        if (t.In(ISTRIP)) c &= 0x7f;
        if (_literalNext)
        {
            _literalNext = false;
            if (t.Has(ECHO)) EchoChar(c);
            Store(c);
            return;
        }
        if (t.In(IXON))
        {
            if (t.Is(VSTART, c)) { Stopped = false; return; }
            if (t.Is(VSTOP, c)) { Stopped = true; return; }
        }
        if (t.Has(ISIG))
        {
            int sig = t.Is(VINTR, c) ? Linux.SIGINT : t.Is(VQUIT, c) ? Linux.SIGQUIT : t.Is(VSUSP, c) ? Linux.SIGTSTP : 0;
            if (sig != 0)
            {
                signals |= 1 << sig;
                // The input is dropped. Linux's output flush here only reaches bytes still on
                // their way to the master; what the master could read already stays.
                if (!t.Has(NOFLSH)) FlushInput();
                if (t.In(IXON)) Stopped = false;
                if (t.Has(ECHO)) EchoChar(c);
                return;
            }
        }
        if ((t.c_iflag & (IXON | IXANY)) == (IXON | IXANY)) Stopped = false;
        // CR and NL translation; a translated line end is a special character even in non-canonical mode.
        bool special = Canonical;
        if (c == '\r')
        {
            if (t.In(IGNCR)) return;
            if (t.In(ICRNL)) { c = (byte)'\n'; special = true; }
        }
        else if (c == '\n' && t.In(INLCR)) { c = (byte)'\r'; special = true; }

        if (Canonical)
        {
            bool extended = t.Has(IEXTEN);
            if (t.Is(VERASE, c) || t.Is(VKILL, c) || (extended && t.Is(VWERASE, c))) { Erase(c); return; }
            if (extended && t.Is(VLNEXT, c))
            {
                _literalNext = true;
                if (t.Has(ECHO) && t.Has(ECHOCTL)) { EchoRaw((byte)'^'); EchoRaw((byte)'\b'); }
                return;
            }
            if (extended && t.Is(VREPRINT, c) && t.Has(ECHO))
            {
                EchoChar(c);
                EchoRaw((byte)'\n');
                for (int i = 0; i < _line.Count; i++) EchoChar(_line[i]);
                return;
            }
            if (c == '\n')
            {
                if (t.Has(ECHO) || t.Has(ECHONL)) EchoRaw(c);
                _line.Push(c);
                CommitLine();
                return;
            }
            if (t.Is(VEOF, c)) { CommitLine(); return; }
            if (t.Is(VEOL, c) || (extended && t.Is(VEOL2, c)))
            {
                if (t.Has(ECHO)) { MarkLineStart(); EchoChar(c); }
                _line.Push(c);
                CommitLine();
                return;
            }
            // A full line takes nothing but its end.
            if (_line.Count >= InputCapacity - 1) return;
        }
        if (t.Has(ECHO))
        {
            if (c == '\n' && special) EchoRaw(c);
            else { MarkLineStart(); EchoChar(c); }
        }
        Store(c);
    }


    void Store(byte c)
    {
        if (Canonical) _line.Push(c);
        else _ready.Push(c);
    }

    void CommitLine()
    {
        int n = _line.Count;
        _ready.MoveFrom(_line);
        AddLine(n);
    }

    void MarkLineStart()
    {
        if (Canonical && _line.Count == 0) _canonColumn = _column;
    }

    static bool IsControl(byte c) => c < 32 || c == 127;

    /// <summary>ERASE, WERASE or KILL on the line being edited, with the echo that takes the characters off the screen.</summary>
    void Erase(byte key)
    {
        ref readonly var t = ref _termios;
        if (_line.Count == 0) return;
        bool echo = t.Has(ECHO);
        bool erase = t.Is(VERASE, key), wordErase = !erase && t.Is(VWERASE, key);
        if (!erase && !wordErase)
        {
            // KILL: visual erasing only with ECHOKE and ECHOE; otherwise echo the KILL character (and a newline with ECHOK).
            if (!echo) { _line.Clear(); return; }
            if (!t.Has(ECHOK) || !t.Has(ECHOKE) || !t.Has(ECHOE))
            {
                _line.Clear();
                EchoChar(key);
                if (t.Has(ECHOK)) EchoRaw((byte)'\n');
                return;
            }
        }
        bool seenWord = false;
        while (_line.Count > 0)
        {
            byte c = _line.Last;
            if (wordErase)
            {
                if (char.IsAsciiLetterOrDigit((char)c) || c == '_') seenWord = true;
                else if (seenWord) break;
            }
            if (echo)
            {
                if (erase && !t.Has(ECHOE)) EchoChar(key);
                else if (c == '\t') EraseTab();
                else
                {
                    if (IsControl(c) && t.Has(ECHOCTL)) EchoBackspace();
                    if (!IsControl(c) || t.Has(ECHOCTL)) EchoBackspace();
                }
            }
            _line.DropLast();
            if (erase) break;
        }
    }

    void EchoBackspace() { EchoRaw((byte)'\b'); EchoRaw((byte)' '); EchoRaw((byte)'\b'); }

    /// <summary>Erasing a tab moves back to where it started: the width of the line before it from the line's first column.</summary>
    void EraseTab()
    {
        int col = _canonColumn;
        for (int i = 0; i < _line.Count - 1; i++)
        {
            byte c = _line[i];
            if (c == '\t') col = (col | 7) + 1;
            else if (IsControl(c)) col += _termios.Has(ECHOCTL) ? 2 : 0;
            else col++;
        }
        int back = _column - col;
        for (int i = 0; i < back && i < 8; i++) EchoRaw((byte)'\b');
    }

    /// <summary>Echo of an input character: a control character as ^X with ECHOCTL (not tab), else as output.</summary>
    void EchoChar(byte c)
    {
        if (_termios.Has(ECHOCTL) && IsControl(c) && c != '\t')
        {
            if (_output.Free < 2) return; // no room: Linux drops echoes too
            _output.Push((byte)'^');
            _output.Push((byte)(c ^ 0x40));
            _column += 2;
        }
        else EchoRaw(c);
    }

    void EchoRaw(byte c) => OutputByte(c);

    /// <summary>Slave write: processes bytes of <paramref name="src"/> into the output while there is room; returns how many were taken.</summary>
    public int Transmit(ReadOnlySpan<byte> src)
    {
        int i = 0;
        for (; i < src.Length; i++)
            if (!OutputByte(src[i])) break;
        return i;
    }

    /// <summary>One byte of output with OPOST processing; false (nothing written) when its expansion does not fit.</summary>
    bool OutputByte(byte c)
    {
        ref readonly var t = ref _termios;
        if (!t.Out(OPOST)) return _output.Push(c);
        switch (c)
        {
            case (byte)'\n':
                if (t.Out(ONLRET)) _column = 0;
                if (t.Out(ONLCR))
                {
                    if (_output.Free < 2) return false;
                    _output.Push((byte)'\r');
                    _output.Push(c);
                    _column = _canonColumn = 0;
                    return true;
                }
                _canonColumn = _column;
                break;
            case (byte)'\r':
                if (t.Out(ONOCR) && _column == 0) return true;
                if (t.Out(OCRNL))
                {
                    c = (byte)'\n';
                    if (t.Out(ONLRET)) _column = _canonColumn = 0;
                    break;
                }
                _column = _canonColumn = 0;
                break;
            case (byte)'\t':
                int spaces = 8 - (_column & 7);
                if ((t.c_oflag & TABDLY) == XTABS)
                {
                    if (_output.Free < spaces) return false;
                    for (int i = 0; i < spaces; i++) _output.Push((byte)' ');
                    _column += spaces;
                    return true;
                }
                _column += spaces;
                break;
            case (byte)'\b':
                if (_column > 0) _column--;
                break;
            default:
                if (!IsControl(c))
                {
                    if (t.Out(OLCUC)) c = (byte)char.ToUpperInvariant((char)c);
                    if ((c & 0xc0) != 0x80 || !t.In(IUTF8)) _column++;
                }
                break;
        }
        return _output.Push(c);
    }
}
