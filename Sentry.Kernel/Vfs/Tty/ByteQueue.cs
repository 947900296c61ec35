namespace Sentry.Kernel.Vfs.Tty;

/// <summary>
/// A fixed-size ring of bytes for the terminal's queues: appended at the tail, taken from the
/// head, and (for line editing) removable from the tail. Not thread-safe: the pty's lock guards it.
/// </summary>
public sealed class ByteQueue(int capacity)
{
    readonly byte[] _buf = new byte[capacity];
    int _head;

    public int Count { get; private set; }
    public int Capacity => _buf.Length;
    public int Free => _buf.Length - Count;

    public bool Push(byte b)
    {
        if (Count == _buf.Length) return false;
        _buf[(_head + Count) % _buf.Length] = b;
        Count++;
        return true;
    }

    /// <summary>The byte <paramref name="i"/> places from the head.</summary>
    public byte this[int i] => _buf[(_head + i) % _buf.Length];

    public byte Last => this[Count - 1];

    public void DropLast() { if (Count > 0) Count--; }

    /// <summary>Moves up to dst.Length bytes from the head into <paramref name="dst"/>; returns how many.</summary>
    public int Take(Span<byte> dst)
    {
        int n = Math.Min(dst.Length, Count);
        int first = Math.Min(n, _buf.Length - _head);
        _buf.AsSpan(_head, first).CopyTo(dst);
        _buf.AsSpan(0, n - first).CopyTo(dst[first..]);
        _head = (_head + n) % _buf.Length;
        Count -= n;
        return n;
    }

    /// <summary>Appends the whole of another queue (a finished canonical line becoming readable).</summary>
    public void MoveFrom(ByteQueue other)
    {
        for (int i = 0; i < other.Count && Count < _buf.Length; i++) Push(other[i]);
        other.Clear();
    }

    public void Clear() { _head = 0; Count = 0; }
}
