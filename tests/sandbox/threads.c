/* Threads probe for the sandbox level (tests/integration/test_sandbox_threads.sh):
 * a static program whose output must be the same in cella's sandbox as on
 * the host's Linux. `threads CASE` runs one case; each prints what a user of
 * pthreads would see (never a tid or a time, which differ by nature). */
#define _GNU_SOURCE
#include <errno.h>
#include <fenv.h>
#include <limits.h>
#include <stdint.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t tid(void)
{
    return (pid_t)syscall(SYS_gettid);
}

/* N threads add into one counter under a mutex. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static pid_t ids[16];

static void *adder(void *arg)
{
    long n = (long)arg;
    ids[n] = tid();
    for (int i = 0; i < 2000; i++) {
        pthread_mutex_lock(&mu);
        counter += n + 1;
        pthread_mutex_unlock(&mu);
    }
    return (void *)(n * 10);
}

static int sum(int n)
{
    pthread_t th[16];
    for (long i = 0; i < n; i++)
        if (pthread_create(&th[i], NULL, adder, (void *)i) != 0)
            return printf("pthread_create failed\n"), 1;
    long joined = 0;
    for (int i = 0; i < n; i++) {
        void *r;
        pthread_join(th[i], &r);
        joined += (long)r;
    }
    int distinct = 1;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            if ((i != j && ids[i] == ids[j]) || ids[i] == getpid() || ids[i] <= 0)
                distinct = 0;
    printf("threads %d counter %ld joined %ld distinct tids %s\n", n, counter, joined,
           distinct ? "yes" : "no");
    return 0;
}

/* A bounded queue with two condition variables: producers and consumers. */
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER, not_full = PTHREAD_COND_INITIALIZER;
static int queue[4], qlen;
static long consumed;

static void *producer(void *arg)
{
    for (int i = 1; i <= 500; i++) {
        pthread_mutex_lock(&mu);
        while (qlen == 4)
            pthread_cond_wait(&not_full, &mu);
        queue[qlen++] = i;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&mu);
    }
    return arg;
}

static void *consumer(void *arg)
{
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&mu);
        while (qlen == 0)
            pthread_cond_wait(&not_empty, &mu);
        consumed += queue[--qlen];
        pthread_cond_signal(&not_full);
        pthread_mutex_unlock(&mu);
    }
    return arg;
}

static int cond(void)
{
    pthread_t p[2], c[2];
    for (int i = 0; i < 2; i++) {
        pthread_create(&p[i], NULL, producer, NULL);
        pthread_create(&c[i], NULL, consumer, NULL);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(p[i], NULL);
        pthread_join(c[i], NULL);
    }
    printf("consumed %ld (2 x 500 items through a queue of 4)\n", consumed);
    /* A timed wait that nobody signals times out. */
    struct timespec at;
    clock_gettime(CLOCK_REALTIME, &at);
    at.tv_nsec += 20000000;
    if (at.tv_nsec >= 1000000000) {
        at.tv_sec++;
        at.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&mu);
    int r = pthread_cond_timedwait(&not_empty, &mu, &at);
    pthread_mutex_unlock(&mu);
    printf("timedwait: %s\n", r == ETIMEDOUT ? "ETIMEDOUT" : strerror(r));
    return 0;
}

/* One thread ends (pthread_exit) while the others carry on. */
static pthread_barrier_t bar;

static void *quitter(void *arg)
{
    pthread_barrier_wait(&bar);
    pthread_exit(arg);
}

static void *worker(void *arg)
{
    pthread_barrier_wait(&bar);
    long s = 0;
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&mu);
        s += ++counter;
        pthread_mutex_unlock(&mu);
        sched_yield();
    }
    return (void *)(s > 0 ? (long)arg : -1);
}

