/* Waiting and readiness: poll, ppoll, select, pselect6 and epoll (level-triggered,
 * EPOLLET, EPOLLONESHOT, EPOLLEXCLUSIVE, nested) over pipes, FIFOs, AF_UNIX
 * stream/datagram/seqpacket sockets, eventfd, ptys, signalfd and regular files,
 * as data arrives, more arrives unread, part is read, the peer closes or shuts
 * down; wakeups from other threads and processes, timeouts, EINTR, EOF across
 * fork and exec, wait4 while the parent sleeps in poll/epoll, resource limits.
 * Usage: readiness MODE (see the table at the end). */
#include "proctest.h"
#include <fcntl.h>
#include <pthread.h>
#include <pty.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <termios.h>

extern char **environ;

/* epoll event bits as names ("none" when empty). */
static const char *epnames(uint32_t ev)
{
    static char buf[96];
    buf[0] = 0;
    if (ev & EPOLLIN) strcat(buf, "IN|");
    if (ev & EPOLLPRI) strcat(buf, "PRI|");
    if (ev & EPOLLOUT) strcat(buf, "OUT|");
    if (ev & EPOLLERR) strcat(buf, "ERR|");
    if (ev & EPOLLHUP) strcat(buf, "HUP|");
    if (ev & EPOLLRDHUP) strcat(buf, "RDHUP|");
    size_t n = strlen(buf);
    if (n)
        buf[n - 1] = 0;
    else
        strcpy(buf, "none");
    return buf;
}

/* One epoll_wait with timeout 0: "N[:EVENTS/data...]". Four results may be
 * used in one printf (of different instances, so their order does not matter). */
static const char *ep_now(int ep)
{
    static char bufs[4][160];
    static int next;
    char *out = bufs[next++ % 4];
    struct epoll_event evs[8];
    int n = epoll_wait(ep, evs, 8, 0);
    if (n < 0) {
        snprintf(out, sizeof bufs[0], "%s", errname(errno));
        return out;
    }
    snprintf(out, sizeof bufs[0], "%d", n);
    for (int i = 0; i < n; i++) {
        char one[48];
        snprintf(one, sizeof one, "%s%s/%llu", i ? "," : ":", epnames(evs[i].events), (unsigned long long)evs[i].data.u64);
        strncat(out, one, sizeof bufs[0] - strlen(out) - 1);
    }
    return out;
}

