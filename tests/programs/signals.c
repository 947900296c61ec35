/* Signal delivery inside one process: alternate stacks, nesting and masks,
 * faults that a handler repairs, SA_RESTART versus EINTR with interval timers,
 * and pending/queued signals picked up with sigtimedwait.
 * Usage: signals MODE (see the table at the end). */
#include "proctest.h"
#include <fcntl.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <setjmp.h>
#include <sys/time.h>
#include <time.h>
#include <ucontext.h>

static void install(int sig, void (*h)(int), int flags, const sigset_t *mask)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h;
    sa.sa_flags = flags;
    if (mask)
        sa.sa_mask = *mask;
    else
        sigemptyset(&sa.sa_mask);
    must(sigaction(sig, &sa, NULL) == 0, "sigaction");
}

static void install_info(int sig, void (*h)(int, siginfo_t *, void *), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = h;
    sa.sa_flags = flags | SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    must(sigaction(sig, &sa, NULL) == 0, "sigaction");
}

/* An async-signal-safe trace of what the handlers did, printed afterwards. */
static char trace[512];
static void note(const char *s)
{
    size_t n = strlen(trace), m = strlen(s);
    if (n + m + 2 < sizeof trace) {
        memcpy(trace + n, s, m);
        trace[n + m] = ' ';
        trace[n + m + 1] = 0;
    }
}
static void print_trace(const char *label)
{
    printf("%s: %s\n", label, trace);
    trace[0] = 0;
}

/* ---- alternate signal stack ---- */

enum { AltSize = 64 * 1024 };
static char *alt;
static volatile int on_alt, flagged_onstack;

static void where_am_i(int s)
{
    (void)s;
    char local;
    on_alt = &local >= alt && &local < alt + AltSize;
    stack_t cur;
    sigaltstack(NULL, &cur);
    flagged_onstack = (cur.ss_flags & SS_ONSTACK) != 0;
}

static void altstack(char **argv)
{
    (void)argv;
    alt = malloc(AltSize);
    stack_t ss = { .ss_sp = alt, .ss_flags = 0, .ss_size = AltSize }, cur;
    report("sigaltstack set", sigaltstack(&ss, NULL));
    install(SIGUSR1, where_am_i, SA_ONSTACK, NULL);
    raise(SIGUSR1);
    yesno("SA_ONSTACK handler runs on the alternate stack", on_alt);
    yesno("sigaltstack in the handler reports SS_ONSTACK", flagged_onstack);
    sigaltstack(NULL, &cur);
    yesno("after return: not on the stack, same stack reported",
          !(cur.ss_flags & SS_ONSTACK) && cur.ss_sp == alt && cur.ss_size == AltSize);
    install(SIGUSR2, where_am_i, 0, NULL);
    raise(SIGUSR2);
    yesno("handler without SA_ONSTACK runs on the alternate stack", on_alt);
    ss.ss_flags = SS_DISABLE;
    report("sigaltstack disable", sigaltstack(&ss, NULL));
    sigaltstack(NULL, &cur);
    yesno("disabled stack reports SS_DISABLE", (cur.ss_flags & SS_DISABLE) != 0);
    raise(SIGUSR1);
    yesno("SA_ONSTACK handler with the stack disabled runs on it", on_alt);
}

/* ---- stack overflow caught on the alternate stack ---- */

static sigjmp_buf overflow_escape;
static volatile int overflow_on_alt;

static void on_overflow(int s)
{
    (void)s;
    char local;
    overflow_on_alt = &local >= alt && &local < alt + AltSize;
    siglongjmp(overflow_escape, 1);
}

/* Volatile so the compiler can neither see the recursion is endless nor stop it. */
static volatile long depth_limit = 1L << 40;

static int recurse(long depth)
{
    volatile char frame[1024];
    frame[0] = (char)depth;
    if (depth >= depth_limit)
        return 0;
    return recurse(depth + 1) + frame[1]; /* not a tail call: every frame stays */
}

static void overflow(char **argv)
{
    (void)argv;
    alt = malloc(AltSize);
    stack_t ss = { .ss_sp = alt, .ss_flags = 0, .ss_size = AltSize };
    must(sigaltstack(&ss, NULL) == 0, "sigaltstack");
    install(SIGSEGV, on_overflow, SA_ONSTACK, NULL);
    if (sigsetjmp(overflow_escape, 1) == 0) {
        recurse(0);
        printf("recursion returned?\n");
    } else {
        printf("stack overflow caught by a SIGSEGV handler\n");
        yesno("the handler ran on the alternate stack", overflow_on_alt);
        sigset_t now;
        sigprocmask(SIG_SETMASK, NULL, &now);
        yesno("siglongjmp restored the mask (SIGSEGV unblocked)", !sigismember(&now, SIGSEGV));
    }
}

