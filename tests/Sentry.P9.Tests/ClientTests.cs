using System.Text;
using Microsoft.Win32.SafeHandles;
using static Tmds.Linux.LibC;

namespace Sentry.P9.Tests;

/// <summary>
/// P9Client against a scripted server: what only a server we control can show — fds passed
/// with replies, replies that break the protocol, lost connections, and how requests look.
/// </summary>
public sealed class ClientTests
{
    static T Req<T>(ReadOnlySpan<byte> frame) where T : IP9Message<T>, allows ref struct
    {
        if (!P9Frame.TryDecode(frame, uint.MaxValue, out _, out T m)) throw new InvalidOperationException($"not a {T.Type}");
        return m;
    }

    [Test]
    public void Version_TakesTheSmallerMsize()
    {
        using (var server = new FakeServer((_, _, _) => false) { MSize = 16384 })
        using (P9Client c = server.Connect())
        {
            Assert.That(c.MSize, Is.EqualTo(16384));
            Assert.That(c.MaxIoSize, Is.EqualTo(16384 - 24));
        }
        using (var server = new FakeServer((_, _, _) => false))
        using (P9Client c = server.Connect(msize: 65536))
            Assert.That(c.MSize, Is.EqualTo(65536), "a server offering more than asked gets what we asked");
    }

    [TestCase("9P2000", 65536u)]
    [TestCase("unknown", 65536u)]
    [TestCase("9P2000.L", 4095u)]
    public void Version_RefusedByTheServer_IsEremoteio(string version, uint msize)
    {
        using var server = new FakeServer((s, h, f) =>
        {
            s.Reply(h.Tag, new Rversion(msize, Encoding.ASCII.GetBytes(version)));
            return true;
        });
        using var c = new P9Client(server.ClientFd);
        Assert.That(c.Version(), Is.EqualTo(-EREMOTEIO));
        Assert.That(c.IsDead, Is.True);
    }

    [Test]
    public void CallsBeforeVersion_AreEnotconnAndSendNothing()
    {
        using var server = new FakeServer((_, _, _) => false);
        using var c = new P9Client(server.ClientFd);
        Assert.That(c.GetAttr(0, P9.P9_GETATTR_BASIC, out _), Is.EqualTo(-ENOTCONN));
        Assert.That(c.Version(), Is.Zero);
        Assert.That(c.Version(), Is.EqualTo(-EISCONN), "a second Tversion would reset the session");
        Assert.That(server.Received, Is.EqualTo(new[] { P9MessageType.Tversion }));
    }

    [Test]
    public void VersionInTwoHalves_NegotiatesLikeVersion_AndNothingElseGoesOutBetween()
    {
        using var server = new FakeServer((_, _, _) => false) { MSize = 16384 };
        using var c = new P9Client(server.ClientFd);
        Assert.That(c.ReceiveVersion(), Is.EqualTo(-ENOTCONN), "nothing was sent");
        Assert.That(c.SendVersion(), Is.Zero);
        Assert.That(c.SendVersion(), Is.EqualTo(-EISCONN), "one Tversion per session");
        Assert.That(c.GetAttr(0, P9.P9_GETATTR_BASIC, out _), Is.EqualTo(-ENOTCONN), "the answer is not in yet");
        Assert.That(c.ReceiveVersion(), Is.Zero);
        Assert.That(c.MSize, Is.EqualTo(16384));
        Assert.That(c.ReceiveVersion(), Is.EqualTo(-EISCONN));
        Assert.That(c.Version(), Is.EqualTo(-EISCONN));
        Assert.That(server.Received, Is.EqualTo(new[] { P9MessageType.Tversion }));
    }

