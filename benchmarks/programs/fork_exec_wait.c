/* fork + execve + wait of a static program, N times: the process-creation cost.
 * Usage: fork_exec_wait PROGRAM [N [HEAP_MIB]]; with HEAP_MIB the parent first
 * fills that much heap, so each fork has that many private pages to share. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long n = argc > 2 ? atol(argv[2]) : 10;
    size_t heap = argc > 3 ? (size_t)atol(argv[3]) << 20 : 0;
    if (heap) {
        char *p = malloc(heap);
        if (!p) return 1;
        memset(p, 1, heap);
    }
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
