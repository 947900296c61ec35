using System.Text;
using static Tmds.Linux.LibC;

namespace Sentry.P9.Tests;

/// <summary>
/// P9Client against Debian's diod, a 9P2000.L server written by others, where the client itself
/// is under test: a server that goes away. Every operation against diod (and against the Gofer,
/// on the same scenarios) is in tests/Sentry.Gofer.Tests/ScenarioTests.cs.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class DiodInteropTests
{
    DiodServer _diod = null!;
    P9Client _c = null!;
    uint _root, _dir;
    P9Qid _rootQid;
    string _dirName = "";

    [OneTimeSetUp] public void StartDiod() => _diod = DiodServer.StartOrIgnore();
    [OneTimeTearDown] public void StopDiod() => _diod?.Dispose();

    [SetUp]
    public void Connect()
    {
        _c = _diod.Connect(out _root, out _rootQid);
        _dirName = TestContext.CurrentContext.Test.Name;
        Directory.CreateDirectory(_diod.HostPath(_dirName));
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
    string Host(string relative) => Path.Combine(_diod.HostPath(_dirName), relative);

    uint WalkOk(uint from, string path)
    {
        int rc = _c.Walk(from, N(path), out uint fid);
        Assert.That(rc, Is.GreaterThanOrEqualTo(0), $"walk '{path}'");
        return fid;
    }

    P9StatDotl GetAttrOk(uint fid)
    {
        Assert.That(_c.GetAttr(fid, P9.P9_GETATTR_BASIC, out P9StatDotl st), Is.Zero);
        return st;
    }

    uint OpenOk(string path, int flags)
    {
        uint fid = WalkOk(_dir, path);
        Assert.That(_c.Lopen(fid, (uint)flags, out _, out _, out int hostFd), Is.Zero, $"lopen '{path}'");
        Assert.That(hostFd, Is.EqualTo(-1), "diod passes no fds");
        return fid;
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
    public void ServerGone_EveryCallFailsWithEio()
    {
        using DiodServer own = DiodServer.StartOrIgnore();
        using P9Client c = own.Connect(out uint root, out _);
        Assert.That(c.GetAttr(root, P9.P9_GETATTR_BASIC, out _), Is.Zero);
        own.Dispose(); // kills diod
        Assert.That(c.GetAttr(root, P9.P9_GETATTR_BASIC, out _), Is.EqualTo(-EIO));
        Assert.That(c.IsDead, Is.True);
        Assert.That(c.Walk(root, "x"u8, out _), Is.EqualTo(-EIO));
        Assert.That(c.Clunk(root), Is.EqualTo(-EIO));
    }
}
