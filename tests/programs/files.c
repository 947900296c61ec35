/* File-descriptor and path syscalls on a data directory prepared by the
 * test harness (argv[1]):
 *   hello.txt  "hello, world\n" (13 bytes, mode 0644)
 *   link       symlink -> hello.txt
 *   sub/       directory (mode 0755) holding one file "a" ("A\n")
 * The program only reads: the sandbox sees the host root read-only. */
#include "common.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <termios.h>

/* The kernel's struct statx, declared here because musl's headers lack it. */
struct k_statx_timestamp { int64_t tv_sec; uint32_t tv_nsec; int32_t reserved; };
struct k_statx {
    uint32_t stx_mask, stx_blksize;
    uint64_t stx_attributes;
    uint32_t stx_nlink, stx_uid, stx_gid;
    uint16_t stx_mode, spare0;
    uint64_t stx_ino, stx_size, stx_blocks, stx_attributes_mask;
    struct k_statx_timestamp stx_atime, stx_btime, stx_ctime, stx_mtime;
    uint32_t stx_rdev_major, stx_rdev_minor, stx_dev_major, stx_dev_minor;
    uint64_t spare2[14];
};
#define K_STATX_TYPE 0x1U
#define K_STATX_MODE 0x2U
#define K_STATX_SIZE 0x200U
#define K_STATX_BASIC_STATS 0x7ffU

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

static int cmpstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_open_read(void)
{
    char buf[64];
    int fd = (int)syscall(SYS_openat, AT_FDCWD, "hello.txt", O_RDONLY | O_CLOEXEC);
    printf("openat: %s\n", fd >= 3 ? "ok fd>=3" : errname(errno));
    must(fd >= 0, "open hello.txt");

    long n = syscall(SYS_read, fd, buf, 5);
    printf("read: %ld bytes \"%.*s\"\n", n, (int)(n > 0 ? n : 0), buf);
    n = syscall(SYS_read, fd, buf, sizeof buf);
    printf("read rest: %ld bytes\n", n);
    n = syscall(SYS_read, fd, buf, sizeof buf);
    printf("read at eof: %ld bytes\n", n);

    report_val("lseek SEEK_SET 7", syscall(SYS_lseek, fd, 7, SEEK_SET));
    n = syscall(SYS_read, fd, buf, 5);
    printf("read after lseek: \"%.*s\"\n", (int)(n > 0 ? n : 0), buf);
    report_val("lseek SEEK_CUR -2", syscall(SYS_lseek, fd, -2L, SEEK_CUR));
    report_val("lseek SEEK_END 0", syscall(SYS_lseek, fd, 0, SEEK_END));
    report_val("lseek SEEK_END +100", syscall(SYS_lseek, fd, 100, SEEK_END));
    n = syscall(SYS_read, fd, buf, sizeof buf);
    printf("read past eof: %ld bytes\n", n);

    n = syscall(SYS_pread64, fd, buf, 5, 0);
    printf("pread64 @0: %ld bytes \"%.*s\"\n", n, (int)(n > 0 ? n : 0), buf);
    report_val("pread64 keeps offset", syscall(SYS_lseek, fd, 0, SEEK_CUR));
    n = syscall(SYS_pread64, fd, buf, 100, 10);
    printf("pread64 @10: %ld bytes\n", n);

    char a[3], b[4], c[20];
    struct iovec iov[3] = { { a, 3 }, { b, 4 }, { c, 20 } };
    syscall(SYS_lseek, fd, 0, SEEK_SET);
    n = syscall(SYS_readv, fd, iov, 3);
    printf("readv: %ld bytes \"%.3s|%.4s|%.5s\"\n", n, a, b, c);

    report("close", syscall(SYS_close, fd));
    report("close again", syscall(SYS_close, fd));
    report("read closed fd", syscall(SYS_read, fd, buf, 1));
}

static void test_write(void)
{
    fflush(stdout);
    static const char msg[] = "write: direct to stdout\n";
    long n = syscall(SYS_write, 1, msg, sizeof msg - 1);
    printf("write returned: %ld\n", n);
    fflush(stdout);

    struct iovec iov[3] = {
        { (void *)"writev: ", 8 }, { (void *)"", 0 }, { (void *)"three parts\n", 12 }
    };
    n = syscall(SYS_writev, 1, iov, 3);
    printf("writev returned: %ld\n", n);
    report_val("write 0 bytes", syscall(SYS_write, 1, msg, 0));
}

