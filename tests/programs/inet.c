/* AF_INET/AF_INET6 sockets over 127.0.0.1 and ::1, compared with the same binary run natively
 * in a private network namespace (only lo, up).
 *
 * Usage: inet MODE [4|6]. Output follows common.h's rules: ports and addresses are never
 * printed, only whether they match what was bound or connected; errno names, counts, flags. */
#include "common.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#ifndef SIOCINQ
#define SIOCINQ FIONREAD
#endif
#ifndef SIOCOUTQ
#define SIOCOUTQ TIOCOUTQ
#endif
#include <netdb.h>

static int fam = AF_INET;

static const char *ename(int e)
{
    switch (e) {
#define E(x) case x: return #x;
    E(ECONNREFUSED) E(EINPROGRESS) E(EALREADY) E(EISCONN) E(ENOTCONN) E(EAFNOSUPPORT)
    E(EPROTONOSUPPORT) E(ESOCKTNOSUPPORT) E(EADDRINUSE) E(EADDRNOTAVAIL) E(EDESTADDRREQ)
    E(EMSGSIZE) E(ENOPROTOOPT) E(EDOM) E(ECONNRESET) E(ECONNABORTED) E(ENOTSOCK) E(EPROTOTYPE)
    E(ENETUNREACH) E(EHOSTUNREACH)
#undef E
    default: return errname(e);
    }
}

static long rep(const char *label, long r)
{
    if (r < 0) printf("%s: %s\n", label, ename(errno));
    else printf("%s: ok\n", label);
    fflush(stdout);
    return r;
}

static long val(const char *label, long r)
{
    if (r < 0) printf("%s: %s\n", label, ename(errno));
    else printf("%s: = %ld\n", label, r);
    fflush(stdout);
    return r;
}

/* The loopback address of the family with a port. */
static socklen_t loop_addr(struct sockaddr_storage *ss, int port)
{
    memset(ss, 0, sizeof *ss);
    if (fam == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        a->sin_family = AF_INET;
        a->sin_port = htons(port);
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return sizeof *a;
    }
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    a->sin6_addr = in6addr_loopback;
    return sizeof *a;
}

static int port_of(int fd, int peer)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if ((peer ? getpeername(fd, (struct sockaddr *)&ss, &len) : getsockname(fd, (struct sockaddr *)&ss, &len)) < 0) return -1;
    return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* A listening TCP socket on loopback, port chosen by the kernel. */
static int listener(int backlog, int *port)
{
    int s = socket(fam, SOCK_STREAM, 0);
    must(s >= 0, "socket");
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_storage ss;
    socklen_t len = loop_addr(&ss, 0);
    must(bind(s, (struct sockaddr *)&ss, len) == 0, "bind");
    must(listen(s, backlog) == 0, "listen");
    *port = port_of(s, 0);
    return s;
}

static int connect_to(int port, int flags)
{
    int c = socket(fam, SOCK_STREAM | flags, 0);
    must(c >= 0, "socket");
    struct sockaddr_storage ss;
    socklen_t len = loop_addr(&ss, port);
    int r = connect(c, (struct sockaddr *)&ss, len);
    must(r == 0 || errno == EINPROGRESS, "connect");
    return c;
}

/* A port nothing listens on: bound once, then closed. */
static int closed_port(int type)
{
    int s = socket(fam, type, 0);
    struct sockaddr_storage ss;
    socklen_t len = loop_addr(&ss, 0);
    must(bind(s, (struct sockaddr *)&ss, len) == 0, "bind closed");
    int p = port_of(s, 0);
    close(s);
    return p;
}

static void show_poll(const char *label, int fd, int timeout)
{
    struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT | POLLRDHUP | POLLPRI };
    int n = poll(&p, 1, timeout);
    printf("%s: n=%d%s%s%s%s%s\n", label, n, p.revents & POLLIN ? " IN" : "", p.revents & POLLOUT ? " OUT" : "",
           p.revents & POLLERR ? " ERR" : "", p.revents & POLLHUP ? " HUP" : "", p.revents & POLLRDHUP ? " RDHUP" : "");
    fflush(stdout);
}

static void wait_in(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    must(poll(&p, 1, 5000) == 1, "poll in");
}

static int so_error(int fd)
{
    int e = -1;
    socklen_t len = sizeof e;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len);
    return e;
}

static void echo(void)
{
    int port;
    int s = listener(5, &port);
    yesno("port chosen", port > 0);
    int c = connect_to(port, 0);
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    int a = accept(s, (struct sockaddr *)&peer, &plen);
    rep("accept", a);
    printf("peer length: %s\n", plen == (fam == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)) ? "sockaddr" : "other");
    printf("peer family: %s\n", peer.ss_family == fam ? "same" : "other");
    yesno("peer port is client's", ntohs(fam == AF_INET ? ((struct sockaddr_in *)&peer)->sin_port : ((struct sockaddr_in6 *)&peer)->sin6_port) == port_of(c, 0));
    yesno("client peer is server port", port_of(c, 1) == port);
    yesno("accepted local is server port", port_of(a, 0) == port);
    val("write", write(c, "hello", 5));
    char buf[256];
    long n = read(a, buf, sizeof buf);
    printf("read: %ld \"%.*s\"\n", n, (int)(n > 0 ? n : 0), buf);
    val("send back", send(a, "HELLO world", 11, 0));
    n = recv(c, buf, 5, MSG_WAITALL);
    printf("recv waitall 5: %ld \"%.*s\"\n", n, (int)(n > 0 ? n : 0), buf);
    n = recv(c, buf, sizeof buf, MSG_PEEK);
    printf("peek: %ld\n", n);
    n = recv(c, buf, sizeof buf, 0);
    printf("recv: %ld \"%.*s\"\n", n, (int)(n > 0 ? n : 0), buf);
    n = recv(c, buf, sizeof buf, MSG_DONTWAIT);
    printf("recv empty: %s\n", n < 0 ? ename(errno) : "data");
    /* A big transfer through a child: blocking sends and MSG_WAITALL receives. */
    pid_t pid = fork();
    if (pid == 0) {
        static char big[1 << 20];
        for (size_t i = 0; i < sizeof big; i++) big[i] = (char)(i * 7);
        size_t done = 0;
        while (done < sizeof big) {
            long w = write(a, big + done, sizeof big - done);
            if (w <= 0) _exit(1);
            done += w;
        }
        _exit(0);
    }
    static char got[1 << 20];
    n = recv(c, got, sizeof got, MSG_WAITALL);
    int same = n == (long)sizeof got;
    for (size_t i = 0; same && i < sizeof got; i++) same = got[i] == (char)(i * 7);
    printf("1 MiB with MSG_WAITALL: %s\n", same ? "intact" : "broken");
    int st;
    waitpid(pid, &st, 0);
    printf("child: %d\n", WEXITSTATUS(st));
    /* Vectors and sendmsg/recvmsg. */
    struct iovec iov[2] = { { "ab", 2 }, { "cde", 3 } };
    struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
    val("sendmsg", sendmsg(c, &m, 0));
    wait_in(a);
    char x[2], y[10];
    struct iovec riov[2] = { { x, 2 }, { y, 10 } };
    struct msghdr rm = { .msg_iov = riov, .msg_iovlen = 2 };
    n = recvmsg(a, &rm, 0);
    printf("recvmsg: %ld \"%.2s\" \"%.*s\" flags=%d namelen=%d\n", n, x, (int)(n > 2 ? n - 2 : 0), y, rm.msg_flags, rm.msg_namelen);
    close(c);
    n = read(a, buf, sizeof buf);
    printf("after close: %ld\n", n);
    close(a);
    close(s);
}

