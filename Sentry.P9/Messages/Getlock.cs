namespace Sentry.P9;

/// <summary>
/// Tgetlock: fid[4] type[1] start[8] length[8] proc_id[4] client_id[s]. Like fcntl(F_GETLK):
/// asks whether a lock of this type over this range could be placed.
/// </summary>
public readonly ref struct Tgetlock : IP9Message<Tgetlock>
{
    public uint Fid { get; }
    public byte LockType { get; }
    public ulong Start { get; }
    public ulong Length { get; }
    public uint ProcId { get; }
    public ReadOnlySpan<byte> ClientId { get; }

    public Tgetlock(uint fid, byte lockType, ulong start, ulong length, uint procId, ReadOnlySpan<byte> clientId)
    { Fid = fid; LockType = lockType; Start = start; Length = length; ProcId = procId; ClientId = clientId; }

    public static P9MessageType Type => P9MessageType.Tgetlock;
    public void Encode(ref P9Writer w) { w.U32(Fid); w.U8(LockType); w.U64(Start); w.U64(Length); w.U32(ProcId); w.String(ClientId); }
    public static bool TryDecode(scoped ref P9Reader r, out Tgetlock m) { m = new(r.U32(), r.U8(), r.U64(), r.U64(), r.U32(), r.String()); return true; }
}

/// <summary>
/// Rgetlock: type[1] start[8] length[8] proc_id[4] client_id[s]: a conflicting lock, or type
/// P9_LOCK_TYPE_UNLCK when the requested one could be placed.
/// </summary>
public readonly ref struct Rgetlock : IP9Message<Rgetlock>
{
    public byte LockType { get; }
    public ulong Start { get; }
    public ulong Length { get; }
    public uint ProcId { get; }
    public ReadOnlySpan<byte> ClientId { get; }

    public Rgetlock(byte lockType, ulong start, ulong length, uint procId, ReadOnlySpan<byte> clientId)
    { LockType = lockType; Start = start; Length = length; ProcId = procId; ClientId = clientId; }

    public static P9MessageType Type => P9MessageType.Rgetlock;
    public void Encode(ref P9Writer w) { w.U8(LockType); w.U64(Start); w.U64(Length); w.U32(ProcId); w.String(ClientId); }
    public static bool TryDecode(scoped ref P9Reader r, out Rgetlock m) { m = new(r.U8(), r.U64(), r.U64(), r.U32(), r.String()); return true; }
}
