using Sentry.Gofer.Abi;
using static Sentry.Gofer.Abi.SyscallNumbers;

namespace Sentry.Gofer.Confinement;

/// <summary>
/// The Gofer's seccomp allowlist after start-up: the file server's own calls and what the .NET
/// runtime does while it runs (GC, JIT, thread creation, timers, signals), found by running the
/// Gofer under strace -f through the confinement tests and kept in the order of how often they
/// are made. Everything else fails with EPERM: mounts, namespaces, ptrace, execve, sockets and
/// connect, open_by_handle_at, module and key calls, chroot, and so on.
/// </summary>
public static class GoferSyscalls
{
    const int PR_SET_NAME = 15, PR_GET_NAME = 16, PR_SET_VMA = 0x53564d41;

    /// <summary>The rules for the process <paramref name="tgid"/> (signals may only go to its own threads).</summary>
    public static IReadOnlyList<SeccompRule> Rules(int tgid) =>
    [
        // The file server (GoferConnection, P9Socket): one call per request, mostly.
        Allow("recvmsg", SYS_recvmsg), Allow("sendmsg", SYS_sendmsg),
        Allow("newfstatat", SYS_newfstatat), Allow("openat2", SYS_openat2), Allow("openat", SYS_openat),
        Allow("close", SYS_close), Allow("pread64", SYS_pread64), Allow("pwrite64", SYS_pwrite64),
        Allow("read", SYS_read), Allow("write", SYS_write), Allow("getdents64", SYS_getdents64), Allow("lseek", SYS_lseek),
        Allow("fcntl", SYS_fcntl), Allow("readlinkat", SYS_readlinkat), Allow("fstatfs", SYS_fstatfs),
        Allow("mkdirat", SYS_mkdirat), Allow("mknodat", SYS_mknodat), Allow("symlinkat", SYS_symlinkat),
        Allow("linkat", SYS_linkat), Allow("renameat2", SYS_renameat2), Allow("unlinkat", SYS_unlinkat),
        Allow("fchmodat2", SYS_fchmodat2), Allow("fchmod", SYS_fchmod), Allow("fchownat", SYS_fchownat),
        Allow("utimensat", SYS_utimensat), Allow("ftruncate", SYS_ftruncate), Allow("fsync", SYS_fsync),
        Allow("fdatasync", SYS_fdatasync), Allow("shutdown", SYS_shutdown),
        Allow("getxattrat", SYS_getxattrat), Allow("listxattrat", SYS_listxattrat),
        Allow("setxattrat", SYS_setxattrat), Allow("removexattrat", SYS_removexattrat),
        Allow("geteuid", SYS_geteuid),

        // The .NET runtime: memory, GC and JIT.
        Allow("futex", SYS_futex), Allow("mmap", SYS_mmap), Allow("munmap", SYS_munmap), Allow("mprotect", SYS_mprotect),
        Allow("madvise", SYS_madvise), Allow("mremap", SYS_mremap), Allow("brk", SYS_brk), Allow("membarrier", SYS_membarrier),
        Allow("sched_yield", SYS_sched_yield), Allow("sched_getaffinity", SYS_sched_getaffinity), Allow("getcpu", SYS_getcpu),
        Allow("clock_gettime", SYS_clock_gettime), Allow("clock_getres", SYS_clock_getres), Allow("gettimeofday", SYS_gettimeofday),
        Allow("clock_nanosleep", SYS_clock_nanosleep), Allow("nanosleep", SYS_nanosleep),
        Allow("poll", SYS_poll), Allow("ppoll", SYS_ppoll), Allow("getrandom", SYS_getrandom),
        Allow("getpid", SYS_getpid), Allow("gettid", SYS_gettid), Allow("getuid", SYS_getuid), Allow("getgid", SYS_getgid),
        Allow("getegid", SYS_getegid), Allow("fstat", SYS_fstat), Allow("statx", SYS_statx), Allow("readlink", SYS_readlink),
        // A thread the runtime starts late (the tiered JIT's worker comes and goes) sets its own
        // CPU affinity first; refused, the start fails and the Gofer aborts. Only its own (pid 0).
        new SeccompRule("sched_setaffinity", SYS_sched_setaffinity, SeccompAction.AllowIfArg0In, 0),
        Allow("sched_getparam", SYS_sched_getparam), Allow("sched_getscheduler", SYS_sched_getscheduler),
        Allow("sched_get_priority_max", SYS_sched_get_priority_max), Allow("sched_get_priority_min", SYS_sched_get_priority_min),
        Allow("getrlimit", SYS_getrlimit), Allow("prlimit64", SYS_prlimit64), Allow("getrusage", SYS_getrusage),
        Allow("dup", SYS_dup), Allow("dup3", SYS_dup3), Allow("pipe2", SYS_pipe2), Allow("ioctl", SYS_ioctl),
        // Signals: GC suspension and the runtime's handlers; signals only to its own threads.
        Allow("rt_sigaction", SYS_rt_sigaction), Allow("rt_sigprocmask", SYS_rt_sigprocmask), Allow("rt_sigreturn", SYS_rt_sigreturn),
        Allow("sigaltstack", SYS_sigaltstack),
        new SeccompRule("tgkill", SYS_tgkill, SeccompAction.AllowIfArg0In, (uint)tgid),
        // Threads: clone only for threads (no fork), clone3 answered ENOSYS so that glibc uses clone,
        // whose flags a filter can see.
        new SeccompRule("clone", SYS_clone, SeccompAction.AllowIfArg0HasBit, (uint)Linux.CLONE_THREAD),
        new SeccompRule("clone3", SYS_clone3, SeccompAction.Errno, Errno.ENOSYS),
        Allow("set_robust_list", SYS_set_robust_list), Allow("rseq", SYS_rseq), Allow("set_tid_address", SYS_set_tid_address),
        new SeccompRule("prctl", SYS_prctl, SeccompAction.AllowIfArg0In, PR_SET_NAME, PR_GET_NAME, PR_SET_VMA),
        Allow("exit", SYS_exit), Allow("exit_group", SYS_exit_group),
    ];

    static SeccompRule Allow(string name, int nr) => new(name, nr, SeccompAction.Allow);
}
