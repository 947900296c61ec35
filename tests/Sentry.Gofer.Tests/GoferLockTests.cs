using Sentry.P9;
using Sentry.P9.Tests;
using static Tmds.Linux.LibC;

namespace Sentry.Gofer.Tests;

/// <summary>
/// The Gofer's Tlock/Tgetlock are POSIX record locks (OFD locks on the fid's open file): ranges
/// are real, Rgetlock reports the holder's type and range, and the locks are the host's own, so
/// a host process sees them too. diod locks whole files, so this is Gofer-only.
/// </summary>
[NonParallelizable]
public sealed class GoferLockTests
{
    InProcessGofer _gofer = null!;
    P9Client _c = null!;
    uint _root, _a, _b;
    string _file = "";

    [SetUp]
    public void SetUp()
    {
        _gofer = new InProcessGofer();
        _file = _gofer.HostPath("locked");
        File.WriteAllBytes(_file, new byte[4096]);
        _c = _gofer.Connect(out _root, out _);
        _a = Open();
        _b = Open();
    }

    uint Open()
    {
        Assert.That(_c.Walk(_root, "locked"u8, out uint fid), Is.EqualTo(1));
        Assert.That(_c.Lopen(fid, (uint)O_RDWR, out _, out _, out int hostFd), Is.Zero);
        Native.Close(hostFd);
        return fid;
    }

    [TearDown]
    public void TearDown()
    {
        _c.Dispose();
        _gofer.Dispose();
    }

    int Lock(uint fid, byte type, ulong start, ulong length) => _c.Lock(fid, type, 0, start, length, 1, "sentry"u8);

    P9Getlock Probe(uint fid, byte type, ulong start, ulong length)
    {
        var lk = new P9Getlock { type = type, start = start, length = length, proc_id = 7 };
        Assert.That(_c.GetLock(fid, ref lk, "sentry"u8), Is.Zero);
        return lk;
    }

    [Test]
    public void Ranges_ConflictOnlyWhereTheyOverlap()
    {
        Assert.That(Lock(_a, P9Const.P9_LOCK_TYPE_WRLCK, 10, 10), Is.EqualTo(P9Const.P9_LOCK_SUCCESS), "a: [10, 20)");
        Assert.That(Probe(_b, P9Const.P9_LOCK_TYPE_WRLCK, 0, 10).type, Is.EqualTo(P9Const.P9_LOCK_TYPE_UNLCK), "[0, 10) is free");
        Assert.That(Probe(_b, P9Const.P9_LOCK_TYPE_WRLCK, 20, 5).type, Is.EqualTo(P9Const.P9_LOCK_TYPE_UNLCK), "[20, 25) is free");
        P9Getlock holder = Probe(_b, P9Const.P9_LOCK_TYPE_RDLCK, 15, 100);
        Assert.That((holder.type, holder.start, holder.length), Is.EqualTo((P9Const.P9_LOCK_TYPE_WRLCK, 10ul, 10ul)), "Rgetlock reports the holder's range");

        Assert.That(Lock(_b, P9Const.P9_LOCK_TYPE_WRLCK, 20, 10), Is.EqualTo(P9Const.P9_LOCK_SUCCESS), "adjacent range");
        Assert.That(Lock(_b, P9Const.P9_LOCK_TYPE_WRLCK, 0, 10), Is.EqualTo(P9Const.P9_LOCK_SUCCESS), "range before");
        Assert.That(Lock(_b, P9Const.P9_LOCK_TYPE_WRLCK, 19, 1), Is.EqualTo(P9Const.P9_LOCK_BLOCKED), "one byte of overlap");
        Assert.That(Lock(_b, P9Const.P9_LOCK_TYPE_RDLCK, 12, 2), Is.EqualTo(P9Const.P9_LOCK_BLOCKED));

        // Unlocking the middle of a's range splits it.
        Assert.That(Lock(_a, P9Const.P9_LOCK_TYPE_UNLCK, 12, 4), Is.EqualTo(P9Const.P9_LOCK_SUCCESS));
        Assert.That(Lock(_b, P9Const.P9_LOCK_TYPE_WRLCK, 12, 4), Is.EqualTo(P9Const.P9_LOCK_SUCCESS));
        holder = Probe(_b, P9Const.P9_LOCK_TYPE_WRLCK, 16, 1);
        Assert.That((holder.start, holder.length), Is.EqualTo((16ul, 4ul)), "what is left of a's lock: [16, 20)");
    }

