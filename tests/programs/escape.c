/* What a program can do to the platform's stub from inside: each mode probes one way out.
 *
 *   jit          a raw `syscall` from a page the program wrote itself: answered by the sandbox
 *                (getpid agrees with libc's), like any other system call.
 *   sigsys       the program's own SIGSYS handler, SIGSYS blocked and ignored: system calls
 *                still work, raise(SIGSYS) reaches the program's handler.
 *   seccomp      seccomp() and prctl(PR_SET_SECCOMP) to install a filter of its own: whatever
 *                they return, they change nothing the sandbox's calls depend on (getpid works).
 *   shared_write a write where the systrap stub keeps its shared region: dies of SIGSEGV as on
 *                Linux, where nothing is mapped there.
 *   shared_unmap munmap of that region, then a write there: the same.
 *   badsp        a system call with the stack pointer at 0 (then restored): answered as natively,
 *                the trap path never touches the application's stack.
 *   smash        overwrites the first slots of the shared region (the stub's control channel and
 *                the first threads' slots): natively SIGSEGV; on systrap the program breaks only its
 *                own stub, and the sandbox ends with a message saying so.
 *   stub_map     mmap with MAP_FIXED_NOREPLACE over the stub's code and shared region: prints
 *                whether it succeeded (the sandbox refuses: it is above the user range).
 *
 * Prints only facts that are the same natively and inside the sandbox, except `stub_map`
 * and `seccomp`, whose results the test checks on their own. */
#include "common.h"
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>

#define SHARED_BASE 0x7fffe0000000UL
#define STUB_CODE 0x7ffffff00000UL

static volatile int handled;
static void on_sigsys(int sig) { (void)sig; handled++; }

static int jit(void)
{
    unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { printf("mmap: %s\n", errname(errno)); return 1; }
    /* mov eax, 39 (getpid); syscall; ret */
    unsigned char code[] = { 0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xc3 };
    memcpy(p + 100, code, sizeof code);
    if (mprotect(p, 4096, PROT_READ | PROT_EXEC) != 0) { printf("mprotect: %s\n", errname(errno)); return 1; }
    long (*f)(void) = (long (*)(void))(p + 100);
    long a = f(), b = getpid();
    printf("jit getpid matches libc getpid: %s\n", a == b ? "yes" : "no");
    /* The same from many addresses of the page: no address is special. */
    int same = 1;
    for (int off = 0; off + (int)sizeof code <= 4096; off += 509) {
        mprotect(p, 4096, PROT_READ | PROT_WRITE);
        memcpy(p + off, code, sizeof code);
        mprotect(p, 4096, PROT_READ | PROT_EXEC);
        f = (long (*)(void))(p + off);
        if (f() != b) same = 0;
    }
    printf("from every offset: %s\n", same ? "yes" : "no");
    return 0;
}

static int sigsys(void)
{
    struct sigaction sa = { 0 };
    sa.sa_handler = on_sigsys;
    printf("sigaction SIGSYS: %d\n", sigaction(SIGSYS, &sa, NULL));
    printf("getpid after handler: %s\n", getpid() > 0 ? "ok" : "bad");
    long r = syscall(999);
    printf("syscall 999: %ld %s, handler ran %d\n", r, r < 0 ? errname(errno) : "", handled);
    raise(SIGSYS);
    printf("raise SIGSYS: handler ran %d\n", handled);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGSYS);
    printf("block SIGSYS: %d\n", sigprocmask(SIG_BLOCK, &set, NULL));
    printf("getpid blocked: %s\n", getpid() > 0 ? "ok" : "bad");
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    signal(SIGSYS, SIG_IGN);
    printf("getpid ignored: %s\n", getpid() > 0 ? "ok" : "bad");
    /* A tiny alternate stack and a handler that runs on it. */
    static char tiny[4096];
    stack_t ss = { .ss_sp = tiny, .ss_size = sizeof tiny };
    printf("sigaltstack: %d\n", sigaltstack(&ss, NULL));
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGSYS, &sa, NULL);
    printf("getpid on tiny altstack: %s\n", getpid() > 0 ? "ok" : "bad");
    return 0;
}

static int seccomp_mode(void)
{
    printf("no_new_privs: %d\n", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
    /* A filter that would make getpid fail with EPERM and allow everything else. */
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = { .len = 4, .filter = f };
    long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
    printf("seccomp filter: %s\n", r == 0 ? "installed" : errname(errno));
    errno = 0;
    long p = getpid();
    printf("getpid after seccomp: %s\n", p > 0 ? "ok" : errname(errno));
    r = prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0);
    /* Under a real strict mode, the next call other than read/write/exit would kill us. */
    printf("strict mode: %s\n", r == 0 ? "installed" : errname(errno));
    printf("getpid after strict: %s\n", getpid() > 0 ? "ok" : "bad");
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    const char *m = argc > 1 ? argv[1] : "";
    if (!strcmp(m, "jit")) return jit();
    if (!strcmp(m, "sigsys")) return sigsys();
    if (!strcmp(m, "seccomp")) return seccomp_mode();
    if (!strcmp(m, "shared_write")) { *(volatile long *)SHARED_BASE = 0x4141414141414141L; printf("wrote\n"); return 0; }
    if (!strcmp(m, "shared_unmap")) {
        printf("munmap: %d\n", munmap((void *)SHARED_BASE, 0x10000));
        *(volatile long *)SHARED_BASE = 1;
        printf("wrote\n");
        return 0;
    }
    if (!strcmp(m, "badsp")) {
        long r;
        __asm__ volatile("mov %%rsp, %%r12\n\txor %%esp, %%esp\n\tmov $39, %%eax\n\tsyscall\n\tmov %%r12, %%rsp"
                         : "=a"(r) : : "r12", "rcx", "r11", "memory");
        printf("getpid with rsp=0: %s\n", r == getpid() ? "ok" : "bad");
        return 0;
    }
    if (!strcmp(m, "smash")) {
        for (unsigned long p = SHARED_BASE + 0x10000; p < SHARED_BASE + 0x40000; p += 8)
            *(volatile unsigned long *)p = 0x4141414141414141UL;
        printf("survived\n");
        return 0;
    }
    if (!strcmp(m, "stub_map")) {
        void *a = mmap((void *)STUB_CODE, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        void *b = mmap((void *)SHARED_BASE, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        printf("map over stub code: %s\n", a == (void *)STUB_CODE ? "mapped" : "refused");
        printf("map over shared region: %s\n", b == (void *)SHARED_BASE ? "mapped" : "refused");
        return 0;
    }
    fprintf(stderr, "usage: escape jit|sigsys|seccomp|shared_write|shared_unmap|stub_map\n");
    return 2;
}
