using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Syscalls;

// membarrier(2), as kernel/sched/membarrier.c answers it. Registrations belong to the address
// space; the barrier itself is the platform's (IAddressSpace.Barrier): an IPI to every CPU that runs
// a thread of the caller's address space.
public static partial class Sys
{
    const int MEMBARRIER_CMD_QUERY = 0, MEMBARRIER_CMD_GLOBAL = 1, MEMBARRIER_CMD_GLOBAL_EXPEDITED = 2,
        MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED = 4, MEMBARRIER_CMD_PRIVATE_EXPEDITED = 8,
        MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED = 16, MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE = 32,
        MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE = 64, MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ = 128,
        MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ = 256, MEMBARRIER_CMD_GET_REGISTRATIONS = 512,
        MEMBARRIER_CMD_FLAG_CPU = 1;

    /// <summary>Every command is offered: x86-64 has SYNC_CORE, and the sandbox has no nohz_full CPUs.</summary>
    const int MembarrierCommands = 1023;

    /// <summary>Address spaces that ever registered for global expedited barriers: GLOBAL_EXPEDITED must reach them.</summary>
    static int s_globalExpeditedUsers;

    internal static void RegisterMembarrier(SyscallHandler?[] t) => t[324] = Membarrier;

    static long Membarrier(Task t, in SyscallArgs a)
    {
        int cmd = (int)a.A0;
        uint flags = (uint)a.A1;
        if (cmd == MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ ? flags is not 0 and not MEMBARRIER_CMD_FLAG_CPU : flags != 0) return -Errno.EINVAL;
        var mm = t.Mm;
        switch (cmd)
        {
            case MEMBARRIER_CMD_QUERY: return MembarrierCommands;
            case MEMBARRIER_CMD_GLOBAL:
                Platform.HostMembarrier.Global();
                return 0;
            case MEMBARRIER_CMD_GLOBAL_EXPEDITED:
                // The caller's own threads take the platform's fast barrier; other processes of the
                // sandbox that registered (rare) are reached by the host's global one.
                mm.AddressSpace.Barrier();
                if (Volatile.Read(ref s_globalExpeditedUsers) > ((mm.MembarrierRegistrations & MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) != 0 ? 1 : 0))
                    Platform.HostMembarrier.Global();
                return 0;
            case MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED:
                if ((Interlocked.Or(ref mm.MembarrierRegistrations, cmd) & cmd) == 0) Interlocked.Increment(ref s_globalExpeditedUsers);
                return 0;
            case MEMBARRIER_CMD_PRIVATE_EXPEDITED:
            case MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE:
            case MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ:
                // Each command needs its own registration (its REGISTER_ command is the next bit up).
                if ((Volatile.Read(ref mm.MembarrierRegistrations) & (cmd << 1)) == 0) return -Errno.EPERM;
                mm.AddressSpace.Barrier();
                return 0;
            case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED:
            case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE:
            case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ:
                Interlocked.Or(ref mm.MembarrierRegistrations, cmd);
                return 0;
            case MEMBARRIER_CMD_GET_REGISTRATIONS:
            {
                int r = Volatile.Read(ref mm.MembarrierRegistrations);
                // Linux's state for the SYNC_CORE and RSEQ variants includes the plain private one's
                // (not its readiness), and the registrations it reports are read from that state.
                if ((r & (MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ)) != 0)
                    r |= MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED;
                return r;
            }
            default: return -Errno.EINVAL;
        }
    }
}
