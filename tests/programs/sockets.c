/* AF_UNIX sockets (unix(7)), compared with the same binary run natively.
 *
 * Usage: sockets DIR MODE. DIR is a scratch directory for socket files (created
 * if missing). Output follows common.h's rules: errno names, relations rather
 * than numbers that differ between runs (pids, inode numbers). */
#include "proctest.h"
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

static const char *dir;

static socklen_t addr_of(struct sockaddr_un *sa, const char *name)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    snprintf(sa->sun_path, sizeof sa->sun_path, "%s/%s", dir, name);
    return sizeof *sa;
}

static socklen_t abstract_of(struct sockaddr_un *sa, const char *name)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    memcpy(sa->sun_path + 1, name, strlen(name));
    return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
}

static void show_poll(const char *label, int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT | POLLRDHUP };
    int n = poll(&p, 1, 0);
    printf("%s: n=%d%s%s%s%s\n", label, n, p.revents & POLLIN ? " IN" : "", p.revents & POLLOUT ? " OUT" : "",
           p.revents & POLLHUP ? " HUP" : "", p.revents & POLLRDHUP ? " RDHUP" : "");
}

/* socketpair of each type: data both ways, boundaries, shutdown, close. */
static void pair(char **argv)
{
    (void)argv;
    int types[] = { SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET };
    const char *names[] = { "stream", "dgram", "seqpacket" };
    for (int i = 0; i < 3; i++) {
        int sv[2];
        printf("-- %s\n", names[i]);
        report("socketpair", socketpair(AF_UNIX, types[i], 0, sv));
        report_val("write a", write(sv[0], "abc", 3));
        report_val("write b", write(sv[0], "defgh", 5));
        char buf[16] = { 0 };
        long n = read(sv[1], buf, sizeof buf);
        printf("read: %ld \"%.*s\"\n", n, (int)(n > 0 ? n : 0), buf);
        n = recv(sv[1], buf, 2, MSG_DONTWAIT);
        printf("recv 2: %ld \"%.*s\"\n", n, (int)(n > 0 ? n : 0), buf);
        n = recv(sv[1], buf, sizeof buf, MSG_DONTWAIT);
        printf("recv rest: %ld%s\n", n, n < 0 ? errname(errno) : "");
        report_val("write back", write(sv[1], "z", 1));
        n = read(sv[0], buf, sizeof buf);
        printf("read back: %ld \"%.*s\"\n", n, (int)(n > 0 ? n : 0), buf);
        int type = 0; socklen_t len = sizeof type;
        report("getsockopt SO_TYPE", getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, &len));
        printf("type matches: %s, len %d\n", type == types[i] ? "yes" : "no", (int)len);
        struct ucred cred; len = sizeof cred;
        report("SO_PEERCRED", getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cred, &len));
        printf("peer is this process: %s\n", cred.pid == getpid() && cred.uid == getuid() ? "yes" : "no");
        show_poll("poll idle", sv[0]);
        if (types[i] != SOCK_DGRAM) {
            report("shutdown WR", shutdown(sv[0], SHUT_WR));
            show_poll("poll peer after SHUT_WR", sv[1]);
            n = read(sv[1], buf, sizeof buf);
            printf("peer reads: %ld\n", n);
            errno = 0;
            n = send(sv[0], "x", 1, MSG_NOSIGNAL);
            printf("send after SHUT_WR: %ld %s\n", n, n < 0 ? errname(errno) : "");
        }
        close(sv[0]);
        show_poll("poll after peer closed", sv[1]);
        n = recv(sv[1], buf, sizeof buf, MSG_DONTWAIT);
        printf("read after peer closed: %ld%s\n", n, n < 0 ? errname(errno) : "");
        errno = 0;
        n = send(sv[1], "x", 1, MSG_NOSIGNAL);
        printf("send to closed peer: %ld %s\n", n, n < 0 ? errname(errno) : "");
        close(sv[1]);
    }
}

