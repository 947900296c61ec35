/* Hostile arguments to the foundation syscalls: NULL and kernel pointers,
 * unmapped pages, huge lengths, invalid flags and bad fds. Prints only the
 * errno name (or "ok"/a deterministic value) of each call; every case here
 * has one well-defined Linux answer. argv[1] is the harness's data dir
 * (hello.txt, link -> hello.txt, sub/). Raw syscall() everywhere so libc
 * wrappers cannot second-guess the arguments. */
#include "common.h"
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <termios.h>
#include <time.h>

#define R(label, call) report(label, (call))
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_PRIVATE_FLAG 128

static void *bad;        /* an unmapped user page */
static char buf[4096];
static int fd;           /* hello.txt, read-only */
static int dfd;          /* the data dir */

static void files(void)
{
    R("read NULL buffer", syscall(SYS_read, fd, NULL, 10L));
    R("read kernel buffer", syscall(SYS_read, fd, KERNEL_ADDR, 10L));
    R("read unmapped buffer", syscall(SYS_read, fd, bad, 10L));
    R("read huge count", syscall(SYS_read, fd, buf, (size_t)-1));
    report_val("read NULL buffer count 0", syscall(SYS_read, fd, NULL, 0L));
    R("read fd -1", syscall(SYS_read, -1, buf, 10L));
    R("read fd 9999", syscall(SYS_read, 9999, buf, 10L));
    R("read directory", syscall(SYS_read, dfd, buf, 10L));
    R("write to O_RDONLY fd", syscall(SYS_write, fd, "x", 1L));
    R("write fd -1", syscall(SYS_write, -1, "x", 1L));
    R("write NULL buffer", syscall(SYS_write, 1, NULL, 10L));
    R("write kernel buffer", syscall(SYS_write, 1, KERNEL_ADDR, 10L));
    report_val("write NULL buffer count 0", syscall(SYS_write, 1, NULL, 0L));
    R("pread64 negative offset", syscall(SYS_pread64, fd, buf, 10L, -1L));
    R("pread64 offset+count overflows", syscall(SYS_pread64, fd, buf, 10L, (long)LLONG_MAX));
    R("pread64 NULL buffer", syscall(SYS_pread64, fd, NULL, 10L, 0L));
    R("pread64 directory", syscall(SYS_pread64, dfd, buf, 10L, 0L));
    R("pread64 fd -1", syscall(SYS_pread64, -1, buf, 10L, 0L));

    struct iovec iov[2] = { { buf, 10 }, { buf, 10 } };
    R("readv iovcnt -1", syscall(SYS_readv, fd, iov, -1));
    R("readv iovcnt 1025", syscall(SYS_readv, fd, iov, 1025));
    R("readv NULL iov", syscall(SYS_readv, fd, NULL, 1));
    R("readv kernel iov", syscall(SYS_readv, fd, KERNEL_ADDR, 1));
    R("readv unmapped iov", syscall(SYS_readv, fd, bad, 1));
    struct iovec nulbase = { NULL, 10 };
    R("readv NULL iov_base", syscall(SYS_readv, fd, &nulbase, 1));
    struct iovec neg = { buf, (size_t)-1 };
    R("readv negative iov_len", syscall(SYS_readv, fd, &neg, 1));
    report_val("readv iovcnt 0", syscall(SYS_readv, fd, iov, 0));
    R("readv fd -1", syscall(SYS_readv, -1, iov, 1));
    R("writev NULL iov", syscall(SYS_writev, 1, NULL, 1));
    R("writev iovcnt -1", syscall(SYS_writev, 1, iov, -1));
    R("writev to O_RDONLY fd", syscall(SYS_writev, fd, iov, 1));

    R("lseek bad whence", syscall(SYS_lseek, fd, 0L, 99));
    R("lseek negative result", syscall(SYS_lseek, fd, -1L, SEEK_SET));
    R("lseek before start from end", syscall(SYS_lseek, fd, -100L, SEEK_END));
    R("lseek fd -1", syscall(SYS_lseek, -1, 0L, SEEK_SET));
    R("close fd -1", syscall(SYS_close, -1));
    R("close fd 9999", syscall(SYS_close, 9999));
    R("close fd INT_MAX", syscall(SYS_close, INT_MAX));

    R("openat NULL path", syscall(SYS_openat, AT_FDCWD, NULL, O_RDONLY));
    R("openat kernel path", syscall(SYS_openat, AT_FDCWD, KERNEL_ADDR, O_RDONLY));
    R("openat unmapped path", syscall(SYS_openat, AT_FDCWD, bad, O_RDONLY));
    R("openat empty path", syscall(SYS_openat, AT_FDCWD, "", O_RDONLY));
    R("openat bad dirfd", syscall(SYS_openat, 9999, "hello.txt", O_RDONLY));
    R("openat file as dirfd", syscall(SYS_openat, fd, "hello.txt", O_RDONLY));
    R("openat dir O_WRONLY", syscall(SYS_openat, AT_FDCWD, "sub", O_WRONLY));
    R("openat dir O_RDWR", syscall(SYS_openat, AT_FDCWD, "sub", O_RDWR));
    R("openat O_DIRECTORY file", syscall(SYS_openat, AT_FDCWD, "hello.txt", O_RDONLY | O_DIRECTORY));
    R("openat missing", syscall(SYS_openat, AT_FDCWD, "missing/x", O_RDONLY));
    R("openat through file", syscall(SYS_openat, AT_FDCWD, "hello.txt/x", O_RDONLY));
    R("openat file with trailing slash", syscall(SYS_openat, AT_FDCWD, "hello.txt/", O_RDONLY));
    R("openat O_NOFOLLOW link", syscall(SYS_openat, AT_FDCWD, "link", O_RDONLY | O_NOFOLLOW));
    static char longname[300], longpath[PATH_MAX + 10];
    memset(longname, 'n', sizeof longname - 1);
    R("openat component > NAME_MAX", syscall(SYS_openat, AT_FDCWD, longname, O_RDONLY));
    memset(longpath, 'p', sizeof longpath - 1);
    for (int i = 100; i < (int)sizeof longpath - 1; i += 100)
        longpath[i] = '/';
    R("openat path > PATH_MAX", syscall(SYS_openat, AT_FDCWD, longpath, O_RDONLY));

    struct stat st;
    R("fstat fd -1", syscall(SYS_fstat, -1, &st));
    R("fstat NULL buffer", syscall(SYS_fstat, fd, NULL));
    R("fstat kernel buffer", syscall(SYS_fstat, fd, KERNEL_ADDR));
    R("fstat unmapped buffer", syscall(SYS_fstat, fd, bad));
    R("newfstatat NULL path", syscall(SYS_newfstatat, AT_FDCWD, NULL, &st, 0));
    R("newfstatat kernel path", syscall(SYS_newfstatat, AT_FDCWD, KERNEL_ADDR, &st, 0));
    R("newfstatat empty path", syscall(SYS_newfstatat, AT_FDCWD, "", &st, 0));
    R("newfstatat bad flags", syscall(SYS_newfstatat, AT_FDCWD, "hello.txt", &st, 0x40000000));
    R("newfstatat NULL buffer", syscall(SYS_newfstatat, AT_FDCWD, "hello.txt", NULL, 0));
    R("newfstatat bad dirfd", syscall(SYS_newfstatat, 9999, "hello.txt", &st, 0));
    R("newfstatat AT_EMPTY_PATH bad fd", syscall(SYS_newfstatat, 9999, "", &st, AT_EMPTY_PATH));
    R("statx AT_EMPTY_PATH bad fd", syscall(SYS_statx, 9999, "", AT_EMPTY_PATH, 0x7ffU, buf));
    R("statx NULL buffer", syscall(SYS_statx, AT_FDCWD, "hello.txt", 0, 0x7ffU, NULL));
    R("statx NULL path", syscall(SYS_statx, AT_FDCWD, NULL, 0, 0x7ffU, buf));
    R("statx bad flags", syscall(SYS_statx, AT_FDCWD, "hello.txt", 0x40000000, 0x7ffU, buf));
    R("statx both sync types", syscall(SYS_statx, AT_FDCWD, "hello.txt", 0x6000, 0x7ffU, buf));
    R("statx reserved mask", syscall(SYS_statx, AT_FDCWD, "hello.txt", 0, 0x80000000U, buf));
    R("statx empty path", syscall(SYS_statx, AT_FDCWD, "", 0, 0x7ffU, buf));

    int dir2 = (int)syscall(SYS_openat, AT_FDCWD, ".", O_RDONLY | O_DIRECTORY);
    must(dir2 >= 0, "open .");
    R("getdents64 on file", syscall(SYS_getdents64, fd, buf, sizeof buf));
    R("getdents64 fd -1", syscall(SYS_getdents64, -1, buf, sizeof buf));
    R("getdents64 tiny buffer", syscall(SYS_getdents64, dir2, buf, 1L));
    R("getdents64 NULL buffer", syscall(SYS_getdents64, dir2, NULL, 4096L));
    R("getdents64 kernel buffer", syscall(SYS_getdents64, dir2, KERNEL_ADDR, 4096L));
    close(dir2);

    R("readlinkat on file", syscall(SYS_readlinkat, AT_FDCWD, "hello.txt", buf, 100L));
    R("readlinkat bufsiz 0", syscall(SYS_readlinkat, AT_FDCWD, "link", buf, 0L));
    R("readlinkat bufsiz -1", syscall(SYS_readlinkat, AT_FDCWD, "link", buf, -1L));
    R("readlinkat NULL buffer", syscall(SYS_readlinkat, AT_FDCWD, "link", NULL, 100L));
    R("readlinkat NULL path", syscall(SYS_readlinkat, AT_FDCWD, NULL, buf, 100L));
    R("readlink missing", syscall(SYS_readlink, "missing", buf, 100L));

    R("faccessat bad mode", syscall(SYS_faccessat, AT_FDCWD, "hello.txt", 0x10));
    R("faccessat NULL path", syscall(SYS_faccessat, AT_FDCWD, NULL, F_OK));
    R("faccessat2 bad flags", syscall(SYS_faccessat2, AT_FDCWD, "hello.txt", F_OK, 0x1));
    R("faccessat2 bad mode", syscall(SYS_faccessat2, AT_FDCWD, "hello.txt", 0x80, 0));
    R("faccessat through file", syscall(SYS_faccessat, AT_FDCWD, "hello.txt/x", F_OK));
    R("faccessat empty path", syscall(SYS_faccessat, AT_FDCWD, "", F_OK));

    R("getcwd size 0", syscall(SYS_getcwd, buf, 0L));
    R("getcwd size 1", syscall(SYS_getcwd, buf, 1L));
    R("getcwd NULL buffer", syscall(SYS_getcwd, NULL, 4096L));
    R("getcwd kernel buffer", syscall(SYS_getcwd, KERNEL_ADDR, 4096L));
    R("chdir NULL", syscall(SYS_chdir, NULL));
    R("chdir kernel path", syscall(SYS_chdir, KERNEL_ADDR));
    R("chdir file", syscall(SYS_chdir, "hello.txt"));
    R("chdir empty", syscall(SYS_chdir, ""));
}

