/* Hostile arguments to the signal, wait, clone, pipe, poll and exec calls,
 * each with one well-defined Linux errno; and signal frames corrupted by the
 * handler before sigreturn, which must end the process with SIGSEGV.
 * Usage: badsignals errnos | frame_rip | frame_rsp | frame_fpstate.
 * Raw syscall() everywhere so libc wrappers cannot second-guess arguments. */
#include "proctest.h"
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/time.h>
#include <ucontext.h>

#define R(label, call) report(label, (call))
#define NOPID 0x3fffffff /* above any pid_max: no such process */
#define SIGSETSIZE 8L    /* the kernel's sigset_t */

static void nothing(int s) { (void)s; }

static void signal_calls(void *bad)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = nothing;
    /* The kernel's struct sigaction layout differs from libc's, but for these
     * checks only the signal number, pointers and size matter. */
    R("kill sig 65", syscall(SYS_kill, getpid(), 65));
    R("kill sig -1", syscall(SYS_kill, getpid(), -1));
    R("kill sig 0 to self", syscall(SYS_kill, getpid(), 0));
    R("kill no such pid", syscall(SYS_kill, NOPID, 0));
    R("kill INT_MIN", syscall(SYS_kill, (long)(-2147483647 - 1), 0));
    R("tgkill sig 65", syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), 65));
    R("tgkill tgid 0", syscall(SYS_tgkill, 0, syscall(SYS_gettid), 0));
    R("tgkill tid -1", syscall(SYS_tgkill, getpid(), -1, 0));
    R("tgkill no such tid", syscall(SYS_tgkill, getpid(), NOPID, 0));
    R("tkill tid 0", syscall(SYS_tkill, 0, 0));

    R("rt_sigaction sig 0", syscall(SYS_rt_sigaction, 0, &sa, NULL, SIGSETSIZE));
    R("rt_sigaction sig 65", syscall(SYS_rt_sigaction, 65, &sa, NULL, SIGSETSIZE));
    R("rt_sigaction SIGKILL set", syscall(SYS_rt_sigaction, SIGKILL, &sa, NULL, SIGSETSIZE));
    R("rt_sigaction SIGSTOP set", syscall(SYS_rt_sigaction, SIGSTOP, &sa, NULL, SIGSETSIZE));
    char old[64];
    R("rt_sigaction SIGKILL query", syscall(SYS_rt_sigaction, SIGKILL, NULL, old, SIGSETSIZE));
    R("rt_sigaction sigsetsize 4", syscall(SYS_rt_sigaction, SIGUSR1, &sa, NULL, 4L));
    R("rt_sigaction act (void*)1", syscall(SYS_rt_sigaction, SIGUSR1, (void *)1, NULL, SIGSETSIZE));
    R("rt_sigaction act kernel", syscall(SYS_rt_sigaction, SIGUSR1, KERNEL_ADDR, NULL, SIGSETSIZE));
    R("rt_sigaction act unmapped", syscall(SYS_rt_sigaction, SIGUSR1, bad, NULL, SIGSETSIZE));
    R("rt_sigaction oldact unmapped", syscall(SYS_rt_sigaction, SIGUSR1, NULL, bad, SIGSETSIZE));
    R("rt_sigaction oldact kernel", syscall(SYS_rt_sigaction, SIGUSR1, NULL, KERNEL_ADDR, SIGSETSIZE));

    unsigned long set = 0;
    R("rt_sigprocmask how 7", syscall(SYS_rt_sigprocmask, 7, &set, NULL, SIGSETSIZE));
    R("rt_sigprocmask set unmapped", syscall(SYS_rt_sigprocmask, SIG_BLOCK, bad, NULL, SIGSETSIZE));
    R("rt_sigprocmask oldset unmapped", syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, bad, SIGSETSIZE));
    R("rt_sigprocmask sigsetsize 4", syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 4L));
    R("rt_sigpending unmapped", syscall(SYS_rt_sigpending, bad, SIGSETSIZE));
    R("rt_sigpending sigsetsize 16", syscall(SYS_rt_sigpending, &set, 16L));
    R("rt_sigsuspend sigsetsize 4", syscall(SYS_rt_sigsuspend, &set, 4L));
    R("rt_sigsuspend unmapped", syscall(SYS_rt_sigsuspend, bad, SIGSETSIZE));

    unsigned long usr1 = 1UL << (SIGUSR1 - 1);
    struct timespec zero = { 0, 0 }, bad_nsec = { 0, 2000000000L };
    R("rt_sigtimedwait set unmapped", syscall(SYS_rt_sigtimedwait, bad, NULL, &zero, SIGSETSIZE));
    R("rt_sigtimedwait timeout unmapped", syscall(SYS_rt_sigtimedwait, &usr1, NULL, bad, SIGSETSIZE));
    R("rt_sigtimedwait tv_nsec 2e9", syscall(SYS_rt_sigtimedwait, &usr1, NULL, &bad_nsec, SIGSETSIZE));
    R("rt_sigtimedwait sigsetsize 4", syscall(SYS_rt_sigtimedwait, &usr1, NULL, &zero, 4L));
    R("rt_sigqueueinfo info unmapped", syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, bad));

    stack_t ss = { .ss_sp = malloc(65536), .ss_flags = 0x1234, .ss_size = 65536 };
    R("sigaltstack bad flags", syscall(SYS_sigaltstack, &ss, NULL));
    ss.ss_flags = 0;
    ss.ss_size = 1024;
    R("sigaltstack size 1024", syscall(SYS_sigaltstack, &ss, NULL));
    R("sigaltstack unmapped", syscall(SYS_sigaltstack, bad, NULL));
    R("sigaltstack old unmapped", syscall(SYS_sigaltstack, NULL, bad));

    struct itimerval it = { { 0, 0 }, { 0, 2000000 } };
    R("setitimer which 99", syscall(SYS_setitimer, 99, &it, NULL));
    R("setitimer tv_usec 2e6", syscall(SYS_setitimer, ITIMER_REAL, &it, NULL));
    R("setitimer value unmapped", syscall(SYS_setitimer, ITIMER_REAL, bad, NULL));
    R("getitimer which 99", syscall(SYS_getitimer, 99, &it));
    R("getitimer unmapped", syscall(SYS_getitimer, ITIMER_REAL, bad));
}

