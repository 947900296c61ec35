/* File-system system calls against a scratch directory.
 *
 * Usage: fsops SCRATCH MODE
 *   SCRATCH  a directory this program may fill; created if missing, because a
 *            sandbox's tmpfs starts empty on every run.
 *   MODE     one group of checks (see the table at the end), or "all".
 * Each group runs in its own fresh subdirectory SCRATCH/MODE with umask 022,
 * so groups are independent of each other and of the caller's umask, and a
 * failure points at one group.
 *
 * Output rules are those of common.h and proctest.h, plus one: the output must
 * be the same on every Linux file system that supports the calls (it is checked
 * natively on ext4 and on tmpfs). So it never shows inode or device numbers,
 * times other than ones the program set itself, directory sizes (ext4 says
 * 4096, tmpfs counts entries), exact st_blocks, f_type or free space: it shows
 * relations instead ("same inode: yes", "blocks > 0: yes").
 * In multi-process checks only one process prints at a time (the other waits
 * in waitpid or on a pipe), so the order of lines is fixed. */
#include "proctest.h"
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <time.h>

/* Constants some libc headers (musl) lack; values from the kernel's uapi. */
#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif
#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE 0x01
#endif
#ifndef FALLOC_FL_PUNCH_HOLE
#define FALLOC_FL_PUNCH_HOLE 0x02
#endif
#ifndef O_TMPFILE
#define O_TMPFILE (020000000 | O_DIRECTORY)
#endif
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
#ifndef SYS_faccessat2
#define SYS_faccessat2 439
#endif

/* ------------------------------------------------------------------ helpers */

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
#define K_STATX_BASIC_STATS 0x7ffU

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

static const char *type_name(mode_t m)
{
    return S_ISREG(m) ? "reg" : S_ISDIR(m) ? "dir" : S_ISLNK(m) ? "lnk"
         : S_ISFIFO(m) ? "fifo" : S_ISSOCK(m) ? "sock" : S_ISCHR(m) ? "chr"
         : S_ISBLK(m) ? "blk" : "?";
}

static const char *dtype_name(unsigned char t)
{
    switch (t) {
    case DT_REG: return "reg";
    case DT_DIR: return "dir";
    case DT_LNK: return "lnk";
    case DT_FIFO: return "fifo";
    case DT_SOCK: return "sock";
    case DT_CHR: return "chr";
    case DT_BLK: return "blk";
    case DT_UNKNOWN: return "unknown";
    default: return "?";
    }
}

/* Prints up to n bytes of s quoted, with newlines and NULs escaped. */
static void print_quoted(const char *s, long n)
{
    putchar('"');
    for (long i = 0; i < n; i++) {
        if (s[i] == '\n')
            fputs("\\n", stdout);
        else if (s[i] == '\0')
            fputs("\\0", stdout);
        else
            putchar(s[i]);
    }
    putchar('"');
}

/* Creates (or truncates) PATH with mode 0644 (before umask) holding DATA. */
static void put(const char *path, const char *data)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    must(fd >= 0, path);
    size_t n = strlen(data);
    must(write(fd, data, n) == (ssize_t)n, "write test file");
    close(fd);
}

static void make_dir(const char *path)
{
    must(mkdir(path, 0755) == 0, path);
}

static void make_link(const char *target, const char *path)
{
    must(symlink(target, path) == 0, path);
}

/* "label: "content"" from offset 0 of FD, or the errno name. */
static void show_fd_content(const char *label, int fd)
{
    char buf[256];
    long n = pread(fd, buf, sizeof buf, 0);
    printf("%s: ", label);
    if (n < 0)
        printf("%s", errname(errno));
    else
        print_quoted(buf, n);
    printf("\n");
}

static void show_content(const char *label, const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        printf("%s: %s\n", label, errname(errno));
        return;
    }
    show_fd_content(label, fd);
    close(fd);
}

/* openat(DIRFD, PATH, FLAGS) and, when it worked, what the file holds. */
static void show_openat(const char *label, int dirfd, const char *path, int flags)
{
    int fd = (int)syscall(SYS_openat, dirfd, path, flags, 0644);
    if (fd < 0) {
        printf("%s: %s\n", label, errname(errno));
        return;
    }
    char buf[64];
    long n = read(fd, buf, sizeof buf);
    printf("%s: ok ", label);
    if (n < 0)
        printf("(read %s)", errname(errno));
    else
        print_quoted(buf, n);
    printf("\n");
    close(fd);
}

/* The deterministic part of a struct stat: type, permissions, link count and,
 * except for directories (whose size depends on the file system), size. */
static void print_stat(const char *label, const struct stat *st)
{
    printf("%s: type=%s perm=%04o nlink=%lu", label, type_name(st->st_mode),
           (unsigned)(st->st_mode & 07777), (unsigned long)st->st_nlink);
    if (!S_ISDIR(st->st_mode))
        printf(" size=%lld", (long long)st->st_size);
    printf("\n");
}

/* fstatat(DIRFD, PATH, FLAGS) through the raw syscall, printed. */
static void show_statat(const char *label, int dirfd, const char *path, int flags)
{
    struct stat st;
    if (syscall(SYS_newfstatat, dirfd, path, &st, flags) == 0)
        print_stat(label, &st);
    else
        printf("%s: %s\n", label, errname(errno));
}

static void show_stat(const char *label, const char *path)
{
    show_statat(label, AT_FDCWD, path, 0);
}

static void show_lstat(const char *label, const char *path)
{
    show_statat(label, AT_FDCWD, path, AT_SYMLINK_NOFOLLOW);
}

static void show_fstat(const char *label, int fd)
{
    struct stat st;
    if (fstat(fd, &st) == 0)
        print_stat(label, &st);
    else
        printf("%s: %s\n", label, errname(errno));
}

static struct stat must_stat(const char *path, int flags)
{
    struct stat st;
    must(fstatat(AT_FDCWD, path, &st, flags) == 0, path);
    return st;
}

static int same_inode(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev;
}

