/* The Linux surface beyond the foundation calls, one MODE per family, each
 * printing only deterministic facts (errno names, flags, sizes, relations):
 *
 *   surface memfd       memfd_create, its /proc/self/fd name, seals
 *   surface membarrier  membarrier commands
 *   surface sched       scheduling policies, nice values, I/O priorities, affinity
 *   surface mlock       mincore, mlock family, pkeys, NUMA policies
 *   surface vm          process_vm_readv/process_vm_writev
 *   surface rseq        rseq registration
 *
 * Calls go through syscall(2) with constants spelled out, since musl ships
 * neither wrappers for all of them nor <linux/> headers. */
#include "proctest.h"
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/stat.h>

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001U
#endif
#ifndef MFD_ALLOW_SEALING
#define MFD_ALLOW_SEALING 0x0002U
#endif
#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#endif
#ifndef F_GET_SEALS
#define F_GET_SEALS 1034
#endif
#ifndef F_SEAL_SEAL
#define F_SEAL_SEAL 0x0001
#endif
#ifndef F_SEAL_SHRINK
#define F_SEAL_SHRINK 0x0002
#endif
#ifndef F_SEAL_GROW
#define F_SEAL_GROW 0x0004
#endif
#ifndef F_SEAL_WRITE
#define F_SEAL_WRITE 0x0008
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

static long memfd(const char *name, unsigned flags) { return syscall(319, name, flags); }

static void show_link(const char *label, int fd)
{
    char path[64], target[512];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n < 0) {
        printf("%s: %s\n", label, errname(errno));
        return;
    }
    target[n] = 0;
    printf("%s: %s\n", label, target);
}

static void show_seals(const char *label, int fd)
{
    long r = fcntl(fd, F_GET_SEALS);
    if (r < 0)
        printf("%s: %s\n", label, errname(errno));
    else
        printf("%s: %#lx\n", label, r);
}

