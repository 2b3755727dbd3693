/* A static program for the sandbox level's signal tests
 * (tests/integration/test_sandbox_signals2.sh): each command prints lines
 * that must be the same on the host's Linux and in the sandbox.
 *   signalfd  eventfd  timerfd  faults  altstack
 *   fpu       a loop on doubles interrupted by signals from its parent
 *   spin      wait for SIGUSR1 in a loop without system calls (from outside)
 *   spinchild the same in a child, signalled by its parent
 *   sfdwait   read SIGTERM from a signalfd (sent from outside) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <fenv.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *err(long r)
{
    return r < 0 ? strerror(errno) : "ok";
}

static int readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0);
}

static int sigfd(void)
{
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGUSR1);
    sigaddset(&m, SIGCHLD);
    sigprocmask(SIG_BLOCK, &m, NULL);
    int fd = signalfd(-1, &m, SFD_CLOEXEC);
    printf("signalfd: %s, cloexec %d\n", err(fd), fcntl(fd, F_GETFD) & FD_CLOEXEC);
    printf("readable with nothing pending: %d\n", readable(fd));
    kill(getpid(), SIGUSR1);
    printf("readable after kill USR1: %d\n", readable(fd));
    struct signalfd_siginfo si;
    long n = read(fd, &si, sizeof(si));
    printf("read %ld: signo %u code %d from self %d\n", n, si.ssi_signo, si.ssi_code,
           (pid_t)si.ssi_pid == getpid());
    printf("readable after the read: %d\n", readable(fd));
    printf("short buffer: %s\n", err(read(fd, &si, 10)));
    /* A blocking read parks until the child's end. */
    pid_t c = fork();
    if (c == 0)
        _exit(3);
    n = read(fd, &si, sizeof(si));
    printf("read %ld: signo %u code %d status %d from the child %d\n", n, si.ssi_signo, si.ssi_code,
           si.ssi_status, (pid_t)si.ssi_pid == c);
    waitpid(c, NULL, 0);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 42}, got = {0};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    printf("epoll before: %d\n", epoll_wait(ep, &got, 1, 0));
    raise(SIGUSR1);
    n = epoll_wait(ep, &got, 1, -1);
    printf("epoll after raise: %ld data %llu\n", n, (unsigned long long)got.data.u64);
    /* A new mask without USR1: it stays pending, not readable. */
    sigset_t only_chld;
    sigemptyset(&only_chld);
    sigaddset(&only_chld, SIGCHLD);
    printf("signalfd(fd, CHLD): %d\n", signalfd(fd, &only_chld, 0) == fd);
    printf("readable without USR1 in the mask: %d\n", readable(fd));
    int nb = signalfd(-1, &only_chld, SFD_NONBLOCK);
    printf("nonblocking, nothing: %s\n", err(read(nb, &si, sizeof(si))));
    printf("bad flags: %s\n", err(signalfd(-1, &m, 0x4)));
    printf("not a signalfd: %s\n", err(signalfd(ep, &m, 0)));
    sigset_t pend;
    sigpending(&pend);
    printf("USR1 still pending: %d\n", sigismember(&pend, SIGUSR1));
    return 0;
}

static int evfd(void)
{
    uint64_t v = 0;
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    printf("eventfd: %s, cloexec %d\n", err(fd), fcntl(fd, F_GETFD) & FD_CLOEXEC);
    printf("empty read: %s\n", err(read(fd, &v, 8)));
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
    poll(&p, 1, 0);
    printf("poll empty: in %d out %d\n", !!(p.revents & POLLIN), !!(p.revents & POLLOUT));
    v = 3;
    write(fd, &v, 8);
    v = 4;
    write(fd, &v, 8);
    poll(&p, 1, 0);
    printf("poll after writes: in %d\n", !!(p.revents & POLLIN));
    long n = read(fd, &v, 8);
    printf("read %ld: %llu\n", n, (unsigned long long)v);
    printf("short read: %s\n", err(read(fd, &v, 4)));
    v = UINT64_MAX;
    printf("write 2^64-1: %s\n", err(write(fd, &v, 8)));
    int sem = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
    for (int i = 0; i < 3; i++) {
        n = read(sem, &v, 8);
        printf("semaphore read: %s %llu\n", err(n), n < 0 ? 0ULL : (unsigned long long)v);
    }
    printf("bad flags: %s\n", err(eventfd(0, 0x10)));
    /* Blocking: a read parks until the child writes; epoll sees it. */
    int b = eventfd(0, 0);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 7}, got = {0};
    epoll_ctl(ep, EPOLL_CTL_ADD, b, &ev);
    printf("epoll empty: %d\n", epoll_wait(ep, &got, 1, 0));
    pid_t c = fork();
    if (c == 0) {
        v = 9;
        write(b, &v, 8);
        _exit(0);
    }
    n = epoll_wait(ep, &got, 1, -1);
    printf("epoll: %ld data %llu\n", n, (unsigned long long)got.data.u64);
    n = read(b, &v, 8);
    printf("blocking read %ld: %llu\n", n, (unsigned long long)v);
    waitpid(c, NULL, 0);
    return 0;
}