/* "label: yes" when A and B (both followed) are the same inode, or the errno. */
static void show_same(const char *label, const char *a, const char *b)
{
    struct stat sa, sb;
    if (stat(a, &sa) != 0 || stat(b, &sb) != 0)
        printf("%s: %s\n", label, errname(errno));
    else
        yesno(label, same_inode(&sa, &sb));
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static long long size_of(const char *path)
{
    return (long long)must_stat(path, 0).st_size;
}

static void show_perm(const char *label, const char *path)
{
    struct stat st;
    if (lstat(path, &st) == 0)
        printf("%s: %04o\n", label, (unsigned)(st.st_mode & 07777));
    else
        printf("%s: %s\n", label, errname(errno));
}

static void show_readlink(const char *label, const char *path, size_t bufsize)
{
    char buf[256];
    /* The raw call: musl turns a size of 0 into a 1-byte read. */
    long n = syscall(SYS_readlink, path, buf, bufsize);
    if (n < 0) {
        printf("%s: %s\n", label, errname(errno));
        return;
    }
    printf("%s: %ld ", label, n);
    print_quoted(buf, n);
    printf("\n");
}

/* Long enough for the coarse clocks that stamp ctime (one tick is at most
 * 10 ms), so that "changed" is a fact and not a race. */
static void tick(void)
{
    struct timespec ts = { 0, 30 * 1000 * 1000 };
    nanosleep(&ts, NULL);
}

static int ts_equal(struct timespec a, struct timespec b)
{
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* A child created by fork() that has done its checks: exits without running
 * atexit handlers or flushing stdio buffers inherited from the parent. */
static void child_done(int status)
{
    fflush(stdout);
    _exit(status);
}

/* ------------------------------------------------------------------- paths */

/* openat with directory fds, AT_FDCWD and bad dirfds. */
static void paths_dirfds(void)
{
    int dfd = open("d", O_RDONLY | O_DIRECTORY);
    must(dfd >= 0, "open d");
    int ffd = open("f", O_RDONLY);
    must(ffd >= 0, "open f");
    int pfd = open("d", O_PATH | O_DIRECTORY);
    must(pfd >= 0, "open d O_PATH");

    show_openat("openat dirfd g", dfd, "g", O_RDONLY);
    show_openat("openat dirfd ../f", dfd, "../f", O_RDONLY);
    show_openat("openat dirfd .", dfd, ".", O_RDONLY | O_DIRECTORY);
    show_openat("openat AT_FDCWD d/g", AT_FDCWD, "d/g", O_RDONLY);
    show_openat("openat O_PATH dir as dirfd", pfd, "g", O_RDONLY);
    show_openat("openat file as dirfd", ffd, "g", O_RDONLY);
    show_openat("openat bad dirfd", 9999, "g", O_RDONLY);
    show_openat("openat -1 as dirfd", -1, "f", O_RDONLY);
    /* An absolute path ignores the dirfd, even an invalid one. */
    show_openat("openat absolute ignores dirfd", 9999, "/dev/null", O_RDONLY);
    report("openat NULL path", syscall(SYS_openat, AT_FDCWD, NULL, O_RDONLY));

    /* AT_EMPTY_PATH: the dirfd itself is the object. */
    show_statat("fstatat file fd \"\" AT_EMPTY_PATH", ffd, "", AT_EMPTY_PATH);
    show_statat("fstatat file fd \"\" without AT_EMPTY_PATH", ffd, "", 0);
    show_statat("fstatat dir fd \"\" AT_EMPTY_PATH", dfd, "", AT_EMPTY_PATH);
    show_statat("fstatat O_PATH fd \"\" AT_EMPTY_PATH", pfd, "", AT_EMPTY_PATH);
    struct stat cwd, dot;
    long r = syscall(SYS_newfstatat, AT_FDCWD, "", &cwd, AT_EMPTY_PATH);
    if (r == 0) {
        dot = must_stat(".", 0);
        yesno("fstatat AT_FDCWD \"\" AT_EMPTY_PATH is cwd", same_inode(&cwd, &dot));
    } else
        printf("fstatat AT_FDCWD \"\" AT_EMPTY_PATH: %s\n", errname(errno));
    show_statat("fstatat bad fd \"\" AT_EMPTY_PATH", 9999, "", AT_EMPTY_PATH);
    close(dfd);
    close(ffd);
    close(pfd);
}

static void paths_nofollow_opath(void)
{
    show_openat("open O_NOFOLLOW symlink", AT_FDCWD, "lf", O_RDONLY | O_NOFOLLOW);
    show_openat("open O_NOFOLLOW regular", AT_FDCWD, "f", O_RDONLY | O_NOFOLLOW);
    /* Only the last component is protected: ld/g goes through a symlink. */
    show_openat("open O_NOFOLLOW link in the middle", AT_FDCWD, "ld/g", O_RDONLY | O_NOFOLLOW);
    show_openat("open O_CREAT|O_NOFOLLOW dangling", AT_FDCWD, "dangling",
                O_WRONLY | O_CREAT | O_NOFOLLOW);

    /* O_PATH: a handle for fstat, *at() and fcntl, but not for I/O. */
    int p = open("f", O_PATH);
    printf("open O_PATH: %s\n", p >= 0 ? "ok" : errname(errno));
    must(p >= 0, "open O_PATH");
    show_fstat("fstat O_PATH", p);
    char c;
    report("read O_PATH", read(p, &c, 1));
    report("write O_PATH", write(p, "x", 1));
    report("lseek O_PATH", lseek(p, 0, SEEK_SET));
    /* Raw syscalls: musl's fchmod retries through /proc/self/fd. */
    report("fchmod O_PATH", syscall(SYS_fchmod, p, 0600));
    long fl = fcntl(p, F_GETFL);
    yesno("F_GETFL has O_PATH", fl >= 0 && (fl & O_PATH) != 0);
    int dp = dup(p);
    printf("dup O_PATH: %s\n", dp >= 0 ? "ok" : errname(errno));
    if (dp >= 0)
        close(dp);
    close(p);

    p = open("lf", O_PATH | O_NOFOLLOW);
    printf("open O_PATH|O_NOFOLLOW symlink: %s\n", p >= 0 ? "ok" : errname(errno));
    if (p >= 0) {
        show_fstat("fstat O_PATH symlink", p);
        char buf[64];
        long n = readlinkat(p, "", buf, sizeof buf);
        if (n >= 0) {
            printf("readlinkat O_PATH symlink \"\": %ld ", n);
            print_quoted(buf, n);
            printf("\n");
        } else
            printf("readlinkat O_PATH symlink \"\": %s\n", errname(errno));
        close(p);
    }
    p = open("d", O_PATH | O_DIRECTORY);
    must(p >= 0, "open d O_PATH");
    char dbuf[512];
    report("getdents64 O_PATH dir", syscall(SYS_getdents64, p, dbuf, sizeof dbuf));
    close(p);
}

static void paths_open_flags(void)
{
    show_openat("open O_DIRECTORY file", AT_FDCWD, "f", O_RDONLY | O_DIRECTORY);
    show_openat("open O_DIRECTORY symlink to file", AT_FDCWD, "lf", O_RDONLY | O_DIRECTORY);
    report("open O_DIRECTORY dir", open("d", O_RDONLY | O_DIRECTORY));
    report("open O_DIRECTORY symlink to dir", open("ld", O_RDONLY | O_DIRECTORY));
    report("open dir O_WRONLY", open("d", O_WRONLY));
    report("open dir O_RDWR", open("d", O_RDWR));
    report("open dir O_CREAT", open("d", O_RDONLY | O_CREAT, 0644));

    report("open O_CREAT|O_EXCL existing", open("f", O_WRONLY | O_CREAT | O_EXCL, 0644));
    report("open O_CREAT|O_EXCL symlink", open("lf", O_WRONLY | O_CREAT | O_EXCL, 0644));
    report("open O_CREAT|O_EXCL dangling symlink", open("dangling", O_WRONLY | O_CREAT | O_EXCL, 0644));
    report("open O_CREAT|O_EXCL dir", open("d", O_RDONLY | O_CREAT | O_EXCL, 0644));
    int fd = open("new", O_WRONLY | O_CREAT | O_EXCL, 0640);
    report("open O_CREAT|O_EXCL new", fd);
    if (fd >= 0)
        close(fd);
    show_stat("stat new", "new");
    /* Without O_EXCL a dangling symlink is followed and its target created. */
    fd = open("dangling", O_WRONLY | O_CREAT, 0600);
    report("open O_CREAT dangling symlink", fd);
    if (fd >= 0)
        close(fd);
    show_stat("stat dangling's target", "dangling-target");
    report("open O_CREAT in missing dir", open("nodir/x", O_WRONLY | O_CREAT, 0644));
    report("open O_CREAT under a file", open("f/x", O_WRONLY | O_CREAT, 0644));

    /* O_TRUNC empties the file, even (on Linux) when opened read-only. */
    put("t", "0123456789");
    fd = open("t", O_RDONLY);
    must(fd >= 0, "open t");
    close(fd);
    printf("size after O_RDONLY open: %lld\n", size_of("t"));
    fd = open("t", O_WRONLY | O_TRUNC);
    report("open O_WRONLY|O_TRUNC", fd);
    close(fd);
    printf("size after O_WRONLY|O_TRUNC: %lld\n", size_of("t"));
    put("t", "0123456789");
    fd = open("t", O_RDONLY | O_TRUNC);
    report("open O_RDONLY|O_TRUNC", fd);
    close(fd);
    printf("size after O_RDONLY|O_TRUNC: %lld\n", size_of("t"));

    /* O_APPEND: every write lands at the end, whatever the offset; on Linux
     * even pwrite ignores its offset. Clearing the flag with F_SETFL works. */
    put("a", "start\n");
    fd = open("a", O_WRONLY | O_APPEND);
    must(fd >= 0, "open a O_APPEND");
    report_val("lseek O_APPEND file to 0", lseek(fd, 0, SEEK_SET));
    report_val("write O_APPEND", write(fd, "X\n", 2));
    report_val("offset after O_APPEND write", lseek(fd, 0, SEEK_CUR));
    report_val("pwrite O_APPEND at 0", pwrite(fd, "P", 1, 0));
    show_content("content after O_APPEND writes", "a");
    report("F_SETFL clear O_APPEND", fcntl(fd, F_SETFL, 0));
    lseek(fd, 0, SEEK_SET);
    report_val("write after clearing O_APPEND", write(fd, "Z", 1));
    show_content("content after plain write at 0", "a");
    close(fd);
}

static void paths_symlinks(void)
{
    report("open symlink loop", open("loop1", O_RDONLY));
    report("open self-referencing symlink", open("self", O_RDONLY));
    report("stat through symlink loop", stat("loop1/x", &(struct stat){0}));
    show_lstat("lstat loop1", "loop1");
    show_content("open chain c1->c2->c3->f", "c1");
    show_readlink("readlink c1", "c1", 256);
    /* Linux follows at most 40 symlinks in one lookup: s00 needs 41. */
    char name[8], target[8];
    for (int i = 0; i <= 40; i++) {
        snprintf(name, sizeof name, "s%02d", i);
        if (i == 40)
            snprintf(target, sizeof target, "f");
        else
            snprintf(target, sizeof target, "s%02d", i + 1);
        make_link(target, name);
    }
    show_content("open chain of 40 symlinks", "s01");
    show_content("open chain of 41 symlinks", "s00");
    show_stat("stat dangling symlink", "dangling2");
    show_lstat("lstat dangling symlink", "dangling2");
}

/* "./////...///f": a LEN-byte path naming f. */
static const char *long_path(size_t len)
{
    static char path[8192];
    path[0] = '.';
    memset(path + 1, '/', len - 2);
    path[len - 1] = 'f';
    path[len] = 0;
    return path;
}

static void paths_dots_and_slashes(void)
{
    show_content("open d/../f", "d/../f");
    show_content("open d/../d/../f", "d/../d/../f");
    show_content("open ./././f", "./././f");
    show_content("open .//d//g", ".//d//g");
    show_stat("stat f/..", "f/..");
    show_stat("stat nothere/..", "nothere/..");
    /* ".." after a symlink to a directory is the parent of the target. */
    show_same("ld/.. is .", "ld/..", ".");
    show_same("/.. is /", "/..", "/");
    show_same("/../../.. is /", "/../../..", "/");
    int dfd = open("d", O_RDONLY | O_DIRECTORY);
    must(dfd >= 0, "open d");
    struct stat up, dot = must_stat(".", 0);
    if (fstatat(dfd, "..", &up, 0) == 0)
        yesno("fstatat dirfd .. is .", same_inode(&up, &dot));
    else
        printf("fstatat dirfd ..: %s\n", errname(errno));
    close(dfd);

    /* A trailing slash demands a directory (and follows a final symlink). */
    show_openat("open f/", AT_FDCWD, "f/", O_RDONLY);
    show_stat("stat f/", "f/");
    show_lstat("lstat lf/", "lf/");
    show_lstat("lstat ld/", "ld/");
    show_stat("stat dangling/", "dangling2/");
    report("open d/", open("d/", O_RDONLY));
    report("open O_CREAT newf/", open("newf/", O_WRONLY | O_CREAT, 0644));
    printf("newf created anyway: %s\n", exists("newf") ? "yes" : "no");
    report("mkdir nd/", mkdir("nd/", 0755));
    show_stat("stat nd", "nd");
    report("unlink f/", unlink("f/"));
    report("rmdir nd/", rmdir("nd/"));

    /* Name limits: 255 bytes per component, 4096 (with the NUL) per path. */
    char n255[256], n256[257];
    memset(n255, 'n', 255);
    n255[255] = 0;
    memset(n256, 'm', 256);
    n256[256] = 0;
    int fd = open(n255, O_WRONLY | O_CREAT, 0644);
    report("open O_CREAT 255-byte name", fd);
    if (fd >= 0)
        close(fd);
    show_stat("stat 255-byte name", n255);
    report("open O_CREAT 256-byte name", open(n256, O_WRONLY | O_CREAT, 0644));
    report("stat 256-byte name", stat(n256, &(struct stat){0}));
    report("mkdir 256-byte name", mkdir(n256, 0755));
    show_content("open path of 4095 bytes", long_path(4095));
    show_content("open path of 4096 bytes", long_path(4096));

    /* The empty path names nothing. */
    report("open \"\"", open("", O_RDONLY));
    report("stat \"\"", stat("", &(struct stat){0}));
    report("mkdir \"\"", mkdir("", 0755));
    report("unlink \"\"", unlink(""));
    report("chdir \"\"", chdir(""));
    report("access \"\"", access("", F_OK));
    char buf[16];
    report("readlink \"\"", readlink("", buf, sizeof buf));
}

static void paths(char **argv)
{
    (void)argv;
    put("f", "hello\n");
    make_dir("d");
    put("d/g", "in d\n");
    make_link("f", "lf");
    make_link("d", "ld");
    make_link("dangling-target", "dangling");
    make_link("nowhere", "dangling2");
    make_link("loop2", "loop1");
    make_link("loop1", "loop2");
    make_link("self", "self");
    make_link("c2", "c1");
    make_link("c3", "c2");
    make_link("f", "c3");
    paths_dirfds();
    paths_nofollow_opath();
    paths_open_flags();
    paths_symlinks();
    paths_dots_and_slashes();
}

/* ------------------------------------------------------------------- share */

/* Descriptors made by dup() and inherited by fork() share one open file
 * description, hence one offset and one set of status flags; a second open()
 * makes an independent description. */
static void share(char **argv)
{
    (void)argv;
    int fd = open("s", O_RDWR | O_CREAT | O_TRUNC, 0644);
    must(fd >= 0, "open s");
    int d = dup(fd);
    must(d >= 0, "dup");
    int other = open("s", O_RDONLY);
    must(other >= 0, "open s again");

    report_val("write ab via fd", write(fd, "ab", 2));
    report_val("write cd via dup", write(d, "cd", 2));
    report_val("offset via fd", lseek(fd, 0, SEEK_CUR));
    report_val("offset via dup", lseek(d, 0, SEEK_CUR));
    report_val("offset via second open", lseek(other, 0, SEEK_CUR));

    pid_t pid = fork();
    must(pid >= 0, "fork");
    if (pid == 0) {
        /* The child's writes move the offset the parent sees. */
        ssize_t n = write(fd, "ef", 2);
        child_done(n == 2 ? 0 : 1);
    }
    report_wait("child wrote ef", pid);
    report_val("offset after child's write", lseek(fd, 0, SEEK_CUR));
    report_val("write gh via dup", write(d, "gh", 2));
    show_fd_content("content", other);

    pid = fork();
    must(pid >= 0, "fork");
    if (pid == 0)
        child_done(lseek(fd, 3, SEEK_SET) == 3 ? 0 : 1);
    report_wait("child lseek to 3", pid);
    report_val("offset after child's lseek", lseek(d, 0, SEEK_CUR));
    char buf[8] = {0};
    long n = read(fd, buf, 2);
    printf("read 2 after child's lseek: ");
    print_quoted(buf, n > 0 ? n : 0);
    printf("\n");
    must(pread(d, buf, 2, 0) == 2, "pread");
    report_val("offset after pread", lseek(fd, 0, SEEK_CUR));

    /* File status flags belong to the description, fd flags to the fd. */
    report("F_SETFL O_APPEND via fd", fcntl(fd, F_SETFL, O_APPEND));
    long fl = fcntl(d, F_GETFL);
    yesno("dup sees O_APPEND", fl >= 0 && (fl & O_APPEND));
    fl = fcntl(other, F_GETFL);
    yesno("second open sees O_APPEND", fl >= 0 && (fl & O_APPEND));
    report("F_SETFD FD_CLOEXEC via fd", fcntl(fd, F_SETFD, FD_CLOEXEC));
    report_val("dup's F_GETFD", fcntl(d, F_GETFD));

    /* Closing one of them leaves the description open for the other. */
    close(fd);
    report_val("offset via dup after closing fd", lseek(d, 0, SEEK_CUR));
    report_val("write via dup after closing fd", write(d, "ij", 2));
    show_fd_content("content", other);
    close(d);
    close(other);

    /* A regular file gives all that is asked for in one call, however large (Java's
     * FileChannel reads 1 MiB at once and trusts the count). */
    enum { Big = 1 << 20 };
    static char big[Big], back[Big];
    for (int i = 0; i < Big; i++)
        big[i] = (char)(i * 31 + i / 4096);
    fd = open("big", O_RDWR | O_CREAT | O_TRUNC, 0644);
    must(fd >= 0, "open big");
    report_val("write 1 MiB", write(fd, big, Big));
    report_val("pread 1 MiB", pread(fd, back, Big, 0));
    yesno("pread bytes right", memcmp(big, back, Big) == 0);
    lseek(fd, 0, SEEK_SET);
    memset(back, 0, Big);
    report_val("read 1 MiB", read(fd, back, Big));
    yesno("read bytes right", memcmp(big, back, Big) == 0);
    struct iovec halves[2] = { { back, Big / 2 }, { back + Big / 2, Big / 2 } };
    memset(back, 0, Big);
    report_val("preadv 2 x 512 KiB", preadv(fd, halves, 2, 0));
    yesno("preadv bytes right", memcmp(big, back, Big) == 0);
    close(fd);
    unlink("big");
}

/* ------------------------------------------------------------------- perms */

static void perms_umask(void)
{
    printf("umask(077) returns: %03o\n", (unsigned)umask(077));
    int fd = creat("u077", 0666);
    must(fd >= 0, "creat u077");
    close(fd);
    show_perm("creat 0666 under umask 077", "u077");
    must(mkdir("du077", 0777) == 0, "mkdir du077");
    show_perm("mkdir 0777 under umask 077", "du077");
    printf("umask(022) returns: %03o\n", (unsigned)umask(022));
    fd = creat("u022", 0666);
    must(fd >= 0, "creat u022");
    close(fd);
    show_perm("creat 0666 under umask 022", "u022");
    must(mkdir("du022", 0777) == 0, "mkdir du022");
    show_perm("mkdir 0777 under umask 022", "du022");
    report("mkfifo 0666", mkfifo("fifo022", 0666));
    show_perm("mkfifo 0666 under umask 022", "fifo022");
    umask(0);
    fd = open("u000", O_WRONLY | O_CREAT, 0777);
    must(fd >= 0, "open u000");
    close(fd);
    show_perm("open O_CREAT 0777 under umask 0", "u000");
    /* The umask only masks: bits outside 0777 survive at mkdir. */
    must(mkdir("dsticky", 01777) == 0, "mkdir dsticky");
    show_perm("mkdir 01777 under umask 0", "dsticky");
    umask(022);
}

static void perms_chmod(void)
{
    put("c", "x");
    make_link("c", "lc");
    report("chmod 0640", chmod("c", 0640));
    show_perm("after chmod", "c");
    int fd = open("c", O_RDONLY);
    must(fd >= 0, "open c");
    report("fchmod 0604", fchmod(fd, 0604));
    show_perm("after fchmod", "c");
    report("fchmodat 0755", fchmodat(AT_FDCWD, "c", 0755, 0));
    show_perm("after fchmodat", "c");
    report("chmod 04755", chmod("c", 04755));
    show_perm("after chmod 04755", "c");
    report("chmod 07777", chmod("c", 07777));
    show_perm("after chmod 07777", "c");
    /* Bits above 07777 are ignored, not an error. */
    report("chmod 0170644", chmod("c", 0170644));
    show_perm("after chmod 0170644", "c");
    /* chmod follows a symlink; the link's own mode stays 0777. */
    report("chmod via symlink 0600", chmod("lc", 0600));
    show_perm("target after chmod via symlink", "c");
    show_perm("symlink itself", "lc");
    /* fchmodat2 with AT_SYMLINK_NOFOLLOW on a symlink is refused. */
    report("fchmodat2 symlink AT_SYMLINK_NOFOLLOW",
           syscall(SYS_fchmodat2, AT_FDCWD, "lc", 0644, AT_SYMLINK_NOFOLLOW));
    report("fchmodat2 file AT_SYMLINK_NOFOLLOW",
           syscall(SYS_fchmodat2, AT_FDCWD, "c", 0644, AT_SYMLINK_NOFOLLOW));
    show_perm("after fchmodat2", "c");
    report("fchmodat2 bad flag", syscall(SYS_fchmodat2, AT_FDCWD, "c", 0644, 0x1000000));
    report("chmod missing", chmod("missing", 0644));
    close(fd);
}

static void show_owner(const char *label, const char *path, int nofollow)
{
    struct stat st;
    if (fstatat(AT_FDCWD, path, &st, nofollow ? AT_SYMLINK_NOFOLLOW : 0) == 0)
        printf("%s: uid=%u gid=%u\n", label, (unsigned)st.st_uid, (unsigned)st.st_gid);
    else
        printf("%s: %s\n", label, errname(errno));
}

static void perms_chown(void)
{
    put("o", "x");
    make_link("o", "lo");
    struct stat before = must_stat("o", 0);
    report("chown to own ids", chown("o", getuid(), getgid()));
    struct stat after = must_stat("o", 0);
    yesno("owner unchanged", before.st_uid == after.st_uid && before.st_gid == after.st_gid);
    yesno("owner is euid", after.st_uid == geteuid());
    report("chown -1 -1", chown("o", (uid_t)-1, (gid_t)-1));

    int root = geteuid() == 0;
    yesno("running as root", root);
    if (!root)
        return;
    /* Root may give files away; the ids are printed because they are ours. */
    report("chown 1234:5678", chown("o", 1234, 5678));
    show_owner("after chown", "o", 0);
    int fd = open("o", O_RDONLY);
    must(fd >= 0, "open o");
    report("fchown -1:4321", fchown(fd, (uid_t)-1, 4321));
    show_owner("after fchown", "o", 0);
    close(fd);
    report("lchown symlink 77:88", lchown("lo", 77, 88));
    show_owner("symlink after lchown", "lo", 1);
    show_owner("target after lchown", "o", 0);
    report("fchownat AT_SYMLINK_NOFOLLOW 99:99", fchownat(AT_FDCWD, "lo", 99, 99, AT_SYMLINK_NOFOLLOW));
    show_owner("symlink after fchownat", "lo", 1);
    report("chown via symlink 11:22", chown("lo", 11, 22));
    show_owner("target after chown via symlink", "o", 0);
    /* Changing the owner clears set-id bits, even for root (since 2.2.13);
     * setgid without group-exec (mandatory locking marker) stays. */
    chmod("o", 06755);
    report("chown of 06755 file", chown("o", 0, 0));
    show_perm("mode after chown", "o");
    chmod("o", 02644);
    report("chown of 02644 file", chown("o", 0, 0));
    show_perm("mode after chown", "o");
    must(mkdir("od", 06755) == 0 && chmod("od", 06755) == 0, "mkdir od");
    report("chown of 06755 dir", chown("od", 0, 0));
    show_perm("dir mode after chown", "od");
}

/* access/faccessat for a file of each interesting mode. Root may read and
 * write anything but executes only what has some x bit; a directory is
 * searchable for root whatever its mode. */
static void perms_access(void)
{
    static const unsigned modes[] = { 0000, 0400, 0200, 0100, 0010, 0001, 0755 };
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        char name[16];
        snprintf(name, sizeof name, "m%04o", modes[i]);
        put(name, "x");
        must(chmod(name, modes[i]) == 0, "chmod");
        printf("mode %04o: F_OK=%s", modes[i], access(name, F_OK) == 0 ? "ok" : errname(errno));
        printf(" R_OK=%s", access(name, R_OK) == 0 ? "ok" : errname(errno));
        printf(" W_OK=%s", access(name, W_OK) == 0 ? "ok" : errname(errno));
        printf(" X_OK=%s", access(name, X_OK) == 0 ? "ok" : errname(errno));
        printf(" RW_OK=%s\n", access(name, R_OK | W_OK) == 0 ? "ok" : errname(errno));
    }
    must(mkdir("d0", 0) == 0, "mkdir d0");
    report("access dir 0000 X_OK", access("d0", X_OK));
    report("access dir 0000 R_OK|W_OK", access("d0", R_OK | W_OK));
    int dfd = open(".", O_RDONLY | O_DIRECTORY);
    must(dfd >= 0, "open .");
    report("faccessat dirfd m0755 X_OK", syscall(SYS_faccessat, dfd, "m0755", X_OK));
    report("faccessat dirfd m0400 X_OK", syscall(SYS_faccessat, dfd, "m0400", X_OK));
    report("faccessat2 AT_EACCESS m0100 X_OK", syscall(SYS_faccessat2, dfd, "m0100", X_OK, AT_EACCESS));
    make_link("m0000", "lm");
    report("faccessat2 AT_SYMLINK_NOFOLLOW X_OK on symlink",
           syscall(SYS_faccessat2, dfd, "lm", X_OK, AT_SYMLINK_NOFOLLOW));
    report("faccessat2 follows symlink X_OK", syscall(SYS_faccessat2, dfd, "lm", X_OK, 0));
    report("faccessat2 bad flag", syscall(SYS_faccessat2, dfd, "m0755", F_OK, 0x1));
    report("access bad mode", access("m0755", 0x10));
    report("access missing", access("missing", F_OK));
    report("access through file", access("m0755/x", F_OK));
    /* Opening a 0000 file is allowed to root for the same reason. */
    int fd = open("m0000", O_RDONLY);
    report("open 0000 file O_RDONLY", fd);
    if (fd >= 0)
        close(fd);
    close(dfd);
    chmod("d0", 0755); /* so that anyone can delete the scratch tree */
}

static void print_times(const char *label, const char *path, int flags)
{
    struct stat st;
    if (fstatat(AT_FDCWD, path, &st, flags) != 0) {
        printf("%s: %s\n", label, errname(errno));
        return;
    }
    printf("%s: atime=%lld.%09ld mtime=%lld.%09ld\n", label,
           (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
           (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

static void perms_utimensat(void)
{
    put("u", "x");
    make_link("u", "lu");
    struct timespec t[2] = { { 1000000000, 123456789 }, { 1200000000, 987654321 } };
    report("utimensat explicit", utimensat(AT_FDCWD, "u", t, 0));
    print_times("times", "u", 0);

    struct stat before = must_stat("u", 0);
    tick();
    struct timespec omit_atime[2] = { { 0, UTIME_OMIT }, { 1300000000, 5 } };
    report("utimensat atime UTIME_OMIT", utimensat(AT_FDCWD, "u", omit_atime, 0));
    print_times("times", "u", 0);
    struct stat after = must_stat("u", 0);
    yesno("ctime changed by utimensat", !ts_equal(before.st_ctim, after.st_ctim));

    time_t now = time(NULL);
    struct timespec now_mtime[2] = { { 0, UTIME_OMIT }, { 0, UTIME_NOW } };
    report("utimensat mtime UTIME_NOW", utimensat(AT_FDCWD, "u", now_mtime, 0));
    after = must_stat("u", 0);
    printf("atime kept: %s\n", after.st_atim.tv_sec == 1000000000 ? "yes" : "no");
    yesno("mtime is now", after.st_mtim.tv_sec >= now - 5 && after.st_mtim.tv_sec <= now + 5);

    report("utimensat NULL (both now)", utimensat(AT_FDCWD, "u", NULL, 0));
    after = must_stat("u", 0);
    yesno("atime is now", after.st_atim.tv_sec >= now - 5 && after.st_atim.tv_sec <= now + 5);

    struct timespec both_omit[2] = { { 0, UTIME_OMIT }, { 0, UTIME_OMIT } };
    report("utimensat both UTIME_OMIT", utimensat(AT_FDCWD, "u", both_omit, 0));
    struct timespec bad[2] = { { 0, 1000000000 }, { 0, 0 } };
    report("utimensat tv_nsec 1e9", utimensat(AT_FDCWD, "u", bad, 0));
    report("utimensat missing", utimensat(AT_FDCWD, "missing", t, 0));

    /* On the link itself with AT_SYMLINK_NOFOLLOW; through an fd (futimens). */
    struct timespec lt[2] = { { 1100000000, 1 }, { 1100000000, 2 } };
    report("utimensat symlink AT_SYMLINK_NOFOLLOW", utimensat(AT_FDCWD, "lu", lt, AT_SYMLINK_NOFOLLOW));
    print_times("symlink times", "lu", AT_SYMLINK_NOFOLLOW);
    int fd = open("u", O_RDWR);
    must(fd >= 0, "open u");
    report("futimens", futimens(fd, t));
    print_times("times after futimens", "u", 0);
    /* A write stamps mtime with the current time. */
    report_val("write", write(fd, "y", 1));
    after = must_stat("u", 0);
    yesno("mtime changed by write", after.st_mtim.tv_sec != 1200000000);
    close(fd);
}

static void perms_truncate(void)
{
    put("tr", "0123456789");
    report("truncate to 4", truncate("tr", 4));
    show_content("after shrink", "tr");
    int fd = open("tr", O_RDWR);
    must(fd >= 0, "open tr");
    lseek(fd, 2, SEEK_SET);
    report("ftruncate to 8", ftruncate(fd, 8));
    show_content("after grow", "tr");
    report_val("offset unchanged by ftruncate", lseek(fd, 0, SEEK_CUR));
    report("truncate to 0", truncate("tr", 0));
    printf("size: %lld\n", size_of("tr"));
    report("truncate to 1 MiB", truncate("tr", 1 << 20));
    printf("size: %lld\n", size_of("tr"));
    char buf[4] = { 1, 1, 1, 1 };
    report_val("pread at 1 MiB - 2", pread(fd, buf, 4, (1 << 20) - 2));
    yesno("grown bytes are zero", buf[0] == 0 && buf[1] == 0);
    report("truncate negative", truncate("tr", -1));
    report("truncate dir", truncate(".", 0));
    report("truncate missing", truncate("missing", 0));
    int ro = open("tr", O_RDONLY);
    must(ro >= 0, "open tr read-only");
    report("ftruncate read-only fd", ftruncate(ro, 0));
    close(ro);
    close(fd);
}

static void perms_fallocate(void)
{
    int fd = open("fa", O_RDWR | O_CREAT | O_TRUNC, 0644);
    must(fd >= 0, "open fa");
    report("fallocate mode 0 0..8192", fallocate(fd, 0, 0, 8192));
    struct stat st;
    fstat(fd, &st);
    printf("size: %lld, blocks > 0: %s\n", (long long)st.st_size, st.st_blocks > 0 ? "yes" : "no");
    report("fallocate KEEP_SIZE 8192..16384", fallocate(fd, FALLOC_FL_KEEP_SIZE, 8192, 8192));
    fstat(fd, &st);
    printf("size: %lld\n", (long long)st.st_size);
    must(pwrite(fd, "abcd", 4, 4096) == 4, "pwrite fa");
    report("fallocate PUNCH_HOLE|KEEP_SIZE 4096..8192",
           fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 4096));
    char buf[4] = { 1, 1, 1, 1 };
    must(pread(fd, buf, 4, 4096) == 4, "pread fa");
    yesno("punched range reads zero", !buf[0] && !buf[1] && !buf[2] && !buf[3]);
    report("fallocate PUNCH_HOLE without KEEP_SIZE", fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 4096));
    report("fallocate len 0", fallocate(fd, 0, 0, 0));
    report("fallocate negative offset", fallocate(fd, 0, -1, 10));
    int ro = open("fa", O_RDONLY);
    report("fallocate read-only fd", fallocate(ro, 0, 0, 10));
    close(ro);
    close(fd);
}

static void perms(char **argv)
{
    (void)argv;
    perms_umask();
    perms_chmod();
    perms_chown();
    perms_access();
    perms_utimensat();
    perms_truncate();
    perms_fallocate();
}

/* ------------------------------------------------------------------ rename */

static long rename2(const char *from, const char *to, unsigned flags)
{
    return syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, flags);
}

static void rename_files(void)
{
    put("a", "A");
    put("b", "B");
    report("rename file over file", rename("a", "b"));
    yesno("source gone", !exists("a"));
    show_content("target holds", "b");

    report("rename to itself", rename("b", "b"));
    show_content("still there", "b");
    /* Two names of one inode: rename does nothing, both stay. */
    must(link("b", "b2") == 0, "link b2");
    report("rename hard link onto its twin", rename("b", "b2"));
    yesno("both names remain", exists("b") && exists("b2"));
    printf("nlink: %lu\n", (unsigned long)must_stat("b", 0).st_nlink);

    report("rename missing source", rename("missing", "x"));
    report("rename into missing dir", rename("b", "nodir/x"));
    report("rename \".\"", rename(".", "x"));
    report("rename onto \"..\"", rename("b", ".."));
    report("rename file to name with trailing slash", rename("b", "bx/"));
    report("rename empty names", rename("", "x"));

    /* Renaming a symlink renames the link, not its target. */
    make_link("b", "lb");
    report("rename symlink", rename("lb", "lb2"));
    show_lstat("lstat new name", "lb2");
    show_content("through new name", "lb2");
    yesno("target untouched", exists("b"));

    /* renameat with directory fds on both sides. */
    make_dir("from");
    make_dir("to");
    put("from/x", "X");
    int f = open("from", O_RDONLY | O_DIRECTORY), t = open("to", O_RDONLY | O_DIRECTORY);
    must(f >= 0 && t >= 0, "open from/to");
    report("renameat between dirfds", renameat(f, "x", t, "y"));
    show_content("to/y", "to/y");
    close(f);
    close(t);
}

static void rename_dirs(void)
{
    make_dir("p");
    make_dir("p/q");
    put("p/q/file", "in q");
    make_dir("empty");
    make_dir("full");
    put("full/x", "x");
    put("file", "f");

    make_dir("src");
    put("src/in", "in src");
    report("rename dir over empty dir", rename("src", "empty"));
    show_content("moved content", "empty/in");
    yesno("source gone", !exists("src"));
    report("rename dir over non-empty dir", rename("p", "full"));
    report("rename dir onto file", rename("p", "file"));
    report("rename file onto dir", rename("file", "p"));
    report("rename dir into own subdir", rename("p", "p/q/r"));
    report("rename dir into itself", rename("p", "p/r"));
    report("rename dir onto its subdir", rename("p", "p/q"));
    report("rename subdir into itself", rename("p/q", "p/q/r"));
    report("rename dir with trailing slashes", rename("p/", "p2/"));
    /* The moved directory's ".." now leads to its new parent. */
    report("rename subdir to another parent", rename("p2/q", "empty/q"));
    show_same("empty/q/.. is empty", "empty/q/..", "empty");
    show_content("file moved along", "empty/q/file");
    printf("nlink of old parent: %lu\n", (unsigned long)must_stat("p2", 0).st_nlink);
    printf("nlink of new parent: %lu\n", (unsigned long)must_stat("empty", 0).st_nlink);
}

static void rename_flags(void)
{
    put("n1", "one");
    put("n2", "two");
    report("RENAME_NOREPLACE onto existing", rename2("n1", "n2", RENAME_NOREPLACE));
    show_content("n2 kept", "n2");
    report("RENAME_NOREPLACE onto new name", rename2("n1", "n3", RENAME_NOREPLACE));
    yesno("n1 gone", !exists("n1"));
    show_content("n3", "n3");

    report("RENAME_EXCHANGE two files", rename2("n2", "n3", RENAME_EXCHANGE));
    show_content("n2 after exchange", "n2");
    show_content("n3 after exchange", "n3");
    make_dir("xd");
    put("xd/inside", "inside");
    report("RENAME_EXCHANGE file and dir", rename2("n2", "xd", RENAME_EXCHANGE));
    show_lstat("n2 now", "n2");
    show_lstat("xd now", "xd");
    show_content("n2/inside", "n2/inside");
    report("RENAME_EXCHANGE with missing", rename2("n3", "nothere", RENAME_EXCHANGE));
    report("RENAME_EXCHANGE|RENAME_NOREPLACE", rename2("n3", "xd", RENAME_EXCHANGE | RENAME_NOREPLACE));
    report("renameat2 unknown flag", rename2("n3", "n4", 1u << 30));
    report("RENAME_EXCHANGE dir with own child", rename2("n2", "n2/inside", RENAME_EXCHANGE));
}

static void renames(char **argv)
{
    (void)argv;
    rename_files();
    rename_dirs();
    rename_flags();
}

/* ------------------------------------------------------------------- links */

static void show_nlink(const char *label, const char *path)
{
    struct stat st;
    if (lstat(path, &st) == 0)
        printf("%s: %lu\n", label, (unsigned long)st.st_nlink);
    else
        printf("%s: %s\n", label, errname(errno));
}

static void links_hard(void)
{
    put("f", "data");
    show_nlink("nlink new file", "f");
    report("link f g", link("f", "g"));
    show_nlink("nlink after link", "f");
    show_same("same inode as link", "f", "g");
    report("link onto existing name", link("f", "g"));
    report("link missing source", link("missing", "h"));
    report("link into missing dir", link("f", "nodir/h"));
    make_dir("dir");
    report("link of a directory", link("dir", "dirlink"));
    report("unlink f", unlink("f"));
    show_nlink("nlink of g after unlink f", "g");
    show_content("g still holds", "g");

    /* link() does not follow a final symlink; linkat can be told to. */
    make_link("g", "lg");
    report("link symlink", link("lg", "hl_nofollow"));
    show_lstat("hard link to symlink", "hl_nofollow");
    report("linkat AT_SYMLINK_FOLLOW", linkat(AT_FDCWD, "lg", AT_FDCWD, "hl_follow", AT_SYMLINK_FOLLOW));
    show_lstat("hard link via followed symlink", "hl_follow");
    report("linkat bad flag", linkat(AT_FDCWD, "g", AT_FDCWD, "x", 0x1));

    /* Directory link counts: 2 + number of subdirectories. */
    show_nlink("nlink empty dir", "dir");
    make_dir("dir/s1");
    make_dir("dir/s2");
    put("dir/file", "x");
    show_nlink("nlink dir with 2 subdirs and a file", "dir");
    report("rmdir dir/s1", rmdir("dir/s1"));
    show_nlink("nlink after rmdir", "dir");
}

static void links_symbolic(void)
{
    report("symlink to missing target", symlink("no/such/target", "dang"));
    show_lstat("lstat dangling", "dang");
    show_readlink("readlink", "dang", 256);
    show_readlink("readlink into 5 bytes", "dang", 5);
    report("symlink onto existing name", symlink("x", "g"));
    report("symlink empty target", symlink("", "empty"));
    report("symlink in missing dir", symlink("x", "nodir/l"));
    show_readlink("readlink regular file", "g", 256);
    show_readlink("readlink dir", "dir", 256);
    show_readlink("readlink missing", "missing", 256);
    show_readlink("readlink size 0", "dang", 0);
    show_readlink("readlink of symlink to symlink", "lg", 256);
}

static void links_unlink_rmdir(void)
{
    make_dir("e");
    make_dir("ne");
    put("ne/x", "x");
    put("plain", "p");
    make_link("e", "le");
    report("unlink dir", unlink("e"));
    report("unlink missing", unlink("missing"));
    report("unlinkat AT_REMOVEDIR file", unlinkat(AT_FDCWD, "plain", AT_REMOVEDIR));
    report("unlinkat bad flag", unlinkat(AT_FDCWD, "plain", 0x1));
    report("rmdir file", rmdir("plain"));
    report("rmdir non-empty", rmdir("ne"));
    report("rmdir .", rmdir("."));
    report("rmdir ..", rmdir(".."));
    report("rmdir e/.", rmdir("e/."));
    report("rmdir symlink to dir", rmdir("le"));
    report("rmdir missing", rmdir("missing"));
    report("mkdir existing dir", mkdir("e", 0755));
    report("mkdir existing file", mkdir("plain", 0755));
    report("mkdir over dangling symlink", mkdir("dang", 0755));
    report("mkdir in missing dir", mkdir("nodir/x", 0755));
    report("unlink symlink to dir", unlink("le"));
    yesno("dir survives", exists("e"));
    report("unlinkat AT_REMOVEDIR dir", unlinkat(AT_FDCWD, "e", AT_REMOVEDIR));
    yesno("dir gone", !exists("e"));
}

static void links_open_after_unlink(void)
{
    /* An open file outlives its last name. */
    put("ul", "still here");
    int fd = open("ul", O_RDWR);
    must(fd >= 0, "open ul");
    report("unlink open file", unlink("ul"));
    report("stat by name", stat("ul", &(struct stat){0}));
    show_fd_content("read after unlink", fd);
    show_fstat("fstat after unlink", fd);
    report_val("pwrite after unlink", pwrite(fd, "STILL", 5, 0));
    show_fd_content("read after write", fd);
    report("ftruncate after unlink", ftruncate(fd, 5));
    show_fd_content("read after ftruncate", fd);
    close(fd);

    /* A removed directory: no new entries, getdents says ENOENT. */
    make_dir("gone");
    int dfd = open("gone", O_RDONLY | O_DIRECTORY);
    must(dfd >= 0, "open gone");
    report("rmdir open dir", rmdir("gone"));
    show_fstat("fstat removed dir", dfd);
    report("openat O_CREAT in removed dir", openat(dfd, "new", O_WRONLY | O_CREAT, 0644));
    report("mkdirat in removed dir", mkdirat(dfd, "new", 0755));
    char buf[512];
    report("getdents64 removed dir", syscall(SYS_getdents64, dfd, buf, sizeof buf));
    close(dfd);

    /* A removed cwd: getcwd fails, ".." still works. */
    int home = open(".", O_RDONLY | O_DIRECTORY);
    must(home >= 0, "open .");
    make_dir("cwdgone");
    must(chdir("cwdgone") == 0, "chdir cwdgone");
    report("rmdir own cwd by path", rmdir("../cwdgone"));
    char cwd[4096];
    report("getcwd after cwd removed", syscall(SYS_getcwd, cwd, sizeof cwd));
    report("create file in removed cwd", open("x", O_WRONLY | O_CREAT, 0644));
    report("chdir ..", chdir(".."));
    struct stat a, b;
    must(fstat(home, &a) == 0 && stat(".", &b) == 0, "stat home");
    yesno("back in the mode dir", same_inode(&a, &b));
    report("fchdir", fchdir(home));
    close(home);
}

static void links_tmpfile(void)
{
    /* O_TMPFILE: an unnamed file, later given a name through /proc/self/fd. */
    int fd = open(".", O_TMPFILE | O_RDWR, 0600);
    report("open O_TMPFILE", fd);
    if (fd < 0)
        return;
    show_fstat("fstat O_TMPFILE", fd);
    report_val("write", write(fd, "tmp", 3));
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    report("linkat /proc/self/fd AT_SYMLINK_FOLLOW",
           linkat(AT_FDCWD, proc, AT_FDCWD, "named", AT_SYMLINK_FOLLOW));
    show_content("named", "named");
    show_nlink("nlink after naming", "named");
    close(fd);
    fd = open(".", O_TMPFILE | O_RDWR | O_EXCL, 0600);
    report("open O_TMPFILE|O_EXCL", fd);
    if (fd >= 0) {
        report("linkat O_EXCL tmpfile", linkat(AT_FDCWD, proc, AT_FDCWD, "named2", AT_SYMLINK_FOLLOW));
        close(fd);
    }
    report("O_TMPFILE on a file", open("named", O_TMPFILE | O_RDWR, 0600));
    report("O_TMPFILE read-only", open(".", O_TMPFILE | O_RDONLY, 0600));
}

static void links(char **argv)
{
    (void)argv;
    links_hard();
    links_symbolic();
    links_unlink_rmdir();
    links_open_after_unlink();
}

static void tmpfile_mode(char **argv)
{
    (void)argv;
    links_tmpfile();
}

/* ------------------------------------------------------------------- dents */

enum { MaxEntries = 128 };

struct listing {
    int count, calls;
    char *name[MaxEntries];
    unsigned char type[MaxEntries];
    int64_t off[MaxEntries];
};

static void free_listing(struct listing *l)
{
    for (int i = 0; i < l->count; i++)
        free(l->name[i]);
    l->count = l->calls = 0;
}

/* Reads FD to the end with getdents64 into BUFSIZE-byte chunks. */
static long read_dir(int fd, size_t bufsize, struct listing *l)
{
    char buf[4096];
    l->count = l->calls = 0;
    for (;;) {
        long n = syscall(SYS_getdents64, fd, buf, bufsize);
        if (n <= 0)
            return n;
        l->calls++;
        for (long pos = 0; pos < n;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + pos);
            if (l->count < MaxEntries) {
                l->name[l->count] = strdup(d->d_name);
                l->type[l->count] = d->d_type;
                l->off[l->count] = d->d_off;
                l->count++;
            }
            pos += d->d_reclen;
        }
    }
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "name type" strings of a listing, sorted: the order getdents returns them
 * in is the file system's business. */
static char **sorted_entries(const struct listing *l)
{
    char **s = calloc(l->count + 1, sizeof *s);
    for (int i = 0; i < l->count; i++) {
        s[i] = malloc(300);
        snprintf(s[i], 300, "%s %s", l->name[i], dtype_name(l->type[i]));
    }
    qsort(s, l->count, sizeof *s, cmp_entry);
    return s;
}

static void free_strings(char **s)
{
    for (int i = 0; s[i]; i++)
        free(s[i]);
    free(s);
}

static int has_duplicates(char **sorted)
{
    for (int i = 0; sorted[i] && sorted[i + 1]; i++)
        if (strcmp(sorted[i], sorted[i + 1]) == 0)
            return 1;
    return 0;
}

static int contains(const struct listing *l, const char *name)
{
    for (int i = 0; i < l->count; i++)
        if (strcmp(l->name[i], name) == 0)
            return 1;
    return 0;
}

static int same_listing(char **a, char **b)
{
    int i = 0;
    for (; a[i] && b[i]; i++)
        if (strcmp(a[i], b[i]) != 0)
            return 0;
    return !a[i] && !b[i];
}

static void dents(char **argv)
{
    (void)argv;
    enum { Files = 40 };
    make_dir("dd");
    for (int i = 0; i < Files; i++) {
        char name[32];
        snprintf(name, sizeof name, "dd/file%02d", i);
        put(name, "x");
    }
    make_dir("dd/sub");
    make_link("file00", "dd/sym");
    report("mkfifo dd/fifo", mkfifo("dd/fifo", 0644));
    char longname[3 + 256];
    memcpy(longname, "dd/", 3);
    memset(longname + 3, 'L', 255);
    longname[258] = 0;
    put(longname, "x");

    int fd = open("dd", O_RDONLY | O_DIRECTORY);
    must(fd >= 0, "open dd");
    struct listing first, again;
    /* 300 bytes: room for the 255-byte name, and still many calls. */
    long r = read_dir(fd, 300, &first);
    report_val("getdents64 until end", r);
    char **s1 = sorted_entries(&first);
    printf("entries: %d, several calls: %s, duplicates: %s\n", first.count,
           first.calls > 1 ? "yes" : "no", has_duplicates(s1) ? "yes" : "no");
    for (int i = 0; s1[i]; i++) {
        /* The 255-byte name as "LLLLLLLL...(255 bytes) type". */
        size_t name_len = strcspn(s1[i], " ");
        if (name_len > 40)
            printf("  %.8s...(%zu bytes)%s\n", s1[i], name_len, s1[i] + name_len);
        else
            printf("  %s\n", s1[i]);
    }
    report_val("getdents64 at end", syscall(SYS_getdents64, fd, (char[512]){0}, 512));

    report_val("lseek 0", lseek(fd, 0, SEEK_SET));
    read_dir(fd, 4096, &again);
    char **s2 = sorted_entries(&again);
    yesno("same entries after rewind (4096-byte buffer)", same_listing(s1, s2));
    free_strings(s2);

    /* Each d_off is a cookie to resume after that entry. */
    int k = first.count / 2;
    report("lseek to a middle d_off", lseek(fd, first.off[k], SEEK_SET) < 0 ? -1 : 0);
    read_dir(fd, 4096, &again);
    int resumed_ok = again.count == first.count - k - 1;
    for (int i = 0; resumed_ok && i < again.count; i++)
        resumed_ok = strcmp(again.name[i], first.name[k + 1 + i]) == 0;
    yesno("resuming from d_off continues where it was", resumed_ok);
    free_listing(&again);

    /* Changes after opendir: whether a half-read listing shows them is
     * unspecified, but it must not repeat names, and after a rewind the
     * listing is current. */
    lseek(fd, 0, SEEK_SET);
    char small[300];
    must(syscall(SYS_getdents64, fd, small, sizeof small) > 0, "first getdents chunk");
    put("dd/late", "x");
    must(unlink("dd/file39") == 0, "unlink file39");
    read_dir(fd, 300, &again);
    char **s3 = sorted_entries(&again);
    yesno("no duplicates after changes", !has_duplicates(s3));
    free_strings(s3);
    free_listing(&again);
    lseek(fd, 0, SEEK_SET);
    read_dir(fd, 300, &again);
    yesno("after rewind: new entry listed", contains(&again, "late"));
    yesno("after rewind: removed entry absent", !contains(&again, "file39"));
    printf("after rewind: entries: %d\n", again.count);
    free_listing(&again);

    char tiny[16];
    lseek(fd, 0, SEEK_SET);
    report("getdents64 buffer too small for one entry", syscall(SYS_getdents64, fd, tiny, sizeof tiny));
    report("getdents64 bad address", syscall(SYS_getdents64, fd, KERNEL_ADDR, 4096));
    close(fd);
    int ffd = open("dd/file00", O_RDONLY);
    report("getdents64 on a file", syscall(SYS_getdents64, ffd, tiny, sizeof tiny));
    close(ffd);
    report("getdents64 bad fd", syscall(SYS_getdents64, 9999, tiny, sizeof tiny));

    /* The libc view: opendir/readdir/rewinddir. */
    DIR *dir = opendir("dd/sub");
    must(dir != NULL, "opendir");
    int n = 0;
    while (readdir(dir))
        n++;
    printf("readdir empty dir: %d entries\n", n);
    rewinddir(dir);
    n = 0;
    while (readdir(dir))
        n++;
    printf("readdir after rewinddir: %d entries\n", n);
    closedir(dir);
    free_strings(s1);
    free_listing(&first);
}

/* ------------------------------------------------------------------ statfs */

static void statfs_sync(char **argv)
{
    (void)argv;
    put("f", "data");
    struct statfs a, b;
    long r = statfs(".", &a);
    report("statfs .", r);
    if (r == 0) {
        yesno("f_bsize > 0", a.f_bsize > 0);
        printf("f_namelen: %ld\n", (long)a.f_namelen);
        yesno("f_frsize > 0", a.f_frsize > 0);
        yesno("f_bfree <= f_blocks", a.f_bfree <= a.f_blocks);
        yesno("f_bavail <= f_bfree", a.f_bavail <= a.f_bfree);
    }
    int fd = open("f", O_RDWR);
    must(fd >= 0, "open f");
    r = fstatfs(fd, &b);
    report("fstatfs", r);
    if (r == 0)
        yesno("same f_type as statfs", a.f_type == b.f_type);
    report("statfs missing", statfs("missing", &a));
    report("statfs through file", statfs("f/x", &a));
    report("fstatfs bad fd", fstatfs(9999, &a));
    report("statfs bad address", syscall(SYS_statfs, ".", KERNEL_ADDR));
    int pfd = open("f", O_PATH);
    report("fstatfs O_PATH", fstatfs(pfd, &b));

    report("fsync", fsync(fd));
    report("fdatasync", fdatasync(fd));
    report("sync_file_range WRITE", sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE));
    report("sync_file_range all flags", sync_file_range(fd, 0, 4096,
           SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER));
    report("sync_file_range bad flags", sync_file_range(fd, 0, 0, 0x100));
    report("sync_file_range negative offset", sync_file_range(fd, -1, 0, SYNC_FILE_RANGE_WRITE));
    report("syncfs", syncfs(fd));
    sync();
    printf("sync: returned\n");
    int ro = open("f", O_RDONLY);
    report("fsync read-only fd", fsync(ro));
    int dfd = open(".", O_RDONLY | O_DIRECTORY);
    report("fsync dir", fsync(dfd));
    report("fsync O_PATH", fsync(pfd));
    report("fsync bad fd", fsync(9999));
    int p[2];
    must(pipe(p) == 0, "pipe");
    report("fsync pipe", fsync(p[0]));
    report("fdatasync pipe", fdatasync(p[1]));
    report("sync_file_range pipe", sync_file_range(p[1], 0, 0, SYNC_FILE_RANGE_WRITE));
    close(p[0]);
    close(p[1]);
    close(dfd);
    close(ro);
    close(pfd);
    close(fd);
}

/* ------------------------------------------------------------------- locks */

static long setlk(int fd, int cmd, short type, short whence, off_t start, off_t len)
{
    struct flock fl = { .l_type = type, .l_whence = whence, .l_start = start, .l_len = len };
    return fcntl(fd, cmd, &fl);
}

/* F_GETLK (or F_OFD_GETLK) for a write lock on [start, start+len): prints
 * the conflicting lock, with its pid only as a relation to EXPECT_PID. */
static void show_getlk(const char *label, int fd, int cmd, off_t start, off_t len, pid_t expect_pid)
{
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
    if (fcntl(fd, cmd, &fl) != 0) {
        printf("%s: %s\n", label, errname(errno));
        return;
    }
    if (fl.l_type == F_UNLCK) {
        printf("%s: F_UNLCK\n", label);
        return;
    }
    printf("%s: %s start=%lld len=%lld", label, fl.l_type == F_WRLCK ? "F_WRLCK" : "F_RDLCK",
           (long long)fl.l_start, (long long)fl.l_len);
    if (expect_pid > 0)
        printf(" pid is parent: %s", fl.l_pid == expect_pid ? "yes" : "no");
    else
        printf(" pid: %d", (int)fl.l_pid);
    printf("\n");
}

/* For a child that said it is about to block on a lock: is it still waiting
 * a tick later? (It cannot get the lock while we hold it.) If it has already
 * exited, says how; it is reaped then, so the caller must not wait again. */
static int still_blocked(const char *label, pid_t pid)
{
    tick();
    int st;
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == 0) {
        printf("%s: yes\n", label);
        return 1;
    }
    printf("%s: no (%s)\n", label, r == pid ? describe_status(st) : errname(errno));
    return 0;
}