/* A server on a path, clients in child processes. */
static void server(char **argv)
{
    (void)argv;
    struct sockaddr_un sa, got;
    socklen_t len = addr_of(&sa, "srv");
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    report("bind", bind(s, (struct sockaddr *)&sa, len));
    struct stat st;
    report("stat socket file", stat(sa.sun_path, &st));
    printf("is a socket: %s, perm %o\n", S_ISSOCK(st.st_mode) ? "yes" : "no", st.st_mode & 0777);
    int again = socket(AF_UNIX, SOCK_STREAM, 0);
    report("bind taken path", bind(again, (struct sockaddr *)&sa, len));
    report("bind twice", bind(s, (struct sockaddr *)&sa, len));
    report("connect before listen", connect(again, (struct sockaddr *)&sa, len));
    report("listen", listen(s, 4));
    len = sizeof got;
    report("getsockname", getsockname(s, (struct sockaddr *)&got, &len));
    printf("name matches: %s, len counts the path and its NUL: %s\n", strcmp(got.sun_path, sa.sun_path) == 0 ? "yes" : "no",
           len == offsetof(struct sockaddr_un, sun_path) + strlen(sa.sun_path) + 1 ? "yes" : "no");
    int fl = fcntl(s, F_GETFL);
    fcntl(s, F_SETFL, fl | O_NONBLOCK);
    report("accept with nobody waiting", accept(s, NULL, NULL));
    fcntl(s, F_SETFL, fl);
    for (int i = 0; i < 3; i++) {
        pid_t c = fork();
        if (c == 0) {
            int cs = socket(AF_UNIX, SOCK_STREAM, 0);
            struct sockaddr_un to;
            socklen_t tl = addr_of(&to, "srv");
            must(connect(cs, (struct sockaddr *)&to, tl) == 0, "connect");
            char msg[32];
            int n = snprintf(msg, sizeof msg, "client %d", i);
            must(write(cs, msg, n) == n, "client write");
            shutdown(cs, SHUT_WR);
            char reply[32];
            n = read(cs, reply, sizeof reply);
            printf("client %d got \"%.*s\"\n", i, n > 0 ? n : 0, reply);
            _exit(0);
        }
        len = sizeof got;
        int conn = accept4(s, (struct sockaddr *)&got, &len, SOCK_CLOEXEC);
        printf("accepted: %s, peer address len %d\n", conn >= 0 ? "yes" : errname(errno), (int)len);
        struct sockaddr_un me;
        socklen_t ml = sizeof me;
        getsockname(conn, (struct sockaddr *)&me, &ml);
        printf("accepted socket's name matches the server's: %s\n", strcmp(me.sun_path, sa.sun_path) == 0 ? "yes" : "no");
        char buf[64];
        int total = 0, n;
        while ((n = read(conn, buf + total, sizeof buf - total)) > 0) total += n;
        printf("server read \"%.*s\" then %d\n", total, buf, n);
        struct ucred cred; socklen_t cl = sizeof cred;
        getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &cl);
        printf("peer pid is the child: %s\n", cred.pid == c ? "yes" : "no");
        must(write(conn, "ok", 2) == 2, "reply");
        close(conn);
        report_wait("client", c);
    }
    close(s);
    report("connect after the server closed", connect(again, (struct sockaddr *)&sa, sizeof sa));
    report("unlink socket file", unlink(sa.sun_path));
    report("connect to a missing path", connect(again, (struct sockaddr *)&sa, sizeof sa));
    int fd = open(dir, O_RDONLY);
    struct sockaddr_un notsock;
    len = addr_of(&notsock, "");
    notsock.sun_path[strlen(notsock.sun_path) - 1] = 0; /* the directory itself */
    report("connect to a directory", connect(again, (struct sockaddr *)&notsock, len));
    close(fd);
}

/* Passing descriptions with SCM_RIGHTS; what a too small control buffer does. */
/* Makes m a message of iov with room in buf for n descriptions as SCM_RIGHTS; returns the
 * header whose CMSG_DATA takes them. */
