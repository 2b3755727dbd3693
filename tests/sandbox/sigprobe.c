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
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
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
    fprintf(stderr, "sigprobe: unknown command %s\n", cmd);
    return 2;
}
