/* Unit tests for bench/src/loadgen.c and bench/src/mem.c.
 *
 * loadgen runs against a tiny HTTP server forked by the test (one process
 * per connection, on 127.0.0.1 and a port the kernel picked), in several
 * behaviours: well-formed keep-alive answers, answers split across writes,
 * 500s, no Content-Length, chunked, Connection: close, dropped connections,
 * interim 100 responses, big bodies, silence. mem looks for children that
 * this binary re-executes as `cella-bench-memchild --mem-child MARKER ...`
 * (20 MB touched, optionally with a grandchild whose command line lacks the
 * marker and whose name holds spaces and parentheses). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "loadgen.h"
#include "mem.h"
#include "stats.h"
#include "unit.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* loadgen_run with its error's message in a buffer ("" when none). */
static int lg(const char *addr, int port, int conc, double secs, int cpu, struct load_result *r,
              char *buf, size_t len)
{
    cerr_t err = NULL;
    int rc = loadgen_run(addr, port, conc, secs, cpu, r, &err);
    snprintf(buf, len, "%s", err ? cerr_msg(err) : "");
    cerr_free(&err);
    return rc;
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (d == NULL)
        return -1;
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n;
}

/* ---- the test server ----------------------------------------------------------- */

enum mode {
    M_OK,       /* 200, keep-alive, Content-Length */
    M_SPLIT,    /* the same, written in five pieces with pauses */
    M_500,      /* 500 with a body */
    M_NOLEN,    /* 200 without Content-Length */
    M_CHUNKED,  /* 200, Transfer-Encoding: chunked */
    M_CLOSE,    /* 200 with Connection: close, then close */
    M_DROP,     /* 5 answers, then close without answering the 6th */
    M_INTERIM,  /* 100 Continue and 200 in one write */
    M_BIG,      /* 200 with a 100000-byte body */
    M_SILENT,   /* read, never answer */
    M_TRAILING, /* 200 followed by bytes nobody asked for */
};

static const char ok_resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhello\n";

static void write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            _exit(0);
        s += w;
        n -= (size_t)w;
    }
}
#define WRITE_STR(fd, s) write_all(fd, s, strlen(s))

