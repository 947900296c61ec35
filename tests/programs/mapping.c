/* File mappings as a matrix: every kind of file the sandbox has x MAP_SHARED /
 * MAP_PRIVATE x PROT_READ / PROT_READ|PROT_WRITE x the events that move bytes
 * between a mapping and its file. Each case prints what it reads (a hash and
 * the first bytes), so the output equals the native run's byte for byte.
 *
 * Usage:
 *   mapping make FILE      writes pattern() to FILE (the test's fixture)
 *   mapping ro FILE        FILE holds pattern() (made by the test): read-only
 *                          opens only (the root's read-only lower layer)
 *   mapping rw FILE        FILE is made or rewritten here and opened O_RDWR
 *                          (a lower file copied up, tmpfs, a volume)
 *   mapping memfd          a memfd, reached by its /proc/self/fd link: the
 *                          rw cases on a tmpfs file without a name
 *   mapping zero           /dev/zero
 *   mapping exec PROG DIR  exec of a program that is mapped MAP_SHARED, in
 *                          both orders, from PROG and from a copy in DIR */
#include "proctest.h"
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>

enum { Page = 4096, FilePages = 3, Tail = 100, Size = FilePages * Page + Tail, MapPages = 5 };

static unsigned char pattern(long i) { return (unsigned char)(i * 7 + i / Page + 1); }

static void fill_pattern(unsigned char *buf, long n)
{
    for (long i = 0; i < n; i++)
        buf[i] = pattern(i);
}