static void nonblock(void)
{
    int port;
    int s = listener(5, &port);
    int c = socket(fam, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_storage ss;
    socklen_t len = loop_addr(&ss, port);
    int r = connect(c, (struct sockaddr *)&ss, len);
    printf("connect: %s\n", r == 0 || errno == EINPROGRESS ? "started" : ename(errno));
    show_poll("poll after connect", c, 5000);
    printf("SO_ERROR: %d\n", so_error(c));
    r = connect(c, (struct sockaddr *)&ss, len);
    printf("connect again: %s\n", r == 0 ? "0" : ename(errno));
    r = connect(c, (struct sockaddr *)&ss, len);
    printf("connect third: %s\n", r == 0 ? "0" : ename(errno));
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    int a = accept4(s, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
    rep("accept4", a);
    printf("accepted flags: nonblock=%d cloexec=%d\n", (fcntl(a, F_GETFL) & O_NONBLOCK) != 0, (fcntl(a, F_GETFD) & FD_CLOEXEC) != 0);
    char buf[16];
    long n = read(a, buf, sizeof buf);
    printf("read empty: %s\n", n < 0 ? ename(errno) : "data");
    fcntl(s, F_SETFL, O_NONBLOCK);
    n = accept(s, NULL, NULL);
    printf("accept empty: %s\n", n < 0 ? ename(errno) : "conn");
    rep("accept4 bad flags", accept4(s, NULL, NULL, 0x4));
    /* Fill the send path until EAGAIN. */
    static char chunk[65536];
    long total = 0;
    for (;;) {
        n = send(c, chunk, sizeof chunk, 0);
        if (n < 0) break;
        total += n;
    }
    printf("fill: %s after data: %s\n", ename(errno), total > 0 ? "yes" : "no");
    show_poll("poll full", c, 0);
    /* Drain some: the writer becomes writable again. */
    long drained = 0;
    while (drained < total) {
        n = read(a, chunk, sizeof chunk);
        if (n <= 0) { struct pollfd p = { a, POLLIN, 0 }; poll(&p, 1, 1000); continue; }
        drained += n;
    }
    printf("drained all: %s\n", drained == total ? "yes" : "no");
    show_poll("poll drained", c, 5000);
    /* FIONBIO off: a blocking read is woken by the peer's write from a child. */
    int off = 0;
    rep("FIONBIO off", ioctl(a, FIONBIO, &off));
    pid_t pid = fork();
    if (pid == 0) { usleep(100000); write(c, "late", 4); _exit(0); }
    n = read(a, buf, sizeof buf);
    printf("blocking read: %ld \"%.*s\"\n", n, (int)(n > 0 ? n : 0), buf);
    waitpid(pid, NULL, 0);
    close(c);
    close(a);
    close(s);
}

static void refused(void)
{
    int p = closed_port(SOCK_STREAM);
    int c = socket(fam, SOCK_STREAM, 0);
    struct sockaddr_storage ss;
    socklen_t len = loop_addr(&ss, p);
    rep("blocking connect to closed port", connect(c, (struct sockaddr *)&ss, len));
    printf("SO_ERROR after: %d\n", so_error(c));
    close(c);
    c = socket(fam, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int r = connect(c, (struct sockaddr *)&ss, len);
    printf("nonblocking connect: %s\n", r == 0 ? "0" : errno == EINPROGRESS || errno == ECONNREFUSED ? "started or refused" : ename(errno));
    if (r < 0 && errno == EINPROGRESS) {
        struct pollfd pf = { .fd = c, .events = POLLOUT };
        poll(&pf, 1, 5000);
        printf("poll: OUT=%d ERR=%d HUP=%d\n", !!(pf.revents & POLLOUT), !!(pf.revents & POLLERR), !!(pf.revents & POLLHUP));
        printf("SO_ERROR: %s\n", ename(so_error(c)));
        r = connect(c, (struct sockaddr *)&ss, len);
        printf("connect after failure: %s\n", r == 0 ? "0" : ename(errno));
    } else {
        printf("poll: OUT=1 ERR=1 HUP=1\nSO_ERROR: ECONNREFUSED\nconnect after failure: ECONNABORTED\n");
    }
    close(c);
    /* 0.0.0.0 / :: means this host. */
    c = socket(fam, SOCK_STREAM, 0);
    len = loop_addr(&ss, p);
    if (fam == AF_INET) ((struct sockaddr_in *)&ss)->sin_addr.s_addr = 0;
    else ((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_any;
    rep("connect to any address, closed port", connect(c, (struct sockaddr *)&ss, len));
    close(c);
    /* A UDP socket connected to a closed port hears the ICMP error. */
    int u = socket(fam, SOCK_DGRAM, 0);
    len = loop_addr(&ss, closed_port(SOCK_DGRAM));
    rep("udp connect", connect(u, (struct sockaddr *)&ss, len));
    val("udp send", send(u, "x", 1, 0));
    usleep(50000);
    char b[4];
    rep("udp recv after icmp", recv(u, b, sizeof b, MSG_DONTWAIT));
    close(u);
}

static void halfclose(void)
{
    int port;
    int s = listener(5, &port);
    int c = connect_to(port, 0);
    int a = accept(s, NULL, NULL);
    val("write", write(c, "last words", 10));
    rep("shutdown WR", shutdown(c, SHUT_WR));
    show_poll("server poll", a, 5000);
    char buf[32];
    long n = read(a, buf, sizeof buf);
    printf("server read: %ld \"%.*s\"\n", n, (int)(n > 0 ? n : 0), buf);
    n = read(a, buf, sizeof buf);
    printf("server read at end: %ld\n", n);
    val("server still writes", write(a, "reply", 5));
    wait_in(c);
    n = read(c, buf, sizeof buf);
    printf("client reads reply: %ld \"%.*s\"\n", n, (int)(n > 0 ? n : 0), buf);
    signal(SIGPIPE, SIG_IGN);
    rep("client write after SHUT_WR", write(c, "x", 1));
    rep("shutdown bad how", shutdown(c, 7));
    rep("shutdown RD", shutdown(a, SHUT_RD));
    rep("server shutdown WR", shutdown(a, SHUT_WR));
    show_poll("client poll after both", c, 5000);
    n = read(c, buf, sizeof buf);
    printf("client read at end: %ld\n", n);
    show_poll("server poll after both", a, 0);
    close(a);
    close(c);
    close(s);
}

static void udp(void)
{
    int u = socket(fam, SOCK_DGRAM, 0);
    int v = socket(fam, SOCK_DGRAM, 0);
    struct sockaddr_storage ss, from;
    socklen_t len = loop_addr(&ss, 0);
    rep("bind", bind(u, (struct sockaddr *)&ss, len));
    int port = port_of(u, 0);
    len = loop_addr(&ss, port);
    rep("send without address", send(v, "x", 1, 0));
    val("sendto", sendto(v, "datagram one", 12, 0, (struct sockaddr *)&ss, len));
    val("sendto empty", sendto(v, "", 0, 0, (struct sockaddr *)&ss, len));
    val("sendto two", sendto(v, "two", 3, 0, (struct sockaddr *)&ss, len));
    wait_in(u);
    int avail = -1;
    ioctl(u, FIONREAD, &avail);
    printf("FIONREAD: %d\n", avail);
    char buf[64];
    socklen_t flen = sizeof from;
    long n = recvfrom(u, buf, 4, 0, (struct sockaddr *)&from, &flen);
    printf("recvfrom 4: %ld \"%.*s\" fromlen ok: %d from port ok: %d\n", n, (int)(n > 0 ? n : 0), buf,
           flen == len, ntohs(fam == AF_INET ? ((struct sockaddr_in *)&from)->sin_port : ((struct sockaddr_in6 *)&from)->sin6_port) == port_of(v, 0));
    n = recv(u, buf, sizeof buf, 0);
    printf("empty datagram: %ld\n", n);
    struct iovec iov = { buf, 1 };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_name = &from, .msg_namelen = sizeof from };
    n = recvmsg(u, &m, MSG_TRUNC);
    printf("recvmsg MSG_TRUNC: %ld flags TRUNC=%d namelen ok: %d\n", n, !!(m.msg_flags & MSG_TRUNC), m.msg_namelen == len);
    rep("recv empty", recv(u, buf, sizeof buf, MSG_DONTWAIT));
    rep("connect", connect(v, (struct sockaddr *)&ss, len));
    yesno("peer port", port_of(v, 1) == port);
    val("send connected", send(v, "conn", 4, 0));
    wait_in(u);
    n = read(u, buf, sizeof buf);
    printf("read: %ld\n", n);
    struct sockaddr_in6 unspec = { .sin6_family = AF_UNSPEC };
    rep("connect AF_UNSPEC", connect(v, (struct sockaddr *)&unspec, sizeof unspec));
    rep("getpeername after", port_of(v, 1));
    rep("send after dissolve", send(v, "x", 1, 0));
    static char huge[70000];
    rep("sendto too large", sendto(v, huge, sizeof huge, 0, (struct sockaddr *)&ss, len));
    rep("listen on udp", listen(u, 1));
    rep("accept on udp", accept(u, NULL, NULL));
    close(u);
    close(v);
}

static void names(void)
{
    int s = socket(fam, SOCK_STREAM, 0);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    rep("getsockname unbound", getsockname(s, (struct sockaddr *)&ss, &len));
    printf("unbound: len ok %d family ok %d port %d\n", len == (fam == AF_INET ? 16u : 28u), ss.ss_family == fam, port_of(s, 0));
    rep("getpeername unconnected", getpeername(s, (struct sockaddr *)&ss, &len));
    len = loop_addr(&ss, 0);
    rep("bind", bind(s, (struct sockaddr *)&ss, len));
    rep("bind again", bind(s, (struct sockaddr *)&ss, len));
    int port = port_of(s, 0);
    int t = socket(fam, SOCK_STREAM, 0);
    len = loop_addr(&ss, port);
    rep("bind taken port", bind(t, (struct sockaddr *)&ss, len));
    close(t);
    char small[4];
    socklen_t slen = sizeof small;
    rep("getsockname short buffer", getsockname(s, (struct sockaddr *)small, &slen));
    printf("full length reported: %d\n", slen == (fam == AF_INET ? 16u : 28u));
    slen = 0;
    rep("getsockname zero length", getsockname(s, (struct sockaddr *)small, &slen));
    printf("length: %d\n", slen);
    slen = (socklen_t)-1;
    rep("getsockname negative length", getsockname(s, (struct sockaddr *)small, &slen));
    rep("getsockname NULL len", getsockname(s, (struct sockaddr *)small, NULL));
    slen = sizeof ss;
    rep("getsockname bad address", getsockname(s, KERNEL_ADDR, &slen));
    /* Addresses of other hosts are not ours to bind. */
    t = socket(fam, SOCK_STREAM, 0);
    len = loop_addr(&ss, 0);
    if (fam == AF_INET) ((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(0x0a010203);
    else inet_pton(AF_INET6, "2001:db8::1", &((struct sockaddr_in6 *)&ss)->sin6_addr);
    rep("bind foreign address", bind(t, (struct sockaddr *)&ss, len));
    close(t);
    close(s);
}

static void getint(int fd, int level, int opt, const char *name)
{
    int v = -1;
    socklen_t len = sizeof v;
    if (getsockopt(fd, level, opt, &v, &len) < 0) printf("%s: %s\n", name, ename(errno));
    else printf("%s: %d (len %d)\n", name, v, len);
}

static void options(void)
{
    int s = socket(fam, SOCK_STREAM, 0);
    int u = socket(fam, SOCK_DGRAM, 0);
    getint(s, SOL_SOCKET, SO_TYPE, "SO_TYPE stream");
    getint(u, SOL_SOCKET, SO_TYPE, "SO_TYPE dgram");
    getint(s, SOL_SOCKET, SO_DOMAIN, "SO_DOMAIN");
    getint(s, SOL_SOCKET, SO_PROTOCOL, "SO_PROTOCOL stream");
    getint(u, SOL_SOCKET, SO_PROTOCOL, "SO_PROTOCOL dgram");
    getint(s, SOL_SOCKET, SO_ACCEPTCONN, "SO_ACCEPTCONN before");
    getint(s, SOL_SOCKET, SO_ERROR, "SO_ERROR");
    getint(s, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR default");
    int one = 1, zero = 0;
    rep("set SO_REUSEADDR", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
    getint(s, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR");
    rep("set SO_REUSEPORT", setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one));
    getint(s, SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT");
    rep("set SO_KEEPALIVE", setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one));
    getint(s, SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE");
    getint(s, IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY default");
    rep("set TCP_NODELAY", setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one));
    getint(s, IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY");
    int idle = 30;
    rep("set TCP_KEEPIDLE", setsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle));
    getint(s, IPPROTO_TCP, TCP_KEEPIDLE, "TCP_KEEPIDLE");
    rep("set TCP_KEEPINTVL", setsockopt(s, IPPROTO_TCP, TCP_KEEPINTVL, &idle, sizeof idle));
    rep("set TCP_KEEPCNT", setsockopt(s, IPPROTO_TCP, TCP_KEEPCNT, &one, sizeof one));
    getint(s, IPPROTO_TCP, TCP_KEEPCNT, "TCP_KEEPCNT");
    rep("TCP_NODELAY on udp", setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one));
    int rcv = 65536;
    rep("set SO_RCVBUF", setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv));
    int got = 0;
    socklen_t glen = sizeof got;
    getsockopt(s, SOL_SOCKET, SO_RCVBUF, &got, &glen);
    printf("SO_RCVBUF doubled: %d\n", got == 2 * rcv);
    struct linger lg = { 1, 5 };
    rep("set SO_LINGER", setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
    struct linger lg2;
    socklen_t llen = sizeof lg2;
    rep("get SO_LINGER", getsockopt(s, SOL_SOCKET, SO_LINGER, &lg2, &llen));
    printf("SO_LINGER: %d %d len %d\n", lg2.l_onoff, lg2.l_linger, llen);
    struct timeval tv = { 1, 500000 }, tv2;
    rep("set SO_RCVTIMEO", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    socklen_t tlen = sizeof tv2;
    rep("get SO_RCVTIMEO", getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv2, &tlen));
    printf("SO_RCVTIMEO: %ld.%06ld len %d\n", (long)tv2.tv_sec, (long)tv2.tv_usec, tlen);
    rep("SO_RCVTIMEO short", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, 8));
    struct timeval bad = { 1, 1000000 };
    rep("SO_RCVTIMEO bad usec", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &bad, sizeof bad));
    getint(s, SOL_SOCKET, SO_SNDTIMEO, "SO_SNDTIMEO (first int)");
    rep("set int short", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, 2));
    rep("set unknown option", setsockopt(s, SOL_SOCKET, 9999, &one, sizeof one));
    rep("get unknown option", getsockopt(s, SOL_SOCKET, 9999, &got, &glen));
    rep("set unknown level", setsockopt(s, 9999, 1, &one, sizeof one));
    rep("set SO_TYPE", setsockopt(s, SOL_SOCKET, SO_TYPE, &one, sizeof one));
    int negative = -1;
    glen = (socklen_t)negative;
    rep("get negative length", getsockopt(s, SOL_SOCKET, SO_TYPE, &got, &glen));
    char byte = 0;
    glen = 1;
    rep("get one byte", getsockopt(s, SOL_SOCKET, SO_TYPE, &byte, &glen));
    printf("one byte: %d len %d\n", byte, glen);
    rep("get bad pointer", getsockopt(s, SOL_SOCKET, SO_TYPE, KERNEL_ADDR, &glen));
    rep("set bad pointer", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, KERNEL_ADDR, 4));
    rep("getsockopt on a pipe", ({ int p[2]; pipe(p); getsockopt(p[0], SOL_SOCKET, SO_TYPE, &got, &glen); }));
    if (fam == AF_INET6) {
        getint(s, IPPROTO_IPV6, IPV6_V6ONLY, "IPV6_V6ONLY default");
        rep("set IPV6_V6ONLY", setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one));
        getint(s, IPPROTO_IPV6, IPV6_V6ONLY, "IPV6_V6ONLY");
        int hops = 7;
        rep("set IPV6_UNICAST_HOPS", setsockopt(u, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof hops));
        getint(u, IPPROTO_IPV6, IPV6_UNICAST_HOPS, "IPV6_UNICAST_HOPS");
    } else {
        int tos = 0x10;
        rep("set IP_TOS", setsockopt(s, IPPROTO_IP, IP_TOS, &tos, sizeof tos));
        getint(s, IPPROTO_IP, IP_TOS, "IP_TOS");
        int ttl = 9;
        rep("set IP_TTL", setsockopt(u, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl));
        getint(u, IPPROTO_IP, IP_TTL, "IP_TTL");
    }
    struct { int pid, uid, gid; } cred;
    socklen_t clen = sizeof cred;
    rep("SO_PEERCRED", getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &clen));
    printf("cred: %d %d %d len %d\n", cred.pid, cred.uid, cred.gid, clen);
    int port;
    int l = listener(5, &port);
    getint(l, SOL_SOCKET, SO_ACCEPTCONN, "SO_ACCEPTCONN listening");
    (void)zero;
    close(l);
    close(s);
    close(u);
}

static void polls(void)
{
    int port;
    int s = listener(5, &port);
    show_poll("listener idle", s, 0);
    int c = connect_to(port, 0);
    show_poll("listener with a connection", s, 5000);
    show_poll("client connected", c, 0);
    int a = accept(s, NULL, NULL);
    show_poll("listener drained", s, 0);
    show_poll("accepted", a, 0);
    write(c, "x", 1);
    show_poll("accepted with data", a, 5000);
    close(c);
    show_poll("accepted after peer close", a, 5000);
    int fresh = socket(fam, SOCK_STREAM, 0);
    show_poll("fresh stream", fresh, 0);
    int u = socket(fam, SOCK_DGRAM, 0);
    show_poll("fresh dgram", u, 0);
    /* select sees the same. */
    fd_set r, w;
    FD_ZERO(&r); FD_ZERO(&w);
    FD_SET(a, &r); FD_SET(u, &w);
    struct timeval tv = { 0, 0 };
    int n = select((a > u ? a : u) + 1, &r, &w, NULL, &tv);
    printf("select: %d r=%d w=%d\n", n, FD_ISSET(a, &r), FD_ISSET(u, &w));
    close(fresh);
    close(u);
    close(a);
    close(s);
}

static void epolls(void)
{
    int port;
    int s = listener(5, &port);
    int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u32 = 1 };
    epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
    struct epoll_event out[4];
    printf("listener idle: %d\n", epoll_wait(ep, out, 4, 0));
    int c = connect_to(port, 0);
    int n = epoll_wait(ep, out, 4, 5000);
    printf("listener edge: %d events=%x\n", n, n > 0 ? out[0].events : 0);
    printf("listener no second edge: %d\n", epoll_wait(ep, out, 4, 0));
    int a = accept(s, NULL, NULL);
    ev.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP;
    ev.data.u32 = 2;
    epoll_ctl(ep, EPOLL_CTL_ADD, a, &ev);
    n = epoll_wait(ep, out, 4, 0);
    printf("accepted first: %d events=%x\n", n, n > 0 ? out[0].events : 0);
    printf("accepted again: %d\n", epoll_wait(ep, out, 4, 0));
    write(c, "one", 3);
    n = epoll_wait(ep, out, 4, 5000);
    printf("data edge: %d events=%x\n", n, n > 0 ? out[0].events : 0);
    printf("no edge while unread: %d\n", epoll_wait(ep, out, 4, 0));
    write(c, "two", 3);
    n = epoll_wait(ep, out, 4, 5000);
    printf("second data edge: %d events=%x\n", n, n > 0 ? out[0].events & (EPOLLIN | EPOLLRDHUP) : 0);
    char buf[16];
    read(a, buf, sizeof buf);
    printf("after read: %d\n", epoll_wait(ep, out, 4, 0));
    shutdown(c, SHUT_WR);
    n = epoll_wait(ep, out, 4, 5000);
    printf("peer shutdown edge: %d events=%x\n", n, n > 0 ? out[0].events : 0);
    /* Level-triggered on the client: writable at once, every time. */
    struct epoll_event lev = { .events = EPOLLOUT, .data.u32 = 3 };
    int ep2 = epoll_create1(0);
    epoll_ctl(ep2, EPOLL_CTL_ADD, c, &lev);
    n = epoll_wait(ep2, out, 4, 0);
    printf("level: %d events=%x\n", n, n > 0 ? out[0].events : 0);
    n = epoll_wait(ep2, out, 4, 0);
    printf("level again: %d events=%x\n", n, n > 0 ? out[0].events : 0);
    /* A blocked epoll_wait woken by a child's write. */
    int ep3 = epoll_create1(0);
    struct epoll_event iev = { .events = EPOLLIN, .data.u32 = 4 };
    epoll_ctl(ep3, EPOLL_CTL_ADD, c, &iev);
    pid_t pid = fork();
    if (pid == 0) { usleep(100000); write(a, "wake", 4); _exit(0); }
    n = epoll_wait(ep3, out, 4, 5000);
    printf("woken: %d data=%u\n", n, n > 0 ? out[0].data.u32 : 0);
    waitpid(pid, NULL, 0);
    close(a); close(c); close(s); close(ep); close(ep2); close(ep3);
}

static void fionread(void)
{
    int port;
    int s = listener(5, &port);
    int c = connect_to(port, 0);
    int a = accept(s, NULL, NULL);
    int v = -1;
    rep("FIONREAD empty", ioctl(a, FIONREAD, &v));
    printf("= %d\n", v);
    write(c, "12345", 5);
    wait_in(a);
    rep("FIONREAD", ioctl(a, FIONREAD, &v));
    printf("= %d\n", v);
    rep("SIOCINQ", ioctl(a, SIOCINQ, &v));
    printf("= %d\n", v);
    rep("SIOCOUTQ", ioctl(c, SIOCOUTQ, &v));
    rep("FIONREAD on listener", ioctl(s, FIONREAD, &v));
    rep("FIONREAD bad pointer", ioctl(a, FIONREAD, KERNEL_ADDR));
    rep("unknown ioctl", ioctl(a, 0x1234, &v));
    int on = 1;
    rep("FIONBIO on", ioctl(a, FIONBIO, &on));
    printf("nonblocking: %d\n", (fcntl(a, F_GETFL) & O_NONBLOCK) != 0);
    char b[8];
    read(a, b, sizeof b);
    rep("read nonblocking empty", read(a, b, sizeof b));
    close(a); close(c); close(s);
}

static void badaddr(void)
{
    int s = socket(fam, SOCK_STREAM, 0);
    struct sockaddr_storage ss;
    socklen_t full = loop_addr(&ss, 0);
    rep("bind len 0", bind(s, (struct sockaddr *)&ss, 0));
    rep("bind short", bind(s, (struct sockaddr *)&ss, full - 1));
    rep("bind huge", bind(s, (struct sockaddr *)&ss, 129));
    rep("bind negative", bind(s, (struct sockaddr *)&ss, (socklen_t)-1));
    rep("bind NULL", bind(s, NULL, full));
    rep("bind bad pointer", bind(s, KERNEL_ADDR, full));
    ss.ss_family = fam == AF_INET ? AF_INET6 : AF_INET;
    rep("bind other family", bind(s, (struct sockaddr *)&ss, full));
    ss.ss_family = AF_UNIX;
    rep("bind AF_UNIX", bind(s, (struct sockaddr *)&ss, full));
    loop_addr(&ss, 0);
    ss.ss_family = AF_UNSPEC;
    rep("bind AF_UNSPEC loopback", bind(s, (struct sockaddr *)&ss, full));
    memset(&ss, 0, sizeof ss);
    rep("bind AF_UNSPEC any", bind(s, (struct sockaddr *)&ss, full));
    close(s);
    s = socket(fam, SOCK_STREAM, 0);
    loop_addr(&ss, 1);
    rep("connect len 0", connect(s, (struct sockaddr *)&ss, 0));
    rep("connect len 1", connect(s, (struct sockaddr *)&ss, 1));
    rep("connect short", connect(s, (struct sockaddr *)&ss, full - 1));
    rep("connect huge", connect(s, (struct sockaddr *)&ss, 200));
    rep("connect bad pointer", connect(s, KERNEL_ADDR, full));
    ss.ss_family = fam == AF_INET ? AF_INET6 : AF_INET;
    rep("connect other family", connect(s, (struct sockaddr *)&ss, sizeof ss));
    ss.ss_family = 99;
    rep("connect unknown family", connect(s, (struct sockaddr *)&ss, sizeof ss));
    close(s);
    int u = socket(fam, SOCK_DGRAM, 0);
    loop_addr(&ss, closed_port(SOCK_DGRAM));
    rep("sendto len 0", sendto(u, "x", 1, 0, (struct sockaddr *)&ss, 0));
    rep("sendto short", sendto(u, "x", 1, 0, (struct sockaddr *)&ss, full - 1));
    rep("sendto huge", sendto(u, "x", 1, 0, (struct sockaddr *)&ss, 200));
    rep("sendto bad pointer", sendto(u, "x", 1, 0, KERNEL_ADDR, full));
    rep("sendto bad buffer", sendto(u, KERNEL_ADDR, 1, 0, (struct sockaddr *)&ss, full));
    ss.ss_family = 99;
    rep("sendto unknown family", sendto(u, "x", 1, 0, (struct sockaddr *)&ss, full));
    ss.ss_family = AF_UNSPEC;
    rep("sendto AF_UNSPEC", sendto(u, "x", 1, 0, (struct sockaddr *)&ss, full));
    struct msghdr m = { 0 };
    struct iovec iov = { "x", 1 };
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    loop_addr(&ss, 9);
    m.msg_name = &ss;
    m.msg_namelen = 0;
    rep("sendmsg name with len 0", sendmsg(u, &m, 0));
    m.msg_namelen = 300;
    rep("sendmsg long name", sendmsg(u, &m, 0));
    m.msg_iovlen = 2000;
    rep("sendmsg too many iovecs", sendmsg(u, &m, 0));
    rep("recvfrom bad length pointer", recvfrom(u, "x", 1, MSG_DONTWAIT, (struct sockaddr *)&ss, KERNEL_ADDR));
    close(u);
    rep("bind on a pipe", ({ int p[2]; pipe(p); bind(p[0], (struct sockaddr *)&ss, full); }));
    rep("bind on a bad fd", bind(999, (struct sockaddr *)&ss, full));
}

static void errors(void)
{
    rep("socket unknown family", socket(46, SOCK_STREAM, 0));
    rep("socket AF_MAX-1 family", socket(45, SOCK_STREAM, 0));
    rep("socket bad type", socket(fam, 15, 0));
    rep("socket bad flags", socket(fam, SOCK_STREAM | 0x100, 0));
    rep("socket stream udp", socket(fam, SOCK_STREAM, IPPROTO_UDP));
    rep("socket dgram tcp", socket(fam, SOCK_DGRAM, IPPROTO_TCP));
    rep("socket negative protocol", socket(fam, SOCK_STREAM, -1));
    rep("socket huge protocol", socket(fam, SOCK_STREAM, 300));
    rep("socket stream explicit tcp", socket(fam, SOCK_STREAM, IPPROTO_TCP));
    rep("socket dgram explicit udp", socket(fam, SOCK_DGRAM, IPPROTO_UDP));
    rep("socket rdm", socket(fam, SOCK_RDM, 0));
    int sv[2];
    rep("socketpair", socketpair(fam, SOCK_STREAM, 0, sv));
    int s = socket(fam, SOCK_STREAM, 0);
    char b[4];
    rep("recv unconnected", recv(s, b, 4, MSG_DONTWAIT));
    signal(SIGPIPE, SIG_IGN);
    rep("send unconnected", send(s, "x", 1, 0));
    rep("accept not listening", accept(s, NULL, NULL));
    rep("shutdown unconnected", shutdown(s, SHUT_RDWR));
    rep("getpeername", getpeername(s, (struct sockaddr *)b, &(socklen_t){ 4 }));
    int port;
    int l = listener(5, &port);
    struct sockaddr_storage ss;
    socklen_t len = loop_addr(&ss, port);
    rep("connect a listener", connect(l, (struct sockaddr *)&ss, len));
    rep("recv on listener", recv(l, b, 4, MSG_DONTWAIT));
    rep("listen twice", listen(l, 10));
    int c = connect_to(port, 0);
    rep("listen connected", listen(c, 1));
    rep("connect connected", connect(c, (struct sockaddr *)&ss, len));
    rep("bind connected", bind(c, (struct sockaddr *)&ss, len));
    close(c); close(l); close(s);
}

static void mmsg(void)
{
    int u = socket(fam, SOCK_DGRAM, 0);
    int v = socket(fam, SOCK_DGRAM, 0);
    struct sockaddr_storage ss;
    socklen_t len = loop_addr(&ss, 0);
    bind(u, (struct sockaddr *)&ss, len);
    len = loop_addr(&ss, port_of(u, 0));
    connect(v, (struct sockaddr *)&ss, len);
    struct mmsghdr out[3];
    struct iovec iov[3] = { { "first", 5 }, { "second", 6 }, { "third!!", 7 } };
    memset(out, 0, sizeof out);
    for (int i = 0; i < 3; i++) { out[i].msg_hdr.msg_iov = &iov[i]; out[i].msg_hdr.msg_iovlen = 1; }
    int n = sendmmsg(v, out, 3, 0);
    printf("sendmmsg: %d lens %u %u %u\n", n, out[0].msg_len, out[1].msg_len, out[2].msg_len);
    wait_in(u);
    usleep(20000);
    struct mmsghdr in[4];
    char bufs[4][16];
    struct iovec riov[4];
    struct sockaddr_storage froms[4];
    memset(in, 0, sizeof in);
    for (int i = 0; i < 4; i++) {
        riov[i].iov_base = bufs[i]; riov[i].iov_len = 16;
        in[i].msg_hdr.msg_iov = &riov[i]; in[i].msg_hdr.msg_iovlen = 1;
        in[i].msg_hdr.msg_name = &froms[i]; in[i].msg_hdr.msg_namelen = sizeof froms[i];
    }
    n = recvmmsg(u, in, 4, MSG_WAITFORONE, NULL);
    printf("recvmmsg: %d\n", n);
    for (int i = 0; i < n; i++)
        printf("  %u \"%.*s\" namelen ok %d\n", in[i].msg_len, (int)in[i].msg_len, bufs[i], in[i].msg_hdr.msg_namelen == len);
    n = recvmmsg(u, in, 4, MSG_DONTWAIT, NULL);
    printf("recvmmsg empty: %s\n", n < 0 ? ename(errno) : "data");
    struct timespec bad = { 0, 2000000000 };
    n = recvmmsg(u, in, 4, 0, &bad);
    printf("recvmmsg bad timeout: %s\n", n < 0 ? ename(errno) : "data");
    n = sendmmsg(v, out, 0, 0);
    printf("sendmmsg none: %d\n", n);
    /* Both families: AF_UNIX datagrams too. */
    int sv[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    n = sendmmsg(sv[0], out, 3, 0);
    printf("unix sendmmsg: %d\n", n);
    for (int i = 0; i < 4; i++) in[i].msg_hdr.msg_namelen = 0, in[i].msg_hdr.msg_name = NULL;
    n = recvmmsg(sv[1], in, 4, MSG_DONTWAIT, NULL);
    printf("unix recvmmsg: %d", n);
    for (int i = 0; i < n; i++) printf(" %u", in[i].msg_len);
    printf("\n");
    /* A stream: each message is a read of what is there. */
    int port;
    int l = listener(5, &port);
    int c = connect_to(port, 0);
    int a = accept(l, NULL, NULL);
    n = sendmmsg(c, out, 3, 0);
    printf("tcp sendmmsg: %d\n", n);
    size_t total = 0;
    while (total < 18) {
        wait_in(a);
        struct mmsghdr one[1];
        memset(one, 0, sizeof one);
        char big[64];
        struct iovec bi = { big, sizeof big };
        one[0].msg_hdr.msg_iov = &bi; one[0].msg_hdr.msg_iovlen = 1;
        n = recvmmsg(a, one, 1, 0, NULL);
        if (n <= 0) break;
        total += one[0].msg_len;
    }
    printf("tcp received: %zu\n", total);
    close(a); close(c); close(l); close(u); close(v);
}

static volatile int pipes;
static void on_pipe(int sig) { (void)sig; pipes++; }

static void sigpipe(void)
{
    signal(SIGPIPE, on_pipe);
    int port;
    int l = listener(5, &port);
    int c = connect_to(port, 0);
    int a = accept(l, NULL, NULL);
    shutdown(c, SHUT_WR);
    rep("write after SHUT_WR", write(c, "x", 1));
    printf("SIGPIPE count: %d\n", pipes);
    rep("send MSG_NOSIGNAL", send(c, "x", 1, MSG_NOSIGNAL));
    printf("SIGPIPE count: %d\n", pipes);
    rep("sendto after SHUT_WR", sendto(c, "x", 1, 0, NULL, 0));
    printf("SIGPIPE count: %d\n", pipes);
    /* The peer reset the connection: the first write may go, a later one fails. */
    close(a);
    usleep(50000);
    long r = 0;
    for (int i = 0; i < 5 && r >= 0; i++) r = send(a >= 0 ? c : c, "y", 1, MSG_NOSIGNAL);
    printf("after peer close: %s\n", r < 0 ? (errno == EPIPE || errno == ECONNRESET ? "EPIPE or ECONNRESET" : ename(errno)) : "still sending");
    signal(SIGPIPE, SIG_DFL);
    pid_t pid = fork();
    if (pid == 0) { write(c, "z", 1); _exit(0); }
    int st;
    waitpid(pid, &st, 0);
    printf("default action: %s\n", WIFSIGNALED(st) ? (WTERMSIG(st) == SIGPIPE ? "killed by SIGPIPE" : "other signal") : "exited");
    close(c); close(l);
}

static void on_alarm(int sig) { (void)sig; }

static void timeouts(void)
{
    int port;
    int l = listener(5, &port);
    int c = connect_to(port, 0);
    int a = accept(l, NULL, NULL);
    struct timeval tv = { 0, 100000 };
    setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char b[8];
    rep("recv with SO_RCVTIMEO", recv(a, b, sizeof b, 0));
    setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    rep("accept with SO_RCVTIMEO", accept(l, NULL, NULL));
    /* Signals: without SA_RESTART the call ends with EINTR, with it the call goes on. */
    struct sigaction sa = { .sa_handler = on_alarm };
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = { { 0, 0 }, { 0, 100000 } };
    setitimer(ITIMER_REAL, &it, NULL);
    rep("blocking recv, signal", recv(c, b, sizeof b, 0));
    setitimer(ITIMER_REAL, &it, NULL);
    int l2 = listener(5, &port);
    rep("blocking accept, signal", accept(l2, NULL, NULL));
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    setitimer(ITIMER_REAL, &it, NULL);
    pid_t pid = fork();
    if (pid == 0) { usleep(300000); write(a, "ok", 2); _exit(0); }
    long n = recv(c, b, sizeof b, 0);
    printf("restarted recv: %ld\n", n);
    waitpid(pid, NULL, 0);
    /* SO_RCVTIMEO with SA_RESTART: EINTR, not a restart. */
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &(struct timeval){ 2, 0 }, sizeof tv);
    setitimer(ITIMER_REAL, &it, NULL);
    rep("recv with timeout, signal", recv(c, b, sizeof b, 0));
    close(a); close(c); close(l); close(l2);
}

/* Connects that wait: a listener with a full accept queue drops the SYNs of new ones. */
static void connects(void)
{
    int port;
    int l = listener(0, &port);
    int first = connect_to(port, 0);
    int second = connect_to(port, SOCK_NONBLOCK);
    usleep(50000);
    struct sockaddr_storage ss;
    socklen_t len = loop_addr(&ss, port);
    int c = socket(fam, SOCK_STREAM, 0);
    struct timeval tv = { 0, 100000 };
    setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    rep("connect with SO_SNDTIMEO, queue full", connect(c, (struct sockaddr *)&ss, len));
    rep("connect again", connect(c, (struct sockaddr *)&ss, len));
    close(c);
    c = socket(fam, SOCK_STREAM, 0);
    struct sigaction sa = { .sa_handler = on_alarm };
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = { { 0, 0 }, { 0, 100000 } };
    setitimer(ITIMER_REAL, &it, NULL);
    rep("blocking connect, signal", connect(c, (struct sockaddr *)&ss, len));
    int fl = fcntl(c, F_GETFL);
    fcntl(c, F_SETFL, fl | O_NONBLOCK);
    rep("nonblocking connect while connecting", connect(c, (struct sockaddr *)&ss, len));
    fcntl(c, F_SETFL, fl);
    /* Make room: the pending ones complete (after a SYN retransmission). */
    int a1 = accept(l, NULL, NULL);
    int a2 = accept(l, NULL, NULL);
    rep("accepts", a1 < 0 || a2 < 0 ? -1 : 0);
    rep("blocking connect completes", connect(c, (struct sockaddr *)&ss, len));
    rep("connect once more", connect(c, (struct sockaddr *)&ss, len));
    close(first); close(second); close(c); close(a1); close(a2); close(l);
}

static void ifaces(void)
{
    int s = socket(fam, SOCK_DGRAM, 0);
    struct ifreq req;
    memset(&req, 0, sizeof req);
    strcpy(req.ifr_name, "lo");
    rep("SIOCGIFINDEX", ioctl(s, SIOCGIFINDEX, &req));
    int index = req.ifr_ifindex;
    printf("lo index: %d\n", index);
    rep("SIOCGIFFLAGS", ioctl(s, SIOCGIFFLAGS, &req));
    printf("flags: up=%d loopback=%d running=%d\n", !!(req.ifr_flags & IFF_UP), !!(req.ifr_flags & IFF_LOOPBACK), !!(req.ifr_flags & IFF_RUNNING));
    rep("SIOCGIFMTU", ioctl(s, SIOCGIFMTU, &req));
    printf("mtu: %d\n", req.ifr_mtu);
    rep("SIOCGIFHWADDR", ioctl(s, SIOCGIFHWADDR, &req));
    printf("hw family: %d\n", req.ifr_hwaddr.sa_family);
    memset(&req, 0, sizeof req);
    req.ifr_ifindex = index;
    rep("SIOCGIFNAME", ioctl(s, SIOCGIFNAME, &req));
    printf("name: %s\n", req.ifr_name);
    if (fam == AF_INET) {
        strcpy(req.ifr_name, "lo");
        rep("SIOCGIFADDR", ioctl(s, SIOCGIFADDR, &req));
        printf("addr: %s\n", inet_ntoa(((struct sockaddr_in *)&req.ifr_addr)->sin_addr));
        rep("SIOCGIFNETMASK", ioctl(s, SIOCGIFNETMASK, &req));
        printf("netmask: %s\n", inet_ntoa(((struct sockaddr_in *)&req.ifr_netmask)->sin_addr));
        struct ifconf conf = { 0 };
        rep("SIOCGIFCONF size", ioctl(s, SIOCGIFCONF, &conf));
        printf("size: %d\n", conf.ifc_len);
        struct ifreq reqs[8];
        conf.ifc_len = sizeof reqs;
        conf.ifc_req = reqs;
        rep("SIOCGIFCONF", ioctl(s, SIOCGIFCONF, &conf));
        for (int i = 0; i < conf.ifc_len / (int)sizeof(struct ifreq); i++)
            printf("  %s %s\n", reqs[i].ifr_name, inet_ntoa(((struct sockaddr_in *)&reqs[i].ifr_addr)->sin_addr));
    }
    strcpy(req.ifr_name, "nosuch0");
    rep("SIOCGIFINDEX unknown", ioctl(s, SIOCGIFINDEX, &req));
    req.ifr_ifindex = 999;
    rep("SIOCGIFNAME unknown", ioctl(s, SIOCGIFNAME, &req));
    printf("if_nametoindex: %s\n", if_nametoindex("lo") == (unsigned)index ? "same" : "other");
    struct addrinfo hints = { .ai_family = fam, .ai_socktype = SOCK_STREAM }, *res;
    int g = getaddrinfo(fam == AF_INET ? "localhost" : "::1", "80", &hints, &res);
    printf("getaddrinfo: %d\n", g);
    if (g == 0) {
        printf("first family: %s\n", res->ai_family == fam ? "same" : "other");
        freeaddrinfo(res);
    }
    close(s);
}

/* sendfile and splice with a socket on one side. */
static void sendfiles(void)
{
    char path[] = "/tmp/inet-sendfile-XXXXXX";
    int f = mkstemp(path);
    must(f >= 0, "mkstemp");
    unlink(path);
    char data[5000];
    for (size_t i = 0; i < sizeof data; i++) data[i] = 'a' + i % 26;
    must(write(f, data, sizeof data) == sizeof data, "write file");
    int port;
    int l = listener(5, &port);
    int c = connect_to(port, 0);
    int a = accept(l, NULL, NULL);
    lseek(f, 0, SEEK_SET);
    off_t off = 100;
    val("sendfile with offset", sendfile(c, f, &off, 1000));
    printf("offset after: %ld position: %ld\n", (long)off, (long)lseek(f, 0, SEEK_CUR));
    val("sendfile from position", sendfile(c, f, NULL, 300));
    printf("position after: %ld\n", (long)lseek(f, 0, SEEK_CUR));
    off = 4990;
    val("sendfile past the end", sendfile(c, f, &off, 100));
    char got[2000];
    size_t total = 0;
    while (total < 1310) { wait_in(a); long n = read(a, got + total, sizeof got - total); if (n <= 0) break; total += n; }
    printf("received: %zu match: %d %d %d\n", total, memcmp(got, data + 100, 1000) == 0, memcmp(got + 1000, data, 300) == 0, memcmp(got + 1300, data + 4990, 10) == 0);
    int p[2];
    must(pipe(p) == 0, "pipe");
    write(c, "through a pipe", 14);
    wait_in(a);
    val("splice socket to pipe", splice(a, NULL, p[1], NULL, 100, 0));
    val("splice pipe to socket", splice(p[0], NULL, c, NULL, 100, 0));
    wait_in(a);
    long n = read(a, got, sizeof got);
    printf("back: %ld \"%.*s\"\n", n, (int)(n > 0 ? n : 0), got);
    loff_t lo = 0;
    rep("splice offset on a pipe", splice(p[0], &lo, c, NULL, 10, 0));
    rep("splice without a pipe", splice(f, NULL, c, NULL, 10, 0));
    rep("splice bad flags", splice(p[0], NULL, c, NULL, 10, 0x100));
    rep("splice empty pipe nonblocking", splice(p[0], NULL, c, NULL, 10, SPLICE_F_NONBLOCK));
    val("splice file to pipe", splice(f, &lo, p[1], NULL, 26, 0));
    printf("file offset: %ld\n", (long)lo);
    n = read(p[0], got, sizeof got);
    printf("pipe has: %ld \"%.*s\"\n", n, (int)(n > 0 ? n : 0), got);
    rep("sendfile to a read-only fd", sendfile(p[0], f, NULL, 10));
    rep("sendfile offset on a pipe", sendfile(c, p[0], &off, 10));
    int ap = open("/dev/null", O_WRONLY | O_APPEND);
    rep("sendfile to O_APPEND", sendfile(ap, f, &off, 10));
    close(ap);
    close(p[0]); close(p[1]); close(a); close(c); close(l); close(f);
}

/* Control messages of inet datagrams: packet info, hop limit/TTL, truncation, refused types. */
static void cmsgs(void)
{
    int u = socket(fam, SOCK_DGRAM, 0), v = socket(fam, SOCK_DGRAM, 0);
    struct sockaddr_storage ss;
    socklen_t len = loop_addr(&ss, 0);
    bind(u, (struct sockaddr *)&ss, len);
    len = loop_addr(&ss, port_of(u, 0));
    int one = 1;
    if (fam == AF_INET) {
        rep("IP_PKTINFO", setsockopt(u, IPPROTO_IP, IP_PKTINFO, &one, sizeof one));
        rep("IP_RECVTTL", setsockopt(u, IPPROTO_IP, IP_RECVTTL, &one, sizeof one));
    } else {
        rep("IPV6_RECVPKTINFO", setsockopt(u, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one));
        rep("IPV6_RECVHOPLIMIT", setsockopt(u, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one));
    }
    /* A send with a TTL / hop limit of its own. */
    char cbuf[CMSG_SPACE(sizeof(int))];
    memset(cbuf, 0, sizeof cbuf);
    struct iovec iov = { "payload", 7 };
    struct msghdr m = { .msg_name = &ss, .msg_namelen = len, .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = fam == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
    c->cmsg_type = fam == AF_INET ? IP_TTL : IPV6_HOPLIMIT;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    int hops = 7;
    memcpy(CMSG_DATA(c), &hops, sizeof hops);
    val("sendmsg with a hop limit", sendmsg(v, &m, 0));
    wait_in(u);
    char data[16], in[256];
    struct iovec riov = { data, sizeof data };
    struct msghdr r = { .msg_iov = &riov, .msg_iovlen = 1, .msg_control = in, .msg_controllen = sizeof in };
    long n = recvmsg(u, &r, 0);
    printf("recvmsg: %ld flags CTRUNC=%d\n", n, !!(r.msg_flags & MSG_CTRUNC));
    for (struct cmsghdr *h = CMSG_FIRSTHDR(&r); h; h = CMSG_NXTHDR(&r, h)) {
        printf("  cmsg level %d type %d len %zu", h->cmsg_level, h->cmsg_type, (size_t)h->cmsg_len);
        if ((h->cmsg_type == IP_TTL && fam == AF_INET) || (h->cmsg_type == IPV6_HOPLIMIT && fam == AF_INET6)) {
            int hv;
            memcpy(&hv, CMSG_DATA(h), sizeof hv);
            printf(" value %d", hv);
        }
        printf("\n");
    }
    /* Too small a control buffer: MSG_CTRUNC. */
    sendto(v, "x", 1, 0, (struct sockaddr *)&ss, len);
    wait_in(u);
    r.msg_controllen = CMSG_SPACE(sizeof(int)) - 4;
    r.msg_control = in;
    n = recvmsg(u, &r, 0);
    printf("small control: %ld CTRUNC=%d\n", n, !!(r.msg_flags & MSG_CTRUNC));
    /* Descriptions are not for inet sockets. */
    char rbuf[CMSG_SPACE(sizeof(int))];
    memset(rbuf, 0, sizeof rbuf);
    m.msg_control = rbuf;
    m.msg_controllen = sizeof rbuf;
    c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    int fd0 = 0;
    memcpy(CMSG_DATA(c), &fd0, sizeof fd0);
    rep("sendmsg SCM_RIGHTS", sendmsg(v, &m, 0));
    close(u); close(v);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) { fprintf(stderr, "usage: inet MODE [4|6]\n"); return 2; }
    if (argc > 2 && strcmp(argv[2], "6") == 0) fam = AF_INET6;
    const char *m = argv[1];
    if (!strcmp(m, "echo")) echo();
    else if (!strcmp(m, "nonblock")) nonblock();
    else if (!strcmp(m, "refused")) refused();
    else if (!strcmp(m, "halfclose")) halfclose();
    else if (!strcmp(m, "udp")) udp();
    else if (!strcmp(m, "names")) names();
    else if (!strcmp(m, "options")) options();
    else if (!strcmp(m, "poll")) polls();
    else if (!strcmp(m, "epoll")) epolls();
    else if (!strcmp(m, "fionread")) fionread();
    else if (!strcmp(m, "badaddr")) badaddr();
    else if (!strcmp(m, "errors")) errors();
    else if (!strcmp(m, "mmsg")) mmsg();
    else if (!strcmp(m, "sigpipe")) sigpipe();
    else if (!strcmp(m, "timeouts")) timeouts();
    else if (!strcmp(m, "connects")) connects();
    else if (!strcmp(m, "ifaces")) ifaces();
    else if (!strcmp(m, "sendfile")) sendfiles();
    else if (!strcmp(m, "cmsg")) cmsgs();
    else { fprintf(stderr, "unknown mode %s\n", m); return 2; }
    printf("done\n");
    return 0;
}
