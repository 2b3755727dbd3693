/* WASI preview1: poll_oneoff. Clock subscriptions become one timeout (the
 * nearest), fd subscriptions one ppoll(2); regular files and directories are
 * always ready, as the spec says. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "level/wasm/wasi_impl.h"

#define NS 1000000000ull

/* One subscription, as read from the guest, and what became of it. */
struct sub {
    uint64_t userdata;
    uint8_t type;
    uint32_t fd;
    uint64_t deadline; /* clocks: CLOCK_MONOTONIC ns */
    int pollidx;       /* fds: index in the pollfd array, -1 when not polled */
    /* the event, when there is one */
    bool fired;
    uint16_t error;
    uint64_t nbytes;
    uint16_t flags;
};

static uint64_t mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

static void fire(struct sub *s, uint16_t error, uint64_t nbytes, uint16_t flags)
{
    s->fired = true;
    s->error = error;
    s->nbytes = nbytes;
    s->flags = flags;
}

/* A clock subscription at guest address p: its deadline on CLOCK_MONOTONIC. */
static void read_clock(struct wasm_memory *mem, uint32_t p, struct sub *s, uint64_t start)
{
    uint32_t id = wasi_get32(mem, p + 16);
    uint64_t timeout = wasi_get64(mem, p + 24);
    uint16_t flags = wasi_get16(mem, p + 40);
    uint64_t now;
    if (wasi_clock_now(id, &now) != WASI_ESUCCESS) {
        fire(s, WASI_EINVAL, 0, 0);
        return;
    }
    uint64_t rel = timeout;
    if (flags & WASI_SUBSCRIPTION_CLOCK_ABSTIME)
        rel = timeout > now ? timeout - now : 0;
    s->deadline = rel > UINT64_MAX - start ? UINT64_MAX : start + rel;
}

/* An fd subscription: regular files are ready now, others are polled. */
static void read_fd(struct wasi_ctx *ctx, struct wasm_memory *mem, uint32_t p, struct sub *s,
                    struct pollfd *pfds, int *npfds)
{
    s->fd = wasi_get32(mem, p + 16);
    struct wasi_fd *e = wasi_fd_get(ctx, s->fd);
    if (e == NULL) {
        fire(s, WASI_EBADF, 0, 0);
        return;
    }
    if (e->filetype == WASI_FILETYPE_REGULAR_FILE || e->filetype == WASI_FILETYPE_DIRECTORY) {
        uint64_t left = 0;
        struct stat st;
        off_t pos;
        if (s->type == WASI_EVENTTYPE_FD_READ && e->filetype == WASI_FILETYPE_REGULAR_FILE &&
            fstat(e->host, &st) == 0 && (pos = lseek(e->host, 0, SEEK_CUR)) >= 0 &&
            st.st_size > pos)
            left = (uint64_t)(st.st_size - pos);
        fire(s, WASI_ESUCCESS, left, 0);
        return;
    }
    s->pollidx = *npfds;
    pfds[*npfds].fd = e->host;
    pfds[*npfds].events = s->type == WASI_EVENTTYPE_FD_READ ? POLLIN : POLLOUT;
    pfds[*npfds].revents = 0;
    (*npfds)++;
}

static void poll_result(struct sub *s, const struct pollfd *pfd)
{
    short re = pfd->revents;
    if (re == 0)
        return;
    if (re & POLLNVAL) {
        fire(s, WASI_EBADF, 0, 0);
        return;
    }
    uint16_t flags = (re & POLLHUP) ? WASI_EVENT_FD_READWRITE_HANGUP : 0;
    int avail = 0;
    if (s->type == WASI_EVENTTYPE_FD_READ && (re & POLLIN) && ioctl(pfd->fd, FIONREAD, &avail) < 0)
        avail = 0;
    if ((re & POLLERR) && !(re & (POLLIN | POLLOUT))) {
        fire(s, WASI_EIO, 0, flags);
        return;
    }
    fire(s, WASI_ESUCCESS, avail > 0 ? (uint64_t)avail : 0, flags);
}