static void print_mode(const char *label, unsigned mode, long long size)
{
    const char *type = S_ISREG(mode) ? "reg" : S_ISDIR(mode) ? "dir"
                     : S_ISLNK(mode) ? "lnk" : "other";
    printf("%s: type=%s perm=%04o", label, type, mode & 07777);
    if (size >= 0)
        printf(" size=%lld", size);
    printf("\n");
}

static void test_stat(void)
{
    struct stat st;
    int fd = open("hello.txt", O_RDONLY);
    must(fd >= 0, "open hello.txt");
    if (syscall(SYS_fstat, fd, &st) == 0) {
        print_mode("fstat", st.st_mode, st.st_size);
        printf("fstat nlink: %lu\n", (unsigned long)st.st_nlink);
    } else
        printf("fstat: %s\n", errname(errno));

    struct stat st2;
    if (syscall(SYS_newfstatat, AT_FDCWD, "hello.txt", &st2, 0) == 0) {
        print_mode("newfstatat", st2.st_mode, st2.st_size);
        yesno("newfstatat same inode as fstat",
              st2.st_ino == st.st_ino && st2.st_dev == st.st_dev);
    } else
        printf("newfstatat: %s\n", errname(errno));

    if (syscall(SYS_newfstatat, AT_FDCWD, "link", &st2, AT_SYMLINK_NOFOLLOW) == 0)
        print_mode("newfstatat link nofollow", st2.st_mode, st2.st_size);
    else
        printf("newfstatat link nofollow: %s\n", errname(errno));
    if (syscall(SYS_newfstatat, AT_FDCWD, "link", &st2, 0) == 0) {
        print_mode("newfstatat link follow", st2.st_mode, st2.st_size);
        yesno("link follows to hello.txt", st2.st_ino == st.st_ino);
    } else
        printf("newfstatat link follow: %s\n", errname(errno));
    if (syscall(SYS_newfstatat, fd, "", &st2, AT_EMPTY_PATH) == 0)
        print_mode("newfstatat AT_EMPTY_PATH", st2.st_mode, st2.st_size);
    else
        printf("newfstatat AT_EMPTY_PATH: %s\n", errname(errno));
    if (syscall(SYS_newfstatat, AT_FDCWD, "sub", &st2, 0) == 0)
        print_mode("newfstatat sub", st2.st_mode, -1);
    else
        printf("newfstatat sub: %s\n", errname(errno));
    report("newfstatat missing", syscall(SYS_newfstatat, AT_FDCWD, "missing", &st2, 0));
    report("newfstatat through file", syscall(SYS_newfstatat, AT_FDCWD, "hello.txt/x", &st2, 0));

    struct k_statx sx;
    memset(&sx, 0, sizeof sx);
    if (syscall(SYS_statx, AT_FDCWD, "hello.txt", 0, K_STATX_BASIC_STATS, &sx) == 0) {
        print_mode("statx", sx.stx_mode, (long long)sx.stx_size);
        yesno("statx mask has TYPE|MODE|SIZE",
              (sx.stx_mask & (K_STATX_TYPE | K_STATX_MODE | K_STATX_SIZE)) ==
                  (K_STATX_TYPE | K_STATX_MODE | K_STATX_SIZE));
        yesno("statx ino matches fstat", sx.stx_ino == st.st_ino);
        printf("statx nlink: %u\n", sx.stx_nlink);
    } else
        printf("statx: %s\n", errname(errno));
    memset(&sx, 0, sizeof sx);
    if (syscall(SYS_statx, AT_FDCWD, "link", AT_SYMLINK_NOFOLLOW, K_STATX_BASIC_STATS, &sx) == 0)
        print_mode("statx link nofollow", sx.stx_mode, (long long)sx.stx_size);
    else
        printf("statx link nofollow: %s\n", errname(errno));
    memset(&sx, 0, sizeof sx);
    if (syscall(SYS_statx, fd, "", AT_EMPTY_PATH, K_STATX_SIZE, &sx) == 0)
        printf("statx AT_EMPTY_PATH size: %llu\n", (unsigned long long)sx.stx_size);
    else
        printf("statx AT_EMPTY_PATH: %s\n", errname(errno));
    report("statx missing", syscall(SYS_statx, AT_FDCWD, "missing", 0, K_STATX_BASIC_STATS, &sx));
    close(fd);
}

