/* Maps MIB mebibytes of fresh anonymous memory, writes one byte to every page, checks the sum and
 * unmaps it: the cost of first touches (page faults) at scale.  Usage: touch_memory MIB */
#include <stdlib.h>
#include <sys/mman.h>

int main(int argc, char **argv)
{
    long mib = argc > 1 ? atol(argv[1]) : 1;
    size_t len = (size_t)mib << 20;
    unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 1;
    for (size_t i = 0; i < len; i += 4096) p[i] = (unsigned char)(i >> 12);
    unsigned long sum = 0;
    for (size_t i = 0; i < len; i += 4096) sum += p[i];
    unsigned long want = 0;
    for (size_t i = 0; i < len; i += 4096) want += (unsigned char)(i >> 12);
    munmap(p, len);
    return sum == want ? 0 : 2;
}
