/* CPU state a platform must keep for the application, and the hardware faults it must report.
 * Prints only facts that are the same natively and in the sandbox.  Usage: cpu MODE */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "common.h"

/* SSE registers keep their values across many system calls: the platform must save and restore
 * (or never touch) the vector state.  xmm8..xmm15 are loaded in asm and read back after the calls,
 * with nothing in between that the compiler could spill them for. */
static int sse_survives(unsigned seed, int calls)
{
    uint32_t in[8][4], out[8][4];
    for (int r = 0; r < 8; r++)
        for (int k = 0; k < 4; k++) in[r][k] = seed * 2654435761u + (unsigned)(r * 4 + k);
    __asm__ volatile(
        "movdqu 0(%0), %%xmm8\n movdqu 16(%0), %%xmm9\n movdqu 32(%0), %%xmm10\n movdqu 48(%0), %%xmm11\n"
        "movdqu 64(%0), %%xmm12\n movdqu 80(%0), %%xmm13\n movdqu 96(%0), %%xmm14\n movdqu 112(%0), %%xmm15\n"
        :: "r"(in) : "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "memory");
    for (int i = 0; i < calls; i++) {
        long r;
        /* Raw syscalls: no libc code that might use the vector registers. */
        __asm__ volatile("syscall" : "=a"(r) : "0"(i % 3 == 0 ? SYS_getppid : i % 3 == 1 ? SYS_sched_yield : SYS_getpid)
                         : "rcx", "r11", "memory");
    }
    __asm__ volatile(
        "movdqu %%xmm8, 0(%0)\n movdqu %%xmm9, 16(%0)\n movdqu %%xmm10, 32(%0)\n movdqu %%xmm11, 48(%0)\n"
        "movdqu %%xmm12, 64(%0)\n movdqu %%xmm13, 80(%0)\n movdqu %%xmm14, 96(%0)\n movdqu %%xmm15, 112(%0)\n"
        :: "r"(out) : "memory");
    return memcmp(in, out, sizeof in) == 0;
}

/* The upper halves of the ymm registers, which only XSAVE (not FXSAVE) holds. */
static int avx_survives(int calls)
{
    uint32_t in[8], out[8];
    for (int k = 0; k < 8; k++) in[k] = 0x9e3779b9u * (unsigned)(k + 1);
    __asm__ volatile("vmovdqu (%0), %%ymm7" :: "r"(in) : "xmm7", "memory");
    for (int i = 0; i < calls; i++) {
        long r;
        __asm__ volatile("syscall" : "=a"(r) : "0"(SYS_getppid) : "rcx", "r11", "memory");
    }
    __asm__ volatile("vmovdqu %%ymm7, (%0)\n vzeroupper" :: "r"(out) : "memory");
    return memcmp(in, out, sizeof in) == 0;
}

static void fpu(void)
{
    printf("sse registers kept across 10000 syscalls: %s\n", sse_survives(1, 10000) ? "yes" : "no");
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx"))
        printf("avx upper halves kept across 10000 syscalls: %s\n", avx_survives(10000) ? "yes" : "no");
    else
        printf("avx upper halves kept across 10000 syscalls: yes\n"); /* nothing to keep */
    /* x87 control word and MXCSR (rounding modes) are per thread state too. */
    unsigned short cw = 0x0c7f, cw2;
    unsigned mx = 0x7f80 | 0x6000, mx2, mx0;
    __asm__ volatile("stmxcsr %0" : "=m"(mx0));
    __asm__ volatile("fldcw %0\n ldmxcsr %1" :: "m"(cw), "m"(mx));
    for (int i = 0; i < 1000; i++) syscall(SYS_getppid);
    __asm__ volatile("fnstcw %0\n stmxcsr %1" : "=m"(cw2), "=m"(mx2));
    __asm__ volatile("ldmxcsr %0" :: "m"(mx0));
    printf("x87 control word and MXCSR kept: %s\n", cw2 == cw && mx2 == mx ? "yes" : "no");
    volatile double a = 1.0;
    for (int i = 0; i < 100000; i++) { a = a * 1.0000001 + 0.5; if ((i & 1023) == 0) syscall(SYS_getppid); }
    printf("double arithmetic across syscalls: %.6f\n", a);
}

static void *sse_thread(void *arg)
{
    return (void *)(intptr_t)sse_survives((unsigned)(intptr_t)arg, 20000);
}

static void threads_fpu(void)
{
    pthread_t t[3];
    for (int i = 0; i < 3; i++) pthread_create(&t[i], NULL, sse_thread, (void *)(intptr_t)(i + 7));
    int ok = sse_survives(99, 20000);
    for (int i = 0; i < 3; i++) {
        void *r;
        pthread_join(t[i], &r);
        ok &= (int)(intptr_t)r;
    }
    printf("four threads kept their own sse registers: %s\n", ok ? "yes" : "no");
}

static void cpuid_mode(void)
{
    unsigned a, b, c, d;
    char vendor[13];
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "0"(0), "2"(0));
    memcpy(vendor, &b, 4); memcpy(vendor + 4, &d, 4); memcpy(vendor + 8, &c, 4); vendor[12] = 0;
    printf("cpuid vendor: %s\n", vendor);
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "0"(1), "2"(0));
    printf("cpuid sse2: %s\n", (d >> 26) & 1 ? "yes" : "no");
}

