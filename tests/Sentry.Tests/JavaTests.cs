using Sentry.Tests.Infrastructure;

namespace Sentry.Tests;

/// <summary>
/// OpenJDK 17 in the sandbox against the same JVM run natively. The JVM maps its module image
/// (lib/modules) MAP_SHARED and asks getcpu (falling back to the vsyscall page), so it starts only
/// when both work; tests/programs/java/Work.java then runs threads, NIO channels and a mapped
/// file, a child process and the collectors (G1 by default, Parallel with -Xmx512m).
/// Classes are compiled natively with javac first, once per test.
/// </summary>
[TestFixtureSource(typeof(Platforms), nameof(Platforms.All))]
public sealed class JavaTests(string platform) : PlatformFixture(platform)
{
    const string Java = "/usr/bin/java";
    static readonly RunOptions Limited = new() { Timeout = TimeSpan.FromSeconds(180) };

    string _dir = "";

    [SetUp]
    public void MakeHostDir()
    {
        HostTools.Require(Java, "openjdk-17-jre-headless");
        _dir = Directory.CreateTempSubdirectory("sentry-java-").FullName;
    }

    [TearDown]
    public void RemoveHostDir()
    {
        if (_dir != "") Directory.Delete(_dir, recursive: true);
    }

    /// <summary>Compiles <paramref name="source"/> (a file under tests/programs/java, or text) into the test's directory.</summary>
    void Compile(string fileName, string? text = null)
    {
        HostTools.Require("/usr/bin/javac", "openjdk-17-jdk-headless");
        string source = Path.Combine(_dir, fileName);
        if (text != null) File.WriteAllText(source, text);
        else File.Copy(Path.Combine(RepoPaths.ProgramsSource, "java", fileName), source);
        var javac = SandboxRunner.Native("/usr/bin/javac", ["-d", _dir, source], Limited);
        Assert.That(javac.ExitCode, Is.Zero, javac.Describe());
    }

    [Test]
    public void VersionStarts()
    {
        var native = SandboxRunner.Native(Java, ["-version"], Limited);
        var sandbox = SandboxRunner.Sandbox(Platform, Java, ["-version"], Limited);
        Assert.That(sandbox.ExitCode, Is.Zero, sandbox.Describe());
        Assert.That(sandbox.StderrWithoutSentryLines, Is.EqualTo(native.StderrText), sandbox.Describe());
    }

    [Test]
    public void HelloWorld()
    {
        Compile("Hello.java", """
            public class Hello {
                public static void main(String[] args) {
                    System.out.println("hello from java " + Runtime.version().feature() + " " + String.join(",", args));
                }
            }
            """);
        var (native, _) = Behaviour.AssertMatchesNative(Platform, Java, ["-cp", _dir, "Hello", "a", "b"], Limited);
        Assert.That(native.StdoutText, Is.EqualTo("hello from java 17 a,b\n"));
    }

    [Test]
    public void Workload([Values("default", "parallel")] string collector)
    {
        Compile("Work.java");
        string[] gc = collector == "parallel" ? ["-XX:+UseParallelGC", "-Xmx512m"] : [];
        var native = SandboxRunner.Native(Java, [.. gc, "-cp", _dir, "Work", _dir], Limited);
        Assert.That(native.ExitCode, Is.Zero, native.Describe());
        Assert.That(native.StdoutText, Does.Contain("pool sum"), native.Describe());
        // The sandbox writes its files to its own tmpfs.
        Behaviour.AssertSame(native, SandboxRunner.Sandbox(Platform, Java, [.. gc, "-cp", _dir, "Work", "/dev/shm"], Limited));
    }
}
