/* /proc as a program sees it: its own status, stat, cmdline, environ, exe,
 * maps, fd/ and fdinfo/, task/ for threads, the seq-file behaviour of the
 * generated files (read in pieces, pread, lseek, fstat), and another process
 * whose argv memory is partly unmapped (reading its cmdline must end early,
 * not fail or crash anything).
 *
 * Usage: procfs MODE DATADIR   (MODE: self, fds, threads, files, hostile)
 * Pids, addresses and inode numbers differ between runs: they are only
 * compared with what the program learns another way (getpid, &main, stat). */
#include "proctest.h"
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

extern char **environ;

/* The whole of a /proc file (or NULL): read until EOF in small pieces, as a seq file is read. */
static char *slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return NULL;
    size_t cap = 256, n = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (n + 100 > cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
        ssize_t r = read(fd, buf + n, 100);
        if (r < 0) {
            free(buf);
            close(fd);
            return NULL;
        }
        if (r == 0)
            break;
        n += r;
    }
    close(fd);
    buf[n] = 0;
    if (len)
        *len = n;
    return buf;
}

/* The value of "Key:\t..." in a status-like text, or "" (static buffer). */
static const char *field(const char *text, const char *key)
{
    static char val[256];
    val[0] = 0;
    size_t kl = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, key, kl) == 0 && p[kl] == ':') {
            const char *v = p + kl + 1;
            while (*v == '\t' || *v == ' ')
                v++;
            size_t n = strcspn(v, "\n");
            if (n >= sizeof val)
                n = sizeof val - 1;
            memcpy(val, v, n);
            val[n] = 0;
            break;
        }
    }
    return val;
}

static void test_self(void)
{
    char *status = slurp("/proc/self/status", NULL);
    if (!status) {
        printf("status: %s\n", errname(errno));
        return;
    }
    char comm[17] = {0};
    prctl(PR_GET_NAME, comm);
    yesno("status Name is the comm", strcmp(field(status, "Name"), comm) == 0);
    yesno("status Pid is getpid", atoi(field(status, "Pid")) == getpid());
    yesno("status Tgid is getpid", atoi(field(status, "Tgid")) == getpid());
    yesno("status PPid is getppid", atoi(field(status, "PPid")) == getppid());
    char ids[64];
    snprintf(ids, sizeof ids, "%u\t%u\t%u\t%u", getuid(), geteuid(), getuid(), getuid());
    yesno("status Uid is getuid", strcmp(field(status, "Uid"), ids) == 0);
    yesno("status Threads is 1", strcmp(field(status, "Threads"), "1") == 0);
    yesno("status VmRSS in kB", strstr(field(status, "VmRSS"), " kB") != NULL);
    free(status);

    char *stat = slurp("/proc/self/stat", NULL);
    int pid = 0, ppid = 0, pgrp = 0, sid = 0;
    char state = 0;
    char *close_paren = stat ? strrchr(stat, ')') : NULL;
    if (close_paren)
        sscanf(close_paren + 2, "%c %d %d %d", &state, &ppid, &pgrp, &sid);
    if (stat)
        pid = atoi(stat);
    yesno("stat pid", pid == getpid());
    char want[32];
    snprintf(want, sizeof want, "(%s)", comm);
    yesno("stat comm", stat && strstr(stat, want) == strchr(stat, '('));
    yesno("stat state R", state == 'R');
    yesno("stat ppid", ppid == getppid());
    yesno("stat pgrp", pgrp == getpgrp());
    yesno("stat session", sid == getsid(0));
    int fields = 0;
    for (char *p = stat; p && *p; p++)
        fields += *p == ' ';
    printf("stat fields: %d\n", fields + 1);
    free(stat);

    char *statm = slurp("/proc/self/statm", NULL);
    unsigned long size = 0, resident = 0;
    yesno("statm parses", statm && sscanf(statm, "%lu %lu", &size, &resident) == 2 && resident > 0 && resident <= size);
    free(statm);

    char *comm_file = slurp("/proc/self/comm", NULL);
    char comm_nl[20];
    snprintf(comm_nl, sizeof comm_nl, "%s\n", comm);
    yesno("comm file", comm_file && strcmp(comm_file, comm_nl) == 0);
    free(comm_file);
}

