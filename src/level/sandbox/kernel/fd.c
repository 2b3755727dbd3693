/* Descriptor calls: dup, dup2, dup3, fcntl. The workload's descriptors are
 * entries of its table (files.c); each holds a host descriptor of its own,
 * so the host's close-on-exec flag never matters (the kernel never execs). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "level/sandbox/kernel/sys.h"

/* A copy of fd at the lowest free number >= min, or at exactly `at`. */
static long dup_to(struct sb_task *t, uint64_t fd, int min, int at, bool cloexec)
{
    struct sb_file *f = sb_fd_get(t->files, fd);
    if (f == NULL)
        return -EBADF;
    int host = fcntl(f->host, F_DUPFD_CLOEXEC, 3);
    if (host < 0)
        return -errno;
    char *path = f->path ? strdup(f->path) : NULL;
    if (at >= 0) {
        sb_fd_close(t->files, (uint64_t)at);
        min = at;
    }
    struct sb_file copy = *f;
    long r = sb_fd_install(t->files, host, cloexec, path, min);
    if (r >= 0) {
        t->files->fd[r].kpipe = copy.kpipe;
        t->files->fd[r].nonblock = copy.nonblock;
        t->files->fd[r].sock = copy.sock;
        t->files->fd[r].signalfd = copy.signalfd;
        t->files->fd[r].sfd_mask = copy.sfd_mask;
        t->files->fd[r].sfd_ready = copy.sfd_ready;
        t->files->fd[r].timerfd = copy.timerfd;
        t->files->fd[r].outside = copy.outside;
        t->files->fd[r].synth = copy.synth;
        t->files->fd[r].outer = copy.outer;
    }
    return r;
}

long sb_sys_dup(struct sb_task *t, const uint64_t a[6])
{
    return dup_to(t, a[0], 0, -1, false);
}

long sb_sys_dup2(struct sb_task *t, const uint64_t a[6])
{
    if (sb_fd_get(t->files, a[0]) == NULL)
        return -EBADF;
    if (a[1] >= SB_MAX_FDS)
        return -EBADF;
    if (a[0] == a[1])
        return (long)a[1];
    return dup_to(t, a[0], 0, (int)a[1], false);
}

long sb_sys_dup3(struct sb_task *t, const uint64_t a[6])
{
    if (a[2] & ~(uint64_t)O_CLOEXEC || a[0] == a[1])
        return -EINVAL;
    if (a[1] >= SB_MAX_FDS)
        return -EBADF;
    return dup_to(t, a[0], 0, (int)a[1], a[2] & O_CLOEXEC);
}

long sb_sys_fcntl(struct sb_task *t, const uint64_t a[6])
{
    struct sb_file *f = sb_fd_get(t->files, a[0]);
    if (f == NULL)
        return -EBADF;
    switch (a[1]) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
        if (a[2] >= SB_MAX_FDS)
            return -EINVAL;
        return dup_to(t, a[0], (int)a[2], -1, a[1] == F_DUPFD_CLOEXEC);
    case F_GETFD:
        return f->cloexec ? FD_CLOEXEC : 0;
    case F_SETFD:
        f->cloexec = a[2] & FD_CLOEXEC;
        return 0;
    case F_GETFL: {
        int fl = fcntl(f->host, F_GETFL);
        if (fl >= 0 && f->kpipe) /* the host end is always non-blocking */
            fl = (fl & ~O_NONBLOCK) | (f->nonblock ? O_NONBLOCK : 0);
        return fl < 0 ? -errno : fl;
    }
    case F_SETFL:
        if (f->kpipe) {
            f->nonblock = a[2] & O_NONBLOCK;
            return 0;
        }
        /* The flags Linux lets F_SETFL change that mean something here. */
        return fcntl(f->host, F_SETFL, (int)(a[2] & (O_APPEND | O_NONBLOCK))) < 0 ? -errno : 0;
    case F_GETLK:
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_GETLK:
    case F_OFD_SETLK:
    case F_OFD_SETLKW:
        return sb_fcntl_lock(t, f, (int)a[1], a[2]);
    default:
        return -EINVAL;
    }
}

/* poll on the host descriptors behind the workload's. A kernel pipe's
 * other end is the workload's and a socket's peer may be far: the kernel
 * never waits in the host's poll (it would serve no one meanwhile). A poll
 * with nothing ready parks, waiting for its descriptors and its timeout. */
long sb_sys_poll(struct sb_task *t, const uint64_t a[6])
{
    if (a[1] > SB_MAX_FDS)
        return -EINVAL;
    size_t n = a[1];
    struct pollfd p[n ? n : 1], host[n ? n : 1];
    int r = sb_copy_in(t->mm, p, a[0], n * sizeof(p[0]));
    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        struct sb_file *f = p[i].fd < 0 ? NULL : sb_fd_get(t->files, (uint64_t)p[i].fd);
        /* A negative fd is skipped (-1 never matches); a closed one is POLLNVAL. */
        host[i] = (struct pollfd){.fd = f ? f->host : -1, .events = p[i].events};
    }
    int got = poll(host, (nfds_t)n, 0);
    if (got < 0)
        return -errno;
    if (got == 0 && !sb_park_expired(t, (int)a[2])) {
        for (size_t i = 0; i < n; i++)
            if (host[i].fd >= 0)
                sb_park_on(t, host[i].fd, host[i].events);
        return SB_PARK;
    }
    got = 0;
    for (size_t i = 0; i < n; i++) {
        p[i].revents = p[i].fd >= 0 && host[i].fd < 0 ? POLLNVAL : host[i].revents;
        got += p[i].revents != 0;
    }
    r = sb_copy_out(t->mm, a[0], p, n * sizeof(p[0]));
    return r < 0 ? r : got;
}

static long make_pipe(struct sb_task *t, uint64_t ufds, uint64_t flags)
{
    if (flags & ~(uint64_t)(O_CLOEXEC | O_NONBLOCK))
        return -EINVAL;
    int host[2];
    if (pipe2(host, O_CLOEXEC | O_NONBLOCK) < 0)
        return -errno;
    int fds[2] = {-1, -1};
    for (int i = 0; i < 2; i++) {
        fds[i] = sb_fd_install(t->files, host[i], flags & O_CLOEXEC, NULL, 0);
        if (fds[i] < 0) {
            if (i == 1)
                sb_fd_close(t->files, (uint64_t)fds[0]);
            else
                close(host[1]);
            return fds[i];
        }
        t->files->fd[fds[i]].kpipe = true;
        t->files->fd[fds[i]].nonblock = flags & O_NONBLOCK;
    }
    int r = sb_copy_out(t->mm, ufds, fds, sizeof(fds));
    if (r < 0) {
        sb_fd_close(t->files, (uint64_t)fds[0]);
        sb_fd_close(t->files, (uint64_t)fds[1]);
    }
    return r;
}

long sb_sys_pipe(struct sb_task *t, const uint64_t a[6])
{
    return make_pipe(t, a[0], 0);
}

long sb_sys_pipe2(struct sb_task *t, const uint64_t a[6])
{
    return make_pipe(t, a[0], a[1]);
}
