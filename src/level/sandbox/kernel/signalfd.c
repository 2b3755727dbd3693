/* signalfd: a descriptor that reads the reading process's pending signals
 * of its mask as struct signalfd_siginfo. Behind it the kernel keeps a host
 * eventfd that it makes readable while such a signal is pending (and empties
 * when none is), so that the workload's poll and epoll see a signalfd as
 * they see any descriptor. A signalfd reads its own process's signals: a
 * forked child gets an eventfd of its own. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "level/sandbox/kernel/sys.h"

#define UNBLOCKABLE ((1ULL << (SIGKILL - 1)) | (1ULL << (SIGSTOP - 1)))

void sb_signalfd_update(struct sb_task *t)
{
    if (t->k->nsignalfd == 0 || t->files == NULL)
        return;
    for (int i = 0; i < SB_MAX_FDS; i++) {
        struct sb_file *f = &t->files->fd[i];
        if (f->host < 0 || !f->signalfd)
            continue;
        bool want = (t->sigpending & f->sfd_mask) != 0;
        uint64_t v = 1;
        if (want && !f->sfd_ready && write(f->host, &v, sizeof(v)) == sizeof(v))
            f->sfd_ready = true;
        else if (!want && f->sfd_ready && read(f->host, &v, sizeof(v)) >= 0)
            f->sfd_ready = false;
    }
}

long sb_sys_signalfd4(struct sb_task *t, const uint64_t a[6])
{
    if (a[3] & ~(uint64_t)(SFD_CLOEXEC | SFD_NONBLOCK) || a[2] != 8)
        return -EINVAL;
    uint64_t mask;
    int r = sb_copy_in(t->mm, &mask, a[1], sizeof(mask));
    if (r < 0)
        return r;
    mask &= ~UNBLOCKABLE;
    if ((int)a[0] != -1) {
        struct sb_file *f = sb_fd_get(t->files, a[0]);
        if (f == NULL)
            return -EBADF;
        if (!f->signalfd)
            return -EINVAL;
        f->sfd_mask = mask;
        sb_signalfd_update(t);
        return (long)a[0];
    }
    int host = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (host < 0)
        return -errno;
    long fd = sb_fd_install(t->files, host, a[3] & SFD_CLOEXEC, NULL, 0);
    if (fd < 0)
        return fd;
    struct sb_file *f = &t->files->fd[fd];
    f->signalfd = true;
    f->kpipe = true; /* F_SETFL's O_NONBLOCK is the workload's view only */
    f->nonblock = a[3] & SFD_NONBLOCK;
    f->sfd_mask = mask;
    t->k->nsignalfd++;
    sb_signalfd_update(t);
    return fd;
}

long sb_sys_signalfd(struct sb_task *t, const uint64_t a[6])
{
    const uint64_t b[6] = {a[0], a[1], a[2], 0, 0, 0};
    return sb_sys_signalfd4(t, b);
}

long sb_signalfd_read(struct sb_task *t, struct sb_file *f, uint64_t buf, uint64_t len, bool out)
{
    if (out)
        return -EINVAL;
    uint64_t n = len / sizeof(struct signalfd_siginfo), got = 0;
    if (n == 0)
        return -EINVAL;
    for (; got < n; got++) {
        uint64_t due = t->sigpending & f->sfd_mask;
        if (due == 0)
            break;
        int sig = __builtin_ctzll(due) + 1;
        struct signalfd_siginfo si;
        sb_signal_siginfo(t, sig, &si);
        int r = sb_copy_out(t->mm, buf + got * sizeof(si), &si, sizeof(si));
        if (r < 0)
            return got > 0 ? (long)(got * sizeof(si)) : r;
        t->sigpending &= ~(1ULL << (sig - 1));
    }
    sb_signalfd_update(t);
    if (got > 0)
        return (long)(got * sizeof(struct signalfd_siginfo));
    return f->nonblock ? -EAGAIN : SB_PARK;
}