static void test_args(int argc, char **argv)
{
    size_t len = 0;
    char *cmdline = slurp("/proc/self/cmdline", &len);
    size_t want = 0;
    for (int i = 0; i < argc; i++)
        want += strlen(argv[i]) + 1;
    int same = cmdline && len == want;
    for (size_t off = 0, i = 0; same && (int)i < argc; i++) {
        same = strcmp(cmdline + off, argv[i]) == 0;
        off += strlen(argv[i]) + 1;
    }
    yesno("cmdline is argv", same);
    free(cmdline);

    char *env = slurp("/proc/self/environ", &len);
    want = 0;
    same = env != NULL;
    for (char **e = environ; same && *e; e++) {
        same = want < len && strcmp(env + want, *e) == 0;
        want += strlen(*e) + 1;
    }
    yesno("environ is the initial environment", same && want == len);
    free(env);

    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = 0;
    struct stat a, b;
    yesno("exe names this program", n > 0 && exe[0] == '/' && stat(exe, &a) == 0 && stat("/proc/self/exe", &b) == 0 &&
                                         a.st_ino == b.st_ino && a.st_dev == b.st_dev);
    char cwd[4096], link[4096];
    n = readlink("/proc/self/cwd", link, sizeof link - 1);
    link[n > 0 ? n : 0] = 0;
    yesno("cwd is getcwd", n > 0 && getcwd(cwd, sizeof cwd) && strcmp(cwd, link) == 0);
    n = readlink("/proc/self/root", link, sizeof link - 1);
    link[n > 0 ? n : 0] = 0;
    yesno("root is /", strcmp(link, "/") == 0);
    char self[32], want_self[32];
    n = readlink("/proc/self", self, sizeof self - 1);
    self[n > 0 ? n : 0] = 0;
    snprintf(want_self, sizeof want_self, "%d", getpid());
    yesno("self is the pid", strcmp(self, want_self) == 0);
}

/* The maps line covering addr: perms and name copied out; 0 when none. */
static int maps_line(const char *maps, unsigned long addr, char *perms, char *name, unsigned long *offset,
                     unsigned *major, unsigned *minor, unsigned long *ino)
{
    for (const char *p = maps; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        unsigned long lo, hi;
        int used = 0;
        if (sscanf(p, "%lx-%lx %4s %lx %x:%x %lu%n", &lo, &hi, perms, offset, major, minor, ino, &used) < 7)
            continue;
        while (p[used] == ' ')
            used++;
        if (addr < lo || addr >= hi)
            continue;
        size_t n = strcspn(p + used, "\n");
        memcpy(name, p + used, n);
        name[n] = 0;
        return 1;
    }
    return 0;
}

static void test_maps(const char *dir)
{
    char *maps = slurp("/proc/self/maps", NULL);
    if (!maps) {
        printf("maps: %s\n", errname(errno));
        return;
    }
    char perms[8], name[4096], exe[4096];
    unsigned long off, ino;
    unsigned major, minor;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = 0;
    int found = maps_line(maps, (unsigned long)&test_maps, perms, name, &off, &major, &minor, &ino);
    yesno("code is r-xp", found && strcmp(perms, "r-xp") == 0);
    yesno("code is the executable", found && strcmp(name, exe) == 0);
    int local = 0;
    found = maps_line(maps, (unsigned long)&local, perms, name, &off, &major, &minor, &ino);
    yesno("stack is rw-p [stack]", found && strcmp(perms, "rw-p") == 0 && strcmp(name, "[stack]") == 0);

    char path[4096];
    snprintf(path, sizeof path, "%s/pages.bin", dir);
    int fd = open(path, O_RDONLY);
    struct stat st;
    fstat(fd, &st);
    char *m = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, fd, 4096);
    void *anon = mmap(NULL, 3 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    close(fd);
    free(maps);
    maps = slurp("/proc/self/maps", NULL);
    found = maps_line(maps, (unsigned long)m + 100, perms, name, &off, &major, &minor, &ino);
    yesno("file mapping named by its path", found && strcmp(name, path) == 0);
    printf("file mapping perms %s offset %lx\n", found ? perms : "-", found ? off : 0);
    yesno("file mapping dev and inode", found && ino == st.st_ino && major == major(st.st_dev) && minor == minor(st.st_dev));
    found = maps_line(maps, (unsigned long)anon + 4096, perms, name, &off, &major, &minor, &ino);
    printf("anonymous mapping: %s %s ino %lu name '%s'\n", found ? "found" : "missing", found ? perms : "-", ino, found ? name : "-");

    /* Lines in address order, every named line's name at column 73. */
    int ordered = 1, columns = 1;
    unsigned long last = 0;
    for (const char *p = maps; *p; p = strchr(p, '\n') + 1) {
        unsigned long lo, hi;
        sscanf(p, "%lx-%lx", &lo, &hi);
        ordered &= lo >= last && hi > lo;
        last = hi;
        size_t len = strcspn(p, "\n");
        const char *slash = memchr(p, '/', len);
        if (slash && slash - p != 73)
            columns = 0;
        if (!strchr(p, '\n'))
            break;
    }
    yesno("maps in address order", ordered);
    yesno("names at column 73", columns);
    munmap(m, 8192);
    munmap(anon, 3 << 20);
    free(maps);
}

