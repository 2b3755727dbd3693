/* close_range: closing (or marking close-on-exec) a range of descriptors
 * at once, as a forked child does before execve (python's subprocess). */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/close_range.h>
#include <sys/syscall.h>

#include "level/sandbox/kernel/sys.h"

/* Another live thread shares t's descriptor table. */
static bool table_shared(const struct sb_task *t)
{
    for (int i = 0; i < t->k->ntask; i++) {
        const struct sb_task *o = t->k->task[i];
        if (o != t && o->files == t->files && !o->zombie && !o->thread_gone)
            return true;
    }
    return false;
}

long sb_sys_close_range(struct sb_task *t, const uint64_t a[6])
{
    uint32_t first = (uint32_t)a[0], last = (uint32_t)a[1];
    if (a[2] & ~(uint64_t)(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) || first > last)
        return -EINVAL;
    /* Unsharing a table threads share: threads have one table (thread.c). */
    if ((a[2] & CLOSE_RANGE_UNSHARE) && table_shared(t)) {
        t->k->enosys[SYS_close_range]++;
        return -ENOSYS;
    }
    for (uint64_t fd = first; fd <= last && fd < SB_MAX_FDS; fd++) {
        struct sb_file *f = sb_fd_get(t->files, fd);
        if (f == NULL)
            continue;
        if (a[2] & CLOSE_RANGE_CLOEXEC)
            f->cloexec = true;
        else
            sb_fd_close(t->files, fd);
    }
    return 0;
}
