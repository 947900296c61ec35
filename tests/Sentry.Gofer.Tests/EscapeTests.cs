using System.Text;
using Sentry.P9;
using Sentry.P9.Tests;
using static Tmds.Linux.LibC;

namespace Sentry.Gofer.Tests;

/// <summary>
/// Attempts to reach outside the export, each of which must fail: "..", symlinks (absolute and
/// relative, to files and directories), names carrying '/' or NUL, /proc magic links, and a
/// directory swapped for a symlink while another thread walks and opens through it. Beside the
/// export is a directory "outside" holding a secret; no operation may read, change or create
/// anything there. Runs with and without /proc reopening.
/// </summary>
[TestFixture(true)]
[TestFixture(false)]
[NonParallelizable]
public sealed class EscapeTests(bool reopenThroughProc)
{
    InProcessGofer _gofer = null!;
    P9Client _c = null!;
    uint _root;
    P9Qid _rootQid;
    string _secret = "";
    HostStat _secretStat;

    static byte[] N(string s) => Encoding.UTF8.GetBytes(s);

    [SetUp]
    public void SetUp()
    {
        _gofer = new InProcessGofer(new GoferOptions { ReopenThroughProc = reopenThroughProc });
        Directory.CreateDirectory(Path.Combine(_gofer.Outside, "dir"));
        _secret = Path.Combine(_gofer.Outside, "dir", "secret");
        File.WriteAllText(_secret, "OUTSIDE");
        File.SetUnixFileMode(_secret, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _secretStat = Native.Lstat(_secret);
        _c = _gofer.Connect(out _root, out _rootQid);
    }

    [TearDown]
    public void TearDown()
    {
        _c.Dispose();
        try
        {
            // Whatever a test did, the outside is as it was.
            Assert.That(File.ReadAllText(_secret), Is.EqualTo("OUTSIDE"), "the secret's content");
            HostStat now = Native.Lstat(_secret);
            Assert.That((now.Ino, now.Mode, now.Uid, now.Gid, now.Size, now.MTimeSec, now.MTimeNsec),
                Is.EqualTo((_secretStat.Ino, _secretStat.Mode, _secretStat.Uid, _secretStat.Gid, _secretStat.Size, _secretStat.MTimeSec, _secretStat.MTimeNsec)),
                "the secret's attributes");
            Assert.That(Directory.EnumerateFileSystemEntries(Path.Combine(_gofer.Outside, "dir")).Select(Path.GetFileName), Is.EqualTo(new[] { "secret" }),
                "nothing was created outside");
        }
        finally { _gofer.Dispose(); }
    }

    P9Qid QidOf(uint fid)
    {
        Assert.That(_c.GetAttr(fid, P9Const.P9_GETATTR_BASIC, out P9StatDotl st), Is.Zero);
        return st.qid;
    }

    [Test]
    public void DotDot_AboveTheRoot_StaysAtTheRoot()
    {
        Directory.CreateDirectory(_gofer.HostPath("a/b/c"));
        foreach (string path in new[] { "..", "../..", "../../../../../..", "a/../..", "a/b/c/../../../../..", "a/b/../../../a/.." })
        {
            Assert.That(_c.Walk(_root, N(path), out uint fid), Is.GreaterThan(0), path);
            Assert.That(QidOf(fid), Is.EqualTo(_rootQid), path);
            Assert.That(_c.Clunk(fid), Is.Zero);
        }
        Assert.That(_c.Walk(_root, "../a"u8, out uint a), Is.EqualTo(2));
        Assert.That(QidOf(a).Path, Is.EqualTo(Native.Stat(_gofer.HostPath("a")).Ino), "../a is the export's a");
        Assert.That(_c.Clunk(a), Is.Zero);

        // ".." listed in the root directory is the root too.
        Assert.That(_c.Walk(_root, ""u8, out uint dir), Is.Zero);
        Assert.That(_c.Lopen(dir, (uint)(O_RDONLY | O_DIRECTORY), out _, out _, out _), Is.Zero);
        var buf = new byte[8192];
        int n = _c.ReadDir(dir, 0, buf);
        var entries = new Dictionary<string, P9Qid>();
        var reader = new P9DirentReader(buf.AsSpan(0, n));
        while (reader.TryNext(out P9Dirent e)) entries[Encoding.UTF8.GetString(e.Name)] = e.Qid;
        Assert.That(entries[".."].Path, Is.EqualTo(_rootQid.Path));
        Assert.That(_c.Clunk(dir), Is.Zero);
    }

    /// <summary>A directory moved out of the export on the host: ".." from it is its place in the Gofer's tree, not the host's parent.</summary>
    [Test]
    public void DotDot_OfADirectoryMovedOutside_StaysInTheExport()
    {
        Directory.CreateDirectory(_gofer.HostPath("moving/inner"));
        Assert.That(_c.Walk(_root, "moving/inner"u8, out uint inner), Is.EqualTo(2));
        Directory.Move(_gofer.HostPath("moving"), Path.Combine(_gofer.Outside, "moved"));
        Assert.That(_c.Walk(inner, "../.."u8, out uint up), Is.EqualTo(2));
        Assert.That(QidOf(up), Is.EqualTo(_rootQid), "the export root, not the outside directory");
        Assert.That(_c.Walk(inner, "../../dir"u8, out _), Is.EqualTo(-ENOENT), "outside/dir is not reachable by name");
        Assert.That(_c.Clunk(up), Is.Zero);
        Assert.That(_c.Clunk(inner), Is.Zero);
        Directory.Delete(Path.Combine(_gofer.Outside, "moved"), recursive: true);
    }

    [TestCase("absolute", null)]
    [TestCase("relative", "../outside/dir/secret")]
    [TestCase("deep-relative", "../../../../../../../../etc/passwd")]
    public void SymlinkToAFileOutside_IsReturnedAsASymlinkAndNeverFollowed(string name, string? target)
    {
        target ??= _secret;
        File.CreateSymbolicLink(_gofer.HostPath(name), target);
        var qids = new P9Qid[1];
        Assert.That(_c.Walk(_root, N(name), out uint fid, qids), Is.EqualTo(1));
        Assert.That(qids[0].IsSymlink, Is.True, "the walk ends at the symlink itself");
        Assert.That(_c.GetAttr(fid, P9Const.P9_GETATTR_BASIC, out P9StatDotl st), Is.Zero);
        Assert.That(st.st_mode & (uint)S_IFMT, Is.EqualTo((uint)S_IFLNK));
        Assert.That(st.qid.Path, Is.EqualTo(Native.Lstat(_gofer.HostPath(name)).Ino));
        var buf = new byte[4096];
        int n = _c.Readlink(fid, buf);
        Assert.That(Encoding.UTF8.GetString(buf, 0, n), Is.EqualTo(target), "the client gets the target to resolve itself");

        Assert.That(_c.Lopen(fid, (uint)O_RDONLY, out _, out _, out int hostFd), Is.EqualTo(-ELOOP));
        Assert.That(hostFd, Is.EqualTo(-1));
        Assert.That(_c.Walk(fid, "x"u8, out _), Is.EqualTo(-ENOTDIR), "walking through a symlink");
        // Changes through the symlink's fid touch the link itself, never its target.
        Assert.That(_c.SetAttr(fid, new P9IattrDotl { valid = P9Const.P9_SETATTR_MODE, mode = 0x1ff }), Is.EqualTo(-EOPNOTSUPP));
        Assert.That(_c.SetAttr(fid, new P9IattrDotl { valid = P9Const.P9_SETATTR_SIZE, size = 0 }), Is.EqualTo(-EINVAL));
        Assert.That(_c.SetAttr(fid, new P9IattrDotl { valid = P9Const.P9_SETATTR_UID | P9Const.P9_SETATTR_GID, uid = 4321, gid = 4321 }),
            Is.Zero.Or.EqualTo(-EPERM), "lchown (EPERM when not root)");
        Assert.That(_c.SetAttr(fid, new P9IattrDotl { valid = P9Const.P9_SETATTR_MTIME | P9Const.P9_SETATTR_MTIME_SET, mtime_sec = 12345 }), Is.Zero);
        Assert.That(Native.Lstat(_gofer.HostPath(name)).MTimeSec, Is.EqualTo(12345), "the link's own time changed");
        Assert.That(_c.XattrCreate(fid, "user.x"u8, 1, 0), Is.Zero);
        Assert.That(_c.Write(fid, 0, "v"u8), Is.EqualTo(1));
        Assert.That(_c.Clunk(fid), Is.EqualTo(-EPERM), "user xattrs on a symlink are refused by Linux (not set on the target)");

        // Creating over the symlink's name does not create or truncate the target.
        Assert.That(_c.Walk(_root, ""u8, out uint dir), Is.Zero);
        Assert.That(_c.Lcreate(dir, N(name), (uint)(O_WRONLY | O_CREAT | O_TRUNC), 0x1b6, 0, out _, out _, out hostFd), Is.EqualTo(-ELOOP));
        Assert.That(hostFd, Is.EqualTo(-1));
        Assert.That(_c.Clunk(dir), Is.Zero);

        // Removing it removes the link.
        Assert.That(_c.Unlinkat(_root, N(name), 0), Is.Zero);
        Assert.That(File.Exists(_gofer.HostPath(name)) || new FileInfo(_gofer.HostPath(name)).LinkTarget != null, Is.False);
    }

    [TestCase(true)]
    [TestCase(false)]
    public void SymlinkToADirectoryOutside_CannotBeWalkedThroughOrCreatedIn(bool absolute)
    {
        File.CreateSymbolicLink(_gofer.HostPath("dirlink"), absolute ? Path.Combine(_gofer.Outside, "dir") : "../outside/dir");
        Assert.That(_c.Walk(_root, "dirlink/secret"u8, out _), Is.EqualTo(-ENOTDIR), "walk through the link");
        Assert.That(_c.Walk(_root, "dirlink/.."u8, out _), Is.EqualTo(-ENOTDIR));
        Assert.That(_c.Walk(_root, "dirlink"u8, out uint link), Is.EqualTo(1));
        Assert.That(_c.Walk(link, "secret"u8, out _), Is.EqualTo(-ENOTDIR));
        Assert.That(_c.Walk(link, ".."u8, out _), Is.EqualTo(-ENOTDIR));
        Assert.That(_c.Lopen(link, (uint)(O_RDONLY | O_DIRECTORY), out _, out _, out _), Is.EqualTo(-ELOOP));
        Assert.That(_c.Mkdir(link, "new"u8, 0x1ff, 0, out _), Is.EqualTo(-ENOTDIR));
        Assert.That(_c.Symlink(link, "new"u8, "x"u8, 0, out _), Is.EqualTo(-ENOTDIR));
        Assert.That(_c.Mknod(link, "new"u8, (uint)S_IFIFO | 0x1a4, 0, 0, 0, out _), Is.EqualTo(-ENOTDIR));
        Assert.That(_c.Unlinkat(link, "secret"u8, 0), Is.EqualTo(-ENOTDIR));
        Assert.That(_c.Renameat(link, "secret"u8, _root, "stolen"u8), Is.EqualTo(-ENOTDIR));
        Assert.That(_c.Walk(_root, "missing"u8, out _), Is.EqualTo(-ENOENT));
        Assert.That(_c.Walk(link, ""u8, out uint clone), Is.Zero);
        Assert.That(_c.Lcreate(clone, "new"u8, (uint)(O_RDWR | O_CREAT), 0x1b6, 0, out _, out _, out _), Is.EqualTo(-ENOTDIR));
        Assert.That(_c.Clunk(clone), Is.Zero);
        Assert.That(_c.Clunk(link), Is.Zero);
    }

    /// <summary>Names that would make the host resolve more than one component are refused before any host call.</summary>
    [Test]
    public void NamesWithSlashesNulsOrDots_AreRefused()
    {
        Directory.CreateDirectory(_gofer.HostPath("sub"));
        File.WriteAllText(_gofer.HostPath("sub/file"), "inside");
        using var raw = new RawConnection(_gofer.StartConnection());
        raw.Start();
        byte[][] bad =
        [
            N("sub/file"), N("/etc"), N("../outside"), N("..//outside"), N("sub/../../outside"),
            N(_secret), N("sub\0file"), N("\0"), N("..\0"),
        ];
        foreach (byte[] name in bad)
        {
            RawReply r = raw.Call(RawConnection.Twalk(7, 0, 1, name));
            Assert.That(r.Errno, Is.EqualTo(-EINVAL), $"walk '{Encoding.UTF8.GetString(name).Replace("\0", "\\0")}'");
        }
        Assert.That(raw.Call(RawConnection.Twalk(7, 0, 1, [])).Type, Is.EqualTo(P9MessageType.Rwalk), "no names: a clone");
        Assert.That(raw.Call(RawConnection.Twalk(7, 0, 2, N(""))).Errno, Is.EqualTo(-ENOENT), "an empty name");
        Assert.That(raw.Call(RawConnection.Twalk(7, 0, 2, new byte[256])).Errno, Is.EqualTo(-ENAMETOOLONG));
        // A bad name after good ones ends the walk there.
        Assert.That(RawConnection.Qids(raw.Call(RawConnection.Twalk(7, 0, 2, N("sub"), N("../x"), N("file")))), Has.Length.EqualTo(1));

        // Every operation taking a name checks it the same way.
        foreach (string name in new[] { "../outside/dir/evil", "a/b", "/tmp/evil", _secret })
        {
            byte[] n = N(name);
            Assert.Multiple(() =>
            {
                Assert.That(raw.Call(3, new Tmkdir(1, n, 0x1ff, 0)).Errno, Is.EqualTo(-EINVAL), $"mkdir {name}");
                Assert.That(raw.Call(3, new Tsymlink(1, n, "x"u8, 0)).Errno, Is.EqualTo(-EINVAL), $"symlink {name}");
                Assert.That(raw.Call(3, new Tmknod(1, n, (uint)S_IFIFO | 0x1a4, 0, 0, 0)).Errno, Is.EqualTo(-EINVAL), $"mknod {name}");
                Assert.That(raw.Call(3, new Tunlinkat(1, n, 0)).Errno, Is.EqualTo(-EINVAL), $"unlinkat {name}");
                Assert.That(raw.Call(3, new Trenameat(1, "sub"u8, 1, n)).Errno, Is.EqualTo(-EINVAL), $"renameat to {name}");
                Assert.That(raw.Call(3, new Trenameat(1, n, 1, "stolen"u8)).Errno, Is.EqualTo(-EINVAL), $"renameat from {name}");
                Assert.That(raw.Call(3, new Tlink(1, 0, n)).Errno, Is.EqualTo(-EINVAL), $"link {name}");
            });
        }
        Assert.That(raw.Call(3, new Tmkdir(1, ".."u8, 0x1ff, 0)).Errno, Is.EqualTo(-EEXIST));
        Assert.That(raw.Call(3, new Tunlinkat(1, ".."u8, P9Const.P9_DOTL_AT_REMOVEDIR)).Errno, Is.EqualTo(-ENOTEMPTY));
        Assert.That(raw.Call(3, new Tunlinkat(1, "."u8, P9Const.P9_DOTL_AT_REMOVEDIR)).Errno, Is.EqualTo(-EINVAL));
        Assert.That(raw.Call(3, new Trenameat(1, ".."u8, 1, "x"u8)).Errno, Is.EqualTo(-EBUSY));
        // Tlcreate turns fid 1 into the new file if it works: use a clone.
        Assert.That(raw.Call(RawConnection.Twalk(7, 0, 5, [])).Type, Is.EqualTo(P9MessageType.Rwalk));
        Assert.That(raw.Call(3, new Tlcreate(5, "../outside/dir/new"u8, (uint)(O_RDWR | O_CREAT), 0x1b6, 0)).Errno, Is.EqualTo(-EINVAL));
        Assert.That(raw.Call(3, new Tlcreate(5, N(_secret), (uint)(O_RDWR | O_CREAT | O_TRUNC), 0x1b6, 0)).Errno, Is.EqualTo(-EINVAL));
        Assert.That(Directory.EnumerateFileSystemEntries(_gofer.Root).Select(Path.GetFileName), Is.EquivalentTo(new[] { "sub" }), "nothing made in the export either");
    }

    /// <summary>
    /// The export root holds magic links to the Gofer's own /proc (its root, its socket): they
    /// are symlinks to the Gofer, which neither follows nor opens them.
    /// </summary>
    [Test]
    public void ProcMagicLinks_InsideTheExport_AreNotFollowed()
    {
        int socketFds = Directory.GetFiles("/proc/self/fd").Length;
        File.CreateSymbolicLink(_gofer.HostPath("root"), "/proc/self/root");
        File.CreateSymbolicLink(_gofer.HostPath("cwd"), "/proc/self/cwd");
        File.CreateSymbolicLink(_gofer.HostPath("fd"), "/proc/self/fd");
        foreach (string name in new[] { "root", "cwd", "fd" })
        {
            Assert.That(_c.Walk(_root, N(name + "/etc"), out _), Is.EqualTo(-ENOTDIR), name);
            Assert.That(_c.Walk(_root, N(name), out uint fid), Is.EqualTo(1));
            Assert.That(_c.Lopen(fid, (uint)O_RDONLY, out _, out _, out _), Is.EqualTo(-ELOOP), name);
            Assert.That(_c.Clunk(fid), Is.Zero);
        }
        Assert.That(socketFds, Is.GreaterThan(3));
    }

    /// <summary>
    /// "/" exported (read-only): the host's /proc, /sys and /dev/pts are mounted inside it, but
    /// the Gofer does not enter kernel file systems (EACCES), so neither /proc/self/root nor the
    /// Gofer's own fds (its socket) nor /proc/sys are reachable by any name; device nodes are
    /// walked to but never opened.
    /// </summary>
    [Test]
    public void KernelFileSystems_UnderAnExportedRoot_AreNotEntered()
    {
        int rootFd = TestNative.Open("/", TestNative.O_PATH | TestNative.O_DIRECTORY);
        using var server = new GoferServer(rootFd, new GoferOptions { ReadOnly = true });
        Native.Close(rootFd);
        (int client, int serverFd) = Native.SocketPair();
        var t = new Thread(() => server.Serve(serverFd));
        t.Start();
        using (var c = new P9Client(client))
        {
            Assert.That(c.Version(), Is.Zero);
            Assert.That(c.Attach("root"u8, ""u8, 0, out uint root, out _), Is.Zero);
            string me = Environment.ProcessId.ToString();
            foreach (string path in new[] { "proc", "proc/self/root", $"proc/{me}/fd/{serverFd}", $"proc/{me}/fd/{client}", "proc/sys/kernel/core_pattern", "proc/kcore", "sys", "sys/fs/cgroup", "dev/pts", "dev/mqueue" })
            {
                if (!Directory.Exists("/" + path.Split('/')[0] + (path.Contains('/') ? "/" + path.Split('/')[1] : ""))) continue;
                Assert.That(WalkNameByName(c, root, path), Is.EqualTo(-EACCES), path);
            }
            Assert.That(c.Walk(root, "proc/.."u8, out _), Is.EqualTo(-EACCES), "not even to come back");
            // (A walk of several names that stops part way cannot say why: the client reports ENOENT.)
            if (Directory.Exists("/dev/pts")) Assert.That(c.Walk(root, "dev/pts"u8, out _), Is.EqualTo(-ENOENT));
            if (File.Exists("/dev/null"))
            {
                Assert.That(c.Walk(root, "dev/null"u8, out uint dev), Is.EqualTo(2), "a device node can be looked at");
                Assert.That(c.GetAttr(dev, P9Const.P9_GETATTR_BASIC, out P9StatDotl st), Is.Zero);
                Assert.That(st.st_mode & (uint)S_IFMT, Is.EqualTo((uint)S_IFCHR));
                Assert.That(c.Lopen(dev, (uint)O_RDONLY, out _, out _, out int hostFd), Is.EqualTo(-EACCES), "but not opened");
                Assert.That(hostFd, Is.EqualTo(-1));
                Assert.That(c.Clunk(dev), Is.Zero);
            }
            Assert.That(c.Walk(root, "etc/passwd"u8, out uint passwd), Is.EqualTo(2), "ordinary files are served");
            Assert.That(c.Clunk(passwd), Is.Zero);
        }
        Assert.That(t.Join(TimeSpan.FromSeconds(10)), Is.True);

        // Nor is such a file system accepted as the export itself.
        int procFd = TestNative.Open("/proc", TestNative.O_PATH | TestNative.O_DIRECTORY);
        Assert.Throws<ArgumentException>(() => new GoferServer(procFd).Dispose());
        Native.Close(procFd);
    }

    /// <summary>
    /// A directory in the export is swapped with a symlink to the outside (and its file with a
    /// symlink to the outside secret) over and over while other threads walk, open, read and
    /// create through it: whatever succeeds is inside the export.
    /// </summary>
    [Test]
    public void DirectorySwappedForASymlink_DuringWalkAndOpen_NeverReachesOutside()
    {
        string dir = _gofer.HostPath("dir");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "secret"), "inside");
        string outsideDir = Path.Combine(_gofer.Outside, "dir");
        ulong outsideIno = _secretStat.Ino;
        int outsideEntries = Directory.GetFileSystemEntries(outsideDir).Length;