static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

static void test_fds(const char *dir)
{
    int p[2];
    must(pipe(p) == 0, "pipe");
    int null = open("/dev/null", O_WRONLY);
    int efd = eventfd(0, 0);
    char path[4096];
    snprintf(path, sizeof path, "%s/hello.txt", dir);
    int file = open(path, O_RDONLY | O_CLOEXEC);
    char buf[5];
    must(read(file, buf, 5) == 5, "read hello.txt");
    printf("opened: %d %d %d %d %d\n", p[0], p[1], null, efd, file);

    DIR *d = opendir("/proc/self/fd");
    int fds[64], count = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) && count < 64)
        if (e->d_name[0] != '.')
            fds[count++] = atoi(e->d_name);
    int dirfd_no = d ? dirfd(d) : -1;
    closedir(d);
    qsort(fds, count, sizeof fds[0], cmp_int);
    /* The directory's own fd is listed too (readdir happens after the open). */
    printf("fd entries:");
    for (int i = 0; i < count; i++)
        if (fds[i] <= dirfd_no) /* above it: whatever the parent leaked to us */
            printf(fds[i] == dirfd_no ? " %d(the directory)" : " %d", fds[i]);
    printf("\n");

    int mine[] = {p[0], p[1], null, efd, file};
    for (int i = 0; i < 5; i++) {
        char lp[64], target[4096];
        snprintf(lp, sizeof lp, "/proc/self/fd/%d", mine[i]);
        ssize_t n = readlink(lp, target, sizeof target - 1);
        target[n > 0 ? n : 0] = 0;
        /* pipe:[inode]: the inode differs per run; it must be the same for both ends. */
        if (strncmp(target, "pipe:[", 6) == 0) {
            struct stat st;
            fstat(mine[i], &st);
            char want[64];
            snprintf(want, sizeof want, "pipe:[%lu]", (unsigned long)st.st_ino);
            printf("fd %d -> pipe:[inode] %s\n", mine[i], strcmp(target, want) == 0 ? "matching fstat" : target);
        } else if (mine[i] == file)
            printf("fd %d -> the path it was opened by: %s\n", mine[i], strcmp(target, path) == 0 ? "yes" : target);
        else
            printf("fd %d -> %s\n", mine[i], target);
        struct stat lst;
        lstat(lp, &lst);
        printf("fd %d link mode %o\n", mine[i], lst.st_mode & 0777);
    }

    char ip[64];
    snprintf(ip, sizeof ip, "/proc/self/fdinfo/%d", file);
    char *info = slurp(ip, NULL);
    printf("fdinfo pos: %s\n", info ? field(info, "pos") : errname(errno));
    printf("fdinfo flags: %s\n", info ? field(info, "flags") : "-");
    free(info);
    snprintf(ip, sizeof ip, "/proc/self/fdinfo/%d", p[1]);
    info = slurp(ip, NULL);
    printf("pipe write end fdinfo pos: %s\n", info ? field(info, "pos") : errname(errno));
    printf("pipe write end fdinfo flags: %s\n", info ? field(info, "flags") : "-");
    free(info);
    close(p[0]);
    close(p[1]);
    close(null);
    close(efd);
    close(file);
    char lp[64];
    snprintf(lp, sizeof lp, "/proc/self/fd/%d", file);
    struct stat st;
    report("lstat of a closed fd's link", lstat(lp, &st));
}

