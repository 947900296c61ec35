/* Helpers shared by the multi-process test programs (fork.c, threads.c,
 * signals.c, pipes.c, badsignals.c).
 *
 * Each of those programs takes a MODE argument and runs one scenario, so a
 * scenario that kills or hangs the process cannot hide the others, and the
 * harness reports each one separately. Output rules are those of common.h,
 * plus: only one process prints at any time (the others are synchronised
 * through pipes or wait), so the order of lines is deterministic. */
#ifndef SENTRY_TEST_PROCTEST_H
#define SENTRY_TEST_PROCTEST_H

#include "common.h"
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

/* poll(2) revents as names: "IN|OUT", or "none". */
static inline const char *events(short ev)
{
    static char buf[64];
    buf[0] = 0;
    if (ev & POLLIN) strcat(buf, "IN|");
    if (ev & POLLOUT) strcat(buf, "OUT|");
    if (ev & POLLERR) strcat(buf, "ERR|");
    if (ev & POLLHUP) strcat(buf, "HUP|");
    if (ev & POLLNVAL) strcat(buf, "NVAL|");
    size_t n = strlen(buf);
    if (n)
        buf[n - 1] = 0;
    else
        strcpy(buf, "none");
    return buf;
}

/* Polls one fd for WANT and prints "label: N ready, EVENTS". */
static inline void poll_one(const char *label, int fd, short want, int timeout_ms)
{
    struct pollfd p = { fd, want, 0 };
    int r = poll(&p, 1, timeout_ms);
    if (r < 0)
        printf("%s: %s\n", label, errname(errno));
    else
        printf("%s: %d ready, %s\n", label, r, events(p.revents));
}

/* Signal numbers as names: strsignal() text differs between glibc and musl. */
static inline const char *signame(int s)
{
    switch (s) {
#define S(x) case x: return #x;
    S(SIGHUP) S(SIGINT) S(SIGQUIT) S(SIGILL) S(SIGTRAP) S(SIGABRT) S(SIGBUS)
    S(SIGFPE) S(SIGKILL) S(SIGUSR1) S(SIGSEGV) S(SIGUSR2) S(SIGPIPE) S(SIGALRM)
    S(SIGTERM) S(SIGCHLD) S(SIGCONT) S(SIGSTOP) S(SIGTSTP) S(SIGTTIN) S(SIGTTOU) S(SIGURG) S(SIGWINCH)
#undef S
    default: {
        static char buf[32];
        snprintf(buf, sizeof buf, "signal%d", s);
        return buf;
    }
    }
}

/* A wait status in words: "exited 3", "killed by SIGTERM", "stopped by SIGSTOP". */
static inline const char *describe_status(int st)
{
    static char buf[64];
    if (WIFEXITED(st))
        snprintf(buf, sizeof buf, "exited %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        snprintf(buf, sizeof buf, "killed by %s", signame(WTERMSIG(st)));
    else if (WIFSTOPPED(st))
        snprintf(buf, sizeof buf, "stopped by %s", signame(WSTOPSIG(st)));
    else if (WIFCONTINUED(st))
        snprintf(buf, sizeof buf, "continued");
    else
        snprintf(buf, sizeof buf, "status 0x%x", st);
    return buf;
}

/* Waits for pid and prints "label: exited N" (or the errno name). */
static inline void report_wait(const char *label, pid_t pid)
{
    int st = 0;
    pid_t r = waitpid(pid, &st, 0);
    if (r < 0)
        printf("%s: %s\n", label, errname(errno));
    else
        printf("%s: %s%s\n", label, describe_status(st), r == pid ? "" : " (other pid!)");
}

/* stdout is a pipe under the harness: line buffering keeps lines whole and
 * means nothing is left in the buffer to be duplicated by fork(). */
static inline void line_buffered(void) { setvbuf(stdout, NULL, _IOLBF, 0); }

/* Blocks until the peer writes one byte or closes; returns the byte or -1. */
static inline int await_byte(int fd)
{
    unsigned char c;
    ssize_t n;
    do
        n = read(fd, &c, 1);
    while (n < 0 && errno == EINTR);
    return n == 1 ? c : -1;
}

static inline void send_byte(int fd, unsigned char c)
{
    ssize_t n;
    do
        n = write(fd, &c, 1);
    while (n < 0 && errno == EINTR);
    must(n == 1, "send_byte");
}

/* Dispatch: MODES is a table of { name, function } ending with { NULL, NULL }. */
struct mode { const char *name; void (*run)(char **argv); };

static inline int run_mode(const struct mode *modes, int argc, char **argv)
{
    line_buffered();
    if (argc >= 2)
        for (const struct mode *m = modes; m->name; m++)
            if (strcmp(m->name, argv[1]) == 0) {
                m->run(argv);
                printf("done\n");
                return 0;
            }
    fprintf(stderr, "usage: %s MODE; modes:", argv[0]);
    for (const struct mode *m = modes; m->name; m++)
        fprintf(stderr, " %s", m->name);
    fprintf(stderr, "\n");
    return 2;
}

#endif
