namespace Sentry.P9.Tests;

/// <summary>
/// Test-side helpers over the codec: encode to a fresh array, decode by the type byte (the
/// switch a server's dispatcher would have), and one well-formed sample frame of every message
/// type with every field set to a distinct, non-default value.
/// </summary>
public static class Codec
{
    public const ushort Tag = 0x4a3b;

    public static byte[] Encode<T>(in T message, ushort tag = Tag) where T : IP9Message<T>, allows ref struct
    {
        var buf = new byte[1 << 20];
        Assert.That(P9Frame.TryEncode(buf, tag, message, out int length), Is.True, $"encode {T.Type}");
        return buf[..length];
    }

    public static T Decode<T>(byte[] frame) where T : IP9Message<T>, allows ref struct
    {
        Assert.That(P9Frame.TryDecode(frame, uint.MaxValue, out ushort tag, out T message), Is.True, $"decode {T.Type}");
        Assert.That(tag, Is.EqualTo(Tag));
        return message;
    }

    delegate byte[]? Reencoder(byte[] frame, uint maxSize);

    static readonly Dictionary<P9MessageType, Reencoder> s_reencoders = new();

    static void Add<T>() where T : IP9Message<T>, allows ref struct =>
        s_reencoders.Add(T.Type, (frame, maxSize) =>
        {
            if (!P9Frame.TryDecode(frame, maxSize, out ushort tag, out T m)) return null;
            var buf = new byte[frame.Length + 64];
            return P9Frame.TryEncode(buf, tag, m, out int n) ? buf[..n] : throw new AssertionException($"{T.Type} decoded but does not encode again");
        });

    static Codec()
    {
        Add<Rlerror>();
        Add<Tstatfs>(); Add<Rstatfs>(); Add<Tlopen>(); Add<Rlopen>(); Add<Tlcreate>(); Add<Rlcreate>();
        Add<Tsymlink>(); Add<Rsymlink>(); Add<Tmknod>(); Add<Rmknod>(); Add<Trename>(); Add<Rrename>();
        Add<Treadlink>(); Add<Rreadlink>(); Add<Tgetattr>(); Add<Rgetattr>(); Add<Tsetattr>(); Add<Rsetattr>();
        Add<Txattrwalk>(); Add<Rxattrwalk>(); Add<Txattrcreate>(); Add<Rxattrcreate>(); Add<Treaddir>(); Add<Rreaddir>();
        Add<Tfsync>(); Add<Rfsync>(); Add<Tlock>(); Add<Rlock>(); Add<Tgetlock>(); Add<Rgetlock>();
        Add<Tlink>(); Add<Rlink>(); Add<Tmkdir>(); Add<Rmkdir>(); Add<Trenameat>(); Add<Rrenameat>();
        Add<Tunlinkat>(); Add<Runlinkat>(); Add<Tversion>(); Add<Rversion>(); Add<Tauth>(); Add<Rauth>();
        Add<Tattach>(); Add<Rattach>(); Add<Tflush>(); Add<Rflush>(); Add<Twalk>(); Add<Rwalk>();
        Add<Tread>(); Add<Rread>(); Add<Twrite>(); Add<Rwrite>(); Add<Tclunk>(); Add<Rclunk>();
        Add<Tremove>(); Add<Rremove>();
    }

    /// <summary>Every message type the codec has a decoder for here.</summary>
    public static IEnumerable<P9MessageType> Types => s_reencoders.Keys;

    /// <summary>
    /// Decodes <paramref name="frame"/> as the type its header names and encodes the result again:
    /// null if it does not decode (malformed or unknown type), else the re-encoded bytes.
    /// </summary>
    public static byte[]? DecodeAndEncode(byte[] frame, uint maxSize = uint.MaxValue)
    {
        if (!P9Frame.TryReadHeader(frame, maxSize, out P9Header h)) return null;
        return s_reencoders.TryGetValue(h.Type, out Reencoder? f) ? f(frame, maxSize) : null;
    }

    static readonly P9Qid Q1 = new(P9.P9_QTDIR, 0x01020304, 0x1112131415161718);
    static readonly P9Qid Q2 = new(P9.P9_QTSYMLINK, 0x21222324, 0x3132333435363738);

    public static readonly P9StatDotl SampleStat = new()
    {
        st_result_mask = P9.P9_GETATTR_ALL, qid = Q1, st_mode = 0x81a4, st_uid = 1000, st_gid = 1001,
        st_nlink = 3, st_rdev = 0x0801, st_size = 0x1_0000_0001, st_blksize = 4096, st_blocks = 17,
        st_atime_sec = 1_600_000_001, st_atime_nsec = 2, st_mtime_sec = 1_600_000_003, st_mtime_nsec = 4,
        st_ctime_sec = 1_600_000_005, st_ctime_nsec = 6, st_btime_sec = 1_600_000_007, st_btime_nsec = 8,
        st_gen = 9, st_data_version = 10,
    };

