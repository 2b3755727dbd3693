/*
 * httpd: a tiny single-threaded epoll HTTP/1.1 server used as the payload of
 * the cold-start benchmark.  GET / (or HEAD /) answers
 * "hello from $RUNTIME_NAME\n"; any other path is 404, other methods 405,
 * unparsable requests 400 (and the connection is closed).
 *
 * Usage: httpd [PORT]   (else env PORT, else 8080); env ADDR is the bind
 * address (default 0.0.0.0, IPv6 literals accepted).  SIGTERM/SIGINT make it
 * exit with status 0.  Meant to be linked statically (see Makefile).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define IN_CAP     8192  /* largest request head we accept */
#define OUT_CAP    16384 /* queued responses per connection */
#define RESP_MAX   512   /* upper bound of one response */
#define MAX_EVENTS 64

struct conn {
    int fd;
    int closing;    /* close once out is flushed */
    int peer_eof;   /* peer shut down its sending side */
    int want_out;   /* currently registered for EPOLLOUT */
    size_t in_len;  /* bytes in in[] */
    size_t skip;    /* request body bytes still to discard */
    size_t out_off; /* bytes of out[] already sent */
    size_t out_len; /* bytes in out[] */
    char in[IN_CAP];
    char out[OUT_CAP];
};

static int epfd = -1;
static char body[256];
static size_t body_len;
static char listen_tag, signal_tag; /* addresses used as epoll tags */

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void conn_free(struct conn *c)
{
    close(c->fd); /* also removes it from the epoll set */
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
    struct epoll_event ev = {.events = want_out ? EPOLLOUT : EPOLLIN, .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
        die("epoll_ctl");
    c->want_out = want_out;
}

/* Send queued output: 1 all sent, 0 would block, -1 error. */
static int flush_out(struct conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
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
    if (events & EPOLLERR) {
        conn_free(c);
        return;
    }
    if (events & (EPOLLIN | EPOLLHUP)) {
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
        if (r == 0) { /* socket buffer full: wait for EPOLLOUT, stop reading */
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
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return; /* EAGAIN, or out of fds/memory: retry on the next event */
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = malloc(sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->closing = c->peer_eof = c->want_out = 0;
        c->in_len = c->skip = c->out_off = c->out_len = 0;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            conn_free(c);
            continue;
        }
    }
}

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

int main(int argc, char **argv)
{
    const char *name = getenv("RUNTIME_NAME");
    const char *ps = argc > 1 ? argv[1] : getenv("PORT");
    const char *addr = getenv("ADDR");
    int port = parse_port(ps && *ps ? ps : "8080");
    if (!name || !*name)
        name = "unknown";
    if (!addr || !*addr)
        addr = "0.0.0.0";
    int n = snprintf(body, sizeof body, "hello from %s\n", name);
    body_len = n < (int)sizeof body ? (size_t)n : sizeof body - 1;

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