static volatile int worker_ready, worker_done;
static pid_t worker_tid;

static void *worker(void *arg)
{
    (void)arg;
    prctl(PR_SET_NAME, "worker");
    worker_tid = syscall(SYS_gettid);
    __atomic_store_n(&worker_ready, 1, __ATOMIC_SEQ_CST);
    while (!__atomic_load_n(&worker_done, __ATOMIC_SEQ_CST))
        usleep(1000);
    return NULL;
}

static void test_threads(void)
{
    pthread_t th;
    pthread_create(&th, NULL, worker, NULL);
    while (!__atomic_load_n(&worker_ready, __ATOMIC_SEQ_CST))
        usleep(1000);
    DIR *d = opendir("/proc/self/task");
    int tids = 0, found_main = 0, found_worker = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        tids++;
        found_main |= atoi(e->d_name) == getpid();
        found_worker |= atoi(e->d_name) == worker_tid;
    }
    closedir(d);
    printf("task entries: %d, main listed: %s, worker listed: %s\n", tids, found_main ? "yes" : "no", found_worker ? "yes" : "no");
    char path[128];
    snprintf(path, sizeof path, "/proc/self/task/%d/comm", worker_tid);
    char *comm = slurp(path, NULL);
    printf("worker comm: %s", comm ? comm : "missing\n");
    free(comm);
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", worker_tid);
    char *stat = slurp(path, NULL);
    yesno("worker stat pid is its tid", stat && atoi(stat) == worker_tid);
    free(stat);
    snprintf(path, sizeof path, "/proc/self/task/%d/status", worker_tid);
    char *status = slurp(path, NULL);
    yesno("worker status Pid is its tid", status && atoi(field(status, "Pid")) == worker_tid);
    yesno("worker status Tgid is the pid", status && atoi(field(status, "Tgid")) == getpid());
    free(status);
    status = slurp("/proc/self/status", NULL);
    printf("process Threads: %s\n", status ? field(status, "Threads") : "-");
    free(status);
    /* A thread's tid names the process directory too, unlisted (as on Linux). */
    snprintf(path, sizeof path, "/proc/%d/status", worker_tid);
    status = slurp(path, NULL);
    yesno("/proc/<tid>/status readable", status != NULL);
    free(status);
    char link[64], want[64];
    ssize_t n = readlink("/proc/thread-self", link, sizeof link - 1);
    link[n > 0 ? n : 0] = 0;
    snprintf(want, sizeof want, "%d/task/%d", getpid(), getpid());
    yesno("thread-self of the main thread", strcmp(link, want) == 0);
    __atomic_store_n(&worker_done, 1, __ATOMIC_SEQ_CST);
    pthread_join(th, NULL);
}

/* Generated files behave like Linux seq files: read in pieces, pread, lseek, fstat. */
static void test_files(void)
{
    int fd = open("/proc/self/limits", O_RDONLY);
    struct stat st;
    fstat(fd, &st);
    printf("fstat: regular %s, size %ld, mode %o\n", S_ISREG(st.st_mode) ? "yes" : "no", (long)st.st_size, st.st_mode & 0777);
    char whole[8192], piece[8192];
    ssize_t n = read(fd, whole, sizeof whole);
    printf("read all: %s\n", n > 0 ? "ok" : errname(errno));
    printf("read at end: %ld\n", (long)read(fd, piece, 10));
    printf("lseek SEEK_SET 0: %ld\n", (long)lseek(fd, 0, SEEK_SET));
    ssize_t got = 0, r;
    while ((r = read(fd, piece + got, 7)) > 0)
        got += r;
    yesno("read in 7-byte pieces gives the same bytes", got == n && memcmp(whole, piece, n) == 0);
    memset(piece, 0, sizeof piece);
    yesno("pread at 10", pread(fd, piece, 20, 10) == 20 && memcmp(piece, whole + 10, 20) == 0);
    printf("lseek SEEK_CUR -5: %s\n", lseek(fd, -5, SEEK_CUR) == n - 5 ? "ok" : errname(errno));
    errno = 0;
    printf("lseek SEEK_END: %s\n", lseek(fd, 0, SEEK_END) < 0 ? errname(errno) : "ok");
    printf("lseek negative: %s\n", lseek(fd, -1, SEEK_SET) < 0 ? errname(errno) : "ok");
    printf("write: %s\n", write(fd, "x", 1) < 0 ? errname(errno) : "ok");
    close(fd);
    report("open status O_RDWR", open("/proc/self/status", O_RDWR));
    report("open /proc/self/nonexistent", open("/proc/self/nonexistent", O_RDONLY));
    report("open /proc/999999/status", open("/proc/999999/status", O_RDONLY));
    report("open /proc/0/status", open("/proc/0/status", O_RDONLY));
    report("open /proc/01/status", open("/proc/01/status", O_RDONLY));
    char *uptime = slurp("/proc/uptime", NULL);
    double up = -1, idle = -1;
    yesno("uptime parses", uptime && sscanf(uptime, "%lf %lf", &up, &idle) == 2 && up >= 0 && idle >= 0);
    free(uptime);
    char *meminfo = slurp("/proc/meminfo", NULL);
    yesno("meminfo MemTotal", meminfo && strstr(field(meminfo, "MemTotal"), " kB") != NULL);
    free(meminfo);
    char *pidmax = slurp("/proc/sys/kernel/pid_max", NULL);
    yesno("pid_max is a number", pidmax && atoi(pidmax) > 0);
    free(pidmax);
}

