/*
 * httpd: a tiny single-threaded epoll HTTP/1.1 server used as the payload of
 * the cold-start benchmark.  GET / (or HEAD /) answers
 * "hello from $RUNTIME_NAME\n"; any other path is 404, other methods 405,
 * unparsable requests 400 (and the connection is closed).
 *
 * Usage: httpd [PORT]   (else env PORT, else 8080); env ADDR is the bind
 * address (default 0.0.0.0, IPv6 literals accepted).  SIGTERM/SIGINT make it
 * exit with status 0.  Meant to be linked statically (see Makefile).
 *
 * Built for wasm32-wasi (the Makefile's cella-bench-httpd.wasm) it serves the
 * same responses, but WASI preview 1 has no socket()/bind()/epoll: the
 * runtime preopens the listening socket (wasmtime's `--tcplisten ADDR:PORT`,
 * `cella wasm run --tcplisten`), found as the first fd from 3 up whose type is
 * SOCKET_STREAM; PORT and ADDR are then ignored, and the event loop is poll()
 * (wasi-libc: poll_oneoff) over a table of connections.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#ifdef __wasi__
#include <poll.h>
#include <wasi/api.h>
#define EV_IN      POLLIN
#define EV_OUT     POLLOUT
#define EV_ERR     (POLLERR | POLLNVAL)
#define EV_HUP     POLLHUP
#define SEND_FLAGS 0    /* wasi-libc's send() refuses any flag; WASI has no SIGPIPE */
#define MAX_CONNS  1000 /* poll table; beyond it the listener waits */
#else
#include <arpa/inet.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#define EV_IN      EPOLLIN
#define EV_OUT     EPOLLOUT
#define EV_ERR     EPOLLERR
#define EV_HUP     EPOLLHUP
#define SEND_FLAGS MSG_NOSIGNAL
#endif

#define IN_CAP     8192  /* largest request head we accept */
#define OUT_CAP    16384 /* queued responses per connection */
#define RESP_MAX   512   /* upper bound of one response */
#define MAX_EVENTS 64

struct conn {
    int fd;
    int closing;    /* close once out is flushed */
    int peer_eof;   /* peer shut down its sending side */
    int want_out;   /* currently waiting for EV_OUT instead of EV_IN */
    size_t slot;    /* WASI: index in conns[] */
    size_t in_len;  /* bytes in in[] */
    size_t skip;    /* request body bytes still to discard */
    size_t out_off; /* bytes of out[] already sent */
    size_t out_len; /* bytes in out[] */
    char in[IN_CAP];
    char out[OUT_CAP];
};

static char body[256];
static size_t body_len;
#ifdef __wasi__
static struct conn *conns[MAX_CONNS]; /* NULL: freed this round */
static size_t nconns;
#else
static int epfd = -1;
static char listen_tag, signal_tag; /* addresses used as epoll tags */
#endif

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void conn_free(struct conn *c)
{
#ifdef __wasi__
    conns[c->slot] = NULL;
#endif
    close(c->fd); /* natively, also removes it from the epoll set */
    free(c);
}

/* Case-insensitive search for token tok in a comma-separated header value. */
static int has_token(const char *v, size_t n, const char *tok)
{
    size_t tl = strlen(tok);
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t s = i;
        while (i < n && v[i] != ',')
            i++;
        size_t e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (e - s == tl && strncasecmp(v + s, tok, tl) == 0)
            return 1;
    }
    return 0;
}

static void queue_response(struct conn *c, int code, const char *reason, int head, int close_after,
                           const char *extra)
{
    const char *b = code == 200 ? body : "";
    size_t bl = code == 200 ? body_len : 0;
    char tmp[64];
    if (code != 200) {
        int n = snprintf(tmp, sizeof tmp, "%d %s\n", code, reason);
        b = tmp;
        bl = (size_t)n;
    }
    int n = snprintf(c->out + c->out_len, OUT_CAP - c->out_len,
                     "HTTP/1.1 %d %s\r\n"
                     "Server: cella-bench-httpd\r\n"
                     "Content-Type: text/plain\r\n"
                     "Content-Length: %zu\r\n"
                     "%s%s"
                     "\r\n"
                     "%.*s",
                     code, reason, bl, close_after ? "Connection: close\r\n" : "", extra,
                     head ? 0 : (int)bl, b);
    if (n > 0 && (size_t)n < OUT_CAP - c->out_len)
        c->out_len += (size_t)n;
    if (close_after)
        c->closing = 1;
}

