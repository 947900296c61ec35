/* Parent and forked child pass one byte back and forth through two pipes, N round trips.
 * Usage: pipe_pingpong N */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 10;
    int there[2], back[2];
    if (pipe(there) || pipe(back)) return 1;
    char c = 0;
    pid_t p = fork();
    if (p == 0) {
        for (long i = 0; i < n; i++)
            if (read(there[0], &c, 1) != 1 || write(back[1], &c, 1) != 1) _exit(1);
        _exit(0);
    }
    for (long i = 0; i < n; i++)
        if (write(there[1], &c, 1) != 1 || read(back[0], &c, 1) != 1) return 1;
    int st;
    return waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
