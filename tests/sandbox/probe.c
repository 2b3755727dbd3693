/* A static program for tests/integration/test_sandbox.sh, run by cella's
 * kernel at the sandbox level (built with musl-gcc -static):
 *   probe hello             writes "hello from the sandbox"
 *   probe exit N            exits with N
 *   probe rawpid            getpid and gettid by a raw `syscall` instruction
 *   probe enosys            ptrace(PTRACE_TRACEME): the errno it gets
 *   probe cat PATH          the file's contents, or "PATH: <error>"
 *   probe memory            brk, mmap, munmap and mprotect exercised
 *   probe uname             nodename and sysname
 *   probe ids               uid gid
 *   probe partial PATH      read(2) of 100 bytes into a buffer with 5 mapped
 *   probe exec PATH ARGS..  execv, or "exec: <error>"
 *   probe stub              reaches for the stub region (0x300000000000): map,
 *                           unmap, mprotect refused; its context page
 *                           scribbled over between system calls
 *   probe sleep             nanosleep(50 ms): did it last that long?
 *   probe time              the time syscall against clock_gettime's seconds
 *   probe kill              a forked child asleep is killed with SIGTERM, then
 *                           the probe kills itself with SIGUSR1
 *   probe segv              writes to address 0
 *   probe spin              makes system calls until killed */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <signal.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

static long raw_syscall0(long nr)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr) : "rcx", "r11", "memory");
    return ret;
}

static int cat(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        printf("%s: %s\n", path, strerror(errno));
        return 1;
    }
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        fwrite(buf, 1, (size_t)n, stdout);
    close(fd);
    return 0;
}

#define STUB_BASE 0x300000000000UL
#define CONTEXT   (STUB_BASE + 0x10000)

static int stub(void)
{
    void *m = mmap((void *)STUB_BASE, 4096, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("mmap over the stub: %s\n", m == MAP_FAILED ? strerror(errno) : "mapped");
    printf("munmap of the context: %s\n",
           munmap((void *)CONTEXT, 4096) ? strerror(errno) : "unmapped");
    printf("mprotect of the code: %s\n",
           mprotect((void *)STUB_BASE, 4096, PROT_READ | PROT_WRITE | PROT_EXEC) ? strerror(errno)
                                                                                 : "changed");
    /* The context page is the workload's to write: the kernel reads each
     * trap's fields afresh and trusts none of them. */
    int bad = 0;
    for (int i = 0; i < 1000; i++) {
        memset((void *)CONTEXT, i & 1 ? 0xff : 0x01, 256);
        if (raw_syscall0(SYS_getpid) != 1)
            bad++;
    }
    printf("getpid after scribbling: %d wrong of 1000\n", bad);
    return 0;
}

static int memory(void)
{
    /* malloc of many small blocks (brk) and a large one (mmap) */
    char *small[1000];
    for (int i = 0; i < 1000; i++) {
        small[i] = malloc(100);
        memset(small[i], i & 0xff, 100);
    }
    for (int i = 0; i < 1000; i++)
        if (small[i][99] != (char)(i & 0xff))
            return printf("small block %d corrupt\n", i), 1;
    size_t len = 8 << 20;
    char *big = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (big == MAP_FAILED)
        return printf("mmap: %s\n", strerror(errno)), 1;
    memset(big, 7, len);
    if (mprotect(big, 4096, PROT_READ) != 0)
        return printf("mprotect: %s\n", strerror(errno)), 1;
    if (munmap(big + 4096, len - 4096) != 0)
        return printf("munmap: %s\n", strerror(errno)), 1;
    if (big[100] != 7)
        return printf("mapping lost its contents\n"), 1;
    printf("memory ok\n");
    return 0;
}

static volatile sig_atomic_t sig_order[8], sig_n;
static volatile int sig_code, sig_pid;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    sig_order[sig_n++ & 7] = sig;
    sig_code = si->si_code;
    sig_pid = si->si_pid;
    if (sig == SIGUSR1) /* USR2 is in sa_mask: pending until this returns */
        kill(getpid(), SIGUSR2), sig_order[sig_n++ & 7] = -sig;
}

