/* Starting the sandbox's first process and serving its system calls. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "level/sandbox/kernel/sys.h"

int sb_open_exe(int rootfd, const char *path, cerr_t *err)
{
    struct open_how how = {.flags = O_RDONLY | O_CLOEXEC,
                           .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS};
    int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
    if (fd < 0)
        return cerr_set(err, errno, "`%s`", path);
    char interp[SB_PATH_MAX];
    int ifd;
    if (sb_elf_check(fd, path, err) < 0 ||
        sb_interp_open(NULL, rootfd, fd, path, interp, &ifd, err) < 0) {
        close(fd);
        return -1;
    }
    if (ifd >= 0)
        close(ifd);
    return fd;
}

/* The initial stack, mapped and filled. */
static int make_stack(struct sb_task *t, const struct sb_start *s, const struct sb_elf *elf,
                      uint64_t *sp, cerr_t *err)
{
    long r =
        sb_mm_map(t, SB_STACK_TOP - SB_STACK_SIZE, SB_STACK_SIZE, PROT_READ | PROT_WRITE, true);
    if (r < 0)
        return cerr_set(err, (int)-r, "sandbox: map the stack");
    uint8_t random[16];
    if (getrandom(random, sizeof(random), 0) != sizeof(random))
        return cerr_set(err, errno, "sandbox: getrandom for AT_RANDOM");
    const struct sb_stack_in in = {.argv = s->argv,
                                   .envp = s->envp,
                                   .elf = elf,
                                   .uid = s->uid,
                                   .gid = s->gid,
                                   .random = random,
                                   .execfn = s->exe};
    /* Built in place: the top 256 KiB of the stack, through the kernel's mapping. */
    const uint64_t size = 256 << 10;
    struct iovec iov[1];
    if (sb_mm_iov(t->mm, SB_STACK_TOP - size, size, PROT_WRITE, iov, 1) != 1)
        return cerr_set(err, 0, "sandbox: the stack is not one mapping");
    if (sb_stack_build(&in, iov[0].iov_base, size, SB_STACK_TOP, sp) < 0)
        return cerr_set(err, E2BIG, "sandbox: arguments and environment");
    return 0;
}

int sb_task_load(struct sb_task *t, const struct sb_start *s, cerr_t *err)
{
    struct sb_elf elf;
    if (sb_elf_load(t, s->exe_fd, s->exe, &elf, err) < 0 || sb_interp_load(t, s, &elf, err) < 0)
        return -1;
    t->mm->brk_start = t->mm->brk = SB_PAGE_UP(elf.end);
    sb_proc_exec(t, s->exe, s->argv);
    uint64_t sp;
    if (make_stack(t, s, &elf, &sp, err) < 0)
        return -1;
    memset(t->regs, 0, sizeof(t->regs));
    t->regs[SB_RIP] = elf.interp ? elf.interp_entry : elf.entry;
    t->regs[SB_RSP] = sp;
    t->regs[SB_EFLAGS] = 0x202; /* IF, and the reserved bit 1 */
    t->set_regs = true;
    return 0;
}

int sb_task_start(struct sb_task *t, struct sb_kernel *k, const struct sb_start *s, cerr_t *err)
{
    memset(t, 0, sizeof(*t));
    t->k = k;
    t->pid = t->tid = 1;
    t->pgid = t->sid = 1;
    memcpy(t->cwd, k->cwd, sizeof(t->cwd));
    t->umask = k->umask;
    k->task[0] = t;
    k->ntask = 1;
    k->next_pid = 2;
    cpu_set_t cpus; /* for sched_getaffinity, read while the host call is still allowed */
    if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0)
        memcpy(k->cpus, &cpus, sizeof(k->cpus) < sizeof(cpus) ? sizeof(k->cpus) : sizeof(cpus));
    static const int stdio[3] = {0, 1, 2};
    return sb_task_new(t, stdio, s, err);
}

