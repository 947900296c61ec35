/* mmap of 64 KiB of anonymous memory, a write to each of its 16 pages, munmap; N times.
 * Usage: mmap_touch N */
#include <stdlib.h>
#include <sys/mman.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 10;
    for (long i = 0; i < n; i++) {
        char *p = mmap(NULL, 16 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) return 1;
        for (int k = 0; k < 16; k++) p[k * 4096] = 1;
        munmap(p, 16 * 4096);
    }
    return 0;
}
