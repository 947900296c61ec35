/* Process life cycle: fork under RLIMIT_NPROC, zombies and reaping, orphans,
 * vfork/posix_spawn + exec, waitid, kill between parent and child, SIGCHLD.
 * Usage: fork MODE (see the table at the end). Never prints pids: inside the
 * sandbox the program is pid 1 of its own pid namespace. */
#include "proctest.h"
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/resource.h>

extern char **environ;

/* A bounded fork bomb. Natively as root RLIMIT_NPROC is not enforced, so the
 * loop may run to its cap; a sandbox that enforces the limit stops it with
 * EAGAIN. Either is correct, so the output only says that one of them
 * happened, and that every child created was reaped. */
static void nproc(char **argv)
{
    (void)argv;
    enum { Cap = 50 };
    struct rlimit rl = { 20, 20 };
    must(setrlimit(RLIMIT_NPROC, &rl) == 0, "setrlimit RLIMIT_NPROC");
    int gate[2];
    must(pipe(gate) == 0, "pipe");
    int made = 0, err = 0;
    for (; made < Cap; made++) {
        pid_t c = fork();
        if (c == 0) {
            /* Stay alive (so the count grows) until the parent closes the gate. */
            close(gate[1]);
            await_byte(gate[0]);
            _exit(0);
        }
        if (c < 0) {
            err = errno;
            break;
        }
    }
    close(gate[1]);
    int reaped = 0, st;
    while (wait(&st) > 0)
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
            reaped++;
    int wait_errno = errno;
    printf("fork loop ended by EAGAIN or by its cap: %s\n",
           made == Cap || err == EAGAIN ? "yes" : errname(err));
    yesno("every child created exited 0 and was reaped", reaped == made);
    printf("wait with no children left: %s\n", errname(wait_errno));
    pid_t c = fork();
    if (c == 0)
        _exit(7);
    report_wait("fork after reaping", c);
}

/* Twenty zombies reaped in reverse order of creation by pid, then none left. */
static void zombies(char **argv)
{
    (void)argv;
    enum { N = 20 };
    pid_t kids[N];
    pid_t me = getpid();
    for (int i = 0; i < N; i++) {
        kids[i] = fork();
        must(kids[i] >= 0, "fork");
        if (kids[i] == 0)
            _exit(getppid() == me ? i : 100 + i); /* the child knows its parent */
    }
    int ok = 1;
    for (int i = N - 1; i >= 0; i--) {
        int st;
        struct rusage ru;
        pid_t r = wait4(kids[i], &st, 0, &ru);
        if (r != kids[i] || !WIFEXITED(st) || WEXITSTATUS(st) != i) {
            printf("child %d: %s\n", i, r < 0 ? errname(errno) : describe_status(st));
            ok = 0;
        }
    }
    yesno("20 zombies reaped by pid with their own status", ok);
    int st;
    report("wait4(-1) with no children", wait4(-1, &st, 0, NULL));
    report("waitpid(-1, WNOHANG) with no children", waitpid(-1, &st, WNOHANG));
}

/* A child forks a grandchild and exits; the orphan must be re-parented to the
 * reaper and reaped by it. Natively PR_SET_CHILD_SUBREAPER makes this program
 * the reaper; in the sandbox the program is pid 1 and is the reaper anyway. */