    [Test]
    public void Lopen_ReturnsTheHostFdTheServerPasses()
    {
        string path = Path.GetTempFileName();
        File.WriteAllText(path, "donated contents");
        using var donated = File.OpenHandle(path);
        int donatedFd = (int)donated.DangerousGetHandle();
        var qid = new P9Qid(0, 1, 0x77);
        using var server = new FakeServer((s, h, f) =>
        {
            if (h.Type == P9MessageType.Tlopen)
            {
                Tlopen t = Req<Tlopen>(f);
                Assert.That((t.Fid, t.Flags), Is.EqualTo((9u, (uint)O_RDONLY)));
                s.Reply(h.Tag, new Rlopen(qid, 8192), donatedFd);
                return true;
            }
            if (h.Type == P9MessageType.Tlcreate)
            {
                s.Reply(h.Tag, new Rlcreate(qid, 0), donatedFd);
                return true;
            }
            return false;
        });
        using P9Client c = server.Connect();

        Assert.That(c.Lopen(9, (uint)O_RDONLY, out P9Qid gotQid, out uint ioUnit, out int hostFd), Is.Zero);
        Assert.That((gotQid, ioUnit), Is.EqualTo((qid, 8192u)));
        Assert.That(hostFd, Is.GreaterThanOrEqualTo(0).And.Not.EqualTo(donatedFd), "a new descriptor for the same open file");
        Assert.That(Native.Fstat(hostFd).Ino, Is.EqualTo(Native.Stat(path).Ino));
        Assert.That(Native.IsCloseOnExec(hostFd), Is.True, "received fds must not leak into exec'd programs");
        using (var fs = new FileStream(new SafeFileHandle(hostFd, ownsHandle: true), FileAccess.Read))
            Assert.That(new StreamReader(fs).ReadToEnd(), Is.EqualTo("donated contents"));

        Assert.That(c.Lcreate(9, "x"u8, (uint)O_RDWR, 0x1a4, 0, out _, out _, out int createdFd), Is.Zero);
        Assert.That(Native.Fstat(createdFd).Ino, Is.EqualTo(Native.Stat(path).Ino));
        Native.Close(createdFd);
        File.Delete(path);
    }

    [Test]
    public void FdsComingWithOtherReplies_AreClosed()
    {
        var (getattrRead, getattrWrite) = Native.Pipe();
        var (errorRead, errorWrite) = Native.Pipe();
        using var server = new FakeServer((s, h, f) =>
        {
            if (h.Type == P9MessageType.Tgetattr) s.Reply(h.Tag, new Rgetattr(default), getattrWrite);
            else if (h.Type == P9MessageType.Tlopen) s.Reply(h.Tag, new Rlerror((uint)EACCES), errorWrite);
            else return false;
            return true;
        });
        using P9Client c = server.Connect();
        Assert.That(c.GetAttr(1, P9.P9_GETATTR_BASIC, out _), Is.Zero);
        Assert.That(c.Lopen(1, 0, out _, out _, out int hostFd), Is.EqualTo(-EACCES));
        Assert.That(hostFd, Is.EqualTo(-1));
        Native.Close(getattrWrite);
        Native.Close(errorWrite);
        Assert.That(Native.PipeWritersGone(getattrRead, 5000), Is.True, "fd sent with Rgetattr was closed by the client");
        Assert.That(Native.PipeWritersGone(errorRead, 5000), Is.True, "fd sent with Rlerror was closed by the client");
        Native.Close(getattrRead);
        Native.Close(errorRead);
    }

    [TestCase(2u, -2)]
    [TestCase(39u, -39)]
    [TestCase(4095u, -4095)]
    [TestCase(0u, -5)]
    [TestCase(4096u, -5)]
    [TestCase(uint.MaxValue, -5)]
    public void Rlerror_BecomesMinusErrno_AndTheConnectionLives(uint ecode, int expected)
    {
        using var server = new FakeServer((s, h, f) =>
        {
            if (h.Type == P9MessageType.Tmkdir) s.Reply(h.Tag, new Rlerror(ecode));
            else if (h.Type == P9MessageType.Tclunk) s.Reply(h.Tag, new Rclunk());
            else return false;
            return true;
        });
        using P9Client c = server.Connect();
        Assert.That(c.Mkdir(1, "d"u8, 0x1ed, 0, out _), Is.EqualTo(expected));
        Assert.That(c.IsDead, Is.False);
        Assert.That(c.Clunk(1), Is.Zero);
    }

    public enum Violation { WrongTag, WrongType, ShortBody, LongBody, Oversized, TooShortForAHeader, HangUp, ReadMoreThanAsked, MalformedRlerror }

