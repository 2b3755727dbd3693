/* The hostile workload of tests/integration/test_sandbox_escapes.sh, run in
 * a sandbox (musl-gcc -static): each attack prints one line, "NAME: blocked"
 * when the sandbox held, "NAME: ESCAPED ..." with what it got otherwise; the
 * test asserts every line. Subcommands:
 *
 *   mem      the stub region (0x300000000000) through every memory call, and
 *            ranges that wrap around the address space
 *   fds      descriptor numbers out of range, the stub's memfd (its fd 3),
 *            metadata changes on descriptors that are not the sandbox's files
 *            (the kernel's /dev, stdio, an eventfd's host inode)
 *   paths    ways out of the root: `..`, /proc/self/root, cwd and fd links,
 *            a symlink swapped by another process while this one opens
 *   leaks    prints what the workload reads about its files (readlink of
 *            /proc links, getcwd, /proc/mounts): the test looks for host paths
 *   threads  clone flags that are not a thread or a fork, threads past the
 *            slots, signals to tids that are not there
 *   forge    a thread's context page forged by another thread (traps it
 *            never made): the kernel serves them as that thread's calls; a
 *            signal frame for a stack pointer in the region; the pointers
 *            to a new thread's FPU state forged while threads are made
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STUB_BASE  0x300000000000ULL
#define SLOT       0x10000ULL
#define STUB_END   (STUB_BASE + SLOT * 65)
#define PAGE       4096ULL
#define FUTEX_WAIT 0 /* linux/futex.h is not in musl-gcc's path */
#define FUTEX_WAKE 1

static int bad;

