namespace Sentry.Platform.Kvm;

/// <summary>ioctl(2) on KVM descriptors, in the kernel's convention: the result or -errno.</summary>
internal static class Kvm
{
    const long SYS_ioctl = 16;

    public static long Ioctl(int fd, uint request, long arg = 0) => HostSyscall.Call(SYS_ioctl, fd, request, arg);

    public static unsafe long Ioctl<T>(int fd, uint request, ref T arg) where T : unmanaged
    {
        fixed (T* p = &arg) return HostSyscall.Call(SYS_ioctl, fd, request, (long)p);
    }

    /// <summary>Like <see cref="Ioctl(int, uint, long)"/> but throws with the call's name when it fails: for set-up calls, where failure means this host cannot run the platform.</summary>
    public static long Check(long result, string what) =>
        result < 0 ? throw new KvmUnavailableException($"{what} failed: {Errno.Name((int)-result)}") : result;
}

/// <summary>KVM cannot run the platform on this host (missing device, capability or a refused set-up call).</summary>
public sealed class KvmUnavailableException(string message) : Exception(message);

/// <summary>The guest did something only a Sentry bug can cause (a fault in ring 0, a failed entry).</summary>
public sealed class KvmGuestException(string message) : Exception(message);