static int exitwhile(void)
{
    pthread_t q, w[3];
    pthread_barrier_init(&bar, NULL, 4);
    pthread_create(&q, NULL, quitter, (void *)7L);
    for (long i = 0; i < 3; i++)
        pthread_create(&w[i], NULL, worker, (void *)(i + 1));
    void *r;
    pthread_join(q, &r);
    printf("quitter returned %ld\n", (long)r);
    long s = 0;
    for (int i = 0; i < 3; i++) {
        pthread_join(w[i], &r);
        s += (long)r;
    }
    printf("workers returned %ld, counter %ld\n", s, counter);
    return 0;
}

/* A detached thread: nobody joins it; it reports through a condition. */
static int done;

static void *detached(void *arg)
{
    pthread_mutex_lock(&mu);
    done = 1;
    pthread_cond_signal(&not_empty);
    pthread_mutex_unlock(&mu);
    return arg;
}

static int detach(void)
{
    for (int round = 0; round < 20; round++) {
        pthread_t t;
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        done = 0;
        if (pthread_create(&t, &a, detached, NULL) != 0)
            return printf("create failed\n"), 1;
        pthread_mutex_lock(&mu);
        while (!done)
            pthread_cond_wait(&not_empty, &mu);
        pthread_mutex_unlock(&mu);
    }
    /* A joinable one detached after it started. */
    pthread_t t;
    done = 0;
    pthread_create(&t, NULL, detached, NULL);
    printf("pthread_detach: %d\n", pthread_detach(t));
    pthread_mutex_lock(&mu);
    while (!done)
        pthread_cond_wait(&not_empty, &mu);
    pthread_mutex_unlock(&mu);
    printf("20 detached threads ran\n");
    return 0;
}

/* Identities: every thread's getpid is the process's. */
static void *ident(void *arg)
{
    pid_t *out = arg;
    out[0] = getpid();
    out[1] = tid();
    return NULL;
}

static int ids_case(void)
{
    pid_t got[2];
    pthread_t t;
    pthread_create(&t, NULL, ident, got);
    pthread_join(t, NULL);
    printf("getpid same in thread: %s; thread tid differs: %s; main tid is pid: %s\n",
           got[0] == getpid() ? "yes" : "no", got[1] != getpid() ? "yes" : "no",
           tid() == getpid() ? "yes" : "no");
    cpu_set_t cpus;
    printf("sched_getaffinity: %s\n",
           sched_getaffinity(0, sizeof(cpus), &cpus) == 0 && CPU_COUNT(&cpus) >= 1 ? "ok" : "fail");
    printf("sched_yield: %d\n", sched_yield());
    return 0;
}

/* exit_group from a thread ends every thread, with its code. */
static void *exiter(void *arg)
{
    (void)arg;
    exit(7);
}

static void *sleeper(void *arg)
{
    for (;;)
        pause();
    return arg;
}

static int exitgroup(void)
{
    pthread_t s, e;
    pthread_create(&s, NULL, sleeper, NULL);
    printf("before exit from a thread\n");
    fflush(stdout);
    pthread_create(&e, NULL, exiter, NULL);
    pthread_join(s, NULL);
    printf("not reached\n");
    return 0;
}

/* A fault in a thread kills the whole process. */
static volatile int *volatile nowhere = (volatile int *)8;

static void *faulter(void *arg)
{
    (void)arg;
    *nowhere = 1;
    return NULL;
}

static int fault(void)
{
    pthread_t s, f;
    pthread_create(&s, NULL, sleeper, NULL);
    printf("before the fault\n");
    fflush(stdout);
    pthread_create(&f, NULL, faulter, NULL);
    pthread_join(s, NULL);
    printf("not reached\n");
    return 0;
}