/* ---- nesting, masks, SA_NODEFER, SA_RESETHAND ---- */

static void usr2_handler(int s) { (void)s; note("usr2"); }

static void usr1_raises_usr2(int s)
{
    (void)s;
    note("usr1-in");
    sigset_t now;
    sigprocmask(SIG_SETMASK, NULL, &now);
    note(sigismember(&now, SIGUSR1) ? "(usr1-blocked)" : "(usr1-open)");
    raise(SIGUSR2);
    note("usr1-out");
}

static volatile int depth;
static void recursive_usr1(int s)
{
    char in[8] = "in0", out[8] = "out0";
    int d = ++depth;
    in[2] = out[3] = (char)('0' + d);
    note(in);
    if (d < 3)
        raise(s);
    note(out);
}

static void urg_handler(int s) { (void)s; note("urg"); }

static void nested(char **argv)
{
    (void)argv;
    install(SIGUSR2, usr2_handler, 0, NULL);
    install(SIGUSR1, usr1_raises_usr2, 0, NULL);
    raise(SIGUSR1);
    print_trace("usr2 raised in usr1 handler");

    sigset_t with_usr2;
    sigemptyset(&with_usr2);
    sigaddset(&with_usr2, SIGUSR2);
    install(SIGUSR1, usr1_raises_usr2, 0, &with_usr2);
    raise(SIGUSR1);
    print_trace("same with usr2 in sa_mask");

    depth = 0;
    install(SIGUSR1, recursive_usr1, 0, NULL);
    raise(SIGUSR1);
    print_trace("handler raising its own signal");

    depth = 0;
    install(SIGUSR1, recursive_usr1, SA_NODEFER, NULL);
    raise(SIGUSR1);
    print_trace("same with SA_NODEFER");

    install(SIGURG, urg_handler, SA_RESETHAND, NULL);
    raise(SIGURG);
    raise(SIGURG); /* default action of SIGURG: ignore */
    print_trace("SA_RESETHAND, raised twice");
    struct sigaction now;
    sigaction(SIGURG, NULL, &now);
    yesno("handler reset to SIG_DFL", now.sa_handler == SIG_DFL);

    sigset_t mask;
    sigprocmask(SIG_SETMASK, NULL, &mask);
    yesno("mask restored after all handlers", !sigismember(&mask, SIGUSR1) && !sigismember(&mask, SIGUSR2));
}

/* ---- faults repaired by the handler ---- */

static char *fault_page;
static void *fault_addr;
static volatile int faults, fault_code;

static void fix_by_mprotect(int s, siginfo_t *si, void *uc)
{
    (void)s;
    (void)uc;
    faults++;
    fault_addr = si->si_addr;
    fault_code = si->si_code;
    mprotect(fault_page, 4096, PROT_READ | PROT_WRITE);
}

