/* Pseudo-terminals: /dev/ptmx and devpts, the line discipline (canonical
 * editing, echo, input and output processing, VMIN/VTIME), job-control
 * signals from the terminal, window size, hangup, readiness and /dev/tty.
 * Usage: pty MODE (see the table at the end).
 *
 * Echoes reach the master asynchronously on Linux, so the master side is
 * read by drain(): everything that arrives until the line is quiet. */
#include "proctest.h"
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <time.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

/* Bytes with the control characters spelled out, so outputs compare as text. */
static const char *esc(const char *s, ssize_t n)
{
    static char buf[1024];
    size_t o = 0;
    for (ssize_t i = 0; i < n && o < sizeof buf - 8; i++) {
        unsigned char c = s[i];
        if (c >= 32 && c < 127 && c != '\\')
            buf[o++] = c;
        else
            o += snprintf(buf + o, sizeof buf - o, "\\x%02x", c);
    }
    buf[o] = 0;
    return buf;
}

static void show_read(const char *label, int fd, size_t len)
{
    char buf[512];
    ssize_t n = read(fd, buf, len < sizeof buf ? len : sizeof buf);
    if (n < 0)
        printf("%s: %s\n", label, errname(errno));
    else
        printf("%s: %zd \"%s\"\n", label, n, esc(buf, n));
}

/* Everything readable from fd until nothing more arrives for 300 ms. */
static void drain(const char *label, int fd)
{
    char buf[1024];
    size_t total = 0;
    int err = 0;
    for (;;) {
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll(&p, 1, 300) <= 0 || !(p.revents & POLLIN))
            break;
        ssize_t n = read(fd, buf + total, sizeof buf - total);
        if (n < 0) {
            err = errno;
            break;
        }
        if (n == 0)
            break;
        total += n;
    }
    if (err && total == 0)
        printf("%s: %s\n", label, errname(err));
    else
        printf("%s: \"%s\"\n", label, esc(buf, total));
}

static void put(int fd, const char *s)
{
    must(write(fd, s, strlen(s)) == (ssize_t)strlen(s), "write");
}

static void open_pair(int *m, int *s)
{
    must(openpty(m, s, NULL, NULL, NULL) == 0, "openpty");
}

/* The devpts mount's "mode=" option (0 when absent: Linux then uses 0600). */
static unsigned devpts_mode(void)
{
    FILE *f = fopen("/proc/self/mounts", "r");
    char line[512];
    unsigned mode = 0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "devpts /dev/pts devpts ", 23) == 0) {
            char *m = strstr(line, ",mode=");
            mode = m ? strtoul(m + 6, NULL, 8) : 0600;
        }
    if (f)
        fclose(f);
    return mode;
}

static int listed(const char *dir, const char *name)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, name) == 0)
            found = e->d_type == DT_CHR ? 1 : 2;
    if (d)
        closedir(d);
    return found;
}