int sb_task_new(struct sb_task *t, const int stdio[3], const struct sb_start *s, cerr_t *err)
{
    struct sb_kernel *k = t->k;
    t->stub.pid = -1;
    t->mm = calloc(1, sizeof(*t->mm));
    t->files = calloc(1, sizeof(*t->files));
    if (t->mm == NULL || t->files == NULL)
        return cerr_set(err, ENOMEM, "sandbox");
    sb_files_init(t->files);
    t->mm->memfd = -1;
    if (sb_mm_init(t->mm, err) < 0)
        return -1;
    if (s->rlim != NULL)
        memcpy(t->mm->rlim, s->rlim, sizeof(t->mm->rlim));
    else
        sb_rlimit_init(t->mm);
    for (int fd = 0; fd < 3; fd++) {
        int host = fcntl(stdio[fd], F_DUPFD_CLOEXEC, 3);
        struct stat st;
        if (host >= 0 && sb_fd_install(t->files, host, false, NULL, fd) == fd) {
            t->files->fd[fd].outside = fstat(host, &st) == 0 && !S_ISREG(st.st_mode);
            t->files->fd[fd].outer = true;
        }
    }
    if (k->zygote.pid <= 0 && sb_zygote_start(&k->zygote, err) < 0)
        return -1;
    if (sb_stub_spawn(&k->zygote, t->mm->memfd, t->mm->kbase, &t->stub, err) < 0)
        return -1;
    return sb_task_load(t, s, err);
}

void sb_task_free(struct sb_task *t)
{
    sb_stub_kill(&t->stub);
    if (t->files != NULL)
        sb_files_close_all(t->files);
    free(t->files);
    if (t->mm != NULL)
        sb_mm_free(t->mm);
    free(t->mm);
    t->files = NULL;
    t->mm = NULL;
}

static void wake_parked(struct sb_kernel *k);

/* Waiting for its next call: neither ended nor parked. */
static bool runnable(const struct sb_task *t)
{
    return !t->zombie && !t->parked && !t->stub.dead && !t->thread_gone;
}