/* A forged frame: IOPL 3 in the flags to restore (Linux keeps it 0). */
static void on_tamper(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)si;
    ((ucontext_t *)uc)->uc_mcontext.gregs[REG_EFL] |= 0x3000;
}

static int restart_pipe[2];

static void on_usr1_note(int sig)
{
    (void)sig;
    if (write(restart_pipe[1], "h", 1) != 1)
        _exit(9);
}

/* A blocking read interrupted by a handler with SA_RESTART is made again:
 * the child signals the parent (parked in read, or about to be), waits for
 * the handler's note, then writes what the read gets. */
static int restart(void)
{
    int data[2];
    if (pipe(data) < 0 || pipe(restart_pipe) < 0)
        return 1;
    struct sigaction sa = {.sa_handler = on_usr1_note, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    pid_t c = fork();
    if (c == 0) {
        char h;
        kill(getppid(), SIGUSR1);
        if (read(restart_pipe[0], &h, 1) != 1 || write(data[1], "x", 1) != 1)
            _exit(1);
        _exit(0);
    }
    char buf[4];
    long r = read(data[0], buf, sizeof(buf));
    int st;
    waitpid(c, &st, 0);
    printf("SA_RESTART: read %ld%s, child %d\n", r, r < 0 ? strerror(errno) : "", WEXITSTATUS(st));
    return 0;
}

static void on_usr1_exit(int sig)
{
    (void)sig;
    _exit(5);
}

/* Handlers, masks, sigsuspend, sigtimedwait, SIGCHLD: one line each. */
static int signals(void)
{
    struct sigaction sa = {.sa_sigaction = on_signal, .sa_flags = SA_SIGINFO};
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    sigaction(SIGUSR1, &sa, NULL);
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR2, &sa, NULL);
    sigaction(SIGCHLD, &sa, NULL);
    volatile long kept = 0x1234567;
    kill(getpid(), SIGUSR1);
    printf("handler: order %d %d %d, si_code %d, si_pid %s, registers %s\n", sig_order[0],
           sig_order[1], sig_order[2], sig_code, sig_pid == getpid() ? "self" : "other",
           kept == 0x1234567 ? "kept" : "lost");
    sigset_t chld, old;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &old);
    sig_n = 0;
    pid_t c = fork();
    if (c == 0)
        _exit(3);
    while (sig_n == 0)
        sigsuspend(&old);
    int st;
    waitpid(c, &st, 0);
    printf("sigsuspend: SIGCHLD %s, CLD_EXITED %s, status %d\n",
           sig_order[0] == SIGCHLD ? "caught" : "missed", sig_code == CLD_EXITED ? "yes" : "no",
           WEXITSTATUS(st));
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    sigprocmask(SIG_BLOCK, &usr2, NULL);
    struct timespec zero = {0, 0};
    int none = sigtimedwait(&usr2, NULL, &zero), e = errno;
    kill(getpid(), SIGUSR2);
    siginfo_t si;
    int got = sigtimedwait(&usr2, &si, NULL);
    printf("sigtimedwait: nothing %s, then %s\n", none < 0 && e == EAGAIN ? "EAGAIN" : "wrong",
           got == SIGUSR2 && si.si_pid == getpid() ? "SIGUSR2 from self" : "wrong");
    sa.sa_sigaction = on_tamper;
    sigaction(SIGUSR2, &sa, NULL);
    sigprocmask(SIG_UNBLOCK, &usr2, NULL);
    kill(getpid(), SIGUSR2);
    unsigned long fl;
    __asm__ volatile("pushf; pop %0" : "=r"(fl));
    printf("a forged frame: IOPL %lu\n", (fl >> 12) & 3);
    signal(SIGUSR1, on_usr1_exit);
    c = fork();
    if (c == 0) {
        pause();
        _exit(1);
    }
    kill(c, SIGUSR1);
    waitpid(c, &st, 0);
    printf("a child's handler: exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "hello";
    if (strcmp(cmd, "hello") == 0) {
        printf("hello from the sandbox\n");
    } else if (strcmp(cmd, "exit") == 0 && argc > 2) {
        return atoi(argv[2]);
    } else if (strcmp(cmd, "rawpid") == 0) {
        printf("pid %ld tid %ld\n", raw_syscall0(SYS_getpid), raw_syscall0(SYS_gettid));
    } else if (strcmp(cmd, "enosys") == 0) {
        long r = ptrace(PTRACE_TRACEME, 0, NULL, NULL);
        printf("ptrace: %ld %s\n", r, r < 0 ? strerror(errno) : "allowed");
    } else if (strcmp(cmd, "cat") == 0 && argc > 2) {
        return cat(argv[2]);
    } else if (strcmp(cmd, "memory") == 0) {
        return memory();
    } else if (strcmp(cmd, "uname") == 0) {
        struct utsname u;
        uname(&u);
        printf("%s %s\n", u.sysname, u.nodename);
    } else if (strcmp(cmd, "partial") == 0 && argc > 2) {
        char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        munmap(p + 4096, 4096);
        int fd = open(argv[2], O_RDONLY);
        long r = read(fd, p + 4096 - 5, 100);
        long e = read(fd, p + 4096, 100);
        printf("read %ld, then %ld %s\n", r, e, e < 0 ? strerror(errno) : "");
    } else if (strcmp(cmd, "exec") == 0 && argc > 2) {
        execv(argv[2], argv + 2);
        printf("exec: %s\n", strerror(errno));
        return 1;
    } else if (strcmp(cmd, "stub") == 0) {
        return stub();
    } else if (strcmp(cmd, "sleep") == 0) {
        struct timespec a, b, d = {0, 50000000};
        clock_gettime(CLOCK_MONOTONIC, &a);
        int r = nanosleep(&d, NULL);
        clock_gettime(CLOCK_MONOTONIC, &b);
        long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
        printf("nanosleep %d, %s\n", r, ms >= 50 ? "at least 50 ms" : "too short");
    } else if (strcmp(cmd, "time") == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        long t = syscall(SYS_time, NULL);
        printf("time %s\n", t >= ts.tv_sec && t <= ts.tv_sec + 5 ? "agrees" : "wrong");
    } else if (strcmp(cmd, "kill") == 0) {
        pid_t child = fork();
        if (child == 0) {
            struct timespec d = {10, 0};
            nanosleep(&d, NULL);
            _exit(0);
        }
        int st = 0;
        printf("kill: %d, ", kill(child, SIGTERM));
        const char *reaped = waitpid(child, &st, 0) == child ? "reaped" : "lost";
        printf("wait: %s %d\n", reaped, WIFSIGNALED(st) ? WTERMSIG(st) : -1);
        fflush(stdout);
        kill(getpid(), SIGUSR1);
        printf("still here\n");
    } else if (strcmp(cmd, "restart") == 0) {
        return restart();
    } else if (strcmp(cmd, "signals") == 0) {
        return signals();
    } else if (strcmp(cmd, "families") == 0) {
        /* A Unix socket would name host paths; netlink reaches the host's
         * network configuration: neither is the sandbox's. */
        static const int fam[] = {AF_INET, AF_INET6, AF_UNIX, AF_NETLINK};
        static const char *const name[] = {"inet", "inet6", "unix", "netlink"};
        for (int i = 0; i < 4; i++) {
            int fd = socket(fam[i], SOCK_STREAM, 0);
            printf("%s: %s\n", name[i], fd >= 0 ? "ok" : strerror(errno));
        }
    } else if (strcmp(cmd, "segv") == 0) {
        *(volatile int *)0 = 1;
    } else if (strcmp(cmd, "spin") == 0) {
        printf("spinning\n");
        fflush(stdout);
        for (;;)
            raw_syscall0(SYS_getpid);
    } else if (strcmp(cmd, "ids") == 0) {
        printf("%d %d\n", (int)getuid(), (int)getgid());
    } else {
        fprintf(stderr, "probe: unknown command %s\n", cmd);
        return 2;
    }
    return 0;
}