/* Another process's argv memory is partly unmapped: its cmdline ends at the hole. */
static void test_hostile(char *self)
{
    static char big[65536];
    memset(big, 'a', sizeof big - 1);
    int sync_pipe[2];
    must(pipe(sync_pipe) == 0, "pipe");
    pid_t child = fork();
    if (child == 0) {
        char fdarg[16];
        snprintf(fdarg, sizeof fdarg, "%d", sync_pipe[1]);
        close(sync_pipe[0]);
        char *args[] = {self, "hostile-child", fdarg, big, NULL};
        execv(self, args);
        _exit(127);
    }
    close(sync_pipe[1]);
    long hole = 0;
    must(read(sync_pipe[0], &hole, sizeof hole) == sizeof hole, "the child reports its hole");
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/cmdline", child);
    size_t len = 0;
    char *cmd = slurp(path, &len);
    printf("cmdline of the child: %s\n", !cmd ? errname(errno) : (long)len == hole ? "ends at the hole" : "wrong length");
    free(cmd);
    snprintf(path, sizeof path, "/proc/%d/maps", child);
    cmd = slurp(path, &len);
    yesno("child maps readable", cmd && len > 0);
    free(cmd);
    snprintf(path, sizeof path, "/proc/%d/stat", child);
    cmd = slurp(path, &len);
    yesno("child stat readable", cmd && len > 0);
    free(cmd);
    kill(child, SIGKILL);
    report_wait("child", child);
    snprintf(path, sizeof path, "/proc/%d/cmdline", child);
    report("open a reaped child's cmdline", open(path, O_RDONLY));
}

/* Unmaps everything from a page in the middle of argv[3] to the top of the user address space
 * (the rest of argv, envp, the stack's top; nothing above is left that Linux could grow down
 * over the hole) and tells the parent where cmdline must end. Runs on the stack below argv. */
static void hostile_child(char **argv)
{
    int fd = atoi(argv[2]);
    unsigned long start = (unsigned long)argv[0];
    unsigned long hole = ((unsigned long)argv[3] + 8192) & ~4095UL;
    if (syscall(SYS_munmap, hole, 0x7ffffffff000UL - hole) != 0)
        _exit(2);
    long offset = hole - start;
    if (write(fd, &offset, sizeof offset) != sizeof offset)
        _exit(3);
    for (;;)
        pause();
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "hostile-child") == 0)
        hostile_child(argv);
    if (argc < 3) {
        fprintf(stderr, "usage: procfs MODE DATADIR\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    const char *mode = argv[1], *dir = argv[2];
    if (strcmp(mode, "self") == 0) {
        test_self();
        test_args(argc, argv);
        test_maps(dir);
    } else if (strcmp(mode, "fds") == 0)
        test_fds(dir);
    else if (strcmp(mode, "threads") == 0)
        test_threads();
    else if (strcmp(mode, "files") == 0)
        test_files();
    else if (strcmp(mode, "hostile") == 0)
        test_hostile(argv[0]);
    else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    printf("done\n");
    return 0;
}
