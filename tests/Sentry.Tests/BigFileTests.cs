using Sentry.Tests.Infrastructure;

namespace Sentry.Tests;

/// <summary>
/// Files over 1 GiB in each writable place of the sandbox, compared with the same script run
/// natively on the same kind of file system: "/dev/shm" (the sandbox's tmpfs) and "/tmp" (the
/// overlay's upper layer, also memory) against a directory in the host's /dev/shm (a tmpfs, so
/// st_blocks and SEEK_DATA/SEEK_HOLE are tmpfs's), "volume" (a host directory on disk through
/// the Gofer) against a directory on the same host disk. Also a tmpfs mounted with size=64m
/// inside the sandbox, filled up, against the same in a private mount namespace natively.
/// </summary>
[TestFixtureSource(typeof(Platforms), nameof(Platforms.All))]
public sealed class BigFileTests(string platform) : PlatformFixture(platform)
{
    public static readonly string[] Places = ["/dev/shm", "/tmp", "volume"];

    /// <summary>
    /// A 5 GiB sparse file made by writing one byte past a seek (read back, size, blocks, where
    /// its data and first hole are), then a 10 GiB file made by truncate (no blocks, zeros at its end).
    /// </summary>
    const string SparseScript = """
        python3 -c "
        import os
        f = os.open('sparse', os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        os.lseek(f, 5 << 30, os.SEEK_SET)
        print('wrote', os.write(f, b'x'))
        print('read back', os.pread(f, 4, 5 << 30), os.pread(f, 4, 4 << 30))
        st = os.fstat(f)
        print('size', st.st_size, 'blocks', st.st_blocks)
        print('data at', os.lseek(f, 0, os.SEEK_DATA), 'hole at', os.lseek(f, 0, os.SEEK_HOLE))
        "
        rm sparse
        truncate -s 10G t && stat -c '%s %b' t
        dd if=t bs=1 skip=$((10 * 1024 * 1024 * 1024 - 3)) status=none | od -An -tx1
        rm t
        """;

    /// <summary>3 GiB through dd, then its size, blocks and checksum read back.</summary>
    const string DdScript = """
        dd if=/dev/zero of=big bs=1M count=3072 status=none && stat -c '%s %b' big && cksum < big
        rm big
        """;

    /// <summary>
    /// A size=64m tmpfs filled by dd (short write at 64 MiB, then ENOSPC), then: a write into a
    /// full file system, a 10 GiB truncate (costs nothing), a fallocate that does not fit, and a
    /// write once space is freed. $1 is the mount point.
    /// </summary>
    const string FullTmpfsScript = """
        mkdir -p "$1" && mount -t tmpfs -o size=64m none "$1" && cd "$1" || exit 1
        dd if=/dev/zero of=f bs=1M count=100 2>&1 | head -2
        stat -c '%s %b' f
        df -k --output=size,used,avail,pcent .
        grep " $1 " /proc/mounts | tr ',' '\n' | grep size=
        python3 -c "
        import os, errno
        f = os.open('g', os.O_WRONLY | os.O_CREAT, 0o644)
        try: os.write(f, b'y'); print('wrote')
        except OSError as e: print('write', errno.errorcode[e.errno])
        os.truncate('g', 10 << 30); print('truncated', os.stat('g').st_size)
        try: os.posix_fallocate(f, 0, 1 << 20); print('fallocated')
        except OSError as e: print('fallocate', errno.errorcode[e.errno])
        os.unlink('f')
        print('wrote', os.write(f, b'z' * 8192), 'blocks', os.stat('g').st_blocks)
        "
        cd / && umount "$1"
        """;

    /// <summary>size= as a percentage of RAM, nr_blocks, remount with a new size, and bad values (EINVAL): what statfs and /proc/mounts then say. $1 is the mount point.</summary>
    const string SizeOptionsScript = """
        mkdir -p "$1" || exit 1
        for o in size=10% size=0x100000 nr_blocks=100 size=1g size=0 size=12q size=-1 bogus=1; do
          if mount -t tmpfs -o "$o" none "$1" 2>/dev/null; then
            echo "$o: $(grep " $1 " /proc/mounts | tr ',' '\n' | grep size=) $(stat -f -c '%b %f' "$1")"
            if mount -o remount,size=2m "$1" 2>/dev/null; then echo "remount: $(stat -f -c '%b %f' "$1")"; else echo "remount: refused"; fi
            umount "$1"
          else echo "$o: refused"; fi
        done
        """;

    static readonly RunOptions Quick = new() { Timeout = TimeSpan.FromSeconds(60) };
    static readonly RunOptions Long = new() { Timeout = TimeSpan.FromSeconds(240) };

