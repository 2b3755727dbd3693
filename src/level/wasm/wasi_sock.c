/* WASI preview1: sock_accept, sock_recv, sock_send, sock_shutdown on the
 * listening sockets given to wasi_new and the connections they accept. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "level/wasm/wasi_impl.h"

static struct wasi_fd *sock_get(struct wasi_ctx *ctx, uint32_t fd, uint32_t *werr)
{
    struct wasi_fd *e = wasi_fd_get(ctx, fd);
    if (e == NULL) {
        *werr = WASI_EBADF;
        return NULL;
    }
    if (e->filetype != WASI_FILETYPE_SOCKET_STREAM && e->filetype != WASI_FILETYPE_SOCKET_DGRAM) {
        *werr = WASI_ENOTSOCK;
        return NULL;
    }
    return e;
}

WASI_FN(sock_accept)
{
    uint32_t flags = a[1].i32, retp = a[2].i32, r;
    struct wasi_fd *e = sock_get(ctx, a[0].i32, &r);
    if (e == NULL)
        return r;
    if ((flags & ~(uint32_t)WASI_FDFLAGS_NONBLOCK) != 0)
        return WASI_EINVAL;
    /* Checked first: a connection accepted is not to be lost. */
    if (!wasi_mem_ok(mem, retp, 4))
        return WASI_EFAULT;
    int host;
    do
        host = accept4(e->host, NULL, NULL,
                       SOCK_CLOEXEC | ((flags & WASI_FDFLAGS_NONBLOCK) ? SOCK_NONBLOCK : 0));
    while (host < 0 && errno == EINTR);
    if (host < 0)
        return wasi_errno(errno);
    int64_t fd = wasi_fd_add(ctx, host, WASI_KIND_SOCKET, WASI_FILETYPE_SOCKET_STREAM,
                             WASI_RIGHTS_SOCKET & ~WASI_RIGHT_SOCK_ACCEPT, 0, &r);
    if (fd < 0)
        return r;
    wasi_put32(mem, retp, (uint32_t)fd);
    return WASI_ESUCCESS;
}

WASI_FN(sock_recv)
{
    uint32_t iovs = a[1].i32, niovs = a[2].i32, riflags = a[3].i32;
    uint32_t sizep = a[4].i32, flagsp = a[5].i32, r;
    struct wasi_fd *e = sock_get(ctx, a[0].i32, &r);
    if (e == NULL)
        return r;
    if ((riflags & ~(uint32_t)(WASI_RIFLAGS_RECV_PEEK | WASI_RIFLAGS_RECV_WAITALL)) != 0)
        return WASI_EINVAL;
    if (!wasi_mem_ok(mem, sizep, 4) || !wasi_mem_ok(mem, flagsp, 2))
        return WASI_EFAULT;
    struct iovec stack[WASI_IOV_STACK], *v;
    int n;
    if ((r = wasi_iovecs(mem, iovs, niovs, stack, &v, &n)) != WASI_ESUCCESS)
        return r;
    int fl = ((riflags & WASI_RIFLAGS_RECV_PEEK) ? MSG_PEEK : 0) |
             ((riflags & WASI_RIFLAGS_RECV_WAITALL) ? MSG_WAITALL : 0);
    struct msghdr msg = {.msg_iov = v, .msg_iovlen = (size_t)n};
    ssize_t got;
    do
        got = recvmsg(e->host, &msg, fl);
    while (got < 0 && errno == EINTR);
    int saved = errno;
    if (v != stack)
        free(v);
    if (got < 0)
        return wasi_errno(saved);
    wasi_put32(mem, sizep, (uint32_t)got);
    wasi_put16(mem, flagsp, (msg.msg_flags & MSG_TRUNC) ? WASI_ROFLAGS_RECV_DATA_TRUNCATED : 0);
    return WASI_ESUCCESS;
}

WASI_FN(sock_send)
{
    uint32_t iovs = a[1].i32, niovs = a[2].i32, sizep = a[4].i32, r;
    struct wasi_fd *e = sock_get(ctx, a[0].i32, &r);
    if (e == NULL)
        return r;
    /* a[3], siflags: none are defined. */
    if (!wasi_mem_ok(mem, sizep, 4))
        return WASI_EFAULT;
    struct iovec stack[WASI_IOV_STACK], *v;
    int n;
    if ((r = wasi_iovecs(mem, iovs, niovs, stack, &v, &n)) != WASI_ESUCCESS)
        return r;
    struct msghdr msg = {.msg_iov = v, .msg_iovlen = (size_t)n};
    ssize_t put;
    do
        put = sendmsg(e->host, &msg, MSG_NOSIGNAL);
    while (put < 0 && errno == EINTR);
    int saved = errno;
    if (v != stack)
        free(v);
    if (put < 0)
        return wasi_errno(saved);
    wasi_put32(mem, sizep, (uint32_t)put);
    return WASI_ESUCCESS;
}

WASI_FN(sock_shutdown)
{
    (void)mem;
    uint32_t how = a[1].i32, r;
    struct wasi_fd *e = sock_get(ctx, a[0].i32, &r);
    if (e == NULL)
        return r;
    int h;
    switch (how) {
    case WASI_SDFLAGS_RD:
        h = SHUT_RD;
        break;
    case WASI_SDFLAGS_WR:
        h = SHUT_WR;
        break;
    case WASI_SDFLAGS_RD | WASI_SDFLAGS_WR:
        h = SHUT_RDWR;
        break;
    default:
        return WASI_EINVAL;
    }
    if (shutdown(e->host, h) < 0)
        return wasi_errno(errno);
    return WASI_ESUCCESS;
}