static void fix_by_mmap(int s, siginfo_t *si, void *uc)
{
    (void)s;
    (void)uc;
    faults++;
    fault_addr = si->si_addr;
    fault_code = si->si_code;
    void *page = (void *)((uintptr_t)si->si_addr & ~(uintptr_t)4095);
    mmap(page, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}

/* ud2 is two bytes: the handler moves the saved rip past it. */
static void skip_ud2(int s, siginfo_t *si, void *ucv)
{
    (void)s;
    ucontext_t *uc = ucv;
    faults++;
    fault_code = si->si_code;
    uc->uc_mcontext.gregs[REG_RIP] += 2;
}

static sigjmp_buf fpe_escape;
static void on_fpe(int s, siginfo_t *si, void *uc)
{
    (void)s;
    (void)uc;
    fault_code = si->si_code;
    siglongjmp(fpe_escape, 1);
}

static const char *code_name(int sig, int code)
{
    if (sig == SIGSEGV && code == SEGV_MAPERR) return "SEGV_MAPERR";
    if (sig == SIGSEGV && code == SEGV_ACCERR) return "SEGV_ACCERR";
    if (sig == SIGILL && code == ILL_ILLOPN) return "ILL_ILLOPN";
    if (sig == SIGFPE && code == FPE_INTDIV) return "FPE_INTDIV";
    return "other";
}

static void segv(char **argv)
{
    (void)argv;
    fault_page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    must(fault_page != MAP_FAILED, "mmap");
    install_info(SIGSEGV, fix_by_mprotect, 0);
    faults = 0;
    ((volatile char *)fault_page)[100] = 42; /* faults once, then succeeds on return */
    printf("write to a read-only page: faults %d, code %s, si_addr exact %s, value %d\n",
           faults, code_name(SIGSEGV, fault_code), fault_addr == fault_page + 100 ? "yes" : "no",
           fault_page[100]);

    char *gone = unmapped_page();
    install_info(SIGSEGV, fix_by_mmap, 0);
    faults = 0;
    int v = ((volatile char *)gone)[7];
    printf("read of an unmapped page: faults %d, code %s, si_addr exact %s, value %d\n",
           faults, code_name(SIGSEGV, fault_code), fault_addr == gone + 7 ? "yes" : "no", v);

    install_info(SIGILL, skip_ud2, 0);
    faults = 0;
    __asm__ volatile("ud2");
    printf("ud2 skipped by editing the saved rip: faults %d, code %s\n", faults, code_name(SIGILL, fault_code));

    install_info(SIGFPE, on_fpe, 0);
    volatile int zero = 0, one = 1;
    if (sigsetjmp(fpe_escape, 1) == 0)
        printf("division by zero gave %d?\n", one / zero);
    else
        printf("division by zero: SIGFPE %s, left by siglongjmp\n", code_name(SIGFPE, fault_code));
}

/* ---- SA_RESTART versus EINTR ---- */

static int wake_fd;
static volatile sig_atomic_t ticks, write_on_tick;

static void on_alarm(int s)
{
    (void)s;
    if (++ticks == write_on_tick) {
        int saved = errno;
        write(wake_fd, "x", 1);
        errno = saved;
    }
}

static void timer(long first_us, long interval_us)
{
    struct itimerval it = { { 0, interval_us }, { 0, first_us } };
    must(setitimer(ITIMER_REAL, &it, NULL) == 0, "setitimer");
}

static void restart(char **argv)
{
    (void)argv;
    int p[2];
    char c;
    must(pipe(p) == 0, "pipe");
    wake_fd = p[1];

    /* Restarted: the read survives two ticks and returns the byte the third writes. */
    install(SIGALRM, on_alarm, SA_RESTART, NULL);
    ticks = 0;
    write_on_tick = 3;
    timer(10000, 10000);
    ssize_t n = read(p[0], &c, 1);
    int seen = ticks;
    timer(0, 0);
    printf("read with SA_RESTART: %s, after at least 3 ticks: %s\n",
           n == 1 ? "1 byte" : errname(errno), seen >= 3 ? "yes" : "no");

    /* Not restarted: the first tick ends the read with EINTR, even though the
     * handler wrote a byte; the byte is then read normally. */
    install(SIGALRM, on_alarm, 0, NULL);
    ticks = 0;
    write_on_tick = 1;
    timer(10000, 0);
    n = read(p[0], &c, 1);
    printf("read without SA_RESTART: %s, ticks %d\n", n < 0 ? errname(errno) : "returned data", (int)ticks);
    printf("next read: %s\n", read(p[0], &c, 1) == 1 ? "the handler's byte" : errname(errno));

    /* Some calls are never restarted, SA_RESTART or not. */
    install(SIGALRM, on_alarm, SA_RESTART, NULL);
    ticks = 0;
    write_on_tick = 0;
    struct pollfd pf = { p[0], POLLIN, 0 };
    timer(10000, 0);
    report("poll with SA_RESTART", poll(&pf, 1, 5000));
    struct timespec ts = { 5, 0 }, rem = { 0, 0 };
    timer(10000, 0);
    report("nanosleep with SA_RESTART", nanosleep(&ts, &rem));
    yesno("nanosleep reports time remaining", rem.tv_sec > 0 || rem.tv_nsec > 0);
    timer(10000, 0);
    report("pause", pause());
    sigset_t none;
    sigemptyset(&none);
    timer(10000, 0);
    report("sigsuspend", sigsuspend(&none));
    printf("ticks: %d\n", (int)ticks);

    struct itimerval cur;
    timer(500000, 0);
    getitimer(ITIMER_REAL, &cur);
    yesno("getitimer shows a pending timer", cur.it_value.tv_sec > 0 || cur.it_value.tv_usec > 0);
    timer(0, 0);
    getitimer(ITIMER_REAL, &cur);
    yesno("cancelled timer reads zero", cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0);
    alarm(100);
    unsigned left = alarm(0);
    yesno("alarm(0) returns the seconds left of alarm(100)", left >= 99 && left <= 100);
}

/* A timer signal every 500 us while the program does nothing but system calls:
 * signals then arrive at every point of the way into and out of the kernel. Each
 * iteration counts in memory after its call; if the program were ever resumed with
 * the registers of an earlier point (code run again), the count and the loop
 * index would part. Runs until 100 ticks have landed. */
static void syscall_ticks(char **argv)
{
    (void)argv;
    install(SIGALRM, on_alarm, SA_RESTART, NULL);
    ticks = 0;
    write_on_tick = -1;
    timer(500, 500);
    volatile long counted = 0;
    long i, parted = -1;
    for (i = 0; i < 20000 || ticks < 100; i++) {
        syscall(SYS_getppid);
        counted = counted + 1;
        if (counted != i + 1) {
            parted = i;
            break;
        }
    }
    timer(0, 0);
    printf("count kept with the loop through 100 ticks: %s\n", parted < 0 ? "yes" : "no");
}

/* ---- blocked, pending and queued signals ---- */

static const char *si_code_name(int code)
{
    switch (code) {
    case SI_USER: return "SI_USER";
    case SI_TKILL: return "SI_TKILL";
    case SI_QUEUE: return "SI_QUEUE";
    default: return "other";
    }
}

/* Raw rt_sigtimedwait: glibc's wrapper rewrites SI_TKILL to SI_USER, musl's does not. */
static int take(const sigset_t *set, siginfo_t *si, const struct timespec *ts)
{
    return (int)syscall(SYS_rt_sigtimedwait, set, si, ts, 8L);
}

static void order_handler(int s) { note(s == SIGUSR1 ? "usr1" : "usr2"); }

static void mask(char **argv)
{
    (void)argv;
    const int rt = 40; /* a real-time signal free in glibc and musl (SIGRTMIN is 34 or 35) */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, rt);
    must(sigprocmask(SIG_BLOCK, &set, &old) == 0, "sigprocmask");
    struct timespec zero = { 0, 0 }, short_wait = { 0, 10000000 };
    siginfo_t si;

    /* tgkill, not raise(): glibc's raise() may use kill or tgkill, musl's tkill. */
    syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1);
    sigset_t pend;
    sigpending(&pend);
    yesno("raised while blocked: pending", sigismember(&pend, SIGUSR1));
    int s = take(&set, &si, &zero);
    printf("after tgkill: %s, %s\n", s > 0 ? signame(s) : errname(errno), si_code_name(si.si_code));

    kill(getpid(), SIGUSR1);
    s = take(&set, &si, &zero);
    printf("after kill: %s, %s, si_uid is ours: %s\n", s > 0 ? signame(s) : errname(errno),
           si_code_name(si.si_code), si.si_uid == getuid() ? "yes" : "no");

    union sigval val = { .sival_int = 1234 };
    sigqueue(getpid(), SIGUSR2, val);
    s = take(&set, &si, &zero);
    printf("after sigqueue: %s, %s, value %d\n", s > 0 ? signame(s) : errname(errno),
           si_code_name(si.si_code), si.si_value.sival_int);

    report("sigtimedwait with nothing pending (10 ms)", take(&set, &si, &short_wait));

    /* Standard signals coalesce; real-time signals queue, in order, with their values. */
    for (int i = 1; i <= 3; i++) {
        raise(SIGUSR1);
        val.sival_int = i;
        sigqueue(getpid(), rt, val);
    }
    int usr1 = 0, rts = 0, order_ok = 1;
    while ((s = take(&set, &si, &zero)) > 0) {
        if (s == SIGUSR1)
            usr1++;
        else if (s == rt && si.si_value.sival_int != ++rts)
            order_ok = 0;
    }
    printf("SIGUSR1 raised 3 times delivered %d, rt signal queued 3 times delivered %d, in order: %s\n",
           usr1, rts, order_ok ? "yes" : "no");

    /* Unblocking two pending signals: Linux dequeues the lowest (USR1) first
     * but, before returning to user mode, also stacks a frame for USR2 (not
     * blocked by USR1's handler), so USR2's handler runs first, then USR1's. */
    install(SIGUSR1, order_handler, 0, NULL);
    install(SIGUSR2, order_handler, 0, NULL);
    raise(SIGUSR2);
    raise(SIGUSR1);
    sigprocmask(SIG_SETMASK, &old, NULL);
    print_trace("handlers run after unblocking USR1 and USR2 together");
}

