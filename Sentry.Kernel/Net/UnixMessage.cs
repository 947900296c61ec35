using Sentry.Kernel.Vfs;

namespace Sentry.Kernel.Net;

/// <summary>
/// What one send put in a socket's receive queue: the bytes (a stream reads across messages, a
/// datagram or seqpacket socket one message per receive), the descriptions passed with
/// SCM_RIGHTS (holding a reference each until received or dropped), and the sender's address.
/// </summary>
public sealed class UnixMessage(byte[] data, FileDescription[]? rights, UnixAddress from)
{
    public byte[] Data { get; } = data;
    /// <summary>Bytes of <see cref="Data"/> a stream reader has consumed already.</summary>
    public int Consumed { get; set; }
    public int Remaining => Data.Length - Consumed;
    /// <summary>Descriptions in flight (SCM_RIGHTS); taken by the first receive that reads this message.</summary>
    public FileDescription[]? Rights { get; set; } = rights;
    public UnixAddress From { get; } = from;

    /// <summary>Drops the references of descriptions nobody received.</summary>
    public void DropRights()
    {
        if (Rights == null) return;
        foreach (var f in Rights) f.Release();
        Rights = null;
    }
}