/* Runs FN in a forked child while the parent waits; the child prints its
 * own lines (prefixed "  child: "). Returns after the child exited. */
static void in_child(const char *label, void (*fn)(const char *path, pid_t parent), const char *path)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    must(pid >= 0, "fork");
    if (pid == 0) {
        fn(path, parent);
        child_done(0);
    }
    report_wait(label, pid);
}

static void locks_flock(const char *path)
{
    int a = open(path, O_RDWR), b = open(path, O_RDWR);
    must(a >= 0 && b >= 0, "open lock file");
    report("flock a LOCK_SH", flock(a, LOCK_SH));
    report("flock b LOCK_SH|LOCK_NB", flock(b, LOCK_SH | LOCK_NB));
    report("flock b LOCK_EX|LOCK_NB while a shares", flock(b, LOCK_EX | LOCK_NB));
    report("flock a LOCK_UN", flock(a, LOCK_UN));
    report("flock b upgrade to LOCK_EX|LOCK_NB", flock(b, LOCK_EX | LOCK_NB));
    report("flock a LOCK_SH|LOCK_NB while b exclusive", flock(a, LOCK_SH | LOCK_NB));
    /* A dup shares b's description, so it owns b's lock. */
    int bd = dup(b);
    report("flock dup of b LOCK_EX|LOCK_NB", flock(bd, LOCK_EX | LOCK_NB));
    report("flock dup of b LOCK_UN", flock(bd, LOCK_UN));
    report("flock a LOCK_EX|LOCK_NB after dup unlocked", flock(a, LOCK_EX | LOCK_NB));
    report("flock bad operation", flock(a, 0));
    report("flock bad fd", flock(9999, LOCK_SH));
    close(bd);
    close(b);

    /* Across fork: the child inherits a's description and its lock, but a
     * description of its own conflicts. */
    pid_t pid = fork();
    must(pid >= 0, "fork");
    if (pid == 0) {
        int own = open(path, O_RDWR);
        printf("  child: flock own LOCK_SH|LOCK_NB: %s\n",
               flock(own, LOCK_SH | LOCK_NB) == 0 ? "ok" : errname(errno));
        printf("  child: flock inherited LOCK_EX|LOCK_NB: %s\n",
               flock(a, LOCK_EX | LOCK_NB) == 0 ? "ok" : errname(errno));
        child_done(0);
    }
    report_wait("child checked flock", pid);

    /* A blocking LOCK_EX waits until the holder lets go. */
    int ready[2];
    must(pipe(ready) == 0, "pipe");
    pid = fork();
    must(pid >= 0, "fork");
    if (pid == 0) {
        int own = open(path, O_RDWR);
        send_byte(ready[1], 'r');
        child_done(flock(own, LOCK_EX) == 0 ? 0 : 1);
    }
    await_byte(ready[0]);
    int blocked = still_blocked("child blocked in flock LOCK_EX", pid);
    report("flock a LOCK_UN", flock(a, LOCK_UN));
    if (blocked)
        report_wait("child got the lock", pid);
    close(ready[0]);
    close(ready[1]);
    close(a);
}

