/* socketpair: a connected pair of Unix sockets, the host's. Harmless where
 * a Unix socket() is not (filter.c): the pair has no name, and net.c never
 * binds or connects one to a Unix address (the family is checked) nor
 * passes control messages (SCM_RIGHTS would carry host descriptors), so
 * the two ends reach only each other. asyncio's self-pipe and
 * multiprocessing's duplex Pipe are made this way. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "level/sandbox/kernel/sys.h"

long sb_sys_socketpair(struct sb_task *t, const uint64_t a[6])
{
    int family = (int)a[0], type = (int)a[1]; /* ints to Linux: the upper halves ignored */
    if (family == AF_INET || family == AF_INET6)
        return -EOPNOTSUPP; /* their protocols have no socketpair */
    if (family != AF_UNIX)
        return -EAFNOSUPPORT;
    const int flags = SOCK_NONBLOCK | SOCK_CLOEXEC;
    if (type & ~(flags | 0xf))
        return -EINVAL;
    int host[2]; /* the type and protocol checked by the host */
    if (socketpair(AF_UNIX, (type & 0xf) | flags, (int)a[2], host) < 0)
        return -errno;
    int sv[2];
    for (int i = 0; i < 2; i++) {
        sv[i] = sb_fd_install(t->files, host[i], type & SOCK_CLOEXEC, NULL, 0);
        if (sv[i] < 0) { /* host[i] closed by sb_fd_install */
            if (i == 0)
                close(host[1]);
            else
                sb_fd_close(t->files, (uint64_t)sv[0]);
            return sv[i];
        }
        struct sb_file *f = &t->files->fd[sv[i]];
        f->kpipe = f->sock = true;
        f->nonblock = type & SOCK_NONBLOCK;
    }
    long r = sb_copy_out(t->mm, a[3], sv, sizeof(sv));
    if (r < 0) {
        sb_fd_close(t->files, (uint64_t)sv[0]);
        sb_fd_close(t->files, (uint64_t)sv[1]);
    }
    return r;
}