static void fds(void)
{
    struct termios t;
    R("ioctl TCGETS regular file", syscall(SYS_ioctl, fd, TCGETS, &t));
    R("ioctl TCGETS fd -1", syscall(SYS_ioctl, -1, TCGETS, &t));
    R("fcntl fd -1", syscall(SYS_fcntl, -1, F_GETFD));
    R("fcntl bad cmd", syscall(SYS_fcntl, fd, 9999));
    R("fcntl F_DUPFD negative", syscall(SYS_fcntl, fd, F_DUPFD, -1L));
    R("fcntl F_DUPFD INT_MAX", syscall(SYS_fcntl, fd, F_DUPFD, (long)INT_MAX));
    R("dup fd -1", syscall(SYS_dup, -1));
    R("dup2 bad oldfd", syscall(SYS_dup2, 9999, 5));
    R("dup2 newfd -1", syscall(SYS_dup2, fd, -1));
    R("dup2 newfd INT_MAX", syscall(SYS_dup2, fd, INT_MAX));
    R("dup3 same fd", syscall(SYS_dup3, fd, fd, 0));
    R("dup3 bad flags", syscall(SYS_dup3, fd, 60, 0x1));
    R("dup3 bad oldfd", syscall(SYS_dup3, 9999, 60, 0));
    R("dup2 bad fd onto itself", syscall(SYS_dup2, 9999, 9999));
    R("fcntl F_SETFD 0xff", syscall(SYS_fcntl, fd, F_SETFD, 0xffL));
    report_val("F_GETFD keeps only FD_CLOEXEC", syscall(SYS_fcntl, fd, F_GETFD));
    syscall(SYS_fcntl, fd, F_SETFD, 0L);
    syscall(SYS_umask, 0xffff);
    printf("umask keeps only 0777 bits: %03lo\n", (long)syscall(SYS_umask, 022));
}