static void open_(char **argv)
{
    (void)argv;
    printf("devpts mounted at /dev/pts: %s\n", devpts_mode() ? "yes" : "no");
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    must(m >= 0, "posix_openpt");
    struct stat st;
    must(fstat(m, &st) == 0, "fstat");
    printf("master: chr %d, rdev %u:%u, perm %o\n", S_ISCHR(st.st_mode), major(st.st_rdev), minor(st.st_rdev), st.st_mode & 07777);
    printf("isatty(master): %d\n", isatty(m));
    report("grantpt", grantpt(m));
    unsigned n = 99;
    report("TIOCGPTN", ioctl(m, TIOCGPTN, &n));
    char want[64];
    snprintf(want, sizeof want, "/dev/pts/%u", n);
    const char *name = ptsname(m);
    printf("ptsname is /dev/pts/<TIOCGPTN>: %s\n", name && strcmp(name, want) == 0 ? "yes" : "no");
    errno = 0;
    int s = open(want, O_RDWR | O_NOCTTY);
    printf("open of the locked slave: %s\n", s < 0 ? errname(errno) : "opened");
    int lock = 1;
    report("TIOCSPTLCK 1", ioctl(m, TIOCSPTLCK, &lock));
    report("unlockpt", unlockpt(m));
    s = open(want, O_RDWR | O_NOCTTY);
    must(s >= 0, "open slave");
    must(fstat(s, &st) == 0, "fstat slave");
    printf("slave: chr %d, major %u, minor is TIOCGPTN %d, uid is ours %d, perm is the mount's mode %d\n", S_ISCHR(st.st_mode),
           major(st.st_rdev), minor(st.st_rdev) == n, st.st_uid == getuid(), (st.st_mode & 07777) == devpts_mode());
    struct stat st2;
    must(stat(want, &st2) == 0, "stat slave path");
    printf("stat of the path is the slave: %d\n", st2.st_rdev == st.st_rdev && st2.st_ino == st.st_ino);
    printf("isatty(slave): %d\n", isatty(s));
    name = ttyname(s);
    printf("ttyname(slave) is ptsname: %s\n", name && strcmp(name, want) == 0 ? "yes" : "no");
    report("TIOCGPTN on the slave", ioctl(s, TIOCGPTN, &n));
    int peer = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
    struct stat pst;
    printf("TIOCGPTPEER opens the slave: %d\n", peer >= 0 && fstat(peer, &pst) == 0 && pst.st_rdev == st.st_rdev);
    close(peer);
    peer = ioctl(m, TIOCGPTPEER, 0x40000000);
    report("TIOCGPTPEER with flags it has no use for", peer);
    close(peer);
    report("TIOCGPTPEER on the slave", ioctl(s, TIOCGPTPEER, O_RDWR));
    report("unknown ioctl on the master", ioctl(m, _IO('T', 0x7f), 0));
    report("TCGETS with a bad pointer", ioctl(s, TCGETS, KERNEL_ADDR));
    report("TIOCGWINSZ with a bad pointer", ioctl(m, TIOCGWINSZ, (void *)8));
    char num[16];
    snprintf(num, sizeof num, "%u", n);
    printf("/dev/pts lists ptmx: %d, the slave: %d\n", listed("/dev/pts", "ptmx"), listed("/dev/pts", num));
    must(stat("/dev/pts/ptmx", &st) == 0, "stat /dev/pts/ptmx");
    printf("/dev/pts/ptmx: chr %d, rdev %u:%u\n", S_ISCHR(st.st_mode), major(st.st_rdev), minor(st.st_rdev));
    must(stat("/dev/pts", &st) == 0, "stat /dev/pts");
    printf("/dev/pts: dir %d\n", S_ISDIR(st.st_mode));

    int m2 = posix_openpt(O_RDWR | O_NOCTTY);
    unsigned n2 = n;
    must(m2 >= 0 && ioctl(m2, TIOCGPTN, &n2) == 0, "second pty");
    printf("second pty has another index: %d\n", n2 != n);
    close(m2);

    int om, os;
    char oname[64];
    must(openpty(&om, &os, oname, NULL, NULL) == 0, "openpty");
    printf("openpty name is the slave's ttyname: %d\n", strcmp(oname, ttyname(os)) == 0);
    close(om);
    close(os);

    close(s);
    printf("after closing the slave, the node: %s\n", stat(want, &st) == 0 ? "exists" : errname(errno));
    close(m);
    printf("after closing the master too, the node: %s\n", stat(want, &st) == 0 ? "exists" : errname(errno));
}