/* fork from a thread: the child has that one thread, and can make more. */
static void *forker(void *arg)
{
    (void)arg;
    pid_t pid = fork();
    if (pid == 0) {
        pthread_t t;
        counter = 0;
        pthread_create(&t, NULL, adder, (void *)0L);
        pthread_join(t, NULL);
        printf("child: counter %ld\n", counter);
        fflush(stdout);
        _exit(3);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("forking thread: child exit %d\n", WEXITSTATUS(st));
    return NULL;
}

static int forkcase(void)
{
    pthread_t s, f;
    pthread_create(&s, NULL, sleeper, NULL);
    pthread_create(&f, NULL, forker, NULL);
    pthread_join(f, NULL);
    /* Another fork from the main thread while a thread sleeps. */
    pid_t pid = fork();
    if (pid == 0)
        _exit(4);
    int st;
    waitpid(pid, &st, 0);
    printf("main: child exit %d\n", WEXITSTATUS(st));
    return 0;
}

/* execve from a thread: the other threads end, the program replaces the
 * process (the same pid). */
static char *self_path;

static void *execer(void *arg)
{
    char pid[32];
    snprintf(pid, sizeof(pid), "%d", (int)getpid());
    char *argv[] = {self_path, "after-exec", pid, NULL};
    execv(self_path, argv);
    printf("execv: %s\n", strerror(errno));
    return arg;
}

static int execcase(void)
{
    pthread_t s[3], e;
    for (int i = 0; i < 3; i++)
        pthread_create(&s[i], NULL, sleeper, NULL);
    printf("before exec\n");
    fflush(stdout);
    pthread_create(&e, NULL, execer, NULL);
    pthread_join(s[0], NULL);
    return 1;
}

static int after_exec(const char *pid)
{
    printf("after exec: same pid %s, tid is pid %s\n", atoi(pid) == getpid() ? "yes" : "no",
           tid() == getpid() ? "yes" : "no");
    return 0;
}

/* tgkill to one thread: its handler runs in that thread. */
static volatile pid_t handled_in;
static volatile int ready;

static void on_usr1(int sig)
{
    (void)sig;
    handled_in = tid();
}

static void *target(void *arg)
{
    pid_t *me = arg;
    sigset_t none;
    sigemptyset(&none);
    *me = tid();
    __atomic_store_n(&ready, 1, __ATOMIC_SEQ_CST);
    sigsuspend(&none);
    return NULL;
}

static int tgkill_case(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    /* The thread starts with USR1 blocked (the mask is inherited) and
     * opens it only in sigsuspend: the signal cannot be lost. */
    pthread_sigmask(SIG_BLOCK, &block, NULL);
    pid_t ttid = 0;
    pthread_t t;
    pthread_create(&t, NULL, target, &ttid);
    while (!__atomic_load_n(&ready, __ATOMIC_SEQ_CST))
        sched_yield();
    printf("tgkill: %ld\n", syscall(SYS_tgkill, getpid(), ttid, SIGUSR1));
    pthread_join(t, NULL);
    printf("handler ran in the target thread: %s\n", handled_in == ttid ? "yes" : "no");
    printf("tgkill to a tid of another process: %s\n",
           syscall(SYS_tgkill, getpid() + 100000, ttid, 0) < 0 && errno == ESRCH ? "ESRCH" : "?");
    return 0;
}

/* A robust mutex held by a thread that ends: the next locker gets EOWNERDEAD. */
static pthread_mutex_t robust;

static void *holder(void *arg)
{
    pthread_mutex_lock(&robust);
    return arg;
}

static int robust_case(void)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&robust, &a);
    pthread_t t;
    pthread_create(&t, NULL, holder, NULL);
    pthread_join(t, NULL);
    int r = pthread_mutex_lock(&robust);
    printf("lock after the owner died: %s\n", r == EOWNERDEAD ? "EOWNERDEAD" : strerror(r));
    if (r == EOWNERDEAD)
        printf("consistent: %d\n", pthread_mutex_consistent(&robust));
    pthread_mutex_unlock(&robust);
    return 0;
}

/* The main thread ends first (pthread_exit); the process lives on until
 * its last thread ends, and exits 0. */
static void *last(void *arg)
{
    struct timespec ts = {0, 20000000};
    nanosleep(&ts, NULL);
    printf("last thread after main's pthread_exit\n");
    fflush(stdout);
    return arg;
}

static int mainexit(void)
{
    pthread_t t;
    pthread_create(&t, NULL, last, NULL);
    pthread_exit(NULL);
}

