/* Sockets, host network mode: the kernel owns each socket (made in the
 * container's network namespace, non-blocking, close-on-exec) and the
 * workload holds a descriptor of its table, as for a pipe. Only IPv4 and
 * IPv6: a Unix socket's path would resolve in the kernel's view of the
 * files, not beneath the sandbox's root, and netlink or packet sockets
 * reach the host's network configuration. Options pass from a list; no
 * control messages (SCM_RIGHTS would carry host descriptors). */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "level/sandbox/kernel/sys.h"

#define MAX_PIECES 64

static struct sb_file *sock(struct sb_task *t, uint64_t fd, long *err)
{
    struct sb_file *f = sb_fd_get(t->files, fd);
    *err = f == NULL ? -EBADF : -ENOTSOCK;
    return f != NULL && f->sock ? f : NULL;
}

static bool family_ok(int family)
{
    return family == AF_INET || family == AF_INET6;
}

/* The workload's address [addr, addr+len): copied in, its family checked. */
static long addr_in(struct sb_task *t, uint64_t addr, uint64_t len, struct sockaddr_storage *ss,
                    bool unspec_ok)
{
    if (len > sizeof(*ss) || len < sizeof(sa_family_t))
        return -EINVAL;
    memset(ss, 0, sizeof(*ss));
    int r = sb_copy_in(t->mm, ss, addr, len);
    if (r < 0)
        return r;
    if (!family_ok(ss->ss_family) && !(unspec_ok && ss->ss_family == AF_UNSPEC))
        return -EAFNOSUPPORT;
    return 0;
}

/* An address for the workload: as Linux, truncated to its buffer's length
 * and the full length written back. */
static long addr_out(struct sb_task *t, uint64_t addr, uint64_t lenp,
                     const struct sockaddr_storage *ss, socklen_t len)
{
    if (addr == 0 || lenp == 0)
        return 0;
    int ulen;
    long r = sb_copy_in(t->mm, &ulen, lenp, sizeof(ulen));
    if (r < 0)
        return r;
    if (ulen < 0)
        return -EINVAL;
    r = sb_copy_out(t->mm, addr, ss, (size_t)ulen < len ? (size_t)ulen : len);
    if (r < 0)
        return r;
    int full = (int)len;
    return sb_copy_out(t->mm, lenp, &full, sizeof(full));
}

