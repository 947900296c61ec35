/* pthreads: 64 threads synchronised with mutexes, condition variables and a
 * barrier; execve from a thread other than the main one while the other
 * threads are blocked (exec must end them all); a page changing frame under a
 * thread that reads it.
 * Usage: threads MODE (see the table at the end). */
#include "proctest.h"
#include <pthread.h>

extern char **environ;

enum { Threads = 64, Increments = 1000 };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int started, go;
static long counter;
static pid_t tids[Threads];
static __thread long mine; /* per-thread: must not be shared */
static pthread_barrier_t barrier;
static int serial_threads;

static void *worker(void *arg)
{
    long id = (long)arg;
    tids[id] = (pid_t)syscall(SYS_gettid);
    /* Start line: nobody counts before every thread exists. */
    pthread_mutex_lock(&lock);
    started++;
    pthread_cond_broadcast(&changed);
    while (!go)
        pthread_cond_wait(&changed, &lock);
    pthread_mutex_unlock(&lock);

    for (int i = 0; i < Increments; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
        mine++;
    }
    if (pthread_barrier_wait(&barrier) == PTHREAD_BARRIER_SERIAL_THREAD) {
        pthread_mutex_lock(&lock);
        serial_threads++;
        pthread_mutex_unlock(&lock);
    }
    return (void *)(mine == Increments ? id * id : -1);
}

/* Bounded queue: producers and consumers hand over numbered items. */
enum { Slots = 4, Producers = 4, Consumers = 4, Items = 2000 };
static long queue[Slots];
static int qhead, qcount, producers_left = Producers;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER, not_empty = PTHREAD_COND_INITIALIZER;

static void *producer(void *arg)
{
    long base = (long)arg * Items;
    for (long i = 1; i <= Items; i++) {
        pthread_mutex_lock(&lock);
        while (qcount == Slots)
            pthread_cond_wait(&not_full, &lock);
        queue[(qhead + qcount++) % Slots] = base + i;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&lock);
    }
    pthread_mutex_lock(&lock);
    if (--producers_left == 0)
        pthread_cond_broadcast(&not_empty); /* wake consumers to see the end */
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void *consumer(void *arg)
{
    long *sum = arg;
    for (;;) {
        pthread_mutex_lock(&lock);
        while (qcount == 0 && producers_left > 0)
            pthread_cond_wait(&not_empty, &lock);
        if (qcount == 0) {
            pthread_mutex_unlock(&lock);
            return NULL;
        }
        long v = queue[qhead];
        qhead = (qhead + 1) % Slots;
        qcount--;
        pthread_cond_signal(&not_full);
        pthread_mutex_unlock(&lock);
        *sum += v;
    }
}

static void mutex(char **argv)
{
    (void)argv;
    pthread_t t[Threads];
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024); /* 64 x 8 MiB default is needless */
    pthread_barrier_init(&barrier, NULL, Threads);
    int created = 0;
    for (long i = 0; i < Threads; i++)
        if (pthread_create(&t[i], &attr, worker, (void *)i) == 0)
            created++;
    printf("threads created: %d\n", created);
    must(created == Threads, "pthread_create");
    pthread_mutex_lock(&lock);
    while (started < Threads)
        pthread_cond_wait(&changed, &lock);
    go = 1;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
    long sum = 0;
    for (int i = 0; i < Threads; i++) {
        void *r;
        pthread_join(t[i], &r);
        sum += (long)r;
    }
    printf("counter: %ld\n", counter);
    printf("sum of id*id returned by joins: %ld\n", sum);
    printf("barrier serial threads: %d\n", serial_threads);
    int distinct = 1;
    pid_t pid = getpid();
    for (int i = 0; i < Threads; i++)
        for (int j = 0; j < i; j++)
            if (tids[i] == tids[j] || tids[i] == pid)
                distinct = 0;
    yesno("thread ids distinct and not the pid", distinct);
    yesno("main thread's id is the pid", syscall(SYS_gettid) == pid);

    pthread_t p[Producers], c[Consumers];
    long sums[Consumers] = { 0 };
    for (long i = 0; i < Producers; i++)
        must(pthread_create(&p[i], &attr, producer, (void *)i) == 0, "pthread_create producer");
    for (int i = 0; i < Consumers; i++)
        must(pthread_create(&c[i], &attr, consumer, &sums[i]) == 0, "pthread_create consumer");
    for (int i = 0; i < Producers; i++)
        pthread_join(p[i], NULL);
    long total = 0;
    for (int i = 0; i < Consumers; i++) {
        pthread_join(c[i], NULL);
        total += sums[i];
    }
    long n = (long)Producers * Items;
    printf("items consumed sum: %ld (expected %ld)\n", total, n * (n + 1) / 2);
}

