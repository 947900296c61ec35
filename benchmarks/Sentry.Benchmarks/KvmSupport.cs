using System.Reflection;
using Sentry.Platform;

namespace Sentry.Benchmarks;

/// <summary>
/// Decides whether the KVM cases can run here, and builds their objects. Missing KVM is not an
/// error: the cases are filtered out and <see cref="SkipNotes"/> says why, once.
/// <para>
/// The KVM types are found by convention rather than referenced by name, so that this suite builds
/// and runs before and while Sentry.Platform.Kvm is written: the platform is the public
/// <see cref="IPlatform"/> implementation with a parameterless constructor, and the raw exit floor
/// is a public disposable type named <c>*Floor</c> with a parameterless constructor and a
/// <c>void RoundTrip()</c> (the counterpart of <see cref="Sentry.Platform.Ptrace.SysemuFloor"/>).
/// </para>
/// </summary>
internal static class KvmSupport
{
    const string AssemblyName = "Sentry.Platform.Kvm";

    static readonly Type? s_platformType, s_floorType;

    /// <summary>Null when the sandbox can run on KVM here, else why not.</summary>
    public static string? SandboxSkipReason { get; }

    /// <summary>Null when the raw KVM exit floor can be measured here, else why not.</summary>
    public static string? FloorSkipReason { get; }

    static KvmSupport()
    {
        string? device = DeviceProblem();
        Assembly? asm = null;
        string? loadProblem = null;
        try { asm = Assembly.Load(AssemblyName); }
        catch (Exception e) { loadProblem = $"cannot load {AssemblyName}: {e.Message}"; }

        Type[] types = asm?.GetExportedTypes() ?? [];
        s_platformType = types.FirstOrDefault(t =>
            !t.IsAbstract && typeof(IPlatform).IsAssignableFrom(t) && t.GetConstructor(Type.EmptyTypes) != null);
        s_floorType = types.FirstOrDefault(t =>
            !t.IsAbstract && t.Name.EndsWith("Floor", StringComparison.Ordinal)
            && typeof(IDisposable).IsAssignableFrom(t) && t.GetConstructor(Type.EmptyTypes) != null
            && t.GetMethod("RoundTrip", Type.EmptyTypes)?.ReturnType == typeof(void));

        SandboxSkipReason = device ?? loadProblem
            ?? (s_platformType is null ? $"{AssemblyName} has no public IPlatform implementation yet" : null);
        FloorSkipReason = device ?? loadProblem
            ?? (s_floorType is null ? $"{AssemblyName} has no public *Floor type with RoundTrip() yet" : null);
    }

    static string? DeviceProblem()
    {
        if (!File.Exists("/dev/kvm"))
            return "/dev/kvm is not present on this machine";
        try
        {
            using var h = File.OpenHandle("/dev/kvm", FileMode.Open, FileAccess.ReadWrite);
            return null;
        }
        catch (Exception e)
        {
            return $"/dev/kvm cannot be opened: {e.Message}";
        }
    }

    /// <summary>Whether the benchmark method <paramref name="method"/> may run here.</summary>
    public static bool Allows(string method) => method switch
    {
        nameof(NullSyscallBenchmarks.KvmFloorRoundTrip) => FloorSkipReason is null,
        nameof(NullSyscallBenchmarks.SandboxGetppidKvm) => SandboxSkipReason is null,
        // Every other KVM case is named Sandbox...Kvm.
        _ when method.EndsWith("Kvm", StringComparison.Ordinal) => SandboxSkipReason is null,
        _ => true,
    };

    /// <summary>One line per skipped KVM case.</summary>
    public static IEnumerable<string> SkipNotes()
    {
        if (FloorSkipReason is not null)
            yield return $"// skipped {nameof(NullSyscallBenchmarks)}.{nameof(NullSyscallBenchmarks.KvmFloorRoundTrip)}: {FloorSkipReason}";
        if (SandboxSkipReason is not null)
            yield return $"// skipped {nameof(NullSyscallBenchmarks)}.{nameof(NullSyscallBenchmarks.SandboxGetppidKvm)}: {SandboxSkipReason}";
    }

    public static IPlatform NewPlatform() =>
        (IPlatform)Activator.CreateInstance(s_platformType ?? throw new InvalidOperationException(SandboxSkipReason))!;

    /// <summary>Creates the KVM floor on the calling thread; <paramref name="roundTrip"/> is bound to it.</summary>
    public static IDisposable NewFloor(out Action roundTrip)
    {
        Type type = s_floorType ?? throw new InvalidOperationException(FloorSkipReason);
        var floor = (IDisposable)Activator.CreateInstance(type)!;
        roundTrip = (Action)Delegate.CreateDelegate(typeof(Action), floor, type.GetMethod("RoundTrip", Type.EmptyTypes)!);
        return floor;
    }
}
