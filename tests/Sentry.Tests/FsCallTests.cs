using Sentry.Tests.Infrastructure;

namespace Sentry.Tests;

/// <summary>
/// File-system system calls on a writable scratch directory, compared with the same binary run
/// natively: tests/programs/fsops.c, one test per MODE (a group of checks) and build flavour;
/// and real tools (tar, cp -a, find, du, sqlite3, git) doing file work in a scratch directory.
///
/// The scratch location is a parameter. "/dev/shm" is the sandbox's tmpfs. "/tmp" is in the
/// overlay root (host root as the lower layer, an in-memory upper layer): those cases are in
/// category "Overlay". "volume" is a host directory bind-mounted with `--volume` (served by the
/// Gofer, changes reach the host): category "Volume"; after each run the test also checks that
/// the program's files are on the host.
///
/// The native side always runs in a fresh host directory on a tmpfs (/dev/shm, else the temp
/// dir): the sandbox's writable storage is memory-backed in both cases, and a tmpfs keeps
/// file-system-specific values the tools print (du's directory sizes) comparable. fsops itself
/// prints the same on ext4 and tmpfs.
/// </summary>
[TestFixtureSource(typeof(Platforms), nameof(Platforms.All))]
public sealed class FsCallTests(string platform) : PlatformFixture(platform)
{
    // fsops modes take well under a second natively; the tools take a few seconds.
    static readonly RunOptions FsopsLimit = new() { Timeout = TimeSpan.FromSeconds(30) };
    static readonly RunOptions ToolLimit = new() { Timeout = TimeSpan.FromSeconds(120) };

    /// <summary>Where the sandboxed program gets its scratch directory.</summary>
    public static readonly string[] Locations = ["/dev/shm", "/tmp", "volume"];

    /// <summary>Where a volume appears inside the sandbox.</summary>
    const string VolumeDest = "/vol";

    // The groups of fsops.c ("all" runs them all again in one process: not repeated here).
    static readonly string[] Modes =
    [
        "paths",   // openat/dirfds/AT_EMPTY_PATH, O_NOFOLLOW/O_PATH/O_DIRECTORY/O_EXCL/O_TRUNC/O_APPEND, loops, "..", name limits
        "share",   // one open file description behind dup'd and inherited fds: offset, status flags
        "perms",   // umask, chmod family, chown family, access/faccessat(2), utimensat, truncate, fallocate
        "rename",  // rename/renameat/renameat2 over files and dirs, NOREPLACE, EXCHANGE, into own subdir
        "links",   // link/symlink/readlink/unlink/rmdir/mkdir errors, nlink counts, unlinked open files
        "tmpfile", // O_TMPFILE, named later through /proc/self/fd
        "dents",   // getdents64 with small buffers, rewind, d_off resume, changes while listing
        "statfs",  // statfs/fstatfs sanity, fsync/fdatasync/sync_file_range/syncfs
        "locks",   // flock and fcntl record/OFD locks, across fork, blocking waits
        "xattr",   // user.* extended attributes
        "stat",    // st_mode/nlink/size/blocks per file type, which calls change mtime/ctime, statx
        "mmap",    // MAP_SHARED file mappings: coherent with read/write, across fork, truncation, holes
        "socket",  // the inode a bound AF_UNIX socket leaves
    ];

    /// <summary>Modes that test features Sentry does not have yet: skipped with the reason, listed in the README.</summary>
    static readonly Dictionary<string, string> NotYet = new();

    /// <summary>
    /// Modes whose checks a volume answers differently from a local file system, and why: each is
    /// what a Linux 9p mount does too, or a refusal by design.
    /// </summary>
    static readonly Dictionary<string, string> VolumeDiffers = new()
    {
        ["rename"] = "renameat2 flags (RENAME_NOREPLACE, RENAME_EXCHANGE) are EINVAL on a volume, as on a Linux 9p mount: 9P's Trenameat has no flags",
        ["tmpfile"] = "O_TMPFILE is EOPNOTSUPP on a volume, as on a Linux 9p mount",
        ["xattr"] = "an empty extended-attribute value cannot be set through 9P (a Txattrcreate of size 0 removes the attribute)",
        ["stat"] = "the Gofer refuses to make device nodes on the host (EPERM), by design",
    };

