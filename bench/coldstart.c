/*
 * coldstart: measure the cold-start latency of an OCI runtime.
 *
 * For each run: take CLOCK_MONOTONIC, exec the runtime's OCI command line
 *   CMD [global args] run --detach --bundle DIR ID
 * (or "create --bundle DIR ID" then "start ID" with --create-start), then
 * connect()+send "GET /"+recv in a tight loop until 127.0.0.1:PORT answers
 * 200.  The time to that first 200 is the cold start.  Teardown
 *   CMD kill ID KILL; CMD delete --force ID
 * is timed on its own.  The runtime is started with fork+execvp, no shell.
 *
 * With --exec CMD [ARGS...] (after all other options) there is no OCI
 * runtime: CMD itself is the server (e.g. `cella wasm run --tcplisten ...
 * httpd.wasm`); each run execs it, waits for the first 200, reads the PSS of
 * its process (/proc/PID/smaps_rollup) and kills it (teardown).
 *
 * Prints min/median/p95/max of the cold start and medians of the runtime
 * command and of teardown, as a table and as one JSON line.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_GARGS 32

struct opts {
    const char *runtime;
    const char *bundle;
    const char *name;
    const char *id_prefix;
    char *gargs[MAX_GARGS];
    int ngargs;
    int port;
    int runs;
    int warmup;
    int timeout_ms;
    int poll_us;
    int create_start;
    int verbose;
    char **exec_argv; /* --exec: the server command, no OCI runtime */
};

struct sample {
    double start_ms;    /* fork of the runtime -> first 200 */
    double cmd_ms;      /* fork of the runtime -> runtime command(s) exited */
    double kill_ms;     /* "kill ID KILL" */
    double delete_ms;   /* "delete --force ID" */
    double teardown_ms; /* kill + delete */
    double pss_kib;     /* --exec: PSS of the server at its first 200 */
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: coldstart --runtime CMD --bundle DIR --port P [--runs N] [--name NAME]\n"
               "                 [--global-args \"ARGS\"] [--create-start] [--warmup N]\n"
               "                 [--timeout-ms MS] [--poll-us US] [--id-prefix STR] [--verbose]\n"
               "\n"
               "  --runtime CMD       runtime binary (looked up in PATH)\n"
               "  --bundle DIR        OCI bundle whose process serves HTTP on 127.0.0.1:P\n"
               "  --port P            port to probe\n"
               "  --runs N            measured runs (default 20)\n"
               "  --name NAME         label in the output (default: basename of CMD)\n"
               "  --global-args ARGS  whitespace-separated options put before the subcommand\n"
               "  --create-start      use \"create\" + \"start\" instead of \"run --detach\"\n"
               "  --warmup N          unmeasured runs first (default 0)\n"
               "  --timeout-ms MS     give up on a run after MS (default 10000)\n"
               "  --poll-us US        pause between probes (default 0: tight loop)\n"
               "  --id-prefix STR     container id prefix (default \"coldstart-\")\n"
               "  --verbose           show the runtime's stdout/stderr and per-run times\n"
               "  --exec CMD ARGS...  (last) no runtime: exec CMD, which serves on the port;\n"
               "                      also reports its PSS; --runtime and --bundle not needed\n");
}