/* ITIMER_VIRTUAL and ITIMER_PROF fire on CPU time: spin until each fired five times. */
static volatile sig_atomic_t vtalrms, profs;
static void on_vtalrm(int s) { (void)s; vtalrms++; }
static void on_prof(int s) { (void)s; profs++; }

static void cpu_timers(char **argv)
{
    (void)argv;
    signal(SIGVTALRM, on_vtalrm);
    signal(SIGPROF, on_prof);
    struct itimerval every = { { 0, 20000 }, { 0, 20000 } }, off = { { 0, 0 }, { 0, 0 } }, left;
    setitimer(ITIMER_VIRTUAL, &every, NULL);
    setitimer(ITIMER_PROF, &every, NULL);
    getitimer(ITIMER_VIRTUAL, &left);
    printf("virtual timer armed, interval %ld us\n", (long)left.it_interval.tv_usec);
    volatile double x = 0;
    while (vtalrms < 5 || profs < 5) x += 1.0;
    setitimer(ITIMER_VIRTUAL, &off, NULL);
    setitimer(ITIMER_PROF, &off, NULL);
    getitimer(ITIMER_PROF, &left);
    printf("SIGVTALRM and SIGPROF each fired at least 5 times; disarmed: %d\n", left.it_value.tv_sec == 0 && left.it_value.tv_usec == 0);
}

