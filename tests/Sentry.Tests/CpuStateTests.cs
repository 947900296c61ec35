using Sentry.Tests.Infrastructure;

namespace Sentry.Tests;

/// <summary>
/// What a platform must keep for the application and what it must report, with tests/programs/cpu.c
/// compared with the same binary run natively: SSE, AVX, x87 and MXCSR state across many
/// syscalls and in several threads, cpuid, rdtsc, TLS through the FS base, hardware faults
/// (null dereference, ud2, int3, divide by zero, a privileged instruction) killing the process
/// with the right signal, 1 GiB touched and checksummed, and probes of the kernel half and of
/// non-canonical addresses, where the KVM platform keeps its ring-0 code, descriptor tables,
/// stacks and page-table map: each must fault exactly as it does natively.
/// </summary>
[TestFixtureSource(typeof(Platforms), nameof(Platforms.All))]
public sealed class CpuStateTests(string platform) : PlatformFixture(platform)
{
    static readonly RunOptions Limited = new() { Timeout = TimeSpan.FromSeconds(60) };

    [Test]
    public void MatchesNative(
        [Values("fpu", "threads_fpu", "cpuid", "rdtsc", "tls", "kernel_probe", "bigmem")] string mode,
        [Values] Flavour flavour)
    {
        var exe = TestPrograms.Get("cpu", flavour);
        var native = Native(exe, mode);
        Assert.That(native.ExitCode, Is.Zero, $"native run failed:\n{native.StdoutText}\n{native.Describe()}");
        Assert.That(native.StdoutText, Does.EndWith("done\n"), "native run did not finish");
        Behaviour.AssertSame(native, Sandbox(Limited, exe, mode));
    }

    [Test]
    public void FaultKillsWithTheSignalLinuxSends(
        [Values("null", "ud2", "int3", "div0", "hlt")] string fault,
        [Values] Flavour flavour)
    {
        var exe = TestPrograms.Get("cpu", flavour);
        var native = Native(exe, "fault_" + fault);
        Assert.That(native.ExitCode, Is.GreaterThan(128), $"the fault did not kill the native run: {native.Describe()}");
        Behaviour.AssertSame(native, Sandbox(Limited, exe, "fault_" + fault));
    }
}