static unsigned fnv(const unsigned char *p, long n)
{
    unsigned h = 2166136261u;
    for (long i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* Reading a page the mapping may not back: which signal, if any. */
static sigjmp_buf probe_jump;
static volatile int probe_signal;

static void on_fault(int sig)
{
    probe_signal = sig;
    siglongjmp(probe_jump, 1);
}

static void catch_faults(void)
{
    struct sigaction sa = { 0 };
    sa.sa_handler = on_fault;
    sa.sa_flags = SA_NODEFER;
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGSEGV, &sa, NULL);
}

/* "label: SIGBUS", "label: SIGSEGV" or "label: byte XX". */
static void probe(const char *label, volatile unsigned char *p)
{
    probe_signal = 0;
    if (sigsetjmp(probe_jump, 1) == 0) {
        unsigned char b = *p;
        printf("%s: byte %02x\n", label, b);
    } else {
        printf("%s: %s\n", label, probe_signal == SIGBUS ? "SIGBUS" : probe_signal == SIGSEGV ? "SIGSEGV" : "other");
    }
}

/* Hash of [off, off+n) of a mapping, and its first bytes. */
static void show(const char *label, const unsigned char *map, long off, long n)
{
    printf("%s: hash %08x head", label, fnv(map + off, n));
    for (int i = 0; i < 8 && i < n; i++)
        printf(" %02x", map[off + i]);
    printf("\n");
}

/* The same for the file's bytes, read with pread. */
static void show_file(const char *label, int fd, long off, long n)
{
    static unsigned char buf[MapPages * Page];
    long got = pread(fd, buf, n, off);
    if (got < 0) { printf("%s: pread %s\n", label, errname(errno)); return; }
    printf("%s: read %ld ", label, got);
    show("", buf, 0, got);
}

static void write_pattern(int fd)
{
    static unsigned char buf[Size];
    fill_pattern(buf, Size);
    must(ftruncate(fd, 0) == 0 && ftruncate(fd, Size) == 0, "ftruncate");
    must(pwrite(fd, buf, Size, 0) == Size, "pwrite pattern");
}

static const char *type_name(int type) { return type == MAP_SHARED ? "shared" : "private"; }
static const char *prot_name(int prot) { return prot & PROT_WRITE ? "rw" : "r"; }

static unsigned char *map_file(int fd, int type, int prot, long pages, long offset)
{
    unsigned char *m = mmap(NULL, pages * Page, prot, type, fd, offset);
    must(m != MAP_FAILED, "mmap");
    return m;
}

static void wait_child(pid_t pid)
{
    int status;
    must(waitpid(pid, &status, 0) == pid, "waitpid");
    fflush(stdout);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        printf("child: status %x\n", status);
}

/* The cases a read-only open allows; a writable one runs them too. */
static void read_cases(const char *path, int open_flags, int type, int prot)
{
    int fd = open(path, open_flags);
    must(fd >= 0, "open");
    printf("== %s %s\n", type_name(type), prot_name(prot));

    /* The whole file, the zeros after its end in the last page, SIGBUS after that page. */
    unsigned char *m = map_file(fd, type, prot, MapPages, 0);
    show("whole", m, 0, Size);
    show("tail zeros", m, Size, Page - Tail);
    probe("page after end", m + FilePages * Page + Page);
    show_file("file", fd, 0, Size);

    /* A second mapping at an offset not at zero sees the same bytes. */
    unsigned char *o = map_file(fd, type, prot, 2, Page);
    show("offset page 1", o, 0, 2 * Page);
    munmap(o, 2 * Page);

    /* PROT_NONE faults, and the data is back after mprotect restores the rights. */
    must(mprotect(m, MapPages * Page, PROT_NONE) == 0, "mprotect none");
    probe("prot none", m + 5);
    must(mprotect(m, MapPages * Page, prot) == 0, "mprotect back");
    show("after mprotect", m, 0, Size);

    /* A child sees the mapping as the parent does; a second process maps the file itself. */
    pid_t pid = fork();
    if (pid == 0) {
        show("child sees", m, 0, Size);
        int fd2 = open(path, open_flags);
        unsigned char *m2 = map_file(fd2, type, prot, FilePages + 1, 0);
        show("child own map", m2, 0, Size);
        fflush(stdout);
        _exit(0);
    }
    wait_child(pid);

    /* munmap and map again. */
    munmap(m, MapPages * Page);
    m = map_file(fd, type, prot, MapPages, 0);
    show("mapped again", m, 0, Size);

    /* mremap: grow in place or move, then move to a chosen address. */
    unsigned char *g = mremap(m, MapPages * Page, 8 * Page, MREMAP_MAYMOVE);
    must(g != MAP_FAILED, "mremap grow");
    show("grown", g, 0, Size);
    probe("grown past end", g + 6 * Page);
    unsigned char *target = mmap(NULL, 8 * Page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned char *mv = mremap(g, 8 * Page, 8 * Page, MREMAP_MAYMOVE | MREMAP_FIXED, target);
    must(mv == target, "mremap move");
    show("moved", mv, 0, Size);
    munmap(mv, 8 * Page);
    close(fd);
}

/* Cases that change the file or the mapping. */
static void write_cases(const char *path, int type, int prot)
{
    int fd = open(path, O_RDWR);
    must(fd >= 0, "open rw");
    printf("== %s %s writes\n", type_name(type), prot_name(prot));
    write_pattern(fd);
    unsigned char *m = map_file(fd, type, prot, MapPages, 0);

    /* Page 0 is touched before the write through the fd, page 1 is not. */
    show("page 0 before", m, 0, 16);
    must(pwrite(fd, "FDWRITE", 7, 10) == 7 && pwrite(fd, "FDWRITE", 7, Page + 10) == 7, "pwrite");
    show("fd write seen in touched page", m, 10, 7);
    show("fd write seen in untouched page", m, Page + 10, 7);

    if (prot & PROT_WRITE) {
        memcpy(m + 20, "MAPWRITE", 8);
        memcpy(m + 2 * Page + 20, "MAPWRITE", 8);
        show_file("file after map write", fd, 0, Size);
        printf("msync: %s\n", msync(m, MapPages * Page, MS_SYNC) == 0 ? "ok" : errname(errno));
        show_file("file after msync", fd, 0, Size);

        /* fork: the child writes; the parent sees it only through a shared mapping. */
        pid_t pid = fork();
        if (pid == 0) {
            memcpy(m + 40, "CHILD", 5);
            show("child wrote", m, 0, Size);
            fflush(stdout);
            _exit(0);
        }
        wait_child(pid);
        show("parent after child write", m, 0, Size);
        show_file("file after child write", fd, 0, Size);

        /* Another process's own mapping, written. */
        pid = fork();
        if (pid == 0) {
            int fd2 = open(path, O_RDWR);
            unsigned char *m2 = map_file(fd2, type, prot, FilePages + 1, 0);
            memcpy(m2 + Page + 60, "OTHER", 5);
            fflush(stdout);
            _exit(0);
        }
        wait_child(pid);
        show("parent after other process", m, 0, Size);
        show_file("file after other process", fd, 0, Size);
    }

    /* Truncate below the mapping: past the new end pages raise SIGBUS, the rest of the last page is zeros. */
    must(ftruncate(fd, Page + 50) == 0, "truncate down");
    show("page 0 after truncate", m, 0, Page);
    probe("page 1 past new end", m + Page + 60);
    probe("page 2 after truncate", m + 2 * Page + 5);
    /* Extend past the mapping again: the cut bytes come back as zeros. */
    must(ftruncate(fd, Size) == 0, "truncate up");
    probe("page 2 after extend", m + 2 * Page + 5);
    show("whole after extend", m, 0, Size);
    show_file("file after extend", fd, 0, Size);

    munmap(m, MapPages * Page);
    m = map_file(fd, type, prot, MapPages, 0);
    show("mapped again", m, 0, Size);
    munmap(m, MapPages * Page);
    close(fd);
}

static void ro_mode(const char *path)
{
    int fd = open(path, O_RDONLY);
    must(fd >= 0, "open");
    /* A writable shared mapping needs a writable open. */
    void *w = mmap(NULL, Page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    printf("shared rw of O_RDONLY: %s\n", w == MAP_FAILED ? errname(errno) : "mapped");
    close(fd);
    read_cases(path, O_RDONLY, MAP_SHARED, PROT_READ);
    read_cases(path, O_RDONLY, MAP_PRIVATE, PROT_READ);
    read_cases(path, O_RDONLY, MAP_PRIVATE, PROT_READ | PROT_WRITE);
    /* A private mapping written stays private: the file and a shared mapping keep its bytes. */
    fd = open(path, O_RDONLY);
    unsigned char *p = map_file(fd, MAP_PRIVATE, PROT_READ | PROT_WRITE, FilePages + 1, 0);
    unsigned char *s = map_file(fd, MAP_SHARED, PROT_READ, FilePages + 1, 0);
    memcpy(p + 3, "PRIV", 4);
    show("private written", p, 0, Size);
    show("shared beside it", s, 0, Size);
    show_file("file beside it", fd, 0, Size);
    close(fd);
}

static void rw_mode(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    must(fd >= 0, "open or create");
    write_pattern(fd);
    close(fd);
    static const int types[] = { MAP_SHARED, MAP_PRIVATE };
    static const int prots[] = { PROT_READ, PROT_READ | PROT_WRITE };
    for (int t = 0; t < 2; t++)
        for (int p = 0; p < 2; p++) {
            read_cases(path, O_RDWR, types[t], prots[p]);
            write_cases(path, types[t], prots[p]);
        }
}

/* The rw cases on a memfd: every open of the path reopens the same file. */
static void memfd_mode(void)
{
    int fd = (int)syscall(SYS_memfd_create, "mapping", 0);
    must(fd >= 0, "memfd_create");
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    rw_mode(path);
    close(fd);
}

static void zero_mode(void)
{
    static const int types[] = { MAP_SHARED, MAP_PRIVATE };
    for (int t = 0; t < 2; t++) {
        int fd = open("/dev/zero", O_RDWR);
        must(fd >= 0, "open /dev/zero");
        printf("== /dev/zero %s\n", type_name(types[t]));
        unsigned char *m = map_file(fd, types[t], PROT_READ | PROT_WRITE, 4, 0);
        close(fd);
        show("zeros", m, 0, 4 * Page);
        memcpy(m + Page, "PARENT", 6);
        pid_t pid = fork();
        if (pid == 0) {
            show("child sees", m, Page, 16);
            memcpy(m + 2 * Page, "CHILD", 5);
            _exit(0);
        }
        wait_child(pid);
        show("parent after child write", m, 2 * Page, 16);
        must(mprotect(m, 4 * Page, PROT_NONE) == 0, "mprotect none");
        probe("prot none", m + Page);
        must(mprotect(m, 4 * Page, PROT_READ | PROT_WRITE) == 0, "mprotect back");
        show("after mprotect", m, 0, 4 * Page);
        munmap(m, 4 * Page);
    }
}

/* Runs PROG with the arguments "exec ok" (an echo prints them) and prints its exit status. */
static void run(const char *prog, const char *label)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = { (char *)prog, "exec", "ok", NULL };
        execv(prog, argv);
        printf("exec: %s\n", errname(errno));
        fflush(stdout);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    printf("%s: status %d\n", label, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/* Maps PROG shared and reads all of it (against pread), then runs it; then runs it and maps it again. */
static void exec_both_orders(const char *prog)
{
    int fd = open(prog, O_RDONLY);
    must(fd >= 0, "open program");
    struct stat st;
    must(fstat(fd, &st) == 0, "fstat program");
    unsigned char *m = map_file(fd, MAP_SHARED, PROT_READ, (st.st_size + Page - 1) / Page, 0);
    unsigned char *buf = malloc(st.st_size);
    must(pread(fd, buf, st.st_size, 0) == st.st_size, "pread program");
    printf("mapped first, same as read: %s\n", memcmp(m, buf, st.st_size) == 0 ? "yes" : "no");
    run(prog, "run after mapping");
    munmap(m, (st.st_size + Page - 1) / Page * Page);
    run(prog, "run before mapping");
    m = map_file(fd, MAP_SHARED, PROT_READ, (st.st_size + Page - 1) / Page, 0);
    printf("mapped after run, same as read: %s\n", memcmp(m, buf, st.st_size) == 0 ? "yes" : "no");
    free(buf);
    close(fd);
}

static void exec_mode(const char *prog, const char *dir)
{
    exec_both_orders(prog);
    /* A copy in a writable directory, written with write(2). */
    char copy[4096];
    snprintf(copy, sizeof copy, "%s/mapped-prog", dir);
    int in = open(prog, O_RDONLY), out = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    must(in >= 0 && out >= 0, "open copy");
    char buf[65536];
    long n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        must(write(out, buf, n) == n, "write copy");
    close(in);
    close(out);
    exec_both_orders(copy);
    unlink(copy);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    catch_faults();
    if (argc == 3 && strcmp(argv[1], "make") == 0) {
        int fd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0644);
        must(fd >= 0, "create");
        write_pattern(fd);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "ro") == 0) ro_mode(argv[2]);
    else if (argc == 3 && strcmp(argv[1], "rw") == 0) rw_mode(argv[2]);
    else if (argc == 2 && strcmp(argv[1], "zero") == 0) zero_mode();
    else if (argc == 2 && strcmp(argv[1], "memfd") == 0) memfd_mode();
    else if (argc == 4 && strcmp(argv[1], "exec") == 0) exec_mode(argv[2], argv[3]);
    else { fprintf(stderr, "usage: mapping make FILE | ro FILE | rw FILE | memfd | zero | exec PROG DIR\n"); return 2; }
    printf("done\n");
    return 0;
}
