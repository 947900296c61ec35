using Sentry.Platform;
using Sentry.Platform.Ptrace;

namespace Sentry.Host;

/// <summary>
/// Chooses the platform for --platform: "kvm" needs a usable /dev/kvm, "ptrace" needs ptrace,
/// "auto" prefers KVM and says on one stderr line why it fell back.
/// </summary>
public static class PlatformChooser
{
    public static IPlatform? Choose(string name, TextWriter log)
    {
        switch (name)
        {
            case "kvm":
            {
                string why = KvmUnavailableReason();
                log.WriteLine($"sentry: platform kvm unavailable: {why}");
                return null;
            }
            case "ptrace":
                return NewPtrace(log);
            default:
            {
                string why = KvmUnavailableReason();
                log.WriteLine($"sentry: using platform ptrace (kvm unavailable: {why})");
                return NewPtrace(log);
            }
        }
    }

    static IPlatform? NewPtrace(TextWriter log)
    {
        try { return new PtracePlatform(); }
        catch (Exception e)
        {
            log.WriteLine($"sentry: platform ptrace unavailable: {e.Message}");
            return null;
        }
    }

    /// <summary>Why KVM cannot be used here. The KVM platform itself has its own issue; until it
    /// lands this also says so when /dev/kvm exists.</summary>
    public static string KvmUnavailableReason()
    {
        if (!File.Exists("/dev/kvm")) return "/dev/kvm: No such file or directory";
        try { using var f = File.Open("/dev/kvm", FileMode.Open, FileAccess.ReadWrite); }
        catch (Exception e) { return $"/dev/kvm: {e.Message}"; }
        return "the KVM platform is not implemented in this build";
    }
}
