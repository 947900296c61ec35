/* Copy-on-write fork: after fork, parent and child each see the memory as it
 * was at the fork and never each other's later writes, whoever writes first,
 * whether the write comes from the program or from the kernel (read() into a
 * buffer), and whatever mprotect does in between. Also: mprotect on a range
 * that is only partly touched applies to all of it.
 * Usage: cow MODE (see the table at the end). */
#include "proctest.h"
#include <fcntl.h>
#include <setjmp.h>
#include <sys/mman.h>

enum { Pages = 64, PageSize = 4096 };

static char data_area[Pages * PageSize] = { 1 };  /* .data */
static char bss_area[Pages * PageSize];           /* .bss */

/* Writes a pattern for GENERATION into every other page (so some pages are
 * touched and some are not before the fork), and checks it. */
static void fill(char *p, int generation)
{
    for (int i = 0; i < Pages; i += 2)
        memset(p + (size_t)i * PageSize, 'a' + generation + i % 7, PageSize);
}

static int holds(const char *p, int generation)
{
    for (int i = 0; i < Pages; i++) {
        char want = i % 2 == 0 ? (char)('a' + generation + i % 7) : 0;
        for (int k = 0; k < PageSize; k += 512)
            if (p[(size_t)i * PageSize + k] != want)
                return 0;
    }
    return 1;
}

struct areas { char *heap, *anon, *stack; };

static void fill_all(struct areas *a, int g)
{
    fill(a->heap, g); fill(a->anon, g); fill(a->stack, g);
    fill(data_area, g); fill(bss_area, g);
}

static void check_all(const char *who, struct areas *a, int g)
{
    printf("%s heap %s\n", who, holds(a->heap, g) ? "intact" : "CHANGED");
    printf("%s anon %s\n", who, holds(a->anon, g) ? "intact" : "CHANGED");
    printf("%s stack %s\n", who, holds(a->stack, g) ? "intact" : "CHANGED");
    printf("%s data %s\n", who, holds(data_area, g) ? "intact" : "CHANGED");
    printf("%s bss %s\n", who, holds(bss_area, g) ? "intact" : "CHANGED");
}

/* Child writes first, then parent writes, then each checks its own copy;
 * then a grandchild forked from the child checks the child's values. */
