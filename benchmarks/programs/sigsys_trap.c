/* The trap floor of the systrap platform, in one process: a seccomp filter makes getppid raise
 * SIGSYS (SECCOMP_RET_TRAP), and the process's own handler answers it (rax = 0) and returns through
 * rt_sigreturn. Calls getppid argv[1] times (default 200000), then exits 0: one system call,
 * one signal delivery and one sigreturn per iteration, no second process. */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <unistd.h>

static void on_sigsys(int sig, siginfo_t *info, void *ctx)
{
    (void)sig; (void)info;
    ((ucontext_t *)ctx)->uc_mcontext.gregs[REG_RAX] = 0;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 200000;
    struct sigaction sa = { 0 };
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO;
    if (sigaction(SIGSYS, &sa, NULL) != 0) return 2;
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = { .len = 4, .filter = f };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 3;
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) return 4;
    for (long i = 0; i < n; i++)
        if (syscall(SYS_getppid) != 0) return 5;
    return 0;
}