static long long ns(struct timespec t)
{
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int tmfd(void)
{
    uint64_t v = 0;
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    printf("timerfd: %s, cloexec %d\n", err(fd), fcntl(fd, F_GETFD) & FD_CLOEXEC);
    struct itimerspec it = {.it_value = {0, 10000000}, .it_interval = {0, 10000000}}, cur;
    printf("settime: %s\n", err(timerfd_settime(fd, 0, &it, NULL)));
    timerfd_gettime(fd, &cur);
    printf("gettime: interval %lld ns, value within it %d\n", ns(cur.it_interval),
           ns(cur.it_value) > 0 && ns(cur.it_value) <= 10000000);
    long n = read(fd, &v, 8);
    printf("blocking read %ld: expirations >= 1 %d\n", n, v >= 1);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 5}, got = {0};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    n = epoll_wait(ep, &got, 1, -1);
    printf("epoll: %ld data %llu\n", n, (unsigned long long)got.data.u64);
    struct itimerspec off = {0}, old;
    timerfd_settime(fd, 0, &off, &old);
    printf("disarmed, old interval %lld ns\n", ns(old.it_interval));
    timerfd_gettime(fd, &cur);
    printf("gettime disarmed: %lld %lld\n", ns(cur.it_value), ns(cur.it_interval));
    int nb = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
    printf("nonblocking, unarmed: %s\n", err(read(nb, &v, 8)));
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    now.tv_nsec += 20000000;
    if (now.tv_nsec >= 1000000000) {
        now.tv_sec++;
        now.tv_nsec -= 1000000000;
    }
    struct itimerspec at = {.it_value = now};
    printf("abstime: %s\n", err(timerfd_settime(nb, TFD_TIMER_ABSTIME, &at, NULL)));
    struct pollfd p = {.fd = nb, .events = POLLIN};
    n = poll(&p, 1, -1);
    n = read(nb, &v, 8);
    printf("abstime read %ld: %llu\n", n, (unsigned long long)v);
    printf("bad clock: %s\n", err(timerfd_create(12345, 0)));
    printf("bad flags: %s\n", err(timerfd_create(CLOCK_MONOTONIC, 0x1)));
    int e = eventfd(0, 0);
    printf("settime on an eventfd: %s\n", err(timerfd_settime(e, 0, &it, NULL)));
    struct itimerspec bad = {.it_value = {0, 1000000000}};
    printf("bad nsec: %s\n", err(timerfd_settime(fd, 0, &bad, NULL)));
    printf("bad settime flags: %s\n", err(timerfd_settime(fd, 0x10, &it, NULL)));
    return 0;
}

static int sfdwait(void)
{
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGTERM);
    sigprocmask(SIG_BLOCK, &m, NULL);
    int fd = signalfd(-1, &m, 0);
    printf("ready\n");
    fflush(stdout);
    struct signalfd_siginfo si;
    long n = read(fd, &si, sizeof(si));
    printf("read %ld: signo %u code %d pid %u\n", n, si.ssi_signo, si.ssi_code, si.ssi_pid);
    return 0;
}

static volatile sig_atomic_t usr1;

static void on_usr1_print(int sig)
{
    (void)sig;
    static const char msg[] = "USR1 handled in the loop\n";
    write(1, msg, sizeof(msg) - 1);
    _exit(5);
}