static void wait_calls(void *bad)
{
    int st;
    siginfo_t si;
    /* A grandchild exists but is not ours. (Not the parent: in the sandbox the
     * program is pid 1, whose parent id reads 0, which means "my group".) */
    int gate[2], idpipe[2];
    must(pipe(gate) == 0 && pipe(idpipe) == 0, "pipe");
    pid_t mid = fork();
    if (mid == 0) {
        pid_t g = fork();
        if (g == 0) {
            close(gate[1]);
            await_byte(gate[0]);
            _exit(0);
        }
        close(gate[1]);
        must(write(idpipe[1], &g, sizeof g) == sizeof g, "write");
        waitpid(g, &st, 0);
        _exit(0);
    }
    close(gate[0]);
    pid_t grandchild = 0;
    must(read(idpipe[0], &grandchild, sizeof grandchild) == sizeof grandchild, "read");
    R("wait4 a grandchild", syscall(SYS_wait4, grandchild, &st, 0, NULL));
    R("waitid P_PID a grandchild", syscall(SYS_waitid, P_PID, grandchild, &si, WEXITED | WNOHANG, NULL));
    close(gate[1]);
    waitpid(mid, &st, 0);
    R("wait4 no such pid", syscall(SYS_wait4, NOPID, &st, 0, NULL));
    R("wait4 any, no children", syscall(SYS_wait4, -1, &st, 0, NULL));
    R("wait4 bad options", syscall(SYS_wait4, -1, &st, 0x10000000, NULL));
    R("waitid bad idtype", syscall(SYS_waitid, 99, 0, &si, WEXITED, NULL));
    R("waitid no WEXITED/WSTOPPED/WCONTINUED", syscall(SYS_waitid, P_ALL, 0, &si, WNOHANG, NULL));
    /* A zombie child whose status cannot be stored: EFAULT, and it stays reapable. */
    pid_t c = (pid_t)syscall(SYS_fork);
    if (c == 0)
        syscall(SYS_exit_group, 3);
    must(c > 0, "fork");
    R("wait4 status unmapped", syscall(SYS_wait4, c, bad, 0, NULL));
    long r = syscall(SYS_wait4, c, &st, 0, NULL);
    printf("wait4 again: %s\n", r == c ? describe_status(st) : errname(errno));
}