/*
 * Try to parse one request from the start of c->in.  Returns the number of
 * bytes consumed (a response has then been queued), 0 if more data is
 * needed, or -1 if the connection must be closed after a 400.
 */
static ssize_t parse_one(struct conn *c)
{
    char *buf = c->in;
    size_t len = c->in_len;
    size_t pos = 0, line = 0;
    const char *method = NULL, *target = NULL;
    size_t mlen = 0, tlen = 0;
    int minor = 1, conn_close = 0, conn_keep = 0, bad = 0;
    size_t clen = 0;

    for (;;) {
        char *nl = memchr(buf + pos, '\n', len - pos);
        if (!nl) {
            if (len == IN_CAP)
                return -1;   /* head too large */
            if (line == 0) { /* reject garbage early: method must be [A-Z]+ SP */
                for (size_t i = pos; i < len && buf[i] != ' '; i++) {
                    if ((buf[i] < 'A' || buf[i] > 'Z') && buf[i] != '\r') {
                        queue_response(c, 400, "Bad Request", 0, 1, "");
                        return -1;
                    }
                }
            }
            return 0;
        }
        size_t eol = (size_t)(nl - buf);
        size_t end = eol;
        if (end > pos && buf[end - 1] == '\r')
            end--;
        char *l = buf + pos;
        size_t ll = end - pos;
        pos = eol + 1;

        if (line++ == 0) {
            if (ll == 0) { /* tolerate stray empty lines before a request */
                line = 0;
                c->in_len -= pos;
                memmove(buf, buf + pos, c->in_len);
                len = c->in_len;
                pos = 0;
                continue;
            }
            /* METHOD SP TARGET SP HTTP/1.x */
            char *sp1 = memchr(l, ' ', ll);
            char *sp2 = sp1 ? memchr(sp1 + 1, ' ', ll - (size_t)(sp1 + 1 - l)) : NULL;
            if (!sp1 || !sp2 || sp1 == l || sp2 == sp1 + 1) {
                bad = 1;
                continue;
            }
            method = l;
            mlen = (size_t)(sp1 - l);
            target = sp1 + 1;
            tlen = (size_t)(sp2 - target);
            const char *ver = sp2 + 1;
            size_t vl = ll - (size_t)(ver - l);
            if (vl != 8 || memcmp(ver, "HTTP/1.", 7) != 0 || (ver[7] != '0' && ver[7] != '1'))
                bad = 1;
            else
                minor = ver[7] - '0';
            for (size_t i = 0; i < mlen; i++)
                if (method[i] < 'A' || method[i] > 'Z')
                    bad = 1;
            continue;
        }
        if (ll == 0)
            break; /* end of head */
        char *colon = memchr(l, ':', ll);
        if (!colon || colon == l) {
            bad = 1;
            continue;
        }
        size_t nlen = (size_t)(colon - l);
        const char *v = colon + 1;
        size_t vl = ll - nlen - 1;
        while (vl && (*v == ' ' || *v == '\t'))
            v++, vl--;
        if (nlen == 10 && strncasecmp(l, "Connection", 10) == 0) {
            conn_close |= has_token(v, vl, "close");
            conn_keep |= has_token(v, vl, "keep-alive");
        } else if (nlen == 14 && strncasecmp(l, "Content-Length", 14) == 0) {
            char num[24];
            if (vl == 0 || vl >= sizeof num) {
                bad = 1;
                continue;
            }
            memcpy(num, v, vl);
            num[vl] = 0;
            char *ep;
            errno = 0;
            unsigned long long x = strtoull(num, &ep, 10);
            if (*ep || errno || num[0] == '-' || x > (1ULL << 40))
                bad = 1;
            else
                clen = (size_t)x;
        } else if (nlen == 17 && strncasecmp(l, "Transfer-Encoding", 17) == 0) {
            bad = 1; /* no chunked bodies here */
        }
    }

    if (bad) {
        queue_response(c, 400, "Bad Request", 0, 1, "");
        return -1;
    }
    int close_after = minor == 0 ? !conn_keep : conn_close;
    int is_get = mlen == 3 && memcmp(method, "GET", 3) == 0;
    int is_head = mlen == 4 && memcmp(method, "HEAD", 4) == 0;
    if (!is_get && !is_head)
        queue_response(c, 405, "Method Not Allowed", 0, close_after, "Allow: GET, HEAD\r\n");
    else if (tlen == 1 && target[0] == '/')
        queue_response(c, 200, "OK", is_head, close_after, "");
    else
        queue_response(c, 404, "Not Found", is_head, close_after, "");
    c->skip = clen;
    return (ssize_t)pos;
}

