/* Process-level syscalls: uname, TLS (arch_prctl), set_tid_address,
 * prlimit64, getrandom, clocks, ids, sched_getaffinity and futex.
 * Values that legitimately differ between runs or between the host and the
 * sandbox (pids, times, limits, cpu counts, uname release) are printed only
 * as relations. */
#include "common.h"
#include <sched.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>

/* ABI constants, spelled out because musl ships no <asm/> or <linux/> headers. */
#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define ARCH_GET_GS 0x1004
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_WAIT_BITSET 9
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_WAIT_PRIVATE (FUTEX_WAIT | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_PRIVATE (FUTEX_WAKE | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAIT_BITSET_PRIVATE (FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG)
#define FUTEX_BITSET_MATCH_ANY 0xffffffff

static __thread int tls_counter = 41;
static __thread char tls_name[16] = "tls-initial";

static void test_uname(void)
{
    struct utsname u;
    if (syscall(SYS_uname, &u) != 0) {
        printf("uname: %s\n", errname(errno));
        return;
    }
    printf("uname sysname: %s\n", u.sysname);
    printf("uname machine: %s\n", u.machine);
    yesno("uname release non-empty", u.release[0] != 0);
    yesno("uname release starts with a digit", u.release[0] >= '0' && u.release[0] <= '9');
}

static void test_tls(void)
{
    tls_counter++;
    printf("tls counter: %d\n", tls_counter);
    printf("tls name: %s\n", tls_name);
    unsigned long fs = 0;
    report("arch_prctl ARCH_GET_FS", syscall(SYS_arch_prctl, ARCH_GET_FS, &fs));
    /* On x86-64 the TCB is self-pointing: *(fs:0) == fs base. */
    yesno("fs base points at TCB", fs != 0 && *(unsigned long *)fs == fs);
    yesno("tls variable lives below fs base",
          (unsigned long)&tls_counter < fs && fs - (unsigned long)&tls_counter < 65536);
    /* Setting fs to its current value is harmless and must round-trip. */
    report("arch_prctl ARCH_SET_FS same", syscall(SYS_arch_prctl, ARCH_SET_FS, fs));
    unsigned long fs2 = 0;
    syscall(SYS_arch_prctl, ARCH_GET_FS, &fs2);
    yesno("fs round-trips", fs2 == fs);
    unsigned long gs = 1;
    report("arch_prctl ARCH_GET_GS", syscall(SYS_arch_prctl, ARCH_GET_GS, &gs));
    printf("initial gs base is zero: %s\n", gs == 0 ? "yes" : "no");
    report("arch_prctl ARCH_SET_GS", syscall(SYS_arch_prctl, ARCH_SET_GS, 0x12345000UL));
    syscall(SYS_arch_prctl, ARCH_GET_GS, &gs);
    yesno("gs round-trips", gs == 0x12345000UL);
    syscall(SYS_arch_prctl, ARCH_SET_GS, 0UL);
}

static void test_ids(void)
{
    long pid = syscall(SYS_getpid), tid = syscall(SYS_gettid), ppid = syscall(SYS_getppid);
    yesno("getpid > 0", pid > 0);
    yesno("gettid == getpid", tid == pid);
    yesno("getpid == libc getpid", pid == getpid());
    yesno("getppid >= 0", ppid >= 0);
    yesno("getppid != getpid", ppid != pid);
    long t = syscall(SYS_set_tid_address, &tls_counter);
    yesno("set_tid_address returns tid", t == tid);
    long uid = syscall(SYS_getuid), euid = syscall(SYS_geteuid);
    long gid = syscall(SYS_getgid), egid = syscall(SYS_getegid);
    yesno("getuid >= 0", uid >= 0);
    yesno("getuid == geteuid", uid == euid);
    yesno("getgid == getegid", gid == egid);
    yesno("libc ids agree", uid == (long)getuid() && gid == (long)getgid());
}

static void test_limits(void)
{
    struct rlimit r, r2;
    report("prlimit64 get NOFILE", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &r));
    yesno("NOFILE soft <= hard", r.rlim_cur <= r.rlim_max);
    yesno("NOFILE soft >= 64", r.rlim_cur >= 64);
    report("prlimit64 get STACK", syscall(SYS_prlimit64, 0, RLIMIT_STACK, NULL, &r2));
    yesno("STACK soft <= hard", r2.rlim_cur <= r2.rlim_max);
    struct rlimit lower = { 64, r.rlim_max };
    struct rlimit old;
    report("prlimit64 set NOFILE=64", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &lower, &old));
    yesno("prlimit64 returns old", old.rlim_cur == r.rlim_cur && old.rlim_max == r.rlim_max);
    syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &r2);
    printf("NOFILE soft now: %llu\n", (unsigned long long)r2.rlim_cur);
    report("dup2 to 100 beyond soft limit", syscall(SYS_dup2, 1, 100));
    report("prlimit64 restore", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &r, NULL));
    struct rlimit g;
    report("getrlimit", getrlimit(RLIMIT_NOFILE, &g));
    yesno("getrlimit matches prlimit64", g.rlim_cur == r.rlim_cur);
}

