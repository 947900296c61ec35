using Sentry.Platform;
using Sentry.Platform.Kvm;
using Sentry.Platform.Ptrace;

namespace Sentry.Host;

/// <summary>
/// Chooses the platform for --platform: "kvm" needs a usable /dev/kvm, "ptrace" needs ptrace,
/// "auto" prefers KVM and says on one line of the log (stderr with --debug) why it took ptrace
/// instead (KVM unavailable, or a KVM that is slower than ptrace, see
/// <see cref="KvmPlatform.SlowerThanPtraceReason"/>). A platform that cannot be had is an error:
/// that line goes to <c>errors</c> whatever the log is.
/// </summary>
public static class PlatformChooser
{
    public static IPlatform? Choose(string name, TextWriter errors, TextWriter log)
    {
        switch (name)
        {
            case "kvm":
            {
                var kvm = NewKvm(out string? why);
                if (kvm == null) errors.WriteLine($"sentry: platform kvm unavailable: {why}");
                return kvm;
            }
            case "ptrace":
                return NewPtrace(errors);
            default:
            {
                // auto picks the faster platform: KVM, unless it cannot run here or runs slower.
                if (DeviceProblem() is { } missing)
                {
                    log.WriteLine($"sentry: using platform ptrace (kvm unavailable: {missing})");
                    return NewPtrace(errors);
                }
                if (KvmPlatform.SlowerThanPtraceReason() is { } slower)
                {
                    log.WriteLine($"sentry: using platform ptrace ({slower}; --platform=kvm selects it anyway)");
                    return NewPtrace(errors);
                }
                var kvm = NewKvm(out string? why);
                if (kvm != null) return kvm;
                log.WriteLine($"sentry: using platform ptrace (kvm unavailable: {why})");
                return NewPtrace(errors);
            }
        }
    }

    static IPlatform? NewPtrace(TextWriter errors)
    {
        try { return new PtracePlatform(); }
        catch (Exception e)
        {
            errors.WriteLine($"sentry: platform ptrace unavailable: {e.Message}");
            return null;
        }
    }

    /// <summary>The KVM platform, or null with the reason this host cannot run it.</summary>
    static IPlatform? NewKvm(out string? why)
    {
        why = DeviceProblem();
        if (why != null) return null;
        try { return new KvmPlatform(); }
        catch (KvmUnavailableException e) { why = e.Message; }
        catch (KvmGuestException e) { why = e.Message; }
        return null;
    }

    /// <summary>Why /dev/kvm cannot be opened here, or null.</summary>
    static string? DeviceProblem()
    {
        if (!File.Exists("/dev/kvm")) return "/dev/kvm: No such file or directory";
        try { using var f = File.Open("/dev/kvm", FileMode.Open, FileAccess.ReadWrite); }
        catch (Exception e) { return $"/dev/kvm: {e.Message}"; }
        return null;
    }
}