/* The futex calls themselves, raw (musl-gcc has no kernel headers). */
enum {
    FUTEX_WAIT = 0,
    FUTEX_WAKE = 1,
    FUTEX_REQUEUE = 3,
    FUTEX_CMP_REQUEUE = 4,
    FUTEX_WAKE_OP = 5,
    FUTEX_WAIT_BITSET = 9,
    FUTEX_WAKE_BITSET = 10,
    FUTEX_WAIT_PRIVATE = 128,
    FUTEX_CLOCK_REALTIME = 256,
    FUTEX_OP_SET = 0,
    FUTEX_OP_ADD = 1,
    FUTEX_OP_OR = 2,
    FUTEX_OP_OPARG_SHIFT = 8,
    FUTEX_OP_CMP_EQ = 0,
    FUTEX_OP_CMP_GT = 4,
};
#define FUTEX_BITSET_MATCH_ANY 0xffffffffU
#define FUTEX_OP(op, oparg, cmp, cmparg)                                                           \
    ((((op)&0xf) << 28) | (((cmp)&0xf) << 24) | (((oparg)&0xfff) << 12) | ((cmparg)&0xfff))
static uint32_t fa, fb;

static long fx(uint32_t *a, int op, uint32_t v, const void *ts_or_n, uint32_t *a2, uint32_t v3)
{
    long r = syscall(SYS_futex, a, op, v, ts_or_n, a2, v3);
    return r < 0 ? -errno : r;
}

/* How many wait on w, without waking them: a requeue onto itself. */
static long waiters(uint32_t *w)
{
    return fx(w, FUTEX_CMP_REQUEUE, 0, (void *)(uintptr_t)INT_MAX, w,
              __atomic_load_n(w, __ATOMIC_SEQ_CST));
}

static const char *err(long r)
{
    static char buf[32];
    if (r >= 0) {
        snprintf(buf, sizeof(buf), "%ld", r);
        return buf;
    }
    return r == -EAGAIN      ? "EAGAIN"
           : r == -EINVAL    ? "EINVAL"
           : r == -ETIMEDOUT ? "ETIMEDOUT"
           : r == -EINTR     ? "EINTR"
           : r == -EFAULT    ? "EFAULT"
           : r == -ENOSYS    ? "ENOSYS"
           : r == -ESRCH     ? "ESRCH"
                             : strerror((int)-r);
}

struct fwait {
    uint32_t *w;
    uint32_t bitset;
    long r;
};

static void *futex_waiter(void *arg)
{
    struct fwait *f = arg;
    f->r = f->bitset ? fx(f->w, FUTEX_WAIT_BITSET, 0, NULL, NULL, f->bitset)
                     : fx(f->w, FUTEX_WAIT, 0, NULL, NULL, 0);
    return NULL;
}

static volatile int interrupted_done;
static pthread_t main_thread;

static void on_usr2(int sig)
{
    (void)sig;
}

static void *interrupter(void *arg)
{
    (void)arg;
    struct timespec ms = {0, 1000000};
    while (!__atomic_load_n(&interrupted_done, __ATOMIC_SEQ_CST)) {
        pthread_kill(main_thread, SIGUSR2);
        nanosleep(&ms, NULL);
    }
    return NULL;
}

