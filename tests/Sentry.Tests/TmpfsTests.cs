using Sentry.Tests.Infrastructure;

namespace Sentry.Tests;

/// <summary>
/// The sandbox's writable tmpfs at /dev/shm: a C project built there with make and gcc (fork,
/// exec, pipes and file creation all together), file-system calls compared with the same
/// script run natively in a host scratch directory, and the boundary: nothing written inside
/// reaches the host's /dev/shm.
/// </summary>
[TestFixtureSource(typeof(Platforms), nameof(Platforms.All))]
public sealed class TmpfsTests(string platform) : PlatformFixture(platform)
{
    static readonly RunOptions Limited = new() { Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>The same script runs natively in a fresh host directory and in the sandbox in /dev/shm.</summary>
    void SameIn(string script)
    {
        string hostDir = Directory.CreateTempSubdirectory("sentry-tmpfs-").FullName;
        try
        {
            var native = SandboxRunner.Native("/bin/sh", ["-c", $"cd {hostDir} && {script}"], Limited);
            Assert.That(native.ExitCode, Is.Zero, native.Describe());
            var sandbox = SandboxRunner.Sandbox(Platform, "/bin/sh", ["-c", $"mkdir -p /dev/shm/w && cd /dev/shm/w && {script}"], Limited);
            Behaviour.AssertSame(native, sandbox, compareStderr: false);
        }
        finally { Directory.Delete(hostDir, recursive: true); }
    }

    [Test]
    public void MakeBuildsACProjectWithGcc()
    {
        if (!File.Exists("/usr/bin/gcc") || !File.Exists("/usr/bin/make")) Assert.Ignore("gcc or make missing on this host");
        SameIn("""
            printf '#include <stdio.h>\nint add(int a, int b);\nint main(void) { printf("sum %d\\n", add(40, 2)); return 0; }\n' > main.c
            printf 'int add(int a, int b) { return a + b; }\n' > add.c
            printf 'prog: main.o add.o\n\tgcc -o prog main.o add.o\n%%.o: %%.c\n\tgcc -c -O2 $< -o $@\n' > Makefile
            make -s && ./prog && ls
            """);
    }

    [Test]
    public void FileSystemCallsMatchNative() => SameIn("""
        mkdir -p a/b/c && echo hello > a/b/c/f && cat a/b/c/f
        cp a/b/c/f g && mv g h && ln -s h l && ln h hard && cat l && ls -l h hard | cut -c1-10,12-13
        echo more >> h && wc -c < h && truncate -s 3 h && cat h; echo
        chmod 600 h && stat -c '%a %s %F' h l && stat -c '%a %F' a
        rm -r a && rmdir a 2>/dev/null; echo "rmdir of a removed tree: $?"
        mkdir d && touch d/x && rmdir d 2>/dev/null; echo "rmdir of a non-empty dir: $?"
        ls -a | sort
        """);

    [Test]
    public void WritesStayInsideTheSandbox()
    {
        string name = $"sentry-boundary-{Guid.NewGuid():N}";
        var r = SandboxRunner.Sandbox(Platform, "/bin/sh", ["-c", $"echo secret > /dev/shm/{name} && cat /dev/shm/{name}"], Limited);
        Assert.That(r.ExitCode, Is.Zero, r.Describe());
        Assert.That(r.StdoutText, Is.EqualTo("secret\n"));
        Assert.That(File.Exists($"/dev/shm/{name}"), Is.False, "a file written in the sandbox's /dev/shm appeared on the host");
    }
}