    public static readonly P9IattrDotl SampleIattr = new()
    {
        valid = 0x1ff, mode = 0x1ed, uid = 5, gid = 6, size = 7, atime_sec = 8, atime_nsec = 9, mtime_sec = 10, mtime_nsec = 11,
    };

    public static readonly P9StatFs SampleStatFs = new()
    {
        type = 0x01021997, bsize = 4096, blocks = 1, bfree = 2, bavail = 3, files = 4, ffree = 5, fsid = 6, namelen = 255,
    };

    public static byte[] SampleDirents()
    {
        var data = new byte[200];
        int n = new P9Dirent(Q1, 1, 4, "dir"u8).TryWrite(data);
        n += new P9Dirent(Q2, 2, 10, "link-name"u8).TryWrite(data.AsSpan(n));
        return data[..n];
    }

    /// <summary>One valid frame of every type, each field distinct and non-zero.</summary>
    public static List<byte[]> Samples() =>
    [
        Encode(new Rlerror(39)),
        Encode(new Tstatfs(11)), Encode(new Rstatfs(SampleStatFs)),
        Encode(new Tlopen(12, 0x8002)), Encode(new Rlopen(Q1, 8192)),
        Encode(new Tlcreate(13, "new-file"u8, 0x8241, 0x1a4, 100)), Encode(new Rlcreate(Q2, 4096)),
        Encode(new Tsymlink(14, "link"u8, "../target"u8, 101)), Encode(new Rsymlink(Q2)),
        Encode(new Tmknod(15, "node"u8, 0x21a4, 8, 1, 102)), Encode(new Rmknod(Q1)),
        Encode(new Trename(16, 17, "renamed"u8)), Encode(new Rrename()),
        Encode(new Treadlink(18)), Encode(new Rreadlink("/abs/target"u8)),
        Encode(new Tgetattr(19, P9.P9_GETATTR_BASIC)), Encode(new Rgetattr(SampleStat)),
        Encode(new Tsetattr(20, SampleIattr)), Encode(new Rsetattr()),
        Encode(new Txattrwalk(21, 22, "user.x"u8)), Encode(new Rxattrwalk(0x1234_5678_9abc)),
        Encode(new Txattrcreate(23, "user.y"u8, 77, 1)), Encode(new Rxattrcreate()),
        Encode(new Treaddir(24, 0xfeed_beef, 65000)), Encode(new Rreaddir(SampleDirents())),
        Encode(new Tfsync(25, 1)), Encode(new Rfsync()),
        Encode(new Tlock(26, P9.P9_LOCK_TYPE_WRLCK, P9.P9_LOCK_FLAGS_BLOCK, 100, 200, 4242, "host-a"u8)), Encode(new Rlock(P9.P9_LOCK_BLOCKED)),
        Encode(new Tgetlock(27, P9.P9_LOCK_TYPE_RDLCK, 300, 400, 4343, "host-b"u8)),
        Encode(new Rgetlock(P9.P9_LOCK_TYPE_WRLCK, 500, 600, 4444, "host-c"u8)),
        Encode(new Tlink(28, 29, "hard"u8)), Encode(new Rlink()),
        Encode(new Tmkdir(30, "dir"u8, 0x1ed, 103)), Encode(new Rmkdir(Q1)),
        Encode(new Trenameat(31, "old"u8, 32, "new"u8)), Encode(new Rrenameat()),
        Encode(new Tunlinkat(33, "gone"u8, P9.P9_DOTL_AT_REMOVEDIR)), Encode(new Runlinkat()),
        Encode(new Tversion(512 * 1024, "9P2000.L"u8)), Encode(new Rversion(65536, "9P2000.L"u8)),
        Encode(new Tauth(34, "user"u8, "/export"u8, 1000)), Encode(new Rauth(new P9Qid(P9.P9_QTAUTH, 1, 2))),
        Encode(new Tattach(35, P9.P9_NOFID, "root"u8, "/srv"u8, 0)), Encode(new Rattach(Q1)),
        Encode(new Tflush(0x1234)), Encode(new Rflush()),
        Encode(new Twalk(36, 37, P9WalkNames.FromPath("usr/lib/x86_64-linux-gnu"u8))), Encode(new Rwalk([Q1, Q2, Q1])),
        Encode(new Tread(38, 0x1_0000_0000, 4096)), Encode(new Rread("some data"u8)),
        Encode(new Twrite(39, 77, "written"u8)), Encode(new Rwrite(7)),
        Encode(new Tclunk(40)), Encode(new Rclunk()),
        Encode(new Tremove(41)), Encode(new Rremove()),
    ];
}