static int futex_case(void)
{
    struct timespec ten_ms = {0, 10000000}, abs;
    printf("wait, another value: %s\n", err(fx(&fa, FUTEX_WAIT, 1, NULL, NULL, 0)));
    printf("wait, misaligned: %s\n",
           err(fx((uint32_t *)((char *)&fa + 1), FUTEX_WAIT, 0, NULL, NULL, 0)));
    printf("wait, unmapped: %s\n", err(fx((uint32_t *)4096, FUTEX_WAIT, 0, NULL, NULL, 0)));
    printf("wait 10 ms: %s\n", err(fx(&fa, FUTEX_WAIT_PRIVATE, 0, &ten_ms, NULL, 0)));
    clock_gettime(CLOCK_MONOTONIC, &abs);
    printf("wait_bitset, a past monotonic time: %s\n",
           err(fx(&fa, FUTEX_WAIT_BITSET, 0, &abs, NULL, FUTEX_BITSET_MATCH_ANY)));
    clock_gettime(CLOCK_REALTIME, &abs);
    abs.tv_nsec += 10000000;
    if (abs.tv_nsec >= 1000000000) {
        abs.tv_sec++;
        abs.tv_nsec -= 1000000000;
    }
    printf("wait_bitset, realtime in 10 ms: %s\n",
           err(fx(&fa, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 0, &abs, NULL, ~0U)));
    printf("wait with CLOCK_REALTIME: %s\n",
           err(fx(&fa, FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 0, &ten_ms, NULL, 0)));
    printf("wait_bitset, bitset 0: %s\n", err(fx(&fa, FUTEX_WAIT_BITSET, 0, NULL, NULL, 0)));
    struct timespec bad = {0, 1000000000};
    printf("wait, bad timeout: %s\n", err(fx(&fa, FUTEX_WAIT, 0, &bad, NULL, 0)));
    printf("wake, nobody: %s\n", err(fx(&fa, FUTEX_WAKE, 1, NULL, NULL, 0)));
    printf("an unknown op: %s\n", err(fx(&fa, 42, 0, NULL, NULL, 0)));

    /* Bitsets: only the matching waiter wakes. */
    struct fwait w[3] = {{&fa, 1, 99}, {&fa, 2, 99}, {&fa, 4, 99}};
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&th[i], NULL, futex_waiter, &w[i]);
    while (waiters(&fa) < 3)
        sched_yield();
    printf("wake_bitset 2: %s\n", err(fx(&fa, FUTEX_WAKE_BITSET, INT_MAX, NULL, NULL, 2)));
    pthread_join(th[1], NULL);
    printf("wake_bitset 8: %s\n", err(fx(&fa, FUTEX_WAKE_BITSET, INT_MAX, NULL, NULL, 8)));
    printf("wake_bitset 5: %s\n", err(fx(&fa, FUTEX_WAKE_BITSET, INT_MAX, NULL, NULL, 5)));
    pthread_join(th[0], NULL);
    pthread_join(th[2], NULL);
    printf("woken: %ld %ld %ld\n", w[0].r, w[1].r, w[2].r);

    /* Requeue: three waiters moved from a to b, then woken in steps. */
    for (int i = 0; i < 3; i++) {
        w[i] = (struct fwait){&fa, 0, 99};
        pthread_create(&th[i], NULL, futex_waiter, &w[i]);
    }
    long moved = 0;
    while (moved < 3)
        moved += fx(&fa, FUTEX_CMP_REQUEUE, 0, (void *)(uintptr_t)INT_MAX, &fb, 0);
    printf("cmp_requeue, another value: %s\n",
           err(fx(&fb, FUTEX_CMP_REQUEUE, 0, (void *)1, &fa, 7)));
    printf("waiters on b: %ld, on a: %ld\n", waiters(&fb), waiters(&fa));
    printf("wake b 1: %s\n", err(fx(&fb, FUTEX_WAKE, 1, NULL, NULL, 0)));
    printf("requeue b -> a, 1 woken, 1 moved: %s\n",
           err(fx(&fb, FUTEX_REQUEUE, 1, (void *)1, &fa, 0)));
    printf("wake a: %s\n", err(fx(&fa, FUTEX_WAKE, INT_MAX, NULL, NULL, 0)));
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    printf("woken: %ld %ld %ld\n", w[0].r, w[1].r, w[2].r);

    /* WAKE_OP: b += 1, then its waiter woken when b was 0. */
    w[0] = (struct fwait){&fb, 0, 99};
    pthread_create(&th[0], NULL, futex_waiter, &w[0]);
    while (waiters(&fb) < 1)
        sched_yield();
    printf("wake_op add 1, if b was 0: %s\n",
           err(fx(&fa, FUTEX_WAKE_OP, 1, (void *)1, &fb,
                  FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0))));
    pthread_join(th[0], NULL);
    printf("b %u, waiter %ld\n", fb, w[0].r);
    printf("wake_op set 5, if b was 0: %s\n",
           err(fx(&fa, FUTEX_WAKE_OP, 1, (void *)1, &fb,
                  FUTEX_OP(FUTEX_OP_SET, 5, FUTEX_OP_CMP_EQ, 0))));
    printf("wake_op or 1<<4 (shift): %s\n",
           err(fx(&fa, FUTEX_WAKE_OP, 1, (void *)1, &fb,
                  FUTEX_OP(FUTEX_OP_OR | FUTEX_OP_OPARG_SHIFT, 4, FUTEX_OP_CMP_GT, 0))));
    printf("b %u\n", fb);
    printf("wake_op, a bad comparison: %s\n",
           err(fx(&fa, FUTEX_WAKE_OP, 1, (void *)1, &fb, (FUTEX_OP_ADD << 28) | (9 << 24))));

    /* A caught signal interrupts a wait (EINTR). */
    struct sigaction sa = {0};
    sa.sa_handler = on_usr2;
    sigaction(SIGUSR2, &sa, NULL);
    main_thread = pthread_self();
    pthread_t in;
    pthread_create(&in, NULL, interrupter, NULL);
    struct timespec long_wait = {20, 0};
    fa = 0;
    printf("wait interrupted by a handler: %s\n", err(fx(&fa, FUTEX_WAIT, 0, &long_wait, NULL, 0)));
    __atomic_store_n(&interrupted_done, 1, __ATOMIC_SEQ_CST);
    pthread_join(in, NULL);

    /* The robust list calls. */
    void *head;
    size_t len = 0;
    long r = syscall(SYS_get_robust_list, 0, &head, &len) < 0 ? -errno : 0;
    printf("get_robust_list: %s, len %zu\n", err(r), len);
    printf("set_robust_list, bad len: %s\n",
           err(syscall(SYS_set_robust_list, head, 7) < 0 ? -errno : 0));
    printf("get_robust_list, no such tid: %s\n",
           err(syscall(SYS_get_robust_list, 999999, &head, &len) < 0 ? -errno : 0));
    cpu_set_t cpus;
    printf("sched_getaffinity, 1 byte: %s\n",
           err(syscall(SYS_sched_getaffinity, 0, 1, &cpus) < 0 ? -errno : 0));
    return 0;
}