    [Test]
    public void ReadLocks_Share_WriteLocksExclude()
    {
        Assert.That(Lock(_a, P9Const.P9_LOCK_TYPE_RDLCK, 100, 100), Is.EqualTo(P9Const.P9_LOCK_SUCCESS));
        Assert.That(Lock(_b, P9Const.P9_LOCK_TYPE_RDLCK, 150, 10), Is.EqualTo(P9Const.P9_LOCK_SUCCESS), "two read locks share");
        Assert.That(Lock(_b, P9Const.P9_LOCK_TYPE_WRLCK, 150, 10), Is.EqualTo(P9Const.P9_LOCK_BLOCKED));
        P9Getlock holder = Probe(_b, P9Const.P9_LOCK_TYPE_WRLCK, 150, 10);
        Assert.That((holder.type, holder.start, holder.length), Is.EqualTo((P9Const.P9_LOCK_TYPE_RDLCK, 100ul, 100ul)));
        Assert.That(Lock(_a, P9Const.P9_LOCK_TYPE_WRLCK, 100, 100), Is.EqualTo(P9Const.P9_LOCK_BLOCKED), "b's read lock stops a's upgrade");
    }

    [Test]
    public void LengthZero_ReachesTheEndOfTheFile()
    {
        Assert.That(Lock(_a, P9Const.P9_LOCK_TYPE_WRLCK, 1000, 0), Is.EqualTo(P9Const.P9_LOCK_SUCCESS));
        P9Getlock holder = Probe(_b, P9Const.P9_LOCK_TYPE_WRLCK, 1_000_000_000, 1);
        Assert.That((holder.type, holder.start, holder.length), Is.EqualTo((P9Const.P9_LOCK_TYPE_WRLCK, 1000ul, 0ul)));
        Assert.That(Probe(_b, P9Const.P9_LOCK_TYPE_WRLCK, 0, 1000).type, Is.EqualTo(P9Const.P9_LOCK_TYPE_UNLCK));
    }

    [Test]
    public void ClunkingTheOpenFid_ReleasesItsLocks()
    {
        Assert.That(Lock(_a, P9Const.P9_LOCK_TYPE_WRLCK, 0, 0), Is.EqualTo(P9Const.P9_LOCK_SUCCESS));
        Assert.That(Lock(_b, P9Const.P9_LOCK_TYPE_WRLCK, 0, 1), Is.EqualTo(P9Const.P9_LOCK_BLOCKED));
        Assert.That(_c.Clunk(_a), Is.Zero);
        Assert.That(Lock(_b, P9Const.P9_LOCK_TYPE_WRLCK, 0, 1), Is.EqualTo(P9Const.P9_LOCK_SUCCESS));
        _a = Open();
    }

    /// <summary>The locks are the host's: a host process's fcntl lock conflicts with them, both ways.</summary>
    [Test]
    public void Locks_AreHostLocks()
    {
        int fd = TestNative.Open(_file, O_RDWR);
        try
        {
            Assert.That(Lock(_a, P9Const.P9_LOCK_TYPE_WRLCK, 0, 100), Is.EqualTo(P9Const.P9_LOCK_SUCCESS));
            Assert.That(Native.SetLock(fd, (short)F_WRLCK, 50, 10), Is.EqualTo(-EAGAIN).Or.EqualTo(-EACCES), "the host sees the Gofer's lock");
            Assert.That(Native.SetLock(fd, (short)F_WRLCK, 100, 10), Is.Zero, "and not beyond its range");
            Assert.That(Lock(_b, P9Const.P9_LOCK_TYPE_WRLCK, 105, 1), Is.EqualTo(P9Const.P9_LOCK_BLOCKED), "the Gofer sees the host's");
        }
        finally { Native.Close(fd); }
    }

    [Test]
    public void BadArguments()
    {
        Assert.That(_c.Lock(_a, 3, 0, 0, 0, 1, ""u8), Is.EqualTo(-EINVAL), "lock type");
        Assert.That(_c.Lock(_a, P9Const.P9_LOCK_TYPE_WRLCK, 0x100, 0, 0, 1, ""u8), Is.EqualTo(-EINVAL), "unknown flag");
        Assert.That(_c.Lock(_a, P9Const.P9_LOCK_TYPE_WRLCK, 0, ulong.MaxValue, 0, 1, ""u8), Is.EqualTo(-EINVAL), "start beyond off_t");
        var lk = new P9Getlock { type = P9Const.P9_LOCK_TYPE_UNLCK };
        Assert.That(_c.GetLock(_a, ref lk, ""u8), Is.EqualTo(-EINVAL), "asking about an unlock");

        Assert.That(_c.Walk(_root, "locked"u8, out uint readOnly), Is.EqualTo(1));
        Assert.That(_c.Lopen(readOnly, (uint)O_RDONLY, out _, out _, out int hostFd), Is.Zero);
        Native.Close(hostFd);
        Assert.That(Lock(readOnly, P9Const.P9_LOCK_TYPE_WRLCK, 0, 1), Is.EqualTo(-EBADF), "a write lock needs an open for writing, as fcntl");
        Assert.That(Lock(readOnly, P9Const.P9_LOCK_TYPE_RDLCK, 0, 1), Is.EqualTo(P9Const.P9_LOCK_SUCCESS));
        Assert.That(_c.Clunk(readOnly), Is.Zero);
    }
}
