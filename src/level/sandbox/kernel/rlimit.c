/* Resource limits: the spec's process.rlimits (the container applied them
 * to the kernel process before it started the sandbox) are each process's
 * at the start, then its own: getrlimit, setrlimit and prlimit64 on it or
 * another process of the sandbox. The kernel reports and keeps them;
 * enforcing them (RLIMIT_AS, RLIMIT_NPROC...) is for later, and
 * RLIMIT_NOFILE is never above the descriptor table's size. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/resource.h>

#include "level/sandbox/kernel/sys.h"

_Static_assert(RLIM_NLIMITS == 16, "struct sb_mm's rlim[]");

void sb_rlimit_init(struct sb_mm *mm)
{
    for (int r = 0; r < RLIM_NLIMITS; r++) {
        struct rlimit l = {RLIM_INFINITY, RLIM_INFINITY};
        getrlimit(r, &l);
        mm->rlim[r] = (struct sb_rlimit){l.rlim_cur, l.rlim_max};
    }
    struct sb_rlimit *n = &mm->rlim[RLIMIT_NOFILE];
    if (n->max > SB_MAX_FDS)
        n->max = SB_MAX_FDS;
    if (n->cur > n->max)
        n->cur = n->max;
}

/* A process's limits: pid 0 is the caller's. */
static struct sb_mm *target(struct sb_task *t, uint64_t pid)
{
    if (pid == 0 || (int)pid == t->pid)
        return t->mm;
    for (int i = 0; i < t->k->ntask; i++) {
        struct sb_task *o = t->k->task[i];
        if (o->pid == (int)pid && !o->zombie)
            return o->mm;
    }
    return NULL;
}

static long limits(struct sb_task *t, uint64_t pid, uint64_t res, uint64_t unew, uint64_t uold)
{
    if (res >= RLIM_NLIMITS)
        return -EINVAL;
    struct sb_rlimit l;
    if (unew != 0) {
        int r = sb_copy_in(t->mm, &l, unew, sizeof(l));
        if (r < 0)
            return r;
        if (l.cur > l.max)
            return -EINVAL;
    }
    struct sb_mm *mm = target(t, pid);
    if (mm == NULL)
        return -ESRCH;
    struct sb_rlimit *cur = &mm->rlim[res];
    if (uold != 0) {
        int r = sb_copy_out(t->mm, uold, cur, sizeof(*cur));
        if (r < 0)
            return r;
    }
    if (unew == 0)
        return 0;
    /* Raising a hard limit is CAP_SYS_RESOURCE's, which the kernel does
     * not give the workload; NOFILE stops at the table's size (EPERM, as
     * Linux's beyond nr_open). */
    if (l.max > cur->max || (res == RLIMIT_NOFILE && l.max > SB_MAX_FDS))
        return -EPERM;
    *cur = l;
    return 0;
}

long sb_sys_getrlimit(struct sb_task *t, const uint64_t a[6])
{
    return a[1] == 0 ? -EFAULT : limits(t, 0, a[0], 0, a[1]);
}

long sb_sys_setrlimit(struct sb_task *t, const uint64_t a[6])
{
    return a[1] == 0 ? -EFAULT : limits(t, 0, a[0], a[1], 0);
}

long sb_sys_prlimit64(struct sb_task *t, const uint64_t a[6])
{
    return limits(t, a[0], a[1], a[2], a[3]);
}