static int ep_add(int ep, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event e = { .events = events, .data.u64 = data };
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

/* The state of one fd through every interface, with no waiting:
 * poll and ppoll revents, select and pselect6 sets (r/w/x), a fresh level-triggered epoll. */
static void observe(const char *label, int fd, short want)
{
    struct pollfd p = { fd, want, 0 };
    int pr = poll(&p, 1, 0);
    char polls[64];
    snprintf(polls, sizeof polls, "%s", pr < 0 ? errname(errno) : events(p.revents));
    struct pollfd q = { fd, want, 0 };
    struct timespec zero = { 0, 0 };
    int qr = ppoll(&q, 1, &zero, NULL);
    const char *same = qr >= 0 && q.revents == p.revents ? "same" : "differs";

    fd_set r, w, x;
    FD_ZERO(&r); FD_ZERO(&w); FD_ZERO(&x);
    if (want & POLLIN) FD_SET(fd, &r);
    if (want & POLLOUT) FD_SET(fd, &w);
    FD_SET(fd, &x);
    struct timeval tv = { 0, 0 };
    int sr = select(fd + 1, &r, &w, &x, &tv);
    char sel[16];
    snprintf(sel, sizeof sel, "%c%c%c", FD_ISSET(fd, &r) ? 'r' : '-', FD_ISSET(fd, &w) ? 'w' : '-', FD_ISSET(fd, &x) ? 'x' : '-');
    fd_set r2, w2, x2;
    FD_ZERO(&r2); FD_ZERO(&w2); FD_ZERO(&x2);
    if (want & POLLIN) FD_SET(fd, &r2);
    if (want & POLLOUT) FD_SET(fd, &w2);
    FD_SET(fd, &x2);
    int psr = pselect(fd + 1, &r2, &w2, &x2, &zero, NULL);
    const char *psame = psr == sr && memcmp(&r, &r2, sizeof r) == 0 && memcmp(&w, &w2, sizeof w) == 0 ? "same" : "differs";

    int ep = epoll_create1(0);
    uint32_t ew = (want & POLLIN ? EPOLLIN | EPOLLRDHUP : 0) | (want & POLLOUT ? EPOLLOUT : 0);
    const char *lt = ep_add(ep, fd, ew, 0) < 0 ? errname(errno) : ep_now(ep);
    printf("%s: poll=%s ppoll=%s select=%d:%s pselect=%s epoll=%s\n", label, polls, same, sr, sel, psame, lt);
    close(ep);
}

/* ---- one kind of file as a (reader, writer) pair ---- */

enum kind { PIPE, FIFO, STREAM, DGRAM, SEQPACKET, EVENTFD, SEMAPHORE, PTY };

static void make(enum kind k, int *r, int *w)
{
    int p[2];
    switch (k) {
    case PIPE:
        must(pipe(p) == 0, "pipe");
        *r = p[0]; *w = p[1];
        return;
    case FIFO: {
        char path[64];
        snprintf(path, sizeof path, "/tmp/readiness-fifo-%d", getpid());
        unlink(path);
        must(mkfifo(path, 0600) == 0, "mkfifo");
        *r = open(path, O_RDONLY | O_NONBLOCK);
        *w = open(path, O_WRONLY);
        must(*r >= 0 && *w >= 0, "open fifo");
        unlink(path);
        return;
    }
    case STREAM: case DGRAM: case SEQPACKET:
        must(socketpair(AF_UNIX, k == STREAM ? SOCK_STREAM : k == DGRAM ? SOCK_DGRAM : SOCK_SEQPACKET, 0, p) == 0, "socketpair");
        *r = p[0]; *w = p[1];
        return;
    case EVENTFD: case SEMAPHORE:
        *r = *w = eventfd(0, k == SEMAPHORE ? EFD_SEMAPHORE : 0);
        must(*r >= 0, "eventfd");
        return;
    case PTY: {
        int m, s;
        must(openpty(&m, &s, NULL, NULL, NULL) == 0, "openpty");
        struct termios t;
        tcgetattr(s, &t);
        cfmakeraw(&t);
        tcsetattr(s, TCSANOW, &t);
        *r = s; *w = m;
        return;
    }
    }
}

static void put(enum kind k, int w, const char *data)
{
    if (k == EVENTFD || k == SEMAPHORE) {
        uint64_t v = strlen(data);
        must(write(w, &v, 8) == 8, "eventfd write");
    } else
        must(write(w, data, strlen(data)) == (ssize_t)strlen(data), "write");
}

static void take(enum kind k, int r, size_t n)
{
    char buf[64];
    if (k == EVENTFD || k == SEMAPHORE) {
        uint64_t v = 0;
        ssize_t got = read(r, &v, 8);
        printf("read: %zd bytes, value %llu\n", got, (unsigned long long)v);
        return;
    }
    ssize_t got = read(r, buf, n);
    if (got < 0)
        printf("read: %s\n", errname(errno));
    else
        printf("read: %zd bytes\n", got);
}

/* The matrix for one kind: each event, then every interface on both ends, and
 * what edge-triggered and one-shot epoll instances (made at the start) report. */
static void matrix(enum kind k)
{
    int r = -1, w = -1;
    make(k, &r, &w);
    fcntl(r, F_SETFL, fcntl(r, F_GETFL) | O_NONBLOCK); /* a read of an empty file says EAGAIN */
    int single = r == w;
    int et = epoll_create1(0), one = epoll_create1(0);
    must(ep_add(et, r, EPOLLIN | EPOLLRDHUP | EPOLLET, 1) == 0, "add et reader");
    if (!single)
        must(ep_add(et, w, EPOLLOUT | EPOLLET, 2) == 0, "add et writer");
    must(ep_add(one, r, EPOLLIN | EPOLLONESHOT, 3) == 0, "add oneshot");

#define STEP(what) do { \
        observe(what ", reader", r, POLLIN); \
        if (!single) observe(what ", writer", w, POLLOUT); \
        printf("%s: et=%s", what, ep_now(et)); \
        printf(" oneshot=%s\n", ep_now(one)); \
    } while (0)

    STEP("created");
    put(k, w, "ab");
    STEP("data arrived");
    printf("again: et=%s", ep_now(et));
    printf(" oneshot=%s\n", ep_now(one));
    put(k, w, "c");
    STEP("more data while unread");
    struct epoll_event mod = { .events = EPOLLIN | EPOLLONESHOT, .data.u64 = 4 };
    report("rearm oneshot", epoll_ctl(one, EPOLL_CTL_MOD, r, &mod));
    printf("rearmed: oneshot=%s\n", ep_now(one));
    take(k, r, 1);
    STEP("partial read");
    take(k, r, 64);
    if (k == SEMAPHORE || k == DGRAM || k == SEQPACKET)
        take(k, r, 64);
    STEP("drained");
    if (k == STREAM || k == SEQPACKET) {
        report("shutdown(SHUT_WR)", shutdown(w, SHUT_WR));
        STEP("writer shut down");
    }
    if (!single) {
        close(w);
        observe("writer closed, reader", r, POLLIN);
        printf("writer closed: et=%s\n", ep_now(et));
        if (k != DGRAM && k != PTY) {
            take(k, r, 64);
        }
    }
    close(r);
    close(et);
    close(one);
}