/* The signal thread of many daemons: every thread blocks SIGUSR1, one
 * takes it with sigwait when the process is sent it. */
static volatile int got_signal;

static void *signal_thread(void *arg)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    int sig = 0;
    sigwait(&set, &sig);
    printf("sigwait in a thread: %s\n", sig == SIGUSR1 ? "SIGUSR1" : "other");
    __atomic_store_n(&got_signal, 1, __ATOMIC_SEQ_CST);
    return arg;
}

static int sigwait_case(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    pthread_t t;
    pthread_create(&t, NULL, signal_thread, NULL);
    /* Sent until taken: the thread may not be waiting yet. */
    struct timespec ms = {0, 1000000};
    while (!__atomic_load_n(&got_signal, __ATOMIC_SEQ_CST)) {
        kill(getpid(), SIGUSR1);
        nanosleep(&ms, NULL);
    }
    pthread_join(t, NULL);
    return 0;
}

/* A new thread inherits its creator's floating-point environment. */
static void *rounding(void *arg)
{
    volatile double one = 1, three = 3;
    printf("thread: rounding %s, 1/3 = %.17g, -1/3 = %.17g\n",
           fegetround() == FE_DOWNWARD ? "downward" : "other", one / three, -one / three);
    return arg;
}

static int fenv_case(void)
{
    fesetround(FE_DOWNWARD);
    pthread_t t;
    pthread_create(&t, NULL, rounding, NULL);
    pthread_join(t, NULL);
    return 0;
}

