/* mount(2) and umount2(2) as a container's init uses them, compared with the same binary run
 * natively in a private mount namespace (unshare -m). Usage: mounts DIR MODE, DIR a scratch
 * directory (created if missing). Must run as root. */
#include "proctest.h"
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

static char path[4][512];

static void mk(int i, const char *dir, const char *name)
{
    snprintf(path[i], sizeof path[i], "%s/%s", dir, name);
    must(mkdir(path[i], 0755) == 0 || errno == EEXIST, "mkdir");
}

static void show_type(const char *label, const char *p)
{
    struct statfs st;
    if (statfs(p, &st) < 0)
        printf("%s: %s\n", label, errname(errno));
    else
        printf("%s: %s\n", label, st.f_type == 0x01021994 ? "tmpfs" : st.f_type == 0x9fa0 ? "proc"
               : st.f_type == 0x62656572 ? "sysfs" : "other");
}

static void cat(const char *label, const char *p)
{
    char buf[64] = { 0 };
    int fd = open(p, O_RDONLY);
    if (fd < 0) {
        printf("%s: %s\n", label, errname(errno));
        return;
    }
    long n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n > 0 && buf[n - 1] == '\n')
        buf[n - 1] = 0;
    printf("%s: \"%s\"\n", label, buf);
}

static void tmpfs_mode(char **argv)
{
    mk(0, argv[1], "t");
    report("mount tmpfs", mount("none", path[0], "tmpfs", 0, NULL));
    show_type("type", path[0]);
    char f[600];
    snprintf(f, sizeof f, "%s/file", path[0]);
    int fd = open(f, O_CREAT | O_WRONLY, 0600);
    must(fd >= 0 && write(fd, "in tmpfs\n", 9) == 9, "write");
    close(fd);
    cat("read back", f);
    report("rmdir the mount point", rmdir(path[0]));
    report("umount", umount2(path[0], 0));
    cat("after umount", f);
    report("umount again", umount2(path[0], 0));
    report("unknown type", mount("none", path[0], "no-such-fs", 0, NULL));
    report("missing target", mount("none", "/no/such/dir", "tmpfs", 0, NULL));
}

static void bind_mode(char **argv)
{
    mk(0, argv[1], "src");
    mk(1, argv[1], "dst");
    char f[600];
    snprintf(f, sizeof f, "%s/hello", path[0]);
    int fd = open(f, O_CREAT | O_WRONLY, 0644);
    must(fd >= 0 && write(fd, "bound\n", 6) == 6, "write");
    close(fd);
    report("bind mount", mount(path[0], path[1], NULL, MS_BIND, NULL));
    snprintf(f, sizeof f, "%s/hello", path[1]);
    cat("through the bind mount", f);
    report("make private", mount("none", path[1], NULL, MS_PRIVATE, NULL));
    report("umount", umount2(path[1], 0));
    cat("after umount", f);
}

static void proc_mode(char **argv)
{
    mk(0, argv[1], "p");
    report("mount proc", mount("proc", path[0], "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL));
    show_type("type", path[0]);
    char f[600];
    snprintf(f, sizeof f, "%s/self/comm", path[0]);
    cat("self/comm", f);
    char link[64], want[64];
    snprintf(f, sizeof f, "%s/self", path[0]);
    long n = readlink(f, link, sizeof link - 1);
    link[n > 0 ? n : 0] = 0;
    snprintf(want, sizeof want, "%d", getpid());
    printf("self is this process: %s\n", strcmp(link, want) == 0 ? "yes" : "no");
    report("umount", umount2(path[0], 0));
    mk(1, argv[1], "s");
    report("mount sysfs", mount("sysfs", path[1], "sysfs", 0, NULL));
    show_type("type", path[1]);
    report("umount sysfs", umount2(path[1], 0));
}

int main(int argc, char **argv)
{
    static const struct mode modes[] = {
        { "tmpfs", tmpfs_mode },
        { "bind", bind_mode },
        { "proc", proc_mode },
        { NULL, NULL },
    };
    line_buffered();
    if (argc != 3) {
        fprintf(stderr, "usage: %s DIR MODE\n", argv[0]);
        return 2;
    }
    must(mkdir(argv[1], 0755) == 0 || errno == EEXIST, "mkdir scratch");
    /* Each mode gets the scratch directory as its argv[1]. */
    for (const struct mode *m = modes; m->name; m++)
        if (strcmp(m->name, argv[2]) == 0) {
            m->run(argv);
            printf("done\n");
            return 0;
        }
    fprintf(stderr, "%s: unknown mode %s\n", argv[0], argv[2]);
    return 2;
}
