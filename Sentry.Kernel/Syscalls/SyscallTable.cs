using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Syscalls;

/// <summary>
/// The syscall table: an array indexed by x86-64 syscall number. Numbers without a handler answer
/// -ENOSYS and are reported once per name by the sandbox.
/// </summary>
public static class SyscallTable
{
    static readonly SyscallHandler?[] s_table = Build();

    static SyscallHandler?[] Build()
    {
        var t = new SyscallHandler?[SyscallNames.Count];
        Sys.RegisterFile(t);
        Sys.RegisterMemory(t);
        Sys.RegisterProcess(t);
        Sys.RegisterTime(t);
        Sys.RegisterFutex(t);
        Sys.RegisterExec(t);
        Sys.RegisterSystem(t);
        Sys.RegisterSignal(t);
        Sys.RegisterClone(t);
        Sys.RegisterWait(t);
        Sys.RegisterPoll(t);
        Sys.RegisterEpoll(t);
        Sys.RegisterTimer(t);
        Sys.RegisterNamespace(t);
        Sys.RegisterLock(t);
        Sys.RegisterMount(t);
        Sys.RegisterSocket(t);
        Sys.RegisterSplice(t);
        Sys.RegisterMemfd(t);
        Sys.RegisterMembarrier(t);
        Sys.RegisterSched(t);
        Sys.RegisterMlock(t);
        Sys.RegisterMempolicy(t);
        return t;
    }

    /// <summary>True when <paramref name="nr"/> has a handler.</summary>
    public static bool Implemented(long nr) => nr >= 0 && nr < s_table.Length && s_table[nr] != null;

    /// <summary>Runs syscall <paramref name="nr"/>; -ENOSYS (and one report) when it is not implemented.</summary>
    public static long Dispatch(Task t, long nr, in SyscallArgs a)
    {
        if ((ulong)nr < (ulong)s_table.Length && s_table[nr] is { } h) return h(t, a);
        t.Sandbox.ReportUnsupported(nr);
        return -Errno.ENOSYS;
    }
}