/* A loop that makes no system call: only an interrupt delivers the signal.
 * Bounded (some seconds), so that a signal never delivered is a failure,
 * not a test that hangs. */
#define SPINS 1000000000UL

static void spin(void)
{
    for (volatile unsigned long n = 0; n < SPINS; n++)
        ;
    static const char msg[] = "the loop ended: no signal came\n";
    write(1, msg, sizeof(msg) - 1);
    _exit(9);
}

static void spin_until_usr1(void)
{
    struct sigaction sa = {.sa_handler = on_usr1_print};
    sigaction(SIGUSR1, &sa, NULL);
    printf("ready\n");
    spin();
}

static int spinchild(void)
{
    int p[2];
    pipe(p);
    pid_t c = fork();
    if (c == 0) {
        struct sigaction sa = {.sa_handler = on_usr1_print};
        sigaction(SIGUSR1, &sa, NULL);
        close(p[0]);
        close(p[1]); /* the parent's read sees the end: the handler is set */
        spin();
    }
    close(p[1]);
    char b;
    read(p[0], &b, 1);
    kill(c, SIGUSR1);
    int st;
    waitpid(c, &st, 0);
    printf("child: exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}

static sigjmp_buf jump;
static volatile int fault_code;
static void *volatile fault_addr;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    fault_code = si->si_code;
    fault_addr = si->si_addr;
    siglongjmp(jump, sig);
}

static int faults(void)
{
    struct sigaction sa = {.sa_sigaction = on_fault, .sa_flags = SA_SIGINFO};
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
    sigaction(SIGILL, &sa, NULL);
    sigaction(SIGTRAP, &sa, NULL);
    int sig = sigsetjmp(jump, 1);
    if (sig == 0)
        *(volatile int *)0 = 1;
    printf("null store: signal %d code %d addr %p\n", sig, fault_code, fault_addr);
    static char page[2 * 4096] __attribute__((aligned(4096)));
    mprotect(page, 4096, PROT_READ);
    if ((sig = sigsetjmp(jump, 1)) == 0)
        page[100] = 1;
    printf("read-only store: signal %d code %d at the byte %d\n", sig, fault_code,
           fault_addr == page + 100);
    volatile int zero = 0;
    if ((sig = sigsetjmp(jump, 1)) == 0) {
        int a = 7, d;
        __asm__ volatile("cltd\n idivl %2" : "+a"(a), "=&d"(d) : "r"((int)zero));
    }
    printf("divide by zero: signal %d code %d\n", sig, fault_code);
    if ((sig = sigsetjmp(jump, 1)) == 0)
        __asm__ volatile("ud2");
    printf("ud2: signal %d code %d\n", sig, fault_code);
    if ((sig = sigsetjmp(jump, 1)) == 0)
        __asm__ volatile("int3");
    printf("int3: signal %d code %d\n", sig, fault_code);
    /* Blocked: the default action, whatever the handler. */
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGSEGV);
    sigprocmask(SIG_BLOCK, &m, NULL);
    fflush(stdout);
    int *volatile bad = (int *)8;
    *bad = 1;
    printf("not reached\n");
    return 0;
}

static char alt[65536] __attribute__((aligned(16)));
static volatile int on_alt, alt_eperm, alt_flags;

static void on_alt_usr1(int sig)
{
    (void)sig;
    char here;
    on_alt = &here >= alt && &here < alt + sizeof(alt);
    stack_t cur, other = {.ss_sp = alt, .ss_size = sizeof(alt)};
    sigaltstack(NULL, &cur);
    alt_flags = cur.ss_flags;
    alt_eperm = sigaltstack(&other, NULL) < 0 ? errno : 0;
}

