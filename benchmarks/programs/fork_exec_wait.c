/* fork + execve + wait of a static program, N times: the process-creation cost. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long n = argc > 2 ? atol(argv[2]) : 10;
    for (long i = 0; i < n; i++) {
        pid_t p = fork();
        if (p == 0) {
            char *args[] = { argv[1], NULL };
            execv(argv[1], args);
            _exit(127);
        }
        int st;
        if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return 1;
    }
    return 0;
}