/* A task waiting to be served, or NULL after a stub's death was handled. */
static struct sb_task *wait_any(struct sb_kernel *k, long spin_ns)
{
    unsigned long long until = now_ns() + (unsigned long long)spin_ns;
    for (unsigned round = 1;; round++) {
        for (int i = 0; i < k->ntask; i++) {
            struct sb_task *t = k->task[i];
            if (runnable(t) && __atomic_load_n(&t->stub.ctx->state, __ATOMIC_ACQUIRE) == SB_TRAPPED)
                return t;
        }
        if (spin_ns == 0 || (round % 16 == 0 && now_ns() > until))
            break;
        __builtin_ia32_pause();
    }
    /* Sleep on every runnable task's state word at once. */
    struct futex_waitv w[SB_MAX_TASKS + 1];
    struct sb_task *ready = NULL;
    unsigned n = 0;
    for (int i = 0; i < k->ntask; i++) {
        struct sb_task *t = k->task[i];
        if (runnable(t))
            __atomic_store_n(&t->stub.ctx->kernel_waiting, 1, __ATOMIC_SEQ_CST);
    }
    for (int i = 0; i < k->ntask && ready == NULL; i++) {
        struct sb_task *t = k->task[i];
        if (!runnable(t))
            continue;
        uint32_t v = __atomic_load_n(&t->stub.ctx->state, __ATOMIC_SEQ_CST);
        if (v == SB_TRAPPED)
            ready = t;
        w[n++] = (struct futex_waitv){
            .val = v, .uaddr = (uintptr_t)&t->stub.ctx->state, .flags = FUTEX_32};
    }
    /* At most 100 ms (then check the stubs are alive), less for a sleep's end. */
    unsigned long long at = now_ns() + 100000000ULL;
    bool sleeper = false;
    static struct pollfd pf[SB_MAX_TASKS * SB_WAIT_FDS + 1 + SB_CTL_POLLFDS];
    nfds_t npf = 0;
    for (int i = 0; i < k->ntask; i++) {
        struct sb_task *t = k->task[i];
        if (t->zombie || !t->parked)
            continue;
        if (t->wake_at != 0) {
            sleeper = true;
            if (t->wake_at < at)
                at = t->wake_at;
        }
        for (int j = 0; j < t->nwait; j++)
            pf[npf++] = t->wait[j];
    }
    unsigned long long timer = sb_itimer_next(k); /* SIGALRM's time (itimer.c) */
    if (timer != 0) {
        sleeper = true;
        if (timer < at)
            at = timer;
    }
    /* A futex and host descriptors cannot be waited for at once: with
     * runnable processes the loop looks at the descriptors every ms. */
    if (ready == NULL && n > 0 && npf > 0 && at > now_ns() + 1000000ULL)
        at = now_ns() + 1000000ULL;
    /* A signal from outside (or a stub's end) changes this word and writes
     * to this descriptor: every wait below ends for it. */
    w[n] = (struct futex_waitv){.val = 0, .uaddr = (uintptr_t)sb_hostsig_word(), .flags = FUTEX_32};
    pf[npf] = (struct pollfd){.fd = sb_hostsig_fd(), .events = POLLIN};
    /* A request of `cella exec` also ends a wait in the host's poll. */
    nfds_t nctl = (nfds_t)sb_ctl_pollfds(k, pf + npf + 1);
    if (ready == NULL && n > 0) {
        struct timespec ts = {.tv_sec = (time_t)(at / 1000000000ULL),
                              .tv_nsec = (long)(at % 1000000000ULL)};
        syscall(SYS_futex_waitv, w, n + 1, 0, &ts, CLOCK_MONOTONIC);
        if (npf > 0)
            poll(pf, npf, 0);
    } else if (ready == NULL && (npf > 0 || sleeper)) {
        unsigned long long now = now_ns(), left = at > now ? at - now : 0;
        k->ctl_due = poll(pf, npf + 1 + nctl, (int)((left + 999999ULL) / 1000000ULL)) > 0;
    } else if (ready == NULL) {
        /* nothing to do until a signal, a stub's end or a request */
        k->ctl_due = poll(pf, npf + 1 + nctl, -1) > 0;
    }
    for (int i = 0; i < k->ntask; i++)
        if (!k->task[i]->zombie && !k->task[i]->stub.dead)
            __atomic_store_n(&k->task[i]->stub.ctx->kernel_waiting, 0, __ATOMIC_RELAXED);
    if (ready != NULL)
        return ready;
    /* Stubs that died (a fault, a kill from outside) end their process. */
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        for (int i = 0; i < k->ntask; i++) {
            struct sb_task *t = k->task[i];
            if (t->stub.pid == pid && !t->stub.dead) {
                t->stub.dead = 1;
                t->stub.status = st;
                sb_task_exit(t, st);
                break;
            }
        }
    }
    wake_parked(k);
    return NULL;
}

