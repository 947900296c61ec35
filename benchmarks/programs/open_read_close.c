/* open + read + close of a 4 KiB file, N times. Usage: open_read_close FILE N */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long n = argc > 2 ? atol(argv[2]) : 10;
    char buf[4096];
    for (long i = 0; i < n; i++) {
        int fd = open(argv[1], O_RDONLY);
        if (fd < 0 || read(fd, buf, sizeof buf) != sizeof buf) return 1;
        close(fd);
    }
    return 0;
}
