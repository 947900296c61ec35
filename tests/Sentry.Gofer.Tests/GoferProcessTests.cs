using System.Text;
using Sentry.P9;
using Sentry.P9.Tests;
using static Tmds.Linux.LibC;

namespace Sentry.Gofer.Tests;

/// <summary>
/// GoferProcess.Run in its own process (started with posix_spawn, as the host starts `sentry
/// gofer`), checked from outside: it serves the export over the socket, and /proc shows each
/// confinement step on every one of its threads: its own mount namespace, its root at the
/// export, nosuid/nodev (and read-only) mounts, only the kept capabilities, no_new_privs and a
/// seccomp filter. Needs root for the privileged steps; the unprivileged case is run under
/// setpriv without capabilities.
/// </summary>
[NonParallelizable]
public sealed class GoferProcessTests
{
    string _dir = "";
    string _export = "";

    [SetUp]
    public void SetUp()
    {
        if (!File.Exists(GoferChild.Executable)) Assert.Ignore($"the Gofer test host is missing at {GoferChild.Executable}");
        _dir = Directory.CreateTempSubdirectory("sentry-goferproc-").FullName;
        _export = Path.Combine(_dir, "export");
        Directory.CreateDirectory(Path.Combine(_export, "dir"));
        File.WriteAllText(Path.Combine(_export, "dir", "file"), "served by the confined gofer");
        File.WriteAllText(Path.Combine(_dir, "outside"), "outside the export");
    }