    [TestCase(Violation.WrongTag)]
    [TestCase(Violation.WrongType)]
    [TestCase(Violation.ShortBody)]
    [TestCase(Violation.LongBody)]
    [TestCase(Violation.Oversized)]
    [TestCase(Violation.TooShortForAHeader)]
    [TestCase(Violation.HangUp)]
    [TestCase(Violation.ReadMoreThanAsked)]
    [TestCase(Violation.MalformedRlerror)]
    public void RepliesBreakingTheProtocol_KillTheConnection(Violation violation)
    {
        using var server = new FakeServer((s, h, f) =>
        {
            if (h.Type == P9MessageType.Tversion) return false;
            switch (violation)
            {
                case Violation.WrongTag: s.Reply((ushort)(h.Tag + 1), new Rgetattr(default)); break;
                case Violation.WrongType: s.Reply(h.Tag, new Rclunk()); break;
                case Violation.ShortBody: s.SendRaw(Frame(P9MessageType.Rgetattr, h.Tag, new byte[10])); break;
                case Violation.LongBody: s.SendRaw(Frame(P9MessageType.Rgetattr, h.Tag, new byte[P9StatDotl.WireSize + 1])); break;
                case Violation.Oversized: s.SendRaw(Frame(P9MessageType.Rgetattr, h.Tag, new byte[70_000])); break;
                case Violation.TooShortForAHeader: s.SendRaw([5, 0, 0, 0, 25]); break;
                case Violation.HangUp: s.HangUp(); break;
                case Violation.ReadMoreThanAsked: s.Reply(h.Tag, new Rread(new byte[200])); break;
                case Violation.MalformedRlerror: s.SendRaw(Frame(P9MessageType.Rlerror, h.Tag, [2, 0])); break;
            }
            return true;
        });
        using P9Client c = server.Connect(msize: 65536);
        int rc = violation == Violation.ReadMoreThanAsked ? c.Read(1, 0, new byte[100]) : c.GetAttr(1, P9.P9_GETATTR_BASIC, out _);
        Assert.That(rc, Is.EqualTo(-EIO));
        Assert.That(c.IsDead, Is.True);
        int seen = server.Received.Length;
        Assert.That(c.Clunk(1), Is.EqualTo(-EIO));
        Assert.That(c.Walk(0, "a"u8, out _), Is.EqualTo(-EIO));
        Assert.That(c.Read(1, 0, new byte[10]), Is.EqualTo(-EIO));
        Thread.Sleep(50);
        Assert.That(server.Received.Length, Is.EqualTo(seen), "a dead connection sends nothing");
    }

    static byte[] Frame(P9MessageType type, ushort tag, byte[] body)
    {
        var f = new byte[P9.HeaderSize + body.Length];
        BitConverter.TryWriteBytes(f, (uint)f.Length);
        f[4] = (byte)type;
        BitConverter.TryWriteBytes(f.AsSpan(5), tag);
        body.CopyTo(f, P9.HeaderSize);
        return f;
    }

