/* Signal dispositions and masks, kept as bookkeeping: nothing is delivered
 * to the workload yet (docs/sandbox.md, next steps). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>

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
