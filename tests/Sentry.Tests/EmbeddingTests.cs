using Sentry.Kernel;
using Sentry.Platform;
using Sentry.Tests.Infrastructure;

namespace Sentry.Tests;

/// <summary>
/// The embedding API as a .NET program uses it: a sandbox run on a thread of the program's own
/// with <see cref="Sandbox.RunOnCallingThread"/> (what `sentry do` does on its main thread).
/// </summary>
[TestFixtureSource(typeof(Platforms), nameof(Platforms.All))]
public sealed class EmbeddingTests(string platform) : PlatformFixture(platform)
{
    /// <summary>
    /// The program's output and status are the native ones, and the thread comes back as it
    /// went in: with its CPU affinity (the ptrace platform pins a tracer beside its stub) and no
    /// task of the sandbox left as its current one. A second run on the same thread works too.
    /// </summary>
    [Test]
    public void RunOnCallingThread_RunsTheProgramAndGivesTheThreadBack()
    {
        const string script = "echo embedded; ls /usr/share/doc/coreutils; exit 7";
        var native = Native("/bin/sh", "-c", script);
        string dir = Directory.CreateTempSubdirectory("sentry-embed-").FullName;
        var statuses = new List<int>();
        var outputs = new List<string>();
        ulong before = 0, after = 0;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                before = Affinity();
                for (int run = 0; run < 2; run++)
                {
                    string outPath = Path.Combine(dir, $"stdout{run}");
                    using (var output = File.Create(outPath))
                    {
                        IPlatform p = Platform switch { "ptrace" => new Sentry.Platform.Ptrace.PtracePlatform(), "systrap" => new Sentry.Platform.Systrap.SystrapPlatform(), _ => new Sentry.Platform.Kvm.KvmPlatform() };
                        using (p)
                        {
                            var sandbox = new Sandbox(p, new SandboxOptions
                            {
                                Program = "/bin/sh", Args = ["/bin/sh", "-c", script], Env = ["PATH=/usr/bin:/bin"],
                                StdoutFd = (int)output.SafeFileHandle.DangerousGetHandle(), Log = TextWriter.Null,
                            });
                            statuses.Add(sandbox.RunOnCallingThread());
                        }
                    }
                    outputs.Add(File.ReadAllText(outPath));
                }
                after = Affinity();
            }
            catch (Exception e) { failure = e; }
        }, 8 << 20);
        try
        {
            thread.Start();
            thread.Join();
        }
        finally { Directory.Delete(dir, recursive: true); }
        Assert.That(failure, Is.Null, failure?.ToString());
        Assert.That(statuses, Is.EqualTo(new[] { native.ExitCode, native.ExitCode }));
        Assert.That(outputs, Is.EqualTo(new[] { native.StdoutText, native.StdoutText }));
        Assert.That(after, Is.EqualTo(before), "the thread's CPU affinity after the runs");
        if (Environment.ProcessorCount > 1)
            Assert.That(ulong.PopCount(before), Is.GreaterThan(1), "the test thread may run on several CPUs, so a pinning left behind would show");
    }

    /// <summary>The calling thread's CPU mask (the first 64 CPUs).</summary>
    static ulong Affinity()
    {
        var mask = new ulong[16];
        var handle = System.Runtime.InteropServices.GCHandle.Alloc(mask, System.Runtime.InteropServices.GCHandleType.Pinned);
        try
        {
            long r = HostSyscall.Call(204 /* sched_getaffinity */, 0, mask.Length * sizeof(ulong), handle.AddrOfPinnedObject());
            Assert.That(r, Is.GreaterThan(0), "sched_getaffinity");
            return mask[0];
        }
        finally { handle.Free(); }
    }
}
