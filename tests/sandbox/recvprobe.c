/* recvprobe: receives on a non-blocking TCP socket over loopback and prints
 * what each call returns, the same lines on the host and in a sandbox (where
 * a short receive of an empty socket lets the stub answer the next recv with
 * EAGAIN itself, and a read the same: docs/sandbox.md, "cella bench"). Each step is a case where a
 * stale "empty" answer would show: data the process itself sent since, the
 * peer's end of stream, data another thread sent and said so in memory. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int s, c;     /* the accepted (non-blocking) end, the client end */
static int go, done; /* the second thread's step: set and seen in memory only */

static void die(const char *what)
{
    perror(what);
    exit(2);
}

/* In a sandbox only: the hint in this thread's context page (platform.h's
 * struct sb_ctx, slot 0, empty_fd at 272), which the stub clears as it
 * answers the next call. */
static unsigned long long hint(void)
{
    return *(volatile unsigned long long *)(0x300000010000ULL + 272);
}

static int sandbox;
static unsigned long long last_hint; /* read right after the last recv, before printing */

static void rx(const char *what, size_t len, int flags)
{
    char buf[64] = {0};
    ssize_t n = flags < 0 ? read(s, buf, len) : recv(s, buf, len, flags);
    int e = errno;
    if (sandbox)
        last_hint = hint();
    errno = e;
    if (n < 0)
        printf("%s: -1 %s\n", what, errno == EAGAIN ? "EAGAIN" : strerror(errno));
    else
        printf("%s: %zd \"%.*s\"\n", what, n, (int)n, buf);
}

static void tx(const char *data)
{
    if (send(c, data, strlen(data), 0) != (ssize_t)strlen(data))
        die("send");
}

/* Until s has something (data or the end): a call of its own. */
static void readable(void)
{
    struct pollfd p = {.fd = s, .events = POLLIN};
    if (poll(&p, 1, 10000) != 1)
        die("poll");
}

static void *second(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&go, __ATOMIC_ACQUIRE))
        sched_yield();
    tx("from the thread");
    readable();
    __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
    return NULL;
}

int main(int argc, char **argv)
{
    sandbox = argc > 1 && strcmp(argv[1], "sandbox") == 0;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0 ||
        getsockname(l, (struct sockaddr *)&a, &len) < 0)
        die("listen");
    c = socket(AF_INET, SOCK_STREAM, 0);
    if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)) < 0)
        die("connect");
    s = accept4(l, NULL, NULL, SOCK_NONBLOCK);
    if (s < 0)
        die("accept4");

    tx("hello");
    readable();
    rx("short recv", 64, 0);
    if (sandbox)
        printf("the answer's hint: %s\n",
               last_hint == (unsigned long long)s + 1 ? "this socket" : "none");
    rx("recv of the empty socket", 64, 0);
    if (sandbox)
        printf("the hint after that recv: %s\n", last_hint == 0 ? "none" : "still there");
    rx("again, MSG_DONTWAIT", 64, MSG_DONTWAIT);
    tx("more");
    readable();
    rx("recv after poll", 64, 0);
    tx("x"); /* calls of its own since the last recv: the next one sees it */
    readable();
    rx("recv after its own send and poll", 64, 0);
    rx("recv of no bytes", 0, 0);
    tx("yz");
    readable();
    rx("recv of one byte", 1, 0);
    rx("the rest", 64, 0);
    rx("MSG_PEEK of the empty socket", 64, MSG_PEEK);
    tx("read");
    readable();
    rx("short read()", 64, -1);
    if (sandbox)
        printf("the read's hint: %s\n",
               last_hint == (unsigned long long)s + 1 ? "this socket" : "none");
    rx("read() of the empty socket", 64, -1);
    rx("read() of no bytes", 0, -1);
    tx("end");
    if (shutdown(c, SHUT_WR) < 0)
        die("shutdown");
    readable();
    rx("recv before the end", 64, 0);
    rx("recv at the end", 64, 0);

    /* Another thread: it sends, then tells this one through memory alone. */
    close(s);
    close(c);
    c = socket(AF_INET, SOCK_STREAM, 0);
    if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)) < 0)
        die("connect");
    s = accept4(l, NULL, NULL, SOCK_NONBLOCK);
    if (s < 0)
        die("accept4");
    pthread_t th;
    if (pthread_create(&th, NULL, second, NULL) != 0)
        die("pthread_create");
    tx("first");
    readable();
    rx("short recv, two threads", 64, 0);
    __atomic_store_n(&go, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&done, __ATOMIC_ACQUIRE))
        __builtin_ia32_pause();
    rx("recv after the thread's send", 64, 0);
    pthread_join(th, NULL);
    return 0;
}
