namespace Sentry.P9;

/// <summary>
/// One 9P message body (everything after size[4] type[1] tag[2]). Each T- and R-message type
/// implements this, so one generic encoder/decoder (<see cref="P9Frame"/>) frames them all,
/// for the client and for a server alike. Messages holding strings or data are ref structs
/// whose spans point into the buffer they were decoded from.
/// </summary>
public interface IP9Message<TSelf> where TSelf : IP9Message<TSelf>, allows ref struct
{
    static abstract P9MessageType Type { get; }

    /// <summary>Writes the body; overflow or an unencodable field marks the writer failed.</summary>
    void Encode(ref P9Writer w);

    /// <summary>
    /// Reads the body. Returns false for a field value the protocol forbids (e.g. more than
    /// P9_MAXWELEM names); running out of input is caught by the reader and checked by the caller.
    /// </summary>
    static abstract bool TryDecode(scoped ref P9Reader r, out TSelf message);
}