static void set_events(struct conn *c, int want_out)
{
    if (c->want_out == want_out)
        return;
#ifndef __wasi__ /* the poll loop reads want_out each round */
    struct epoll_event ev = {.events = want_out ? EPOLLOUT : EPOLLIN, .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
        die("epoll_ctl");
#endif
    c->want_out = want_out;
}

/* Send queued output: 1 all sent, 0 would block, -1 error. */
static int flush_out(struct conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, SEND_FLAGS);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            return -1;
        }
        c->out_off += (size_t)n;
    }
    c->out_off = c->out_len = 0;
    return 1;
}

/* Parse and answer complete requests while out[] has room.  Returns the
 * number of responses queued. */
static int process_input(struct conn *c)
{
    int queued = 0;
    while (!c->closing && c->out_len + RESP_MAX <= OUT_CAP) {
        if (c->skip) { /* discard a request body */
            size_t k = c->skip < c->in_len ? c->skip : c->in_len;
            memmove(c->in, c->in + k, c->in_len - k);
            c->in_len -= k;
            c->skip -= k;
            if (c->skip)
                break;
        }
        if (c->in_len == 0)
            break;
        ssize_t used = parse_one(c);
        if (used < 0) {
            if (!c->closing) /* head too large */
                queue_response(c, 400, "Bad Request", 0, 1, "");
            queued++;
            break;
        }
        if (used == 0)
            break;
        queued++;
        c->in_len -= (size_t)used;
        memmove(c->in, c->in + used, c->in_len);
    }
    return queued;
}

static void handle_conn(struct conn *c, uint32_t events)
{
    if (events & EV_ERR) {
        conn_free(c);
        return;
    }
    if (events & (EV_IN | EV_HUP)) {
        while (!c->peer_eof && c->in_len < IN_CAP) {
            ssize_t n = recv(c->fd, c->in + c->in_len, IN_CAP - c->in_len, 0);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    break;
                conn_free(c);
                return;
            }
            if (n == 0) /* peer done sending: answer what we have, then close */
                c->peer_eof = 1;
            c->in_len += (size_t)n;
        }
    }
    /* Alternate parsing and flushing so a long pipeline never overflows out[]. */
    for (;;) {
        int queued = process_input(c);
        int r = flush_out(c);
        if (r < 0) {
            conn_free(c);
            return;
        }
        if (r == 0) { /* socket buffer full: wait for EV_OUT, stop reading */
            set_events(c, 1);
            return;
        }
        if (!queued)
            break;
    }
    if (c->closing || c->peer_eof) {
        /* Discard unread input first, else close() sends an RST that can
         * destroy the response before the client has read it. */
        char sink[4096];
        shutdown(c->fd, SHUT_WR);
        while (recv(c->fd, sink, sizeof sink, 0) > 0)
            ;
        conn_free(c);
        return;
    }
    set_events(c, 0);
}

static void accept_all(int lfd)
{
    for (;;) {
        /* wasi-libc's accept4 writes through both pointers: never NULL. */
        struct sockaddr_storage sa;
        socklen_t sl = sizeof sa;
        int fd = accept4(lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return; /* EAGAIN, or out of fds/memory: retry on the next event */
        }
        struct conn *c = malloc(sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->closing = c->peer_eof = c->want_out = 0;
        c->in_len = c->skip = c->out_off = c->out_len = 0;
#ifdef __wasi__ /* no TCP_NODELAY: WASI preview 1 has no setsockopt */
        c->slot = nconns;
        conns[nconns++] = c;
        if (nconns == MAX_CONNS)
            return;
#else
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            conn_free(c);
            continue;
        }
#endif
    }
}

#ifdef __wasi__
/* The listening socket the runtime preopened: fds are numbered from 3 without
 * gaps (preopened directories and sockets alike), so stop at the first EBADF. */