static void m_pipe(char **a) { (void)a; matrix(PIPE); }
static void m_fifo(char **a) { (void)a; matrix(FIFO); }
static void m_stream(char **a) { (void)a; matrix(STREAM); }
static void m_dgram(char **a) { (void)a; matrix(DGRAM); }
static void m_seqpacket(char **a) { (void)a; matrix(SEQPACKET); }
static void m_eventfd(char **a) { (void)a; matrix(EVENTFD); }
static void m_semaphore(char **a) { (void)a; matrix(SEMAPHORE); }

/* A pty moves input to the slave asynchronously (the flip buffer), so only waits with a
 * timeout give deterministic answers: data, EOF-like hangup when the master closes. */
static void m_pty(char **a)
{
    (void)a;
    int s, m;
    make(PTY, &s, &m);
    observe("pty created, slave", s, POLLIN);
    observe("pty created, master", m, POLLOUT);
    int ep = epoll_create1(0);
    must(ep_add(ep, s, EPOLLIN, 1) == 0, "add slave");
    must(write(m, "ab", 2) == 2, "write");
    struct epoll_event ev;
    int n = epoll_wait(ep, &ev, 1, 5000);
    printf("slave after the master wrote: %d %s\n", n, n == 1 ? epnames(ev.events) : "");
    char buf[8];
    size_t got = 0;
    while (got < 2) {
        ssize_t r = read(s, buf, sizeof buf);
        must(r > 0, "read slave");
        got += (size_t)r;
    }
    printf("slave read %zu bytes\n", got);
    observe("slave drained", s, POLLIN);
    must(write(s, "xyz", 3) == 3, "write slave");
    struct pollfd pf = { m, POLLIN, 0 };
    n = poll(&pf, 1, 5000);
    printf("master after the slave wrote: %d %s\n", n, events(pf.revents));
    close(m);
    pf.fd = s;
    n = poll(&pf, 1, 5000);
    printf("slave after the master closed: %d %s\n", n, events(pf.revents));
    n = epoll_wait(ep, &ev, 1, 5000);
    printf("epoll on the slave: %d %s\n", n, n == 1 ? epnames(ev.events) : "");
    close(s);
}

/* The first reproduction of issue 23: a new write is a new edge, even on a readable pipe. */
static void edge(char **a)
{
    (void)a;
    int p[2];
    must(pipe(p) == 0, "pipe");
    int ep = epoll_create1(0);
    must(ep_add(ep, p[0], EPOLLIN | EPOLLET, 7) == 0, "add");
    printf("empty: %s\n", ep_now(ep));
    must(write(p[1], "ab", 2) == 2, "write");
    printf("after ab: %s\n", ep_now(ep));
    printf("again: %s\n", ep_now(ep));
    must(write(p[1], "c", 1) == 1, "write");
    printf("after c: %s\n", ep_now(ep));
    printf("again: %s\n", ep_now(ep));
    /* The write end, edge-triggered for OUT: the reader's reads of a full page make room. */
    int ew = epoll_create1(0);
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    must(ep_add(ew, p[1], EPOLLOUT | EPOLLET, 8) == 0, "add writer");
    printf("writer: %s\n", ep_now(ew));
    must(write(p[1], "d", 1) == 1, "write");
    printf("writer after its own write: %s\n", ep_now(ew));
    char buf[4096];
    memset(buf, 'z', sizeof buf);
    long total = 0;
    ssize_t n;
    while ((n = write(p[1], buf, sizeof buf)) > 0)
        total += n;
    printf("filled: %s, writer: %s\n", errname(errno), ep_now(ew));
    must(read(p[0], buf, 3) == 3, "read");
    while (total > 0) {
        n = read(p[0], buf, sizeof buf);
        must(n > 0, "drain");
        total -= n;
    }
    printf("drained: writer %s, reader %s\n", ep_now(ew), ep_now(ep));
    close(p[1]);
    printf("writer closed: reader %s\n", ep_now(ep));
    printf("again: %s\n", ep_now(ep));
}