static void test_getdents(void)
{
    int fd = (int)syscall(SYS_openat, AT_FDCWD, ".", O_RDONLY | O_DIRECTORY);
    must(fd >= 0, "open .");
    /* A small buffer forces several calls, exercising the resume offset. */
    char buf[64];
    char *names[32];
    int count = 0, calls = 0;
    for (;;) {
        long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
        if (n < 0) {
            printf("getdents64: %s\n", errname(errno));
            break;
        }
        if (n == 0)
            break;
        calls++;
        for (long off = 0; off < n;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
            if (count < 32) {
                char *s = malloc(300);
                const char *t = d->d_type == DT_REG ? "reg" : d->d_type == DT_DIR ? "dir"
                              : d->d_type == DT_LNK ? "lnk" : "other";
                snprintf(s, 300, "%s %s", d->d_name, t);
                names[count++] = s;
            }
            off += d->d_reclen;
        }
    }
    qsort(names, count, sizeof names[0], cmpstr);
    printf("getdents64: %d entries, several calls: %s\n", count, calls > 1 ? "yes" : "no");
    for (int i = 0; i < count; i++)
        printf("  %s\n", names[i]);
    report_val("getdents64 at end", syscall(SYS_getdents64, fd, buf, sizeof buf));
    report_val("lseek dir rewind", syscall(SYS_lseek, fd, 0, SEEK_SET));
    long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
    yesno("getdents64 after rewind returns entries", n > 0);
    close(fd);
}

static void test_readlink_access(void)
{
    char buf[256];
    long n = syscall(SYS_readlinkat, AT_FDCWD, "link", buf, sizeof buf);
    if (n >= 0)
        printf("readlinkat: %ld \"%.*s\"\n", n, (int)n, buf);
    else
        printf("readlinkat: %s\n", errname(errno));
    n = syscall(SYS_readlink, "link", buf, 3);
    if (n >= 0)
        printf("readlink truncated: %ld \"%.*s\"\n", n, (int)n, buf);
    else
        printf("readlink truncated: %s\n", errname(errno));
    report("readlink on regular file", syscall(SYS_readlink, "hello.txt", buf, sizeof buf));
    report("readlink missing", syscall(SYS_readlink, "missing", buf, sizeof buf));

    report("faccessat F_OK", syscall(SYS_faccessat, AT_FDCWD, "hello.txt", F_OK));
    report("faccessat R_OK", syscall(SYS_faccessat, AT_FDCWD, "hello.txt", R_OK));
    report("faccessat dir X_OK", syscall(SYS_faccessat, AT_FDCWD, "sub", X_OK));
    report("faccessat missing", syscall(SYS_faccessat, AT_FDCWD, "missing", F_OK));
    report("faccessat2 F_OK", syscall(SYS_faccessat2, AT_FDCWD, "hello.txt", F_OK, 0));
    report("faccessat2 AT_SYMLINK_NOFOLLOW", syscall(SYS_faccessat2, AT_FDCWD, "link", F_OK, AT_SYMLINK_NOFOLLOW));
    report("faccessat2 AT_EACCESS", syscall(SYS_faccessat2, AT_FDCWD, "hello.txt", R_OK, AT_EACCESS));
    report("access R_OK", syscall(SYS_access, "sub/a", R_OK));
}

static void test_cwd(const char *dir)
{
    char buf[4096];
    long n = syscall(SYS_getcwd, buf, sizeof buf);
    /* The raw syscall returns the length including the NUL. */
    yesno("getcwd equals data dir", n > 0 && strcmp(buf, dir) == 0);
    yesno("getcwd length includes NUL", n == (long)strlen(dir) + 1);
    report("chdir sub", syscall(SYS_chdir, "sub"));
    n = syscall(SYS_getcwd, buf, sizeof buf);
    const char *slash = n > 0 ? strrchr(buf, '/') : NULL;
    printf("getcwd after chdir ends with: %s\n", slash ? slash : "?");
    report("open relative after chdir", syscall(SYS_openat, AT_FDCWD, "a", O_RDONLY));
    report("chdir ..", syscall(SYS_chdir, ".."));
    n = syscall(SYS_getcwd, buf, sizeof buf);
    yesno("getcwd back to data dir", n > 0 && strcmp(buf, dir) == 0);
    report("chdir to file", syscall(SYS_chdir, "hello.txt"));
    report("chdir missing", syscall(SYS_chdir, "missing"));

    int dfd = (int)syscall(SYS_openat, AT_FDCWD, "sub", O_RDONLY | O_DIRECTORY);
    must(dfd >= 0, "open sub");
    int fd = (int)syscall(SYS_openat, dfd, "a", O_RDONLY);
    printf("openat relative to dirfd: %s\n", fd >= 0 ? "ok" : errname(errno));
    if (fd >= 0) {
        char b[8];
        long r = read(fd, b, sizeof b);
        printf("read sub/a: %ld bytes\n", r);
        close(fd);
    }
    report("openat dirfd ../hello.txt", syscall(SYS_openat, dfd, "../hello.txt", O_RDONLY));
    report("openat O_DIRECTORY on file", syscall(SYS_openat, AT_FDCWD, "hello.txt", O_RDONLY | O_DIRECTORY));
    report("openat O_NOFOLLOW on link", syscall(SYS_openat, AT_FDCWD, "link", O_RDONLY | O_NOFOLLOW));
    report("openat missing", syscall(SYS_openat, AT_FDCWD, "missing", O_RDONLY));
    report("openat absolute path ignores dirfd", syscall(SYS_openat, dfd, "/etc/os-release", O_RDONLY));
    close(dfd);
}