static int parse_int(const char *opt, const char *s, int lo, int hi)
{
    char *ep;
    errno = 0;
    long v = strtol(s, &ep, 10);
    if (!*s || *ep || errno || v < lo || v > hi) {
        fprintf(stderr, "coldstart: bad value for %s: '%s'\n", opt, s);
        exit(2);
    }
    return (int)v;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
    memset(o, 0, sizeof *o);
    o->runs = 20;
    o->timeout_ms = 10000;
    o->id_prefix = "coldstart-";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VALUE()                                                                               \
    do {                                                                                           \
        if (!v) {                                                                                  \
            fprintf(stderr, "coldstart: %s needs a value\n", a);                                   \
            exit(2);                                                                               \
        }                                                                                          \
        i++;                                                                                       \
    } while (0)
        if (!strcmp(a, "--runtime")) {
            NEED_VALUE();
            o->runtime = v;
        } else if (!strcmp(a, "--bundle")) {
            NEED_VALUE();
            o->bundle = v;
        } else if (!strcmp(a, "--port")) {
            NEED_VALUE();
            o->port = parse_int(a, v, 1, 65535);
        } else if (!strcmp(a, "--runs")) {
            NEED_VALUE();
            o->runs = parse_int(a, v, 1, 100000);
        } else if (!strcmp(a, "--warmup")) {
            NEED_VALUE();
            o->warmup = parse_int(a, v, 0, 1000);
        } else if (!strcmp(a, "--timeout-ms")) {
            NEED_VALUE();
            o->timeout_ms = parse_int(a, v, 1, 3600000);
        } else if (!strcmp(a, "--poll-us")) {
            NEED_VALUE();
            o->poll_us = parse_int(a, v, 0, 1000000);
        } else if (!strcmp(a, "--name")) {
            NEED_VALUE();
            o->name = v;
        } else if (!strcmp(a, "--id-prefix")) {
            NEED_VALUE();
            o->id_prefix = v;
        } else if (!strcmp(a, "--global-args")) {
            NEED_VALUE();
            char *copy = strdup(v);
            for (char *t = strtok(copy, " \t\n"); t; t = strtok(NULL, " \t\n")) {
                if (o->ngargs == MAX_GARGS) {
                    fprintf(stderr, "coldstart: too many --global-args\n");
                    exit(2);
                }
                o->gargs[o->ngargs++] = t;
            }
        } else if (!strcmp(a, "--exec")) {
            if (i + 1 >= argc) {
                usage(stderr);
                exit(2);
            }
            o->exec_argv = argv + i + 1;
            if (!o->runtime)
                o->runtime = argv[i + 1];
            break;
        } else if (!strcmp(a, "--create-start")) {
            o->create_start = 1;
        } else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
            o->verbose = 1;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        } else {
            fprintf(stderr, "coldstart: unknown argument '%s'\n", a);
            usage(stderr);
            exit(2);
        }
#undef NEED_VALUE
    }
    if (!o->runtime || (!o->bundle && !o->exec_argv) || !o->port) {
        usage(stderr);
        exit(2);
    }
    if (!o->name) {
        const char *s = strrchr(o->runtime, '/');
        o->name = s ? s + 1 : o->runtime;
    }
}

/* In a forked child: exec argv in a process group of its own (a Ctrl-C
 * reaches only us; we then clean up), stdin (and, unless verbose, stdout and
 * stderr) on /dev/null. */
__attribute__((noreturn)) static void exec_child(const struct opts *o, char *const *argv)
{
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int nul = open("/dev/null", O_RDWR);
    if (nul >= 0) {
        dup2(nul, 0);
        if (!o->verbose) {
            dup2(nul, 1);
            dup2(nul, 2);
        }
        if (nul > 2)
            close(nul);
    }
    execvp(argv[0], argv);
    _exit(127);
}

/*
 * Run "runtime [global args] sub..." (sub is NULL-terminated) and wait for it.
 * Returns its exit status, 128+signal if killed, or -1 if it could not run.
 */
static int run_runtime(const struct opts *o, ...)
{
    char *argv[MAX_GARGS + 16];
    int n = 0;
    argv[n++] = (char *)o->runtime;
    for (int i = 0; i < o->ngargs; i++)
        argv[n++] = o->gargs[i];
    va_list ap;
    va_start(ap, o);
    for (char *s; (s = va_arg(ap, char *)) != NULL && n < MAX_GARGS + 15;)
        argv[n++] = s;
    va_end(ap);
    argv[n] = NULL;

    pid_t pid = fork();
    if (pid < 0) {
        perror("coldstart: fork");
        return -1;
    }
    if (pid == 0)
        exec_child(o, argv);
    int st;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) {
            perror("coldstart: waitpid");
            return -1;
        }
    }
    if (WIFEXITED(st))
        return WEXITSTATUS(st) == 127 ? -1 : WEXITSTATUS(st);
    return 128 + WTERMSIG(st);
}

