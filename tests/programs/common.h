/* Shared helpers for the sandbox test programs.
 *
 * Every program prints only deterministic facts (sizes, flags, errno names,
 * relations between ids) so that its output natively and inside the sandbox
 * can be compared byte for byte. Never print addresses, times, pids or
 * memory contents. */
#ifndef SENTRY_TEST_COMMON_H
#define SENTRY_TEST_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* An address in the kernel half: never mappable by a user program. */
#define KERNEL_ADDR ((void *)0xffff800000000000ULL)

/* errno as its symbolic name, so outputs compare exactly across libcs. */
static inline const char *errname(int e)
{
    switch (e) {
#define E(x) case x: return #x;
    E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG)
    E(ENOEXEC) E(EBADF) E(ECHILD) E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT)
    E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV) E(ENOTDIR) E(EISDIR) E(EINVAL)
    E(ENFILE) E(EMFILE) E(ENOTTY) E(EFBIG) E(ENOSPC) E(ESPIPE) E(EROFS)
    E(EMLINK) E(EPIPE) E(ERANGE) E(ENAMETOOLONG) E(ENOSYS) E(ELOOP)
    E(ENOTEMPTY) E(EOVERFLOW) E(ETIMEDOUT) E(EOPNOTSUPP) E(ENODATA)
    E(ENOLCK) E(EDEADLK)
#undef E
    default: {
        static char buf[32];
        snprintf(buf, sizeof buf, "errno%d", e);
        return buf;
    }
    }
}

/* Print "label: ok" when r >= 0, else "label: ERRNAME". Returns r. */
static inline long report(const char *label, long r)
{
    if (r < 0)
        printf("%s: %s\n", label, errname(errno));
    else
        printf("%s: ok\n", label);
    return r;
}

/* Print "label: = value" for results whose value is deterministic. */
static inline long report_val(const char *label, long r)
{
    if (r < 0)
        printf("%s: %s\n", label, errname(errno));
    else
        printf("%s: = %ld\n", label, r);
    return r;
}

static inline void yesno(const char *label, int cond)
{
    printf("%s: %s\n", label, cond ? "yes" : "no");
}

/* Abort the program for broken preconditions of the test itself (not of the
 * behaviour under test): the test harness sees a non-zero exit natively. */
static inline void must(int cond, const char *what)
{
    if (!cond) {
        printf("PRECONDITION FAILED: %s (%s)\n", what, errname(errno));
        fflush(stdout);
        exit(99);
    }
}

/* A page that was mapped and then unmapped: a user address that faults. */
#include <sys/mman.h>
static inline void *unmapped_page(void)
{
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    must(p != MAP_FAILED, "mmap for unmapped_page");
    must(munmap(p, 4096) == 0, "munmap for unmapped_page");
    return p;
}

#endif