    static TestCaseData Case(string location, params object[] args)
    {
        var c = new TestCaseData([location, .. args])
            .SetArgDisplayNames([location, .. args.Select(a => a.ToString()!)]);
        return location switch { "/tmp" => c.SetCategory("Overlay"), "volume" => c.SetCategory("Volume"), _ => c };
    }

    static IEnumerable<TestCaseData> ModeCases() =>
        from location in Locations
        from mode in Modes
        from flavour in Enum.GetValues<Flavour>()
        select Case(location, mode, flavour);

    [TestCaseSource(nameof(ModeCases))]
    public void MatchesNative(string location, string mode, Flavour flavour)
    {
        RequireWritable(location);
        if (NotYet.TryGetValue(mode, out var missing)) Assert.Ignore(missing);
        if (location == "volume" && VolumeDiffers.TryGetValue(mode, out var differs)) Assert.Ignore(differs);
        var exe = TestPrograms.Get("fsops", flavour);
        using var host = new HostScratch();

        var native = SandboxRunner.Native(exe, [host.Path, mode], FsopsLimit);
        // The program must be sane natively before it can judge the sandbox.
        Assert.That(native.ExitCode, Is.Zero, $"native run failed:\n{native.StdoutText}\n{native.Describe()}");
        Assert.That(native.StdoutText, Does.EndWith("done\n"), "native run did not finish");

        using var volume = location == "volume" ? new HostScratch() : null;
        string dir = SandboxScratch(location);
        var sandbox = SandboxRunner.Sandbox(Platform, exe, [dir, mode], VolumeOptions(FsopsLimit, volume));
        Behaviour.AssertSame(native, sandbox);
        if (volume != null) AssertOnHost(volume, dir, mode);
    }

    /// <summary>Options that bind-mount <paramref name="volume"/> at <see cref="VolumeDest"/> (none without one).</summary>
    static RunOptions VolumeOptions(RunOptions options, HostScratch? volume) =>
        volume == null ? options : options with { Volumes = [$"{volume.Path}:{VolumeDest}"] };

    /// <summary>The files the program made in the volume are on the host, where a bind mount puts them.</summary>
    static void AssertOnHost(HostScratch volume, string sandboxDir, string sub)
    {
        string onHost = System.IO.Path.Combine(volume.Path, sandboxDir[(VolumeDest.Length + 1)..], sub);
        Assert.That(Directory.Exists(onHost), Is.True, $"the program's directory {sandboxDir}/{sub} is not on the host at {onHost}");
    }

    // Shell scripts run with the scratch directory as cwd; only relative paths appear in their
    // output, and stderr is folded into stdout so error messages are compared too.
    // `step CMD...` runs a command and prints its exit status.
    const string Prelude = """
        exec 2>&1
        export LC_ALL=C TZ=UTC
        step() { "$@"; echo "[$1: exit $?]"; }
        """;

    // A small tree with real file contents (the coreutils docs, copied with cat rather than the
    // tools under test), nested directories, a symlink, an executable and an empty file; all
    // mtimes fixed (touch -h: utimensat, also on the symlink).
    const string MakeTree = """
        mkdir -p tree/sub/deeper
        for f in /usr/share/doc/coreutils/*; do cat "$f" > "tree/${f##*/}"; done
        printf 'nested\n' > tree/sub/deeper/file
        printf '#!/bin/sh\necho run\n' > tree/sub/run && chmod 755 tree/sub/run
        ln -s ../copyright tree/sub/link
        : > tree/empty
        find tree -exec touch -h -d '2001-02-03 04:05:06' {} +
        """;

    static string WithTree(string script) => MakeTree + "\n" + script;