static void child_record_checks(const char *path, pid_t parent)
{
    int fd = open(path, O_RDWR);
    printf("  child: ");
    show_getlk("F_GETLK [5,6)", fd, F_GETLK, 5, 1, parent);
    printf("  child: F_SETLK F_WRLCK [5,6): %s\n",
           setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 5, 1) == 0 ? "ok" : errname(errno));
    printf("  child: F_SETLK F_RDLCK [5,6): %s\n",
           setlk(fd, F_SETLK, F_RDLCK, SEEK_SET, 5, 1) == 0 ? "ok" : errname(errno));
    printf("  child: F_SETLK F_WRLCK [10,15): %s\n",
           setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 10, 5) == 0 ? "ok" : errname(errno));
    printf("  child: ");
    show_getlk("F_GETLK [3,4)", fd, F_GETLK, 3, 1, parent);
    printf("  child: ");
    show_getlk("F_GETLK [1000,1001)", fd, F_GETLK, 1000, 1, parent);
    close(fd);
}

static void child_getlk_only(const char *path, pid_t parent)
{
    int fd = open(path, O_RDWR);
    printf("  child: ");
    show_getlk("F_GETLK whole file", fd, F_GETLK, 0, 0, parent);
    close(fd);
}

static void child_read_lock(const char *path, pid_t parent)
{
    (void)parent;
    int fd = open(path, O_RDWR);
    printf("  child: F_SETLK F_RDLCK whole file: %s\n",
           setlk(fd, F_SETLK, F_RDLCK, SEEK_SET, 0, 0) == 0 ? "ok" : errname(errno));
    printf("  child: F_SETLK F_WRLCK whole file: %s\n",
           setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 0) == 0 ? "ok" : errname(errno));
    close(fd);
}