static struct cmsghdr *rights_message(struct msghdr *m, struct iovec *iov, char *buf, size_t buflen, int n)
{
    memset(buf, 0, buflen);
    *m = (struct msghdr){ .msg_iov = iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = buflen };
    struct cmsghdr *c = CMSG_FIRSTHDR(m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(n * sizeof(int));
    return c;
}

static void rights(char **argv)
{
    (void)argv;
    int sv[2];
    must(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
    int p[2];
    must(pipe(p) == 0, "pipe");
    must(write(p[1], "through the pipe", 16) == 16, "pipe write");
    char cbuf[CMSG_SPACE(2 * sizeof(int))];
    struct iovec iov = { .iov_base = "R", .iov_len = 1 };
    struct msghdr m;
    struct cmsghdr *c = rights_message(&m, &iov, cbuf, sizeof cbuf, 2);
    memcpy(CMSG_DATA(c), (int[]){ p[0], p[1] }, 2 * sizeof(int));
    report_val("sendmsg two fds", sendmsg(sv[0], &m, 0));
    close(p[0]);
    close(p[1]);
    char data[4];
    char rbuf[CMSG_SPACE(2 * sizeof(int))];
    struct iovec riov = { .iov_base = data, .iov_len = sizeof data };
    struct msghdr r = { .msg_iov = &riov, .msg_iovlen = 1, .msg_control = rbuf, .msg_controllen = sizeof rbuf };
    report_val("recvmsg", recvmsg(sv[1], &r, MSG_CMSG_CLOEXEC));
    struct cmsghdr *rc = CMSG_FIRSTHDR(&r);
    printf("control: %s level %d type %d len %d, flags %d\n", rc ? "yes" : "no", rc ? rc->cmsg_level : -1,
           rc ? rc->cmsg_type : -1, rc ? (int)rc->cmsg_len : -1, r.msg_flags);
    int fds[2];
    memcpy(fds, CMSG_DATA(rc), sizeof fds);
    printf("cloexec on received fd: %s\n", fcntl(fds[0], F_GETFD) & FD_CLOEXEC ? "yes" : "no");
    char buf[32];
    long n = read(fds[0], buf, sizeof buf);
    printf("read through the received pipe: \"%.*s\"\n", (int)(n > 0 ? n : 0), buf);
    close(fds[1]);
    n = read(fds[0], buf, sizeof buf);
    printf("then EOF once its writers are closed: %ld\n", n);
    close(fds[0]);

    /* Too small a control buffer: the descriptions that do not fit are closed, MSG_CTRUNC. */
    must(pipe(p) == 0, "pipe 2");
    memcpy(CMSG_DATA(c), (int[]){ p[0], p[1] }, 2 * sizeof(int));
    report_val("sendmsg again", sendmsg(sv[0], &m, 0));
    char small[CMSG_SPACE(sizeof(int))];
    struct msghdr r2 = { .msg_iov = &riov, .msg_iovlen = 1, .msg_control = small, .msg_controllen = CMSG_LEN(sizeof(int)) };
    report_val("recvmsg small control", recvmsg(sv[1], &r2, 0));
    printf("MSG_CTRUNC: %s, controllen %d\n", r2.msg_flags & MSG_CTRUNC ? "yes" : "no", (int)r2.msg_controllen);
    report("sendmsg a bad fd", sendmsg(sv[0], &m, 0) < 0 ? -1 : 0);
    memcpy(CMSG_DATA(c), (int[]){ 999, 998 }, 2 * sizeof(int));
    report("sendmsg fds that are not open", sendmsg(sv[0], &m, 0));
}

/* A stream's bytes: small writes read together, a read that stops at passed descriptions
 * and after taking them, and a large transfer from a child in uneven pieces, intact. */
static void streamdata(char **argv)
{
    (void)argv;
    int sv[2];
    must(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
    for (int i = 0; i < 100; i++) must(write(sv[0], "0123456789" + i % 10, 1) == 1, "small write");
    char buf[256];
    long n = read(sv[1], buf, sizeof buf);
    printf("100 one-byte writes, one read: %ld \"%.10s...\"\n", n, buf);

    int p[2];
    must(pipe(p) == 0, "pipe");
    must(write(sv[0], "a", 1) == 1, "write a");
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = { .iov_base = "b", .iov_len = 1 };
    struct msghdr m;
    struct cmsghdr *c = rights_message(&m, &iov, cbuf, sizeof cbuf, 1);
    memcpy(CMSG_DATA(c), &p[0], sizeof(int));
    report_val("sendmsg b with an fd", sendmsg(sv[0], &m, 0));
    must(write(sv[0], "cd", 2) == 2, "write cd");
    n = read(sv[1], buf, sizeof buf);
    printf("a read takes the message with the fd and stops: %ld \"%.*s\"\n", n, (int)(n > 0 ? n : 0), buf);
    iov.iov_base = "e";
    report_val("sendmsg e with an fd", sendmsg(sv[0], &m, 0));
    must(write(sv[0], "f", 1) == 1, "write f");
    char rbuf[CMSG_SPACE(sizeof(int))];
    struct iovec riov = { .iov_base = buf, .iov_len = sizeof buf };
    struct msghdr r = { .msg_iov = &riov, .msg_iovlen = 1, .msg_control = rbuf, .msg_controllen = sizeof rbuf };
    n = recvmsg(sv[1], &r, MSG_PEEK);
    printf("peek: %ld \"%.*s\", control %s\n", n, (int)(n > 0 ? n : 0), buf, CMSG_FIRSTHDR(&r) ? "yes" : "no");
    if (CMSG_FIRSTHDR(&r)) {
        int peeked = *(int *)CMSG_DATA(CMSG_FIRSTHDR(&r));
        printf("the peeked fd is a pipe: %s\n", fcntl(peeked, F_GETFL) >= 0 ? "yes" : "no");
        close(peeked);
    }
    r.msg_controllen = sizeof rbuf;
    n = recvmsg(sv[1], &r, 0);
    printf("recvmsg: %ld \"%.*s\", control %s\n", n, (int)(n > 0 ? n : 0), buf, CMSG_FIRSTHDR(&r) ? "yes" : "no");
    if (CMSG_FIRSTHDR(&r)) close(*(int *)CMSG_DATA(CMSG_FIRSTHDR(&r)));
    n = read(sv[1], buf, sizeof buf);
    printf("then: %ld \"%.*s\"\n", n, (int)(n > 0 ? n : 0), buf);
    /* A datagram with an fd: a peek gets a copy of it too, the receive the fd itself. */
    int dv[2];
    must(socketpair(AF_UNIX, SOCK_DGRAM, 0, dv) == 0, "socketpair dgram");
    iov.iov_base = "g";
    report_val("sendmsg datagram g with an fd", sendmsg(dv[0], &m, 0));
    for (int flags = MSG_PEEK;; flags = 0) {
        r.msg_controllen = sizeof rbuf;
        n = recvmsg(dv[1], &r, flags);
        printf("%s: %ld \"%.*s\", control %s\n", flags ? "datagram peek" : "datagram recvmsg", n, (int)(n > 0 ? n : 0), buf,
               CMSG_FIRSTHDR(&r) ? "yes" : "no");
        if (CMSG_FIRSTHDR(&r)) close(*(int *)CMSG_DATA(CMSG_FIRSTHDR(&r)));
        if (!flags) break;
    }
    close(dv[0]);
    close(dv[1]);
    close(p[0]);
    close(p[1]);

    /* 1 MiB in writes of 1..7919 bytes from a child; the parent reads in other sizes and sums. */
    const long total = 1 << 20;
    pid_t pid = fork();
    must(pid >= 0, "fork");
    if (pid == 0) {
        close(sv[1]);
        static unsigned char out[8192];
        long sent = 0;
        for (int k = 1; sent < total; k = k * 31 % 7919 + 1) {
            long len = k < total - sent ? k : total - sent;
            for (long i = 0; i < len; i++) out[i] = (unsigned char)((sent + i) * 7 + 3);
            long w = write(sv[0], out, len);
            if (w <= 0) _exit(1);
            sent += w;
        }
        close(sv[0]);
        _exit(0);
    }
    close(sv[0]);
    unsigned char in[5000];
    long got = 0, bad = 0;
    for (int k = 1;; k = k * 17 % 4999 + 1) {
        long r2 = read(sv[1], in, k);
        if (r2 <= 0) break;
        for (long i = 0; i < r2; i++) bad += in[i] != (unsigned char)((got + i) * 7 + 3);
        got += r2;
    }
    int status;
    waitpid(pid, &status, 0);
    printf("1 MiB through the stream: %ld bytes, %ld wrong, writer %s\n", got, bad, WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "ok" : "failed");
    close(sv[1]);
}

/* Datagrams: bound and abstract addresses, boundaries, MSG_PEEK, MSG_TRUNC, connect. */
static void dgram(char **argv)
{
    (void)argv;
    struct sockaddr_un a, b, from;
    socklen_t al = abstract_of(&a, "sentry-dgram-test-a");
    socklen_t bl = addr_of(&b, "dgram-b");
    int sa = socket(AF_UNIX, SOCK_DGRAM, 0), sb = socket(AF_UNIX, SOCK_DGRAM, 0);
    report("bind abstract", bind(sa, (struct sockaddr *)&a, al));
    int dup_ = socket(AF_UNIX, SOCK_DGRAM, 0);
    report("bind the same abstract name", bind(dup_, (struct sockaddr *)&a, al));
    report("bind path", bind(sb, (struct sockaddr *)&b, bl));
    report_val("sendto a", sendto(sb, "first", 5, 0, (struct sockaddr *)&a, al));
    report_val("sendto a again", sendto(sb, "second!", 7, 0, (struct sockaddr *)&a, al));
    char buf[16];
    socklen_t fl = sizeof from;
    long n = recvfrom(sa, buf, sizeof buf, MSG_PEEK, (struct sockaddr *)&from, &fl);
    printf("peek: %ld \"%.*s\" from matches b: %s\n", n, (int)(n > 0 ? n : 0), buf, strcmp(from.sun_path, b.sun_path) == 0 ? "yes" : "no");
    n = recv(sa, buf, 3, MSG_TRUNC);
    printf("recv 3 with MSG_TRUNC: %ld \"%.*s\"\n", n, 3, buf);
    struct iovec iov = { .iov_base = buf, .iov_len = 4 };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
    n = recvmsg(sa, &m, 0);
    printf("recvmsg into 4: %ld flags MSG_TRUNC %s\n", n, m.msg_flags & MSG_TRUNC ? "yes" : "no");
    n = recv(sa, buf, sizeof buf, MSG_DONTWAIT);
    printf("empty: %ld %s\n", n, n < 0 ? errname(errno) : "");
    report("connect to a", connect(sb, (struct sockaddr *)&a, al));
    report_val("send connected", send(sb, "hi", 2, 0));
    n = recv(sa, buf, sizeof buf, 0);
    printf("got %ld\n", n);
    int lone = socket(AF_UNIX, SOCK_DGRAM, 0);
    report("send unconnected, no address", send(lone, "x", 1, 0));
    struct sockaddr_un none;
    socklen_t nl = abstract_of(&none, "sentry-nobody-here");
    report("sendto nobody", sendto(lone, "x", 1, 0, (struct sockaddr *)&none, nl));
    report("listen on dgram", listen(sa, 1));
    fl = sizeof from;
    report("getsockname abstract", getsockname(sa, (struct sockaddr *)&from, &fl));
    printf("abstract name len %d, first byte %d\n", (int)fl, from.sun_path[0]);
    fl = sizeof from;
    report("getsockname unbound", getsockname(lone, (struct sockaddr *)&from, &fl));
    printf("unbound len %d\n", (int)fl);
}

/* Bad arguments get Linux's errnos. */
static void errors(char **argv)
{
    (void)argv;
    void *bad = unmapped_page();
    report("socket AF_UNIX raw", socket(AF_UNIX, SOCK_RAW, 0));
    report("socket bad protocol", socket(AF_UNIX, SOCK_STREAM, 7));
    report("socket bad flags", socket(AF_UNIX, SOCK_STREAM | 0x100000, 0));
    report("socket bad family", socket(999, SOCK_STREAM, 0));
    report("bind on a file", bind(1, (struct sockaddr *)&(struct sockaddr_un){ .sun_family = AF_UNIX }, sizeof(struct sockaddr_un)));
    report("bind bad fd", bind(99, (struct sockaddr *)&(struct sockaddr_un){ .sun_family = AF_UNIX }, sizeof(struct sockaddr_un)));
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = { .sun_family = AF_INET };
    report("bind wrong family", bind(s, (struct sockaddr *)&sa, sizeof sa));
    report("bind short length", bind(s, (struct sockaddr *)&sa, 1));
    report("bind bad address", bind(s, (struct sockaddr *)bad, sizeof sa));
    report("bind too long", bind(s, (struct sockaddr *)&sa, sizeof sa + 1));
    report("listen unbound", listen(s, 1));
    report("accept unbound", accept(s, NULL, NULL));
    report("connect bad address", connect(s, (struct sockaddr *)bad, sizeof sa));
    report("getpeername unconnected", getpeername(s, (struct sockaddr *)&sa, &(socklen_t){ sizeof sa }));
    report("shutdown unconnected", shutdown(s, SHUT_RDWR));
    report("shutdown bad how", shutdown(s, 7));
    char b;
    report("read unconnected", read(s, &b, 1));
    errno = 0;
    long n = send(s, "x", 1, MSG_NOSIGNAL);
    printf("send unconnected: %ld %s\n", n, errname(errno));
    int v;
    report("getsockopt bad level", getsockopt(s, 99, SO_TYPE, &v, &(socklen_t){ 4 }));
    report("getsockopt bad option", getsockopt(s, SOL_SOCKET, 9999, &v, &(socklen_t){ 4 }));
    report("getsockopt bad pointer", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, (socklen_t *)bad));
    report("getsockopt on a file", getsockopt(1, SOL_SOCKET, SO_TYPE, &v, &(socklen_t){ 4 }));
    report("socketpair bad pointer", socketpair(AF_UNIX, SOCK_STREAM, 0, (int *)bad));
    int sv[2];
    must(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
    report("recv into a bad buffer", recv(sv[0], bad, 1, MSG_DONTWAIT));
    report_val("write", write(sv[1], "x", 1));
    report("recv into a bad buffer with data", recv(sv[0], bad, 1, 0));
    report("connect a connected socket", connect(sv[0], (struct sockaddr *)&sa, sizeof sa));
    struct sockaddr_un to = { .sun_family = AF_UNIX, .sun_path = "x" };
    report("sendto with an address on a connected stream", sendto(sv[0], "x", 1, MSG_NOSIGNAL, (struct sockaddr *)&to, sizeof to));
    report("sendto with an address on an unconnected stream", sendto(s, "x", 1, MSG_NOSIGNAL, (struct sockaddr *)&to, sizeof to));
    report_val("sendto with a zero-length address", sendto(sv[0], "y", 1, MSG_NOSIGNAL, (struct sockaddr *)&to, 0));
    report_val("recv it", recv(sv[1], &b, 1, 0));
    /* SIGPIPE on writing to a closed peer */
    signal(SIGPIPE, SIG_IGN);
    close(sv[1]);
    report("write to a closed peer (SIGPIPE ignored)", write(sv[0], "x", 1));
}

int main(int argc, char **argv)
{
    static const struct mode modes[] = {
        { "pair", pair },
        { "server", server },
        { "rights", rights },
        { "streamdata", streamdata },
        { "dgram", dgram },
        { "errors", errors },
        { NULL, NULL },
    };
    line_buffered();
    if (argc != 3) {
        fprintf(stderr, "usage: %s DIR MODE\n", argv[0]);
        return 2;
    }
    dir = argv[1];
    must(mkdir(dir, 0755) == 0 || errno == EEXIST, "mkdir");
    char *args[] = { argv[0], argv[2], NULL };
    return run_mode(modes, 2, args);
}