    [TearDown]
    public void TearDown()
    {
        TestNative.MakeRemovable(_dir);
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    static bool IsRoot => Native.EffectiveUid == 0 && (ulong.Parse(GoferChild.StatusField(File.ReadAllText("/proc/self/status"), "CapEff"), System.Globalization.NumberStyles.HexNumber) & (1UL << 21)) != 0;

    static void RequireRoot()
    {
        if (!IsRoot) Assert.Ignore("the confinement steps need root with CAP_SYS_ADMIN; only the unprivileged fallback can be tested here");
    }

    static string ReadFile(P9Client c, uint root, string path)
    {
        Assert.That(c.Walk(root, Encoding.UTF8.GetBytes(path), out uint fid), Is.GreaterThan(0), $"walk {path}");
        Assert.That(c.Lopen(fid, (uint)O_RDONLY, out _, out _, out int hostFd), Is.Zero, $"lopen {path}");
        var buf = new byte[65536];
        int n = c.Read(fid, 0, buf);
        Assert.That(n, Is.GreaterThanOrEqualTo(0));
        if (hostFd >= 0)
        {
            Assert.That(TestNative.PreadAll(hostFd), Is.EqualTo(buf[..n]), "the donated fd reads the same");
            Native.Close(hostFd);
        }
        Assert.That(c.Clunk(fid), Is.Zero);
        return Encoding.UTF8.GetString(buf, 0, n);
    }

    /// <summary>What every thread of the process shows in /proc: namespace, root, capabilities, seccomp.</summary>
    static void CheckEveryThread(GoferChild g, string export, ulong expectedCaps)
    {
        string myNs = new FileInfo("/proc/self/ns/mnt").LinkTarget!;
        HostStat exportStat = Native.Stat(export);
        int[] threads = g.Threads();
        Assert.That(threads, Has.Length.GreaterThan(1), "the runtime runs several threads");
        foreach (int tid in threads)
        {
            string task = $"task/{tid}";
            string status = g.Proc($"{task}/status");
            Assert.Multiple(() =>
            {
                Assert.That(new FileInfo($"/proc/{g.Pid}/{task}/ns/mnt").LinkTarget, Is.Not.EqualTo(myNs), $"thread {tid}: its own mount namespace");
                HostStat root = Native.Stat($"/proc/{g.Pid}/{task}/root/");
                Assert.That((root.Dev, root.Ino), Is.EqualTo((exportStat.Dev, exportStat.Ino)), $"thread {tid}: its root is the export");
                HostStat cwd = Native.Stat($"/proc/{g.Pid}/{task}/cwd/");
                Assert.That((cwd.Dev, cwd.Ino), Is.EqualTo((exportStat.Dev, exportStat.Ino)), $"thread {tid}: its cwd is the export root");
                Assert.That(GoferChild.StatusField(status, "Seccomp"), Is.EqualTo("2"), $"thread {tid}: seccomp filter");
                Assert.That(GoferChild.StatusField(status, "NoNewPrivs"), Is.EqualTo("1"), $"thread {tid}: no_new_privs");
                Assert.That(ulong.Parse(GoferChild.StatusField(status, "CapEff"), System.Globalization.NumberStyles.HexNumber), Is.EqualTo(expectedCaps), $"thread {tid}: effective capabilities");
                Assert.That(ulong.Parse(GoferChild.StatusField(status, "CapPrm"), System.Globalization.NumberStyles.HexNumber), Is.EqualTo(expectedCaps), $"thread {tid}: permitted capabilities");
            });
        }
        var namespaces = threads.Select(t => new FileInfo($"/proc/{g.Pid}/task/{t}/ns/mnt").LinkTarget).Distinct().ToList();
        Assert.That(namespaces, Has.Count.EqualTo(1), "one namespace for all threads");
    }

    /// <summary>The mount the process sees as "/" (from its mountinfo): its options.</summary>
    static string RootMountOptions(GoferChild g)
    {
        // mountinfo: id parent major:minor root mountpoint options ...
        string line = g.Proc("mountinfo").Split('\n').Last(l => l.Split(' ') is { Length: > 5 } f && f[4] == "/");
        return line.Split(' ')[5];
    }

    [Test]
    public void Writable_ConfinedOnEveryThread_AndServes()
    {
        RequireRoot();
        // With the runtime's diagnostics on (its default), for the most threads to confine.
        using var g = new GoferChild(_export, readOnly: false, diagnostics: true);
        using (P9Client c = g.Connect(out uint root, out P9Qid rootQid))
        {
            Assert.That(rootQid.Path, Is.EqualTo(Native.Stat(_export).Ino));
            Assert.That(ReadFile(c, root, "dir/file"), Is.EqualTo("served by the confined gofer"));
            Assert.That(c.Walk(root, "../outside"u8, out _), Is.EqualTo(-ENOENT), ".. of the root is the root");

            // Long enough for the runtime to act under the filter: tiered JIT recompiles hot
            // methods on a thread it may start now, the GC runs.
            int threadsBefore = g.Threads().Length;
            var stopwatch = System.Diagnostics.Stopwatch.StartNew();
            int rounds = 0;
            while (stopwatch.ElapsedMilliseconds < 1500 || rounds < 3000)
            {
                Assert.That(c.Walk(root, "dir/file"u8, out uint f), Is.EqualTo(2));
                Assert.That(c.GetAttr(f, P9Const.P9_GETATTR_BASIC, out _), Is.Zero);
                Assert.That(c.Clunk(f), Is.Zero);
                rounds++;
            }
            TestContext.Out.WriteLine($"{rounds} walks; threads {threadsBefore} -> {g.Threads().Length}");

            CheckEveryThread(g, _export, 0x1f /* CHOWN, DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER, FSETID */);
            Assert.That(ulong.Parse(GoferChild.StatusField(g.Proc("status"), "CapBnd"), System.Globalization.NumberStyles.HexNumber), Is.EqualTo(0x1fUL), "bounding set");
            Assert.That(GoferChild.StatusField(g.Proc("status"), "CapAmb"), Is.EqualTo("0000000000000000"));
            string options = RootMountOptions(g);
            Assert.That(options.Split(','), Does.Contain("rw").And.Contain("nosuid").And.Contain("nodev"), options);
            Assert.That(g.Proc("mountinfo").Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.LessThan(5), "only the export's mounts are left: " + g.Proc("mountinfo"));

            // Every kind of operation still works under the filter (and, under the JIT, after pivot_root).
            Operations(c, root, writable: true);
            Assert.That(c.Clunk(root), Is.Zero);
        }
        string stderr = g.FinishAndReadStderr();
        Assert.That(g.WaitForExit(), Is.Zero, $"exit status; stderr: {stderr}");
        Assert.That(stderr, Is.Empty, "no step was skipped");
        Assert.That(File.ReadAllText(Path.Combine(_export, "made", "new")), Is.EqualTo("written"));
    }

    [Test]
    public void ReadOnly_MountIsReadOnlyAndWritesAreErofs()
    {
        RequireRoot();
        using var g = new GoferChild(_export, readOnly: true);
        using (P9Client c = g.Connect(out uint root, out _))
        {
            Assert.That(ReadFile(c, root, "dir/file"), Is.EqualTo("served by the confined gofer"));
            CheckEveryThread(g, _export, 0x6 /* DAC_OVERRIDE, DAC_READ_SEARCH */);
            Assert.That(RootMountOptions(g).Split(','), Does.Contain("ro").And.Contain("nosuid").And.Contain("nodev"));
            Assert.That(c.Mkdir(root, "no"u8, 0x1ed, 0, out _), Is.EqualTo(-EROFS));
            Assert.That(c.Walk(root, "dir/file"u8, out uint f), Is.EqualTo(2));
            Assert.That(c.Lopen(f, (uint)O_RDWR, out _, out _, out _), Is.EqualTo(-EROFS));
            Operations(c, root, writable: false);
            Assert.That(c.Clunk(f), Is.Zero);
            Assert.That(c.Clunk(root), Is.Zero);
        }
        string stderr = g.FinishAndReadStderr();
        Assert.That(g.WaitForExit(), Is.Zero, stderr);
        Assert.That(stderr, Is.Empty);
        Assert.That(Directory.Exists(Path.Combine(_export, "no")), Is.False);
    }

    /// <summary>The host's `sentry do` case: the export is "/" (read-only). No pivot is possible or needed; the rest holds.</summary>
    [Test]
    public void HostRootExport_ReadOnly()
    {
        RequireRoot();
        using var g = new GoferChild("/", readOnly: true);
        using (P9Client c = g.Connect(out uint root, out P9Qid rootQid))
        {
            Assert.That(rootQid.Path, Is.EqualTo(Native.Stat("/").Ino));
            Assert.That(ReadFile(c, root, "etc/passwd"), Is.EqualTo(File.ReadAllText("/etc/passwd")));
            Assert.That(ReadFile(c, root, _export.TrimStart('/') + "/dir/file"), Is.EqualTo("served by the confined gofer"));
            Assert.That(c.Walk(root, "proc/self/root/etc"u8, out _), Is.EqualTo(-EACCES), "the host's /proc is not served");
            Assert.That(RootMountOptions(g).Split(','), Does.Contain("ro"));
            Assert.That(c.Mkdir(root, "tmp-gofer-test"u8, 0x1ed, 0, out _), Is.EqualTo(-EROFS));
            foreach (int tid in g.Threads())
            {
                string status = g.Proc($"task/{tid}/status");
                Assert.That(GoferChild.StatusField(status, "Seccomp"), Is.EqualTo("2"));
                Assert.That(GoferChild.StatusField(status, "CapEff"), Is.EqualTo("0000000000000006"));
            }
            Assert.That(c.Clunk(root), Is.Zero);
        }
        string stderr = g.FinishAndReadStderr();
        Assert.That(g.WaitForExit(), Is.Zero, stderr);
        Assert.That(stderr, Is.Empty);
    }

    /// <summary>Without capabilities (root under setpriv with empty sets): the privileged steps are skipped, one line each; seccomp and serving still work.</summary>
    [Test]
    public void WithoutCapabilities_SkipsWhatIsNotPermittedAndStillServes()
    {
        if (!File.Exists("/usr/bin/setpriv")) Assert.Ignore("setpriv (util-linux) is needed to drop capabilities");
        using var g = new GoferChild(_export, readOnly: false, wrapper: ["/usr/bin/setpriv", "--bounding-set=-all", "--inh-caps=-all", "--"]);
        using (P9Client c = g.Connect(out uint root, out _))
        {
            Assert.That(ReadFile(c, root, "dir/file"), Is.EqualTo("served by the confined gofer"));
            Assert.That(c.Walk(root, ".."u8, out uint up, default), Is.EqualTo(1));
            Assert.That(c.Clunk(up), Is.Zero);
            Operations(c, root, writable: true);
            string status = g.Proc("status");
            Assert.That(GoferChild.StatusField(status, "Seccomp"), Is.EqualTo("2"), "the filter needs no privilege");
            Assert.That(GoferChild.StatusField(status, "NoNewPrivs"), Is.EqualTo("1"));
            Assert.That(new FileInfo($"/proc/{g.Pid}/ns/mnt").LinkTarget, Is.EqualTo(new FileInfo("/proc/self/ns/mnt").LinkTarget), "no namespace of its own");
            Assert.That(c.Clunk(root), Is.Zero);
        }
        string stderr = g.FinishAndReadStderr();
        Assert.That(g.WaitForExit(), Is.Zero, stderr);
        string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.All.StartWith("sentry gofer: ").And.Contain(" skipped: "), stderr);
        Assert.That(lines.Select(l => l.Split(" skipped:")[0]), Is.EquivalentTo(new[] { "sentry gofer: mount namespace", "sentry gofer: chroot" }), stderr);
    }