    [Test]
    public void SparseFilesMatchNative([ValueSource(nameof(Places))] string place) => SameIn(place, SparseScript, Quick, 0);

    [Test]
    public void ThreeGiBWrittenWithDdReadsBack([ValueSource(nameof(Places))] string place) => SameIn(place, DdScript, Long, 3L << 30);

    [Test]
    public void FullTmpfsGivesEnospcAt64MiB() => SameInPrivateMountNamespace(FullTmpfsScript, "/mnt/full");

    /// <summary>
    /// Runs <paramref name="script"/> with a mount point as $1: natively on a fresh host
    /// directory inside a private mount namespace (so nothing reaches the host's mounts), in the
    /// sandbox on <paramref name="sandboxDir"/>.
    /// </summary>
    void SameInPrivateMountNamespace(string script, string sandboxDir)
    {
        HostTools.Require("/usr/bin/unshare", "util-linux");
        if (Environment.UserName != "root") Assert.Ignore("the native side needs root to mount in a private namespace");
        string hostDir = Directory.CreateTempSubdirectory("sentry-mnt-").FullName;
        try
        {
            var native = SandboxRunner.Native("/usr/bin/unshare", ["-m", "--propagation", "private", "/bin/sh", "-c", script, "sh", hostDir], Quick);
            Assert.That(native.ExitCode, Is.Zero, $"native run failed:\n{native.StdoutText}\n{native.Describe()}");
            var sandbox = SandboxRunner.Sandbox(Platform, "/bin/sh", ["-c", script, "sh", sandboxDir], Quick);
            Behaviour.AssertSame(native, sandbox);
        }
        finally { Directory.Delete(hostDir, recursive: true); }
    }

    [Test]
    public void TmpfsSizeOptionsMatchNative() => SameInPrivateMountNamespace(SizeOptionsScript, "/mnt/sizes");

    /// <summary>
    /// Runs <paramref name="script"/> natively in a fresh directory on the file system that
    /// matches <paramref name="place"/>, then in the sandbox there; both must print the same.
    /// <paramref name="needs"/> bytes of room are checked first (memory for tmpfs, which holds
    /// the native copy and then the sandbox's; disk for a volume).
    /// </summary>
    void SameIn(string place, string script, RunOptions limit, long needs)
    {
        bool volume = place == "volume";
        // The native side of the memory-backed places is a tmpfs, like the sandbox's layers.
        string nativeParent = volume ? Path.GetTempPath() : "/dev/shm";
        if (!volume && !Directory.Exists(nativeParent)) Assert.Ignore("the host has no /dev/shm (a tmpfs) to compare with");
        RequireRoom(volume, nativeParent, needs);
        string nativeDir = Directory.CreateDirectory(Path.Combine(nativeParent, $"sentry-big-{Guid.NewGuid():N}")).FullName;
        string? volumeDir = volume ? Directory.CreateTempSubdirectory("sentry-bigvol-").FullName : null;
        try
        {
            var native = SandboxRunner.Native("/bin/sh", ["-c", $"cd {nativeDir} && {{\n{script}\n}}"], limit);
            Assert.That(native.ExitCode, Is.Zero, $"native run failed:\n{native.StdoutText}\n{native.Describe()}");
            string dir = volume ? "/vol/w" : $"{place}/w";
            var options = volume ? limit with { Volumes = [$"{volumeDir}:/vol"] } : limit;
            var sandbox = SandboxRunner.Sandbox(Platform, "/bin/sh", ["-c", $"mkdir -p {dir} && cd {dir} && {{\n{script}\n}}"], options);
            Behaviour.AssertSame(native, sandbox);
        }
        finally
        {
            Directory.Delete(nativeDir, recursive: true);
            if (volumeDir != null) Directory.Delete(volumeDir, recursive: true);
        }
    }

    /// <summary>Skips with the reason when the host lacks the memory or disk the case writes.</summary>
    static void RequireRoom(bool disk, string dir, long bytes)
    {
        if (bytes == 0) return;
        const long Margin = 2L << 30;
        long available = disk ? new DriveInfo(dir).AvailableFreeSpace : MemAvailable();
        if (available < bytes + Margin)
            Assert.Ignore($"{bytes >> 20} MiB to write and {available >> 20} MiB of {(disk ? "disk at " + dir : "memory")} available: not enough room");
    }

    static long MemAvailable()
    {
        foreach (var line in File.ReadLines("/proc/meminfo"))
            if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) << 10;
        return 0;
    }
}
