/* The kernel's side of the platform (platform.h): starting a stub process and
 * the hand-over through its context page. */
#define _GNU_SOURCE
#include "level/sandbox/platform.h"

#include "core/util.h"

#include <errno.h>
#include <linux/capability.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <linux/filter.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SA_RESTORER 0x04000000 /* not in the C library headers */
/* Both sides spin this long before sleeping (machine.md: waking a sleeping
 * peer on another vCPU costs ~45 us); on one CPU spinning only delays the
 * peer, so neither does. */
#define SPIN_NS        10000L
#define STUB_SPINS     4000       /* pause loops: ~10 us here */
#define KERNEL_WAIT_NS 100000000L /* sleep at most this long between checks that the stub lives */

struct k_sigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    uint64_t mask;
};

static long futex(uint32_t *w, int op, uint32_t val, const struct timespec *ts)
{
    return syscall(SYS_futex, w, op, val, ts, NULL, 0);
}

/* In the forked child: become a stub process. Any failure ends it (the
 * kernel sees it die before its first trap). Only raw system calls after the
 * stub region is mapped: libc's wrappers would install their own restorer. */
static void stub_child(int memfd, pid_t kernel)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != kernel)
        _exit(127);
    if (memfd != SB_MEMFD_FD && dup2(memfd, SB_MEMFD_FD) < 0)
        _exit(127);
    syscall(SYS_close_range, 0, SB_MEMFD_FD - 1, 0);
    syscall(SYS_close_range, SB_MEMFD_FD + 1, ~0U, 0);
    /* What the C library registered with the host kernel in memory about to
     * be unmapped: the kernel would write there (rseq on every signal and
     * preemption: a fault is a SIGSEGV; the tid to clear at exit). */
    if (__rseq_size > 0 &&
        syscall(SYS_rseq, (uint8_t *)__builtin_thread_pointer() + __rseq_offset,
                __rseq_size < 32 ? 32 : __rseq_size, RSEQ_FLAG_UNREGISTER, RSEQ_SIG) < 0)
        _exit(127); /* registered with the size of struct rseq, 32 */
    syscall(SYS_set_tid_address, NULL);
    syscall(SYS_set_robust_list, NULL, 3 * sizeof(void *));
    uint8_t *base = (uint8_t *)SB_STUB_BASE;
    if (mmap(base, 4096, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED_NOREPLACE, SB_MEMFD_FD, 0) !=
            base ||
        mmap(base + SB_SLOT_SIZE, SB_STUB_SIZE - SB_SLOT_SIZE, PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_FIXED_NOREPLACE, SB_MEMFD_FD, SB_SLOT_SIZE) != base + SB_SLOT_SIZE)
        _exit(127);
    stack_t ss = {.ss_sp = base + SB_SLOT_SIZE + 4096, .ss_size = SB_SLOT_SIZE - 4096};
    if (sigaltstack(&ss, NULL) < 0)
        _exit(127);
    uintptr_t off_handler = (uintptr_t)sb_stub_handler - (uintptr_t)sb_stub_code_start;
    uintptr_t off_restorer = (uintptr_t)sb_stub_restorer - (uintptr_t)sb_stub_code_start;
    uintptr_t off_entry = (uintptr_t)sb_stub_entry - (uintptr_t)sb_stub_code_start;
    struct k_sigaction sa = {.handler = base + off_handler,
                             .flags = SA_SIGINFO | SA_ONSTACK | SA_RESTORER,
                             .restorer = base + off_restorer,
                             .mask = ~0ULL};
    if (syscall(SYS_rt_sigaction, SIGSYS, &sa, NULL, 8) < 0)
        _exit(127);
    /* Every other signal blocked: a fault is then fatal (the kernel sees the
     * stub die), and nothing asynchronous runs host code in the stub. */
    uint64_t mask = ~(1ULL << (SIGSYS - 1));
    if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &mask, NULL, 8) < 0)
        _exit(127);
    /* No capability either: the filter is the boundary, this is depth. */
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct none[2] = {{0}};
    if (prctl(PR_CAPBSET_READ, 0, 0, 0, 0) >= 0)
        for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
            prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
    if (syscall(SYS_capset, &hdr, none) < 0)
        _exit(127);
    struct sock_fprog prog;
    sb_stub_filter(&prog);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
        _exit(127);
    ((void (*)(void))(base + off_entry))();
    __builtin_trap();
}