static void test_random(void)
{
    unsigned char a[32], b[32];
    report_val("getrandom 32", syscall(SYS_getrandom, a, sizeof a, 0));
    report_val("getrandom nonblock", syscall(SYS_getrandom, b, sizeof b, 0x1 /* GRND_NONBLOCK */));
    yesno("two draws differ", memcmp(a, b, sizeof a) != 0);
    report_val("getrandom 0 bytes", syscall(SYS_getrandom, a, 0, 0));
    static unsigned char big[1 << 20];
    report_val("getrandom 1 MiB", syscall(SYS_getrandom, big, sizeof big, 0) > 0 ? 1 : -1);
}

static long long ns(struct timespec t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }

static void test_time(void)
{
    struct timespec m1, m2, r, c;
    report("clock_gettime MONOTONIC", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &m1));
    report("clock_gettime REALTIME", syscall(SYS_clock_gettime, CLOCK_REALTIME, &r));
    report("clock_gettime BOOTTIME", syscall(SYS_clock_gettime, CLOCK_BOOTTIME, &c));
    report("clock_gettime PROCESS_CPUTIME", syscall(SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, &c));
    report("clock_gettime THREAD_CPUTIME", syscall(SYS_clock_gettime, CLOCK_THREAD_CPUTIME_ID, &c));
    report("clock_gettime MONOTONIC_COARSE", syscall(SYS_clock_gettime, CLOCK_MONOTONIC_COARSE, &c));
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &m2);
    yesno("monotonic does not go back", ns(m2) >= ns(m1));
    yesno("tv_nsec in range", r.tv_nsec >= 0 && r.tv_nsec < 1000000000);
    yesno("realtime after 2020", r.tv_sec > 1577836800);
    struct timespec lr;
    clock_gettime(CLOCK_REALTIME, &lr); /* libc path (may be the vDSO) */
    yesno("libc realtime agrees within 10s", llabs(lr.tv_sec - r.tv_sec) < 10);
    struct timeval tv;
    report("gettimeofday", syscall(SYS_gettimeofday, &tv, NULL));
    yesno("gettimeofday usec in range", tv.tv_usec >= 0 && tv.tv_usec < 1000000);
    yesno("gettimeofday agrees with realtime", llabs(tv.tv_sec - r.tv_sec) < 10);
    report("gettimeofday NULL NULL", syscall(SYS_gettimeofday, NULL, NULL));
    struct timespec res;
    report("clock_getres MONOTONIC", syscall(SYS_clock_getres, CLOCK_MONOTONIC, &res));
    yesno("resolution <= 1ms", res.tv_sec == 0 && res.tv_nsec > 0 && res.tv_nsec <= 1000000);
}