static void locks_record(const char *path)
{
    int fd = open(path, O_RDWR);
    must(fd >= 0, "open lock file");
    /* [0,10) write-locked, then [3,4) unlocked: two pieces remain. */
    report("F_SETLK F_WRLCK [0,10)", setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10));
    report("F_SETLK F_UNLCK [3,4)", setlk(fd, F_SETLK, F_UNLCK, SEEK_SET, 3, 1));
    /* Locks of one process never conflict with each other. */
    report("F_SETLK F_WRLCK [5,6) again by owner", setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 5, 1));
    show_getlk("F_GETLK by owner", fd, F_GETLK, 0, 10, 0);
    in_child("child checked record locks", child_record_checks, path);

    /* SEEK_END-relative locks are reported with absolute offsets. */
    report("F_SETLK F_UNLCK whole file", setlk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));
    report("F_SETLK F_WRLCK last 5 bytes (SEEK_END)", setlk(fd, F_SETLK, F_WRLCK, SEEK_END, -5, 5));
    in_child("child checked SEEK_END lock", child_getlk_only, path);
    report("F_SETLK F_UNLCK whole file", setlk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));

    /* Read locks share. */
    report("F_SETLK F_RDLCK whole file", setlk(fd, F_SETLK, F_RDLCK, SEEK_SET, 0, 0));
    in_child("child checked read locks", child_read_lock, path);

    /* Closing any descriptor of the file drops all of the process's locks. */
    report("F_SETLK F_WRLCK [0,10)", setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10));
    int other = open(path, O_RDONLY);
    close(other);
    in_child("child checked after close of another fd", child_getlk_only, path);

    /* The lock type must match the access mode. */
    other = open(path, O_RDONLY);
    report("F_SETLK F_WRLCK on read-only fd", setlk(other, F_SETLK, F_WRLCK, SEEK_SET, 0, 1));
    close(other);
    other = open(path, O_WRONLY);
    report("F_SETLK F_RDLCK on write-only fd", setlk(other, F_SETLK, F_RDLCK, SEEK_SET, 0, 1));
    close(other);
    report("F_SETLK bad type", setlk(fd, F_SETLK, 42, SEEK_SET, 0, 1));
    report("F_SETLK bad whence", setlk(fd, F_SETLK, F_WRLCK, 42, 0, 1));
    report("F_SETLK negative start", setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, -1, 1));
    /* A negative length locks the bytes before start: [3,5). */
    report("F_SETLK negative len", setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 5, -2));
    in_child("child checked negative-length lock", child_getlk_only, path);
    report("F_SETLK F_UNLCK whole file", setlk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));

    /* F_SETLKW waits for the holder. */
    report("F_SETLK F_WRLCK [0,10)", setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10));
    int ready[2];
    must(pipe(ready) == 0, "pipe");
    pid_t pid = fork();
    must(pid >= 0, "fork");
    if (pid == 0) {
        int own = open(path, O_RDWR);
        send_byte(ready[1], 'r');
        child_done(setlk(own, F_SETLKW, F_WRLCK, SEEK_SET, 5, 1) == 0 ? 0 : 1);
    }
    await_byte(ready[0]);
    int blocked = still_blocked("child blocked in F_SETLKW", pid);
    report("F_SETLK F_UNLCK [5,6)", setlk(fd, F_SETLK, F_UNLCK, SEEK_SET, 5, 1));
    if (blocked)
        report_wait("child got the lock", pid);
    close(ready[0]);
    close(ready[1]);
    close(fd);
}