/* ok: the sandbox held; otherwise the line says what the attack got. */
static void report(const char *name, int ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void report(const char *name, int ok, const char *fmt, ...)
{
    if (ok) {
        printf("%s: blocked\n", name);
    } else {
        char buf[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        printf("%s: ESCAPED %s\n", name, buf);
        bad = 1;
    }
    fflush(stdout);
}

static long sc(long nr, long a, long b, long c, long d, long e, long f)
{
    return syscall(nr, a, b, c, d, e, f);
}

/* Whether [a, a + len) meets the stub region. */
static int meets(uint64_t a, uint64_t len)
{
    return a < STUB_END && a + len > STUB_BASE;
}

/* A call that must fail: its result and errno for the report. */
#define MUST_FAIL(name, call)                                                                      \
    do {                                                                                           \
        errno = 0;                                                                                 \
        long r_ = (long)(call);                                                                    \
        report(name, r_ == -1, "returned %ld", r_);                                                \
    } while (0)

static void attack_mem(void)
{
    MUST_FAIL("mmap MAP_FIXED onto the code page",
              sc(SYS_mmap, (long)STUB_BASE, PAGE, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
    MUST_FAIL("mmap MAP_FIXED onto a context page",
              sc(SYS_mmap, (long)(STUB_BASE + SLOT * 2), PAGE, PROT_READ,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
    MUST_FAIL("mmap MAP_FIXED over the region from below",
              sc(SYS_mmap, (long)(STUB_BASE - PAGE), 2 * PAGE, PROT_READ,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
    long h =
        sc(SYS_mmap, (long)(STUB_BASE + SLOT), PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    report("mmap hint in the region", h == -1 || !meets((uint64_t)h, PAGE), "mapped at %#lx", h);
    MUST_FAIL("mmap of fd 3 (the stub's memfd number)",
              sc(SYS_mmap, 0, PAGE, PROT_READ, MAP_SHARED, 3, 0));
    MUST_FAIL("munmap of the code page", sc(SYS_munmap, (long)STUB_BASE, PAGE, 0, 0, 0, 0));
    MUST_FAIL("mprotect of the code page",
              sc(SYS_mprotect, (long)STUB_BASE, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC, 0, 0, 0));
    MUST_FAIL("madvise DONTNEED on the context pages",
              sc(SYS_madvise, (long)STUB_BASE, SLOT * 65, MADV_DONTNEED, 0, 0, 0));
    MUST_FAIL("mlock of the region", sc(SYS_mlock, (long)STUB_BASE, PAGE, 0, 0, 0, 0));
    MUST_FAIL("msync of the region", sc(SYS_msync, (long)STUB_BASE, PAGE, MS_SYNC, 0, 0, 0));
    unsigned char vec[16];
    MUST_FAIL("mincore of the region", sc(SYS_mincore, (long)STUB_BASE, PAGE, (long)vec, 0, 0, 0));

    /* A page just below the region, grown and moved into it. */
    long below = sc(SYS_mmap, (long)(STUB_BASE - PAGE), PAGE, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (below != (long)(STUB_BASE - PAGE)) {
        report("mremap in place into the region", 0, "no page below it: %ld", below);
    } else {
        MUST_FAIL("mremap in place into the region",
                  sc(SYS_mremap, below, PAGE, 2 * PAGE, 0, 0, 0));
        long m = sc(SYS_mremap, below, PAGE, 2 * PAGE, MREMAP_MAYMOVE, 0, 0);
        report("mremap MAYMOVE past the region's start", m == -1 || !meets((uint64_t)m, 2 * PAGE),
               "moved to %#lx", m);
        if (m != -1)
            below = m;
        MUST_FAIL("mremap MREMAP_FIXED onto a context page",
                  sc(SYS_mremap, below, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED,
                     (long)(STUB_BASE + SLOT), 0));
        MUST_FAIL("mremap of the code page itself", sc(SYS_mremap, (long)STUB_BASE, PAGE, PAGE,
                                                       MREMAP_MAYMOVE | MREMAP_FIXED, below, 0));
    }
    long cur = sc(SYS_brk, 0, 0, 0, 0, 0, 0);
    long grown = sc(SYS_brk, (long)(STUB_BASE + PAGE), 0, 0, 0, 0, 0);
    report("brk grown over the region", grown == cur, "brk %#lx -> %#lx", cur, grown);

    /* Ranges whose end wraps past 2^64. */
    uint64_t top = ~0ULL & ~(PAGE - 1);
    MUST_FAIL("munmap wrapping", sc(SYS_munmap, 0x10000, (long)(top - 0x10000 + PAGE), 0, 0, 0, 0));
    MUST_FAIL("mprotect wrapping", sc(SYS_mprotect, 0x10000, (long)top, PROT_READ, 0, 0, 0));
    MUST_FAIL("madvise wrapping", sc(SYS_madvise, 0x10000, (long)top, MADV_DONTNEED, 0, 0, 0));
    MUST_FAIL("mlock wrapping", sc(SYS_mlock, 0x10000, -1, 0, 0, 0, 0));
    MUST_FAIL("mincore wrapping", sc(SYS_mincore, 0x10000, (long)top, (long)vec, 0, 0, 0));
    MUST_FAIL("mremap wrapping", sc(SYS_mremap, 0x10000, (long)top, PAGE, MREMAP_MAYMOVE, 0, 0));
    MUST_FAIL("mmap of 2^64 - 4096 bytes",
              sc(SYS_mmap, 0, (long)top, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    MUST_FAIL("mmap MAP_FIXED at the top, wrapping",
              sc(SYS_mmap, (long)top, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                 -1, 0));

    /* The kernel reading and writing the region or a wrapping buffer for us. */
    int fd = open("/etc/msg", O_RDONLY);
    MUST_FAIL("read into a context page", read(fd, (void *)(STUB_BASE + SLOT), 16));
    MUST_FAIL("read into the code page", read(fd, (void *)STUB_BASE, 16));
    MUST_FAIL("pread64 into a wrapping buffer", pread(fd, (void *)(uintptr_t)top, 2 * PAGE, 0));
    MUST_FAIL("read into a wrapping buffer", read(fd, (void *)(uintptr_t)top, 2 * PAGE));
    MUST_FAIL("write from a context page", write(1, (void *)(STUB_BASE + SLOT), 16));
    char one;
    struct iovec iov[2] = {{&one, 1}, {(void *)(STUB_BASE + SLOT), 8}};
    long rv = readv(fd, iov, 2);
    report("readv with a piece in a context page", rv <= 1, "readv %ld", rv);
    struct iovec big[2] = {{&one, 1}, {&one, (size_t)-1}};
    MUST_FAIL("readv whose lengths overflow", readv(fd, big, 2));
    close(fd);
    MUST_FAIL("open of a path in the region",
              open((const char *)(STUB_BASE + SLOT + 64), O_RDONLY));
    uint32_t word = *(volatile uint32_t *)(STUB_BASE + SLOT);
    struct timespec ts = {0, 1000000};
    MUST_FAIL("futex wait on a context page's state word",
              sc(SYS_futex, (long)(STUB_BASE + SLOT), FUTEX_WAIT, word, (long)&ts, 0, 0));
    MUST_FAIL("get_robust_list out to a context page",
              sc(SYS_get_robust_list, 0, (long)(STUB_BASE + SLOT), (long)(STUB_BASE + SLOT + 8), 0,
                 0, 0));
    MUST_FAIL("clock_gettime out to the code page",
              sc(SYS_clock_gettime, CLOCK_REALTIME, (long)STUB_BASE, 0, 0, 0, 0));
}

/* A metadata change on a descriptor that is not a file of the sandbox's tree. */
static void meta(const char *what, int fd)
{
    char name[128];
    struct stat before, after;
    fstat(fd, &before);
    snprintf(name, sizeof(name), "fchmod of %s", what);
    MUST_FAIL(name, fchmod(fd, 04777));
    snprintf(name, sizeof(name), "fchown of %s", what);
    MUST_FAIL(name, fchown(fd, 0, 0));
    snprintf(name, sizeof(name), "futimens of %s", what);
    struct timespec old[2] = {{1, 0}, {1, 0}};
    MUST_FAIL(name, futimens(fd, old));
    fstat(fd, &after);
    snprintf(name, sizeof(name), "... %s's mode unchanged", what);
    report(name, before.st_mode == after.st_mode, "mode %o -> %o", before.st_mode, after.st_mode);
}

static void attack_fds(void)
{
    struct stat st;
    MUST_FAIL("fstat of fd 3 (the stub's memfd number)", fstat(3, &st));
    MUST_FAIL("write to fd 3", write(3, "x", 1));
    MUST_FAIL("dup2 onto -1", dup2(1, -1));
    MUST_FAIL("dup2 onto 1024", dup2(1, 1024));
    MUST_FAIL("dup2 onto INT_MAX", dup2(1, 0x7fffffff));
    MUST_FAIL("fcntl F_DUPFD from 1024", fcntl(1, F_DUPFD, 1024));
    MUST_FAIL("fcntl F_DUPFD from -1", fcntl(1, F_DUPFD, -1));
    MUST_FAIL("close of -1", close(-1));
    MUST_FAIL("read of fd -5", read(-5, &st, 1));
    MUST_FAIL("read of fd 1023 (never opened)", read(1023, &st, 1));
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN};
    MUST_FAIL("epoll_ctl of the epoll itself", epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev));
    MUST_FAIL("epoll_ctl of fd 1000", epoll_ctl(ep, EPOLL_CTL_ADD, 1000, &ev));
    MUST_FAIL("epoll_wait with 2^31 events", epoll_wait(ep, (void *)&ev, 0x7fffffff, 0));

    int null = open("/dev/null", O_RDWR);
    meta("/dev/null (the container's device)", null);
    int efd = eventfd(0, 0);
    meta("an eventfd (the host's one anonymous inode)", efd);
    meta("stdout (from outside the sandbox)", 1);
    MUST_FAIL("ftruncate of stdout", ftruncate(1, 0));
    MUST_FAIL("fallocate of stdout", fallocate(1, 0, 0, 4096));
    MUST_FAIL("chmod of /dev/null by path", chmod("/dev/null", 0777));
    MUST_FAIL("fchmodat AT_EMPTY_PATH of /dev/null", fchmodat(null, "", 0777, AT_EMPTY_PATH));
    MUST_FAIL("utimensat AT_EMPTY_PATH of stdout",
              utimensat(1, "", (struct timespec[2]){{1, 0}, {1, 0}}, AT_EMPTY_PATH));
    MUST_FAIL("linkat AT_EMPTY_PATH of stdout into the tree",
              linkat(1, "", AT_FDCWD, "/tmp/stdout", AT_EMPTY_PATH));
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", null);
    int again = open(path, O_RDONLY);
    MUST_FAIL("fchmod of /dev/null reopened through /proc/self/fd", fchmod(again, 0777));
    int d = dup(efd);
    MUST_FAIL("fchown of a dup of an eventfd", fchown(d, 0, 0));
}

/* fd of the host's secret beside the rootfs, or -1. */
static int got_secret(const char *path)
{
    char buf[64] = "";
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    return n > 0 && strstr(buf, "host's secret") != NULL;
}

static void try_secret(const char *name, const char *path)
{
    report(name, !got_secret(path), "%s read the host's secret", path);
}

static void attack_paths(void)
{
    try_secret("/.. to the rootfs's parent", "/../secret");
    try_secret("/proc/self/root/..", "/proc/self/root/../secret");
    try_secret("/proc/1/root/../..", "/proc/1/root/../../secret");
    try_secret("/proc/self/cwd/..", "/proc/self/cwd/../../secret");
    int dfd = open("/etc", O_RDONLY | O_DIRECTORY);
    char path[96];
    snprintf(path, sizeof(path), "/proc/self/fd/%d/../../secret", dfd);
    try_secret("/proc/self/fd/DIR/../..", path);
    report("openat of ../.. from a directory fd", openat(dfd, "../../secret", O_RDONLY) < 0,
           "opened");
    symlink("../../../../secret", "/tmp/up");
    try_secret("a symlink up past the root", "/tmp/up");
    symlink("/proc/self/root/../secret", "/tmp/viaproc");
    try_secret("a symlink through /proc/self/root", "/tmp/viaproc");

    symlink("/tmp/loop", "/tmp/loop");
    symlink("/tmp/loopb", "/tmp/loopa");
    symlink("/tmp/loopa/x", "/tmp/loopb");
    errno = 0;
    report("a symlink to itself and a loop of two: ELOOP, the kernel goes on",
           open("/tmp/loop", O_RDONLY) < 0 && errno == ELOOP && open("/tmp/loopa", O_RDONLY) < 0 &&
               errno == ELOOP,
           "errno %d", errno);
    static char deep[3 * 4096];
    size_t n = 0;
    while (n + 3 < 2 * 4096) {
        memcpy(deep + n, "../", 3);
        n += 3;
    }
    strcpy(deep + n, "secret");
    try_secret("8,000 bytes of ../ (past PATH_MAX)", deep);
    n = 0;
    while (n + 3 < 4000) {
        memcpy(deep + n, "../", 3);
        n += 3;
    }
    strcpy(deep + n, "secret");
    try_secret("1,333 ../ within PATH_MAX", deep);

    /* Another process swaps /tmp/sw between a directory and a symlink up
     * past the root, as fast as it can, while this one opens through it. */
    mkdir("/tmp/swd", 0755);
    mkdir("/tmp/swd/a", 0755);
    symlink("../../../..", "/tmp/swl");
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 4000; i++) {
            rename("/tmp/swd", "/tmp/sw");
            rename("/tmp/sw", "/tmp/swd");
            rename("/tmp/swl", "/tmp/sw");
            rename("/tmp/sw", "/tmp/swl");
        }
        _exit(0);
    }
    int leaked = 0;
    for (int i = 0; i < 2000 && !leaked; i++)
        leaked = got_secret("/tmp/sw/a/../../secret") || got_secret("/tmp/sw/../secret");
    waitpid(pid, NULL, 0);
    report("a path through a directory swapped for a symlink meanwhile", !leaked,
           "the host's secret read");

    /* A read-only mount's file reopened for writing through /proc. */
    int ro = open("/ro/file", O_RDONLY);
    snprintf(path, sizeof(path), "/proc/self/fd/%d", ro);
    int w = open(path, O_WRONLY);
    report("a read-only mount's file reopened for writing via /proc/self/fd",
           w < 0 || write(w, "x", 1) < 0, "written");
    pid = fork();
    if (pid == 0) {
        snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)getppid(), ro);
        int w2 = open(path, O_RDWR);
        _exit(w2 >= 0 && write(w2, "x", 1) == 1);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    report("... and through /proc/PARENT/fd from a child", WIFEXITED(st) && WEXITSTATUS(st) == 0,
           "written");
}

static void show_link(const char *path)
{
    char buf[4096];
    ssize_t n = readlink(path, buf, sizeof(buf) - 1);
    printf("%s -> %s\n", path, n < 0 ? strerror(errno) : (buf[n] = '\0', buf));
}

static void attack_leaks(void)
{
    int f = open("/etc/msg", O_RDONLY);
    int d = open("/etc", O_RDONLY | O_DIRECTORY);
    int m = open("/data", O_RDONLY | O_DIRECTORY);
    int mf = open("/data/file", O_RDONLY);
    char path[64];
    const int fds[] = {f, d, m, mf, 0, 1, 2};
    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[i]);
        show_link(path);
    }
    show_link("/proc/self/exe");
    show_link("/proc/self/cwd");
    show_link("/proc/self/root");
    show_link("/proc/1/exe");
    chdir("/data");
    char cwd[4096];
    printf("getcwd %s\n", getcwd(cwd, sizeof(cwd)) ? cwd : strerror(errno));
    show_link("/proc/self/cwd");
    const char *files[] = {"/proc/mounts", "/proc/self/mounts", "/proc/self/maps",
                           "/proc/self/status", "/proc/self/cmdline"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        int fd = open(files[i], O_RDONLY);
        char buf[8192];
        ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
        printf("%s:\n%.*s\n", files[i], n < 0 ? 0 : (int)n, buf);
        if (fd >= 0)
            close(fd);
    }
}

static void *idle(void *arg)
{
    (void)arg;
    pause();
    return NULL;
}

static void attack_threads(void)
{
    MUST_FAIL("clone CLONE_NEWUSER", sc(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0, 0));
    MUST_FAIL("clone CLONE_NEWNS|CLONE_NEWPID",
              sc(SYS_clone, CLONE_NEWNS | CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0, 0));
    MUST_FAIL("clone CLONE_VM without CLONE_THREAD (no stack)",
              sc(SYS_clone, CLONE_VM | SIGCHLD, 0, 0, 0, 0, 0));
    MUST_FAIL("clone a thread with CLONE_NEWUSER",
              sc(SYS_clone,
                 CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_NEWUSER,
                 0, 0, 0, 0, 0));
    MUST_FAIL("unshare CLONE_NEWUSER", sc(SYS_unshare, CLONE_NEWUSER, 0, 0, 0, 0, 0));
    MUST_FAIL("setns", sc(SYS_setns, 0, 0, 0, 0, 0, 0));
    MUST_FAIL("tgkill of tid 0", sc(SYS_tgkill, getpid(), 0, 0, 0, 0, 0));
    MUST_FAIL("tgkill of tid -1", sc(SYS_tgkill, getpid(), -1, 0, 0, 0, 0));
    MUST_FAIL("tkill of a tid not in the sandbox", sc(SYS_tkill, 99999, 0, 0, 0, 0, 0));
    MUST_FAIL("kill of a pid not in the sandbox", sc(SYS_kill, 99999, 0, 0, 0, 0, 0));
    MUST_FAIL("ptrace of the first process", sc(SYS_ptrace, 16 /* PTRACE_ATTACH */, 1, 0, 0, 0, 0));

    /* More threads than the stub region's slots. */
    pthread_t th[80];
    int n = 0, err = 0;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 65536);
    for (; n < 80; n++)
        if ((err = pthread_create(&th[n], &attr, idle, NULL)) != 0)
            break;
    report("80 threads: refused past the slots (EAGAIN), the process lives on",
           n < 80 && n >= 8 && err == EAGAIN, "%d made, then %s", n, strerror(err));
    printf("threads made: %d\n", n);
}

static volatile int scribbling = 1;

/* Rewrites slot 0's `uc` word (where the kernel finds the FPU state a new
 * thread inherits) and a fake ucontext on slot 0's signal stack, with
 * pointers at and past the slot's edges, as fast as it can. */
static void *scribbler(void *arg)
{
    (void)arg;
    uint64_t slot = STUB_BASE + SLOT, lo = slot + 4096, hi = slot + SLOT;
    volatile uint64_t *uc = (volatile uint64_t *)(slot + 240);
    const uint64_t ucs[] = {0, 1, lo - 8, lo, lo + 8, hi - 8, hi - 900, hi, ~0ULL, STUB_BASE};
    const uint64_t fps[] = {0, lo, lo + 16, hi - 512, hi - 496, hi - 8, hi, ~0ULL - 15, STUB_BASE};
    for (unsigned i = 0; scribbling; i++) {
        *uc = ucs[i % (sizeof(ucs) / sizeof(ucs[0]))];
        /* fpregs of a ucontext at lo and at hi - 900: mcontext's fpregs is at 224 */
        *(volatile uint64_t *)(hi - 900 + 224) = fps[i % (sizeof(fps) / sizeof(fps[0]))];
    }
    return NULL;
}

static void *noop(void *arg)
{
    return arg;
}

/* Threads made while another thread forges what the kernel reads to copy
 * the creator's FPU state: the kernel reads only inside slot 0. */
static void attack_fpu_pointer(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        pthread_t s, t;
        pthread_create(&s, NULL, scribbler, NULL);
        int made = 0;
        for (int i = 0; i < 50; i++)
            if (pthread_create(&t, NULL, noop, NULL) == 0 && pthread_join(t, NULL) == 0)
                made++;
        scribbling = 0;
        pthread_join(s, NULL);
        _exit(made > 0 ? 0 : 3);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    /* The scribbler also tramples slot 0's live SIGSYS frames: the process
     * may die of its own doing; the kernel must not. */
    report("the FPU state's pointers forged while threads are made: the kernel goes on",
           (WIFEXITED(st) && WEXITSTATUS(st) == 0) || (WIFSIGNALED(st) && WTERMSIG(st) != SIGKILL),
           "the child ended with status %#x", st);
    printf("fpu child: %s %d\n", WIFSIGNALED(st) ? "signal" : "exit",
           WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

static void on_usr1(int sig)
{
    (void)sig;
    _exit(7);
}

/* A caught signal delivered while %rsp points at a context page: the
 * kernel must not write the signal frame there (Linux's answer to a stack
 * it cannot write: SIGSEGV). */
static void attack_frame_in_region(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGUSR1, on_usr1);
        long me = getpid(), r;
        uint64_t sp = STUB_BASE + SLOT * 2 + 0x800;
        __asm__ volatile("mov %%rsp, %%r12\n\tmov %[sp], %%rsp\n\tsyscall\n\tmov %%r12, %%rsp"
                         : "=a"(r)
                         : "a"((long)SYS_kill), "D"(me), "S"((long)SIGUSR1), [sp] "r"(sp)
                         : "rcx", "r11", "r12", "memory");
        _exit(r == 0 ? 8 : 9);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    report("a signal frame for a stack in the region: SIGSEGV",
           WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "the child ended with status %#x", st);
}

static volatile int spin_go = 1, spinning;

/* Runs workload code without a system call until told to stop: its host
 * thread is not in the SIGSYS handler while its context page is forged. */
static void *spinner(void *arg)
{
    (void)arg;
    spinning = 1;
    while (spin_go)
        __asm__ volatile("pause");
    return (void *)(uintptr_t)syscall(SYS_gettid);
}

/* A thread's context page, as platform.h lays it out. */
struct ctx {
    uint32_t state, kernel_waiting, stub_waiting, op;
    uint64_t nr, regs[18], args[7], ret;
};

static void attack_forge(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        pthread_t t;
        pthread_create(&t, NULL, spinner, NULL);
        while (!spinning)
            sched_yield();
        /* Slot 1 is the new thread's: a trap it never made, with a call
         * number past every table and registers pointing into the region,
         * then one with a host call's reply fields set. */
        volatile struct ctx *c = (volatile struct ctx *)(STUB_BASE + SLOT * 2);
        for (int round = 0; round < 3; round++) {
            c->nr = round == 0 ? 1ULL << 40 : round == 1 ? (uint64_t)-1 : SYS_getpid;
            for (int i = 0; i < 18; i++)
                c->regs[i] = STUB_BASE + SLOT;
            c->op = 3;
            c->args[0] = SYS_kill;
            c->args[1] = 1;
            c->args[2] = SIGKILL;
            c->ret = (uint64_t)-1;
            __atomic_store_n(&c->state, 1, __ATOMIC_SEQ_CST); /* SB_TRAPPED */
            for (int i = 0; i < 100; i++)
                sched_yield(); /* calls of this thread: the kernel's loop turns */
        }
        spin_go = 0;
        void *tid = NULL;
        pthread_join(t, &tid);
        _exit(tid != NULL ? 0 : 3);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    /* Whatever the kernel made of the forged traps, they were the
     * process's own calls: it ends normally or by a signal of its own, and
     * the sandbox (this process, the kernel) carries on. */
    report("forged traps in another thread's context page",
           (WIFEXITED(st) && WEXITSTATUS(st) == 0) || (WIFSIGNALED(st) && WTERMSIG(st) != SIGKILL),
           "the child ended with status %#x", st);
    printf("forged child: %s %d\n", WIFSIGNALED(st) ? "signal" : "exit",
           WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *w = argv[i];
        if (strcmp(w, "mem") == 0)
            attack_mem();
        else if (strcmp(w, "fds") == 0)
            attack_fds();
        else if (strcmp(w, "paths") == 0)
            attack_paths();
        else if (strcmp(w, "leaks") == 0)
            attack_leaks();
        else if (strcmp(w, "threads") == 0)
            attack_threads();
        else if (strcmp(w, "forge") == 0) {
            attack_forge();
            attack_frame_in_region();
            attack_fpu_pointer();
        } else
            fprintf(stderr, "escape: unknown attack %s\n", w);
    }
    printf("alive\n");
    return bad;
}