WASI_FN(poll_oneoff)
{
    uint32_t in = a[0].i32, out = a[1].i32, n = a[2].i32, retp = a[3].i32;
    if (n == 0)
        return WASI_EINVAL;
    if (!wasi_mem_ok(mem, in, (uint64_t)n * WASI_SIZEOF_SUBSCRIPTION) ||
        !wasi_mem_ok(mem, out, (uint64_t)n * WASI_SIZEOF_EVENT) || !wasi_mem_ok(mem, retp, 4))
        return WASI_EFAULT;
    struct sub *subs = calloc(n, sizeof(*subs));
    struct pollfd *pfds = calloc(n, sizeof(*pfds));
    if (subs == NULL || pfds == NULL) {
        free(subs);
        free(pfds);
        return WASI_ENOMEM;
    }
    uint64_t start = mono_now(), deadline = UINT64_MAX;
    int npfds = 0;
    bool ready = false;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t p = in + i * WASI_SIZEOF_SUBSCRIPTION;
        struct sub *s = &subs[i];
        s->userdata = wasi_get64(mem, p);
        s->type = mem->data[p + 8];
        s->pollidx = -1;
        s->deadline = UINT64_MAX;
        switch (s->type) {
        case WASI_EVENTTYPE_CLOCK:
            read_clock(mem, p, s, start);
            break;
        case WASI_EVENTTYPE_FD_READ:
        case WASI_EVENTTYPE_FD_WRITE:
            read_fd(ctx, mem, p, s, pfds, &npfds);
            break;
        default:
            fire(s, WASI_EINVAL, 0, 0);
        }
        if (s->deadline < deadline)
            deadline = s->deadline;
        ready |= s->fired;
    }

    uint32_t r = WASI_ESUCCESS;
    for (;;) {
        uint64_t now = mono_now();
        struct timespec ts = {0, 0}, *tsp = &ts;
        if (!ready && deadline == UINT64_MAX) {
            tsp = NULL;
        } else if (!ready && deadline > now) {
            ts.tv_sec = (time_t)((deadline - now) / NS);
            ts.tv_nsec = (long)((deadline - now) % NS);
        }
        if (npfds > 0 || tsp == NULL || ts.tv_sec != 0 || ts.tv_nsec != 0) {
            if (ppoll(pfds, (nfds_t)npfds, tsp, NULL) < 0) {
                if (errno == EINTR)
                    continue;
                r = wasi_errno(errno);
                break;
            }
        }
        now = mono_now();
        for (uint32_t i = 0; i < n; i++) {
            struct sub *s = &subs[i];
            if (s->fired)
                continue;
            if (s->pollidx >= 0)
                poll_result(s, &pfds[s->pollidx]);
            else if (s->type == WASI_EVENTTYPE_CLOCK && s->deadline <= now)
                fire(s, WASI_ESUCCESS, 0, 0);
            ready |= s->fired;
        }
        if (ready)
            break;
    }
    if (r == WASI_ESUCCESS) {
        uint32_t nev = 0;
        for (uint32_t i = 0; i < n; i++) {
            struct sub *s = &subs[i];
            if (!s->fired)
                continue;
            uint32_t p = out + nev * WASI_SIZEOF_EVENT;
            memset(mem->data + p, 0, WASI_SIZEOF_EVENT);
            wasi_put64(mem, p, s->userdata);
            wasi_put16(mem, p + 8, s->error);
            wasi_put8(mem, p + 10, s->type);
            if (s->type != WASI_EVENTTYPE_CLOCK) {
                wasi_put64(mem, p + 16, s->nbytes);
                wasi_put16(mem, p + 24, s->flags);
            }
            nev++;
        }
        wasi_put32(mem, retp, nev);
    }
    free(subs);
    free(pfds);
    return r;
}
