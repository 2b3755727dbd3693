/* The kernel's side of the platform (platform.h): the hand-over through a
 * stub's context page. */
#define _GNU_SOURCE
#include "level/sandbox/platform.h"

#include "core/util.h"

#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KERNEL_WAIT_NS 100000000L /* sleep at most this long between checks that the stub lives */

static long futex(uint32_t *w, int op, uint32_t val, const struct timespec *ts)
{
    return syscall(SYS_futex, w, op, val, ts, NULL, 0);
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

void sb_stub_kick(struct sb_stub *s)
{
    if (!s->dead && s->pid > 0 && __atomic_load_n(&s->ctx->state, __ATOMIC_SEQ_CST) != SB_TRAPPED)
        syscall(SYS_tgkill, s->pid, s->tid > 0 ? s->tid : s->pid,
                SB_KICK_SIG); /* that thread only */
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