static void canon(char **argv)
{
    (void)argv;
    int m, s;
    open_pair(&m, &s);
    struct termios t, mt;
    memset(&t, 0, sizeof t);
    memset(&mt, 0, sizeof mt);
    must(tcgetattr(s, &t) == 0, "tcgetattr");
    printf("iflag %#o oflag %#o cflag %#o lflag %#o\n", t.c_iflag, t.c_oflag, t.c_cflag, t.c_lflag);
    printf("cc:");
    for (int i = 0; i < 17; i++)
        printf(" %d", t.c_cc[i]);
    printf("\n");
    must(tcgetattr(m, &mt) == 0, "tcgetattr master");
    printf("master's termios is the slave's: %d\n", memcmp(&mt, &t, sizeof t) == 0);

    put(m, "abc\x7f d\n");
    show_read("erase", s, 100);
    drain("echo of erase", m);
    put(m, "hello\x15" "bye\n");
    show_read("kill", s, 100);
    drain("echo of kill", m);
    put(m, "12345\n");
    show_read("first 2 of a line", s, 2);
    int avail = -1;
    report_val("FIONREAD", ioctl(s, FIONREAD, &avail));
    printf("available: %d\n", avail);
    show_read("rest of the line", s, 100);
    put(m, "two\nlines\n");
    show_read("one line per read", s, 100);
    show_read("then the next", s, 100);
    put(m, "xyz\x04");
    show_read("EOF with text", s, 100);
    put(m, "\x04");
    show_read("EOF alone", s, 100);
    put(m, "r\r");
    show_read("ICRNL", s, 100);
    put(m, "\x01\n");
    show_read("control char", s, 100);
    drain("echoes", m);
    put(m, "one two\x17three\n");
    show_read("WERASE", s, 100);
    drain("echo of WERASE", m);
    put(m, "\x16\x03x\n");
    show_read("LNEXT", s, 100);
    drain("echo of LNEXT", m);
    put(m, "ab\x12" "c\n");
    show_read("REPRINT", s, 100);
    drain("echo of REPRINT", m);
    put(m, "xy\tq\x7f\x7f\x01\x7f\n");
    show_read("erasing a tab and a control char", s, 100);
    drain("echo of the erasing", m);
    /* Input is processed asynchronously on Linux: read each line before changing the settings. */
    put(m, "gone\x15\n");
    show_read("after KILL", s, 100);
    t.c_lflag &= ~ECHOKE;
    must(tcsetattr(s, TCSANOW, &t) == 0, "tcsetattr");
    put(m, "kill\x15\n");
    show_read("after KILL without ECHOKE", s, 100);
    t.c_lflag &= ~ECHOE;
    must(tcsetattr(s, TCSANOW, &t) == 0, "tcsetattr");
    put(m, "era\x7f\n");
    show_read("after ERASE without ECHOE", s, 100);
    drain("echo of KILL and ERASE without ECHOKE and ECHOE", m);
    t.c_lflag |= ECHOKE | ECHOE;
    must(tcsetattr(s, TCSANOW, &t) == 0, "tcsetattr");

    t.c_cc[VEOL] = '!';
    must(tcsetattr(s, TCSANOW, &t) == 0, "tcsetattr");
    put(m, "a!b\n");
    show_read("EOL", s, 100);
    show_read("after EOL", s, 100);
    t.c_iflag &= ~ICRNL;
    t.c_iflag |= INLCR;
    must(tcsetattr(s, TCSANOW, &t) == 0, "tcsetattr");
    put(m, "in\r\n!");
    show_read("INLCR without ICRNL", s, 100);
    t.c_iflag &= ~INLCR;
    t.c_iflag |= IGNCR;
    must(tcsetattr(s, TCSANOW, &t) == 0, "tcsetattr");
    put(m, "i\rg\n");
    show_read("IGNCR", s, 100);
    drain("echoes", m);

    t.c_lflag &= ~ECHO;
    must(tcsetattr(s, TCSANOW, &t) == 0, "tcsetattr");
    put(m, "secret\n");
    show_read("no echo", s, 100);
    drain("echo without ECHO", m);
    {
        static char longline[6000], got[8192];
        memset(longline, 'a', 5000);
        longline[5000] = '\n';
        must(write(m, longline, 5001) == 5001, "write long line");
        ssize_t n = read(s, got, sizeof got);
        printf("a 5000-byte line reads as %zd bytes ending in %s\n", n, n > 0 && got[n - 1] == '\n' ? "a newline" : "no newline");
        put(m, "next\n");
        show_read("the line after it", s, 100);
    }

    /* IXON: STOP from the master holds the slave's output until START. */
    put(m, "\x13");
    usleep(100000);
    fcntl(s, F_SETFL, O_NONBLOCK);
    report("slave write while stopped", write(s, "z", 1));
    poll_one("slave while stopped", s, POLLOUT, 0);
    put(m, "\x11");
    usleep(100000);
    report("slave write after START", write(s, "z", 1));
    fcntl(s, F_SETFL, 0);
    drain("master", m);

    put(s, "x\ny\n");
    drain("ONLCR output", m);
    t.c_oflag &= ~OPOST;
    must(tcsetattr(s, TCSANOW, &t) == 0, "tcsetattr");
    put(s, "x\ny\n");
    drain("without OPOST", m);

    put(m, "flushed\n");
    poll_one("slave with a line to flush", s, POLLIN, 2000);
    report("TCFLSH TCIFLUSH", tcflush(s, TCIFLUSH));
    fcntl(s, F_SETFL, O_NONBLOCK);
    show_read("after the flush", s, 100);
    put(m, "partial");
    show_read("partial line, nonblocking", s, 100);
    close(m);
    close(s);
}