static void respond(int fd, enum mode mode, int served)
{
    static char big[100000];
    switch (mode) {
    case M_OK:
        WRITE_STR(fd, ok_resp);
        break;
    case M_SPLIT: {
        static const char *const parts[] = {"HTT", "P/1.1 200 OK\r\nContent-Le", "ngth: 6\r\n\r",
                                            "\nhel", "lo\n"};
        for (size_t i = 0; i < 5; i++) {
            WRITE_STR(fd, parts[i]);
            usleep(100);
        }
        break;
    }
    case M_500:
        WRITE_STR(fd, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\noops");
        break;
    case M_NOLEN:
        WRITE_STR(fd, "HTTP/1.1 200 OK\r\n\r\nhello");
        break;
    case M_CHUNKED:
        WRITE_STR(fd,
                  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
        break;
    case M_CLOSE:
        WRITE_STR(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 6\r\n\r\nhello\n");
        _exit(0);
    case M_DROP:
        if (served == 5)
            _exit(0);
        WRITE_STR(fd, ok_resp);
        break;
    case M_INTERIM:
        WRITE_STR(
            fd, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length:6\r\n\r\nhello\n");
        break;
    case M_BIG:
        memset(big, 'x', sizeof(big));
        WRITE_STR(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n");
        write_all(fd, big, sizeof(big));
        break;
    case M_SILENT:
        break;
    case M_TRAILING:
        WRITE_STR(fd, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhello\nEXTRA");
        break;
    }
}

/* One connection: answer every request (checked to be the one loadgen
 * sends) until the peer closes. */
static void serve_conn(int fd, enum mode mode)
{
    static const char want[] = "GET / HTTP/1.1\r\nHost: bench\r\n\r\n";
    char buf[4096];
    size_t len = 0;
    int served = 0;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    for (;;) {
        ssize_t n = read(fd, buf + len, sizeof(buf) - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            _exit(0);
        len += (size_t)n;
        char *e;
        while ((e = memmem(buf, len, "\r\n\r\n", 4)) != NULL) {
            size_t used = (size_t)(e + 4 - buf);
            if (used != sizeof(want) - 1 || memcmp(buf, want, used) != 0) {
                WRITE_STR(fd, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
            } else {
                respond(fd, mode, served++);
            }
            memmove(buf, buf + used, len - used);
            len -= used;
        }
        if (len == sizeof(buf))
            _exit(0);
    }
}

struct server {
    pid_t pid; /* also its process group */
    int port;
};

static int start_server(enum mode mode, struct server *s)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 128) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
        printf("#   server socket: %s\n", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    s->port = ntohs(sa.sin_port);
    fflush(stdout);
    s->pid = fork();
    if (s->pid < 0) {
        close(fd);
        return -1;
    }
    if (s->pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        signal(SIGCHLD, SIG_IGN); /* connection processes reap themselves */
        for (;;) {
            int c = accept(fd, NULL, NULL);
            if (c < 0) {
                if (errno == EINTR || errno == ECONNABORTED)
                    continue;
                _exit(1);
            }
            pid_t p = fork();
            if (p == 0) {
                close(fd);
                serve_conn(c, mode);
            }
            close(c);
        }
    }
    setpgid(s->pid, s->pid);
    close(fd);
    return 0;
}

static void stop_server(struct server *s)
{
    kill(-s->pid, SIGKILL);
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
}

/* Run loadgen against a fresh server in `mode`. */
static int run_mode(enum mode mode, int conc, double secs, int cpu, struct load_result *r,
                    char *err, size_t errlen)
{
    struct server s;
    if (start_server(mode, &s) < 0) {
        unit_failed_now = 1;
        memset(r, 0, sizeof(*r));
        return -1;
    }
    int fds = count_fds();
    int rc = lg("127.0.0.1", s.port, conc, secs, cpu, r, err, errlen);
    CHECK(count_fds() == fds); /* every socket closed */
    stop_server(&s);
    printf("#   mode %d c=%d: rc %d, %llu requests, %llu errors, %.3f s, %.0f rps, "
           "p50 %llu p99 %llu p999 %llu max %llu ns%s%s\n",
           (int)mode, conc, rc, (unsigned long long)r->requests, (unsigned long long)r->errors,
           r->seconds, r->rps, (unsigned long long)r->p50_ns, (unsigned long long)r->p99_ns,
           (unsigned long long)r->p999_ns, (unsigned long long)r->max_ns, rc ? ": " : "",
           rc ? err : "");
    return rc;
}

static void check_healthy(const struct load_result *r, double secs)
{
    CHECK(r->requests > 0);
    CHECK(r->errors == 0);
    CHECK(r->p50_ns > 0);
    CHECK(r->p50_ns <= r->p99_ns);
    CHECK(r->p99_ns <= r->p999_ns);
    CHECK(r->p999_ns <= r->max_ns);
    CHECK(r->max_ns < 1000000000ull);
    CHECK(r->seconds >= secs && r->seconds < secs + 0.25);
    CHECK(r->rps > 50);
    CHECK(fabs(r->rps - (double)r->requests / r->seconds) <= 1e-9 * r->rps);
    /* closed loop: a request takes at least p50 / concurrency ... roughly */
    CHECK(r->rps < 1e7);
}

static void test_loadgen_c1(void)
{
    struct load_result r;
    char err[256];
    CHECK(run_mode(M_OK, 1, 0.5, -1, &r, err, sizeof(err)) == 0);
    check_healthy(&r, 0.5);
    /* one connection, one request at a time: requests * mean latency fits in
     * the run, so the median is at most the run time divided by half the
     * requests (more than half the requests are at least p50) */
    CHECK((double)r.p50_ns * ((double)r.requests / 2) <= r.seconds * 1e9);
}

static void test_loadgen_c4(void)
{
    struct load_result r;
    char err[256];
    CHECK(run_mode(M_OK, 4, 0.5, -1, &r, err, sizeof(err)) == 0);
    check_healthy(&r, 0.5);
}

static void test_loadgen_pinned(void)
{
    cpu_set_t before, after;
    CHECK(sched_getaffinity(0, sizeof(before), &before) == 0);
    int cpu = -1;
    for (int i = 0; i < CPU_SETSIZE && cpu < 0; i++)
        if (CPU_ISSET(i, &before))
            cpu = i;
    if (cpu < 0)
        SKIP("no CPU in the affinity mask");
    struct load_result r;
    char err[256];
    CHECK(run_mode(M_OK, 2, 0.3, cpu, &r, err, sizeof(err)) == 0);
    check_healthy(&r, 0.3);
    CHECK(sched_getaffinity(0, sizeof(after), &after) == 0);
    CHECK(CPU_EQUAL(&before, &after)); /* restored */
    CHECK(lg("127.0.0.1", 80, 1, 0.1, CPU_SETSIZE + 5, &r, err, sizeof(err)) == -1);
    CHECK(err[0] != '\0');
}

static void test_loadgen_partial_reads(void)
{
    struct load_result r;
    char err[256];
    CHECK(run_mode(M_SPLIT, 2, 0.5, -1, &r, err, sizeof(err)) == 0);
    check_healthy(&r, 0.5);
    CHECK(run_mode(M_BIG, 2, 0.5, -1, &r, err, sizeof(err)) == 0);
    check_healthy(&r, 0.5);
}

static void test_loadgen_interim(void)
{
    struct load_result r;
    char err[256];
    CHECK(run_mode(M_INTERIM, 2, 0.5, -1, &r, err, sizeof(err)) == 0);
    check_healthy(&r, 0.5);
}

static void test_loadgen_connection_close(void)
{
    /* a clean Connection: close is no error; loadgen reconnects */
    struct load_result r;
    char err[256];
    CHECK(run_mode(M_CLOSE, 2, 0.5, -1, &r, err, sizeof(err)) == 0);
    check_healthy(&r, 0.5);
}

static void test_loadgen_500(void)
{
    struct load_result r;
    char err[256];
    CHECK(run_mode(M_500, 2, 0.5, -1, &r, err, sizeof(err)) == 0);
    CHECK(r.requests == 0);
    CHECK(r.errors > 10);
    CHECK(r.p50_ns == 0 && r.max_ns == 0 && r.rps == 0);
}

static void test_loadgen_bad_responses(void)
{
    struct load_result r;
    char err[256];
    CHECK(run_mode(M_NOLEN, 2, 0.3, -1, &r, err, sizeof(err)) == 0);
    CHECK(r.requests == 0 && r.errors > 2);
    CHECK(run_mode(M_CHUNKED, 2, 0.3, -1, &r, err, sizeof(err)) == 0);
    CHECK(r.requests == 0 && r.errors > 2);
    /* a 200 followed by junk: the 200 counts, the junk is an error */
    CHECK(run_mode(M_TRAILING, 1, 0.3, -1, &r, err, sizeof(err)) == 0);
    CHECK(r.requests > 2 && r.errors > 2);
    CHECK(r.requests - r.errors <= 1 && r.errors - r.requests <= 1);
}

static void test_loadgen_drops(void)
{
    /* the server hangs up after 5 answers: each drop is one error, then a
     * new connection carries on */
    struct load_result r;
    char err[256];
    CHECK(run_mode(M_DROP, 1, 0.5, -1, &r, err, sizeof(err)) == 0);
    CHECK(r.requests > 10);
    CHECK(r.errors > 2);
    CHECK(r.requests >= 5 * r.errors - 5 && r.requests <= 5 * r.errors + 5);
}

static void test_loadgen_silent(void)
{
    /* a server that never answers: no hang, the run ends on time and the
     * requests unanswered for over a second count as errors */
    struct load_result r;
    char err[256];
    double t = now_s();
    CHECK(run_mode(M_SILENT, 3, 1.2, -1, &r, err, sizeof(err)) == 0);
    t = now_s() - t;
    CHECK(t < 1.7);
    CHECK(r.requests == 0);
    CHECK(r.errors == 3);
}

static void test_loadgen_closed_port(void)
{
    /* a port nobody listens on: bind, take the number, close */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    CHECK(getsockname(fd, (struct sockaddr *)&sa, &sl) == 0);
    close(fd);
    struct load_result r;
    char err[256] = "";
    int fds = count_fds();
    double t = now_s();
    int rc = lg("localhost", ntohs(sa.sin_port), 2, 5, -1, &r, err, sizeof(err));
    t = now_s() - t;
    printf("#   closed port: rc %d after %.3f s: %s\n", rc, t, err);
    CHECK(rc == -1);
    CHECK(strstr(err, "connect") != NULL);
    CHECK(t >= 0.9 && t < 1.5);
    CHECK(r.requests == 0);
    CHECK(count_fds() == fds);
    /* a short run on a closed port fails too */
    rc = lg("127.0.0.1", ntohs(sa.sin_port), 1, 0.2, -1, &r, err, sizeof(err));
    CHECK(rc == -1);
    CHECK(strstr(err, "connect") != NULL);
}

static void test_loadgen_connect_hangs(void)
{
    /* a listener whose accept queue is full drops further SYNs: those
     * connects hang; after 1 s of trying the run stops with -1 */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(fd, 0) == 0);
    CHECK(getsockname(fd, (struct sockaddr *)&sa, &sl) == 0);
    struct load_result r;
    char err[256] = "";
    double t = now_s();
    int rc = lg("127.0.0.1", ntohs(sa.sin_port), 4, 5, -1, &r, err, sizeof(err));
    t = now_s() - t;
    close(fd);
    printf("#   full accept queue: rc %d after %.3f s: %s\n", rc, t, err);
    CHECK(rc == -1);
    CHECK(strstr(err, "connect") != NULL);
    CHECK(t >= 0.9 && t < 1.5);
}

static void test_loadgen_bad_args(void)
{
    struct load_result r;
    char err[256];
    CHECK(lg("not-an-address", 80, 1, 0.1, -1, &r, err, sizeof(err)) == -1);
    CHECK(strstr(err, "not-an-address") != NULL);
    CHECK(lg("::1", 80, 1, 0.1, -1, &r, err, sizeof(err)) == -1);
    CHECK(lg("127.0.0.1", 0, 1, 0.1, -1, &r, err, sizeof(err)) == -1);
    CHECK(lg("127.0.0.1", 80, 0, 0.1, -1, &r, err, sizeof(err)) == -1);
    CHECK(lg("127.0.0.1", 80, 1, 0, -1, &r, err, sizeof(err)) == -1);
    CHECK(err[0] != '\0');
}

/* ---- mem ------------------------------------------------------------------------- */

#define CHILD_MB 20

/* Re-executed as `cella-bench-memchild --mem-child MARKER FD FORK`: touch
 * 20 MB, optionally start a grandchild, write "GRANDCHILD_PID\n" to FD,
 * sleep until killed. */
static int mem_child(char **argv)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = atoi(argv[3]);
    size_t sz = (size_t)CHILD_MB << 20;
    volatile char *p = malloc(sz);
    if (p == NULL)
        _exit(1);
    for (size_t i = 0; i < sz; i += 512)
        p[i] = (char)i | 1;
    pid_t g = 0;
    if (strcmp(argv[4], "1") == 0) {
        int gp[2];
        if (pipe(gp) < 0)
            _exit(1);
        g = fork();
        if (g == 0) {
            char fdbuf[16];
            snprintf(fdbuf, sizeof(fdbuf), "%d", gp[1]);
            execl("/proc/self/exe", "cella-bench-grandchild", "--sleep", fdbuf, (char *)NULL);
            _exit(127);
        }
        close(gp[1]);
        char c;
        if (g < 0 || read(gp[0], &c, 1) != 1) /* the grandchild has renamed itself */
            _exit(1);
    }
    char msg[32];
    int l = snprintf(msg, sizeof(msg), "%d\n", (int)g);
    if (write(fd, msg, (size_t)l) != l)
        _exit(1);
    for (;;)
        pause();
}

/* `cella-bench-grandchild --sleep FD`: a name with spaces and parentheses
 * (it shows in /proc/PID/stat), then say so and sleep. */
static int sleeper(char **argv)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    prctl(PR_SET_NAME, "x) 1 (y");
    if (write(atoi(argv[2]), "g", 1) != 1)
        _exit(1);
    for (;;)
        pause();
}

struct child {
    pid_t pid, grandchild;
};

static int spawn_child(const char *marker, bool with_grandchild, struct child *c)
{
    int p[2];
    if (pipe(p) < 0)
        return -1;
    fflush(stdout);
    c->pid = fork();
    if (c->pid == 0) {
        char fdbuf[16];
        close(p[0]);
        snprintf(fdbuf, sizeof(fdbuf), "%d", p[1]);
        execl("/proc/self/exe", "cella-bench-memchild", "--mem-child", marker, fdbuf,
              with_grandchild ? "1" : "0", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char buf[32] = "";
    size_t len = 0;
    struct pollfd pfd = {.fd = p[0], .events = POLLIN};
    while (len < sizeof(buf) - 1 && memchr(buf, '\n', len) == NULL && poll(&pfd, 1, 20000) == 1) {
        ssize_t n = read(p[0], buf + len, sizeof(buf) - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(p[0]);
    buf[len] = '\0';
    if (c->pid < 0 || memchr(buf, '\n', len) == NULL) {
        printf("#   child did not start\n");
        if (c->pid > 0) {
            kill(c->pid, SIGKILL);
            waitpid(c->pid, NULL, 0);
        }
        return -1;
    }
    c->grandchild = (pid_t)atoi(buf);
    return 0;
}

static void kill_child(struct child *c)
{
    if (c->grandchild > 0)
        kill(c->grandchild, SIGKILL);
    if (c->pid > 0) {
        kill(c->pid, SIGKILL);
        waitpid(c->pid, NULL, 0);
    }
    c->pid = c->grandchild = 0;
}

static bool has_pid(const pid_t *v, size_t n, pid_t p)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == p)
            return true;
    return false;
}

static char marker_a[64], marker_b[64];
static const char *self_argv0;

static void test_mem_by_id(void)
{
    struct child a;
    snprintf(marker_a, sizeof(marker_a), "cella-bench-test-%d-%ld-a", (int)getpid(),
             (long)time(NULL));
    if (spawn_child(marker_a, false, &a) < 0) {
        unit_failed_now = 1;
        return;
    }
    size_t n = 99;
    pid_t *pids = mem_container_pids(0, marker_a, &n);
    CHECK(pids != NULL);
    CHECK(n == 1);
    CHECK(n >= 1 && pids[0] == a.pid);
    struct mem_usage mu;
    CHECK(mem_sum(pids, n, &mu) == 0);
    printf("#   child %d: rss %llu kB, pss %llu kB, %d process(es)\n", (int)a.pid,
           (unsigned long long)mu.rss_kb, (unsigned long long)mu.pss_kb, mu.nprocs);
    CHECK(mu.rss_kb >= CHILD_MB * 1000);
    CHECK(mu.pss_kb > 0 && mu.pss_kb <= mu.rss_kb);
    CHECK(mu.nprocs == 1);
    free(pids);

    /* part of an argument matches too (the marker's prefix), the whole
     * argument as well; the id of nothing matches nothing */
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "%.*s", (int)strlen(marker_a) - 2, marker_a);
    pids = mem_container_pids(0, prefix, &n);
    CHECK(pids != NULL && has_pid(pids, n, a.pid));
    free(pids);
    pids = mem_container_pids(0, "cella-bench-no-such-marker-xyzzy", &n);
    CHECK(pids != NULL && n == 0);
    free(pids);

    /* a process gone meanwhile is skipped */
    pid_t dead = a.pid;
    kill_child(&a);
    CHECK(mem_sum(&dead, 1, &mu) == 0);
    CHECK(mu.nprocs == 0 && mu.rss_kb == 0 && mu.pss_kb == 0);
    pids = mem_container_pids(0, marker_a, &n);
    CHECK(pids != NULL && n == 0);
    free(pids);
}

static void test_mem_descendants(void)
{
    struct child b;
    snprintf(marker_b, sizeof(marker_b), "cella-bench-test-%d-%ld-b", (int)getpid(),
             (long)time(NULL));
    if (spawn_child(marker_b, true, &b) < 0) {
        unit_failed_now = 1;
        return;
    }
    CHECK(b.grandchild > 0);
    size_t n;
    /* by pid: the child and its grandchild (named "x) 1 (y") */
    pid_t *pids = mem_container_pids(b.pid, "nomatch-cella-bench-xyzzy", &n);
    CHECK(pids != NULL);
    CHECK(n == 2);
    CHECK(has_pid(pids, n, b.pid) && has_pid(pids, n, b.grandchild));
    struct mem_usage mu;
    CHECK(mem_sum(pids, n, &mu) == 0);
    CHECK(mu.nprocs == 2);
    CHECK(mu.rss_kb >= CHILD_MB * 1000);
    free(pids);
    /* by id: the grandchild's command line lacks the marker, it is found as
     * a descendant; pid and id naming the same processes do not duplicate */
    pids = mem_container_pids(0, marker_b, &n);
    CHECK(pids != NULL && n == 2);
    CHECK(has_pid(pids, n, b.pid) && has_pid(pids, n, b.grandchild));
    free(pids);
    pids = mem_container_pids(b.pid, marker_b, &n);
    CHECK(pids != NULL && n == 2);
    free(pids);
    pids = mem_container_pids(b.pid, NULL, &n);
    CHECK(pids != NULL && n == 2);
    free(pids);
    /* the grandchild alone, by pid */
    pids = mem_container_pids(b.grandchild, "", &n);
    CHECK(pids != NULL && n == 1 && pids[0] == b.grandchild);
    free(pids);
    kill_child(&b);
}

static void test_mem_excludes_self(void)
{
    /* this process's own command line matches: it and its ancestors are left
     * out, and nothing is reached through them */
    size_t n;
    pid_t *pids = mem_container_pids(0, self_argv0, &n);
    CHECK(pids != NULL);
    CHECK(!has_pid(pids, n, getpid()));
    CHECK(!has_pid(pids, n, getppid()));
    free(pids);
    pids = mem_container_pids(getpid(), "", &n);
    CHECK(pids != NULL && n == 0);
    free(pids);
    pids = mem_container_pids(1, "", &n); /* init: everything but us */
    CHECK(pids != NULL && !has_pid(pids, n, getpid()) && !has_pid(pids, n, getppid()));
    free(pids);
    pids = mem_container_pids(0, NULL, &n);
    CHECK(pids != NULL && n == 0);
    free(pids);
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "--mem-child") == 0)
        return mem_child(argv);
    if (argc == 3 && strcmp(argv[1], "--sleep") == 0)
        return sleeper(argv);
    self_argv0 = argv[0];
    RUN(test_loadgen_c1);
    RUN(test_loadgen_c4);
    RUN(test_loadgen_pinned);
    RUN(test_loadgen_partial_reads);
    RUN(test_loadgen_interim);
    RUN(test_loadgen_connection_close);
    RUN(test_loadgen_500);
    RUN(test_loadgen_bad_responses);
    RUN(test_loadgen_drops);
    RUN(test_loadgen_silent);
    RUN(test_loadgen_closed_port);
    RUN(test_loadgen_connect_hangs);
    RUN(test_loadgen_bad_args);
    RUN(test_mem_by_id);
    RUN(test_mem_descendants);
    RUN(test_mem_excludes_self);
    return UNIT_DONE();
}
