/* Host capability probe (run natively, never in the sandbox): can this host
 * trace a child with PTRACE_SYSEMU? Containers with a restrictive seccomp
 * profile or Yama scope 3 forbid it; the tests then skip the ptrace platform
 * instead of failing. Exit 0 = usable; otherwise prints why. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PTRACE_SYSEMU
#define PTRACE_SYSEMU 31
#endif

int main(void)
{
    pid_t child = fork();
    if (child < 0) {
        printf("fork: %s\n", strerror(errno));
        return 1;
    }
    if (child == 0) {
        if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0)
            _exit(10);
        raise(SIGSTOP);
        syscall(SYS_getpid);
        _exit(0);
    }
    int status;
    if (waitpid(child, &status, 0) != child || !WIFSTOPPED(status)) {
        printf("child did not stop for the tracer (PTRACE_TRACEME refused?) status=%#x\n", status);
        return 1;
    }
    if (ptrace(PTRACE_SYSEMU, child, 0, 0) != 0) {
        printf("PTRACE_SYSEMU: %s\n", strerror(errno));
        kill(child, SIGKILL);
        waitpid(child, &status, 0);
        return 1;
    }
    if (waitpid(child, &status, 0) != child || !WIFSTOPPED(status) || WSTOPSIG(status) != SIGTRAP) {
        printf("no syscall stop under PTRACE_SYSEMU, status=%#x\n", status);
        kill(child, SIGKILL);
        waitpid(child, &status, 0);
        return 1;
    }
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    printf("ptrace ok\n");
    return 0;
}