static void orphan(char **argv)
{
    (void)argv;
    report("prctl PR_SET_CHILD_SUBREAPER", prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
    int release[2], answer[2];
    must(pipe(release) == 0 && pipe(answer) == 0, "pipe");
    pid_t me = getpid();
    pid_t child = fork();
    must(child >= 0, "fork");
    if (child == 0) {
        pid_t gc = fork();
        if (gc == 0) {
            close(release[1]);
            close(answer[0]);
            await_byte(release[0]); /* the middle process has been reaped by now */
            send_byte(answer[1], getppid() == me ? 'y' : 'n');
            _exit(5);
        }
        _exit(gc > 0 ? 0 : 1);
    }
    close(release[0]);
    close(answer[1]);
    report_wait("middle child", child);
    send_byte(release[1], 1);
    int a = await_byte(answer[0]);
    printf("orphan's parent is now the reaper: %s\n", a == 'y' ? "yes" : a == 'n' ? "no" : "no answer");
    int st;
    pid_t r = wait(&st);
    printf("orphan reaped: %s\n", r > 0 ? describe_status(st) : errname(errno));
    printf("then wait: %s\n", wait(&st) > 0 ? "another child" : errname(errno));
}

/* vfork suspends the parent until the child execs or exits, and shares memory. */
static void vfork_exec(char **argv)
{
    (void)argv;
    pid_t c = vfork();
    if (c == 0) {
        char *args[] = { "/bin/echo", "echo run by a vfork child", NULL };
        execve(args[0], args, environ);
        _exit(127);
    }
    report_wait("vfork + exec /bin/echo", c);

    c = vfork();
    if (c == 0) {
        char *args[] = { "/nonexistent/program", NULL };
        execve(args[0], args, environ);
        _exit(errno == ENOENT ? 42 : 43);
    }
    report_wait("vfork + exec of a missing file", c);

    static volatile int shared;
    c = vfork();
    if (c == 0) {
        shared = 11; /* visible to the parent: the address space is shared */
        _exit(0);
    }
    report_wait("vfork child that only stores", c);
    yesno("store by the vfork child seen by the parent", shared == 11);

    /* posix_spawn: glibc and musl use clone(CLONE_VM|CLONE_VFORK) on a separate stack. */
    char *args[] = { "/bin/echo", "echo run by posix_spawn", NULL };
    pid_t sp;
    int e = posix_spawn(&sp, args[0], NULL, NULL, args, environ);
    /* Reported after the wait: the parent resumes while echo may still be writing. */
    if (e == 0)
        report_wait("posix_spawn /bin/echo", sp);
    else
        printf("posix_spawn /bin/echo: %s\n", errname(e));
    char *missing[] = { "/nonexistent/program", NULL };
    e = posix_spawn(&sp, missing[0], NULL, NULL, missing, environ);
    /* glibc reports the exec failure as the return value; musl too (via a pipe). */
    printf("posix_spawn of a missing file: %s\n", e == 0 ? "ok" : errname(e));
    if (e == 0)
        report_wait("posix_spawn child of a missing file", sp);
}

static const char *cld_code(int c)
{
    switch (c) {
    case CLD_EXITED: return "CLD_EXITED";
    case CLD_KILLED: return "CLD_KILLED";
    case CLD_DUMPED: return "CLD_DUMPED";
    case CLD_STOPPED: return "CLD_STOPPED";
    case CLD_CONTINUED: return "CLD_CONTINUED";
    default: return "other";
    }
}

/* Job control: SIGSTOP/SIGTSTP stop a child (reported by WUNTRACED and waitid WSTOPPED),
 * SIGCONT resumes it (WCONTINUED), and it can still be killed or exit afterwards. */
static void job_control(char **argv)
{
    (void)argv;
    int st;
    pid_t p = fork();
    if (p == 0) { for (;;) pause(); }
    kill(p, SIGSTOP);
    waitpid(p, &st, WUNTRACED);
    printf("stopped by SIGSTOP: %d, signal %d\n", WIFSTOPPED(st), WSTOPSIG(st));
    kill(p, SIGCONT);
    waitpid(p, &st, WCONTINUED);
    printf("continued: %d\n", WIFCONTINUED(st));
    kill(p, SIGTERM);
    waitpid(p, &st, 0);
    printf("then killed by SIGTERM: %d, signal %d\n", WIFSIGNALED(st), WTERMSIG(st));
    siginfo_t si;
    pid_t q = fork();
    if (q == 0) { raise(SIGTSTP); _exit(4); }
    waitid(P_PID, q, &si, WSTOPPED);
    printf("waitid WSTOPPED: code %d, status %d\n", si.si_code, si.si_status);
    kill(q, SIGCONT);
    waitid(P_PID, q, &si, WEXITED);
    printf("exit after continue: code %d, status %d\n", si.si_code, si.si_status);
}

static void print_waitid(const char *label, int r, siginfo_t *si, pid_t expect)
{
    if (r < 0)
        printf("%s: %s\n", label, errname(errno));
    else if (si->si_pid == 0)
        printf("%s: ok, nothing to report\n", label);
    else
    {
        char what[32];
        if (si->si_code == CLD_EXITED)
            snprintf(what, sizeof what, "%d", si->si_status);
        else
            snprintf(what, sizeof what, "%s", signame(si->si_status));
        printf("%s: ok, %s %s, pid %s\n", label, cld_code(si->si_code), what,
               si->si_pid == expect ? "matches" : "differs");
    }
}

static void waitid_modes(char **argv)
{
    (void)argv;
    int gate[2];
    must(pipe(gate) == 0, "pipe");
    pid_t c = fork();
    if (c == 0) {
        close(gate[1]);
        await_byte(gate[0]);
        _exit(3);
    }
    close(gate[0]);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    print_waitid("waitid WNOHANG on a running child", waitid(P_PID, c, &si, WEXITED | WNOHANG), &si, c);
    close(gate[1]);
    memset(&si, 0, sizeof si);
    print_waitid("waitid WNOWAIT after exit", waitid(P_PID, c, &si, WEXITED | WNOWAIT), &si, c);
    memset(&si, 0, sizeof si);
    print_waitid("waitid P_ALL WNOHANG finds the zombie again", waitid(P_ALL, 0, &si, WEXITED | WNOHANG), &si, c);
    memset(&si, 0, sizeof si);
    print_waitid("waitid after reaping", waitid(P_PID, c, &si, WEXITED | WNOHANG), &si, c);

    c = fork();
    if (c == 0)
        for (;;)
            pause();
    must(kill(c, SIGKILL) == 0, "kill");
    memset(&si, 0, sizeof si);
    print_waitid("waitid on a SIGKILLed child", waitid(P_PID, c, &si, WEXITED), &si, c);

    /* P_PGID: a child in its own process group, found by group id. */
    c = fork();
    if (c == 0) {
        setpgid(0, 0);
        _exit(4);
    }
    setpgid(c, c); /* both sides set it, so neither order races */
    memset(&si, 0, sizeof si);
    print_waitid("waitid P_PGID", waitid(P_PGID, c, &si, WEXITED), &si, c);
    int st;
    report("wait4 WNOHANG with no children", wait4(-1, &st, WNOHANG, NULL));
}

static volatile sig_atomic_t last_signal;
static void note_signal(int s) { last_signal = s; }

static void install(int sig, void (*h)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h;
    sigemptyset(&sa.sa_mask);
    must(sigaction(sig, &sa, NULL) == 0, "sigaction");
}

/* Parent and child signal each other; then a whole process group is signalled. */
static void kill_modes(char **argv)
{
    (void)argv;
    sigset_t block, open;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigaddset(&block, SIGUSR2);
    sigaddset(&block, SIGTERM);
    must(sigprocmask(SIG_BLOCK, &block, &open) == 0, "sigprocmask");
    install(SIGUSR1, note_signal);
    install(SIGUSR2, note_signal);

    pid_t c = fork();
    if (c == 0) {
        /* SIGUSR1 stays pending while blocked, so it cannot be lost before sigsuspend. */
        while (last_signal != SIGUSR1)
            sigsuspend(&open);
        kill(getppid(), SIGUSR2);
        for (;;)
            sigsuspend(&open); /* SIGTERM: default action ends the child */
    }
    must(kill(c, SIGUSR1) == 0, "kill SIGUSR1");
    while (last_signal != SIGUSR2)
        sigsuspend(&open);
    printf("parent got SIGUSR2 back from the child: yes\n");
    report("kill(child, 0) while alive", kill(c, 0));
    report("kill(child, SIGTERM)", kill(c, SIGTERM));
    report_wait("child after SIGTERM", c);
    report("kill(reaped child, 0)", kill(c, 0));

    /* kill(-pgid): the child leads a group holding it and a grandchild. */
    int ready[2];
    must(pipe(ready) == 0, "pipe");
    c = fork();
    if (c == 0) {
        setpgid(0, 0);
        int gready[2];
        must(pipe(gready) == 0, "pipe");
        pid_t gc = fork();
        if (gc == 0) {
            sigprocmask(SIG_SETMASK, &open, NULL); /* default SIGTERM, unblocked */
            send_byte(gready[1], 1);
            for (;;)
                pause();
        }
        await_byte(gready[0]);
        install(SIGTERM, note_signal); /* the leader survives to report */
        send_byte(ready[1], 1);
        while (last_signal != SIGTERM)
            sigsuspend(&open);
        int st;
        waitpid(gc, &st, 0);
        _exit(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM ? 20 : 21);
    }
    setpgid(c, c);
    await_byte(ready[0]);
    report("kill(-pgid, SIGTERM)", kill(-c, SIGTERM));
    report_wait("group leader (20 = its child died of SIGTERM too)", c);
}

static volatile sig_atomic_t chld_calls, chld_reaped, chld_sum, chld_codes_ok = 1;
static void on_sigchld(int s, siginfo_t *si, void *uc)
{
    (void)s;
    (void)uc;
    int saved = errno, st;
    chld_calls++;
    if (si->si_code != CLD_EXITED)
        chld_codes_ok = 0;
    while (waitpid(-1, &st, WNOHANG) > 0) {
        chld_reaped++;
        chld_sum += WEXITSTATUS(st);
    }
    errno = saved;
}

/* One SIGCHLD per child when children exit one at a time; SIG_IGN auto-reaps. */
static void sigchld(char **argv)
{
    (void)argv;
    sigset_t block, open;
    sigemptyset(&block);
    sigaddset(&block, SIGCHLD);
    must(sigprocmask(SIG_BLOCK, &block, &open) == 0, "sigprocmask");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigchld;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    must(sigaction(SIGCHLD, &sa, NULL) == 0, "sigaction");
    for (int i = 1; i <= 5; i++) {
        pid_t c = fork();
        must(c >= 0, "fork");
        if (c == 0)
            _exit(i);
        while (chld_reaped < i)
            sigsuspend(&open);
    }
    printf("SIGCHLD handler calls: %d, children reaped: %d, status sum: %d\n",
           (int)chld_calls, (int)chld_reaped, (int)chld_sum);
    yesno("every SIGCHLD had si_code CLD_EXITED", chld_codes_ok);

    /* SIGCHLD ignored: children never become zombies, wait blocks until all are gone. */
    signal(SIGCHLD, SIG_IGN);
    sigprocmask(SIG_SETMASK, &open, NULL);
    for (int i = 0; i < 3; i++)
        if (fork() == 0)
            _exit(1);
    int st;
    report("wait with SIGCHLD ignored", wait(&st));
}

int main(int argc, char **argv)
{
    static const struct mode modes[] = {
        { "nproc", nproc },
        { "zombies", zombies },
        { "orphan", orphan },
        { "vfork", vfork_exec },
        { "waitid", waitid_modes },
        { "kill", kill_modes },
        { "sigchld", sigchld },
        { "job_control", job_control },
        { NULL, NULL },
    };
    return run_mode(modes, argc, argv);
}
