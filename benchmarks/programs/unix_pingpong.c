/* Parent and forked child pass 64 bytes back and forth over an AF_UNIX stream socketpair,
 * N round trips. Usage: unix_pingpong N */
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 10;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) return 1;
    char buf[64] = { 0 };
    pid_t p = fork();
    if (p == 0) {
        for (long i = 0; i < n; i++)
            if (recv(sv[1], buf, sizeof buf, MSG_WAITALL) != sizeof buf || send(sv[1], buf, sizeof buf, 0) != sizeof buf) _exit(1);
        _exit(0);
    }
    for (long i = 0; i < n; i++)
        if (send(sv[0], buf, sizeof buf, 0) != sizeof buf || recv(sv[0], buf, sizeof buf, MSG_WAITALL) != sizeof buf) return 1;
    int st;
    return waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
