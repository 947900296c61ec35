/* Pipes between processes: poll/select readiness, capacity, EOF and POLLHUP,
 * SIGPIPE/EPIPE, and a pipe as a child's stdout across fork + exec, with
 * O_CLOEXEC honoured by exec.
 * Usage: pipes MODE (see the table at the end). */
#include "proctest.h"
#include <fcntl.h>
#include <poll.h>
#include <sys/select.h>

extern char **environ;

static void readiness(char **argv)
{
    (void)argv;
    int p[2];
    char buf[4096];
    must(pipe(p) == 0, "pipe");
    poll_one("empty pipe, read end", p[0], POLLIN, 0);
    poll_one("empty pipe, write end", p[1], POLLOUT, 0);
    must(write(p[1], "abc", 3) == 3, "write");
    poll_one("after writing 3 bytes, read end", p[0], POLLIN, 0);
    printf("read: %zd bytes\n", read(p[0], buf, sizeof buf));

    /* Capacity: fill in 4 KiB writes until EAGAIN (Linux default: 16 pages). */
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    memset(buf, 'z', sizeof buf);
    long total = 0;
    ssize_t n;
    while ((n = write(p[1], buf, sizeof buf)) > 0)
        total += n;
    printf("pipe filled with %ld bytes, then %s\n", total, errname(errno));
    poll_one("full pipe, write end", p[1], POLLOUT, 0);
    must(read(p[0], buf, sizeof buf) == sizeof buf, "read");
    poll_one("after reading 4096 bytes, write end", p[1], POLLOUT, 0);

    /* select agrees with poll. */
    fd_set r, w;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_SET(p[0], &r);
    FD_SET(p[1], &w);
    struct timeval tv = { 0, 0 };
    int k = select(p[1] + 1, &r, &w, NULL, &tv);
    printf("select: %d ready, read end %s, write end %s\n", k, FD_ISSET(p[0], &r) ? "readable" : "not readable",
           FD_ISSET(p[1], &w) ? "writable" : "not writable");

    close(p[1]);
    poll_one("writer closed, data left", p[0], POLLIN, 0);
    while (read(p[0], buf, sizeof buf) > 0)
        ;
    poll_one("writer closed, drained", p[0], POLLIN, 0);
    printf("read at EOF: %zd\n", read(p[0], buf, 1));
    close(p[0]);

    must(pipe(p) == 0, "pipe");
    close(p[0]);
    poll_one("reader closed, write end", p[1], POLLOUT, 0);
    close(p[1]);
    poll_one("closed fd", p[1], POLLIN, 0);
}

/* A child writes three messages, one per request; the parent waits in poll
 * (and pselect for the second) with no timeout, then sees POLLHUP at exit. */
static void conversation(char **argv)
{
    (void)argv;
    int down[2], up[2];
    must(pipe(down) == 0 && pipe(up) == 0, "pipe");
    pid_t c = fork();
    if (c == 0) {
        close(down[1]);
        close(up[0]);
        const char *msgs[] = { "one", "two", "three" };
        for (int i = 0; i < 3; i++) {
            if (await_byte(down[0]) < 0)
                _exit(1);
            must(write(up[1], msgs[i], strlen(msgs[i])) > 0, "write");
        }
        await_byte(down[0]); /* exit only after the parent hangs up: no early POLLHUP */
        _exit(0);
    }
    close(down[0]);
    close(up[1]);
    char buf[64];
    for (int i = 0; i < 3; i++) {
        send_byte(down[1], 1);
        if (i == 1) {
            fd_set r;
            FD_ZERO(&r);
            FD_SET(up[0], &r);
            sigset_t none;
            sigemptyset(&none);
            int k = pselect(up[0] + 1, &r, NULL, NULL, NULL, &none);
            printf("pselect: %d ready\n", k);
        } else {
            struct pollfd pf = { up[0], POLLIN, 0 };
            int k = poll(&pf, 1, -1);
            printf("poll: %d ready, %s\n", k, events(pf.revents));
        }
        ssize_t n = read(up[0], buf, sizeof buf - 1);
        buf[n > 0 ? n : 0] = 0;
        printf("child said: %s\n", buf);
    }
    close(down[1]);
    report_wait("child", c);
    poll_one("child gone", up[0], POLLIN, -1);
}

static volatile sig_atomic_t sigpipes;
static void on_sigpipe(int s) { (void)s; sigpipes++; }

/* Writing to a pipe without readers: SIGPIPE, or EPIPE when it is ignored or caught.
 * Ends with the default action in the process itself: exit status 141. */
static void sigpipe(char **argv)
{
    (void)argv;
    /* The .NET test host ignores SIGPIPE and an ignored signal stays ignored
     * across exec, so natively we may start with SIG_IGN: set the default. */
    signal(SIGPIPE, SIG_DFL);
    int p[2];
    must(pipe(p) == 0, "pipe");
    close(p[0]);
    pid_t c = fork();
    if (c == 0) {
        write(p[1], "x", 1);
        _exit(0);
    }
    report_wait("child writing with the default action", c);
    signal(SIGPIPE, SIG_IGN);
    report("write with SIGPIPE ignored", write(p[1], "x", 1));
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigpipe;
    sigaction(SIGPIPE, &sa, NULL);
    report("write with a SIGPIPE handler", write(p[1], "x", 1));
    printf("handler calls: %d\n", (int)sigpipes);
    signal(SIGPIPE, SIG_DFL);
    printf("now writing with the default action\n");
    write(p[1], "x", 1);
    printf("still alive\n");
}

/* A pipe as a child's stdout (dup2 after fork, then exec); O_CLOEXEC fds are
 * closed by exec, plain ones survive (checked by exec'ing this program). */
static void redirect(char **argv)
{
    int p[2];
    must(pipe(p) == 0, "pipe");
    pid_t c = fork();
    if (c == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        char *args[] = { "/bin/echo", "through the pipe", NULL };
        execve(args[0], args, environ);
        _exit(127);
    }
    close(p[1]);
    char buf[128];
    ssize_t n, total = 0;
    while ((n = read(p[0], buf + total, sizeof buf - 1 - total)) > 0)
        total += n;
    buf[total] = 0;
    close(p[0]);
    printf("parent read from the child's stdout: %s", buf);
    report_wait("echo", c);

    int keep[2], drop[2];
    must(pipe(keep) == 0 && pipe2(drop, O_CLOEXEC) == 0, "pipe");
    char keepfd[16], dropfd[16];
    snprintf(keepfd, sizeof keepfd, "%d", keep[1]);
    snprintf(dropfd, sizeof dropfd, "%d", drop[1]);
    c = fork();
    if (c == 0) {
        char *args[] = { argv[0], "fdcheck", keepfd, dropfd, NULL };
        execve(args[0], args, environ);
        _exit(127);
    }
    report_wait("exec of fdcheck", c);
}

static void fdcheck(char **argv)
{
    int keep = atoi(argv[2]), drop = atoi(argv[3]);
    report("after exec, plain pipe fd", fcntl(keep, F_GETFD));
    report("after exec, O_CLOEXEC pipe fd", fcntl(drop, F_GETFD));
}

int main(int argc, char **argv)
{
    static const struct mode modes[] = {
        { "readiness", readiness },
        { "conversation", conversation },
        { "sigpipe", sigpipe },
        { "redirect", redirect },
        { "fdcheck", fdcheck },
        { NULL, NULL },
    };
    return run_mode(modes, argc, argv);
}