    [TestCase(new string[0], "--root DIR is required")]
    [TestCase(new[] { "--root", "/" }, "--fd N is required")]
    [TestCase(new[] { "--root", "/", "--fd", "x" }, "descriptor number")]
    [TestCase(new[] { "--root", "/", "--fd", "3", "--bogus" }, "unknown argument")]
    [TestCase(new[] { "--root", "/", "--fd", "0" }, "is not an open socket")]
    public void BadArguments_OneLineAndExitStatus2(string[] args, string message)
    {
        (int status, string stderr) = GoferChild.RunToExit(args);
        Assert.That(status, Is.EqualTo(2));
        Assert.That(stderr.Split('\n')[0], Does.StartWith("sentry gofer: ").And.Contain(message));
    }

    /// <summary>One of each kind of request, so that every handler runs in the confined process.</summary>
    static void Operations(P9Client c, uint root, bool writable)
    {
        Assert.That(c.GetAttr(root, P9Const.P9_GETATTR_BASIC, out _), Is.Zero);
        Assert.That(c.StatFs(root, out _), Is.Zero);
        Assert.That(c.Walk(root, "dir"u8, out uint dir), Is.EqualTo(1));
        Assert.That(c.Walk(root, ""u8, out uint listing), Is.Zero);
        Assert.That(c.Lopen(listing, (uint)(O_RDONLY | O_DIRECTORY), out _, out _, out _), Is.Zero);
        Assert.That(c.ReadDir(listing, 0, new byte[8192]), Is.GreaterThan(0));
        Assert.That(c.Fsync(listing), Is.Zero);
        Assert.That(c.Clunk(listing), Is.Zero);
        Assert.That(c.XattrWalk(dir, ""u8, out uint xl, out _), Is.Zero);
        Assert.That(c.Clunk(xl), Is.Zero);
        Assert.That(c.Walk(dir, "file"u8, out uint file), Is.EqualTo(1));
        Assert.That(c.Lopen(file, (uint)(writable ? O_RDWR : O_RDONLY), out _, out _, out int fd), Is.Zero);
        Native.Close(fd);
        Assert.That(c.Lock(file, P9Const.P9_LOCK_TYPE_RDLCK, 0, 0, 10, 1, ""u8), Is.EqualTo(P9Const.P9_LOCK_SUCCESS));
        var lk = new P9Getlock { type = P9Const.P9_LOCK_TYPE_WRLCK, length = 1 };
        Assert.That(c.GetLock(file, ref lk, ""u8), Is.Zero);
        Assert.That(c.Clunk(file), Is.Zero);
        if (!writable)
        {
            Assert.That(c.Clunk(dir), Is.Zero);
            return;
        }
        Assert.That(c.Mkdir(root, "made"u8, 0x1ed, 0, out _), Is.Zero);
        Assert.That(c.Walk(root, "made"u8, out uint made), Is.EqualTo(1));
        Assert.That(c.Walk(made, ""u8, out uint creating), Is.Zero);
        Assert.That(c.Lcreate(creating, "new"u8, (uint)(O_RDWR | O_CREAT), 0x1a4, 0, out _, out _, out fd), Is.Zero);
        Native.Close(fd);
        Assert.That(c.Write(creating, 0, "written"u8), Is.EqualTo(7));
        Assert.That(c.Fsync(creating, dataOnly: true), Is.Zero);
        Assert.That(c.SetAttr(creating, new P9IattrDotl { valid = P9Const.P9_SETATTR_MODE | P9Const.P9_SETATTR_MTIME | P9Const.P9_SETATTR_UID, mode = 0x1b6, uid = 0 }), Is.Zero);
        Assert.That(c.XattrCreate(creating, "user.k"u8, 1, 0), Is.EqualTo(-EBADF), "an open fid is not an xattr handle");
        Assert.That(c.Clunk(creating), Is.Zero);
        Assert.That(c.Symlink(made, "link"u8, "new"u8, 0, out _), Is.Zero);
        Assert.That(c.Walk(made, "link"u8, out uint link), Is.EqualTo(1));
        var target = new byte[16];
        Assert.That(c.Readlink(link, target), Is.EqualTo(3));
        Assert.That(c.Clunk(link), Is.Zero);
        Assert.That(c.Mknod(made, "fifo"u8, (uint)S_IFIFO | 0x1a4, 0, 0, 0, out _), Is.Zero);
        Assert.That(c.Walk(made, "new"u8, out uint n), Is.EqualTo(1));
        Assert.That(c.Link(made, n, "hard"u8), Is.Zero);
        Assert.That(c.SetAttr(n, new P9IattrDotl { valid = P9Const.P9_SETATTR_SIZE, size = 7 }), Is.Zero);
        Assert.That(c.Clunk(n), Is.Zero);
        Assert.That(c.Walk(made, "hard"u8, out uint x), Is.EqualTo(1));
        Assert.That(c.XattrCreate(x, "user.k"u8, 1, 0), Is.Zero);
        Assert.That(c.Write(x, 0, "v"u8), Is.EqualTo(1));
        Assert.That(c.Clunk(x), Is.Zero.Or.EqualTo(-EOPNOTSUPP), "user xattrs (tmpfs before 6.6 has none)");
        Assert.That(c.Renameat(made, "hard"u8, made, "moved"u8), Is.Zero);
        Assert.That(c.Unlinkat(made, "moved"u8, 0), Is.Zero);
        Assert.That(c.Unlinkat(made, "fifo"u8, 0), Is.Zero);
        Assert.That(c.Walk(made, "link"u8, out uint l2), Is.EqualTo(1));
        Assert.That(c.Remove(l2), Is.Zero);
        Assert.That(c.Clunk(made), Is.Zero);
        Assert.That(c.Clunk(dir), Is.Zero);
    }
}
