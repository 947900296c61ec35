using Sentry.Platform;
using Sentry.Platform.Kvm;
using Sentry.Platform.Ptrace;
using Sentry.Platform.Systrap;

namespace Sentry.Host;

/// <summary>
/// Chooses the platform for --platform: "kvm" needs a usable /dev/kvm, "ptrace" needs ptrace,
/// "systrap" needs seccomp filters and SIGSYS (probed by starting one stub). "auto" prefers KVM,
/// else systrap, else ptrace, and says on one line of the log (stderr with --debug) why it took
/// what it took (KVM unavailable, or a KVM that is slower than the trap platforms, see
/// <see cref="KvmPlatform.SlowerThanPtraceReason"/>; systrap refused by the host). A platform that
/// cannot be had is an error: that line goes to <c>errors</c> whatever the log is.
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
            case "systrap":
            {
                var systrap = NewSystrap(out string? why);
                if (systrap == null) errors.WriteLine($"sentry: platform systrap unavailable: {why}");
                return systrap;
            }
            default:
            {
                // auto picks the fastest platform: KVM, unless it cannot run here or runs slower
                // than the trap platforms; then systrap (a system call costs a signal and two
                // handoffs through shared memory) unless the host refuses seccomp; then ptrace.
                if (DeviceProblem() is { } missing)
                    return Fallback($"kvm unavailable: {missing}", errors, log);
                if (KvmPlatform.SlowerThanPtraceReason() is { } slower)
                    return Fallback($"{slower}; --platform=kvm selects it anyway", errors, log);
                var kvm = NewKvm(out string? why);
                if (kvm != null) return kvm;
                return Fallback($"kvm unavailable: {why}", errors, log);
            }
        }
    }

    /// <summary>auto without KVM: systrap when the host lets it run, else ptrace; the reason goes to the log.</summary>
    static IPlatform? Fallback(string noKvm, TextWriter errors, TextWriter log)
    {
        var systrap = NewSystrap(out string? why);
        if (systrap != null)
        {
            log.WriteLine($"sentry: using platform systrap ({noKvm})");
            return systrap;
        }
        log.WriteLine($"sentry: using platform ptrace ({noKvm}; systrap unavailable: {why})");
        return NewPtrace(errors);
    }

    /// <summary>The systrap platform, or null with the reason: the probe starts one stub, which installs its filter and answers.</summary>
    static IPlatform? NewSystrap(out string? why)
    {
        why = SystrapPlatform.Probe();
        if (why != null) return null;
        try { return new SystrapPlatform(); }
        catch (Exception e) { why = e.Message; return null; }
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
