/* eventfd and timerfd: the host's own, made by the kernel with the host end
 * non-blocking (a read that would block parks the process, as on a kernel
 * pipe). The counter, EFD_SEMAPHORE, the timer's clocks, intervals and
 * expiration counts are the host kernel's, in the container's time
 * namespace as the sandbox's clocks are; poll and epoll see them as any
 * host descriptor. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "level/sandbox/kernel/sys.h"

static long install(struct sb_task *t, int host, bool cloexec, bool nonblock, bool timer)
{
    if (host < 0)
        return -errno;
    long fd = sb_fd_install(t->files, host, cloexec, NULL, 0);
    if (fd >= 0) {
        t->files->fd[fd].kpipe = true;
        t->files->fd[fd].nonblock = nonblock;
        t->files->fd[fd].timerfd = timer;
    }
    return fd;
}

long sb_sys_eventfd2(struct sb_task *t, const uint64_t a[6])
{
    if (a[1] & ~(uint64_t)(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE))
        return -EINVAL;
    int host = eventfd((unsigned)a[0], (int)(a[1] & EFD_SEMAPHORE) | EFD_NONBLOCK | EFD_CLOEXEC);
    return install(t, host, a[1] & EFD_CLOEXEC, a[1] & EFD_NONBLOCK, false);
}

long sb_sys_eventfd(struct sb_task *t, const uint64_t a[6])
{
    const uint64_t b[6] = {a[0], 0, 0, 0, 0, 0};
    return sb_sys_eventfd2(t, b);
}

long sb_sys_timerfd_create(struct sb_task *t, const uint64_t a[6])
{
    if (a[1] & ~(uint64_t)(TFD_CLOEXEC | TFD_NONBLOCK))
        return -EINVAL;
    /* The clock is the host's to check (EINVAL; EPERM for the alarm clocks). */
    int host = timerfd_create((int)a[0], TFD_NONBLOCK | TFD_CLOEXEC);
    return install(t, host, a[1] & TFD_CLOEXEC, a[1] & TFD_NONBLOCK, true);
}

static struct sb_file *timer(struct sb_task *t, uint64_t fd, long *err)
{
    struct sb_file *f = sb_fd_get(t->files, fd);
    *err = f == NULL ? -EBADF : !f->timerfd ? -EINVAL : 0;
    return *err == 0 ? f : NULL;
}

long sb_sys_timerfd_settime(struct sb_task *t, const uint64_t a[6])
{
    long r;
    struct sb_file *f = timer(t, a[0], &r);
    if (f == NULL)
        return r;
    if (a[1] & ~(uint64_t)(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET))
        return -EINVAL;
    struct itimerspec next, old;
    if ((r = sb_copy_in(t->mm, &next, a[2], sizeof(next))) < 0)
        return r;
    if (timerfd_settime(f->host, (int)a[1], &next, &old) < 0)
        return -errno;
    if (a[3] != 0 && (r = sb_copy_out(t->mm, a[3], &old, sizeof(old))) < 0)
        return r;
    return 0;
}

long sb_sys_timerfd_gettime(struct sb_task *t, const uint64_t a[6])
{
    long r;
    struct sb_file *f = timer(t, a[0], &r);
    if (f == NULL)
        return r;
    struct itimerspec cur;
    if (timerfd_gettime(f->host, &cur) < 0)
        return -errno;
    return sb_copy_out(t->mm, a[1], &cur, sizeof(cur));
}