static long ms_since(struct timespec *a)
{
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000;
}

static void raw(char **argv)
{
    (void)argv;
    int m, s;
    open_pair(&m, &s);
    struct termios t;
    must(tcgetattr(s, &t) == 0, "tcgetattr");
    cfmakeraw(&t);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    must(tcsetattr(s, TCSANOW, &t) == 0, "tcsetattr");
    must(tcgetattr(s, &t) == 0, "tcgetattr");
    printf("raw: iflag %#o oflag %#o cflag %#o lflag %#o\n", t.c_iflag, t.c_oflag, t.c_cflag, t.c_lflag);
    put(m, "ab\x03\r");
    show_read("VMIN 1", s, 100);
    drain("no echo", m);
    put(s, "a\nb");
    drain("raw output", m);

    t.c_cc[VMIN] = 0;
    must(tcsetattr(s, TCSANOW, &t) == 0, "tcsetattr");
    show_read("VMIN 0 VTIME 0, empty", s, 100);
    put(m, "q");
    usleep(100000);
    show_read("VMIN 0 VTIME 0, one byte", s, 100);

    t.c_cc[VTIME] = 3;
    must(tcsetattr(s, TCSANOW, &t) == 0, "tcsetattr");
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    show_read("VMIN 0 VTIME 3, empty", s, 100);
    long ms = ms_since(&start);
    printf("waited about 0.3 s: %d\n", ms >= 250 && ms < 2000);

    t.c_cc[VMIN] = 3;
    t.c_cc[VTIME] = 0;
    must(tcsetattr(s, TCSANOW, &t) == 0, "tcsetattr");
    pid_t c = fork();
    if (c == 0) {
        usleep(100000);
        put(m, "x");
        usleep(100000);
        put(m, "yz");
        _exit(0);
    }
    show_read("VMIN 3", s, 100);
    report_wait("writer", c);

    t.c_cc[VMIN] = 2;
    t.c_cc[VTIME] = 2;
    must(tcsetattr(s, TCSANOW, &t) == 0, "tcsetattr");
    put(m, "k");
    show_read("VMIN 2 VTIME 2, one byte then quiet", s, 100);

    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    must(tcsetattr(s, TCSANOW, &t) == 0, "tcsetattr");
    fcntl(s, F_SETFL, O_NONBLOCK);
    show_read("nonblocking, empty", s, 100);
    fcntl(m, F_SETFL, O_NONBLOCK);
    show_read("master nonblocking, empty", m, 100);
    close(m);
    close(s);
}

static volatile sig_atomic_t got[65];
static void on_signal(int sig) { got[sig]++; }

static void catch(int sig)
{
    struct sigaction sa = { 0 };
    sa.sa_handler = on_signal;
    sigaction(sig, &sa, NULL);
}

/* Waits (up to 5 s) for signal sig to have arrived; returns whether it did. */
static int await_signal(int sig)
{
    for (int i = 0; i < 500 && !got[sig]; i++)
        usleep(10000);
    return got[sig] != 0;
}

