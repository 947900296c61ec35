using System.Text;

namespace Sentry.Kernel.Vfs.Proc;

/// <summary>
/// Where a generated file's contents are written when it is opened (Linux's seq_file buffer):
/// text and raw bytes (cmdline, environ hold NULs and whatever bytes the process wrote).
/// </summary>
public sealed class SeqBuffer
{
    byte[] _buf = new byte[1024];

    public int Length { get; private set; }

    /// <summary>The bytes written so far (valid until the next write).</summary>
    public ReadOnlySpan<byte> Written => _buf.AsSpan(0, Length);

    public SeqBuffer Append(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(Reserve(bytes.Length));
        Length += bytes.Length;
        return this;
    }

    public SeqBuffer Append(string text)
    {
        int n = Encoding.UTF8.GetByteCount(text);
        Encoding.UTF8.GetBytes(text, Reserve(n));
        Length += n;
        return this;
    }

    public SeqBuffer Append(char c) => c < 0x80 ? AppendByte((byte)c) : Append(c.ToString());

    public SeqBuffer AppendLine(string line) => Append(line).AppendByte((byte)'\n');

    public SeqBuffer AppendByte(byte b)
    {
        Reserve(1)[0] = b;
        Length++;
        return this;
    }

    /// <summary>Pads with spaces up to column <paramref name="width"/> of the current line (seq_pad).</summary>
    public SeqBuffer PadTo(int lineStart, int width)
    {
        while (Length - lineStart < width) AppendByte((byte)' ');
        return this;
    }

    /// <summary>The contents, for the open file to serve reads from (the buffer itself: no copy).</summary>
    internal (byte[] Bytes, int Length) Detach() => (_buf, Length);

    Span<byte> Reserve(int n)
    {
        if (Length + n > _buf.Length) Array.Resize(ref _buf, Math.Max(_buf.Length * 2, Length + n));
        return _buf.AsSpan(Length, n);
    }
}

/// <summary>
/// Writes the contents of a generated file as <paramref name="reader"/> (the task opening it)
/// sees them. Returns 0, or -errno to fail the open (ESRCH when what the file describes is gone,
/// EACCES when the reader may not see it).
/// </summary>
public delegate int ContentGenerator(Sentry.Kernel.Tasks.Task reader, SeqBuffer output);
