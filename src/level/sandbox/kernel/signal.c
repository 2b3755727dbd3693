/* Signal dispositions and masks, kept as bookkeeping: nothing is delivered
 * to the workload yet (docs/sandbox.md, next steps). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdbool.h>

#include "level/sandbox/kernel/sys.h"

#define SIGSET_SIZE 8
#define UNBLOCKABLE ((1ULL << (SIGKILL - 1)) | (1ULL << (SIGSTOP - 1)))

long sb_sys_rt_sigaction(struct sb_task *t, const uint64_t a[6])
{
    uint64_t sig = a[0];
    if (a[3] != SIGSET_SIZE || sig < 1 || sig > 64)
        return -EINVAL;
    struct sb_sigaction next;
    if (a[1] != 0) {
        if (sig == SIGKILL || sig == SIGSTOP)
            return -EINVAL;
        int r = sb_copy_in(t->mm, &next, a[1], sizeof(next));
        if (r < 0)
            return r;
        next.mask &= ~UNBLOCKABLE;
    }
    if (a[2] != 0) {
        int r = sb_copy_out(t->mm, a[2], &t->act[sig - 1], sizeof(next));
        if (r < 0)
            return r;
    }
    if (a[1] != 0)
        t->act[sig - 1] = next;
    return 0;
}

long sb_sys_rt_sigprocmask(struct sb_task *t, const uint64_t a[6])
{
    if (a[3] != SIGSET_SIZE)
        return -EINVAL;
    uint64_t set = 0, old = t->sigmask;
    if (a[1] != 0) {
        int r = sb_copy_in(t->mm, &set, a[1], sizeof(set));
        if (r < 0)
            return r;
        switch (a[0]) {
        case SIG_BLOCK:
            t->sigmask |= set;
            break;
        case SIG_UNBLOCK:
            t->sigmask &= ~set;
            break;
        case SIG_SETMASK:
            t->sigmask = set;
            break;
        default:
            return -EINVAL;
        }
        t->sigmask &= ~UNBLOCKABLE;
        sb_signal_unblocked(t);
    }
    if (a[2] != 0) {
        int r = sb_copy_out(t->mm, a[2], &old, sizeof(old));
        if (r < 0) {
            t->sigmask = old;
            return r;
        }
    }
    return 0;
}

/* Signals whose default action is to do nothing. */
static bool ignored_by_default(int sig)
{
    return sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH || sig == SIGCONT;
}

void sb_signal_unblocked(struct sb_task *t)
{
    uint64_t due = t->sigpending & ~t->sigmask;
    if (due == 0)
        return;
    int sig = __builtin_ctzll(due) + 1;
    t->sigpending &= ~(1ULL << (sig - 1));
    uint64_t handler = t->act[sig - 1].handler;
    if (handler == 0 && !ignored_by_default(sig)) {
        t->exited = true;
        t->exit_status = sig;
    }
    /* Ignored since, or caught (not delivered yet): dropped. */
}

long sb_epipe(struct sb_task *t)
{
    /* SIGPIPE's default action, the one signal the kernel delivers so far:
     * a writer to a pipe nobody reads ends, as on Linux, unless it ignores,
     * catches (not delivered yet: it sees EPIPE) or blocks SIGPIPE. */
    uint64_t bit = 1ULL << (SIGPIPE - 1);
    if (t->act[SIGPIPE - 1].handler == 0 /* SIG_DFL */ && !(t->sigmask & bit)) {
        t->exited = true;
        t->exit_status = SIGPIPE;
    }
    return -EPIPE;
}

/* kill with the default actions: the target ends (or nothing happens); a
 * blocked signal is pending until unblocked. What needs more than that — a
 * handler, a stop, a process group — is ENOSYS until signals are delivered. */
static long send(struct sb_task *t, int64_t pid, uint64_t sig)
{
    if (sig > 64)
        return -EINVAL;
    if (pid <= 0)
        return -ENOSYS;
    struct sb_task *target = NULL;
    for (int i = 0; i < t->k->ntask; i++)
        if (t->k->task[i]->pid == pid)
            target = t->k->task[i];
    if (target == NULL)
        return -ESRCH;
    if (sig == 0 || target->zombie)
        return 0;
    uint64_t handler = target->act[sig - 1].handler, bit = 1ULL << (sig - 1);
    if (sig != SIGKILL &&
        (handler == 1 /* SIG_IGN */ || (handler == 0 && ignored_by_default((int)sig))))
        return 0;
    if (sig != SIGKILL &&
        (handler > 1 || sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU))
        return -ENOSYS;
    if (sig != SIGKILL && (target->sigmask & bit)) {
        /* Blocked: pending until unblocked (the C library blocks every
         * signal around fork, so a child just forked often has). */
        target->sigpending |= bit;
        return 0;
    }
    if (target == t) {
        t->exited = true;
        t->exit_status = (int)sig;
    } else {
        sb_task_exit(target, (int)sig);
    }
    return 0;
}

long sb_sys_kill(struct sb_task *t, const uint64_t a[6])
{
    return send(t, (int32_t)a[0], a[1]);
}

long sb_sys_tkill(struct sb_task *t, const uint64_t a[6])
{
    return send(t, (int32_t)a[0], a[1]); /* one thread per process: tid is pid */
}

long sb_sys_tgkill(struct sb_task *t, const uint64_t a[6])
{
    if ((int32_t)a[0] != (int32_t)a[1])
        return -ESRCH;
    return send(t, (int32_t)a[1], a[2]);
}