/* Threads that wait for ever, for a look at them from the host. */
/* A fault in a thread that is not the first goes to the process's handler,
 * in that thread (the stub thread takes its host fault as the first does). */
static sigjmp_buf tfault_jmp;
static volatile pid_t tfault_in;

static void on_segv(int sig)
{
    (void)sig;
    tfault_in = tid();
    siglongjmp(tfault_jmp, 1);
}

static void *segv_thread(void *arg)
{
    pid_t *me = arg;
    *me = tid();
    if (sigsetjmp(tfault_jmp, 1) == 0)
        *(volatile int *)8 = 1;
    return NULL;
}

static int threadfault_case(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_segv;
    sigaction(SIGSEGV, &sa, NULL);
    pid_t ttid = 0;
    pthread_t t;
    pthread_create(&t, NULL, segv_thread, &ttid);
    pthread_join(t, NULL);
    printf("a thread's fault went to the handler in that thread: %s\n",
           tfault_in != 0 && tfault_in == ttid ? "yes" : "no");
    return 0;
}

/* A thread spinning in its own code (no system call) is interrupted for a
 * signal sent to it: its handler ends the spin. */
static volatile sig_atomic_t spin_stop;

static void on_spin_usr2(int sig)
{
    (void)sig;
    spin_stop = 1;
}

static void *spinner(void *arg)
{
    __atomic_store_n((int *)arg, 1, __ATOMIC_SEQ_CST);
    unsigned long n = 0;
    while (!spin_stop && n < 4000000000UL) /* bounded: a failure ends */
        n++;
    return (void *)(uintptr_t)(spin_stop != 0);
}

static int threadspin_case(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_spin_usr2;
    sigaction(SIGUSR2, &sa, NULL);
    int started = 0;
    pthread_t t;
    pthread_create(&t, NULL, spinner, &started);
    while (!__atomic_load_n(&started, __ATOMIC_SEQ_CST))
        sched_yield();
    pthread_kill(t, SIGUSR2);
    void *r;
    pthread_join(t, &r);
    printf("a spinning thread was interrupted by its signal: %s\n", r ? "yes" : "no");
    return 0;
}

static int hang(void)
{
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, sleeper, NULL);
    printf("threads waiting\n");
    fflush(stdout);
    for (;;)
        pause();
    return 0;
}

int main(int argc, char **argv)
{
    const char *c = argc > 1 ? argv[1] : "sum";
    self_path = argv[0];
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (strcmp(c, "sum") == 0)
        return sum(argc > 2 ? atoi(argv[2]) : 8);
    if (strcmp(c, "cond") == 0)
        return cond();
    if (strcmp(c, "exitwhile") == 0)
        return exitwhile();
    if (strcmp(c, "detach") == 0)
        return detach();
    if (strcmp(c, "ids") == 0)
        return ids_case();
    if (strcmp(c, "exitgroup") == 0)
        return exitgroup();
    if (strcmp(c, "fault") == 0)
        return fault();
    if (strcmp(c, "fork") == 0)
        return forkcase();
    if (strcmp(c, "exec") == 0)
        return execcase();
    if (strcmp(c, "after-exec") == 0)
        return after_exec(argc > 2 ? argv[2] : "0");
    if (strcmp(c, "tgkill") == 0)
        return tgkill_case();
    if (strcmp(c, "robust") == 0)
        return robust_case();
    if (strcmp(c, "mainexit") == 0)
        return mainexit();
    if (strcmp(c, "futex") == 0)
        return futex_case();
    if (strcmp(c, "hang") == 0)
        return hang();
    if (strcmp(c, "fenv") == 0)
        return fenv_case();
    if (strcmp(c, "sigwait") == 0)
        return sigwait_case();
    if (strcmp(c, "threadfault") == 0)
        return threadfault_case();
    if (strcmp(c, "threadspin") == 0)
        return threadspin_case();
    fprintf(stderr, "threads: unknown case %s\n", c);
    return 2;
}