/* epoll_ctl rules, dup'd fds, close while registered, nesting, regular files. */
static void epoll_rules(char **a)
{
    (void)a;
    int p[2];
    must(pipe(p) == 0, "pipe");
    int ep = epoll_create1(0);
    struct epoll_event e = { .events = EPOLLIN, .data.u64 = 1 };
    report("add", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &e));
    report("add again", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &e));
    report("mod of unknown fd", epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &e));
    report("del of unknown fd", epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL));
    report("bad op", epoll_ctl(ep, 99, p[0], &e));
    report("bad epfd", epoll_ctl(-1, EPOLL_CTL_ADD, p[0], &e));
    report("bad fd", epoll_ctl(ep, EPOLL_CTL_ADD, 999, &e));
    report("epfd not an epoll", epoll_ctl(p[0], EPOLL_CTL_ADD, p[1], &e));
    report("itself", epoll_ctl(ep, EPOLL_CTL_ADD, ep, &e));
    report("event unreadable", epoll_ctl(ep, EPOLL_CTL_ADD, p[1], KERNEL_ADDR));
    report("event unreadable, bad fd", epoll_ctl(ep, EPOLL_CTL_ADD, 999, KERNEL_ADDR));
    int reg = open("/proc/self/exe", O_RDONLY);
    report("regular file", epoll_ctl(ep, EPOLL_CTL_ADD, reg, &e));
    observe("regular file", reg, POLLIN | POLLOUT);
    close(reg);
    struct epoll_event out[2];
    report("wait maxevents 0", epoll_wait(ep, out, 0, 0));
    report("wait maxevents -1", syscall(SYS_epoll_wait, ep, out, -1, 0));
    report("wait on a pipe", epoll_wait(p[0], out, 1, 0));
    report("wait bad fd", epoll_wait(999, out, 1, 0));
    report("wait events unwritable", epoll_wait(ep, KERNEL_ADDR, 1, 0));
    report("epoll_create(0)", epoll_create(0));
    report("epoll_create1(bad)", epoll_create1(1));

    /* EPOLLEXCLUSIVE rules. */
    int ex = epoll_create1(0);
    e.events = EPOLLIN | EPOLLEXCLUSIVE;
    report("exclusive add", epoll_ctl(ex, EPOLL_CTL_ADD, p[0], &e));
    report("exclusive mod", epoll_ctl(ex, EPOLL_CTL_MOD, p[0], &e));
    e.events = EPOLLIN;
    report("mod of an exclusive item", epoll_ctl(ex, EPOLL_CTL_MOD, p[0], &e));
    e.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT;
    report("exclusive with oneshot", epoll_ctl(ex, EPOLL_CTL_ADD, p[1], &e));
    e.events = EPOLLIN | EPOLLEXCLUSIVE;
    report("exclusive on an epoll", epoll_ctl(ex, EPOLL_CTL_ADD, ep, &e));
    close(ex);

    /* The same pipe through dup'd fds: two items, each with its own data. */
    int d = dup(p[0]);
    e.events = EPOLLIN; e.data.u64 = 2;
    report("add dup", epoll_ctl(ep, EPOLL_CTL_ADD, d, &e));
    must(write(p[1], "x", 1) == 1, "write");
    printf("two fds of one pipe: %s\n", ep_now(ep));
    /* Closing one fd of a description still open elsewhere leaves its item. */
    close(p[0]);
    printf("original fd closed: %s\n", ep_now(ep));
    report("del of the closed fd", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
    /* Closing the last fd of the description removes its items. */
    close(d);
    printf("last fd closed: %s\n", ep_now(ep));
    int q[2];
    must(pipe(q) == 0, "pipe");
    printf("new pipe reuses fd: %s\n", q[0] == p[0] || q[0] == d || q[1] == d || q[1] == p[0] ? "yes" : "no");
    e.data.u64 = 3;
    report("add the new file at a reused number", epoll_ctl(ep, EPOLL_CTL_ADD, q[0], &e));
    printf("empty new pipe: %s\n", ep_now(ep));

    /* Nesting: an epoll watching an epoll; cycles and depth. */
    int outer = epoll_create1(0);
    e.events = EPOLLIN; e.data.u64 = 10;
    report("nest", epoll_ctl(outer, EPOLL_CTL_ADD, ep, &e));
    printf("outer, inner not ready: %s\n", ep_now(outer));
    must(write(q[1], "y", 1) == 1, "write");
    printf("outer, inner ready: %s\n", ep_now(outer));
    observe("inner epoll", ep, POLLIN | POLLOUT);
    report("cycle", epoll_ctl(ep, EPOLL_CTL_ADD, outer, &e));
    int chain[6];
    chain[0] = outer;
    for (int i = 1; i < 6; i++) {
        chain[i] = epoll_create1(0);
        char label[32];
        snprintf(label, sizeof label, "nest depth %d", i + 1);
        report(label, epoll_ctl(chain[i], EPOLL_CTL_ADD, chain[i - 1], &e));
    }
    /* Edge-triggered on a nested epoll: each new wakeup below is an edge above. */
    int etop = epoll_create1(0);
    e.events = EPOLLIN | EPOLLET; e.data.u64 = 11;
    report("et on inner", epoll_ctl(etop, EPOLL_CTL_ADD, ep, &e));
    printf("et outer: %s\n", ep_now(etop));
    printf("et outer again: %s\n", ep_now(etop));
    must(write(q[1], "z", 1) == 1, "write");
    printf("et outer after a write below: %s\n", ep_now(etop));
}

