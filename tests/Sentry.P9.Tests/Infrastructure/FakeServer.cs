namespace Sentry.P9.Tests;

/// <summary>
/// A scripted 9P server on one end of a socketpair, answering from a thread of its own with a
/// handler the test gives. Unhandled requests get the defaults: Rversion for Tversion, Rlerror
/// ENOSYS for the rest. Exceptions in the handler are kept and rethrown by <see cref="Dispose"/>.
/// </summary>
public sealed class FakeServer : IDisposable
{
    /// <summary>Answers one request (or not: return false for the default answer).</summary>
    public delegate bool Handler(FakeServer server, P9Header header, ReadOnlySpan<byte> frame);

    readonly P9Socket _socket;
    readonly Thread _thread;
    readonly Handler _handler;
    readonly byte[] _reply = new byte[1 << 20];
    readonly List<P9MessageType> _received = new();
    Exception? _error;

    public int ClientFd { get; }
    /// <summary>msize the default Rversion offers.</summary>
    public uint MSize { get; init; } = 1 << 20;

    public FakeServer(Handler handler)
    {
        _handler = handler;
        (ClientFd, int serverFd) = Native.SocketPair();
        _socket = new P9Socket(serverFd, 1 << 20);
        _thread = new Thread(Serve) { IsBackground = true, Name = "fake 9P server" };
        _thread.Start();
    }

    /// <summary>Types of the requests received so far.</summary>
    public P9MessageType[] Received { get { lock (_received) return [.. _received]; } }

    /// <summary>A client on this server, version negotiated.</summary>
    public P9Client Connect(int msize = P9Client.DefaultMSize)
    {
        var client = new P9Client(ClientFd, msize);
        Assert.That(client.Version(), Is.Zero);
        return client;
    }

    public void Reply<T>(ushort tag, in T message, int fd = -1) where T : IP9Message<T>, allows ref struct
    {
        if (!P9Frame.TryEncode(_reply, tag, message, out int n)) throw new InvalidOperationException($"cannot encode {T.Type}");
        SendRaw(_reply.AsSpan(0, n), fd);
    }

    public void SendRaw(ReadOnlySpan<byte> bytes, int fd = -1)
    {
        if (_socket.Send(bytes, fd) < 0) throw new InvalidOperationException("fake server: send failed");
    }

    /// <summary>Closes the server's side of the connection.</summary>
    public void HangUp() => _socket.Shutdown();

    void Serve()
    {
        try
        {
            while (_socket.Receive(out ReadOnlySpan<byte> frame, out int fd) == 0)
            {
                Native.Close(fd);
                if (!P9Frame.TryReadHeader(frame, 1 << 20, out P9Header h)) throw new InvalidOperationException("client sent a bad frame");
                lock (_received) _received.Add(h.Type);
                if (_handler(this, h, frame)) continue;
                if (h.Type == P9MessageType.Tversion && P9Frame.TryDecode(frame, 1 << 20, out _, out Tversion v))
                    Reply(h.Tag, new Rversion(Math.Min(v.MSize, MSize), v.Version));
                else
                    Reply(h.Tag, new Rlerror(38)); // ENOSYS
            }
        }
        catch (Exception e)
        {
            _error = e;
            _socket.Shutdown(); // the client must not wait forever for a reply that will not come
        }
    }

    public void Dispose()
    {
        _socket.Shutdown();
        _thread.Join(TimeSpan.FromSeconds(10));
        _socket.Dispose();
        if (_error != null) throw new AssertionException($"fake server failed: {_error}");
    }
}