static void rdtsc_mode(void)
{
    unsigned lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    uint64_t t0 = ((uint64_t)hi << 32) | lo;
    for (int i = 0; i < 100; i++) syscall(SYS_getppid);
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    uint64_t t1 = ((uint64_t)hi << 32) | lo;
    printf("rdtsc advances: %s\n", t1 > t0 ? "yes" : "no");
}

static __thread int tls_value = 5;

static void *tls_thread(void *arg)
{
    tls_value = (int)(intptr_t)arg;
    for (int i = 0; i < 1000; i++) syscall(SYS_getppid);
    uintptr_t self, fs;
    __asm__ volatile("mov %%fs:0, %0" : "=r"(self));
    syscall(SYS_arch_prctl, 0x1003 /* ARCH_GET_FS */, &fs);
    return (void *)(intptr_t)(tls_value == (int)(intptr_t)arg && self == fs);
}

static void tls(void)
{
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, tls_thread, (void *)(intptr_t)(100 + i));
    int ok = 1;
    for (int i = 0; i < 2; i++) {
        void *r;
        pthread_join(t[i], &r);
        ok &= (int)(intptr_t)r;
    }
    printf("main thread tls value: %d; threads saw their own tls and fs base: %s\n", tls_value, ok ? "yes" : "no");
}

/* Faults with no handler: the process dies of the signal (the exit status tells which). */
static void fault(const char *kind)
{
    fflush(stdout);
    if (!strcmp(kind, "null")) { volatile int *p = NULL; *p = 1; }
    if (!strcmp(kind, "ud2")) __asm__ volatile("ud2");
    if (!strcmp(kind, "int3")) __asm__ volatile("int3");
    if (!strcmp(kind, "div0")) __asm__ volatile("xor %%edx, %%edx\n mov $1, %%eax\n xor %%ecx, %%ecx\n div %%ecx" ::: "eax", "ecx", "edx");
    if (!strcmp(kind, "hlt")) __asm__ volatile("hlt");
    printf("no fault\n");
}

static sigjmp_buf probe_jmp;
static volatile int probe_sig, probe_code;

static void on_probe(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    probe_sig = sig;
    probe_code = si->si_code;
    siglongjmp(probe_jmp, 1);
}

/* Addresses the application must never reach: the upper (kernel) half, where Sentry's KVM platform
 * keeps its ring-0 code, descriptor tables, stacks and the page-table map, and non-canonical ones. */
static void kernel_probe(void)
{
    static const uint64_t addrs[] = {
        0xffff800000000000ull, 0xffffff8000000000ull, 0xffffff8000001000ull, 0xffffff8000100000ull,
        0xffffffc000000000ull, 0xfffffffffffff000ull, 0x0000800000000000ull, 0x8000000000000000ull,
    };
    struct sigaction sa = { 0 };
    sa.sa_sigaction = on_probe;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    for (unsigned i = 0; i < sizeof addrs / sizeof addrs[0]; i++)
        for (int write = 0; write < 3; write++) {
            probe_sig = probe_code = 0;
            if (sigsetjmp(probe_jmp, 1) == 0) {
                volatile uint64_t *p = (volatile uint64_t *)addrs[i];
                if (write == 0) (void)*p;
                else if (write == 1) *p = 0x4141414141414141ull;
                else ((void (*)(void))addrs[i])();
                printf("%#llx %s: reached\n", (unsigned long long)addrs[i], write == 0 ? "read" : write == 1 ? "write" : "call");
            } else
                printf("%#llx %s: signal %d code %d\n", (unsigned long long)addrs[i],
                       write == 0 ? "read" : write == 1 ? "write" : "call", probe_sig, probe_code);
        }
}

/* 1 GiB of anonymous memory, every page written and checksummed. */
static void bigmem(void)
{
    size_t len = (size_t)1 << 30;
    uint64_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    must(p != MAP_FAILED, "mmap 1 GiB");
    uint64_t sum = 0, want = 0;
    for (size_t i = 0; i < len / 8; i += 512) p[i] = i * 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < len / 8; i += 512) { sum += p[i]; want += i * 0x9e3779b97f4a7c15ull; }
    printf("1 GiB touched, checksum %s\n", sum == want ? "matches" : "differs");
    munmap(p, len);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *m = argc > 1 ? argv[1] : "";
    if (!strcmp(m, "fpu")) fpu();
    else if (!strcmp(m, "threads_fpu")) threads_fpu();
    else if (!strcmp(m, "cpuid")) cpuid_mode();
    else if (!strcmp(m, "rdtsc")) rdtsc_mode();
    else if (!strcmp(m, "tls")) tls();
    else if (!strncmp(m, "fault_", 6)) fault(m + 6);
    else if (!strcmp(m, "kernel_probe")) kernel_probe();
    else if (!strcmp(m, "bigmem")) bigmem();
    else { fprintf(stderr, "usage: cpu fpu|threads_fpu|cpuid|rdtsc|tls|fault_KIND|kernel_probe|bigmem\n"); return 2; }
    printf("done\n");
    return 0;
}