/* EPOLLEXCLUSIVE: one keyed wakeup reaches one exclusive instance; a hangup reaches all. */
static void exclusive(char **a)
{
    (void)a;
    int p[2];
    must(pipe(p) == 0, "pipe");
    int e1 = epoll_create1(0), e2 = epoll_create1(0), e3 = epoll_create1(0);
    must(ep_add(e1, p[0], EPOLLIN | EPOLLEXCLUSIVE, 1) == 0, "add 1");
    must(ep_add(e2, p[0], EPOLLIN | EPOLLEXCLUSIVE, 2) == 0, "add 2");
    must(ep_add(e3, p[0], EPOLLIN, 3) == 0, "add 3");
    must(write(p[1], "a", 1) == 1, "write");
    printf("after a write: first %s, second %s, plain %s\n", ep_now(e1), ep_now(e2), ep_now(e3));
    char c;
    must(read(p[0], &c, 1) == 1, "read");
    printf("after the read: first %s, second %s, plain %s\n", ep_now(e1), ep_now(e2), ep_now(e3));
    close(p[1]);
    printf("after the close: first %s, second %s, plain %s\n", ep_now(e1), ep_now(e2), ep_now(e3));
}

/* signalfd: readable while a signal of its mask is pending, through every interface. */
static void sigfd(char **a)
{
    (void)a;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigprocmask(SIG_BLOCK, &s, NULL);
    int fd = signalfd(-1, &s, 0);
    int et = epoll_create1(0);
    must(ep_add(et, fd, EPOLLIN | EPOLLET, 5) == 0, "add");
    observe("no signal", fd, POLLIN);
    printf("et: %s\n", ep_now(et));
    kill(getpid(), SIGUSR1);
    observe("SIGUSR1 pending", fd, POLLIN);
    printf("et: %s\n", ep_now(et));
    printf("et again: %s\n", ep_now(et));
    struct signalfd_siginfo si;
    printf("read: %zd bytes, signal %s\n", read(fd, &si, sizeof si), signame((int)si.ssi_signo));
    observe("taken", fd, POLLIN);
    /* A signal from another process while we sleep in epoll_wait. */
    int lt = epoll_create1(0);
    must(ep_add(lt, fd, EPOLLIN, 6) == 0, "add");
    pid_t c = fork();
    if (c == 0) {
        usleep(50000);
        kill(getppid(), SIGUSR1);
        _exit(0);
    }
    struct epoll_event ev;
    int n = epoll_wait(lt, &ev, 1, 5000);
    printf("woken by a signal from a child: %d %s\n", n, n == 1 ? epnames(ev.events) : "");
    report_wait("child", c);
    printf("read: %zd bytes, signal %s\n", read(fd, &si, sizeof si), signame((int)si.ssi_signo));
}

/* ---- wakeups from elsewhere, timeouts, EINTR ---- */

static int g_wfd;

static void *writer_thread(void *arg)
{
    usleep(50000);
    must(write(g_wfd, arg, 1) == 1, "thread write");
    return NULL;
}

/* Each interface sleeps with no timeout and is woken by another thread's write. */
static void threads(char **a)
{
    (void)a;
    const char *names[] = { "poll", "ppoll", "select", "pselect6", "epoll", "epoll_pwait", "epoll et" };
    for (int i = 0; i < 7; i++) {
        int p[2];
        must(pipe(p) == 0, "pipe");
        g_wfd = p[1];
        pthread_t t;
        pthread_create(&t, NULL, writer_thread, "x");
        int n = -1;
        struct pollfd pf = { p[0], POLLIN, 0 };
        fd_set r;
        FD_ZERO(&r);
        FD_SET(p[0], &r);
        int ep = epoll_create1(0);
        ep_add(ep, p[0], EPOLLIN | (i == 6 ? EPOLLET : 0), 1);
        struct epoll_event ev;
        switch (i) {
        case 0: n = poll(&pf, 1, -1); break;
        case 1: n = ppoll(&pf, 1, NULL, NULL); break;
        case 2: n = select(p[0] + 1, &r, NULL, NULL, NULL); break;
        case 3: n = pselect(p[0] + 1, &r, NULL, NULL, NULL, NULL); break;
        case 4: n = epoll_wait(ep, &ev, 1, -1); break;
        case 5: n = epoll_pwait(ep, &ev, 1, -1, NULL); break;
        case 6: n = epoll_wait(ep, &ev, 1, -1); break;
        }
        printf("%s woken by another thread: %d\n", names[i], n);
        pthread_join(t, NULL);
        close(p[0]); close(p[1]); close(ep);
    }
}

