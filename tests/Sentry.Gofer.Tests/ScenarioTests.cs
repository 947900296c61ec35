using System.Text;
using Sentry.P9;
using Sentry.P9.Tests;
using static Tmds.Linux.LibC;

namespace Sentry.Gofer.Tests;

/// <summary>
/// The same operations against diod and against the Gofer (with and without /proc), each
/// checked against what the host file system shows. Where the servers differ on purpose the
/// test says so and asserts each one's answer explicitly:
/// <list type="bullet">
/// <item>the Gofer passes the opened host fd of regular files with Rlopen/Rlcreate; diod passes none;</item>
/// <item>".." at the export root: diod leaves the export, the Gofer stays at the root;</item>
/// <item>Tunlinkat/Trenameat: diod answers EOPNOTSUPP (the client falls back to Tremove/Trename), the Gofer does them;</item>
/// <item>Tstatfs type: diod says V9FS_MAGIC, the Gofer the host file system's real type;</item>
/// <item>an unknown fid: diod says EIO, the Gofer EBADF;</item>
/// <item>locks: diod locks whole files (flock), the Gofer POSIX ranges (see <see cref="GoferLockTests"/>).</item>
/// </list>
/// </summary>
[TestFixture(ServerKind.Diod)]
[TestFixture(ServerKind.Gofer)]
[TestFixture(ServerKind.GoferWithoutProc)]
[NonParallelizable]
public sealed class ScenarioTests(ServerKind kind)
{
    TestExport _server = null!;
    P9Client _c = null!;
    uint _root, _dir;
    P9Qid _rootQid;
    string _dirName = "";

    bool IsDiod => kind == ServerKind.Diod;

    [OneTimeSetUp] public void Start() => _server = TestExport.Start(kind);
    [OneTimeTearDown] public void Stop() => _server?.Dispose();

    [SetUp]
    public void Connect()
    {
        _c = _server.Connect(out _root, out _rootQid);
        _dirName = TestContext.CurrentContext.Test.MethodName!;
        Directory.CreateDirectory(_server.HostPath(_dirName));
        _dir = WalkOk(_root, _dirName);
    }

    [TearDown]
    public void Disconnect()
    {
        bool dead = _c.IsDead;
        if (!dead)
        {
            Assert.That(_c.Clunk(_dir), Is.Zero, "clunk test dir");
            Assert.That(_c.Clunk(_root), Is.Zero, "clunk root");
        }
        int leaked = _c.FidsInUse;
        _c.Dispose();
        if (TestContext.CurrentContext.Result.Outcome.Status == NUnit.Framework.Interfaces.TestStatus.Passed && !dead)
            Assert.That(leaked, Is.Zero, "fids the test did not clunk");
    }

    static byte[] N(string s) => Encoding.UTF8.GetBytes(s);
    string Host(string relative) => Path.Combine(_server.HostPath(_dirName), relative);

    uint WalkOk(uint from, string path)
    {
        int rc = _c.Walk(from, N(path), out uint fid);
        Assert.That(rc, Is.GreaterThanOrEqualTo(0), $"walk '{path}'");
        return fid;
    }

    P9StatDotl GetAttrOk(uint fid)
    {
        Assert.That(_c.GetAttr(fid, P9Const.P9_GETATTR_BASIC, out P9StatDotl st), Is.Zero);
        return st;
    }

    /// <summary>Walks and opens; checks the donated fd (the Gofer's, for regular files) and closes it.</summary>
    uint OpenOk(string path, int flags)
    {
        uint fid = WalkOk(_dir, path);
        Assert.That(_c.Lopen(fid, (uint)flags, out _, out _, out int hostFd), Is.Zero, $"lopen '{path}'");
        if (IsDiod) Assert.That(hostFd, Is.EqualTo(-1), "diod passes no fds");
        else if (File.Exists(Host(path))) CheckDonated(hostFd, Host(path));
        else Assert.That(hostFd, Is.EqualTo(-1), "the Gofer passes fds of regular files only");
        Native.Close(hostFd);
        return fid;
    }

    /// <summary>A donated fd is the host file itself, close-on-exec in the receiver.</summary>
    static void CheckDonated(int hostFd, string hostPath)
    {
        Assert.That(hostFd, Is.GreaterThanOrEqualTo(0), "the Gofer passes the opened fd of a regular file");
        HostStat viaFd = Native.Fstat(hostFd), viaPath = Native.Stat(hostPath);
        Assert.That((viaFd.Dev, viaFd.Ino), Is.EqualTo((viaPath.Dev, viaPath.Ino)), "the donated fd is the file's");
        Assert.That(Native.IsCloseOnExec(hostFd), Is.True);
    }

    byte[] ReadAll(uint fid)
    {
        var result = new MemoryStream();
        var buf = new byte[200_000];
        ulong offset = 0;
        while (true)
        {
            int n = _c.Read(fid, offset, buf);
            Assert.That(n, Is.GreaterThanOrEqualTo(0), "read");
            if (n == 0) return result.ToArray();
            result.Write(buf, 0, n);
            offset += (ulong)n;
        }
    }