int sb_stub_spawn(int memfd, uint8_t *kstub, struct sb_stub *s, cerr_t *err)
{
    size_t code = (size_t)(sb_stub_code_end - sb_stub_code_start);
    if (code > 4096)
        return cerr_set(err, 0, "sandbox stub: %zu bytes of code do not fit a page", code);
    memcpy(kstub, sb_stub_code_start, code);
    memset(kstub + SB_SLOT_SIZE, 0, sizeof(struct sb_ctx));
    s->ctx = (struct sb_ctx *)(kstub + SB_SLOT_SIZE);
    s->dead = 0;
    cpu_set_t cpus;
    bool one = sched_getaffinity(0, sizeof(cpus), &cpus) == 0 && CPU_COUNT(&cpus) == 1;
    s->spin_ns = one ? 0 : SPIN_NS;
    s->ctx->spin = one ? 0 : STUB_SPINS;
    pid_t kernel = getpid();
    s->pid = fork();
    if (s->pid < 0)
        return cerr_set(err, errno, "sandbox: fork the stub process");
    if (s->pid == 0)
        stub_child(memfd, kernel);
    if (sb_stub_wait(s) < 0)
        return cerr_set(err, 0,
                        "sandbox: the stub process died before its first system call (%s %d)",
                        WIFSIGNALED(s->status) ? "signal" : "exit",
                        WIFSIGNALED(s->status) ? WTERMSIG(s->status) : WEXITSTATUS(s->status));
    return 0;
}

static int reap(struct sb_stub *s)
{
    if (waitpid(s->pid, &s->status, WNOHANG) == s->pid) {
        s->dead = 1;
        return -1;
    }
    return 0;
}

int sb_stub_wait(struct sb_stub *s)
{
    uint32_t *state = &s->ctx->state;
    if (s->dead)
        return -1;
    unsigned long long until = now_ns() + (unsigned long long)s->spin_ns;
    for (unsigned i = 1; s->spin_ns > 0; i++) {
        if (__atomic_load_n(state, __ATOMIC_ACQUIRE) == SB_TRAPPED)
            return 0;
        __builtin_ia32_pause();
        if (i % 64 == 0 && now_ns() > until)
            break;
    }
    /* kernel_waiting, then re-check (the stub sets state, then reads it). */
    __atomic_store_n(&s->ctx->kernel_waiting, 1, __ATOMIC_SEQ_CST);
    for (;;) {
        uint32_t v = __atomic_load_n(state, __ATOMIC_SEQ_CST);
        if (v == SB_TRAPPED)
            break;
        struct timespec ts = {0, KERNEL_WAIT_NS};
        futex(state, FUTEX_WAIT, v, &ts);
        if (reap(s) < 0)
            return -1;
    }
    __atomic_store_n(&s->ctx->kernel_waiting, 0, __ATOMIC_RELAXED);
    return 0;
}

void sb_stub_reply(struct sb_stub *s, uint32_t op)
{
    s->ctx->op = op;
    __atomic_exchange_n(&s->ctx->state, SB_REPLIED, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&s->ctx->stub_waiting, __ATOMIC_SEQ_CST))
        futex(&s->ctx->state, FUTEX_WAKE, 1, NULL);
}

int sb_stub_hostcall(struct sb_stub *s, long nr, const uint64_t a[6], long *ret)
{
    s->ctx->args[0] = (uint64_t)nr;
    memcpy(&s->ctx->args[1], a, 6 * sizeof(uint64_t));
    sb_stub_reply(s, SB_OP_HOSTCALL);
    if (sb_stub_wait(s) < 0)
        return -1;
    *ret = (long)__atomic_load_n(&s->ctx->ret, __ATOMIC_RELAXED);
    return 0;
}

void sb_stub_kill(struct sb_stub *s)
{
    if (s->dead || s->pid <= 0)
        return;
    kill(s->pid, SIGKILL);
    while (waitpid(s->pid, &s->status, 0) < 0 && errno == EINTR)
        ;
    s->dead = 1;
}