static void test_fd_ops(void)
{
    int fd = open("hello.txt", O_RDONLY);
    must(fd >= 0, "open hello.txt");

    struct termios t;
    report("ioctl TCGETS on file", syscall(SYS_ioctl, fd, TCGETS, &t));

    long fl = syscall(SYS_fcntl, fd, F_GETFD);
    printf("F_GETFD: %ld\n", fl);
    report("F_SETFD FD_CLOEXEC", syscall(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC));
    printf("F_GETFD after set: %ld\n", syscall(SYS_fcntl, fd, F_GETFD));
    fl = syscall(SYS_fcntl, fd, F_GETFL);
    printf("F_GETFL accmode: %s\n", (fl & O_ACCMODE) == O_RDONLY ? "O_RDONLY" : "other");
    long d = syscall(SYS_fcntl, fd, F_DUPFD, 10);
    printf("F_DUPFD 10: %s\n", d >= 10 ? "ok fd>=10" : errname(errno));
    printf("F_DUPFD clears cloexec: %ld\n", syscall(SYS_fcntl, d, F_GETFD));
    long dc = syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 20);
    printf("F_DUPFD_CLOEXEC 20: %s, flags %ld\n", dc >= 20 ? "ok fd>=20" : errname(errno),
           syscall(SYS_fcntl, dc, F_GETFD));

    /* Duplicates share the file offset. */
    syscall(SYS_lseek, fd, 0, SEEK_SET);
    long d1 = syscall(SYS_dup, fd);
    printf("dup: %s\n", d1 >= 3 ? "ok fd>=3" : errname(errno));
    char b[4];
    syscall(SYS_read, fd, b, 4);
    report_val("dup shares offset", syscall(SYS_lseek, d1, 0, SEEK_CUR));
    report_val("dup2 to 50", syscall(SYS_dup2, fd, 50));
    report_val("dup2 same fd", syscall(SYS_dup2, 50, 50));
    report_val("dup3 to 51 O_CLOEXEC", syscall(SYS_dup3, fd, 51, O_CLOEXEC));
    printf("dup3 F_GETFD: %ld\n", syscall(SYS_fcntl, 51, F_GETFD));
    report("dup3 same fd", syscall(SYS_dup3, 51, 51, 0));
    /* dup2 onto an open fd closes it first. */
    report_val("dup2 over open fd", syscall(SYS_dup2, d1, 50));
    report_val("offset via 50", syscall(SYS_lseek, 50, 0, SEEK_CUR));
    report("close 50", syscall(SYS_close, 50));
    report("close 51", syscall(SYS_close, 51));
    report("fcntl closed fd", syscall(SYS_fcntl, 51, F_GETFD));

    mode_t old = umask(022);
    (void)old; /* the inherited value is the caller's business */
    printf("umask returns previous: %03o\n", umask(077));
    printf("umask returns previous: %03o\n", (unsigned)syscall(SYS_umask, 022));
    close(fd);
    close((int)d);
    close((int)dc);
    close((int)d1);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: files DATADIR\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    must(chdir(argv[1]) == 0, "chdir data dir");
    test_open_read();
    test_write();
    test_stat();
    test_getdents();
    test_readlink_access();
    test_cwd(argv[1]);
    test_fd_ops();
    printf("done\n");
    return 0;
}