static void signals(char **argv)
{
    (void)argv;
    int m, s;
    open_pair(&m, &s);
    int up[2], down[2];
    must(pipe(up) == 0 && pipe(down) == 0, "pipe");
    /* A child is never a session leader (the program itself may be one, as a sandbox's init is). */
    pid_t c = fork();
    if (c == 0) {
        report("TIOCSCTTY by a process that is not a session leader", ioctl(s, TIOCSCTTY, 0));
        _exit(0);
    }
    report_wait("child", c);
    int pg = -1;
    report("TIOCGPGRP on a slave that is not our terminal", ioctl(s, TIOCGPGRP, &pg));
    report("TIOCGPGRP on the master of a terminal of no session", ioctl(m, TIOCGPGRP, &pg));
    printf("  foreground group: %d\n", pg);
    c = fork();
    if (c == 0) {
        catch(SIGINT);
        catch(SIGQUIT);
        catch(SIGTSTP);
        setsid();
        report("child TIOCSCTTY", ioctl(s, TIOCSCTTY, 0));
        report("child TIOCSCTTY again", ioctl(s, TIOCSCTTY, 0));
        int v = -1;
        report("child TIOCGPGRP", ioctl(s, TIOCGPGRP, &v));
        printf("  is our group: %d\n", v == getpgrp());
        report("child TIOCGSID", ioctl(s, TIOCGSID, &v));
        printf("  is our session: %d\n", v == getsid(0) && v == getpid());
        printf("tcgetpgrp is our group: %d\n", tcgetpgrp(s) == getpgrp());
        int bad = 999999;
        report("child TIOCSPGRP to no group", ioctl(s, TIOCSPGRP, &bad));
        v = getpgrp();
        report("child TIOCSPGRP to our group", ioctl(s, TIOCSPGRP, &v));
        send_byte(up[1], 1);
        const int sigs[] = { SIGINT, SIGQUIT, SIGTSTP };
        for (int i = 0; i < 3; i++) {
            printf("child got %s: %d\n", signame(sigs[i]), await_signal(sigs[i]));
            send_byte(up[1], 1);
        }
        await_byte(down[0]);
        _exit(0);
    }
    close(up[1]);
    await_byte(up[0]);
    report("parent TIOCGPGRP on the master", ioctl(m, TIOCGPGRP, &pg));
    printf("  is the child: %d\n", pg == c);
    report("parent TIOCGSID on the master", ioctl(m, TIOCGSID, &pg));
    printf("  is the child: %d\n", pg == c);
    report("parent TIOCGPGRP on the slave", ioctl(s, TIOCGPGRP, &pg));
    const char *keys[] = { "\x03", "\x1c", "\x1a" };
    for (int i = 0; i < 3; i++) {
        put(m, keys[i]);
        await_byte(up[0]);
        drain("echo", m);
    }
    send_byte(down[1], 1);
    report_wait("child", c);
}