static void test_affinity(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    long r = syscall(SYS_sched_getaffinity, 0, sizeof set, &set);
    yesno("sched_getaffinity returns bytes > 0", r > 0 && r <= (long)sizeof set);
    yesno("cpu count > 0", CPU_COUNT(&set) > 0);
    yesno("libc sched_getaffinity ok", sched_getaffinity(0, sizeof set, &set) == 0);
}

/* getcpu, as a system call and through the legacy vsyscall page (the JVM falls back to
 * the page when the call fails): a CPU the task may run on, node 0. */
static void test_getcpu(void)
{
    unsigned cpu = ~0u, node = ~0u;
    report("getcpu", syscall(SYS_getcpu, &cpu, &node, NULL));
    yesno("getcpu cpu < online cpus", cpu < (unsigned)sysconf(_SC_NPROCESSORS_ONLN));
    yesno("getcpu node 0", node == 0);
    report("getcpu NULL NULL", syscall(SYS_getcpu, NULL, NULL, NULL));
    report("getcpu bad pointer", syscall(SYS_getcpu, KERNEL_ADDR, NULL, NULL));
    typedef long (*vgetcpu_t)(unsigned *, unsigned *, void *);
    typedef long (*vtime_t)(long *);
    cpu = ~0u;
    long r = ((vgetcpu_t)0xffffffffff600800)(&cpu, NULL, NULL);
    yesno("vsyscall getcpu", r == 0 && cpu < (unsigned)sysconf(_SC_NPROCESSORS_ONLN));
    long t = 0, now = ((vtime_t)0xffffffffff600400)(&t);
    yesno("vsyscall time", now == t && now - time(NULL) <= 1 && time(NULL) - now <= 1);
}

static long futex(int *uaddr, int op, int val, const struct timespec *ts)
{
    return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

static void test_futex(void)
{
    static int word = 5;
    report("FUTEX_WAIT value mismatch", futex(&word, FUTEX_WAIT, 6, NULL));
    report("FUTEX_WAIT_PRIVATE value mismatch", futex(&word, FUTEX_WAIT_PRIVATE, 6, NULL));
    report_val("FUTEX_WAKE no waiters", futex(&word, FUTEX_WAKE, 1, NULL));
    report_val("FUTEX_WAKE_PRIVATE no waiters", futex(&word, FUTEX_WAKE_PRIVATE, 10, NULL));
    /* Linux never ends a timed wait early. Several rounds, since the first one in a fresh
     * process is slowed by warm-up and could hide a wait that returns too soon. */
    int timedout = 1, long_enough = 1;
    for (int i = 0; i < 5; i++) {
        struct timespec ts = { 0, 10 * 1000 * 1000 }, t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        long r = futex(&word, FUTEX_WAIT, 5, &ts);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        timedout &= r == -1 && errno == ETIMEDOUT;
        long_enough &= ns(t1) - ns(t0) >= 10 * 1000 * 1000;
    }
    yesno("FUTEX_WAIT 10ms timeout gives ETIMEDOUT (5 rounds)", timedout);
    yesno("every wait lasted at least its timeout", long_enough);
    report("FUTEX_WAIT_PRIVATE 1ms timeout", futex(&word, FUTEX_WAIT_PRIVATE, 5,
                                                    &(struct timespec){ 0, 1000 * 1000 }));
    /* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline. */
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_nsec += 5 * 1000 * 1000;
    if (dl.tv_nsec >= 1000000000) { dl.tv_sec++; dl.tv_nsec -= 1000000000; }
    report("FUTEX_WAIT_BITSET absolute deadline",
           syscall(SYS_futex, &word, FUTEX_WAIT_BITSET_PRIVATE, 5, &dl, NULL, FUTEX_BITSET_MATCH_ANY));
    report("FUTEX_WAIT_BITSET zero bitset",
           syscall(SYS_futex, &word, FUTEX_WAIT_BITSET_PRIVATE, 5, &dl, NULL, 0));
}

int main(void)
{
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    test_uname();
    test_tls();
    test_ids();
    test_limits();
    test_random();
    test_time();
    test_affinity();
    test_getcpu();
    test_futex();
    printf("done\n");
    return 0;
}