static void memfd_mode(void)
{
    /* Creation: flags, names, bad arguments. */
    int fd = memfd("surface", 0);
    must(fd >= 0, "memfd_create");
    show_link("link", fd);
    printf("cloexec without MFD_CLOEXEC: %s\n", fcntl(fd, F_GETFD) & FD_CLOEXEC ? "yes" : "no");
    printf("access mode: %s\n", (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR ? "O_RDWR" : "other");
    struct stat st;
    must(fstat(fd, &st) == 0, "fstat");
    printf("mode: %o size: %ld nlink: %ld uid matches: %s\n", st.st_mode, (long)st.st_size, (long)st.st_nlink,
           st.st_uid == geteuid() ? "yes" : "no");
    show_seals("seals without MFD_ALLOW_SEALING", fd);
    report("add seal without MFD_ALLOW_SEALING", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
    close(fd);

    fd = memfd("", MFD_CLOEXEC);
    show_link("empty name link", fd);
    printf("cloexec with MFD_CLOEXEC: %s\n", fcntl(fd, F_GETFD) & FD_CLOEXEC ? "yes" : "no");
    close(fd);

    char name[300];
    memset(name, 'n', sizeof name);
    name[249] = 0;
    fd = memfd(name, 0);
    report("249-byte name", fd);
    close(fd);
    name[249] = 'n';
    name[250] = 0;
    report("250-byte name", memfd(name, 0));
    report("bad flags", memfd("x", 0x100));
    report("MFD_EXEC|MFD_NOEXEC_SEAL", memfd("x", MFD_EXEC | MFD_NOEXEC_SEAL));
    report("bad name pointer", memfd((const char *)KERNEL_ADDR, 0));
    report("null name", memfd(NULL, 0));

    fd = memfd("noexec", MFD_NOEXEC_SEAL);
    must(fd >= 0, "memfd noexec");
    fstat(fd, &st);
    printf("MFD_NOEXEC_SEAL mode: %o\n", st.st_mode & 07777);
    show_seals("MFD_NOEXEC_SEAL seals", fd);
    report("chmod +x under F_SEAL_EXEC", fchmod(fd, 0755));
    close(fd);

    /* Reads, writes and a second open through the magic link share the data. */
    fd = memfd("data", MFD_ALLOW_SEALING);
    must(fd >= 0, "memfd sealing");
    report_val("write", write(fd, "hello memfd", 11));
    char path[64], buf[32] = { 0 };
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int again = open(path, O_RDONLY);
    report("reopen through /proc/self/fd", again);
    report_val("read through reopen", read(again, buf, sizeof buf - 1));
    printf("data: %s\n", buf);
    show_seals("reopen seals", again);
    report("add seal on read-only open", fcntl(again, F_ADD_SEALS, F_SEAL_GROW));
    close(again);

    /* Seals one by one, with what each forbids. */
    show_seals("initial seals", fd);
    report("add unknown seal", fcntl(fd, F_ADD_SEALS, 0x100));
    report("add F_SEAL_SHRINK", fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
    report("shrink", ftruncate(fd, 4));
    report("grow", ftruncate(fd, 8192));
    report("add F_SEAL_GROW", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
    report("grow under F_SEAL_GROW", ftruncate(fd, 16384));
    report("same size under both", ftruncate(fd, 8192));
    report_val("write inside the size", pwrite(fd, "x", 1, 100));
    report("write past the end", pwrite(fd, "x", 1, 8192));
    report("fallocate past the end", fallocate(fd, 0, 8000, 4096));
    report("fallocate keep size past the end", fallocate(fd, FALLOC_FL_KEEP_SIZE, 8000, 4096));

    /* F_SEAL_WRITE needs no writable shared mapping. */
    char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    must(m != MAP_FAILED, "mmap shared");
    report("add F_SEAL_WRITE with a writable shared mapping", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
    munmap(m, 8192);
    m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    must(m != MAP_FAILED, "mmap private");
    report("add F_SEAL_WRITE with a private mapping", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
    show_seals("seals now", fd);
    m[0] = 'p';
    printf("private mapping still writable: %c\n", m[0]);
    munmap(m, 8192);
    report("write under F_SEAL_WRITE", write(fd, "x", 1));
    report("pwrite under F_SEAL_WRITE", pwrite(fd, "x", 1, 0));
    report("punch hole under F_SEAL_WRITE", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096));
    m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    printf("shared writable map under F_SEAL_WRITE: %s\n", m == MAP_FAILED ? errname(errno) : "mapped");
    m = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
    printf("shared read-only map under F_SEAL_WRITE: %s\n", m == MAP_FAILED ? errname(errno) : "mapped");
    if (m != MAP_FAILED) {
        report("mprotect it writable", mprotect(m, 8192, PROT_READ | PROT_WRITE));
        printf("reads: %.5s\n", m);
        munmap(m, 8192);
    }
    report_val("read under F_SEAL_WRITE", pread(fd, buf, 5, 0));
    report("add F_SEAL_SEAL", fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
    report("add after F_SEAL_SEAL", fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
    show_seals("final seals", fd);
    close(fd);

    /* F_SEAL_FUTURE_WRITE: existing writable mappings keep working, new ones are refused. */
    fd = memfd("future", MFD_ALLOW_SEALING);
    must(ftruncate(fd, 4096) == 0, "ftruncate");
    m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    must(m != MAP_FAILED, "mmap shared");
    report("add F_SEAL_FUTURE_WRITE with a writable shared mapping", fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
    strcpy(m, "old map");
    printf("old mapping writes: %s\n", m);
    report("write under F_SEAL_FUTURE_WRITE", write(fd, "x", 1));
    char *m2 = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    printf("new shared writable map: %s\n", m2 == MAP_FAILED ? errname(errno) : "mapped");
    m2 = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    printf("new private writable map: %s\n", m2 == MAP_FAILED ? errname(errno) : "mapped");
    if (m2 != MAP_FAILED)
        printf("private copy reads: %s\n", m2);
    report("add F_SEAL_WRITE over it", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
    munmap(m, 4096);
    report("add F_SEAL_WRITE after unmap", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
    show_seals("future seals", fd);
    close(fd);

    /* Seals on other files: a tmpfs file has F_SEAL_SEAL, other files none at all. */
    int shm = open("/dev/shm/surface-seal", O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (shm >= 0) {
        show_seals("tmpfs file seals", shm);
        report("tmpfs file add seal", fcntl(shm, F_ADD_SEALS, F_SEAL_GROW));
        close(shm);
        unlink("/dev/shm/surface-seal");
    }
    int pfd[2];
    must(pipe(pfd) == 0, "pipe");
    show_seals("pipe seals", pfd[0]);
    report("pipe add seal", fcntl(pfd[1], F_ADD_SEALS, F_SEAL_GROW));
    report("bad fd seals", fcntl(-1, F_GET_SEALS));
}

/* membarrier(2) commands (include/uapi/linux/membarrier.h). */
enum {
    MB_QUERY = 0, MB_GLOBAL = 1, MB_GLOBAL_EXPEDITED = 2, MB_REGISTER_GLOBAL_EXPEDITED = 4,
    MB_PRIVATE_EXPEDITED = 8, MB_REGISTER_PRIVATE_EXPEDITED = 16, MB_PRIVATE_EXPEDITED_SYNC_CORE = 32,
    MB_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE = 64, MB_PRIVATE_EXPEDITED_RSEQ = 128,
    MB_REGISTER_PRIVATE_EXPEDITED_RSEQ = 256, MB_GET_REGISTRATIONS = 512,
};

static void wait_child(pid_t pid)
{
    int status;
    must(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0, "child exit");
}

static long membarrier(int cmd, unsigned flags, int cpu) { return syscall(324, cmd, flags, cpu); }

static volatile int spin_stop;
static void *spinner(void *arg)
{
    (void)arg;
    while (!spin_stop)
        ;
    return NULL;
}

static void membarrier_mode(void)
{
    report_val("query", membarrier(MB_QUERY, 0, 0));
    report("query with flags", membarrier(MB_QUERY, 1, 0));
    report("unknown command", membarrier(3, 0, 0));
    report("negative command", membarrier(-1, 0, 0));
    report_val("registrations at start", membarrier(MB_GET_REGISTRATIONS, 0, 0));
    report("private expedited unregistered", membarrier(MB_PRIVATE_EXPEDITED, 0, 0));
    report("sync core unregistered", membarrier(MB_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0));
    report("global", membarrier(MB_GLOBAL, 0, 0));
    report("global with flags", membarrier(MB_GLOBAL, 2, 0));
    report("global expedited unregistered", membarrier(MB_GLOBAL_EXPEDITED, 0, 0));
    report("register global expedited", membarrier(MB_REGISTER_GLOBAL_EXPEDITED, 0, 0));
    report("register private expedited", membarrier(MB_REGISTER_PRIVATE_EXPEDITED, 0, 0));
    report("register private expedited again", membarrier(MB_REGISTER_PRIVATE_EXPEDITED, 0, 0));
    report("register sync core", membarrier(MB_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0));
    report_val("registrations", membarrier(MB_GET_REGISTRATIONS, 0, 0));
    report("get registrations with flags", membarrier(MB_GET_REGISTRATIONS, 1, 0));

    /* With another thread running user code on another CPU. */
    pthread_t th;
    must(pthread_create(&th, NULL, spinner, NULL) == 0, "pthread_create");
    int ok = 1;
    for (int i = 0; i < 20; i++)
        ok &= membarrier(MB_PRIVATE_EXPEDITED, 0, 0) == 0 && membarrier(MB_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0) == 0;
    yesno("expedited barriers with a running thread", ok);
    report("global expedited", membarrier(MB_GLOBAL_EXPEDITED, 0, 0));
    spin_stop = 1;
    pthread_join(th, NULL);
    report("private expedited with flags", membarrier(MB_PRIVATE_EXPEDITED, 1, 0));

    pid_t pid = fork();
    if (pid == 0) {
        report_val("child registrations", membarrier(MB_GET_REGISTRATIONS, 0, 0));
        report("child private expedited", membarrier(MB_PRIVATE_EXPEDITED, 0, 0));
        _exit(0);
    }
    wait_child(pid);
}

/* Scheduling (include/uapi/linux/sched.h, sched/types.h, ioprio.h). */
enum { SCHED_OTHER_ = 0, SCHED_FIFO_ = 1, SCHED_RR_ = 2, SCHED_BATCH_ = 3, SCHED_IDLE_ = 5, SCHED_DEADLINE_ = 6 };
#define SCHED_RESET_ON_FORK_ 0x40000000
struct sched_attr_ {
    uint32_t size, sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime, sched_deadline, sched_period;
    uint32_t sched_util_min, sched_util_max;
};

static void show_policy(const char *label)
{
    long pol = syscall(SYS_sched_getscheduler, 0);
    int prio = -1;
    long r = syscall(SYS_sched_getparam, 0, &prio);
    printf("%s: policy %#lx priority %d%s\n", label, pol, prio, r < 0 ? " (getparam failed)" : "");
}

static void show_attr(const char *label, unsigned size)
{
    struct sched_attr_ a;
    memset(&a, 0xff, sizeof a);
    long r = syscall(SYS_sched_getattr, 0, &a, size, 0);
    if (r < 0)
        printf("%s: %s\n", label, errname(errno));
    else
        printf("%s: size %u policy %u flags %#llx nice %d priority %u runtime %llu\n", label, a.size, a.sched_policy,
               (unsigned long long)a.sched_flags, a.sched_nice, a.sched_priority, (unsigned long long)a.sched_runtime);
}

static int cpu_count(const cpu_set_t *s)
{
    return CPU_COUNT(s);
}

static void sched_mode(void)
{
    /* A process group of its own, so PRIO_PGRP and IOPRIO_WHO_PGRP reach only this process. */
    if (getpgrp() != getpid())
        must(setpgid(0, 0) == 0, "setpgid");
    show_policy("initial");
    for (int pol = -1; pol <= 7; pol++) {
        char label[48];
        snprintf(label, sizeof label, "priority range of %d", pol);
        long lo = syscall(SYS_sched_get_priority_min, pol), hi = syscall(SYS_sched_get_priority_max, pol);
        if (lo < 0 || hi < 0)
            printf("%s: %s\n", label, errname(errno));
        else
            printf("%s: %ld..%ld\n", label, lo, hi);
    }
    int prio = 10;
    report("setscheduler FIFO 10", syscall(SYS_sched_setscheduler, 0, SCHED_FIFO_, &prio));
    show_policy("after FIFO");
    struct timespec ts = { -1, -1 };
    report("rr_get_interval FIFO", syscall(SYS_sched_rr_get_interval, 0, &ts));
    printf("FIFO interval: %ld.%09ld\n", (long)ts.tv_sec, ts.tv_nsec);
    prio = 20;
    report("setparam 20", syscall(SYS_sched_setparam, 0, &prio));
    show_policy("after setparam");
    prio = 5;
    report("setscheduler RR 5", syscall(SYS_sched_setscheduler, 0, SCHED_RR_, &prio));
    report("rr_get_interval RR", syscall(SYS_sched_rr_get_interval, 0, &ts));
    printf("RR interval: %ld.%09ld\n", (long)ts.tv_sec, ts.tv_nsec);
    show_attr("attr under RR", 56);
    prio = 0;
    report("setscheduler BATCH|RESET_ON_FORK", syscall(SYS_sched_setscheduler, 0, SCHED_BATCH_ | SCHED_RESET_ON_FORK_, &prio));
    show_policy("after BATCH");
    show_attr("attr under BATCH", 56);
    report("setscheduler IDLE", syscall(SYS_sched_setscheduler, 0, SCHED_IDLE_, &prio));
    show_policy("after IDLE");
    report("setscheduler OTHER", syscall(SYS_sched_setscheduler, 0, SCHED_OTHER_, &prio));
    show_policy("after OTHER");
    report("rr_get_interval OTHER", syscall(SYS_sched_rr_get_interval, 0, &ts));
    printf("OTHER interval under a second: %s\n", ts.tv_sec == 0 ? "yes" : "no");
    prio = 5;
    report("OTHER with priority 5", syscall(SYS_sched_setscheduler, 0, SCHED_OTHER_, &prio));
    prio = 0;
    report("FIFO with priority 0", syscall(SYS_sched_setscheduler, 0, SCHED_FIFO_, &prio));
    prio = 100;
    report("FIFO with priority 100", syscall(SYS_sched_setscheduler, 0, SCHED_FIFO_, &prio));
    prio = 0;
    report("unknown policy", syscall(SYS_sched_setscheduler, 0, 9, &prio));
    report("negative pid", syscall(SYS_sched_setscheduler, -1, SCHED_OTHER_, &prio));
    report("unknown pid", syscall(SYS_sched_setscheduler, 999999, SCHED_OTHER_, &prio));
    report("null param", syscall(SYS_sched_setscheduler, 0, SCHED_OTHER_, NULL));
    report("bad param", syscall(SYS_sched_setscheduler, 0, SCHED_OTHER_, KERNEL_ADDR));
    report("getparam bad pointer", syscall(SYS_sched_getparam, 0, KERNEL_ADDR));
    report("getparam unknown pid", syscall(SYS_sched_getparam, 999999, &prio));
    report("getscheduler negative pid", syscall(SYS_sched_getscheduler, -1));
    report("rr_get_interval bad pointer", syscall(SYS_sched_rr_get_interval, 0, KERNEL_ADDR));

    /* sched_setattr / sched_getattr. */
    show_attr("attr", 56);
    show_attr("attr VER0 size", 48);
    show_attr("attr big size", 64);
    show_attr("attr small size", 40);
    struct sched_attr_ a = { 0 };
    a.size = 48;
    a.sched_policy = SCHED_OTHER_;
    a.sched_nice = 7;
    report("setattr nice 7", syscall(SYS_sched_setattr, 0, &a, 0));
    show_attr("attr after nice", 56);
    report_val("getpriority after setattr", syscall(SYS_getpriority, 0, 0));
    a.size = 8;
    report("setattr tiny size", syscall(SYS_sched_setattr, 0, &a, 0));
    a.size = 48;
    report("setattr flags", syscall(SYS_sched_setattr, 0, &a, 1));
    a.sched_flags = 0x1000;
    report("setattr unknown sched_flags", syscall(SYS_sched_setattr, 0, &a, 0));
    a.sched_flags = 0;
    a.sched_policy = 9;
    report("setattr unknown policy", syscall(SYS_sched_setattr, 0, &a, 0));
    a.sched_policy = SCHED_FIFO_;
    a.sched_priority = 3;
    report("setattr FIFO 3", syscall(SYS_sched_setattr, 0, &a, 0));
    show_policy("after setattr FIFO");
    a.sched_policy = SCHED_OTHER_;
    a.sched_priority = 0;
    a.sched_nice = 0;
    report("setattr OTHER", syscall(SYS_sched_setattr, 0, &a, 0));
    report("getattr flags", syscall(SYS_sched_getattr, 0, &a, 56, 1));
    report("getattr bad pointer", syscall(SYS_sched_getattr, 0, KERNEL_ADDR, 56, 0));

    /* Nice values. */
    errno = 0;
    report_val("getpriority raw", syscall(SYS_getpriority, 0, 0));
    report("setpriority 5", syscall(SYS_setpriority, 0, 0, 5));
    report_val("getpriority after 5", syscall(SYS_getpriority, 0, 0));
    report("setpriority 50 (clamped)", syscall(SYS_setpriority, 0, 0, 50));
    report_val("getpriority after 50", syscall(SYS_getpriority, 0, 0));
    report("setpriority -3", syscall(SYS_setpriority, 0, 0, -3));
    report_val("getpriority pgrp", syscall(SYS_getpriority, 1, 0));
    /* PRIO_USER reaches every process of the uid on the host: only a uid nobody has. */
    report("getpriority user without processes", syscall(SYS_getpriority, 2, 54321));
    report("setpriority user without processes", syscall(SYS_setpriority, 2, 54321, 0));
    report("setpriority pgrp 2", syscall(SYS_setpriority, 1, 0, 2));
    report_val("getpriority after pgrp", syscall(SYS_getpriority, 0, 0));
    report("getpriority bad which", syscall(SYS_getpriority, 3, 0));
    report("getpriority unknown pid", syscall(SYS_getpriority, 0, 999999));
    report("setpriority unknown pgrp", syscall(SYS_setpriority, 1, 999999, 0));
    pid_t pid = fork();
    if (pid == 0) {
        report_val("child inherits nice", syscall(SYS_getpriority, 0, 0));
        _exit(0);
    }
    wait_child(pid);
    syscall(SYS_setpriority, 0, 0, 0);

    /* I/O priorities: IOPRIO_WHO_PROCESS = 1, class << 13 | data. */
    report_val("ioprio_get", syscall(SYS_ioprio_get, 1, 0));
    report("ioprio_set BE 3", syscall(SYS_ioprio_set, 1, 0, (2 << 13) | 3));
    report_val("ioprio_get after BE 3", syscall(SYS_ioprio_get, 1, 0));
    report("ioprio_set RT 1", syscall(SYS_ioprio_set, 1, 0, (1 << 13) | 1));
    report_val("ioprio_get after RT", syscall(SYS_ioprio_get, 1, 0));
    report("ioprio_set IDLE", syscall(SYS_ioprio_set, 1, 0, 3 << 13));
    report_val("ioprio_get after IDLE", syscall(SYS_ioprio_get, 1, 0));
    report("ioprio_set BE 8", syscall(SYS_ioprio_set, 1, 0, (2 << 13) | 8));
    report("ioprio_set class 5", syscall(SYS_ioprio_set, 1, 0, 5 << 13));
    report("ioprio_set bad who", syscall(SYS_ioprio_set, 9, 0, 2 << 13));
    report("ioprio_get bad who", syscall(SYS_ioprio_get, 9, 0));
    report("ioprio_get unknown pid", syscall(SYS_ioprio_get, 1, 999999));
    report_val("ioprio_get pgrp", syscall(SYS_ioprio_get, 2, 0));
    report("ioprio_set NONE", syscall(SYS_ioprio_set, 1, 0, 0));
    report_val("ioprio_get after NONE", syscall(SYS_ioprio_get, 1, 0));

    /* Affinity. */
    cpu_set_t all, one, got;
    must(sched_getaffinity(0, sizeof all, &all) == 0, "sched_getaffinity");
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    report("setaffinity cpu 0", syscall(SYS_sched_setaffinity, 0, sizeof one, &one));
    /* The kernel writes only its own mask size: the rest must be cleared first. */
    CPU_ZERO(&got);
    long n = syscall(SYS_sched_getaffinity, 0, sizeof got, &got);
    printf("getaffinity after: %d cpus, cpu 0 %s\n", n > 0 ? cpu_count(&got) : -1, CPU_ISSET(0, &got) ? "set" : "clear");
    unsigned cpu = 99;
    syscall(SYS_getcpu, &cpu, NULL, NULL);
    printf("getcpu in the mask: %s\n", cpu == 0 ? "yes" : "no");
    cpu_set_t none;
    CPU_ZERO(&none);
    report("setaffinity empty", syscall(SYS_sched_setaffinity, 0, sizeof none, &none));
    CPU_ZERO(&none);
    CPU_SET(1000, &none);
    report("setaffinity offline cpu only", syscall(SYS_sched_setaffinity, 0, sizeof none, &none));
    report("setaffinity bad pointer", syscall(SYS_sched_setaffinity, 0, sizeof none, KERNEL_ADDR));
    report("setaffinity unknown pid", syscall(SYS_sched_setaffinity, 999999, sizeof one, &one));
    pid = fork();
    if (pid == 0) {
        CPU_ZERO(&got);
        n = syscall(SYS_sched_getaffinity, 0, sizeof got, &got);
        printf("child inherits affinity: %d cpus\n", n > 0 ? cpu_count(&got) : -1);
        _exit(0);
    }
    wait_child(pid);
    report("setaffinity all", syscall(SYS_sched_setaffinity, 0, sizeof all, &all));
    CPU_ZERO(&got);
    n = syscall(SYS_sched_getaffinity, 0, sizeof got, &got);
    yesno("getaffinity restored", n > 0 && CPU_EQUAL(&got, &all));
}

/* mincore, the mlock family, protection keys and NUMA policies. */
static void mlock_mode(void)
{
    long page = 4096;
    unsigned char *m = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    must(m != MAP_FAILED, "mmap");
    m[0] = 1;
    m[2 * page] = 1;
    unsigned char vec[4] = { 9, 9, 9, 9 };
    report("mincore", syscall(SYS_mincore, m, 4 * page, vec));
    /* Untouched neighbours may be resident or not (fault-around is the kernel's choice): only touched pages are certain. */
    yesno("touched pages resident", (vec[0] & 1) && (vec[2] & 1));
    yesno("only the low bit used", ((vec[0] | vec[1] | vec[2] | vec[3]) & ~1) == 0);
    report("mincore unaligned", syscall(SYS_mincore, m + 1, page, vec));
    report("mincore unmapped", syscall(SYS_mincore, unmapped_page(), page, vec));
    report("mincore bad vector", syscall(SYS_mincore, m, page, KERNEL_ADDR));
    report("mincore zero length", syscall(SYS_mincore, m, 0, vec));
    report("mincore kernel range", syscall(SYS_mincore, KERNEL_ADDR, page, vec));

    report("mlock", syscall(SYS_mlock, m, 2 * page));
    report("mlock unaligned", syscall(SYS_mlock, m + 10, page));
    report("mlock unmapped", syscall(SYS_mlock, unmapped_page(), page));
    report("munlock", syscall(SYS_munlock, m, 4 * page));
    report("mlock2 MLOCK_ONFAULT", syscall(SYS_mlock2, m, page, 1));
    report("mlock2 bad flags", syscall(SYS_mlock2, m, page, 2));
    report("mlockall current", syscall(SYS_mlockall, 1));
    report("mlockall 0", syscall(SYS_mlockall, 0));
    report("mlockall onfault alone", syscall(SYS_mlockall, 4));
    report("mlockall bad flags", syscall(SYS_mlockall, 8));
    report("munlockall", syscall(SYS_munlockall));

    /* An unprivileged process is held to RLIMIT_MEMLOCK. */
    pid_t pid = fork();
    if (pid == 0) {
        struct { unsigned long cur, max; } lim = { 2 * 4096, 2 * 4096 };
        syscall(SYS_setrlimit, 8 /* RLIMIT_MEMLOCK */, &lim);
        must(setuid(65534) == 0, "setuid");
        report("unprivileged mlock within the limit", syscall(SYS_mlock, m, 2 * page));
        report("unprivileged mlock past the limit", syscall(SYS_mlock, m, 4 * page));
        report("unprivileged mlock of the same pages again", syscall(SYS_mlock, m, 2 * page));
        report("unprivileged mlockall", syscall(SYS_mlockall, 1));
        report("unprivileged munlockall", syscall(SYS_munlockall));
        _exit(0);
    }
    wait_child(pid);

    /* Protection keys: this CPU's answer (ENOSPC or ENOSYS without PKU, a key with it). */
    long key = syscall(SYS_pkey_alloc, 0, 0);
    printf("pkey_alloc: %s\n", key < 0 ? errname(errno) : "a key");
    report("pkey_alloc bad flags", syscall(SYS_pkey_alloc, 1, 0));
    report("pkey_alloc bad rights", syscall(SYS_pkey_alloc, 0, 4));
    report("pkey_free unallocated", syscall(SYS_pkey_free, 5));
    report("pkey_mprotect key -1", syscall(SYS_pkey_mprotect, m, page, PROT_READ, -1));
    report("pkey_mprotect unallocated key", syscall(SYS_pkey_mprotect, m, page, PROT_READ, 5));
    if (key >= 0)
        report("pkey_free", syscall(SYS_pkey_free, key));

    /* NUMA: one node. */
    int mode = -1;
    unsigned long mask[2] = { 0, 0 };
    report("get_mempolicy", syscall(SYS_get_mempolicy, &mode, mask, 128, NULL, 0));
    printf("mode %d mask %#lx\n", mode, mask[0]);
    report("get_mempolicy MPOL_F_MEMS_ALLOWED", syscall(SYS_get_mempolicy, &mode, mask, 128, NULL, 4));
    printf("allowed mask %#lx\n", mask[0]);
    report("get_mempolicy MPOL_F_NODE|ADDR", syscall(SYS_get_mempolicy, &mode, NULL, 0, m, 3));
    printf("node of page: %d\n", mode);
    report("get_mempolicy bad flags", syscall(SYS_get_mempolicy, &mode, NULL, 0, NULL, 64));
    report("get_mempolicy ADDR without address", syscall(SYS_get_mempolicy, &mode, NULL, 0, NULL, 2));
    unsigned long node0 = 1, node5 = 1 << 5;
    report("set_mempolicy BIND node 0", syscall(SYS_set_mempolicy, 2, &node0, 64));
    report("get_mempolicy after", syscall(SYS_get_mempolicy, &mode, mask, 128, NULL, 0));
    printf("mode %d mask %#lx\n", mode, mask[0]);
    report("set_mempolicy BIND node 5", syscall(SYS_set_mempolicy, 2, &node5, 64));
    report("set_mempolicy bad mode", syscall(SYS_set_mempolicy, 9, &node0, 64));
    report("set_mempolicy DEFAULT", syscall(SYS_set_mempolicy, 0, NULL, 0));
    report("set_mempolicy PREFERRED empty", syscall(SYS_set_mempolicy, 1, NULL, 0));
    report("mbind BIND node 0", syscall(SYS_mbind, m, 4 * page, 2, &node0, 64, 0));
    report("get_mempolicy ADDR", syscall(SYS_get_mempolicy, &mode, mask, 128, m, 2));
    printf("vma mode %d mask %#lx\n", mode, mask[0]);
    report("mbind unaligned", syscall(SYS_mbind, m + 1, page, 2, &node0, 64, 0));
    report("mbind bad flags", syscall(SYS_mbind, m, page, 2, &node0, 64, 0x100));
    report("mbind unmapped", syscall(SYS_mbind, unmapped_page(), page, 0, NULL, 0, 0));
    report("set_mempolicy DEFAULT", syscall(SYS_set_mempolicy, 0, NULL, 0));
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc == 2 && strcmp(argv[1], "memfd") == 0) memfd_mode();
    else if (argc == 2 && strcmp(argv[1], "membarrier") == 0) membarrier_mode();
    else if (argc == 2 && strcmp(argv[1], "sched") == 0) sched_mode();
    else if (argc == 2 && strcmp(argv[1], "mlock") == 0) mlock_mode();
    else {
        fprintf(stderr, "usage: surface memfd|membarrier|sched|mlock|vm|rseq\n");
        return 2;
    }
    printf("done\n");
    return 0;
}