static void winsize(char **argv)
{
    (void)argv;
    int m, s;
    open_pair(&m, &s);
    int up[2], down[2];
    must(pipe(up) == 0 && pipe(down) == 0, "pipe");
    struct winsize w = { 0 };
    report("TIOCGWINSZ", ioctl(s, TIOCGWINSZ, &w));
    printf("initial size: %d x %d (%d x %d px)\n", w.ws_row, w.ws_col, w.ws_xpixel, w.ws_ypixel);
    pid_t c = fork();
    if (c == 0) {
        catch(SIGWINCH);
        catch(SIGUSR1);
        setsid();
        must(ioctl(s, TIOCSCTTY, 0) == 0, "TIOCSCTTY");
        send_byte(up[1], 1);
        printf("child got SIGWINCH: %d\n", await_signal(SIGWINCH));
        struct winsize cw;
        report("child TIOCGWINSZ", ioctl(s, TIOCGWINSZ, &cw));
        printf("child sees: %d x %d (%d x %d px)\n", cw.ws_row, cw.ws_col, cw.ws_xpixel, cw.ws_ypixel);
        got[SIGWINCH] = 0;
        send_byte(up[1], 1);
        printf("child got SIGUSR1: %d\n", await_signal(SIGUSR1));
        printf("child got SIGWINCH for the same size: %d\n", got[SIGWINCH]);
        send_byte(up[1], 1);
        await_byte(down[0]);
        _exit(0);
    }
    close(up[1]);
    await_byte(up[0]);
    w.ws_row = 24;
    w.ws_col = 80;
    w.ws_xpixel = 640;
    w.ws_ypixel = 480;
    /* The child prints when the signal comes: report after it has. */
    int r = ioctl(m, TIOCSWINSZ, &w), e = errno;
    await_byte(up[0]);
    errno = e;
    report("TIOCSWINSZ on the master", r);
    report("TIOCSWINSZ again, same size", ioctl(m, TIOCSWINSZ, &w));
    usleep(100000);
    kill(c, SIGUSR1);
    await_byte(up[0]);
    send_byte(down[1], 1);
    report_wait("child", c);
}

static void hangup(char **argv)
{
    (void)argv;
    int m, s;
    open_pair(&m, &s);
    put(s, "bye");
    close(s);
    poll_one("master after the slave closed", m, POLLIN, 0);
    show_read("master read with data left", m, 100);
    show_read("master read after that", m, 100);
    close(m);

    m = posix_openpt(O_RDWR | O_NOCTTY);
    must(m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0, "posix_openpt");
    poll_one("master whose slave was never opened", m, POLLIN | POLLOUT, 0);
    close(m);

    open_pair(&m, &s);
    char name[64];
    snprintf(name, sizeof name, "%s", ttyname(s));
    int up[2];
    must(pipe(up) == 0, "pipe");
    pid_t c = fork();
    if (c == 0) {
        close(m);
        catch(SIGHUP);
        catch(SIGCONT);
        setsid();
        must(ioctl(s, TIOCSCTTY, 0) == 0, "TIOCSCTTY");
        send_byte(up[1], 1);
        printf("child got SIGHUP: %d\n", await_signal(SIGHUP));
        printf("child got SIGCONT: %d\n", await_signal(SIGCONT));
        struct stat st;
        printf("child: the slave's node after the hangup: %s\n", stat(name, &st) == 0 ? "exists" : errname(errno));
        show_read("child read of the slave", s, 100);
        report("child write to the slave", write(s, "x", 1));
        poll_one("child poll of the slave", s, POLLIN | POLLOUT, 0);
        struct termios t;
        report("child tcgetattr", tcgetattr(s, &t));
        int fd = open("/dev/tty", O_RDWR);
        printf("child open of /dev/tty: %s\n", fd < 0 ? errname(errno) : "opened");
        _exit(0);
    }
    close(up[1]);
    close(s);
    await_byte(up[0]);
    close(m);
    report_wait("child", c);
}

static void poll_(char **argv)
{
    (void)argv;
    int m, s;
    open_pair(&m, &s);
    poll_one("empty master", m, POLLIN | POLLOUT, 0);
    poll_one("empty slave", s, POLLIN | POLLOUT, 0);
    put(s, "x");
    poll_one("master after a slave write", m, POLLIN, 2000);
    drain("master", m);
    put(m, "part");
    usleep(100000);
    poll_one("slave after a partial line", s, POLLIN, 0);
    put(m, "\n");
    poll_one("slave after the newline", s, POLLIN, 2000);
    drain("echo", m);

    int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 7 };
    must(epoll_ctl(ep, EPOLL_CTL_ADD, m, &ev) == 0, "epoll_ctl");
    struct epoll_event out;
    printf("epoll, nothing to read: %d\n", epoll_wait(ep, &out, 1, 0));
    pid_t c = fork();
    if (c == 0) {
        usleep(100000);
        put(s, "later");
        _exit(0);
    }
    int r = epoll_wait(ep, &out, 1, 5000);
    printf("epoll after a later write: %d, data %u, in %d\n", r, out.data.u32, (out.events & EPOLLIN) != 0);
    report_wait("writer", c);
    drain("master", m);

    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(s, &rd);
    struct timeval tv = { 0, 0 };
    show_read("drain the slave", s, 100);
    printf("select on the empty slave: %d\n", select(s + 1, &rd, NULL, NULL, &tv));
    c = fork();
    if (c == 0) {
        usleep(100000);
        put(m, "sel\n");
        _exit(0);
    }
    FD_ZERO(&rd);
    FD_SET(s, &rd);
    tv.tv_sec = 5;
    printf("select after a later line: %d\n", select(s + 1, &rd, NULL, NULL, &tv));
    report_wait("writer", c);
    show_read("slave", s, 100);

    /* A blocked read is interrupted by a handled signal (EINTR without SA_RESTART). */
    catch(SIGALRM);
    alarm(1);
    show_read("blocked slave read, then SIGALRM", s, 100);
    close(ep);
    close(m);
    close(s);
}

