using System.Buffers;
using Sentry.Kernel.Vfs;

namespace Sentry.Kernel.Net;

/// <summary>
/// What one send put in a socket's receive queue: the bytes (a stream reads across messages, a
/// datagram or seqpacket socket one message per receive), the descriptions passed with
/// SCM_RIGHTS (holding a reference each until received or dropped), and the sender's address.
/// The bytes live in a buffer rented from the shared pool, given back by <see cref="Return"/>;
/// a receiving socket keeps one consumed message to refill (<see cref="Reset"/>), so steady
/// traffic allocates nothing.
/// </summary>
public sealed class UnixMessage
{
    /// <summary>Smallest buffer a message rents: a stream's small writes then share one message.</summary>
    const int MinCapacity = 4096;

    byte[] _buffer = [];

    public UnixMessage(ReadOnlySpan<byte> data, FileDescription[]? rights, UnixAddress from) => Reset(data, rights, from);

    /// <summary>Bytes in the message.</summary>
    public int Length { get; private set; }
    public ReadOnlySpan<byte> Data => _buffer.AsSpan(0, Length);
    /// <summary>Bytes a stream reader has consumed already.</summary>
    public int Consumed { get; set; }
    public int Remaining => Length - Consumed;
    /// <summary>Descriptions in flight (SCM_RIGHTS); taken by the first receive that reads this message.</summary>
    public FileDescription[]? Rights { get; set; }
    public UnixAddress From { get; private set; }

    /// <summary>
    /// Bytes a stream may still append here. None while descriptions ride on the message: they
    /// mark where a read that already has bytes stops.
    /// </summary>
    public int Room => Rights == null ? _buffer.Length - Length : 0;

    /// <summary>Adds a stream's next bytes (at most <see cref="Room"/>).</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        data.CopyTo(_buffer.AsSpan(Length));
        Length += data.Length;
    }

    /// <summary>Makes this the message of a new send, renting a larger buffer if it needs one.</summary>
    public void Reset(ReadOnlySpan<byte> data, FileDescription[]? rights, UnixAddress from)
    {
        if (_buffer.Length < data.Length)
        {
            Return();
            _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(data.Length, MinCapacity));
        }
        data.CopyTo(_buffer);
        Length = data.Length;
        Consumed = 0;
        Rights = rights;
        From = from;
    }

    /// <summary>Gives the buffer back to the pool; the message must not be used after.</summary>
    public void Return()
    {
        if (_buffer.Length > 0) ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        Length = Consumed = 0;
    }

    /// <summary>Drops the references of descriptions nobody received.</summary>
    public void DropRights()
    {
        if (Rights == null) return;
        foreach (var f in Rights) f.Release();
        Rights = null;
    }
}