/*
 * One probe: connect, send a request, read the status line.
 * Returns 1 on a 200, 0 if nothing listens, -1 on anything else
 * (connected but no 200; *other is set to what came back).
 */
static int probe(int port, double deadline, char *other, size_t other_len)
{
    static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("coldstart: socket");
        exit(1);
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return 0;
    }
    double left = deadline - now_ms();
    if (left < 1)
        left = 1;
    struct timeval tv = {.tv_sec = (time_t)(left / 1000),
                         .tv_usec = (suseconds_t)((long)left % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int rc = -1;
    char buf[256];
    size_t len = 0;
    if (send(fd, req, sizeof req - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof req - 1)) {
        while (len < sizeof buf - 1) {
            ssize_t k = recv(fd, buf + len, sizeof buf - 1 - len, 0);
            if (k < 0 && errno == EINTR && !stop_requested)
                continue;
            if (k <= 0)
                break;
            len += (size_t)k;
            buf[len] = 0;
            if (strchr(buf, '\n'))
                break;
        }
    }
    buf[len] = 0;
    if (len >= 12 && (!strncmp(buf, "HTTP/1.1 200", 12) || !strncmp(buf, "HTTP/1.0 200", 12)))
        rc = 1;
    else if (len == 0)
        rc = 0; /* accepted but closed at once: treat as not ready yet */
    if (rc < 0 && other) {
        char *nl = strpbrk(buf, "\r\n");
        if (nl)
            *nl = 0;
        snprintf(other, other_len, "%s", buf);
    }
    close(fd);
    return rc;
}

/* Nothing must answer on the port between runs.  Waits up to wait_ms. */
static int port_free(int port, int wait_ms)
{
    double deadline = now_ms() + wait_ms;
    for (;;) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return 0;
        int r = connect(fd, (struct sockaddr *)&sa, sizeof sa);
        close(fd);
        if (r < 0 && errno == ECONNREFUSED)
            return 1;
        if (now_ms() > deadline || stop_requested)
            return 0;
        usleep(5000);
    }
}

/* Is cmd executable, directly or through PATH (as execvp will look it up)? */
static int runnable(const char *cmd)
{
    if (strchr(cmd, '/'))
        return access(cmd, X_OK) == 0;
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    char buf[4096];
    while (*path) {
        size_t n = strcspn(path, ":");
        if (snprintf(buf, sizeof buf, "%.*s/%s", (int)n, n ? path : ".", cmd) < (int)sizeof buf &&
            access(buf, X_OK) == 0)
            return 1;
        path += n;
        if (*path == ':')
            path++;
    }
    return 0;
}

static void teardown(const struct opts *o, const char *id, struct sample *s)
{
    double t0 = now_ms();
    run_runtime(o, "kill", id, "KILL", (char *)NULL); /* may fail if already gone */
    double t1 = now_ms();
    int rc = run_runtime(o, "delete", "--force", id, (char *)NULL);
    double t2 = now_ms();
    if (rc != 0 && s)
        fprintf(stderr, "coldstart: %s: \"delete --force %s\" exited %d\n", o->name, id, rc);
    if (s) {
        s->kill_ms = t1 - t0;
        s->delete_ms = t2 - t1;
        s->teardown_ms = t2 - t0;
    }
}

/* Pss of one process in KiB, from /proc/PID/smaps_rollup (0 if unreadable). */
static double pss_kib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pid);
    FILE *f = fopen(path, "re");
    double kib = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Pss: %lf kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