static int altstack(void)
{
    stack_t ss = {.ss_sp = alt, .ss_size = sizeof(alt)}, old;
    long r = sigaltstack(NULL, &old);
    printf("before: %s flags %d\n", err(r), old.ss_flags);
    printf("set: %s\n", err(sigaltstack(&ss, NULL)));
    struct sigaction sa = {.sa_handler = on_alt_usr1, .sa_flags = SA_ONSTACK};
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    printf("handler on the alternate stack %d, flags there %d (SS_ONSTACK %d), changing it: %s\n",
           on_alt, alt_flags, SS_ONSTACK, strerror(alt_eperm));
    sigaltstack(NULL, &old);
    printf("after: flags %d size %zu same %d\n", old.ss_flags, old.ss_size, old.ss_sp == alt);
    sa.sa_flags = 0;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    printf("without SA_ONSTACK: on it %d\n", on_alt);
    stack_t small = {.ss_sp = alt, .ss_size = 1024};
    printf("too small: %s\n", err(sigaltstack(&small, NULL)));
    stack_t bad = {.ss_sp = alt, .ss_size = sizeof(alt), .ss_flags = 0x10};
    printf("bad flags: %s\n", err(sigaltstack(&bad, NULL)));
    stack_t off = {.ss_flags = SS_DISABLE};
    printf("disable: %s\n", err(sigaltstack(&off, NULL)));
    sigaltstack(NULL, &old);
    printf("disabled: flags %d size %zu\n", old.ss_flags, old.ss_size);
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    printf("SA_ONSTACK without one: on it %d\n", on_alt);
    return 0;
}

/* The handler clobbers every vector register; the loop keeps its sums in
 * them. Linux saves and restores them around the handler. */
