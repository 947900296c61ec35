/* Two threads hand a token back and forth N times with FUTEX_WAIT/FUTEX_WAKE. */
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static _Atomic int turn;
static long n;

static void wait_for(int want)
{
    int cur;
    while ((cur = atomic_load(&turn)) != want)
        syscall(SYS_futex, &turn, FUTEX_WAIT_PRIVATE, cur, NULL, NULL, 0);
}

static void pass_to(int who)
{
    atomic_store(&turn, who);
    syscall(SYS_futex, &turn, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void *other(void *arg)
{
    (void)arg;
    for (long i = 0; i < n; i++) { wait_for(1); pass_to(0); }
    return NULL;
}

int main(int argc, char **argv)
{
    n = argc > 1 ? atol(argv[1]) : 10;
    pthread_t t;
    pthread_create(&t, NULL, other, NULL);
    for (long i = 0; i < n; i++) { pass_to(1); wait_for(0); }
    pthread_join(t, NULL);
    return 0;
}
