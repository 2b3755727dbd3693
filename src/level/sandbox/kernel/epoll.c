/* epoll: a workload's epoll instance is a host epoll the kernel owns, over
 * the host descriptors behind the workload's (the event's data passes
 * through untouched: it is the workload's own cookie). epoll_wait never
 * waits in the host: with nothing ready it parks, waiting for the host
 * epoll to become readable or its timeout. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include "level/sandbox/kernel/sys.h"

#define MAX_EVENTS 256

static long new_epoll(struct sb_task *t, bool cloexec)
{
    int host = epoll_create1(EPOLL_CLOEXEC);
    if (host < 0)
        return -errno;
    return sb_fd_install(t->files, host, cloexec, NULL, 0);
}

long sb_sys_epoll_create(struct sb_task *t, const uint64_t a[6])
{
    return (int)a[0] <= 0 ? -EINVAL : new_epoll(t, false);
}

long sb_sys_epoll_create1(struct sb_task *t, const uint64_t a[6])
{
    if (a[0] & ~(uint64_t)EPOLL_CLOEXEC)
        return -EINVAL;
    return new_epoll(t, a[0] & EPOLL_CLOEXEC);
}

long sb_sys_epoll_ctl(struct sb_task *t, const uint64_t a[6])
{
    struct sb_file *ep = sb_fd_get(t->files, a[0]), *f = sb_fd_get(t->files, a[2]);
    if (ep == NULL || f == NULL)
        return -EBADF;
    if (ep->signalfd)
        return -EINVAL;
    struct epoll_event ev = {0};
    if (a[1] != EPOLL_CTL_DEL) {
        int r = sb_copy_in(t->mm, &ev, a[3], sizeof(ev));
        if (r < 0)
            return r;
    }
    return epoll_ctl(ep->host, (int)a[1], f->host, &ev) < 0 ? -errno : 0;
}

static long wait_events(struct sb_task *t, const uint64_t a[6])
{
    struct sb_file *ep = sb_fd_get(t->files, a[0]);
    if (ep == NULL)
        return -EBADF;
    if ((int)a[2] <= 0)
        return -EINVAL;
    if (ep->signalfd)
        return -EINVAL;
    struct epoll_event ev[MAX_EVENTS];
    int max = (int)a[2] < MAX_EVENTS ? (int)a[2] : MAX_EVENTS;
    if (sb_mm_accessible(t->mm, a[1], (uint64_t)max * sizeof(ev[0]), PROT_WRITE) <
        (uint64_t)max * sizeof(ev[0]))
        return -EFAULT;
    int n = epoll_wait(ep->host, ev, max, 0);
    if (n < 0)
        return -errno;
    if (n == 0 && !sb_park_expired(t, (int)a[3]))
        return sb_park_on(t, ep->host, POLLIN);
    int r = sb_copy_out(t->mm, a[1], ev, (size_t)n * sizeof(ev[0]));
    return r < 0 ? r : n;
}

long sb_sys_epoll_wait(struct sb_task *t, const uint64_t a[6])
{
    return wait_events(t, a);
}

/* The signal mask it would set while waiting does not matter yet: no
 * signal is delivered to a handler. */
long sb_sys_epoll_pwait(struct sb_task *t, const uint64_t a[6])
{
    return wait_events(t, a);
}