static void memory(void)
{
    void *p;
#define MM(label, ...) do { p = (void *)syscall(SYS_mmap, __VA_ARGS__); \
        printf("%s: %s\n", label, p == MAP_FAILED ? errname(errno) : "ok"); } while (0)
    MM("mmap length 0", NULL, 0L, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0L);
    MM("mmap no SHARED/PRIVATE", NULL, 4096L, PROT_READ, MAP_ANONYMOUS, -1, 0L);
    MM("mmap unaligned offset", NULL, 4096L, PROT_READ, MAP_PRIVATE, fd, 1L);
    MM("mmap FIXED unaligned addr", (void *)0x10001000UL + 1, 4096L, PROT_READ,
       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0L);
    MM("mmap FIXED kernel addr", KERNEL_ADDR, 4096L, PROT_READ,
       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0L);
    MM("mmap bad fd", NULL, 4096L, PROT_READ, MAP_PRIVATE, 9999, 0L);
    MM("mmap fd -1 without ANONYMOUS", NULL, 4096L, PROT_READ, MAP_PRIVATE, -1, 0L);
    MM("mmap directory", NULL, 4096L, PROT_READ, MAP_PRIVATE, dfd, 0L);
    MM("mmap SHARED writable on O_RDONLY", NULL, 4096L, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0L);
    MM("mmap huge length", NULL, 1UL << 62, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0L);
    MM("mmap length wraps", NULL, (size_t)-4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0L);

    char *m = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    must(m != MAP_FAILED, "mmap scratch");
    R("munmap unaligned", syscall(SYS_munmap, m + 1, 4096L));
    R("munmap length 0", syscall(SYS_munmap, m, 0L));
    R("munmap kernel addr", syscall(SYS_munmap, KERNEL_ADDR, 4096L));
    R("munmap unmapped page", syscall(SYS_munmap, bad, 4096L));
    R("mprotect unaligned", syscall(SYS_mprotect, m + 1, 4096L, PROT_READ));
    R("mprotect bad prot", syscall(SYS_mprotect, m, 4096L, 0x100));
    R("mprotect unmapped", syscall(SYS_mprotect, bad, 4096L, PROT_READ));
    R("mprotect kernel addr", syscall(SYS_mprotect, KERNEL_ADDR, 4096L, PROT_READ));
    R("mprotect length 0", syscall(SYS_mprotect, m, 0L, PROT_READ));
    R("mremap unaligned", syscall(SYS_mremap, m + 1, 4096L, 8192L, MREMAP_MAYMOVE));
    R("mremap new_len 0", syscall(SYS_mremap, m, 4096L, 0L, MREMAP_MAYMOVE));
    R("mremap bad flags", syscall(SYS_mremap, m, 4096L, 8192L, 0x100));
    R("mremap FIXED without MAYMOVE", syscall(SYS_mremap, m, 4096L, 8192L, MREMAP_FIXED, bad));
    R("mremap unmapped", syscall(SYS_mremap, bad, 4096L, 8192L, MREMAP_MAYMOVE));
    /* m's first page cannot grow in place: the rest of the vma follows it. */
    R("mremap grow in place blocked", syscall(SYS_mremap, m, 4096L, 8192L, 0));
    R("madvise unaligned", syscall(SYS_madvise, m + 1, 4096L, MADV_DONTNEED));
    R("madvise bad advice", syscall(SYS_madvise, m, 4096L, 9999));
    R("madvise unmapped", syscall(SYS_madvise, bad, 4096L, MADV_DONTNEED));
    R("madvise length 0", syscall(SYS_madvise, m, 0L, MADV_DONTNEED));
    munmap(m, 3 * 4096);

    long cur = syscall(SYS_brk, 0L);
    yesno("brk kernel addr leaves brk unchanged", syscall(SYS_brk, KERNEL_ADDR) == cur);
    yesno("brk below start leaves brk unchanged", syscall(SYS_brk, 4096L) == cur);
}