static void locks_ofd(const char *path)
{
    /* OFD locks belong to the open file description: two opens in one
     * process conflict, and a traditional lock conflicts with them too. */
    int a = open(path, O_RDWR), b = open(path, O_RDWR);
    must(a >= 0 && b >= 0, "open lock file");
    report("F_OFD_SETLK a F_WRLCK [0,10)", setlk(a, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 10));
    report("F_OFD_SETLK b F_WRLCK [5,6)", setlk(b, F_OFD_SETLK, F_WRLCK, SEEK_SET, 5, 1));
    show_getlk("F_OFD_GETLK b", b, F_OFD_GETLK, 5, 1, 0);
    report("F_SETLK b F_WRLCK [5,6) (traditional)", setlk(b, F_SETLK, F_WRLCK, SEEK_SET, 5, 1));
    int c = open(path, O_RDONLY);
    close(c);
    report("F_OFD_SETLK b after closing another fd", setlk(b, F_OFD_SETLK, F_WRLCK, SEEK_SET, 5, 1));
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 20, .l_len = 1, .l_pid = 1 };
    report("F_OFD_SETLK with l_pid != 0", fcntl(b, F_OFD_SETLK, &fl));
    report("F_OFD_SETLK a F_UNLCK", setlk(a, F_OFD_SETLK, F_UNLCK, SEEK_SET, 0, 0));
    report("F_OFD_SETLK b after a unlocked", setlk(b, F_OFD_SETLK, F_WRLCK, SEEK_SET, 5, 1));
    close(a);
    close(b);
}

