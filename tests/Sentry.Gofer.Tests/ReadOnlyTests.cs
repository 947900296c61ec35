using Sentry.P9;
using Sentry.P9.Tests;
using static Tmds.Linux.LibC;

namespace Sentry.Gofer.Tests;

/// <summary>A read-only export: every change is refused with EROFS and the host tree is exactly as before; reading works.</summary>
[NonParallelizable]
public sealed class ReadOnlyTests
{
    InProcessGofer _gofer = null!;
    P9Client _c = null!;
    uint _root;
    string _before = "";

    /// <summary>Everything about the tree a change could touch: names, types, modes, owners, sizes, times, contents.</summary>
    string Snapshot()
    {
        var lines = new List<string>();
        foreach (string p in Directory.EnumerateFileSystemEntries(_gofer.Root, "*", SearchOption.AllDirectories).Order())
        {
            HostStat s = Native.Lstat(p);
            string content = (s.Mode & 0xF000) == 0x8000 ? TestNative.Hash(p) : "";
            lines.Add($"{Path.GetRelativePath(_gofer.Root, p)} {s.Mode:x} {s.Uid} {s.Gid} {s.NLink} {s.Size} {s.MTimeSec}.{s.MTimeNsec} {content}");
        }
        return string.Join('\n', lines);
    }

    [SetUp]
    public void SetUp()
    {
        _gofer = new InProcessGofer(new GoferOptions { ReadOnly = true });
        Directory.CreateDirectory(_gofer.HostPath("dir/sub"));
        File.WriteAllText(_gofer.HostPath("file"), "precious");
        File.WriteAllText(_gofer.HostPath("dir/inner"), "inner");
        File.CreateSymbolicLink(_gofer.HostPath("link"), "file");
        Native.MkFifo(_gofer.HostPath("fifo"), 0x1a4);
        _before = Snapshot();
        _c = _gofer.Connect(out _root, out _);
    }

    [TearDown]
    public void TearDown()
    {
        _c.Dispose();
        try { Assert.That(Snapshot(), Is.EqualTo(_before), "the host tree changed"); }
        finally { _gofer.Dispose(); }
    }

    uint Walk(string path)
    {
        Assert.That(_c.Walk(_root, InProcessGofer.N(path), out uint fid), Is.GreaterThanOrEqualTo(0), path);
        return fid;
    }

    [Test]
    public void Reading_Works()
    {
        uint f = Walk("file");
        Assert.That(_c.Lopen(f, (uint)O_RDONLY, out _, out _, out int hostFd), Is.Zero);
        var buf = new byte[100];
        Assert.That(_c.Read(f, 0, buf), Is.EqualTo(8));
        Assert.That(hostFd, Is.GreaterThanOrEqualTo(0));
        Assert.That(TestNative.PreadAll(hostFd), Is.EqualTo("precious"u8.ToArray()));
        Assert.That(fcntl(hostFd, F_GETFL) & O_ACCMODE, Is.EqualTo(O_RDONLY), "the donated fd is read-only");
        Native.Close(hostFd);
        Assert.That(_c.Fsync(f), Is.Zero, "fsync changes nothing and is allowed");
        Assert.That(_c.Lock(f, P9Const.P9_LOCK_TYPE_RDLCK, 0, 0, 0, 1, ""u8), Is.EqualTo(P9Const.P9_LOCK_SUCCESS));
        Assert.That(_c.Write(f, 0, "x"u8), Is.EqualTo(-EBADF));
        Assert.That(_c.Clunk(f), Is.Zero);
        Assert.That(_c.XattrWalk(_root, ""u8, out uint list, out _), Is.Zero, "listing xattrs is reading");
        Assert.That(_c.Clunk(list), Is.Zero);
        Assert.That(_c.StatFs(_root, out _), Is.Zero);
        Assert.That(_c.SetAttr(_root, new P9IattrDotl { valid = 0 }), Is.Zero, "a setattr that changes nothing");
    }

    [Test]
    public void EveryChange_IsErofs()
    {
        var results = new Dictionary<string, int>();
        foreach (var (name, flags) in new[] { ("wronly", O_WRONLY), ("rdwr", O_RDWR), ("trunc", O_RDONLY | O_TRUNC), ("append", O_WRONLY | O_APPEND) })
        {
            uint f = Walk("file");
            results[$"lopen {name}"] = _c.Lopen(f, (uint)flags, out _, out _, out int fd);
            Native.Close(fd);
            _c.Clunk(f);
        }
        uint dir = Walk("dir");
        uint clone = Walk("");
        results["lcreate"] = _c.Lcreate(clone, "new"u8, (uint)(O_RDWR | O_CREAT), 0x1a4, 0, out _, out _, out _);
        results["lcreate existing"] = _c.Lcreate(clone, "file"u8, (uint)(O_RDONLY | O_CREAT), 0x1a4, 0, out _, out _, out _);
        _c.Clunk(clone);
        results["mkdir"] = _c.Mkdir(_root, "new"u8, 0x1ed, 0, out _);
        results["symlink"] = _c.Symlink(_root, "new"u8, "file"u8, 0, out _);
        results["mknod"] = _c.Mknod(_root, "new"u8, (uint)S_IFIFO | 0x1a4, 0, 0, 0, out _);
        uint file = Walk("file");
        results["link"] = _c.Link(_root, file, "new"u8);
        results["unlinkat"] = _c.Unlinkat(_root, "file"u8, 0);
        results["unlinkat dir"] = _c.Unlinkat(dir, "sub"u8, P9Const.P9_DOTL_AT_REMOVEDIR);
        results["renameat"] = _c.Renameat(_root, "file"u8, dir, "moved"u8);
        results["rename"] = _c.Rename(file, dir, "moved"u8);
        results["chmod"] = _c.SetAttr(file, new P9IattrDotl { valid = P9Const.P9_SETATTR_MODE, mode = 0x1ff });
        results["chown"] = _c.SetAttr(file, new P9IattrDotl { valid = P9Const.P9_SETATTR_UID | P9Const.P9_SETATTR_GID, uid = Native.EffectiveUid, gid = Native.EffectiveGid });
        results["truncate"] = _c.SetAttr(file, new P9IattrDotl { valid = P9Const.P9_SETATTR_SIZE, size = 0 });
        results["utimes"] = _c.SetAttr(file, new P9IattrDotl { valid = P9Const.P9_SETATTR_MTIME | P9Const.P9_SETATTR_ATIME });
        results["utimes set"] = _c.SetAttr(file, new P9IattrDotl { valid = P9Const.P9_SETATTR_MTIME | P9Const.P9_SETATTR_MTIME_SET, mtime_sec = 1 });
        results["ctime"] = _c.SetAttr(file, new P9IattrDotl { valid = P9Const.P9_SETATTR_CTIME });
        uint x = Walk("file");
        results["xattrcreate"] = _c.XattrCreate(x, "user.x"u8, 1, 0);
        _c.Clunk(x);
        results["remove"] = _c.Remove(file);
        uint d = Walk("dir/sub");
        results["remove dir"] = _c.Remove(d);
        _c.Clunk(dir);
        Assert.That(results.Where(r => r.Value != -EROFS).Select(r => $"{r.Key}: {r.Value}"), Is.Empty, "operations not refused with EROFS");
    }
}
