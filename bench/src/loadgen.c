/* A closed-loop HTTP/1.1 load generator (see loadgen.h): one thread, one
 * epoll set, `concurrency` non-blocking keep-alive connections, each with
 * exactly one request in flight.
 *
 * A response is parsed incrementally: the head (status line and headers, up
 * to the blank line) is collected in a per-connection buffer, then the
 * Content-Length body is counted off without being kept, so reads may split
 * anywhere. Interim 1xx responses are skipped. A complete 200 counts as a
 * request, any other final status as an error; a missing Content-Length, a
 * chunked body, a malformed head, bytes nobody asked for, a reset or an EOF
 * count as an error and the connection is replaced. `Connection: close` on
 * a complete response closes and replaces the connection without an error.
 * A failed connect counts as an error and is retried after 5 ms; once one
 * connection has been trying to connect for 1 s (refused again and again, or
 * a connect that hangs), the run stops with -1. */
#define _GNU_SOURCE
#include "loadgen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "stats.h"

#define HEAD_MAX        16384         /* a response head must fit in this */
#define RETRY_NS        5000000ull    /* wait between connect attempts */
#define CONNECT_FAIL_NS 1000000000ull /* give up after failing this long */
#define TIMEOUT_NS      1000000000ull /* unanswered this long at the end: an error */

static const char request[] = "GET / HTTP/1.1\r\nHost: bench\r\n\r\n";
#define REQUEST_LEN (sizeof(request) - 1)

enum cstate {
    C_IDLE,       /* no socket; (re)connect at retry_at */
    C_CONNECTING, /* non-blocking connect in progress */
    C_OPEN,       /* connected, one request being sent or awaited */
};

struct conn {
    int fd;
    enum cstate st;
    uint64_t retry_at;     /* C_IDLE: when to connect */
    uint64_t trying_since; /* first connect attempt since the last success, 0: none */
    size_t sent;           /* bytes of the request written */
    bool in_flight;        /* a request was (partly) sent and not yet answered */
    bool want_out;         /* EPOLLOUT is in the interest set */
    uint64_t t_send;       /* when the request's first byte went out */
    char head[HEAD_MAX];
    size_t hlen;  /* bytes in head[] */
    bool in_body; /* head parsed, counting off the body */
    uint64_t body_left;
    int status;       /* of the response being read */
    bool close_after; /* the response said Connection: close */
    bool answered;    /* this socket has completed a response */
};