static void locks(char **argv)
{
    (void)argv;
    put("lk", "0123456789abcdefghij"); /* 20 bytes */
    locks_flock("lk");
    locks_record("lk");
    locks_ofd("lk");
}

/* ------------------------------------------------------------------- xattr */

static void show_getxattr(const char *label, const char *path, const char *name)
{
    char buf[64];
    long n = getxattr(path, name, buf, sizeof buf);
    if (n < 0) {
        printf("%s: %s\n", label, errname(errno));
        return;
    }
    printf("%s: %ld ", label, n);
    print_quoted(buf, n);
    printf("\n");
}

/* listxattr, showing only the user.* names (a file system may add its own
 * security.* or system.* names), sorted. */
static void show_listxattr(const char *label, const char *path, int nofollow)
{
    char buf[1024];
    long n = nofollow ? llistxattr(path, buf, sizeof buf) : listxattr(path, buf, sizeof buf);
    if (n < 0) {
        printf("%s: %s\n", label, errname(errno));
        return;
    }
    char *names[32];
    int count = 0;
    for (long i = 0; i < n && count < 32; i += (long)strlen(buf + i) + 1)
        if (strncmp(buf + i, "user.", 5) == 0)
            names[count++] = buf + i;
    qsort(names, count, sizeof names[0], cmp_entry);
    printf("%s:", label);
    for (int i = 0; i < count; i++)
        printf(" %s", names[i]);
    printf("%s\n", count ? "" : " (none)");
}

static void xattr(char **argv)
{
    (void)argv;
    put("f", "x");
    make_link("f", "lf");
    make_dir("d");
    report("setxattr user.x", setxattr("f", "user.x", "val", 3, 0));
    show_getxattr("getxattr user.x", "f", "user.x");
    report_val("getxattr size query", getxattr("f", "user.x", NULL, 0));
    char small[2];
    report("getxattr buffer too small", getxattr("f", "user.x", small, sizeof small));
    show_getxattr("getxattr missing name", "f", "user.nope");
    report("setxattr XATTR_CREATE existing", setxattr("f", "user.x", "new", 3, XATTR_CREATE));
    report("setxattr XATTR_REPLACE missing", setxattr("f", "user.y", "new", 3, XATTR_REPLACE));
    report("setxattr XATTR_REPLACE existing", setxattr("f", "user.x", "replaced", 8, XATTR_REPLACE));
    show_getxattr("getxattr after replace", "f", "user.x");
    report("setxattr user.empty (empty value)", setxattr("f", "user.empty", "", 0, 0));
    show_getxattr("getxattr user.empty", "f", "user.empty");
    report("setxattr user.y", setxattr("f", "user.y", "why", 3, 0));
    show_listxattr("listxattr", "f", 0);
    report_val("listxattr size query covers names",
               listxattr("f", NULL, 0) >= (long)sizeof "user.x" + (long)sizeof "user.y" + (long)sizeof "user.empty" ? 1 : 0);
    report("removexattr user.y", removexattr("f", "user.y"));
    report("removexattr user.y again", removexattr("f", "user.y"));
    show_listxattr("listxattr after remove", "f", 0);

    /* Through a descriptor, through a symlink, and on the symlink itself:
     * user.* attributes are not allowed on symlinks. */
    int fd = open("f", O_RDONLY);
    must(fd >= 0, "open f");
    report("fsetxattr user.fd", fsetxattr(fd, "user.fd", "FD", 2, 0));
    char buf[16];
    long n = fgetxattr(fd, "user.fd", buf, sizeof buf);
    printf("fgetxattr user.fd: ");
    if (n >= 0)
        print_quoted(buf, n);
    else
        printf("%s", errname(errno));
    printf("\n");
    report("fremovexattr user.fd", fremovexattr(fd, "user.fd"));
    close(fd);
    show_getxattr("getxattr through symlink", "lf", "user.x");
    report("lsetxattr user.x on symlink", lsetxattr("lf", "user.x", "l", 1, 0));
    char lbuf[16];
    report("lgetxattr user.x on symlink", lgetxattr("lf", "user.x", lbuf, sizeof lbuf));
    show_listxattr("llistxattr symlink", "lf", 1);
    report("setxattr user.x on dir", setxattr("d", "user.x", "dir", 3, 0));
    show_getxattr("getxattr dir", "d", "user.x");

    /* Names: a known namespace is required, and names are limited to 255. */
    report("setxattr unknown namespace", setxattr("f", "foo.x", "v", 1, 0));
    report("setxattr bare name", setxattr("f", "x", "v", 1, 0));
    report("setxattr empty user name", setxattr("f", "user.", "v", 1, 0));
    char longname[300];
    memcpy(longname, "user.", 5);
    memset(longname + 5, 'a', 260);
    longname[265] = 0;
    report("setxattr 265-byte name", setxattr("f", longname, "v", 1, 0));
    report("setxattr bad flags", setxattr("f", "user.z", "v", 1, 0x4));
    report("setxattr missing file", setxattr("missing", "user.x", "v", 1, 0));
    report("getxattr missing file", getxattr("missing", "user.x", buf, sizeof buf));
    /* Attributes live on the inode: a hard link sees them. */
    must(link("f", "hard") == 0, "link hard");
    show_getxattr("getxattr via hard link", "hard", "user.x");
}

/* -------------------------------------------------------------------- stat */

static void stat_types(void)
{
    put("empty", "");
    struct stat st = must_stat("empty", 0);
    print_stat("empty file", &st);
    yesno("empty file blocks == 0", st.st_blocks == 0);

    char big[5000];
    memset(big, 'b', sizeof big);
    int fd = open("nonempty", O_WRONLY | O_CREAT, 0644);
    must(fd >= 0 && write(fd, big, sizeof big) == (ssize_t)sizeof big, "write nonempty");
    close(fd);
    st = must_stat("nonempty", 0);
    print_stat("5000-byte file", &st);
    yesno("blocks > 0", st.st_blocks > 0);
    yesno("blocks cover the size", st.st_blocks * 512 >= st.st_size);
    yesno("st_blksize > 0", st.st_blksize > 0);

    fd = open("sparse", O_WRONLY | O_CREAT, 0644);
    must(fd >= 0 && ftruncate(fd, 1 << 20) == 0, "sparse");
    must(pwrite(fd, "z", 1, 512 * 1024) == 1, "pwrite sparse");
    close(fd);
    st = must_stat("sparse", 0);
    print_stat("sparse 1 MiB file", &st);
    yesno("sparse file blocks < size", st.st_blocks * 512 < st.st_size);

    make_dir("dir");
    show_stat("dir", "dir");
    make_link("nonempty", "link");
    show_lstat("symlink (lstat)", "link");
    show_stat("symlink (stat)", "link");
    report("mkfifo", mkfifo("fifo", 0640));
    show_stat("mkfifo", "fifo");
    report("mknod S_IFIFO", mknod("nodfifo", S_IFIFO | 0600, 0));
    show_stat("mknod fifo", "nodfifo");
    report("mknod S_IFREG", mknod("nodreg", S_IFREG | 0600, 0));
    show_stat("mknod regular", "nodreg");
    report("mknod mode 0 (regular)", mknod("nodzero", 0, 0));
    show_stat("mknod mode 0", "nodzero");
    report("mknod S_IFDIR", mknod("noddir", S_IFDIR | 0755, 0));
    report("mknod existing", mknod("fifo", S_IFIFO | 0600, 0));
    /* Device nodes need CAP_MKNOD: print what happens for whoever we are. */
    yesno("running as root", geteuid() == 0);
    report("mknod S_IFCHR 1:3", mknod("chr", S_IFCHR | 0600, makedev(1, 3)));
    st = (struct stat){0};
    if (lstat("chr", &st) == 0) {
        print_stat("mknod chr", &st);
        printf("rdev: %u:%u\n", major(st.st_rdev), minor(st.st_rdev));
    }

    /* fstat of descriptors that are not files in this directory. */
    int p[2];
    must(pipe(p) == 0, "pipe");
    must(fstat(p[0], &st) == 0, "fstat pipe");
    printf("fstat pipe: type=%s\n", type_name(st.st_mode));
    close(p[0]);
    close(p[1]);
    report("fstat bad fd", fstat(9999, &st));
    report("stat bad address", syscall(SYS_newfstatat, AT_FDCWD, "empty", KERNEL_ADDR, 0));
}

/* Which of mtime and ctime an operation changes: the old times are set far in
 * the past (mtime) or sampled before a clock tick (ctime). A failing
 * utimensat is reported and skips just that line. */
static void stat_times(void)
{
    put("t", "x");
    struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
    struct stat before, after;

#define TIMES(label, op) do { \
        if (utimensat(AT_FDCWD, "t", old, 0) != 0) { \
            printf("%s: utimensat %s\n", label, errname(errno)); \
            break; \
        } \
        before = must_stat("t", 0); \
        tick(); \
        op; \
        after = must_stat("t", 0); \
        printf("%s: mtime changed: %s, ctime changed: %s\n", label, \
               after.st_mtim.tv_sec != 1000000000 ? "yes" : "no", \
               ts_equal(before.st_ctim, after.st_ctim) ? "no" : "yes"); \
    } while (0)

    int fd = open("t", O_RDWR);
    must(fd >= 0, "open t");
    TIMES("write", (void)!write(fd, "y", 1));
    TIMES("read", (void)!pread(fd, (char[4]){0}, 4, 0));
    TIMES("chmod", chmod("t", 0600));
    TIMES("link", link("t", "t2"));
    TIMES("unlink other name", unlink("t2"));
    TIMES("ftruncate", (void)!ftruncate(fd, 0));
    TIMES("rename", rename("t", "t3"); rename("t3", "t"));
    close(fd);
