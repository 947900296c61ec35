/* The handoff floor of the systrap platform: two processes (fork) pass a token back and forth
 * argv[1] times (default 200000) through a word in shared memory, each waiting as systrap's two
 * sides wait: spin up to argv[2] pause iterations (default 400), then sleep on the word with a
 * shared (not private) futex, with a waiting flag so the poster calls FUTEX_WAKE only when needed.
 * One iteration is two handoffs, as one system call on systrap is (stub to Sentry and back). */
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct chan { _Atomic int turn; _Atomic int waiting[2]; };
static long spin;

static void wait_for(struct chan *c, int me)
{
    for (long i = 0; i < spin; i++) {
        if (atomic_load(&c->turn) == me) return;
        __builtin_ia32_pause();
    }
    for (;;) {
        atomic_store(&c->waiting[me], 1);
        int cur = atomic_load(&c->turn);
        if (cur == me) break;
        syscall(SYS_futex, &c->turn, FUTEX_WAIT, cur, NULL, NULL, 0);
    }
    atomic_store(&c->waiting[me], 0);
}

static void pass_to(struct chan *c, int who)
{
    atomic_store(&c->turn, who);
    if (atomic_load(&c->waiting[who]))
        syscall(SYS_futex, &c->turn, FUTEX_WAKE, 1, NULL, NULL, 0);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 200000;
    spin = argc > 2 ? atol(argv[2]) : 400;
    struct chan *c = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (c == MAP_FAILED) return 2;
    pid_t pid = fork();
    if (pid < 0) return 3;
    int me = pid == 0 ? 1 : 0;
    for (long i = 0; i < n; i++) {
        if (me == 0) { pass_to(c, 1); wait_for(c, 0); }
        else { wait_for(c, 1); pass_to(c, 0); }
    }
    if (pid == 0) _exit(0);
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 4;
}