/* Each clone runs in a forked child: if the sandbox wrongly created a thread
 * on the shared stack, the damage stays out of the reporting process. */
static void try_clone(const char *label, unsigned long flags)
{
    pid_t c = fork();
    if (c == 0) {
        long r = syscall(SYS_clone, flags, NULL, NULL, NULL, 0L);
        if (r == 0)
            syscall(SYS_exit, 0); /* a wrongly created child/thread leaves at once */
        report(label, r);
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
}

static void clone_calls(void *bad)
{
    try_clone("clone CLONE_THREAD without CLONE_SIGHAND", CLONE_THREAD | CLONE_VM);
    try_clone("clone CLONE_SIGHAND without CLONE_VM", CLONE_SIGHAND);
    try_clone("clone CLONE_THREAD alone", CLONE_THREAD);
    try_clone("clone CLONE_NEWNS|CLONE_FS", CLONE_NEWNS | CLONE_FS);
    R("clone3 NULL args", syscall(SYS_clone3, NULL, 88L));
    R("clone3 size 0", syscall(SYS_clone3, bad, 0L));
    R("clone3 args unmapped", syscall(SYS_clone3, bad, 88L));
}

static void other_calls(void *bad)
{
    int p[2];
    R("pipe unmapped", syscall(SYS_pipe, bad));
    R("pipe2 bad flags", syscall(SYS_pipe2, p, 0x12345));
    struct pollfd pf = { -1, POLLIN, 0 };
    report_val("poll fd -1 is ignored", syscall(SYS_poll, &pf, 1L, 0L));
    R("poll fds unmapped", syscall(SYS_poll, bad, 1L, 0L));
    R("poll nfds huge", syscall(SYS_poll, &pf, 1L << 30, 0L));
    char *argv[] = { "/bin/true", NULL };
    R("execve path unmapped", syscall(SYS_execve, bad, argv, NULL));
    R("execve argv unmapped", syscall(SYS_execve, "/bin/true", bad, NULL));
    R("execve missing file", syscall(SYS_execve, "/nonexistent", argv, NULL));
    R("execve a directory", syscall(SYS_execve, "/usr", argv, NULL));
    R("execve a non-executable file", syscall(SYS_execve, "/etc/os-release", argv, NULL));
    R("setpgid no such pid", syscall(SYS_setpgid, NOPID, 0));
    R("setpgid negative pgid", syscall(SYS_setpgid, 0, -1));
    R("getpgid no such pid", syscall(SYS_getpgid, NOPID));
    R("getsid no such pid", syscall(SYS_getsid, NOPID));
    pid_t c = fork();
    if (c == 0) {
        setpgid(0, 0);
        R("setsid as a group leader", syscall(SYS_setsid));
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
}

static void errnos(char **argv)
{
    (void)argv;
    void *bad = unmapped_page();
    signal_calls(bad);
    wait_calls(bad);
    clone_calls(bad);
    other_calls(bad);
}

/* ---- corrupted signal frames ---- */

static int corrupt_what;
static void corrupt_frame(int s, siginfo_t *si, void *ucv)
{
    (void)s;
    (void)si;
    ucontext_t *uc = ucv;
    if (corrupt_what == 0)
        uc->uc_mcontext.gregs[REG_RIP] = 0;
    else if (corrupt_what == 1)
        uc->uc_mcontext.gregs[REG_RSP] = 0;
    else
        uc->uc_mcontext.fpregs = KERNEL_ADDR; /* the saved FPU state pointer */
}

static void frame(int what)
{
    corrupt_what = what;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = corrupt_frame;
    sa.sa_flags = SA_SIGINFO;
    must(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction");
    printf("raising SIGUSR1; its handler corrupts the frame\n");
    fflush(stdout);
    syscall(SYS_kill, getpid(), SIGUSR1);
    printf("survived sigreturn with a corrupted frame\n");
}

static void frame_rip(char **argv) { (void)argv; frame(0); }
static void frame_rsp(char **argv) { (void)argv; frame(1); }
static void frame_fpstate(char **argv) { (void)argv; frame(2); }

int main(int argc, char **argv)
{
    static const struct mode modes[] = {
        { "errnos", errnos },
        { "frame_rip", frame_rip },
        { "frame_rsp", frame_rsp },
        { "frame_fpstate", frame_fpstate },
        { NULL, NULL },
    };
    return run_mode(modes, argc, argv);
}