#undef TIMES

    /* A directory's mtime and ctime change when entries come and go. */
    make_dir("dm");
    struct timespec dold[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
    report("utimensat dir", utimensat(AT_FDCWD, "dm", dold, 0));
    before = must_stat("dm", 0);
    tick();
    put("dm/new", "n");
    after = must_stat("dm", 0);
    printf("create in dir: dir mtime changed: %s, ctime changed: %s\n",
           after.st_mtim.tv_sec != 1000000000 ? "yes" : "no",
           ts_equal(before.st_ctim, after.st_ctim) ? "no" : "yes");
    report("utimensat dir", utimensat(AT_FDCWD, "dm", dold, 0));
    must(unlink("dm/new") == 0, "unlink dm/new");
    after = must_stat("dm", 0);
    printf("unlink in dir: dir mtime changed: %s\n", after.st_mtim.tv_sec != 1000000000 ? "yes" : "no");
}

/* stat, lstat, fstat, fstatat and statx agree about one file. */
static void stat_agree(void)
{
    struct stat a, b, c;
    must(stat("nonempty", &a) == 0, "stat");
    int fd = open("nonempty", O_RDONLY);
    must(fd >= 0 && fstat(fd, &b) == 0, "fstat");
    must(fstatat(AT_FDCWD, "link", &c, 0) == 0, "fstatat");
    yesno("stat and fstat agree", same_inode(&a, &b) && a.st_mode == b.st_mode &&
          a.st_size == b.st_size && a.st_nlink == b.st_nlink && a.st_blocks == b.st_blocks);
    yesno("stat through symlink agrees", same_inode(&a, &c) && a.st_size == c.st_size);
    struct k_statx sx;
    long r = syscall(SYS_statx, AT_FDCWD, "nonempty", 0, K_STATX_BASIC_STATS, &sx);
    report("statx", r);
    if (r == 0) {
        yesno("statx agrees", sx.stx_ino == a.st_ino && sx.stx_size == (uint64_t)a.st_size &&
              sx.stx_mode == a.st_mode && sx.stx_nlink == a.st_nlink &&
              sx.stx_blocks == (uint64_t)a.st_blocks &&
              makedev(sx.stx_dev_major, sx.stx_dev_minor) == a.st_dev);
        yesno("statx mtime agrees", sx.stx_mtime.tv_sec == a.st_mtim.tv_sec &&
              sx.stx_mtime.tv_nsec == (uint32_t)a.st_mtim.tv_nsec);
    }
    struct stat other = must_stat("empty", 0);
    yesno("different files differ in inode", other.st_ino != a.st_ino);
    yesno("same device in one directory", other.st_dev == a.st_dev);
    close(fd);
}

static void stats(char **argv)
{
    (void)argv;
    stat_types();
    stat_times();
    stat_agree();
}

/* -------------------------------------------------------------------- main */

static void all(char **argv);

/* A bound unix socket leaves a socket inode behind. */
static void socket_mode(char **argv)
{
    (void)argv;
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    strcpy(sa.sun_path, "sock");
    report("bind unix socket", s < 0 ? -1 : bind(s, (struct sockaddr *)&sa, sizeof sa));
    show_stat("socket", "sock");
    if (s >= 0)
        close(s);
}

/* ------------------------------------------------------------------ mmap */

static sigjmp_buf touch_jump;
static void touch_fault(int sig) { siglongjmp(touch_jump, sig); }

/* Reads byte i of p: "value N", or the signal the read raised. */
static void touch(const char *label, volatile char *p, long i)
{
    struct sigaction sa = { .sa_handler = touch_fault }, old_bus, old_segv;
    sigaction(SIGBUS, &sa, &old_bus);
    sigaction(SIGSEGV, &sa, &old_segv);
    int sig = sigsetjmp(touch_jump, 1);
    if (sig == 0)
        printf("%s: value %d\n", label, p[i]);
    else
        printf("%s: %s\n", label, sig == SIGBUS ? "SIGBUS" : "SIGSEGV");
    sigaction(SIGBUS, &old_bus, NULL);
    sigaction(SIGSEGV, &old_segv, NULL);
}

/* MAP_SHARED file mappings see write(), each other and other processes at
 * once, and write back through the file; truncation and holes reach them. */
static void mmap_mode(char **argv)
{
    (void)argv;
    long pg = 4096;
    int fd = open("shared", O_RDWR | O_CREAT, 0644);
    must(fd >= 0, "create shared");
    char buf[64];
    memset(buf, 'a', sizeof buf);
    for (int i = 0; i < 3; i++)
        must(pwrite(fd, buf, sizeof buf, i * pg) == sizeof buf, "pwrite pages");
    must(ftruncate(fd, 3 * pg) == 0, "ftruncate 3 pages");

    char *m1 = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *m2 = mmap(NULL, 2 * pg, PROT_READ, MAP_SHARED, fd, pg);
    must(m1 != MAP_FAILED && m2 != MAP_FAILED, "mmap shared");
    printf("mapping shows the file: %c%c\n", m1[0], m1[2 * pg + 63]);

    m1[pg + 1] = 'M';
    must(pread(fd, buf, 4, pg) == 4, "pread");
    printf("pread sees a store: %.4s\n", buf);
    printf("second mapping sees the store: %c\n", m2[1]);
    must(pwrite(fd, "WW", 2, 2 * pg + 5) == 2, "pwrite");
    printf("mappings see pwrite: %c %c\n", m1[2 * pg + 5], m2[pg + 6]);
    report("msync", msync(m1, 3 * pg, MS_SYNC));

    pid_t child = fork();
    if (child == 0) {
        m1[7] = 'C';
        must(pwrite(fd, "P", 1, 8) == 1, "child pwrite");
        _exit(0);
    }
    report_wait("child", child);
    printf("parent sees the child's store and pwrite: %c %c\n", m1[7], m1[8]);

    /* Private mappings: their stores never reach the file. */
    char *priv = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    must(priv != MAP_FAILED, "mmap private");
    printf("private mapping shows the file: %c\n", priv[7]);
    priv[0] = 'X';
    must(pread(fd, buf, 1, 0) == 1, "pread after private store");
    printf("private store stays private: %c %c\n", buf[0], m1[0]);
    munmap(priv, pg);

    /* Truncation: the rest of the last page reads zero, pages past it SIGBUS. */
    must(ftruncate(fd, pg + 100) == 0, "ftruncate down");
    touch("byte before the new end", m1, pg + 1);
    touch("byte after the new end, same page", m1, pg + 200);
    touch("page past the new end", m1, 2 * pg + 5);
    touch("second mapping past the end", m2, pg + 6);
    must(ftruncate(fd, 3 * pg) == 0, "ftruncate up");
    touch("page after growing again", m1, 2 * pg + 5);
    must(pwrite(fd, "G", 1, 2 * pg + 9) == 1, "pwrite grown page");
    printf("grown page shared again: %c %c\n", m1[2 * pg + 9], m2[pg + 9]);

    /* A hole punched under the mapping reads as zeros. */
    if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, pg, pg) == 0) {
        printf("punched page: %d %d\n", m1[pg + 1], m2[1]);
        m1[pg + 2] = 'H';
        must(pread(fd, buf, 1, pg + 2) == 1, "pread punched page");
        printf("store into the hole reaches the file: %c\n", buf[0]);
    } else
        printf("punch: %s\n", errname(errno));

    /* An unlinked file stays mapped and shared after close. */
    must(unlink("shared") == 0, "unlink");
    close(fd);
    child = fork();
    if (child == 0) {
        m1[10] = 'U';
        _exit(0);
    }
    report_wait("child after unlink", child);
    printf("unlinked, closed, still shared: %c\n", m1[10]);
    munmap(m1, 3 * pg);
    munmap(m2, 2 * pg);

    /* A file written only through a mapping. */
    fd = open("written", O_RDWR | O_CREAT | O_TRUNC, 0644);
    must(fd >= 0 && ftruncate(fd, 2 * pg) == 0, "create written");
    char *w = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    must(w != MAP_FAILED, "mmap written");
    strcpy(w + pg - 3, "across");
    munmap(w, 2 * pg);
    close(fd);
    fd = open("written", O_RDONLY);
    must(fd >= 0 && pread(fd, buf, 6, pg - 3) == 6, "reread written");
    printf("stores reach the file after munmap and close: %.6s\n", buf);
    struct stat st;
    must(fstat(fd, &st) == 0, "fstat written");
    printf("size: %ld\n", (long)st.st_size);
    close(fd);
    /* A read-only descriptor cannot be mapped shared and writable. */
    fd = open("written", O_RDONLY);
    errno = 0;
    void *ro = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    printf("shared writable map of O_RDONLY: %s\n", ro == MAP_FAILED ? errname(errno) : "mapped");
    close(fd);
}

static const struct mode modes[] = {
    { "paths", paths },       /* openat/dirfds, O_* flags, symlinks, "..", name limits */
    { "share", share },       /* offsets and flags shared by dup and fork */
    { "perms", perms },       /* umask, chmod, chown, access, utimensat, truncate, fallocate */
    { "rename", renames },    /* rename, renameat, renameat2 flags */
    { "links", links },       /* link, symlink, readlink, unlink, rmdir, mkdir */
    { "tmpfile", tmpfile_mode },/* O_TMPFILE, named through /proc/self/fd */
    { "dents", dents },       /* getdents64, rewind, d_off, changes while reading */
    { "statfs", statfs_sync },/* statfs/fstatfs, fsync and friends */
    { "locks", locks },       /* flock, fcntl record locks, OFD locks */
    { "xattr", xattr },       /* user.* extended attributes */
    { "stat", stats },        /* st_mode/nlink/size/blocks per type, time updates, statx */
    { "mmap", mmap_mode },    /* MAP_SHARED file mappings: coherence, fork, truncation, holes */
    { "socket", socket_mode },/* the inode a bound AF_UNIX socket leaves */
    { "all", all },
    { NULL, NULL },
};

static int scratch = -1;

/* Runs one group in SCRATCH/NAME with a known umask. */
static void run_group(const struct mode *m, char **argv)
{
    printf("== %s\n", m->name);
    umask(022);
    must(fchdir(scratch) == 0, "fchdir scratch");
    must(mkdir(m->name, 0755) == 0, "mkdir group dir (is the scratch dir fresh?)");
    must(chdir(m->name) == 0, "chdir group dir");
    m->run(argv);
    must(fchdir(scratch) == 0, "fchdir scratch");
}

static void all(char **argv)
{
    for (const struct mode *m = modes; m->run != all; m++)
        run_group(m, argv);
}

int main(int argc, char **argv)
{
    line_buffered();
    const struct mode *chosen = NULL;
    if (argc == 3)
        for (const struct mode *m = modes; m->name; m++)
            if (strcmp(m->name, argv[2]) == 0)
                chosen = m;
    if (!chosen) {
        fprintf(stderr, "usage: %s SCRATCH MODE; modes:", argv[0]);
        for (const struct mode *m = modes; m->name; m++)
            fprintf(stderr, " %s", m->name);
        fprintf(stderr, "\n");
        return 2;
    }
    must(mkdir(argv[1], 0755) == 0 || errno == EEXIST, "mkdir scratch dir");
    scratch = open(argv[1], O_RDONLY | O_DIRECTORY);
    must(scratch >= 0, "open scratch dir");
    if (chosen->run == all)
        all(argv);
    else
        run_group(chosen, argv);
    printf("done\n");
    return 0;
}