static int find_listener(void)
{
    for (int fd = 3; fd < 1024; fd++) {
        __wasi_fdstat_t st;
        __wasi_errno_t e = __wasi_fd_fdstat_get((__wasi_fd_t)fd, &st);
        if (e == __WASI_ERRNO_BADF)
            break;
        if (e == 0 && st.fs_filetype == __WASI_FILETYPE_SOCKET_STREAM)
            return fd;
    }
    fprintf(stderr, "httpd: no preopened listening socket (run with --tcplisten ADDR:PORT)\n");
    exit(2);
}

static int serve(const char *port)
{
    static struct pollfd pfd[1 + MAX_CONNS];
    (void)port; /* the runtime chose the address */
    int lfd = find_listener();
    int fl = fcntl(lfd, F_GETFL);
    if (fl < 0 || fcntl(lfd, F_SETFL, fl | O_NONBLOCK) < 0)
        die("fcntl O_NONBLOCK on the listening socket");

    for (;;) {
        size_t n = nconns;
        /* fd -1 is skipped: a full table stops accepting for the round. */
        pfd[0] = (struct pollfd){.fd = n < MAX_CONNS ? lfd : -1, .events = POLLIN};
        for (size_t i = 0; i < n; i++)
            pfd[1 + i] = (struct pollfd){.fd = conns[i]->fd,
                                         .events = conns[i]->want_out ? POLLOUT : POLLIN};
        if (poll(pfd, 1 + n, -1) < 0) {
            if (errno == EINTR)
                continue;
            die("poll");
        }
        for (size_t i = 0; i < n; i++)
            if (pfd[1 + i].revents && conns[i])
                handle_conn(conns[i], (uint32_t)pfd[1 + i].revents);
        if (pfd[0].revents)
            accept_all(lfd); /* appends after the n entries polled */
        size_t k = 0;        /* drop the freed ones */
        for (size_t i = 0; i < nconns; i++) {
            if (conns[i]) {
                conns[k] = conns[i];
                conns[k]->slot = k;
                k++;
            }
        }
        nconns = k;
    }
}
#else
static int parse_port(const char *s)
{
    char *ep;
    long p = strtol(s, &ep, 10);
    if (!*s || *ep || p < 1 || p > 65535) {
        fprintf(stderr, "httpd: bad port '%s'\n", s);
        exit(2);
    }
    return (int)p;
}

static int serve(const char *ps)
{
    const char *addr = getenv("ADDR");
    int port = parse_port(ps && *ps ? ps : "8080");
    if (!addr || !*addr)
        addr = "0.0.0.0";

    struct sockaddr_storage ss;
    socklen_t sl;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        sl = sizeof *s4;
    } else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        sl = sizeof *s6;
    } else {
        fprintf(stderr, "httpd: bad ADDR '%s'\n", addr);
        return 2;
    }

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    /* Blocked + signalfd also works when we are PID 1 of a pid namespace. */
    if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
        die("sigprocmask");
    int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sfd < 0)
        die("signalfd");
    signal(SIGPIPE, SIG_IGN);

    int lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0)
        die("socket");
    int one = 1;
    if (setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
        die("setsockopt");
    if (bind(lfd, (struct sockaddr *)&ss, sl) < 0)
        die("bind");
    if (listen(lfd, 512) < 0)
        die("listen");

    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        die("epoll_create1");
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &listen_tag};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev) < 0)
        die("epoll_ctl");
    ev.data.ptr = &signal_tag;
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &ev) < 0)
        die("epoll_ctl");

    struct epoll_event evs[MAX_EVENTS];
    for (;;) {
        int k = epoll_wait(epfd, evs, MAX_EVENTS, -1);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait");
        }
        for (int i = 0; i < k; i++) {
            void *p = evs[i].data.ptr;
            if (p == &listen_tag) {
                accept_all(lfd);
            } else if (p == &signal_tag) {
                struct signalfd_siginfo si;
                if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
                    close(lfd);
                    return 0;
                }
            } else {
                handle_conn(p, evs[i].events);
            }
        }
    }
}
#endif

int main(int argc, char **argv)
{
    const char *name = getenv("RUNTIME_NAME");
    if (!name || !*name)
        name = "unknown";
    int n = snprintf(body, sizeof body, "hello from %s\n", name);
    body_len = n < (int)sizeof body ? (size_t)n : sizeof body - 1;
    return serve(argc > 1 ? argv[1] : getenv("PORT"));
}