    static readonly Dictionary<string, (string Tool, string Package, string Script)> Tools = new()
    {
        // create with fixed ownership and order (so the archive bytes are comparable), list,
        // extract; tar restores modes and mtimes with fchmod/utimensat
        ["tar"] = ("/usr/bin/tar", "tar", """
            step tar --sort=name --owner=0 --group=0 --numeric-owner -cf c.tar -C /usr/share/doc coreutils
            sha256sum c.tar | cut -c1-64
            tar -tvf c.tar
            mkdir x && step tar -xf c.tar -C x
            step diff -r /usr/share/doc/coreutils x/coreutils
            find x -type f -printf '%p %m %s %T@\n' | sort
            find x/coreutils -type d -printf '%p %m %T@\n' | sort
            """),
        // cp -a preserves modes, symlinks and times (utimensat, also AT_SYMLINK_NOFOLLOW)
        ["cp"] = ("/bin/cp", "coreutils", WithTree("""
            step cp -a tree copy
            step diff -r tree copy
            find copy -printf '%p %y %m %T@ %l\n' | sort
            step cp -a tree/copyright tree/sub/copy-of-copyright
            cmp tree/copyright tree/sub/copy-of-copyright && echo same bytes
            """)),
        ["find"] = ("/usr/bin/find", "findutils", WithTree("""
            find . | sort
            find . -type l -printf '%p -> %l\n'
            find . -type f -size +1k | sort
            find . -empty | sort
            find . -name '*.gz' | sort
            find . -perm -100 -type f
            find . -depth -type d | sort
            """)),
        // whole tree (includes directory sizes: tmpfs counts entries) and files only
        ["du"] = ("/usr/bin/du", "coreutils", WithTree("""
            du -s --apparent-size -b tree
            du -b --apparent-size -c $(find tree -type f | sort) | tail -n 1
            du -a --apparent-size -b tree/sub/deeper tree/copyright
            """)),
        // journal files, fcntl locks, fsync
        ["sqlite3"] = ("/usr/bin/sqlite3", "sqlite3", """
            step sqlite3 db "create table t(a integer primary key, b text); insert into t(b) values ('x'), ('y'), ('z'); select * from t order by a; pragma integrity_check;"
            step sqlite3 db "pragma journal_mode=truncate; insert into t(b) values ('w'); select count(*) from t;"
            step sqlite3 db "update t set b = upper(b); select group_concat(b, '') from t; pragma integrity_check;"
            ls
            """),
        // WAL mode: the -shm file is a writable shared mapping
        ["sqlite3-wal"] = ("/usr/bin/sqlite3", "sqlite3", """
            step sqlite3 db "create table t(a integer primary key, b text); insert into t(b) values ('x'), ('y');"
            step sqlite3 db "pragma journal_mode=wal; insert into t(b) values ('w'); select count(*) from t;"
            step sqlite3 db "update t set b = upper(b); select group_concat(b, '') from t; pragma integrity_check;"
            ls
            """),
        // fixed identity and dates make the commit ids deterministic
        ["git"] = ("/usr/bin/git", "git", WithTree("""
            export HOME="$PWD" GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=Test GIT_AUTHOR_EMAIL=test@example.com
            export GIT_COMMITTER_NAME=Test GIT_COMMITTER_EMAIL=test@example.com
            export GIT_AUTHOR_DATE='2001-02-03T04:05:06Z' GIT_COMMITTER_DATE='2001-02-03T04:05:06Z'
            step git init -q -b main tree
            cd tree
            step git add -A
            step git commit -q -m first
            git rev-parse HEAD
            git ls-files -s
            printf 'more\n' >> sub/deeper/file && git mv empty sub/empty && step git commit -q -am second
            git rev-parse HEAD
            git status --porcelain
            git log --format='%H %an %ad %s' --date=iso-strict
            step git gc -q
            step git fsck --no-progress
            git rev-list --count HEAD
            """)),
    };

    static IEnumerable<TestCaseData> ToolCases() =>
        from location in Locations
        from tool in Tools.Keys
        select Case(location, tool);