/* The same, woken by another process: a write, and the last writer's exit. */
static void processes(char **a)
{
    (void)a;
    for (int i = 0; i < 2; i++) {
        int p[2];
        must(pipe(p) == 0, "pipe");
        pid_t c = fork();
        if (c == 0) {
            close(p[0]);
            usleep(50000);
            if (i == 0) {
                must(write(p[1], "x", 1) == 1, "write");
                usleep(100000); /* still holding the write end when the parent looks */
            }
            _exit(0);
        }
        close(p[1]);
        int ep = epoll_create1(0);
        ep_add(ep, p[0], EPOLLIN | EPOLLET, 1);
        struct epoll_event ev;
        int n = epoll_wait(ep, &ev, 1, 5000);
        printf("%s: epoll %d %s\n", i == 0 ? "child writes" : "child exits", n, n == 1 ? epnames(ev.events) : "");
        struct pollfd pf = { p[0], POLLIN, 0 };
        n = poll(&pf, 1, 5000);
        printf("then poll: %d %s\n", n, events(pf.revents));
        report_wait("child", c);
        close(p[0]);
        close(ep);
    }
}

static void on_alarm(int s) { (void)s; }

/* Timeouts expire with 0; a signal with a handler interrupts with EINTR (never restarted). */
static void timeouts(char **a)
{
    (void)a;
    int p[2];
    must(pipe(p) == 0, "pipe");
    struct pollfd pf = { p[0], POLLIN, 0 };
    struct timespec ts = { 0, 20000000 };
    struct timeval tv = { 0, 20000 };
    fd_set r;
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    int ep = epoll_create1(0);
    ep_add(ep, p[0], EPOLLIN, 1);
    struct epoll_event ev;
    report_val("poll 20 ms", poll(&pf, 1, 20));
    report_val("ppoll 20 ms", ppoll(&pf, 1, &ts, NULL));
    report_val("select 20 ms", select(p[0] + 1, &r, NULL, NULL, &tv));
    printf("select left the set: %s\n", FD_ISSET(p[0], &r) ? "set" : "cleared");
    FD_SET(p[0], &r);
    report_val("pselect6 20 ms", pselect(p[0] + 1, &r, NULL, NULL, &ts, NULL));
    report_val("epoll_wait 20 ms", epoll_wait(ep, &ev, 1, 20));
    struct timespec bad = { 0, 1000000000 };
    report("ppoll bad timeout", ppoll(&pf, 1, &bad, NULL));
    struct timeval badtv = { 0, -1 };
    report("select bad timeout", select(p[0] + 1, &r, NULL, NULL, &badtv));
    report("select nfds -1", select(-1, &r, NULL, NULL, &tv));
    FD_ZERO(&r);
    FD_SET(900, &r);
    report("select of a closed fd", select(901, &r, NULL, NULL, &tv));
    struct pollfd closed = { 900, POLLIN, 0 };
    int n = poll(&closed, 1, 0);
    printf("poll of a closed fd: %d %s\n", n, events(closed.revents));

    struct sigaction sa = { .sa_handler = on_alarm };
    sigaction(SIGALRM, &sa, NULL);
    const char *names[] = { "poll", "ppoll", "select", "pselect6", "epoll_wait", "epoll_pwait" };
    for (int i = 0; i < 6; i++) {
        sa.sa_flags = SA_RESTART; /* poll-family calls fail with EINTR even so */
        sigaction(SIGALRM, &sa, NULL);
        struct itimerval it = { { 0, 0 }, { 0, 30000 } };
        setitimer(ITIMER_REAL, &it, NULL);
        FD_ZERO(&r);
        FD_SET(p[0], &r);
        switch (i) {
        case 0: n = poll(&pf, 1, -1); break;
        case 1: n = ppoll(&pf, 1, NULL, NULL); break;
        case 2: n = select(p[0] + 1, &r, NULL, NULL, NULL); break;
        case 3: n = pselect(p[0] + 1, &r, NULL, NULL, NULL, NULL); break;
        case 4: n = epoll_wait(ep, &ev, 1, -1); break;
        case 5: n = epoll_pwait(ep, &ev, 1, -1, NULL); break;
        }
        printf("%s interrupted by SIGALRM: %d %s\n", names[i], n, n < 0 ? errname(errno) : "");
    }
    /* ppoll's mask: SIGALRM blocked outside, let in only while waiting. */
    sigset_t block, during;
    sigemptyset(&block);
    sigaddset(&block, SIGALRM);
    sigprocmask(SIG_BLOCK, &block, NULL);
    sigemptyset(&during);
    struct itimerval it = { { 0, 0 }, { 0, 30000 } };
    setitimer(ITIMER_REAL, &it, NULL);
    n = ppoll(&pf, 1, NULL, &during);
    printf("ppoll with SIGALRM let in: %d %s\n", n, n < 0 ? errname(errno) : "");
    setitimer(ITIMER_REAL, &it, NULL);
    n = epoll_pwait(ep, &ev, 1, -1, &during);
    printf("epoll_pwait with SIGALRM let in: %d %s\n", n, n < 0 ? errname(errno) : "");
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    printf("mask restored: %s\n", sigismember(&now, SIGALRM) ? "yes" : "no");
}

