using Sentry.Platform;
using Sentry.Platform.Kvm;

namespace Sentry.Benchmarks;

/// <summary>
/// Decides whether the KVM cases can run here, and builds their objects. Missing KVM is not an
/// error: the cases are filtered out and <see cref="SkipNotes"/> says why, once. The check is the
/// real one: a KVM platform is created (VM, memory, a vCPU that runs) and thrown away.
/// </summary>
internal static class KvmSupport
{
    /// <summary>Null when the sandbox and the raw exit floor can run on KVM here, else why not.</summary>
    public static string? SkipReason { get; } = Probe();

    static string? Probe()
    {
        if (!File.Exists("/dev/kvm"))
            return "/dev/kvm is not present on this machine";
        try
        {
            using var platform = new KvmPlatform();
            using var context = platform.NewContext();
            return null;
        }
        catch (Exception e) when (e is KvmUnavailableException or KvmGuestException or IOException or UnauthorizedAccessException)
        {
            return $"KVM cannot run here: {e.Message}";
        }
    }

    /// <summary>Whether the benchmark method <paramref name="method"/> may run here: every KVM case is
    /// named ...Kvm or Kvm...</summary>
    public static bool Allows(string method) =>
        SkipReason is null || !(method.EndsWith("Kvm", StringComparison.Ordinal) || method.StartsWith("Kvm", StringComparison.Ordinal));

    /// <summary>One line when the KVM cases are skipped.</summary>
    public static IEnumerable<string> SkipNotes()
    {
        if (SkipReason is not null)
            yield return $"// skipped every KVM case: {SkipReason}";
    }

    public static IPlatform NewPlatform() => new KvmPlatform();

    /// <summary>Creates the KVM floor on the calling thread; <paramref name="roundTrip"/> is bound to it.</summary>
    public static IDisposable NewFloor(out Action roundTrip)
    {
        var floor = new KvmExitFloor();
        roundTrip = floor.RoundTrip;
        return floor;
    }
}
