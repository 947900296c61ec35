/* Reads FILE from start to end with 1 MiB reads, N times. Usage: seq_read FILE N */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

static char buf[1 << 20];

int main(int argc, char **argv)
{
    long n = argc > 2 ? atol(argv[2]) : 1;
    for (long i = 0; i < n; i++) {
        int fd = open(argv[1], O_RDONLY);
        if (fd < 0) return 1;
        ssize_t r;
        while ((r = read(fd, buf, sizeof buf)) > 0) {}
        if (r < 0) return 1;
        close(fd);
    }
    return 0;
}