long sb_sys_socket(struct sb_task *t, const uint64_t a[6])
{
    int type = (int)(a[1] & ~(uint64_t)(SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!family_ok((int)a[0]))
        return -EAFNOSUPPORT;
    if (type != SOCK_STREAM && type != SOCK_DGRAM)
        return -ESOCKTNOSUPPORT;
    int host = socket((int)a[0], type | SOCK_NONBLOCK | SOCK_CLOEXEC, (int)a[2]);
    if (host < 0)
        return -errno;
    long fd = sb_fd_install(t->files, host, a[1] & SOCK_CLOEXEC, NULL, 0);
    if (fd >= 0) {
        t->files->fd[fd].kpipe = t->files->fd[fd].sock = true;
        t->files->fd[fd].nonblock = a[1] & SOCK_NONBLOCK;
    }
    return fd;
}

long sb_sys_bind(struct sb_task *t, const uint64_t a[6])
{
    long r;
    struct sb_file *f = sock(t, a[0], &r);
    if (f == NULL)
        return r;
    struct sockaddr_storage ss;
    if ((r = addr_in(t, a[1], a[2], &ss, false)) < 0)
        return r;
    return bind(f->host, (struct sockaddr *)&ss, (socklen_t)a[2]) < 0 ? -errno : 0;
}

long sb_sys_listen(struct sb_task *t, const uint64_t a[6])
{
    long r;
    struct sb_file *f = sock(t, a[0], &r);
    if (f == NULL)
        return r;
    return listen(f->host, (int)a[1]) < 0 ? -errno : 0;
}

/* A blocking connect parks until the host's non-blocking one completes
 * (the socket writable), then answers with its outcome. */
long sb_sys_connect(struct sb_task *t, const uint64_t a[6])
{
    long r;
    struct sb_file *f = sock(t, a[0], &r);
    if (f == NULL)
        return r;
    if (t->parked) {
        struct pollfd p = {.fd = f->host, .events = POLLOUT};
        if (poll(&p, 1, 0) == 0)
            return sb_park_on(t, f->host, POLLOUT);
        int e = 0;
        socklen_t len = sizeof(e);
        if (getsockopt(f->host, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
            return -errno;
        return -e;
    }
    struct sockaddr_storage ss;
    if ((r = addr_in(t, a[1], a[2], &ss, true)) < 0)
        return r;
    if (connect(f->host, (struct sockaddr *)&ss, (socklen_t)a[2]) == 0)
        return 0;
    if (errno == EINPROGRESS && !f->nonblock)
        return sb_park_on(t, f->host, POLLOUT);
    return -errno;
}

static long do_accept(struct sb_task *t, const uint64_t a[6], int flags)
{
    long r;
    struct sb_file *f = sock(t, a[0], &r);
    if (f == NULL)
        return r;
    if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
        return -EINVAL;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int host = accept4(f->host, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (host < 0)
        return sb_would_block(t, f, -errno, POLLIN);
    long fd = sb_fd_install(t->files, host, flags & SOCK_CLOEXEC, NULL, 0);
    if (fd < 0)
        return fd;
    t->files->fd[fd].kpipe = t->files->fd[fd].sock = true;
    t->files->fd[fd].nonblock = flags & SOCK_NONBLOCK;
    if ((r = addr_out(t, a[1], a[2], &ss, len)) < 0) {
        sb_fd_close(t->files, (uint64_t)fd);
        return r;
    }
    return fd;
}

long sb_sys_accept(struct sb_task *t, const uint64_t a[6])
{
    return do_accept(t, a, 0);
}

long sb_sys_accept4(struct sb_task *t, const uint64_t a[6])
{
    return do_accept(t, a, (int)a[3]);
}

static long name(struct sb_task *t, const uint64_t a[6], bool peer)
{
    long r;
    struct sb_file *f = sock(t, a[0], &r);
    if (f == NULL)
        return r;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if ((peer ? getpeername : getsockname)(f->host, (struct sockaddr *)&ss, &len) < 0)
        return -errno;
    if (a[1] == 0 || a[2] == 0)
        return -EFAULT;
    return addr_out(t, a[1], a[2], &ss, len);
}

long sb_sys_getsockname(struct sb_task *t, const uint64_t a[6])
{
    return name(t, a, false);
}

long sb_sys_getpeername(struct sb_task *t, const uint64_t a[6])
{
    return name(t, a, true);
}

/* The options a workload may set or read: each about its own socket only.
 * Timeouts (SO_RCVTIMEO/SNDTIMEO) are not kept: the host socket never blocks. */
static bool option_ok(uint64_t level, uint64_t opt, bool set)
{
    switch (level) {
    case SOL_SOCKET:
        switch (opt) {
        case SO_REUSEADDR:
        case SO_REUSEPORT:
        case SO_KEEPALIVE:
        case SO_BROADCAST:
        case SO_LINGER:
        case SO_RCVBUF:
        case SO_SNDBUF:
        case SO_OOBINLINE:
        case SO_RCVLOWAT:
            return true;
        case SO_TYPE:
        case SO_ERROR:
        case SO_DOMAIN:
        case SO_PROTOCOL:
        case SO_ACCEPTCONN:
            return !set;
        }
        return false;
    case IPPROTO_TCP:
        return opt == TCP_NODELAY || opt == TCP_CORK || opt == TCP_KEEPIDLE ||
               opt == TCP_KEEPINTVL || opt == TCP_KEEPCNT || opt == TCP_QUICKACK ||
               opt == TCP_DEFER_ACCEPT || opt == TCP_USER_TIMEOUT || (!set && opt == TCP_INFO);
    case IPPROTO_IP:
        return opt == IP_TOS || opt == IP_TTL;
    case IPPROTO_IPV6:
        return opt == IPV6_V6ONLY || opt == IPV6_UNICAST_HOPS || opt == IPV6_TCLASS;
    }
    return false;
}

long sb_sys_setsockopt(struct sb_task *t, const uint64_t a[6])
{
    long r;
    struct sb_file *f = sock(t, a[0], &r);
    if (f == NULL)
        return r;
    if (!option_ok(a[1], a[2], true))
        return -ENOPROTOOPT;
    uint8_t v[256];
    if (a[4] > sizeof(v))
        return -EINVAL;
    if ((r = sb_copy_in(t->mm, v, a[3], a[4])) < 0)
        return r;
    return setsockopt(f->host, (int)a[1], (int)a[2], v, (socklen_t)a[4]) < 0 ? -errno : 0;
}

long sb_sys_getsockopt(struct sb_task *t, const uint64_t a[6])
{
    long r;
    struct sb_file *f = sock(t, a[0], &r);
    if (f == NULL)
        return r;
    if (!option_ok(a[1], a[2], false))
        return -ENOPROTOOPT;
    int ulen;
    if ((r = sb_copy_in(t->mm, &ulen, a[4], sizeof(ulen))) < 0)
        return r;
    uint8_t v[256];
    if (ulen < 0)
        return -EINVAL;
    socklen_t len = (size_t)ulen < sizeof(v) ? (socklen_t)ulen : sizeof(v);
    if (getsockopt(f->host, (int)a[1], (int)a[2], v, &len) < 0)
        return -errno;
    if ((r = sb_copy_out(t->mm, a[3], v, len)) < 0)
        return r;
    int out = (int)len;
    return sb_copy_out(t->mm, a[4], &out, sizeof(out));
}

long sb_sys_shutdown(struct sb_task *t, const uint64_t a[6])
{
    long r;
    struct sb_file *f = sock(t, a[0], &r);
    if (f == NULL)
        return r;
    return shutdown(f->host, (int)a[1]) < 0 ? -errno : 0;
}

/* One send or receive: the host's sendmsg/recvmsg on the workload's buffers
 * as kernel pointers. MSG_NOSIGNAL always (the host must not signal the
 * kernel); an EPIPE is the workload's SIGPIPE unless it asked for none. */
static long transfer(struct sb_task *t, struct sb_file *f, struct msghdr *m, uint64_t flags,
                     bool out)
{
    const uint64_t send_ok = MSG_DONTWAIT | MSG_NOSIGNAL | MSG_MORE | MSG_EOR | MSG_OOB,
                   recv_ok = MSG_DONTWAIT | MSG_PEEK | MSG_TRUNC | MSG_WAITALL | MSG_OOB;
    if (flags & ~(out ? send_ok : recv_ok))
        return -EINVAL;
    /* MSG_WAITALL would wait in the host; the workload gets what is there. */
    int host_flags =
        (int)(flags & ~(uint64_t)MSG_WAITALL) | MSG_DONTWAIT | (out ? MSG_NOSIGNAL : 0);
    ssize_t r = out ? sendmsg(f->host, m, host_flags) : recvmsg(f->host, m, host_flags);
    if (r >= 0)
        return r;
    if (errno == EPIPE && out && !(flags & MSG_NOSIGNAL))
        return sb_epipe(t);
    if (errno == EAGAIN && (flags & MSG_DONTWAIT))
        return -EAGAIN;
    return sb_would_block(t, f, -errno, out ? POLLOUT : POLLIN);
}

/* A short receive on a non-blocking socket is most often followed by
 * another that finds nothing (a loop reading until EAGAIN): when the socket
 * is empty now, the answer tells the stub to answer that next call itself
 * (ctx.empty_fd), which saves a hand-over to the kernel and back. Its
 * -EAGAIN is the answer the call would have had at this moment: only the
 * very next call of this thread may use it, so the workload cannot have
 * learned of data arriving since without making a call the kernel sees —
 * unless another thread of the process told it, hence single-threaded
 * processes only. A peer's data arriving meanwhile still makes its epoll or
 * poll readable (edge-triggered too: the host epoll saw the arrival).
 * read() of a socket is the same call (fs.c). */
void sb_net_hint_empty(struct sb_task *t, const struct sb_file *f, uint64_t fd, long n,
                       uint64_t len)
{
    if (!f->sock || !f->nonblock || n <= 0 || (uint64_t)n >= len)
        return;
    for (int i = 0; i < t->k->ntask; i++) {
        struct sb_task *x = t->k->task[i];
        if (x != t && sb_leader(x) == sb_leader(t) && !x->zombie && !x->thread_gone)
            return;
    }
    char b;
    struct iovec iov = {.iov_base = &b, .iov_len = 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    if (recvmsg(f->host, &m, MSG_PEEK | MSG_DONTWAIT) < 0 && errno == EAGAIN)
        t->empty_fd = fd + 1;
}

/* sendto/recvfrom: buffer, flags, address. */
static long xfer_to(struct sb_task *t, const uint64_t a[6], bool out)
{
    long r;
    struct sb_file *f = sock(t, a[0], &r);
    if (f == NULL)
        return r;
    struct iovec iov[MAX_PIECES];
    uint64_t len = a[2] > (1ULL << 30) ? (1ULL << 30) : a[2];
    uint64_t reach = sb_mm_accessible(t->mm, a[1], len, out ? PROT_READ : PROT_WRITE);
    if (reach < len)
        return -EFAULT;
    int n = sb_mm_iov(t->mm, a[1], len, out ? PROT_READ : PROT_WRITE, iov, MAX_PIECES);
    if (n < 0)
        return n;
    struct sockaddr_storage ss;
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)n};
    if (out && a[4] != 0) {
        if ((r = addr_in(t, a[4], a[5], &ss, false)) < 0)
            return r;
        m.msg_name = &ss;
        m.msg_namelen = (socklen_t)a[5];
    } else if (!out) {
        m.msg_name = &ss;
        m.msg_namelen = sizeof(ss);
    }
    r = transfer(t, f, &m, a[3], out);
    if (!out)
        sb_net_hint_empty(t, f, a[0], r, len);
    if (r >= 0 && !out && a[4] != 0) {
        long e = addr_out(t, a[4], a[5], &ss, m.msg_namelen);
        if (e < 0)
            return e;
    }
    return r;
}

long sb_sys_sendto(struct sb_task *t, const uint64_t a[6])
{
    return xfer_to(t, a, true);
}

long sb_sys_recvfrom(struct sb_task *t, const uint64_t a[6])
{
    return xfer_to(t, a, false);
}

/* sendmsg/recvmsg: the workload's msghdr, without control messages. */
static long xfer_msg(struct sb_task *t, const uint64_t a[6], bool out)
{
    long r;
    struct sb_file *f = sock(t, a[0], &r);
    if (f == NULL)
        return r;
    struct msghdr um;
    if ((r = sb_copy_in(t->mm, &um, a[1], sizeof(um))) < 0)
        return r;
    if (out && um.msg_controllen != 0)
        return -EOPNOTSUPP;
    struct iovec iov[MAX_PIECES];
    int n = sb_iov_in(t, (uint64_t)um.msg_iov, um.msg_iovlen, out ? PROT_READ : PROT_WRITE, iov,
                      MAX_PIECES);
    if (n < 0)
        return n;
    struct sockaddr_storage ss;
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)n};
    if (out && um.msg_name != NULL) {
        if ((r = addr_in(t, (uint64_t)um.msg_name, um.msg_namelen, &ss, false)) < 0)
            return r;
        m.msg_name = &ss;
        m.msg_namelen = um.msg_namelen;
    } else if (!out && um.msg_name != NULL) {
        m.msg_name = &ss;
        m.msg_namelen = sizeof(ss);
    }
    r = transfer(t, f, &m, a[2], out);
    if (r < 0 || out)
        return r;
    if (um.msg_name != NULL) {
        size_t cp = um.msg_namelen < m.msg_namelen ? um.msg_namelen : m.msg_namelen;
        long e = sb_copy_out(t->mm, (uint64_t)um.msg_name, &ss, cp);
        if (e < 0)
            return e;
    }
    um.msg_namelen = m.msg_namelen;
    um.msg_controllen = 0;
    um.msg_flags = m.msg_flags;
    long e = sb_copy_out(t->mm, a[1], &um, sizeof(um));
    return e < 0 ? e : r;
}

long sb_sys_sendmsg(struct sb_task *t, const uint64_t a[6])
{
    return xfer_msg(t, a, true);
}

long sb_sys_recvmsg(struct sb_task *t, const uint64_t a[6])
{
    return xfer_msg(t, a, false);
}
