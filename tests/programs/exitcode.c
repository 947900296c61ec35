/* Ends the process in the way named by argv[1] with the status argv[2], so
 * the harness can check that the sandbox reports the same exit status:
 *   return N | exit N (libc, runs atexit) | exit_group N | exit_thread N
 *   (raw SYS_exit of the only thread) | signal SIG (kill self) */
#include "common.h"
#include <signal.h>

static void on_exit_handler(void) { printf("atexit handler ran\n"); }

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: exitcode MODE N\n");
        return 2;
    }
    const char *mode = argv[1];
    int n = atoi(argv[2]);
    atexit(on_exit_handler);
    printf("mode %s %d\n", mode, n);
    fflush(stdout);
    if (strcmp(mode, "return") == 0)
        return n;
    if (strcmp(mode, "exit") == 0)
        exit(n);
    if (strcmp(mode, "exit_group") == 0)
        syscall(SYS_exit_group, n); /* no atexit handlers, no stdio flush */
    else if (strcmp(mode, "exit_thread") == 0)
        syscall(SYS_exit, n);
    else if (strcmp(mode, "signal") == 0)
        syscall(SYS_kill, syscall(SYS_getpid), n);
    printf("still alive after %s\n", mode);
    return 100;
}