static void private_writes(char **argv)
{
    (void)argv;
    static char stack_like[Pages * PageSize];
    char *heap = malloc(Pages * PageSize);
    char *anon = mmap(NULL, Pages * PageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    must(heap && anon != MAP_FAILED, "allocate");
    memset(heap, 0, Pages * PageSize);
    struct areas a = { heap, anon, stack_like };
    fill_all(&a, 0);
    int go[2], done[2];
    must(pipe(go) == 0 && pipe(done) == 0, "pipe");
    pid_t c = fork();
    if (c == 0) {
        check_all("child at fork", &a, 0);
        fill_all(&a, 1);
        send_byte(done[1], 1);
        await_byte(go[0]);  /* the parent has written generation 2 */
        check_all("child after parent wrote", &a, 1);
        pid_t g = fork();
        if (g == 0) {
            check_all("grandchild", &a, 1);
            fill_all(&a, 3);
            _exit(0);
        }
        report_wait("grandchild", g);
        check_all("child after grandchild wrote", &a, 1);
        _exit(0);
    }
    await_byte(done[0]);  /* the child has written generation 1 */
    check_all("parent after child wrote", &a, 0);
    fill_all(&a, 2);
    send_byte(go[1], 1);
    report_wait("child", c);
    check_all("parent at end", &a, 2);
}

/* The parent writes first; the child then sees the fork-time contents. */
static void parent_first(char **argv)
{
    (void)argv;
    char *anon = mmap(NULL, Pages * PageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    must(anon != MAP_FAILED, "mmap");
    fill(anon, 0);
    int go[2];
    must(pipe(go) == 0, "pipe");
    pid_t c = fork();
    if (c == 0) {
        await_byte(go[0]);
        printf("child sees fork-time contents: %s\n", holds(anon, 0) ? "yes" : "no");
        _exit(0);
    }
    fill(anon, 4);
    send_byte(go[1], 1);
    report_wait("child", c);
    printf("parent sees its own write: %s\n", holds(anon, 4) ? "yes" : "no");
}

/* Kernel writes (read() into a buffer) in the child reach only the child. */
static void kernel_writes(char **argv)
{
    (void)argv;
    static char buf[3 * PageSize];
    memset(buf, 'p', sizeof buf);
    int data[2];
    must(pipe(data) == 0, "pipe");
    pid_t c = fork();
    if (c == 0) {
        char msg[PageSize + 100];
        memset(msg, 'k', sizeof msg);
        must(write(data[1], msg, sizeof msg) == (ssize_t)sizeof msg, "write");
        ssize_t got = 0;
        while (got < (ssize_t)sizeof msg) {
            ssize_t n = read(data[0], buf + 100 + got, sizeof msg - got);
            must(n > 0, "read");
            got += n;
        }
        printf("child buffer has what it read: %s\n", buf[100] == 'k' && buf[100 + PageSize + 99] == 'k' ? "yes" : "no");
        _exit(0);
    }
    report_wait("child", c);
    int same = 1;
    for (size_t i = 0; i < sizeof buf; i++)
        same &= buf[i] == 'p';
    printf("parent buffer untouched: %s\n", same ? "yes" : "no");
}

static sigjmp_buf fault_jump;
static void on_segv(int s) { (void)s; siglongjmp(fault_jump, 1); }

/* 1 when writing *p faults. */
static int write_faults(volatile char *p)
{
    struct sigaction sa = { 0 };
    sa.sa_handler = on_segv;
    sigaction(SIGSEGV, &sa, NULL);
    if (sigsetjmp(fault_jump, 1))
        return 1;
    *p = 'w';
    return 0;
}

/* mprotect read-only then writable again around a fork, in both processes. */
static void protect(char **argv)
{
    (void)argv;
    char *m = mmap(NULL, Pages * PageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    must(m != MAP_FAILED, "mmap");
    /* Touch only the first and the last page: most of the range is never faulted in. */
    m[0] = 'x';
    m[(Pages - 1) * PageSize] = 'y';
    must(mprotect(m, Pages * PageSize, PROT_READ) == 0, "mprotect ro");
    printf("write to first page after PROT_READ faults: %s\n", write_faults(m) ? "yes" : "no");
    printf("write to last page after PROT_READ faults: %s\n", write_faults(m + (Pages - 1) * PageSize) ? "yes" : "no");
    printf("write to untouched page after PROT_READ faults: %s\n", write_faults(m + 20 * PageSize) ? "yes" : "no");
    must(mprotect(m, Pages * PageSize, PROT_READ | PROT_WRITE) == 0, "mprotect rw");
    pid_t c = fork();
    if (c == 0) {
        must(mprotect(m, Pages * PageSize, PROT_READ) == 0, "child mprotect ro");
        printf("child: write after PROT_READ faults: %s\n", write_faults(m + (Pages - 1) * PageSize) ? "yes" : "no");
        must(mprotect(m, Pages * PageSize, PROT_READ | PROT_WRITE) == 0, "child mprotect rw");
        m[0] = 'c';
        m[(Pages - 1) * PageSize] = 'c';
        _exit(0);
    }
    report_wait("child", c);
    printf("parent still sees its values: %s\n", m[0] == 'x' && m[(Pages - 1) * PageSize] == 'y' ? "yes" : "no");
    m[0] = 'p';
    printf("parent writes after the child is gone: %s\n", m[0] == 'p' ? "yes" : "no");
}

/* MAP_PRIVATE mapping of this program's file: written pages are private to each process, and
 * the file itself never changes. */
static void private_file(char **argv)
{
    int fd = open(argv[0], O_RDONLY);  /* this program's own file */
    must(fd >= 0, "open");
    char *m = mmap(NULL, PageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    must(m != MAP_FAILED, "mmap");
    char first = m[0];
    m[1] = 'P';
    pid_t c = fork();
    if (c == 0) {
        printf("child sees parent's pre-fork write: %s\n", m[1] == 'P' ? "yes" : "no");
        m[0] = 'C';
        _exit(0);
    }
    report_wait("child", c);
    printf("parent keeps the file's byte: %s\n", m[0] == first ? "yes" : "no");
    char b;
    must(pread(fd, &b, 1, 1) == 1, "pread");
    printf("file unchanged: %s\n", b != 'P' ? "yes" : "no");
}

/* Read-only mappings of this program's file share the file's pages (Sentry's page cache of the
 * read-only lower layer): making one writable with mprotect and writing copies the page for that
 * mapping only; the others, a shared mapping and a child keep the file's bytes, and MADV_DONTNEED
 * brings the file's bytes back. */
static void cached_file(char **argv)
{
    int fd = open(argv[0], O_RDONLY);
    must(fd >= 0, "open");
    char *a = mmap(NULL, 2 * PageSize, PROT_READ, MAP_PRIVATE, fd, 0);
    char *b = mmap(NULL, 2 * PageSize, PROT_READ, MAP_PRIVATE, fd, 0);
    char *s = mmap(NULL, 2 * PageSize, PROT_READ, MAP_SHARED, fd, 0);
    must(a != MAP_FAILED && b != MAP_FAILED && s != MAP_FAILED, "mmap");
    printf("mappings agree: %s\n", memcmp(a, b, 2 * PageSize) == 0 && memcmp(a, s, 2 * PageSize) == 0 ? "yes" : "no");
    char first = a[PageSize + 3];
    must(mprotect(a, 2 * PageSize, PROT_READ | PROT_WRITE) == 0, "mprotect");
    a[PageSize + 3] = (char)(first + 1);
    printf("writer sees its write: %s\n", a[PageSize + 3] == (char)(first + 1) ? "yes" : "no");
    printf("other private mapping keeps the file's byte: %s\n", b[PageSize + 3] == first ? "yes" : "no");
    printf("shared mapping keeps the file's byte: %s\n", s[PageSize + 3] == first ? "yes" : "no");
    pid_t c = fork();
    if (c == 0) {
        printf("child sees the parent's private write: %s\n", a[PageSize + 3] == (char)(first + 1) ? "yes" : "no");
        printf("child's other mapping keeps the file's byte: %s\n", b[PageSize + 3] == first ? "yes" : "no");
        _exit(0);
    }
    report_wait("child", c);
    must(madvise(a, 2 * PageSize, MADV_DONTNEED) == 0, "madvise");
    printf("MADV_DONTNEED brings the file's byte back: %s\n", a[PageSize + 3] == first ? "yes" : "no");
}

int main(int argc, char **argv)
{
    static const struct mode modes[] = {
        { "private", private_writes },
        { "parent_first", parent_first },
        { "kernel_writes", kernel_writes },
        { "protect", protect },
        { "private_file", private_file },
        { "cached_file", cached_file },
        { NULL, NULL },
    };
    return run_mode(modes, argc, argv);
}