/* ---- EOF across fork and exec, wait4 while sleeping ---- */

/* The reader sees EOF when the last write end in any process closes. */
static void eof(char **argv)
{
    int p[2];
    must(pipe(p) == 0, "pipe");
    pid_t c = fork();
    if (c == 0) {
        /* The child holds a duplicate of the write end, then drops it. */
        usleep(50000);
        close(p[1]);
        usleep(50000);
        _exit(0);
    }
    close(p[1]);
    struct pollfd pf = { p[0], POLLIN, 0 };
    int n = poll(&pf, 1, 0);
    printf("parent closed its write end, child holds one: %d %s\n", n, events(pf.revents));
    n = poll(&pf, 1, 5000);
    printf("child closed its duplicate: %d %s\n", n, events(pf.revents));
    report_wait("child", c);
    close(p[0]);

    /* Across exec: a plain write end survives exec and keeps the pipe open until the new
     * program exits; an O_CLOEXEC one is closed by the exec itself. */
    for (int cloexec = 0; cloexec < 2; cloexec++) {
        must(pipe2(p, cloexec ? O_CLOEXEC : 0) == 0, "pipe2");
        int sync[2];
        must(pipe(sync) == 0, "pipe");
        c = fork();
        if (c == 0) {
            close(p[0]);
            close(sync[0]);
            char fd[16];
            snprintf(fd, sizeof fd, "%d", sync[1]);
            char *args[] = { argv[0], "sleeper", fd, NULL };
            execve(args[0], args, environ);
            _exit(127);
        }
        close(p[1]);
        close(sync[1]);
        char b;
        must(read(sync[0], &b, 1) == 1, "sleeper started");
        pf.fd = p[0];
        n = poll(&pf, 1, 0);
        printf("%s write end after the child's exec: %d %s\n", cloexec ? "O_CLOEXEC" : "plain", n, events(pf.revents));
        n = poll(&pf, 1, 5000);
        printf("after the exec'd child exits: %d %s\n", n, events(pf.revents));
        report_wait("child", c);
        close(p[0]);
        close(sync[0]);
    }

    /* A thread holding no fds of its own: the write end is the process's, and the
     * reader sees EOF only when the process closes it. */
    must(pipe(p) == 0, "pipe");
    g_wfd = p[1];
    pthread_t t;
    pthread_create(&t, NULL, writer_thread, "t");
    pthread_join(t, NULL);
    pf.fd = p[0];
    n = poll(&pf, 1, 0);
    printf("after the writing thread exited: %d %s\n", n, events(pf.revents));
    close(p[1]);
    char buf[8];
    printf("read %zd, then %zd\n", read(p[0], buf, 8), read(p[0], buf, 8));
}

static void sleeper(char **argv)
{
    int fd = atoi(argv[2]);
    must(write(fd, "s", 1) == 1, "sync");
    usleep(100000);
    exit(0);
}

/* wait4 and SIGCHLD while the parent sleeps in poll or epoll_wait. */
static void waits(char **a)
{
    (void)a;
    for (int i = 0; i < 2; i++) {
        int p[2];
        must(pipe(p) == 0, "pipe");
        pid_t c = fork();
        if (c == 0) {
            close(p[0]);
            usleep(50000);
            _exit(7);
        }
        /* The parent keeps the write end: only the child's exit can end the wait. */
        int ep = epoll_create1(0);
        ep_add(ep, p[0], EPOLLIN, 1);
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGCHLD);
        int sfd = signalfd(-1, &s, 0);
        sigprocmask(SIG_BLOCK, &s, NULL);
        ep_add(ep, sfd, EPOLLIN, 2);
        struct pollfd pf[2] = { { p[0], POLLIN, 0 }, { sfd, POLLIN, 0 } };
        int n;
        if (i == 0) {
            n = poll(pf, 2, 5000);
            printf("poll woken by the child's exit: %d pipe=%s signalfd=%s\n", n, events(pf[0].revents), events(pf[1].revents));
        } else {
            struct epoll_event ev[2];
            n = epoll_wait(ep, ev, 2, 5000);
            printf("epoll woken by the child's exit: %d %s/%llu\n", n, n > 0 ? epnames(ev[0].events) : "", n > 0 ? (unsigned long long)ev[0].data.u64 : 0ULL);
        }
        report_wait("wait4", c);
        sigprocmask(SIG_UNBLOCK, &s, NULL);
        close(sfd); close(ep); close(p[0]); close(p[1]);
    }
}