static void devtty(char **argv)
{
    (void)argv;
    int m, s;
    open_pair(&m, &s);
    pid_t c = fork();
    if (c == 0) {
        setsid();
        int fd = open("/dev/tty", O_RDWR);
        printf("open /dev/tty without a controlling terminal: %s\n", fd < 0 ? errname(errno) : "opened");
        report("TIOCNOTTY without a controlling terminal", ioctl(s, TIOCNOTTY));
        int s2 = open(ttyname(s), O_RDWR);
        must(s2 >= 0, "reopen slave");
        fd = open("/dev/tty", O_RDWR);
        printf("after opening the slave without O_NOCTTY as session leader: %s\n", fd < 0 ? errname(errno) : "opened");
        if (fd >= 0) {
            struct stat st;
            must(fstat(fd, &st) == 0, "fstat");
            printf("/dev/tty: chr %d, rdev %u:%u\n", S_ISCHR(st.st_mode), major(st.st_rdev), minor(st.st_rdev));
            put(fd, "via tty\n");
            int pg = -1;
            report("TIOCGPGRP on /dev/tty", ioctl(fd, TIOCGPGRP, &pg));
            printf("  is our group: %d\n", pg == getpgrp());
            catch(SIGHUP);
            report("TIOCNOTTY", ioctl(fd, TIOCNOTTY));
            printf("session leader got SIGHUP: %d\n", await_signal(SIGHUP));
            close(fd);
        }
        fd = open("/dev/tty", O_RDWR);
        printf("after TIOCNOTTY: %s\n", fd < 0 ? errname(errno) : "opened");
        report("TIOCSCTTY again", ioctl(s, TIOCSCTTY, 0));
        fd = open("/dev/tty", O_RDWR);
        printf("after TIOCSCTTY: %s\n", fd < 0 ? errname(errno) : "opened");
        _exit(0);
    }
    report_wait("child", c);
    drain("master", m);
}