/* Threads that block forever unless exec ends them. */
static int never[2];
static void *block_in_read(void *arg)
{
    (void)arg;
    char c;
    read(never[0], &c, 1);
    return NULL;
}
static void *block_in_cond(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    for (;;)
        pthread_cond_wait(&changed, &lock);
    return NULL;
}

static void *exec_from_thread(void *arg)
{
    char **args = arg;
    execve(args[0], args, environ);
    printf("execve from a thread failed: %s\n", errname(errno));
    fflush(stdout);
    _exit(1);
}

static void start_blockers_then_exec(char **args)
{
    must(pipe(never) == 0, "pipe");
    pthread_t b1, b2, e;
    must(pthread_create(&b1, NULL, block_in_read, NULL) == 0, "pthread_create");
    must(pthread_create(&b2, NULL, block_in_cond, NULL) == 0, "pthread_create");
    printf("blocked threads started, a third thread execs\n");
    must(pthread_create(&e, NULL, exec_from_thread, args) == 0, "pthread_create");
    pthread_join(e, NULL); /* never returns: exec replaces the whole process */
    printf("exec thread returned\n");
}

static void exec_echo(char **argv)
{
    (void)argv;
    static char *args[] = { "/bin/echo", "/bin/echo run from a non-main thread", NULL };
    start_blockers_then_exec(args);
}

/* Execs this program again ("after_exec"): the exec'ing thread takes over the pid. */
static void exec_self(char **argv)
{
    static char *args[3];
    args[0] = argv[0];
    args[1] = "after_exec";
    start_blockers_then_exec(args);
}

static void after_exec(char **argv)
{
    (void)argv;
    printf("after exec from a thread\n");
    yesno("the new image's only thread has tid == pid", syscall(SYS_gettid) == getpid());
    /* A thread can still be created and joined in the new image. */
    must(pipe(never) == 0, "pipe");
    close(never[1]); /* block_in_read sees EOF at once */
    pthread_t t;
    must(pthread_create(&t, NULL, block_in_read, NULL) == 0, "pthread_create");
    pthread_join(t, NULL);
    printf("thread created and joined after exec\n");
}

/* A page changes frame under a thread that keeps reading it: the main thread
 * replaces it (mmap MAP_FIXED) or breaks its copy-on-write sharing with a forked
 * child by writing it, stores the generation there, then publishes the generation
 * in another page; the reader, spinning in user mode all along, must then read
 * that generation from the page, not the old frame's contents. As on Linux, a
 * mapping change is in effect for every thread when the call that made it returns. */
enum { RemapRounds = 200 };
static volatile int *remapped;
static volatile long published, acked, stale_round = -1, stale_value;

static void *remap_reader(void *arg)
{
    (void)arg;
    for (long g = 1; g <= RemapRounds; g++) {
        while (__atomic_load_n(&published, __ATOMIC_ACQUIRE) != g)
            ;
        int v = remapped[0];
        if (v != (int)g && stale_round < 0) {
            stale_round = g;
            stale_value = v;
        }
        __atomic_store_n(&acked, g, __ATOMIC_RELEASE);
    }
    return NULL;
}

static void remap_seen(char **argv)
{
    (void)argv;
    remapped = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    must(remapped != MAP_FAILED, "mmap");
    remapped[0] = 0;
    pthread_t t;
    must(pthread_create(&t, NULL, remap_reader, NULL) == 0, "pthread_create");
    for (long g = 1; g <= RemapRounds; g++) {
        int gate[2] = { -1, -1 };
        pid_t child = -1;
        if (g % 2) {
            must(mmap((void *)remapped, 4096, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == remapped, "mmap MAP_FIXED");
        } else {
            /* The child holds the frame until after the write, so the write copies it. */
            must(pipe(gate) == 0, "pipe");
            child = fork();
            must(child >= 0, "fork");
            if (child == 0) {
                char c;
                close(gate[1]);
                read(gate[0], &c, 1);
                _exit(remapped[0] == (int)g - 1 ? 0 : 1);
            }
            close(gate[0]);
        }
        remapped[0] = (int)g;
        __atomic_store_n(&published, g, __ATOMIC_RELEASE);
        while (__atomic_load_n(&acked, __ATOMIC_ACQUIRE) != g)
            ;
        if (child > 0) {
            int st;
            close(gate[1]);
            waitpid(child, &st, 0);
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                printf("round %ld: the child did not keep its copy\n", g);
        }
    }
    pthread_join(t, NULL);
    if (stale_round < 0)
        printf("the reader saw every new frame: yes\n");
    else
        printf("round %ld: the reader saw %ld from the old frame\n", stale_round, stale_value);
}

int main(int argc, char **argv)
{
    static const struct mode modes[] = {
        { "mutex", mutex },
        { "exec_echo", exec_echo },
        { "exec_self", exec_self },
        { "after_exec", after_exec },
        { "remap_seen", remap_seen },
        { NULL, NULL },
    };
    return run_mode(modes, argc, argv);
}