static void on_usr1_clobber(int sig)
{
    (void)sig;
    usr1++;
    __asm__ volatile("pcmpeqd %%xmm0, %%xmm0\n movaps %%xmm0, %%xmm1\n movaps %%xmm0, %%xmm2\n"
                     "movaps %%xmm0, %%xmm3\n movaps %%xmm0, %%xmm4\n movaps %%xmm0, %%xmm5\n"
                     "movaps %%xmm0, %%xmm6\n movaps %%xmm0, %%xmm7\n movaps %%xmm0, %%xmm8\n"
                     "movaps %%xmm0, %%xmm9\n movaps %%xmm0, %%xmm10\n movaps %%xmm0, %%xmm11\n"
                     "movaps %%xmm0, %%xmm12\n movaps %%xmm0, %%xmm13\n movaps %%xmm0, %%xmm14\n"
                     "movaps %%xmm0, %%xmm15\n" ::
                         : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
                           "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

static int fpu(void)
{
    int p[2];
    pipe(p);
    pid_t c = fork();
    if (c == 0) {
        struct sigaction sa = {.sa_handler = on_usr1_clobber};
        sigaction(SIGUSR1, &sa, NULL);
        close(p[0]);
        close(p[1]);
        double x = 0, y = 0;
        unsigned long n = 0;
        while (usr1 < 20 && n < SPINS / 4) {
            __asm__ volatile("addsd %2, %0\n addsd %2, %1" : "+x"(x), "+x"(y) : "x"(1.0));
            n++;
        }
        _exit(usr1 < 20 ? 2 : x == (double)n && y == (double)n ? 0 : 1);
    }
    close(p[1]);
    char b;
    read(p[0], &b, 1);
    int st;
    struct timespec ms = {0, 1000000};
    while (waitpid(c, &st, WNOHANG) == 0) {
        kill(c, SIGUSR1);
        nanosleep(&ms, NULL);
    }
    printf("doubles across 20 signals: %s\n", !WIFEXITED(st)         ? "killed"
                                              : WEXITSTATUS(st) == 0 ? "kept"
                                              : WEXITSTATUS(st) == 1 ? "lost"
                                                                     : "no signals");
    return 0;
}

static volatile sig_atomic_t got_usr1;

static void on_usr1_note(int sig)
{
    (void)sig;
    got_usr1 = 1;
}

static pid_t sleeper(void)
{
    pid_t c = fork();
    if (c == 0) {
        for (;;)
            pause();
    }
    return c;
}

/* In a child that makes a session of its own (on the host the probe may
 * lead a group already, in the sandbox it is the session's leader). */
static int pgrp(void)
{
    pid_t c = fork();
    if (c == 0) {
        printf("setsid: %d\n", setsid() == getpid());
        printf("getsid %d getpgrp %d getpgid %d\n", getsid(0) == getpid(), getpgrp() == getpid(),
               getpgid(0) == getpid());
        printf("setsid again: %s\n", err(setsid()));
        pid_t a = sleeper(), b = sleeper();
        printf("children in the group: %d %d\n", getpgid(a) == getpid(), getpgid(b) == getpid());
        printf("setpgid(a, 0): %s\n", err(setpgid(a, 0)));
        printf("setpgid(b, a): %s\n", err(setpgid(b, a)));
        printf("b's group is a: %d\n", getpgid(b) == a);
        printf("setpgid to a group that is not: %s\n", err(setpgid(b, 0x7ffffff0)));
        printf("setpgid of the parent: %s\n", err(setpgid(getppid(), 0)));
        printf("setpgid of a session leader (self): %s\n", err(setpgid(0, 0)));
        printf("setpgid -1: %s\n", err(setpgid(0, -1)));
        printf("getpgid of nobody: %s\n", err(getpgid(0x7ffffff0)));
        printf("kill(-a, 0): %s\n", err(kill(-a, 0)));
        printf("kill(-a, TERM): %s\n", err(kill(-a, SIGTERM)));
        int st1, st2;
        waitpid(a, &st1, 0);
        waitpid(b, &st2, 0);
        printf("both ended by signal %d %d\n", WIFSIGNALED(st1) ? WTERMSIG(st1) : -1,
               WIFSIGNALED(st2) ? WTERMSIG(st2) : -1);
        printf("kill(-a) with the group gone: %s\n", err(kill(-a, SIGTERM)));
        pid_t d = sleeper();
        struct sigaction sa = {.sa_handler = on_usr1_note};
        sigaction(SIGUSR1, &sa, NULL);
        printf("kill(0, USR1): %s\n", err(kill(0, SIGUSR1)));
        waitpid(d, &st1, 0);
        printf("the caller's handler ran %d, the group's child ended by %d\n", got_usr1,
               WIFSIGNALED(st1) ? WTERMSIG(st1) : -1);
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
    printf("child: exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}

/* The FP control state (the rounding mode, in MXCSR and the x87 control
 * word) is a child's as its parent's. */
static int fpfork(void)
{
    fesetround(FE_UPWARD);
    pid_t c = fork();
    if (c == 0)
        _exit(fegetround() == FE_UPWARD ? 0 : 1);
    int st;
    waitpid(c, &st, 0);
    volatile double one = 1, three = 3;
    printf("child's rounding mode: %s; 1/3 rounded up here: %d\n",
           WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "the parent's" : "another",
           one / three > 0.3333333333333333);
    return 0;
}

static volatile int handler_round;

static void on_usr1_round(int sig)
{
    (void)sig;
    handler_round = fegetround();
    fesetround(FE_DOWNWARD);
}

/* A handler starts from the default FP state; the code it interrupted gets
 * its own back. */
static int fphandler(void)
{
    struct sigaction sa = {.sa_handler = on_usr1_round};
    sigaction(SIGUSR1, &sa, NULL);
    fesetround(FE_UPWARD);
    raise(SIGUSR1);
    printf("the handler's rounding: %s; after it: %s\n",
           handler_round == FE_TONEAREST ? "to nearest" : "another",
           fegetround() == FE_UPWARD ? "upward again" : "another");
    return 0;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (strcmp(cmd, "signalfd") == 0)
        return sigfd();
    if (strcmp(cmd, "eventfd") == 0)
        return evfd();
    if (strcmp(cmd, "timerfd") == 0)
        return tmfd();
    if (strcmp(cmd, "sfdwait") == 0)
        return sfdwait();
    if (strcmp(cmd, "spin") == 0)
        spin_until_usr1();
    if (strcmp(cmd, "spinchild") == 0)
        return spinchild();
    if (strcmp(cmd, "faults") == 0)
        return faults();
    if (strcmp(cmd, "altstack") == 0)
        return altstack();
    if (strcmp(cmd, "fpu") == 0)
        return fpu();
    if (strcmp(cmd, "pgrp") == 0)
        return pgrp();
    if (strcmp(cmd, "fpfork") == 0)
        return fpfork();
    if (strcmp(cmd, "fphandler") == 0)
        return fphandler();
    fprintf(stderr, "sigprobe: unknown command %s\n", cmd);
    return 2;
}
