/* Null-syscall loop for the sandbox benchmark: calls getppid argv[1] times (default 200000)
 * through syscall(2), so the C library cannot cache or skip it, then exits 0. */
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 200000;
    for (long i = 0; i < n; i++)
        syscall(SYS_getppid);
    return 0;
}
