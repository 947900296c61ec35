/* Memory-management syscalls: mmap/munmap/mprotect/mremap/brk/madvise on
 * anonymous and private file mappings, plus a checksum over a big malloc'd
 * buffer (glibc serves it with mmap, small ones with brk).
 * argv[1] is the harness's data directory, which holds
 *   hello.txt  "hello, world\n"
 *   pages.bin  3 pages: page i filled with the byte 'A'+i */
#include "common.h"
#include <fcntl.h>
#include <sys/mman.h>

#define PAGE 4096UL

static void *mm(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

static int all_bytes(const unsigned char *p, size_t n, unsigned char v)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            return 0;
    return 1;
}

static void test_anon(void)
{
    unsigned char *p = mm(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("mmap anon: %s\n", p == MAP_FAILED ? errname(errno) : "ok");
    must(p != MAP_FAILED, "mmap anon");
    yesno("mmap page aligned", ((uintptr_t)p & (PAGE - 1)) == 0);
    yesno("anon memory is zero", all_bytes(p, 4 * PAGE, 0));
    memset(p, 0x5a, 4 * PAGE);
    yesno("anon memory holds writes", all_bytes(p, 4 * PAGE, 0x5a));

    report("mprotect read-only", syscall(SYS_mprotect, p, PAGE, PROT_READ));
    yesno("read after mprotect", p[0] == 0x5a);
    report("mprotect back to rw", syscall(SYS_mprotect, p, PAGE, PROT_READ | PROT_WRITE));
    p[0] = 1;
    yesno("write after mprotect rw", p[0] == 1);

    report("madvise DONTNEED", syscall(SYS_madvise, p + PAGE, PAGE, MADV_DONTNEED));
    yesno("DONTNEED page reads zero", all_bytes(p + PAGE, PAGE, 0));
    yesno("neighbour page kept", all_bytes(p + 2 * PAGE, PAGE, 0x5a));
    report("madvise WILLNEED", syscall(SYS_madvise, p, 4 * PAGE, MADV_WILLNEED));
    report("madvise NORMAL", syscall(SYS_madvise, p, 4 * PAGE, MADV_NORMAL));

    /* Punch a hole, then operate across it. */
    report("munmap middle page", syscall(SYS_munmap, p + PAGE, PAGE));
    report("mprotect across hole", syscall(SYS_mprotect, p, 3 * PAGE, PROT_READ));
    report("madvise across hole", syscall(SYS_madvise, p, 3 * PAGE, MADV_DONTNEED));
    void *q = mm(p + PAGE, PAGE, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    yesno("MAP_FIXED_NOREPLACE into hole", q == p + PAGE);
    q = mm(p, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    printf("MAP_FIXED_NOREPLACE over mapping: %s\n", q == MAP_FAILED ? errname(errno) : "mapped");
    q = mm(p + 3 * PAGE, PAGE, PROT_READ | PROT_WRITE,
           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    yesno("MAP_FIXED replaces", q == p + 3 * PAGE && all_bytes(p + 3 * PAGE, PAGE, 0));
    report("munmap all", syscall(SYS_munmap, p, 4 * PAGE));
    report("munmap already unmapped", syscall(SYS_munmap, p, 4 * PAGE));

    /* A big reservation that is never touched costs nothing. */
    void *big = mm(NULL, 1UL << 30, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    printf("mmap 1 GiB noreserve: %s\n", big == MAP_FAILED ? errname(errno) : "ok");
    if (big != MAP_FAILED) {
        ((char *)big)[(1UL << 30) - 1] = 7;
        yesno("last byte of 1 GiB", ((char *)big)[(1UL << 30) - 1] == 7);
        report("munmap 1 GiB", syscall(SYS_munmap, big, 1UL << 30));
    }
}

static void test_mremap(void)
{
    unsigned char *p = mm(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    must(p != MAP_FAILED, "mmap for mremap");
    memset(p, 0x11, 2 * PAGE);
    unsigned char *r = (void *)syscall(SYS_mremap, p, 2 * PAGE, 64 * PAGE, MREMAP_MAYMOVE);
    printf("mremap grow maymove: %s\n", r == MAP_FAILED ? errname(errno) : "ok");
    must(r != MAP_FAILED, "mremap grow");
    yesno("mremap keeps contents", all_bytes(r, 2 * PAGE, 0x11));
    yesno("mremap new part zero", all_bytes(r + 2 * PAGE, 62 * PAGE, 0));
    memset(r + 63 * PAGE, 0x22, PAGE);
    unsigned char *s = (void *)syscall(SYS_mremap, r, 64 * PAGE, PAGE, 0);
    yesno("mremap shrink in place", s == r);
    yesno("shrunk mapping keeps contents", all_bytes(s, PAGE, 0x11));

    /* Move to a chosen address with MREMAP_FIXED. */
    unsigned char *dst = mm(NULL, 8 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    must(dst != MAP_FAILED, "mmap dst");
    unsigned char *m = (void *)syscall(SYS_mremap, s, PAGE, 2 * PAGE,
                                       MREMAP_MAYMOVE | MREMAP_FIXED, dst + 4 * PAGE);
    yesno("mremap FIXED lands at target", m == dst + 4 * PAGE);
    yesno("mremap FIXED keeps contents", m == dst + 4 * PAGE && all_bytes(m, PAGE, 0x11));
    report("mremap old address is gone", syscall(SYS_mremap, s, PAGE, PAGE, 0));
    report("munmap dst", syscall(SYS_munmap, dst, 8 * PAGE));
}

static void test_brk(void)
{
    char *cur = (char *)syscall(SYS_brk, 0);
    yesno("brk(0) nonzero", cur != NULL);
    char *want = cur + 64 * PAGE;
    char *got = (char *)syscall(SYS_brk, want);
    yesno("brk grows", got == want);
    if (got == want) {
        yesno("new brk memory is zero", all_bytes((unsigned char *)cur, 64 * PAGE, 0));
        memset(cur, 0x33, 64 * PAGE);
        yesno("new brk memory writable", all_bytes((unsigned char *)cur, 64 * PAGE, 0x33));
    }
    got = (char *)syscall(SYS_brk, cur);
    yesno("brk shrinks back", got == cur);
    got = (char *)syscall(SYS_brk, cur + PAGE);
    yesno("brk regrow", got == cur + PAGE);
    yesno("regrown brk memory is zero", all_bytes((unsigned char *)cur, PAGE, 0));
    syscall(SYS_brk, cur);
}

static void test_file_mappings(void)
{
    int fd = open("hello.txt", O_RDONLY);
    must(fd >= 0, "open hello.txt");
    /* A private writable mapping of a read-only fd is allowed; writes are CoW. */
    char *p = mm(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    printf("mmap private file: %s\n", p == MAP_FAILED ? errname(errno) : "ok");
    must(p != MAP_FAILED, "mmap private file");
    printf("mapped contents: \"%.12s\"\n", p);
    yesno("tail of page is zero", all_bytes((unsigned char *)p + 13, PAGE - 13, 0));
    p[0] = 'J';
    printf("after private write: \"%.5s\"\n", p);
    char buf[16] = { 0 };
    syscall(SYS_pread64, fd, buf, 5, 0);
    printf("file still reads: \"%.5s\"\n", buf);
    char *p2 = mm(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    must(p2 != MAP_FAILED, "second private mapping");
    printf("second mapping sees: \"%.5s\"\n", p2);
    char *sh = mm(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
    printf("mmap shared read-only: %s\n", sh == MAP_FAILED ? errname(errno) : "ok");
    if (sh != MAP_FAILED)
        printf("shared mapping sees: \"%.5s\"\n", sh);
    sh = mm(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    printf("mmap shared writable on O_RDONLY fd: %s\n", sh == MAP_FAILED ? errname(errno) : "mapped");
    report("munmap file mapping", syscall(SYS_munmap, p, PAGE));
    report("close after mmap", close(fd));
    printf("mapping outlives fd: \"%.5s\"\n", p2);
    munmap(p2, PAGE);

    int pf = open("pages.bin", O_RDONLY);
    must(pf >= 0, "open pages.bin");
    unsigned char *pg = mm(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE, pf, PAGE);
    printf("mmap at offset: %s\n", pg == MAP_FAILED ? errname(errno) : "ok");
    if (pg != MAP_FAILED) {
        yesno("offset page 1 is 'B'", all_bytes(pg, PAGE, 'B'));
        yesno("offset page 2 is 'C'", all_bytes(pg + PAGE, PAGE, 'C'));
        report("mprotect file mapping rw (private)", syscall(SYS_mprotect, pg, PAGE, PROT_READ | PROT_WRITE));
        pg[5] = 'x';
        yesno("private page changed, rest intact", pg[5] == 'x' && pg[4] == 'B' && pg[6] == 'B');
        munmap(pg, 2 * PAGE);
    }
    unsigned char check;
    syscall(SYS_pread64, pf, &check, 1, PAGE + 5);
    printf("pages.bin byte unchanged: %c\n", check);
    close(pf);
}

/* FNV-1a over a large deterministic buffer. */
static void test_big_buffer(void)
{
    size_t n = 64UL << 20;
    uint64_t *b = malloc(n);
    must(b != NULL, "malloc 64 MiB");
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (size_t i = 0; i < n / 8; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        b[i] = x;
    }
    uint64_t h = 0xcbf29ce484222325ULL;
    const unsigned char *c = (const unsigned char *)b;
    for (size_t i = 0; i < n; i++) {
        h ^= c[i];
        h *= 0x100000001b3ULL;
    }
    printf("fnv1a of 64 MiB: %016llx\n", (unsigned long long)h);

    /* Growing with realloc moves the data (glibc uses mremap). */
    uint64_t *g = realloc(b, 2 * n);
    must(g != NULL, "realloc 128 MiB");
    uint64_t h2 = 0xcbf29ce484222325ULL;
    c = (const unsigned char *)g;
    for (size_t i = 0; i < n; i++) {
        h2 ^= c[i];
        h2 *= 0x100000001b3ULL;
    }
    yesno("realloc preserves data", h2 == h);
    free(g);

    /* Many small allocations come from the brk heap. */
    uint64_t sum = 0;
    char *ptrs[4096];
    for (int i = 0; i < 4096; i++) {
        ptrs[i] = malloc(100 + i % 200);
        must(ptrs[i] != NULL, "small malloc");
        memset(ptrs[i], i & 0xff, 100);
    }
    for (int i = 0; i < 4096; i++) {
        sum += (unsigned char)ptrs[i][99];
        free(ptrs[i]);
    }
    printf("small allocations sum: %llu\n", (unsigned long long)sum);
}

/* Pages that were mapped keep their data through PROT_NONE: a 64 KiB area filled,
 * made inaccessible, then readable and writable again reads its data back (the
 * platform must keep the frames of PROT_NONE pages and give them the new rights). */
static void test_prot_none(void)
{
    enum { Len = 16 * PAGE };
    unsigned char *p = mm(NULL, Len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    must(p != MAP_FAILED, "mmap prot_none area");
    memset(p, 0xa5, Len);
    report("mprotect none", syscall(SYS_mprotect, p, Len, PROT_NONE));
    report("mprotect none to rw", syscall(SYS_mprotect, p, Len, PROT_READ | PROT_WRITE));
    yesno("data kept through PROT_NONE", all_bytes(p, Len, 0xa5));
    memset(p, 0x3c, Len);
    yesno("writable after PROT_NONE", all_bytes(p, Len, 0x3c));
    /* Through PROT_NONE to read-only, then back: half of it touched in between. */
    report("mprotect none again", syscall(SYS_mprotect, p, Len, PROT_NONE));
    report("mprotect none to read", syscall(SYS_mprotect, p, Len, PROT_READ));
    yesno("readable after PROT_NONE", all_bytes(p, Len / 2, 0x3c));
    report("mprotect read to rw", syscall(SYS_mprotect, p, Len, PROT_READ | PROT_WRITE));
    yesno("all data kept", all_bytes(p, Len, 0x3c));
    report("munmap prot_none area", syscall(SYS_munmap, p, Len));
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: memory DATADIR\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    must(chdir(argv[1]) == 0, "chdir data dir");
    test_anon();
    test_prot_none();
    test_mremap();
    test_brk();
    test_file_mappings();
    test_big_buffer();
    printf("done\n");
    return 0;
}