/* ---- resource limits ---- */

static void show_limits(const char *label)
{
    static const char *names[] = { "CPU", "FSIZE", "DATA", "STACK", "CORE", "RSS", "NPROC", "NOFILE",
                                   "MEMLOCK", "AS", "LOCKS", "SIGPENDING", "MSGQUEUE", "NICE", "RTPRIO", "RTTIME" };
    printf("%s:", label);
    for (int r = 0; r < 16; r++) {
        struct rlimit l;
        getrlimit(r, &l);
        if (l.rlim_cur == RLIM_INFINITY) printf(" %s=inf", names[r]); else printf(" %s=%llu", names[r], (unsigned long long)l.rlim_cur);
        if (l.rlim_max == RLIM_INFINITY) printf(":inf"); else printf(":%llu", (unsigned long long)l.rlim_max);
    }
    printf("\n");
}

/* Only what the test sets: CORE and NOFILE (set by the harness), then the rules. */
static void limits(char **a)
{
    (void)a;
    struct rlimit l;
    getrlimit(RLIMIT_CORE, &l);
    printf("inherited CORE: %llu:%llu\n", (unsigned long long)l.rlim_cur, (unsigned long long)l.rlim_max);
    getrlimit(RLIMIT_NOFILE, &l);
    printf("inherited NOFILE hard: %llu\n", (unsigned long long)l.rlim_max);
    struct rlimit bad = { 10, 5 };
    report("soft above hard", setrlimit(RLIMIT_NOFILE, &bad));
    report("resource 16", getrlimit(16, &l));
    report("resource -1", setrlimit(-1, &l));
    report("getrlimit to a bad address", getrlimit(RLIMIT_NOFILE, KERNEL_ADDR));
    report("setrlimit from a bad address", setrlimit(16, KERNEL_ADDR));
    struct rlimit huge = { 64, 1 << 30 };
    report("NOFILE hard above nr_open", setrlimit(RLIMIT_NOFILE, &huge));
    struct rlimit small = { 20, 30 };
    report("NOFILE 20:30", setrlimit(RLIMIT_NOFILE, &small));
    int last = -1, fd;
    while ((fd = dup(0)) >= 0)
        last = fd;
    printf("highest fd under NOFILE 20: %d, then %s\n", last, errname(errno));
    for (int i = 3; i <= last; i++)
        close(i);
    struct rlimit more = { 20, 40 };
    report("raise NOFILE hard as root", setrlimit(RLIMIT_NOFILE, &more));
    struct rlimit old;
    report("prlimit self", prlimit(0, RLIMIT_NOFILE, &small, &old));
    printf("old: %llu:%llu\n", (unsigned long long)old.rlim_cur, (unsigned long long)old.rlim_max);
    report("prlimit of no such process", prlimit(99999, RLIMIT_NOFILE, NULL, &old));
    pid_t c = fork();
    if (c == 0) {
        pause();
        _exit(0);
    }
    struct rlimit core = { 0, 0 };
    report("prlimit of a child", prlimit(c, RLIMIT_CORE, &core, &old));
    kill(c, SIGKILL);
    report_wait("child", c);
    if (getuid() != 0) {
        printf("not root: skipping the unprivileged checks\n");
        return;
    }
    c = fork();
    if (c == 0) {
        must(setuid(1000) == 0, "setuid");
        struct rlimit up = { 10, 35 };
        report("raise NOFILE hard as a user", setrlimit(RLIMIT_NOFILE, &up));
        struct rlimit down = { 10, 25 };
        report("lower NOFILE hard as a user", setrlimit(RLIMIT_NOFILE, &down));
        report("raise it back", setrlimit(RLIMIT_NOFILE, &small));
        _exit(0);
    }
    report_wait("unprivileged child", c);
}

static void all_limits(char **a)
{
    (void)a;
    show_limits("limits");
}

int main(int argc, char **argv)
{
    static const struct mode modes[] = {
        { "pipe", m_pipe }, { "fifo", m_fifo }, { "stream", m_stream }, { "dgram", m_dgram },
        { "seqpacket", m_seqpacket }, { "eventfd", m_eventfd }, { "semaphore", m_semaphore }, { "pty", m_pty },
        { "edge", edge }, { "epoll", epoll_rules }, { "exclusive", exclusive }, { "signalfd", sigfd },
        { "threads", threads }, { "processes", processes }, { "timeouts", timeouts },
        { "eof", eof }, { "sleeper", sleeper }, { "waits", waits },
        { "limits", limits }, { "all_limits", all_limits },
        { NULL, NULL },
    };
    return run_mode(modes, argc, argv);
}