void sb_task_exit(struct sb_task *t, int status)
{
    struct sb_kernel *k = t->k;
    t = sb_thread_group_end(t); /* the process: every thread ends */
    if (t->zombie)
        return;
    sb_task_free(t);
    t->zombie = true;
    t->parked = false;
    t->exited = false;
    t->wait_status = status;
    if (t->execd)
        k->execd_ended = true;
    if (t->parent != NULL)
        sb_signal_send(NULL, sb_thread_for_signal(t->parent, SIGCHLD), SIGCHLD,
                       WIFSIGNALED(status) ? CLD_KILLED : CLD_EXITED, t->pid,
                       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    struct sb_task *init = k->task[0];
    for (int i = 0; i < k->ntask; i++)
        if (k->task[i]->parent == t)
            k->task[i]->parent = init == t ? NULL : init;
}

/* The calls whose parking a caught signal interrupts with a restart when
 * the handler has SA_RESTART, as Linux's ERESTARTSYS; the others (sleeps,
 * poll, epoll, sigsuspend) end with EINTR. */
static bool restartable(uint64_t nr)
{
    return nr == SYS_read || nr == SYS_write || nr == SYS_readv || nr == SYS_writev ||
           nr == SYS_wait4 || nr == SYS_accept || nr == SYS_accept4 || nr == SYS_connect ||
           nr == SYS_recvfrom || nr == SYS_sendto || nr == SYS_recvmsg || nr == SYS_sendmsg;
}

/* Answer t's call with r (or its new registers), delivering a caught
 * pending signal first; t may end instead (a frame it cannot take). */
static void answer(struct sb_task *t, long r, bool restart)
{
    struct sb_ctx *c = t->stub.ctx;
    sb_signal_deliver(t, r, restart);
    if (t->exited) {
        sb_task_exit(t, t->exit_status);
        return;
    }
    /* A hint for the next call only, and only after this call's result. */
    c->empty_fd = t->set_regs ? 0 : t->empty_fd;
    t->empty_fd = 0;
    if (t->set_regs) {
        memcpy(c->regs, t->regs, sizeof(t->regs));
        t->set_regs = false;
        sb_stub_reply(&t->stub, SB_OP_REGS);
        sb_thread_share(t);
        return;
    }
    c->ret = (uint64_t)r;
    sb_stub_reply(&t->stub, SB_OP_RESULT);
    sb_thread_share(t);
}

/* Every parked call is made again: whatever the last call changed (a child
 * ended, a pipe was written or closed) may let it answer now; a caught
 * signal interrupts it. */
static void wake_parked(struct sb_kernel *k)
{
    for (bool again = true; again;) {
        again = false;
        for (int i = 0; i < k->ntask; i++) {
            struct sb_task *t = k->task[i];
            if (t->zombie || !t->parked)
                continue;
            t->nwait = 0;
            long r = t->park_fn(t, t->park_args);
            bool restart = false;
            if (r == SB_PARK && !t->exited) {
                int sig = sb_signal_next(t);
                if (sig == 0)
                    continue;
                restart = restartable(t->park_nr) && (t->act[sig - 1].flags & SA_RESTART);
                r = restart ? 0 : -EINTR;
            }
            t->parked = false;
            t->wake_at = 0;
            answer(t, r, restart);
            again = true; /* it may have changed what others wait for; k->task may have moved */
            break;
        }
    }
}

/* Serve one trapped call of t and answer it (unless t parked or ended). */
static void serve(struct sb_task *t)
{
    struct sb_ctx *c = t->stub.ctx;
    /* Read once into the kernel's memory: the workload can change the page. */
    uint64_t nr = __atomic_load_n(&c->nr, __ATOMIC_RELAXED);
    uint32_t sig = __atomic_load_n(&c->sig, __ATOMIC_RELAXED);
    memcpy(t->regs, c->regs, sizeof(t->regs));
    long r = 0;
    if (sig == SIGSYS)
        r = sb_syscall(t, nr);
    else /* no system call: interrupted for a signal, or a fault */
        sb_signal_trap(t, (int)sig, __atomic_load_n(&c->code, __ATOMIC_RELAXED),
                       __atomic_load_n(&c->addr, __ATOMIC_RELAXED));
    if (t->exited)
        sb_task_exit(t, t->exit_status);
    else if (t->stub.dead)
        sb_task_exit(t, t->stub.status);
    if (!t->zombie && !t->parked && !t->thread_gone)
        answer(t, r, false);
    wake_parked(t->k);
}

int sb_task_run(struct sb_task *init)
{
    struct sb_kernel *k = init->k;
    if (init->set_regs) {
        memcpy(init->stub.ctx->regs, init->regs, sizeof(init->regs));
        init->set_regs = false;
        sb_stub_reply(&init->stub, SB_OP_REGS);
    }
    while (!init->zombie) {
        sb_thread_reap(k);
        sb_ctl_serve(k);
        bool woke = sb_hostsig_take(k);
        if (sb_itimer_fire(k) || woke) {
            wake_parked(k);
            continue;
        }
        struct sb_task *t = wait_any(k, init->stub.spin_ns);
        if (t != NULL)
            serve(t);
    }
    /* The first process's end is the sandbox's: every other process ends. */
    while (k->ntask > 1) {
        struct sb_task *t = k->task[--k->ntask];
        if (sb_leader(t) == t) /* a thread's memory and files are its process's */
            sb_task_free(t);
        free(t);
    }
    int st = init->wait_status;
    return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}