struct run {
    int ep;
    struct sockaddr_in sa;
    struct conn *c;
    int nc;
    struct hist *h;
    uint64_t requests, errors;
    bool ever_connected;
    int last_errno; /* of the last failed connect */
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void conn_close(struct run *r, struct conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(r->ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
    c->st = C_IDLE;
    c->in_flight = false;
    c->want_out = false;
    c->sent = 0;
    c->hlen = 0;
    c->in_body = false;
    c->close_after = false;
    c->answered = false;
}

/* Drop the connection and connect again: right away if it answered before,
 * else after a pause (a peer that accepts and hangs up must not make us
 * spin). Whether that is an error is the caller's business. */
static void conn_reset(struct run *r, struct conn *c, uint64_t now)
{
    bool answered = c->answered;
    conn_close(r, c);
    c->retry_at = answered ? now : now + RETRY_NS;
}

static void connect_failed(struct run *r, struct conn *c, int err, uint64_t now)
{
    conn_close(r, c);
    r->errors++;
    r->last_errno = err;
    c->retry_at = now + RETRY_NS;
}

static int set_events(struct run *r, struct conn *c, bool out)
{
    struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
    if (epoll_ctl(r->ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
        return -1;
    c->want_out = out;
    return 0;
}

static void conn_start(struct run *r, struct conn *c, uint64_t now)
{
    if (c->trying_since == 0)
        c->trying_since = now;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        connect_failed(r, c, errno, now);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->fd = fd;
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
    if (epoll_ctl(r->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        connect_failed(r, c, errno, now);
        return;
    }
    c->want_out = true;
    c->st = C_CONNECTING;
    if (connect(fd, (struct sockaddr *)&r->sa, sizeof(r->sa)) < 0 && errno != EINPROGRESS)
        connect_failed(r, c, errno, now);
}

/* Write (the rest of) the request; a new one starts its clock here. */
static void conn_send(struct run *r, struct conn *c)
{
    if (!c->in_flight) {
        c->in_flight = true;
        c->sent = 0;
        c->t_send = now_ns();
    }
    while (c->sent < REQUEST_LEN) {
        ssize_t w = send(c->fd, request + c->sent, REQUEST_LEN - c->sent, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (!c->want_out && set_events(r, c, true) < 0)
                    goto broken;
                return;
            }
            goto broken;
        }
        c->sent += (size_t)w;
    }
    if (c->want_out && set_events(r, c, false) < 0)
        goto broken;
    return;
broken:
    r->errors++;
    conn_reset(r, c, now_ns());
}

/* Parse the head in c->head[0..end) (end is just past the blank line):
 * status, Content-Length, chunked, Connection. -1: unusable. */
static int parse_head(struct conn *c, size_t end)
{
    char *p = c->head, *lim = c->head + end;
    /* HTTP/1.x SP DIGIT DIGIT DIGIT (SP reason)? CRLF */
    if (end < 14 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ')
        return -1;
    for (int i = 9; i < 12; i++)
        if (p[i] < '0' || p[i] > '9')
            return -1;
    if (p[12] != ' ' && p[12] != '\r')
        return -1;
    c->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    bool has_len = false;
    uint64_t len = 0;
    c->close_after = p[7] == '0'; /* HTTP/1.0 closes unless told otherwise */
    p = (char *)memchr(p, '\n', (size_t)(lim - p)) + 1;
    while (p < lim) {
        char *nl = memchr(p, '\n', (size_t)(lim - p));
        char *eol = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
        if (eol == p)
            break; /* the blank line */
        char *colon = memchr(p, ':', (size_t)(eol - p));
        if (colon == NULL)
            return -1;
        size_t nlen = (size_t)(colon - p);
        char *v = colon + 1, *ve = eol;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        size_t vlen = (size_t)(ve - v);
        if (nlen == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
            uint64_t x = 0;
            if (vlen == 0 || vlen > 18)
                return -1;
            for (size_t i = 0; i < vlen; i++) {
                if (v[i] < '0' || v[i] > '9')
                    return -1;
                x = x * 10 + (uint64_t)(v[i] - '0');
            }
            if (has_len && x != len)
                return -1;
            has_len = true;
            len = x;
        } else if (nlen == 17 && strncasecmp(p, "Transfer-Encoding", 17) == 0) {
            if (!(vlen == 8 && strncasecmp(v, "identity", 8) == 0))
                return -1; /* chunked (or anything else): not supported */
        } else if (nlen == 10 && strncasecmp(p, "Connection", 10) == 0) {
            if (vlen == 5 && strncasecmp(v, "close", 5) == 0)
                c->close_after = true;
            else if (vlen == 10 && strncasecmp(v, "keep-alive", 10) == 0)
                c->close_after = false;
        }
        p = nl + 1;
    }
    if (c->status >= 100 && c->status < 200) {
        c->body_left = 0; /* interim: no body, the final answer follows */
        return 0;
    }
    if (!has_len) {
        if (c->status == 204 || c->status == 304) {
            c->body_left = 0;
            return 0;
        }
        return -1;
    }
    c->body_left = len;
    return 0;
}

static void *find_blank_line(const char *s, size_t n)
{
    return memmem(s, n, "\r\n\r\n", 4);
}

/* Consume the bytes in c->head; returns true if the connection went away. */
static bool conn_parse(struct run *r, struct conn *c)
{
    size_t off = 0;
    for (;;) {
        if (c->in_body) {
            uint64_t avail = c->hlen - off;
            uint64_t take = avail < c->body_left ? avail : c->body_left;
            off += (size_t)take;
            c->body_left -= take;
            if (c->body_left > 0)
                break; /* need more */
            c->in_body = false;
            if (c->status >= 100 && c->status < 200)
                continue; /* interim response skipped */
            if (!c->in_flight)
                goto bad; /* an answer nobody asked for */
            uint64_t t = now_ns();
            if (c->status == 200) {
                r->requests++;
                hist_add(r->h, t - c->t_send);
            } else {
                r->errors++;
            }
            c->in_flight = false;
            c->answered = true;
            if (c->close_after) {
                if (off < c->hlen)
                    r->errors++; /* more bytes after the last answer */
                conn_reset(r, c, t);
                return true;
            }
            continue;
        }
        if (off == c->hlen)
            break;
        if (!c->in_flight)
            goto bad; /* bytes before we asked */
        char *blank = find_blank_line(c->head + off, c->hlen - off);
        if (blank == NULL) {
            if (c->hlen - off >= HEAD_MAX)
                goto bad; /* the head does not fit */
            break;
        }
        size_t end = (size_t)(blank + 4 - c->head);
        if (off > 0) { /* parse_head wants the head at the start */
            memmove(c->head, c->head + off, c->hlen - off);
            c->hlen -= off;
            end -= off;
            off = 0;
        }
        if (parse_head(c, end) < 0)
            goto bad;
        off = end;
        c->in_body = true;
    }
    memmove(c->head, c->head + off, c->hlen - off);
    c->hlen -= off;
    return false;
bad:
    r->errors++;
    conn_reset(r, c, now_ns());
    return true;
}

static void conn_readable(struct run *r, struct conn *c)
{
    /* One read per event: epoll is level-triggered and reports the rest. */
    ssize_t n;
    do
        n = read(c->fd, c->head + c->hlen, HEAD_MAX - c->hlen);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (n <= 0) { /* reset or EOF */
        r->errors++;
        conn_reset(r, c, now_ns());
        return;
    }
    c->hlen += (size_t)n;
    if (conn_parse(r, c))
        return;
    if (!c->in_flight)
        conn_send(r, c);
}

static void conn_event(struct run *r, struct conn *c, uint32_t ev, uint64_t now)
{
    if (c->st == C_CONNECTING) {
        int err = 0;
        socklen_t l = sizeof(err);
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
            err = errno;
        if (err == 0 && (ev & (EPOLLERR | EPOLLHUP)))
            err = ECONNREFUSED;
        if (err != 0) {
            connect_failed(r, c, err, now);
            return;
        }
        c->st = C_OPEN;
        c->trying_since = 0;
        r->ever_connected = true;
        if (set_events(r, c, false) < 0) {
            r->errors++;
            conn_reset(r, c, now);
            return;
        }
        conn_send(r, c);
        return;
    }
    if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        conn_readable(r, c);
        return;
    }
    if ((ev & EPOLLOUT) && c->in_flight && c->sent < REQUEST_LEN)
        conn_send(r, c);
}

static int resolve(const char *addr, int port, struct sockaddr_in *sa)
{
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (strcmp(addr, "localhost") == 0)
        addr = "127.0.0.1";
    return inet_pton(AF_INET, addr, &sa->sin_addr) == 1 ? 0 : -1;
}

static int run_loop(struct run *r, double seconds, uint64_t t0, uint64_t *t_end, cerr_t *err)
{
    uint64_t deadline = t0 + (uint64_t)(seconds * 1e9);
    struct epoll_event evs[64];
    for (int i = 0; i < r->nc; i++)
        conn_start(r, &r->c[i], t0);
    for (;;) {
        uint64_t now = now_ns();
        uint64_t wake = deadline;
        for (int i = 0; i < r->nc; i++) {
            struct conn *c = &r->c[i];
            if (c->st == C_IDLE && c->retry_at <= now)
                conn_start(r, c, now);
            if (c->st == C_IDLE && c->retry_at < wake)
                wake = c->retry_at;
            if (c->st != C_OPEN && c->trying_since != 0) {
                /* refused again and again, or a connect that hangs */
                if (now - c->trying_since >= CONNECT_FAIL_NS) {
                    *t_end = now;
                    return cerr_set(err, r->last_errno ? r->last_errno : ETIMEDOUT,
                                    "connect to %s:%d (failing for 1 s)", inet_ntoa(r->sa.sin_addr),
                                    ntohs(r->sa.sin_port));
                }
                if (c->trying_since + CONNECT_FAIL_NS < wake)
                    wake = c->trying_since + CONNECT_FAIL_NS;
            }
        }
        if (now >= deadline) {
            *t_end = now;
            return 0;
        }
        if (wake > deadline)
            wake = deadline;
        /* round up so that the deadline has passed when we wake */
        uint64_t ms = ((wake > now ? wake - now : 0) + 999999) / 1000000;
        int n = epoll_wait(r->ep, evs, 64, (int)ms);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            *t_end = now_ns();
            return cerr_set(err, e, "epoll_wait");
        }
        now = now_ns();
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            /* a connection closed earlier in this batch has fd -1 (new
             * sockets are only made at the top of the loop) */
            if (c->fd >= 0)
                conn_event(r, c, evs[i].events, now);
        }
    }
}

int loadgen_run(const char *addr, int port, int concurrency, double seconds, int cpu,
                struct load_result *out, cerr_t *err)
{
    memset(out, 0, sizeof(*out));
    struct run r = {.ep = -1};
    if (addr == NULL || port <= 0 || port > 65535 || resolve(addr, port, &r.sa) < 0)
        return cerr_set(err, 0, "bad address `%s:%d` (want IPv4 dotted or localhost)",
                        addr ? addr : "(null)", port);
    if (concurrency < 1 || !(seconds > 0) || seconds > 1e6)
        return cerr_set(err, 0, "bad load: concurrency %d for %g s", concurrency, seconds);

    cpu_set_t old, one;
    bool pinned = false;
    if (cpu >= 0) {
        if (cpu >= CPU_SETSIZE)
            return cerr_set(err, 0, "cpu %d: out of range", cpu);
        if (sched_getaffinity(0, sizeof(old), &old) < 0)
            return cerr_set(err, errno, "cpu %d: cannot read the affinity", cpu);
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        if (sched_setaffinity(0, sizeof(one), &one) < 0)
            return cerr_set(err, errno, "pin to cpu %d", cpu);
        pinned = true;
    }

    int rc = -1;
    r.nc = concurrency;
    r.c = calloc((size_t)concurrency, sizeof(*r.c));
    r.h = hist_new();
    if (r.c == NULL || r.h == NULL) {
        cerr_set(err, ENOMEM, "load generator");
        goto out;
    }
    for (int i = 0; i < concurrency; i++)
        r.c[i].fd = -1;
    r.ep = epoll_create1(EPOLL_CLOEXEC);
    if (r.ep < 0) {
        cerr_set(err, errno, "epoll_create1");
        goto out;
    }

    uint64_t t0 = now_ns(), t_end = t0;
    rc = run_loop(&r, seconds, t0, &t_end, err);
    for (int i = 0; i < r.nc; i++) {
        struct conn *c = &r.c[i];
        if (c->st == C_OPEN && c->in_flight && t_end - c->t_send >= TIMEOUT_NS)
            r.errors++; /* unanswered for a second or more: a timeout */
        conn_close(&r, c);
    }
    if (rc == 0 && !r.ever_connected) {
        if (r.last_errno)
            cerr_set(err, r.last_errno, "connect to %s:%d", inet_ntoa(r.sa.sin_addr), port);
        else
            cerr_set(err, 0, "connect to %s:%d: no connection within the run",
                     inet_ntoa(r.sa.sin_addr), port);
        rc = -1;
    }
    out->requests = r.requests;
    out->errors = r.errors;
    out->seconds = (double)(t_end - t0) / 1e9;
    out->rps = out->seconds > 0 ? (double)r.requests / out->seconds : 0;
    out->p50_ns = hist_quantile(r.h, 0.50);
    out->p99_ns = hist_quantile(r.h, 0.99);
    out->p999_ns = hist_quantile(r.h, 0.999);
    out->max_ns = hist_max(r.h);
out:
    if (r.c) {
        for (int i = 0; i < r.nc; i++)
            if (r.c[i].fd >= 0)
                close(r.c[i].fd);
    }
    if (r.ep >= 0)
        close(r.ep);
    free(r.c);
    hist_free(r.h);
    if (pinned)
        sched_setaffinity(0, sizeof(old), &old);
    return rc;
}