/* --exec: one run of the server command itself. 1 on success, 0 on failure. */
static int one_exec_run(const struct opts *o, struct sample *s)
{
    char other[128] = "";
    double t0 = now_ms(), deadline = t0 + o->timeout_ms;
    pid_t pid = fork();
    if (pid < 0) {
        perror("coldstart: fork");
        return 0;
    }
    if (pid == 0)
        exec_child(o, o->exec_argv);
    int ok = 0;
    for (;;) {
        int p = probe(o->port, deadline, other, sizeof other);
        double t = now_ms();
        if (p > 0) {
            s->start_ms = s->cmd_ms = t - t0;
            s->pss_kib = pss_kib(pid);
            ok = 1;
            break;
        }
        if (t >= deadline || stop_requested || waitpid(pid, NULL, WNOHANG) == pid) {
            fprintf(stderr, "coldstart: %s: no 200 from port %d (%s)\n", o->name, o->port,
                    *other ? other : "connection refused");
            break;
        }
        if (o->poll_us)
            usleep((useconds_t)o->poll_us);
    }
    double t1 = now_ms();
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    s->teardown_ms = s->kill_ms = now_ms() - t1;
    return ok;
}

/* One run.  Returns 1 on success (s filled in), 0 on failure. */
static int one_run(const struct opts *o, const char *id, struct sample *s)
{
    if (o->exec_argv) {
        int ok = one_exec_run(o, s);
        if (!port_free(o->port, 5000) && !stop_requested)
            return -1;
        return ok;
    }
    char other[128] = "";
    double deadline;
    double t0 = now_ms();
    int rc;
    if (o->create_start) {
        rc = run_runtime(o, "create", "--bundle", o->bundle, id, (char *)NULL);
        if (rc == 0)
            rc = run_runtime(o, "start", id, (char *)NULL);
    } else {
        rc = run_runtime(o, "run", "--detach", "--bundle", o->bundle, id, (char *)NULL);
    }
    double t1 = now_ms();
    deadline = t0 + o->timeout_ms;
    int ok = 0;
    if (rc != 0) {
        fprintf(stderr, "coldstart: %s: runtime exited %d for %s%s\n", o->name, rc, id,
                rc < 0 ? " (could not execute it?)" : "");
    } else {
        for (;;) {
            int p = probe(o->port, deadline, other, sizeof other);
            double t = now_ms();
            if (p > 0) {
                s->start_ms = t - t0;
                s->cmd_ms = t1 - t0;
                ok = 1;
                break;
            }
            if (t >= deadline) {
                fprintf(stderr, "coldstart: %s: no 200 from port %d within %d ms (%s)\n", o->name,
                        o->port, o->timeout_ms, *other ? other : "connection refused");
                break;
            }
            if (stop_requested)
                break;
            if (o->poll_us)
                usleep((useconds_t)o->poll_us);
        }
    }
    teardown(o, id, rc == 0 ? s : NULL);
    if (!port_free(o->port, 5000) && !stop_requested) {
        fprintf(stderr, "coldstart: %s: port %d still answers after teardown of %s\n", o->name,
                o->port, id);
        return -1;
    }
    return ok;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts v in place. */
static double median(double *v, int n)
{
    if (n == 0)
        return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Nearest-rank percentile of sorted v. */
static double percentile(const double *v, int n, double p)
{
    if (n == 0)
        return 0;
    int rank = (int)(p / 100.0 * n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return v[rank - 1];
}

static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

int main(int argc, char **argv)
{
    struct opts o;
    parse_args(argc, argv, &o);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: blocking calls return EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (!runnable(o.runtime)) {
        fprintf(stderr, "coldstart: runtime '%s' not found or not executable\n", o.runtime);
        return 2;
    }
    if (!port_free(o.port, 2000)) {
        fprintf(stderr, "coldstart: something already listens on 127.0.0.1:%d\n", o.port);
        return 2;
    }

    struct sample *samples = calloc((size_t)o.runs, sizeof *samples);
    if (!samples) {
        perror("coldstart: calloc");
        return 1;
    }
    int ok = 0, failed = 0;
    char id[256] = "";
    for (int i = 0; i < o.warmup + o.runs && !stop_requested; i++) {
        int measured = i >= o.warmup;
        snprintf(id, sizeof id, "%s%ld-%d", o.id_prefix, (long)getpid(), i);
        struct sample s;
        memset(&s, 0, sizeof s);
        int r = one_run(&o, id, &s);
        if (stop_requested)
            break;
        if (o.verbose)
            fprintf(stderr, "coldstart: %s %s%s: %s start %.2f ms (cmd %.2f) teardown %.2f ms\n",
                    o.name, id, measured ? "" : " (warm-up)", r > 0 ? "ok" : "FAILED", s.start_ms,
                    s.cmd_ms, s.teardown_ms);
        if (!measured)
            continue;
        if (r > 0)
            samples[ok++] = s;
        else
            failed++;
        if (r < 0) /* port stays busy: later runs would measure the wrong thing */
            break;
    }
    if (stop_requested && *id)
        fprintf(stderr, "coldstart: interrupted; container %s was removed\n", id);

    double *start = calloc((size_t)ok + 1, sizeof *start);
    double *cmd = calloc((size_t)ok + 1, sizeof *cmd);
    double *td = calloc((size_t)ok + 1, sizeof *td);
    double *kl = calloc((size_t)ok + 1, sizeof *kl);
    double *dl = calloc((size_t)ok + 1, sizeof *dl);
    double *raw = calloc((size_t)ok + 1, sizeof *raw);
    double *pss = calloc((size_t)ok + 1, sizeof *pss);
    if (!start || !cmd || !td || !kl || !dl || !raw || !pss) {
        perror("coldstart: calloc");
        return 1;
    }
    for (int i = 0; i < ok; i++) {
        start[i] = raw[i] = samples[i].start_ms;
        cmd[i] = samples[i].cmd_ms;
        td[i] = samples[i].teardown_ms;
        kl[i] = samples[i].kill_ms;
        dl[i] = samples[i].delete_ms;
        pss[i] = samples[i].pss_kib;
    }
    double pss_med = median(pss, ok);
    double med = median(start, ok); /* sorts start */
    double p95 = percentile(start, ok, 95);
    double mn = ok ? start[0] : 0, mx = ok ? start[ok - 1] : 0;
    double cmd_med = median(cmd, ok), td_med = median(td, ok);
    double kill_med = median(kl, ok), del_med = median(dl, ok);
    const char *mode = o.exec_argv ? "exec" : o.create_start ? "create+start" : "run --detach";

    const double vals[] = {mn, med, p95, mx, cmd_med, td_med, kill_med, del_med};
    static const char *const keys[] = {"min_ms",         "median_ms",       "p95_ms",
                                       "max_ms",         "cmd_median_ms",   "teardown_median_ms",
                                       "kill_median_ms", "delete_median_ms"};

    printf("%-12s %-13s %4s %4s %9s %9s %9s %9s %9s %9s\n", "runtime", "mode", "ok", "fail",
           "min_ms", "median_ms", "p95_ms", "max_ms", "cmd_ms", "down_ms");
    printf("%-12s %-13s %4d %4d", o.name, mode, ok, failed);
    for (int k = 0; k < 6; k++) {
        if (ok)
            printf(" %9.2f", vals[k]);
        else
            printf(" %9s", "-");
    }
    if (o.exec_argv && ok)
        printf("   PSS %.0f KiB", pss_med);
    printf("\n{\"runtime\":");
    json_string(o.name);
    printf(",\"command\":");
    json_string(o.runtime);
    printf(",\"mode\":\"%s\",\"runs\":%d,\"ok\":%d,\"failed\":%d", mode, ok + failed, ok, failed);
    for (int k = 0; k < 8; k++) {
        if (ok)
            printf(",\"%s\":%.3f", keys[k], vals[k]);
        else
            printf(",\"%s\":null", keys[k]);
    }
    if (o.exec_argv)
        printf(",\"pss_kib_median\":%.0f", pss_med);
    printf(",\"samples_ms\":[");
    for (int i = 0; i < ok; i++)
        printf("%s%.3f", i ? "," : "", raw[i]);
    printf("]}\n");
    fflush(stdout);
    if (stop_requested)
        return 130;
    return ok > 0 ? 0 : 1;
}