/* signalfd: blocked signals read as records instead of running handlers. */
static void signalfd_mode(char **argv)
{
    (void)argv;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    printf("signalfd: %s\n", fd >= 0 ? "ok" : errname(errno));
    struct signalfd_siginfo si;
    long n = read(fd, &si, sizeof si);
    printf("empty: %ld %s\n", n, n < 0 ? errname(errno) : "");
    n = read(fd, &si, sizeof si - 1);
    printf("short buffer: %ld %s\n", n, n < 0 ? errname(errno) : "");
    struct pollfd p = { .fd = fd, .events = POLLIN };
    printf("poll before: %d\n", poll(&p, 1, 0));
    kill(getpid(), SIGUSR1);
    int ready = poll(&p, 1, 0);
    printf("poll after kill: %d revents IN %d\n", ready, (p.revents & POLLIN) != 0);
    n = read(fd, &si, sizeof si);
    printf("read: %ld signo %s code SI_USER %d pid is mine %d uid %u\n", n, signame(si.ssi_signo), si.ssi_code == SI_USER,
           si.ssi_pid == (uint32_t)getpid(), si.ssi_uid);
    union sigval v = { .sival_int = 42 };
    sigqueue(getpid(), SIGUSR1, v);
    n = read(fd, &si, sizeof si);
    printf("sigqueue: %ld code SI_QUEUE %d int %d\n", n, si.ssi_code == SI_QUEUE, si.ssi_int);
    pid_t c = fork();
    if (c == 0)
        _exit(7);
    fcntl(fd, F_SETFL, 0); /* blocking now: waits for SIGCHLD */
    n = read(fd, &si, sizeof si);
    printf("child: %ld signo %s code CLD_EXITED %d status %d pid is child %d\n", n, signame(si.ssi_signo), si.ssi_code == CLD_EXITED,
           si.ssi_status, si.ssi_pid == (uint32_t)c);
    waitpid(c, NULL, 0);
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    printf("new mask: %d\n", signalfd(fd, &set, 0) == fd);
    sigprocmask(SIG_BLOCK, &set, NULL);
    kill(getpid(), SIGUSR1);
    kill(getpid(), SIGUSR2);
    struct signalfd_siginfo two[2];
    n = read(fd, two, sizeof two);
    printf("read with the new mask: %ld signo %s\n", n, signame(two[0].ssi_signo));
    sigset_t pending;
    sigpending(&pending);
    printf("SIGUSR1 still pending: %d\n", sigismember(&pending, SIGUSR1));
    printf("signalfd on a pipe: %s\n", signalfd(1, &set, 0) < 0 ? errname(errno) : "ok");
    printf("bad flags: %s\n", signalfd(-1, &set, 0x1) < 0 ? errname(errno) : "ok");
}

int main(int argc, char **argv)
{
    static const struct mode modes[] = {
        { "signalfd", signalfd_mode },
        { "altstack", altstack },
        { "cpu_timers", cpu_timers },
        { "overflow", overflow },
        { "nested", nested },
        { "segv", segv },
        { "restart", restart },
        { "syscall_ticks", syscall_ticks },
        { "mask", mask },
        { NULL, NULL },
    };
    return run_mode(modes, argc, argv);
}
