using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Sentry.Platform.Kvm;

/// <summary>
/// The signal that makes a thread's KVM_RUN return (EINTR) for <see cref="IContext.Interrupt"/>.
/// Its handler is one <c>ret</c> instruction on a page of its own: a managed handler would not be
/// async-signal-safe, and an ignored signal would not interrupt the ioctl. SIGRTMIN+8 is clear of
/// the .NET runtime's own SIGRTMIN (thread suspension for the GC).
/// </summary>
internal static unsafe partial class KickSignal
{
    public const int Number = 42; // SIGRTMIN (34) + 8
    static int s_installed;

    /// <summary>Installs the handler once per process.</summary>
    public static void Install()
    {
        if (Interlocked.Exchange(ref s_installed, 1) == 1) return;
        void* page = LibC.mmap(null, 4096, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS, -1, 0);
        if (page == LibC.MAP_FAILED) throw new KvmUnavailableException("mmap for the kick signal handler failed");
        *(byte*)page = 0xC3; // ret
        LibC.mprotect(page, 4096, LibC.PROT_READ | LibC.PROT_EXEC);
        // glibc's struct sigaction: handler, 128-byte mask, flags, restorer.
        byte* sa = stackalloc byte[152];
        new Span<byte>(sa, 152).Clear();
        *(void**)sa = page;
        *(int*)(sa + 136) = 0; // no SA_RESTART: the ioctl must return
        if (sigaction(Number, sa, null) != 0)
            throw new KvmUnavailableException($"sigaction({Number}): {Marshal.GetLastPInvokeErrorMessage()}");
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int sigaction(int signum, byte* act, byte* oldact);

    public static void Send(int tid) =>
        HostSyscall.Call(234 /* tgkill */, Environment.ProcessId, tid, Number);
}