/* Fields 7 (tty_nr) and 8 (tpgid) of /proc/self/stat. */
static void stat_tty(int *tty_nr, int *tpgid)
{
    char buf[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    must(f && fgets(buf, sizeof buf, f), "read /proc/self/stat");
    fclose(f);
    char *p = strrchr(buf, ')');
    must(p && sscanf(p + 2, "%*c %*d %*d %*d %d %d", tty_nr, tpgid) == 2, "parse /proc/self/stat");
}

/* A child of the session leader in a background group of its own runs body; returns how it ended. */
static void background(const char *label, int s, int how)
{
    pid_t g = fork();
    if (g == 0) {
        setpgid(0, 0);
        char c;
        struct termios t;
        switch (how) {
        case 0: /* read */
            _exit(read(s, &c, 1) < 0 ? 10 + (errno == EIO) : 0);
        case 1: /* read with SIGTTIN ignored */
            signal(SIGTTIN, SIG_IGN);
            _exit(read(s, &c, 1) < 0 ? 10 + (errno == EIO) : 0);
        case 2: /* write */
            _exit(write(s, "bg\n", 3) == 3 ? 0 : 10);
        case 3: /* tcsetattr */
            tcgetattr(s, &t);
            _exit(tcsetattr(s, TCSANOW, &t) == 0 ? 0 : 10);
        case 4: /* tcsetattr with SIGTTOU blocked */
        {
            sigset_t set;
            sigemptyset(&set);
            sigaddset(&set, SIGTTOU);
            sigprocmask(SIG_BLOCK, &set, NULL);
            tcgetattr(s, &t);
            _exit(tcsetattr(s, TCSANOW, &t) == 0 ? 0 : 10);
        }
        }
        _exit(1);
    }
    setpgid(g, g);
    int st = 0;
    waitpid(g, &st, WUNTRACED);
    printf("%s: %s\n", label, describe_status(st));
    if (WIFSTOPPED(st)) {
        kill(g, SIGKILL);
        waitpid(g, &st, 0);
    }
}

static void jobctl(char **argv)
{
    (void)argv;
    int m, s;
    open_pair(&m, &s);
    pid_t c = fork();
    if (c == 0) {
        close(m);
        setsid();
        must(ioctl(s, TIOCSCTTY, 0) == 0, "TIOCSCTTY");
        struct stat st;
        must(fstat(s, &st) == 0, "fstat");
        int tty_nr, tpgid;
        stat_tty(&tty_nr, &tpgid);
        unsigned encoded = (minor(st.st_rdev) & 0xff) | (major(st.st_rdev) << 8) | ((minor(st.st_rdev) & ~0xffu) << 12);
        printf("/proc/self/stat: tty_nr is the slave %d, tpgid is our group %d\n", (unsigned)tty_nr == encoded, tpgid == getpgrp());
        background("background read", s, 0);
        background("background read, SIGTTIN ignored", s, 1);
        background("background write", s, 2);
        background("background tcsetattr", s, 3);
        background("background tcsetattr, SIGTTOU blocked", s, 4);
        struct termios t;
        must(tcgetattr(s, &t) == 0, "tcgetattr");
        t.c_lflag |= TOSTOP;
        must(tcsetattr(s, TCSANOW, &t) == 0, "tcsetattr");
        background("background write with TOSTOP", s, 2);
        _exit(0);
    }
    close(s);
    report_wait("session leader", c);
    drain("master", m);
}

/* A session leader's end: its terminal's foreground group gets SIGHUP. */
static void leaderexit(char **argv)
{
    (void)argv;
    int m, s;
    open_pair(&m, &s);
    int up[2];
    must(pipe(up) == 0, "pipe");
    pid_t c = fork();
    if (c == 0) {
        close(m);
        close(up[0]);
        setsid();
        must(ioctl(s, TIOCSCTTY, 0) == 0, "TIOCSCTTY");
        int ready[2];
        must(pipe(ready) == 0, "pipe");
        if (fork() == 0) {
            /* In the leader's (foreground) group; reports through the pipe once the leader is gone. */
            close(ready[0]);
            catch(SIGHUP);
            send_byte(ready[1], 1);
            send_byte(up[1], await_signal(SIGHUP) ? 'H' : 'n');
            _exit(0);
        }
        close(ready[1]);
        await_byte(ready[0]);
        _exit(0);
    }
    close(up[1]);
    close(s);
    report_wait("session leader", c);
    int r = await_byte(up[0]);
    printf("its child in the foreground group: %s\n", r == 'H' ? "got SIGHUP" : r == 'n' ? "no SIGHUP" : "gone");
    close(m);
}

int main(int argc, char **argv)
{
    static const struct mode modes[] = {
        { "open", open_ },
        { "canon", canon },
        { "raw", raw },
        { "signals", signals },
        { "winsize", winsize },
        { "hangup", hangup },
        { "poll", poll_ },
        { "devtty", devtty },
        { "jobctl", jobctl },
        { "leaderexit", leaderexit },
        { NULL, NULL },
    };
    return run_mode(modes, argc, argv);
}