static void process(void)
{
    R("uname NULL", syscall(SYS_uname, NULL));
    R("uname kernel addr", syscall(SYS_uname, KERNEL_ADDR));
    R("uname unmapped", syscall(SYS_uname, bad));
    R("arch_prctl bad code", syscall(SYS_arch_prctl, 0x9999, 0L));
    R("arch_prctl SET_FS kernel addr", syscall(SYS_arch_prctl, ARCH_SET_FS, KERNEL_ADDR));
    R("arch_prctl SET_GS kernel addr", syscall(SYS_arch_prctl, 0x1001, KERNEL_ADDR));
    R("arch_prctl GET_FS NULL", syscall(SYS_arch_prctl, ARCH_GET_FS, NULL));
    R("arch_prctl GET_FS kernel addr", syscall(SYS_arch_prctl, ARCH_GET_FS, KERNEL_ADDR));

    struct { unsigned long cur, max; } rl = { 0, 0 }, big = { 100, 10 };
    R("prlimit64 bad resource", syscall(SYS_prlimit64, 0, 9999, NULL, &rl));
    R("prlimit64 NULL old and new", syscall(SYS_prlimit64, 0, 7, NULL, NULL));
    R("prlimit64 kernel old", syscall(SYS_prlimit64, 0, 7, NULL, KERNEL_ADDR));
    R("prlimit64 kernel new", syscall(SYS_prlimit64, 0, 7, KERNEL_ADDR, NULL));
    R("prlimit64 soft > hard", syscall(SYS_prlimit64, 0, 7, &big, NULL));
    R("prlimit64 pid -1", syscall(SYS_prlimit64, -1, 7, NULL, &rl));
    struct { unsigned long cur, max; } huge = { 1UL << 31, 1UL << 31 };
    R("prlimit64 NOFILE above nr_open", syscall(SYS_prlimit64, 0, 7, &huge, NULL));

    R("getrandom NULL", syscall(SYS_getrandom, NULL, 16L, 0));
    R("getrandom kernel addr", syscall(SYS_getrandom, KERNEL_ADDR, 16L, 0));
    R("getrandom bad flags", syscall(SYS_getrandom, buf, 16L, 0xff00));
    R("getrandom RANDOM|INSECURE", syscall(SYS_getrandom, buf, 16L, 0x2 | 0x4));

    struct timespec ts;
    R("clock_gettime bad clock", syscall(SYS_clock_gettime, 999, &ts));
    R("clock_gettime NULL", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, NULL));
    R("clock_gettime kernel addr", syscall(SYS_clock_gettime, CLOCK_REALTIME, KERNEL_ADDR));
    R("clock_getres bad clock", syscall(SYS_clock_getres, 999, &ts));
    R("gettimeofday kernel tv", syscall(SYS_gettimeofday, KERNEL_ADDR, NULL));
    R("gettimeofday unmapped tz", syscall(SYS_gettimeofday, NULL, bad));

    cpu_set_t set;
    R("sched_getaffinity len 0", syscall(SYS_sched_getaffinity, 0, 0L, &set));
    R("sched_getaffinity len 7", syscall(SYS_sched_getaffinity, 0, 7L, &set));
    R("sched_getaffinity NULL", syscall(SYS_sched_getaffinity, 0, sizeof set, NULL));
    R("sched_getaffinity pid -1", syscall(SYS_sched_getaffinity, -1, sizeof set, &set));

    static int word = 1;
    struct timespec badts = { 0, 2000000000L }, negts = { -1, 0 };
    R("futex NULL WAIT", syscall(SYS_futex, NULL, FUTEX_WAIT, 0, NULL, NULL, 0));
    R("futex kernel WAKE_PRIVATE", syscall(SYS_futex, KERNEL_ADDR, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0));
    R("futex misaligned WAIT", syscall(SYS_futex, (char *)&word + 1, FUTEX_WAIT, 0, NULL, NULL, 0));
    R("futex unmapped WAIT", syscall(SYS_futex, bad, FUTEX_WAIT, 0, NULL, NULL, 0));
    R("futex unmapped WAKE shared", syscall(SYS_futex, bad, FUTEX_WAKE, 1, NULL, NULL, 0));
    report_val("futex unmapped WAKE_PRIVATE", syscall(SYS_futex, bad, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0));
    R("futex bad op", syscall(SYS_futex, &word, 99, 0, NULL, NULL, 0));
    report_val("futex WAKE count -1, no waiters", syscall(SYS_futex, &word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, -1, NULL, NULL, 0));
    R("futex tv_nsec too big", syscall(SYS_futex, &word, FUTEX_WAIT, 1, &badts, NULL, 0));
    R("futex negative timeout", syscall(SYS_futex, &word, FUTEX_WAIT, 1, &negts, NULL, 0));
    R("futex kernel timeout", syscall(SYS_futex, &word, FUTEX_WAIT, 1, KERNEL_ADDR, NULL, 0));

    R("syscall 1000", syscall(1000));
    R("syscall -1", syscall(-1L));
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: badargs DATADIR\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    must(chdir(argv[1]) == 0, "chdir data dir");
    bad = unmapped_page();
    fd = open("hello.txt", O_RDONLY);
    must(fd >= 0, "open hello.txt");
    dfd = open(".", O_RDONLY | O_DIRECTORY);
    must(dfd >= 0, "open .");
    files();
    fds();
    memory();
    process();
    printf("done\n");
    return 0;
}