    [TestCaseSource(nameof(ToolCases))]
    public void ToolMatchesNative(string location, string tool)
    {
        var (path, package, script) = Tools[tool];
        HostTools.Require(path, package);
        RequireWritable(location);
        if (location == "volume" && VolumeDiffers.TryGetValue(tool, out var differs)) Assert.Ignore(differs);
        using var host = new HostScratch();

        var body = $"{Prelude}\n{script}";
        var native = SandboxRunner.Native("/bin/sh", ["-c", $"cd '{host.Path}' && {{\n{body}\n}}"], ToolLimit);
        Assert.That(native.ExitCode, Is.Zero, $"native run failed:\n{native.StdoutText}\n{native.Describe()}");

        using var volume = location == "volume" ? new HostScratch() : null;
        var dir = SandboxScratch(location);
        var sandbox = SandboxRunner.Sandbox(Platform, "/bin/sh",
            ["-c", $"mkdir -p '{dir}' && cd '{dir}' && {{\n{body}\n}}"], VolumeOptions(ToolLimit, volume));
        Behaviour.AssertSame(native, sandbox, compareStderr: false);
        if (volume != null)
        {
            // What the tool left behind is on the host: the same listing as natively.
            string onHost = System.IO.Path.Combine(volume.Path, dir[(VolumeDest.Length + 1)..]);
            Assert.That(Listing(onHost), Is.EqualTo(Listing(host.Path)), "the tool's files on the host differ from a native run's");
        }
    }

    // --- scratch directories ---

    /// <summary>A fresh path for the sandboxed program (it starts with an empty tmpfs/upper layer, or an empty volume).</summary>
    static string SandboxScratch(string location) => $"{(location == "volume" ? VolumeDest : location)}/sentry-fs-{Guid.NewGuid():N}";

    /// <summary>Relative paths and sizes of the regular files under <paramref name="root"/>, sorted.</summary>
    static string[] Listing(string root) =>
        [.. Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => $"{System.IO.Path.GetRelativePath(root, f)} {new FileInfo(f).Length}").Order(StringComparer.Ordinal)];

    /// <summary>A fresh host directory on a tmpfs when there is one, deleted afterwards.</summary>
    sealed class HostScratch : IDisposable
    {
        public string Path { get; }

        public HostScratch()
        {
            var parent = Directory.Exists("/dev/shm") ? "/dev/shm" : System.IO.Path.GetTempPath();
            Path = System.IO.Path.Combine(parent, $"sentry-fs-native-{Guid.NewGuid():N}");
            Directory.CreateDirectory(Path);
        }

        public void Dispose()
        {
            try { Directory.Delete(Path, recursive: true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                TestContext.Out.WriteLine($"could not delete {Path}: {e.Message}");
            }
        }
    }

    static readonly Dictionary<(string Platform, string Location), string?> WritableProblem = new();

    /// <summary>
    /// Ignores the current test when the sandbox cannot create a directory in
    /// <paramref name="location"/> and that is expected today (/tmp before the overlay root).
    /// The sandbox's /dev/shm must be writable: there a failure is the test's to report.
    /// </summary>
    void RequireWritable(string location)
    {
        if (location is "/dev/shm" or "volume")
            return;
        string? problem;
        lock (WritableProblem)
        {
            if (!WritableProblem.TryGetValue((Platform, location), out problem))
            {
                var probe = $"{location}/sentry-probe-{Guid.NewGuid():N}";
                var r = SandboxRunner.Sandbox(Platform, "/bin/mkdir", [probe], FsopsLimit);
                problem = r.ExitCode == 0 ? null :
                    $"the sandbox's {location} is not writable yet (`mkdir {probe}` in the sandbox exited " +
                    $"{r.ExitCode}: {r.StderrWithoutSentryLines.Trim()}); these cases need the overlay root " +
                    "(host root as lower layer, in-memory upper layer)";
                WritableProblem[(Platform, location)] = problem;
            }
        }
        if (problem != null)
            Assert.Ignore(problem);
    }
}
