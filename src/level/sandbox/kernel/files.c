/* The workload's descriptor table: workload fd -> the kernel's host fd. The
 * kernel's own descriptors (the root, the memfd) are never in it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/util.h"
#include "level/sandbox/kernel/kernel.h"

void sb_files_init(struct sb_files *f)
{
    for (int i = 0; i < SB_MAX_FDS; i++)
        f->fd[i] = (struct sb_file){.host = -1};
}

static void release(struct sb_file *e)
{
    if (e->host >= 0)
        close(e->host);
    free(e->path);
    *e = (struct sb_file){.host = -1};
}

void sb_files_close_all(struct sb_files *f)
{
    for (int i = 0; i < SB_MAX_FDS; i++)
        release(&f->fd[i]);
}

int sb_fd_install(struct sb_files *f, int host, bool cloexec, char *path, int min)
{
    for (int i = min < 0 ? 0 : min; i < SB_MAX_FDS; i++)
        if (f->fd[i].host < 0) {
            f->fd[i] = (struct sb_file){.host = host, .cloexec = cloexec, .path = path};
            return i;
        }
    close(host);
    free(path);
    return -EMFILE;
}

struct sb_file *sb_fd_get(struct sb_files *f, uint64_t fd)
{
    if (fd >= SB_MAX_FDS || f->fd[fd].host < 0)
        return NULL;
    return &f->fd[fd];
}

long sb_fd_close(struct sb_files *f, uint64_t fd)
{
    struct sb_file *e = sb_fd_get(f, fd);
    if (e == NULL)
        return -EBADF;
    release(e);
    return 0;
}

void sb_files_close_on_exec(struct sb_files *f)
{
    for (int i = 0; i < SB_MAX_FDS; i++)
        if (f->fd[i].host >= 0 && f->fd[i].cloexec)
            release(&f->fd[i]);
}

int sb_files_fork(struct sb_files *dst, const struct sb_files *src)
{
    for (int i = 0; i < SB_MAX_FDS; i++) {
        const struct sb_file *e = &src->fd[i];
        if (e->host < 0)
            continue;
        /* A signalfd reads its own process's signals: its own eventfd. */
        int host = e->signalfd ? eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)
                               : fcntl(e->host, F_DUPFD_CLOEXEC, 3);
        if (host < 0)
            return -errno;
        dst->fd[i] = *e;
        dst->fd[i].host = host;
        dst->fd[i].sfd_ready = false;
        dst->fd[i].path = e->path ? strdup(e->path) : NULL;
    }
    return 0;
}

long sb_would_block(struct sb_task *t, const struct sb_file *f, long r, short events)
{
    return r == -EAGAIN && f->kpipe && !f->nonblock ? sb_park_on(t, f->host, events) : r;
}

long sb_park_on(struct sb_task *t, int fd, short events)
{
    if (t->nwait < SB_WAIT_FDS)
        t->wait[t->nwait++] = (struct pollfd){.fd = fd, .events = events};
    return SB_PARK;
}

bool sb_park_expired(struct sb_task *t, long ms)
{
    if (ms == 0)
        return true;
    if (!t->parked)
        t->wake_at = ms > 0 ? now_ns() + (unsigned long long)ms * 1000000ULL : 0;
    return t->wake_at != 0 && now_ns() >= t->wake_at;
}
