/* stat(2) of one path N times (a path 5 levels deep measures the walk). Usage: stat_deep PATH N */
#include <stdlib.h>
#include <sys/stat.h>

int main(int argc, char **argv)
{
    long n = argc > 2 ? atol(argv[2]) : 10;
    struct stat st;
    for (long i = 0; i < n; i++)
        if (stat(argv[1], &st) != 0) return 1;
    return 0;
}