        using var stop = new CancellationTokenSource();
        var failures = new List<string>();
        int opened = 0, refused = 0;
        var attacker = new Thread(() =>
        {
            for (int i = 0; i < 400; i++)
            {
                try
                {
                    Directory.Move(dir, dir + ".real");
                    File.CreateSymbolicLink(dir, outsideDir);
                    Thread.SpinWait(200);
                    File.Delete(dir);
                    Directory.Move(dir + ".real", dir);
                    // And the file inside swapped for a symlink to the outside secret.
                    string inner = Path.Combine(dir, "secret");
                    File.Move(inner, inner + ".real");
                    File.CreateSymbolicLink(inner, _secret);
                    Thread.SpinWait(200);
                    File.Delete(inner);
                    File.Move(inner + ".real", inner);
                }
                catch (Exception e) { lock (failures) failures.Add($"attacker: {e.Message}"); }
            }
            stop.Cancel();
        });
        Thread Victim(int id) => new(() =>
        {
            using P9Client c = _gofer.Connect(out uint root, out _);
            var buf = new byte[64];
            while (!stop.IsCancellationRequested)
            {
                // Walk the whole path at once, or directory then file, then open and read.
                uint fid;
                int w = id % 2 == 0 ? c.Walk(root, "dir/secret"u8, out fid) : WalkInTwo(c, root, out fid);
                if (w < 0) { Interlocked.Increment(ref refused); continue; }
                int o = c.Lopen(fid, (uint)O_RDWR, out P9Qid q, out _, out int hostFd);
                if (o == 0)
                {
                    Interlocked.Increment(ref opened);
                    int n = c.Read(fid, 0, buf);
                    string content = Encoding.UTF8.GetString(buf, 0, Math.Max(n, 0));
                    if (content == "OUTSIDE" || q.Path == outsideIno) lock (failures) failures.Add($"opened the outside secret (read '{content}')");
                    if (hostFd >= 0 && Native.Fstat(hostFd).Ino == outsideIno) lock (failures) failures.Add("donated the outside secret's fd");
                    Native.Close(hostFd);
                }
                else Interlocked.Increment(ref refused);
                c.Clunk(fid);
                // Create through the directory as well.
                if (c.Walk(root, "dir"u8, out uint d) >= 0)
                {
                    if (c.Lcreate(d, N($"made-{id}"), (uint)(O_RDWR | O_CREAT), 0x1a4, 0, out _, out _, out int createdFd) == 0)
                    {
                        Native.Close(createdFd);
                        c.Remove(d);
                    }
                    else c.Clunk(d);
                }
            }
        });
        var victims = Enumerable.Range(0, 3).Select(Victim).ToList();
        victims.ForEach(v => v.Start());
        attacker.Start();
        attacker.Join();
        victims.ForEach(v => v.Join());

        Assert.That(failures, Is.Empty);
        Assert.That(Directory.GetFileSystemEntries(outsideDir), Has.Length.EqualTo(outsideEntries), "nothing created outside");
        Assert.That(opened, Is.GreaterThan(0), "some opens succeeded (the race ran)");
        TestContext.Out.WriteLine($"opened {opened}, refused {refused}");
    }

    /// <summary>Walks one name per Twalk, so the server's errno for the name that fails comes back; returns 0 or it.</summary>
    static int WalkNameByName(P9Client c, uint from, string path)
    {
        Assert.That(c.Walk(from, ""u8, out uint cur), Is.Zero);
        try
        {
            foreach (string name in path.Split('/'))
            {
                int rc = c.Walk(cur, N(name), out uint next);
                if (rc < 0) return rc;
                c.Clunk(cur);
                cur = next;
            }
            return 0;
        }
        finally { c.Clunk(cur); }
    }

    static int WalkInTwo(P9Client c, uint root, out uint fid)
    {
        fid = P9Const.P9_NOFID;
        int w = c.Walk(root, "dir"u8, out uint d);
        if (w < 0) return w;
        w = c.Walk(d, "secret"u8, out fid);
        c.Clunk(d);
        return w;
    }
}