    static byte[] RandomBytes(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    [Test]
    public void Version_NegotiatesMsizeAndAttachGivesTheExportRoot()
    {
        Assert.That(_c.MSize, Is.InRange(P9Client.MinMSize, P9Client.DefaultMSize));
        Assert.That(_rootQid.IsDirectory, Is.True);
        Assert.That(_rootQid.Path, Is.EqualTo(Native.Stat(_server.Root).Ino), "qid.path is the inode number");

        using P9Client small = _server.Connect(out uint root, out _, msize: 8192);
        Assert.That(small.MSize, Is.EqualTo(8192), "the smaller msize wins");
        Assert.That(small.MaxIoSize, Is.EqualTo(8192 - P9Const.P9_IOHDRSZ));
        Assert.That(small.Clunk(root), Is.Zero);
    }

    [Test]
    public void Walk_ManyNamesAtOnce_GivesOneQidPerName()
    {
        Directory.CreateDirectory(Host("a/b/c"));
        File.WriteAllText(Host("a/b/c/file"), "x");
        var qids = new P9Qid[4];
        Assert.That(_c.Walk(_dir, "a/b/c/file"u8, out uint fid, qids), Is.EqualTo(4));
        Assert.That(qids.Select(q => q.IsDirectory), Is.EqualTo(new[] { true, true, true, false }));
        Assert.That(qids[0].Path, Is.EqualTo(Native.Lstat(Host("a")).Ino));
        Assert.That(qids[3].Path, Is.EqualTo(Native.Lstat(Host("a/b/c/file")).Ino));
        Assert.That(GetAttrOk(fid).qid, Is.EqualTo(qids[3]));
        Assert.That(_c.Clunk(fid), Is.Zero);
    }

    [Test]
    public void Walk_NoNames_ClonesTheFid()
    {
        Assert.That(_c.Walk(_dir, ""u8, out uint clone), Is.Zero);
        Assert.That(clone, Is.Not.EqualTo(_dir));
        Assert.That(GetAttrOk(clone).qid.Path, Is.EqualTo(Native.Stat(Host("")).Ino));
        Assert.That(_c.Clunk(clone), Is.Zero);
        Assert.That(GetAttrOk(_dir).qid.Path, Is.EqualTo(Native.Stat(Host("")).Ino), "the original lives on");
    }

    [Test]
    public void Walk_MoreThanMaxwelemNames_TakesSeveralWalks()
    {
        string deep = string.Join('/', Enumerable.Range(0, 2 * P9Const.P9_MAXWELEM + 3).Select(i => $"d{i}"));
        Directory.CreateDirectory(Host(deep));
        var qids = new P9Qid[2 * P9Const.P9_MAXWELEM + 3];
        Assert.That(_c.Walk(_dir, N(deep), out uint fid, qids), Is.EqualTo(qids.Length));
        Assert.That(qids[^1].Path, Is.EqualTo(Native.Stat(Host(deep)).Ino));
        Assert.That(qids[P9Const.P9_MAXWELEM].Path, Is.EqualTo(Native.Stat(Host(string.Join('/', deep.Split('/')[..(P9Const.P9_MAXWELEM + 1)]))).Ino));
        Assert.That(GetAttrOk(fid).qid, Is.EqualTo(qids[^1]));
        Assert.That(_c.Clunk(fid), Is.Zero);

        int before = _c.FidsInUse;
        string broken = deep.Replace("d20", "nope");
        Assert.That(_c.Walk(_dir, N(broken), out uint none), Is.EqualTo(-ENOENT));
        Assert.That(none, Is.EqualTo(P9Const.P9_NOFID));
        Assert.That(_c.FidsInUse, Is.EqualTo(before));
    }

    [Test]
    public void Walk_MissingNames_FailWithEnoentAndLeaveNoFid()
    {
        Directory.CreateDirectory(Host("sub"));
        int before = _c.FidsInUse;
        Assert.That(_c.Walk(_dir, "missing"u8, out uint f1), Is.EqualTo(-ENOENT), "first name missing: Rlerror");
        Assert.That(_c.Walk(_dir, "sub/missing"u8, out uint f2), Is.EqualTo(-ENOENT), "later name missing: short Rwalk");
        Assert.That((f1, f2), Is.EqualTo((P9Const.P9_NOFID, P9Const.P9_NOFID)));
        Assert.That(_c.FidsInUse, Is.EqualTo(before));
    }

    [Test]
    public void Walk_ThroughAFile_FailsWithEnotdir()
    {
        File.WriteAllText(Host("file"), "x");
        Assert.That(_c.Walk(_dir, "file/x"u8, out _), Is.EqualTo(-ENOTDIR));
        uint file = WalkOk(_dir, "file");
        Assert.That(_c.Walk(file, "x"u8, out _), Is.EqualTo(-ENOTDIR), "walking from a file fid");
        Assert.That(_c.Clunk(file), Is.Zero);
    }

    [Test]
    public void Walk_DotDot_GoesUpWithinTheExport()
    {
        Directory.CreateDirectory(Host("a/b"));
        uint up = WalkOk(_dir, "a/b/../..");
        Assert.That(GetAttrOk(up).qid.Path, Is.EqualTo(Native.Stat(Host("")).Ino));
        uint parent = WalkOk(_dir, "..");
        Assert.That(GetAttrOk(parent).qid.Path, Is.EqualTo(_rootQid.Path), "the test directory's parent is the root");
        foreach (uint f in new[] { up, parent }) Assert.That(_c.Clunk(f), Is.Zero);
    }

    /// <summary>diod resolves ".." by path and leaves the export; the Gofer keeps ".." of the root at the root.</summary>
    [Test]
    public void Walk_DotDotAtTheRoot()
    {
        uint up = WalkOk(_root, "..");
        uint upUp = WalkOk(_root, "../../..");
        ulong parentIno = Native.Stat(Path.GetDirectoryName(_server.Root)!).Ino;
        if (IsDiod)
        {
            Assert.That(GetAttrOk(up).qid.Path, Is.EqualTo(parentIno), "diod: the host directory above the export");
        }
        else
        {
            Assert.That(GetAttrOk(up).qid, Is.EqualTo(_rootQid), "Gofer: .. of the root is the root");
            Assert.That(GetAttrOk(upUp).qid, Is.EqualTo(_rootQid));
        }
        Assert.That(_c.Clunk(up), Is.Zero);
        Assert.That(_c.Clunk(upUp), Is.Zero);
    }

    [Test]
    public void GetAttr_MatchesHostStat()
    {
        File.WriteAllBytes(Host("f"), RandomBytes(12345, 1));
        File.SetUnixFileMode(Host("f"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        File.CreateSymbolicLink(Host("l"), "f");
        Directory.CreateDirectory(Host("d"));
        File.SetLastWriteTimeUtc(Host("f"), new DateTime(2021, 3, 4, 5, 6, 7, DateTimeKind.Utc).AddTicks(1234567));
        uint f = WalkOk(_dir, "f");
        Assert.That(_c.Link(_dir, f, "f2"u8), Is.Zero);

        foreach (string name in new[] { "f", "l", "d" })
        {
            uint fid = name == "f" ? f : WalkOk(_dir, name);
            Assert.That(_c.GetAttr(fid, P9Const.P9_GETATTR_ALL, out P9StatDotl st), Is.Zero);
            HostStat h = Native.Lstat(Host(name));
            Assert.Multiple(() =>
            {
                Assert.That(st.st_result_mask & P9Const.P9_GETATTR_BASIC, Is.EqualTo(P9Const.P9_GETATTR_BASIC), name);
                Assert.That(st.qid.Path, Is.EqualTo(h.Ino), name);
                Assert.That(st.st_mode, Is.EqualTo(h.Mode), name);
                Assert.That(st.st_uid, Is.EqualTo(h.Uid), name);
                Assert.That(st.st_gid, Is.EqualTo(h.Gid), name);
                Assert.That(st.st_nlink, Is.EqualTo(h.NLink), name);
                Assert.That(st.st_size, Is.EqualTo((ulong)h.Size), name);
                Assert.That(st.st_blocks, Is.EqualTo((ulong)h.Blocks), name);
                Assert.That(st.st_mtime_sec, Is.EqualTo((ulong)h.MTimeSec), name);
                Assert.That(st.st_mtime_nsec, Is.EqualTo((ulong)h.MTimeNsec), name);
                Assert.That(st.st_atime_sec, Is.EqualTo((ulong)h.ATimeSec), name);
            });
            Assert.That(_c.Clunk(fid), Is.Zero);
        }
        HostStat file = Native.Lstat(Host("f"));
        Assert.That((file.NLink, file.Size, file.MTimeNsec), Is.EqualTo((2ul, 12345L, 123456700L)), "host view the comparison used");
    }

    [Test]
    public void LopenRead_ReturnsTheHostFileContents()
    {
        byte[] data = RandomBytes(700_000, 2);
        File.WriteAllBytes(Host("big"), data);
        uint fid = WalkOk(_dir, "big");
        Assert.That(_c.Lopen(fid, (uint)O_RDONLY, out P9Qid qid, out _, out int hostFd), Is.Zero);
        Assert.That(qid.Path, Is.EqualTo(Native.Stat(Host("big")).Ino));
        if (IsDiod) Assert.That(hostFd, Is.EqualTo(-1));
        else
        {
            CheckDonated(hostFd, Host("big"));
            Assert.That(TestNative.PreadAll(hostFd), Is.EqualTo(data), "the donated fd reads the file without 9P");
            Native.Close(hostFd);
        }
        Assert.That(ReadAll(fid), Is.EqualTo(data));

        var part = new byte[100];
        Assert.That(_c.Read(fid, 650_000, part), Is.EqualTo(100), "read at an offset");
        Assert.That(part, Is.EqualTo(data[650_000..650_100]));
        Assert.That(_c.Read(fid, 10_000_000, part), Is.Zero, "past the end");
        Assert.That(_c.Write(fid, 0, "no"u8), Is.EqualTo(-EBADF), "writing a read-only open");
        Assert.That(_c.Clunk(fid), Is.Zero);
    }

    [Test]
    public void Lopen_Errors()
    {
        Directory.CreateDirectory(Host("d"));
        File.WriteAllText(Host("ro"), "x");
        File.SetUnixFileMode(Host("ro"), UnixFileMode.UserRead);
        uint d = WalkOk(_dir, "d");
        Assert.That(_c.Lopen(d, (uint)O_WRONLY, out _, out _, out _), Is.EqualTo(-EISDIR));
        Assert.That(_c.Clunk(d), Is.Zero);
        uint dir = OpenOk("d", O_RDONLY | O_DIRECTORY);
        Assert.That(GetAttrOk(dir).qid.IsDirectory, Is.True);
        Assert.That(_c.Clunk(dir), Is.Zero);
        uint file = WalkOk(_dir, "ro");
        Assert.That(_c.Lopen(file, (uint)(O_RDONLY | O_DIRECTORY), out _, out _, out _), Is.EqualTo(-ENOTDIR));
        Assert.That(_c.Clunk(file), Is.Zero);
    }

    [Test]
    public void LcreateWrite_CreatesTheFileOnTheHost()
    {
        byte[] data = RandomBytes(1_300_000, 3);
        uint fid = WalkOk(_dir, "");
        Assert.That(_c.Lcreate(fid, "new"u8, (uint)(O_RDWR | O_CREAT | O_EXCL), 0x1a0 /* 0640 */, Native.EffectiveGid,
            out P9Qid qid, out _, out int hostFd), Is.Zero);
        Assert.That(qid.IsDirectory, Is.False);
        if (IsDiod) Assert.That(hostFd, Is.EqualTo(-1));
        else CheckDonated(hostFd, Host("new"));
        ulong offset = 0;
        while (offset < (ulong)data.Length)
        {
            int n = _c.Write(fid, offset, data.AsSpan((int)offset));
            Assert.That(n, Is.GreaterThan(0), "write");
            offset += (ulong)n;
        }
        Assert.That(_c.Fsync(fid), Is.Zero);
        Assert.That(_c.Fsync(fid, dataOnly: true), Is.Zero);
        Assert.That(_c.Read(fid, 1000, new byte[10]), Is.EqualTo(10), "the created fid is open read-write");
        if (hostFd >= 0)
        {
            Assert.That(TestNative.PreadAll(hostFd), Is.EqualTo(data), "the donated fd sees what 9P wrote");
            Native.Close(hostFd);
        }
        Assert.That(_c.Clunk(fid), Is.Zero);

        Assert.That(File.ReadAllBytes(Host("new")), Is.EqualTo(data));
        HostStat h = Native.Stat(Host("new"));
        Assert.That(h.Mode & 0xfff, Is.EqualTo(0x1a0));
        Assert.That(h.Ino, Is.EqualTo(qid.Path));
        Assert.That(h.Gid, Is.EqualTo(Native.EffectiveGid));

        uint again = WalkOk(_dir, "");
        Assert.That(_c.Lcreate(again, "new"u8, (uint)(O_RDWR | O_CREAT | O_EXCL), 0x1a4, 0, out _, out _, out _), Is.EqualTo(-EEXIST));
        Assert.That(_c.Clunk(again), Is.Zero);
    }

    [Test]
    public void ReadDir_ListsWhatTheHostLists()
    {
        for (int i = 0; i < 150; i++) File.WriteAllText(Host($"file-{i:D3}-with-a-longer-name"), "");
        Directory.CreateDirectory(Host("subdir"));
        File.CreateSymbolicLink(Host("link"), "subdir");

        uint fid = OpenOk("", O_RDONLY | O_DIRECTORY);
        var seen = new Dictionary<string, (P9Qid Qid, byte Type)>();
        var buf = new byte[1024]; // small: forces many Treaddir, continued by offset
        ulong offset = 0;
        int requests = 0;
        while (true)
        {
            int n = _c.ReadDir(fid, offset, buf);
            Assert.That(n, Is.GreaterThanOrEqualTo(0));
            if (n == 0) break;
            requests++;
            var reader = new P9DirentReader(buf.AsSpan(0, n));
            while (reader.TryNext(out P9Dirent e))
            {
                Assert.That(seen.TryAdd(Encoding.UTF8.GetString(e.Name), (e.Qid, e.Type)), Is.True, "each name once");
                offset = e.Offset;
            }
            Assert.That(reader.Failed, Is.False);
        }

        // Starting again from 0, and from an offset in the middle, gives the same entries.
        var again = new List<string>();
        offset = 0;
        ulong middle = 0;
        while (true)
        {
            int n = _c.ReadDir(fid, offset, buf);
            if (n <= 0) break;
            var reader = new P9DirentReader(buf.AsSpan(0, n));
            while (reader.TryNext(out P9Dirent e))
            {
                again.Add(Encoding.UTF8.GetString(e.Name));
                offset = e.Offset;
                if (again.Count == 40) middle = e.Offset;
            }
        }
        Assert.That(again, Is.EquivalentTo(seen.Keys));
        var rest = new List<string>();
        offset = middle;
        while (true)
        {
            int n = _c.ReadDir(fid, offset, buf);
            if (n <= 0) break;
            var reader = new P9DirentReader(buf.AsSpan(0, n));
            while (reader.TryNext(out P9Dirent e))
            {
                rest.Add(Encoding.UTF8.GetString(e.Name));
                offset = e.Offset;
            }
        }
        Assert.That(rest, Is.EqualTo(again.Skip(40)), "resuming at an entry's offset continues after it");
        Assert.That(_c.Clunk(fid), Is.Zero);

        var host = Directory.EnumerateFileSystemEntries(Host("")).Select(Path.GetFileName).ToHashSet();
        Assert.That(seen.Keys.Where(k => k is not "." and not ".."), Is.EquivalentTo(host));
        Assert.That(requests, Is.GreaterThan(5));
        Assert.That(seen["subdir"].Type, Is.EqualTo(4), "DT_DIR");
        Assert.That(seen["link"].Type, Is.EqualTo(10), "DT_LNK");
        Assert.That(seen["file-007-with-a-longer-name"].Type, Is.EqualTo(8), "DT_REG");
        Assert.That(seen["subdir"].Qid.Path, Is.EqualTo(Native.Lstat(Host("subdir")).Ino));
        Assert.That(seen["subdir"].Qid.IsDirectory, Is.True);
        Assert.That(seen["link"].Qid.IsSymlink, Is.True);
    }

    [Test]
    public void Mkdir_CreatesADirectory()
    {
        Assert.That(_c.Mkdir(_dir, "made"u8, 0x1e8 /* 0750 */, Native.EffectiveGid, out P9Qid qid), Is.Zero);
        HostStat h = Native.Lstat(Host("made"));
        Assert.That(h.Mode, Is.EqualTo((uint)S_IFDIR | 0x1e8u));
        Assert.That(qid.IsDirectory, Is.True);
        Assert.That(qid.Path, Is.EqualTo(h.Ino));
        Assert.That(_c.Mkdir(_dir, "made"u8, 0x1ed, 0, out _), Is.EqualTo(-EEXIST));
    }

    [Test]
    public void SymlinkReadlink_RoundTrip()
    {
        Assert.That(_c.Symlink(_dir, "lnk"u8, "some/where/else"u8, Native.EffectiveGid, out P9Qid qid), Is.Zero);
        Assert.That(new FileInfo(Host("lnk")).LinkTarget, Is.EqualTo("some/where/else"));
        Assert.That(qid.IsSymlink, Is.True);
        Assert.That(qid.Path, Is.EqualTo(Native.Lstat(Host("lnk")).Ino));
        Assert.That(_c.Symlink(_dir, "lnk"u8, "x"u8, 0, out _), Is.EqualTo(-EEXIST));

        File.CreateSymbolicLink(Host("hostlink"), "/an/absolute/target");
        uint fid = WalkOk(_dir, "hostlink");
        var buf = new byte[256];
        int n = _c.Readlink(fid, buf);
        Assert.That(Encoding.UTF8.GetString(buf, 0, n), Is.EqualTo("/an/absolute/target"));
        var small = new byte[4];
        Assert.That(_c.Readlink(fid, small), Is.EqualTo(n), "full length even when truncated");
        Assert.That(small, Is.EqualTo("/an/"u8.ToArray()));
        Assert.That(_c.Clunk(fid), Is.Zero);

        File.WriteAllText(Host("plain"), "");
        uint plain = WalkOk(_dir, "plain");
        Assert.That(_c.Readlink(plain, buf), Is.EqualTo(-EINVAL), "readlink of a regular file");
        Assert.That(_c.Clunk(plain), Is.Zero);
    }

    [Test]
    public void Link_AddsAHardLink()
    {
        File.WriteAllText(Host("orig"), "data");
        uint fid = WalkOk(_dir, "orig");
        Assert.That(_c.Link(_dir, fid, "hard"u8), Is.Zero);
        Assert.That(Native.Lstat(Host("hard")).Ino, Is.EqualTo(Native.Lstat(Host("orig")).Ino));
        Assert.That(Native.Lstat(Host("orig")).NLink, Is.EqualTo(2ul));
        Assert.That(_c.Link(_dir, fid, "hard"u8), Is.EqualTo(-EEXIST));
        Assert.That(_c.Clunk(fid), Is.Zero);
    }

    [Test]
    public void Renameat_MovesFilesLikeRename2()
    {
        File.WriteAllText(Host("a"), "A");
        Directory.CreateDirectory(Host("sub"));
        uint sub = WalkOk(_dir, "sub");
        Assert.That(_c.Renameat(_dir, "a"u8, sub, "b"u8), Is.Zero);
        Assert.That(File.Exists(Host("a")), Is.False);
        Assert.That(File.ReadAllText(Host("sub/b")), Is.EqualTo("A"));
        Assert.That(_c.Renameat(_dir, "a"u8, sub, "c"u8), Is.EqualTo(-ENOENT));

        Directory.CreateDirectory(Host("full/x"));
        Directory.CreateDirectory(Host("other"));
        Assert.That(_c.Renameat(_dir, "other"u8, _dir, "full"u8), Is.EqualTo(-ENOTEMPTY), "directory onto a non-empty one");
        File.WriteAllText(Host("file"), "");
        Assert.That(_c.Renameat(_dir, "other"u8, _dir, "file"u8), Is.EqualTo(-ENOTDIR), "directory onto a file");
        Assert.That(_c.Renameat(_dir, "file"u8, _dir, "other"u8), Is.EqualTo(-EISDIR), "file onto a directory");

        // The older Trename moves the file a fid refers to; the fid follows it.
        uint b = WalkOk(sub, "b");
        Assert.That(_c.Rename(b, _dir, "back"u8), Is.Zero);
        Assert.That(File.ReadAllText(Host("back")), Is.EqualTo("A"));
        Assert.That(_c.Rename(b, sub, "again"u8), Is.Zero, "a renamed fid can be renamed again");
        Assert.That(File.ReadAllText(Host("sub/again")), Is.EqualTo("A"));
        Assert.That(_c.Clunk(b), Is.Zero);
        Assert.That(_c.Clunk(sub), Is.Zero);
    }

    [Test]
    public void Unlinkat_RemovesFilesAndDirectories()
    {
        File.WriteAllText(Host("f"), "");
        Directory.CreateDirectory(Host("d"));
        Directory.CreateDirectory(Host("full/x"));
        Assert.Multiple(() =>
        {
            Assert.That(_c.Unlinkat(_dir, "d"u8, 0), Is.EqualTo(-EISDIR), "directory without AT_REMOVEDIR");
            Assert.That(_c.Unlinkat(_dir, "f"u8, P9Const.P9_DOTL_AT_REMOVEDIR), Is.EqualTo(-ENOTDIR), "file with AT_REMOVEDIR");
            Assert.That(_c.Unlinkat(_dir, "full"u8, P9Const.P9_DOTL_AT_REMOVEDIR), Is.EqualTo(-ENOTEMPTY));
            Assert.That(_c.Unlinkat(_dir, "missing"u8, 0), Is.EqualTo(-ENOENT));
            Assert.That(_c.Unlinkat(_dir, "f"u8, 0), Is.Zero);
            Assert.That(_c.Unlinkat(_dir, "d"u8, P9Const.P9_DOTL_AT_REMOVEDIR), Is.Zero);
        });
        Assert.That(File.Exists(Host("f")), Is.False);
        Assert.That(Directory.Exists(Host("d")), Is.False);
        Assert.That(Directory.Exists(Host("full")), Is.True);
    }

    /// <summary>
    /// Frame by frame over a bare socket (the client would fall back): diod (1.0.24) implements
    /// neither Tunlinkat nor Trenameat and answers EOPNOTSUPP; the Gofer does both.
    /// </summary>
    [Test]
    public void UnlinkatAndRenameat_OnTheWire()
    {
        File.WriteAllText(Host("x"), "");
        File.WriteAllText(Host("gone"), "");
        using var socket = new P9Socket(_server.ConnectRaw(), 8192);
        var buf = new byte[8192];
        Assert.That(P9Frame.TryEncode(buf, P9Const.P9_NOTAG, new Tversion(8192, P9Const.Version9P2000L), out int n), Is.True);
        Assert.That(Frames.Exchange(socket, buf, n, P9MessageType.Rversion), Is.Zero);
        Assert.That(P9Frame.TryEncode(buf, 1, new Tattach(1, P9Const.P9_NOFID, "root"u8, _server.Aname, Native.EffectiveUid), out n), Is.True);
        Assert.That(Frames.Exchange(socket, buf, n, P9MessageType.Rattach), Is.Zero);
        Assert.That(P9Frame.TryEncode(buf, 2, new Twalk(1, 2, P9WalkNames.FromPath(N(_dirName))), out n), Is.True);
        Assert.That(Frames.Exchange(socket, buf, n, P9MessageType.Rwalk), Is.Zero);

        Assert.That(P9Frame.TryEncode(buf, 3, new Trenameat(2, "x"u8, 2, "y"u8), out n), Is.True);
        int renamed = Frames.Exchange(socket, buf, n, P9MessageType.Rrenameat);
        Assert.That(P9Frame.TryEncode(buf, 4, new Tunlinkat(2, "gone"u8, 0), out n), Is.True);
        int unlinked = Frames.Exchange(socket, buf, n, P9MessageType.Runlinkat);
        if (IsDiod)
        {
            Assert.That((renamed, unlinked), Is.EqualTo((-EOPNOTSUPP, -EOPNOTSUPP)));
            Assert.That(File.Exists(Host("x")) && File.Exists(Host("gone")), Is.True);
        }
        else
        {
            Assert.That((renamed, unlinked), Is.EqualTo((0, 0)));
            Assert.That(File.Exists(Host("y")) && !File.Exists(Host("x")) && !File.Exists(Host("gone")), Is.True);
        }
    }

    [Test]
    public void Remove_RemovesAndClunks()
    {
        File.WriteAllText(Host("f"), "");
        Directory.CreateDirectory(Host("d"));
        uint fid = WalkOk(_dir, "f");
        int before = _c.FidsInUse;
        Assert.That(_c.Remove(fid), Is.Zero);
        Assert.That(File.Exists(Host("f")), Is.False);
        Assert.That(_c.FidsInUse, Is.EqualTo(before - 1));
        uint d = WalkOk(_dir, "d");
        Assert.That(_c.Remove(d), Is.Zero);
        Assert.That(Directory.Exists(Host("d")), Is.False);
    }

    [Test]
    public void Mknod_CreatesAFifo()
    {
        Assert.That(_c.Mknod(_dir, "fifo"u8, (uint)S_IFIFO | 0x1a4, 0, 0, Native.EffectiveGid, out P9Qid qid), Is.Zero);
        HostStat h = Native.Lstat(Host("fifo"));
        Assert.That(h.Mode, Is.EqualTo((uint)S_IFIFO | 0x1a4u));
        Assert.That(qid.Path, Is.EqualTo(h.Ino));
    }

    [Test]
    public void SetAttr_ChmodTruncateAndTimes()
    {
        File.WriteAllBytes(Host("f"), RandomBytes(5000, 4));
        uint fid = WalkOk(_dir, "f");
        Assert.That(_c.SetAttr(fid, new P9IattrDotl { valid = P9Const.P9_SETATTR_MODE, mode = 0x184 /* 0604 */ }), Is.Zero);
        Assert.That(Native.Lstat(Host("f")).Mode & 0xfff, Is.EqualTo(0x184));
        Assert.That(_c.SetAttr(fid, new P9IattrDotl { valid = P9Const.P9_SETATTR_SIZE, size = 10 }), Is.Zero);
        Assert.That(Native.Lstat(Host("f")).Size, Is.EqualTo(10));
        var attr = new P9IattrDotl
        {
            valid = P9Const.P9_SETATTR_MTIME | P9Const.P9_SETATTR_MTIME_SET | P9Const.P9_SETATTR_ATIME | P9Const.P9_SETATTR_ATIME_SET,
            mtime_sec = 1_500_000_000, mtime_nsec = 123_456_789, atime_sec = 1_400_000_000, atime_nsec = 5,
        };
        Assert.That(_c.SetAttr(fid, attr), Is.Zero);
        HostStat h = Native.Lstat(Host("f"));
        Assert.That((h.MTimeSec, h.MTimeNsec, h.ATimeSec, h.ATimeNsec), Is.EqualTo((1_500_000_000L, 123_456_789L, 1_400_000_000L, 5L)));
        P9StatDotl st = GetAttrOk(fid);
        Assert.That((st.st_mode & 0xfff, st.st_size, st.st_mtime_sec), Is.EqualTo((0x184u, 10ul, 1_500_000_000ul)));

        // Times without their _SET bits mean "now".
        long before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Assert.That(_c.SetAttr(fid, new P9IattrDotl { valid = P9Const.P9_SETATTR_MTIME | P9Const.P9_SETATTR_ATIME }), Is.Zero);
        h = Native.Lstat(Host("f"));
        Assert.That(h.MTimeSec, Is.InRange(before - 1, before + 5));
        Assert.That(h.ATimeSec, Is.InRange(before - 1, before + 5));

        // Owner: to the same user and group (what an unprivileged test can always do).
        Assert.That(_c.SetAttr(fid, new P9IattrDotl { valid = P9Const.P9_SETATTR_UID | P9Const.P9_SETATTR_GID, uid = Native.EffectiveUid, gid = Native.EffectiveGid }), Is.Zero);
        Assert.That(_c.Clunk(fid), Is.Zero);
    }

    [Test]
    public void StatFs_DescribesTheExportedFileSystem()
    {
        Assert.That(_c.StatFs(_dir, out P9StatFs st), Is.Zero);
        var host = Native.StatVfs(Host(""));
        if (IsDiod) Assert.That(st.type, Is.EqualTo(0x01021997u), "diod hides the real type (V9FS_MAGIC) unless run with -p");
        else Assert.That(st.type, Is.EqualTo((uint)TestNative.StatFsType(Host(""))), "the Gofer reports the host file system's type");
        Assert.That(st.bsize, Is.EqualTo((uint)host.BlockSize));
        Assert.That(st.blocks, Is.EqualTo(host.Blocks));
        Assert.That(st.files, Is.EqualTo(host.Files));
        Assert.That(st.namelen, Is.EqualTo((uint)host.NameMax));
    }

    /// <summary>Whole-file locks, where both servers agree (ranges: <see cref="GoferLockTests"/>).</summary>
    [Test]
    public void LockGetLock_TwoOpensOfOneFileConflict()
    {
        File.WriteAllText(Host("locked"), "0123456789");
        uint a = OpenOk("locked", O_RDWR), b = OpenOk("locked", O_RDWR);
        Assert.That(_c.Lock(a, P9Const.P9_LOCK_TYPE_WRLCK, 0, 0, 0, 41, "sentry"u8), Is.EqualTo(P9Const.P9_LOCK_SUCCESS));
        var probe = new P9Getlock { type = P9Const.P9_LOCK_TYPE_WRLCK, start = 0, length = 0, proc_id = 41 };
        Assert.That(_c.GetLock(a, ref probe, "sentry"u8), Is.Zero);
        Assert.That(probe.type, Is.EqualTo(P9Const.P9_LOCK_TYPE_UNLCK), "the holder's own lock does not conflict");

        Assert.That(_c.Lock(b, P9Const.P9_LOCK_TYPE_WRLCK, P9Const.P9_LOCK_FLAGS_BLOCK, 0, 0, 42, "sentry"u8), Is.EqualTo(P9Const.P9_LOCK_BLOCKED),
            "the server answers BLOCKED rather than waiting");
        Assert.That(_c.Lock(b, P9Const.P9_LOCK_TYPE_RDLCK, 0, 0, 0, 42, "sentry"u8), Is.EqualTo(P9Const.P9_LOCK_BLOCKED));
        probe = new P9Getlock { type = P9Const.P9_LOCK_TYPE_WRLCK, start = 0, length = 0, proc_id = 42 };
        Assert.That(_c.GetLock(b, ref probe, "sentry"u8), Is.Zero);
        Assert.That(probe.type, Is.EqualTo(P9Const.P9_LOCK_TYPE_WRLCK), "the other open sees the conflict");

        Assert.That(_c.Lock(a, P9Const.P9_LOCK_TYPE_UNLCK, 0, 0, 0, 41, "sentry"u8), Is.EqualTo(P9Const.P9_LOCK_SUCCESS));
        Assert.That(_c.Lock(b, P9Const.P9_LOCK_TYPE_WRLCK, 0, 0, 0, 42, "sentry"u8), Is.EqualTo(P9Const.P9_LOCK_SUCCESS));
        Assert.That(_c.Lock(b, P9Const.P9_LOCK_TYPE_WRLCK, P9Const.P9_LOCK_FLAGS_RECLAIM, 0, 0, 42, "sentry"u8), Is.EqualTo(-EINVAL));
        Assert.That(_c.Clunk(a), Is.Zero);
        Assert.That(_c.Clunk(b), Is.Zero);
        uint closed = WalkOk(_dir, "locked");
        Assert.That(_c.Lock(closed, P9Const.P9_LOCK_TYPE_WRLCK, 0, 0, 0, 42, "sentry"u8), Is.EqualTo(-EBADF), "locking a fid that is not open");
        Assert.That(_c.Clunk(closed), Is.Zero);
    }

    [Test]
    public void Xattr_SetThenGet()
    {
        File.WriteAllText(Host("x"), "");
        byte[] value = "the value"u8.ToArray();
        uint fid = WalkOk(_dir, "x");
        Assert.That(_c.XattrCreate(fid, "user.sentry"u8, (ulong)value.Length, 0), Is.Zero);
        Assert.That(_c.Write(fid, 0, value), Is.EqualTo(value.Length));
        Assert.That(_c.Clunk(fid), Is.Zero, "the attribute is set at clunk");

        uint file = WalkOk(_dir, "x");
        Assert.That(_c.XattrWalk(file, "user.sentry"u8, out uint attr, out ulong size), Is.Zero);
        Assert.That(size, Is.EqualTo((ulong)value.Length));
        var buf = new byte[64];
        Assert.That(_c.Read(attr, 0, buf), Is.EqualTo(value.Length));
        Assert.That(buf[..value.Length], Is.EqualTo(value));
        Assert.That(_c.Clunk(attr), Is.Zero);
        Assert.That(_c.XattrWalk(file, "user.missing"u8, out uint none, out _), Is.EqualTo(-ENODATA));
        Assert.That(none, Is.EqualTo(P9Const.P9_NOFID));

        Assert.That(_c.XattrWalk(file, ""u8, out uint list, out ulong listSize), Is.Zero, "the list of names");
        var names = new byte[listSize];
        Assert.That(_c.Read(list, 0, names), Is.EqualTo((int)listSize));
        Assert.That(Encoding.UTF8.GetString(names).Split('\0'), Does.Contain("user.sentry"));
        Assert.That(_c.Clunk(list), Is.Zero);
        Assert.That(_c.Clunk(file), Is.Zero);
    }

    [Test]
    public void Clunk_ForgetsTheFid()
    {
        uint fid = WalkOk(_dir, "");
        Assert.That(_c.Clunk(fid), Is.Zero);
        int rc = _c.GetAttr(fid, P9Const.P9_GETATTR_BASIC, out _);
        Assert.That(rc, Is.EqualTo(IsDiod ? -EIO : -EBADF), "an unknown fid: diod says EIO, the Gofer EBADF");
        Assert.That(_c.IsDead, Is.False, "an error reply leaves the connection usable");
    }

    [Test]
    public void ConcurrentCalls_FromManyThreads_EachGetTheirOwnReply()
    {
        var files = Enumerable.Range(0, 4).Select(i => (Name: $"c{i}", Data: RandomBytes(3000 + i * 1000, 10 + i))).ToArray();
        foreach (var (name, data) in files) File.WriteAllBytes(Host(name), data);
        var errors = new List<string>();
        var threads = files.Select(f => new Thread(() =>
        {
            var buf = new byte[10000];
            for (int i = 0; i < 100; i++)
            {
                if (_c.Walk(_dir, Encoding.UTF8.GetBytes(f.Name), out uint fid) != 1) { lock (errors) errors.Add("walk"); return; }
                int g = _c.GetAttr(fid, P9Const.P9_GETATTR_BASIC, out P9StatDotl st);
                int o = _c.Lopen(fid, (uint)O_RDONLY, out _, out _, out int hostFd);
                Native.Close(hostFd);
                int n = _c.Read(fid, 0, buf);
                _c.Clunk(fid);
                if (g != 0 || st.st_size != (ulong)f.Data.Length || o != 0 || n != f.Data.Length || !buf.AsSpan(0, n).SequenceEqual(f.Data))
                    lock (errors) errors.Add($"{f.Name}: getattr {g} size {st.st_size} lopen {o} read {n}");
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.That(errors, Is.Empty);
    }
}