    [Test]
    public void Dispose_WakesACallWaitingForAReply()
    {
        using var server = new FakeServer((s, h, f) => h.Type != P9MessageType.Tversion); // never answers
        P9Client c = server.Connect();
        int rc = 0;
        var caller = new Thread(() => rc = c.GetAttr(1, P9.P9_GETATTR_BASIC, out _));
        caller.Start();
        Thread.Sleep(100);
        c.Dispose();
        Assert.That(caller.Join(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(rc, Is.EqualTo(-EIO));
        Assert.That(c.IsDead, Is.True);
        Assert.That(c.Clunk(1), Is.EqualTo(-EIO));
    }

    [Test]
    public void ConcurrentCalls_EachGetTheirOwnReply()
    {
        using var server = new FakeServer((s, h, f) =>
        {
            if (h.Type != P9MessageType.Tgetattr) return false;
            Tgetattr t = Req<Tgetattr>(f);
            s.Reply(h.Tag, new Rgetattr(new P9StatDotl { qid = new P9Qid(0, 0, t.Fid * 7ul), st_size = t.RequestMask }));
            return true;
        });
        using P9Client c = server.Connect();
        int wrong = 0;
        var threads = Enumerable.Range(0, 6).Select(n => new Thread(() =>
        {
            for (uint i = 0; i < 500; i++)
            {
                uint fid = (uint)n * 1000 + i;
                if (c.GetAttr(fid, i, out P9StatDotl st) != 0 || st.qid.Path != fid * 7ul || st.st_size != i) Interlocked.Increment(ref wrong);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.That(wrong, Is.Zero);
        Assert.That(server.Received.Count(t => t == P9MessageType.Tgetattr), Is.EqualTo(3000));
    }

    [Test]
    public void HotPaths_DoNotAllocate()
    {
        var data = new byte[4096];
        using var server = new FakeServer((s, h, f) =>
        {
            switch (h.Type)
            {
                case P9MessageType.Twalk: s.Reply(h.Tag, new Rwalk([new P9Qid(0, 0, 1), new P9Qid(0, 0, 2)])); return true;
                case P9MessageType.Tgetattr: s.Reply(h.Tag, new Rgetattr(Codec.SampleStat)); return true;
                case P9MessageType.Tread: s.Reply(h.Tag, new Rread(data)); return true;
                case P9MessageType.Twrite: s.Reply(h.Tag, new Rwrite((uint)Req<Twrite>(f).Data.Length)); return true;
                case P9MessageType.Tclunk: s.Reply(h.Tag, new Rclunk()); return true;
                default: return false;
            }
        });
        using P9Client c = server.Connect();
        var buf = new byte[8192];
        var qids = new P9Qid[2];
        int failures = 0;
        void Round() // no NUnit asserts in here: they allocate
        {
            if (c.Walk(1, "usr/lib"u8, out uint fid, qids) != 2) failures++;
            if (c.GetAttr(fid, P9.P9_GETATTR_BASIC, out _) != 0) failures++;
            if (c.Read(fid, 0, buf) != 4096) failures++;
            if (c.Write(fid, 0, buf) != 8192) failures++;
            if (c.Clunk(fid) != 0) failures++;
        }
        for (int i = 0; i < 50; i++) Round(); // warm up (JIT, fid pool)
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 500; i++) Round();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(failures, Is.Zero);
        Assert.That(allocated, Is.LessThan(1000), "walk, getattr, read, write and clunk allocate nothing per call");
    }

    [Test]
    public void Walk_SplitsLongPathsIntoMaxwelemWalks_ContinuingTheNewFid()
    {
        var walks = new List<(uint Fid, uint NewFid, string[] Names)>();
        using var server = new FakeServer((s, h, f) =>
        {
            if (h.Type != P9MessageType.Twalk) return false;
            Twalk t = Req<Twalk>(f);
            var names = new List<string>();
            foreach (ReadOnlySpan<byte> n in t.Names) names.Add(Encoding.UTF8.GetString(n));
            lock (walks) walks.Add((t.Fid, t.NewFid, names.ToArray()));
            var qids = names.Select(n => new P9Qid(P9.P9_QTDIR, 0, ulong.Parse(n[1..]))).ToArray();
            s.Reply(h.Tag, new Rwalk(qids));
            return true;
        });
        using P9Client c = server.Connect();
        string path = string.Join('/', Enumerable.Range(0, 40).Select(i => $"n{i}"));
        var qidsOut = new P9Qid[40];
        Assert.That(c.Walk(5, Encoding.UTF8.GetBytes(path), out uint newFid, qidsOut), Is.EqualTo(40));
        Assert.That(walks.Select(w => w.Names.Length), Is.EqualTo(new[] { 16, 16, 8 }));
        Assert.That(walks.Select(w => (w.Fid, w.NewFid)), Is.EqualTo(new[] { (5u, newFid), (newFid, newFid), (newFid, newFid) }));
        Assert.That(walks.SelectMany(w => w.Names), Is.EqualTo(path.Split('/')));
        Assert.That(qidsOut.Select(q => q.Path), Is.EqualTo(Enumerable.Range(0, 40).Select(i => (ulong)i)));

        walks.Clear();
        Assert.That(c.Walk(5, ""u8, out uint clone), Is.Zero);
        Assert.That(walks.Single().Names, Is.Empty, "an empty path clones");
        Assert.That(clone, Is.Not.EqualTo(newFid));
        Assert.That(c.Walk(5, "n7"u8, out _, qidsOut.AsSpan(0, 0)), Is.EqualTo(1), "no room for qids is fine");
    }

    [TestCase(5, 3, P9.P9_QTDIR, -2)]      // stopped at a missing name
    [TestCase(5, 3, P9.P9_QTFILE, -20)]    // stopped after a file
    [TestCase(20, 18, P9.P9_QTDIR, -2)]    // stopped in the second walk: the new fid is clunked
    [TestCase(3, 0, P9.P9_QTDIR, -2)]      // an empty Rwalk instead of Rlerror
    public void Walk_StoppingShort_FailsAndGivesTheFidBack(int names, int found, byte lastType, int expected)
    {
        var clunked = new List<uint>();
        int walked = 0;
        using var server = new FakeServer((s, h, f) =>
        {
            if (h.Type == P9MessageType.Tclunk)
            {
                clunked.Add(Req<Tclunk>(f).Fid);
                s.Reply(h.Tag, new Rclunk());
                return true;
            }
            if (h.Type != P9MessageType.Twalk) return false;
            Twalk t = Req<Twalk>(f);
            int answer = Math.Min(t.Names.Count, found - walked);
            var qids = Enumerable.Range(0, answer).Select(i => new P9Qid(walked + i == found - 1 ? lastType : P9.P9_QTDIR, 0, (ulong)(walked + i))).ToArray();
            walked += answer;
            s.Reply(h.Tag, new Rwalk(qids));
            return true;
        });
        using P9Client c = server.Connect();
        int before = c.FidsInUse;
        var qidsOut = new P9Qid[names];
        string path = string.Join('/', Enumerable.Range(0, names).Select(i => $"n{i}"));
        Assert.That(c.Walk(1, Encoding.UTF8.GetBytes(path), out uint newFid, qidsOut), Is.EqualTo(expected));
        Assert.That(newFid, Is.EqualTo(P9.P9_NOFID));
        Assert.That(c.FidsInUse, Is.EqualTo(before));
        Assert.That(qidsOut.Take(found).Select(q => q.Path), Is.EqualTo(Enumerable.Range(0, found).Select(i => (ulong)i)), "qids of the names found");
        Assert.That(clunked.Count, Is.EqualTo(found > P9.P9_MAXWELEM ? 1 : 0));
    }

    [Test]
    public void Fids_AreRecycledAfterClunk()
    {
        using var server = new FakeServer((s, h, f) =>
        {
            if (h.Type == P9MessageType.Tattach) s.Reply(h.Tag, new Rattach(default));
            else if (h.Type == P9MessageType.Twalk) s.Reply(h.Tag, new Rwalk([]));
            else if (h.Type == P9MessageType.Tclunk) s.Reply(h.Tag, new Rlerror((uint)EIO)); // freed anyway
            else return false;
            return true;
        });
        using P9Client c = server.Connect();
        Assert.That(c.Attach("u"u8, "/"u8, 0, out uint root, out _), Is.Zero);
        Assert.That(c.Walk(root, ""u8, out uint a), Is.Zero);
        Assert.That(c.Walk(root, ""u8, out uint b), Is.Zero);
        Assert.That(new[] { root, a, b }, Is.Unique);
        Assert.That(c.FidsInUse, Is.EqualTo(3));
        Assert.That(c.Clunk(a), Is.EqualTo(-EIO));
        Assert.That(c.FidsInUse, Is.EqualTo(2));
        Assert.That(c.Walk(root, ""u8, out uint again), Is.Zero);
        Assert.That(again, Is.EqualTo(a), "the clunked number comes back first");
    }

    [Test]
    public void Attach_Failing_GivesTheFidBack()
    {
        using var server = new FakeServer((s, h, f) => false); // Tattach -> ENOSYS
        using P9Client c = server.Connect();
        Assert.That(c.Attach("u"u8, "/"u8, 0, out uint fid, out _), Is.EqualTo(-ENOSYS));
        Assert.That((fid, c.FidsInUse), Is.EqualTo((P9.P9_NOFID, 0)));
    }

    [Test]
    public void Unlinkat_UsesTunlinkat_AndFallsBackOnlyWhenTheServerLacksIt()
    {
        bool supported = true;
        var removed = new List<uint>();
        using var server = new FakeServer((s, h, f) =>
        {
            switch (h.Type)
            {
                case P9MessageType.Tunlinkat:
                    Tunlinkat u = Req<Tunlinkat>(f);
                    Assert.That((u.DirFid, Encoding.UTF8.GetString(u.Name), u.Flags), Is.EqualTo((1u, "victim", 0u)));
                    if (supported) s.Reply(h.Tag, new Runlinkat()); else s.Reply(h.Tag, new Rlerror((uint)EOPNOTSUPP));
                    return true;
                case P9MessageType.Twalk: s.Reply(h.Tag, new Rwalk([default])); return true;
                case P9MessageType.Tgetattr: s.Reply(h.Tag, new Rgetattr(new P9StatDotl { st_mode = 0x81a4 })); return true;
                case P9MessageType.Tremove: removed.Add(Req<Tremove>(f).Fid); s.Reply(h.Tag, new Rremove()); return true;
                default: return false;
            }
        });
        using P9Client c = server.Connect();
        Assert.That(c.Unlinkat(1, "victim"u8, 0), Is.Zero);
        Assert.That(server.Received[1..], Is.EqualTo(new[] { P9MessageType.Tunlinkat }));

        supported = false;
        Assert.That(c.Unlinkat(1, "victim"u8, 0), Is.Zero);
        Assert.That(server.Received[2..], Is.EqualTo(new[] { P9MessageType.Tunlinkat, P9MessageType.Twalk, P9MessageType.Tgetattr, P9MessageType.Tremove }));
        Assert.That(c.Unlinkat(1, "victim"u8, P9.P9_DOTL_AT_REMOVEDIR), Is.EqualTo(-ENOTDIR), "a file with AT_REMOVEDIR");
        Assert.That(server.Received[6..], Is.EqualTo(new[] { P9MessageType.Twalk, P9MessageType.Tgetattr, P9MessageType.Tclunk }),
            "once refused, Tunlinkat is not tried again");
        Assert.That(c.Unlinkat(1, "a/b"u8, 0), Is.EqualTo(-EINVAL), "the fallback walks one name only");
        Assert.That(c.FidsInUse, Is.Zero);
    }

    [Test]
    public void Remove_ThatFails_StillClunksTheFid()
    {
        using var server = new FakeServer((s, h, f) =>
        {
            if (h.Type == P9MessageType.Tremove) s.Reply(h.Tag, new Rlerror((uint)ENOTEMPTY));
            else if (h.Type == P9MessageType.Tclunk) s.Reply(h.Tag, new Rclunk());
            else return false;
            return true;
        });
        using P9Client c = server.Connect();
        Assert.That(c.Remove(3), Is.EqualTo(-ENOTEMPTY));
        Assert.That(server.Received[1..], Is.EqualTo(new[] { P9MessageType.Tremove, P9MessageType.Tclunk }), "for servers that keep the fid (diod)");
    }

    [Test]
    public void ReadWriteReaddir_AskForNoMoreThanMsizeAllows()
    {
        var counts = new List<(P9MessageType, long)>();
        using var server = new FakeServer((s, h, f) =>
        {
            switch (h.Type)
            {
                case P9MessageType.Tread: counts.Add((h.Type, Req<Tread>(f).Count)); s.Reply(h.Tag, new Rread(new byte[3])); return true;
                case P9MessageType.Twrite: counts.Add((h.Type, Req<Twrite>(f).Data.Length)); s.Reply(h.Tag, new Rwrite(2)); return true;
                case P9MessageType.Treaddir: counts.Add((h.Type, Req<Treaddir>(f).Count)); s.Reply(h.Tag, new Rreaddir([])); return true;
                case P9MessageType.Tfsync: counts.Add((h.Type, Req<Tfsync>(f).Datasync)); s.Reply(h.Tag, new Rfsync()); return true;
                default: return false;
            }
        });
        using P9Client c = server.Connect(msize: 8192);
        var big = new byte[100_000];
        Assert.That(c.Read(1, 0, big), Is.EqualTo(3));
        Assert.That(c.Read(1, 0, big.AsSpan(0, 10)), Is.EqualTo(3));
        Assert.That(c.Write(1, 0, big), Is.EqualTo(2), "short writes are returned as they are");
        Assert.That(c.ReadDir(1, 0, big), Is.Zero);
        Assert.That(c.Fsync(1, dataOnly: true), Is.Zero);
        Assert.That(counts, Is.EqualTo(new (P9MessageType, long)[]
        {
            (P9MessageType.Tread, 8192 - 24), (P9MessageType.Tread, 10), (P9MessageType.Twrite, 8192 - 24),
            (P9MessageType.Treaddir, 8192 - 24), (P9MessageType.Tfsync, 1),
        }));
        Assert.That(c.Mkdir(1, new byte[9000], 0, 0, out _), Is.EqualTo(-ENAMETOOLONG), "a request larger than msize is not sent");
        Assert.That(c.IsDead, Is.False);
    }
}
