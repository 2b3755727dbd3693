/* `cella-bench exec-start`: the cold start of a server command run directly,
 * with no OCI runtime: exec -> first HTTP 200 on 127.0.0.1:PORT over several
 * runs, and the PSS of the server at that moment. bench/wasm.sh measures the
 * native server and `cella wasm run` side by side with it. */
#define _GNU_SOURCE
#include "exec_start.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "measure.h"
#include "mem.h"
#include "stats.h"

struct xs_opts {
    const char *name;
    int port, runs, poll_us, timeout_ms;
    char **argv; /* the server command */
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int parse_xs(int argc, char **argv, struct xs_opts *o, cerr_t *err)
{
    static const struct option opts[] = {
        {"name", required_argument, 0, 'N'},       {"port", required_argument, 0, 'p'},
        {"runs", required_argument, 0, 'n'},       {"poll-us", required_argument, 0, 'u'},
        {"timeout-ms", required_argument, 0, 't'}, {0, 0, 0, 0},
    };
    *o = (struct xs_opts){.name = "exec", .runs = 20, .timeout_ms = 10000};
    int c;
    optind = 1;
    /* "+": the server command's own options are not ours */
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        switch (c) {
        case 'N':
            o->name = optarg;
            break;
        case 'p':
            o->port = atoi(optarg);
            break;
        case 'n':
            o->runs = atoi(optarg);
            break;
        case 'u':
            o->poll_us = atoi(optarg);
            break;
        case 't':
            o->timeout_ms = atoi(optarg);
            break;
        default:
            return cerr_set(err, 0,
                            "usage: cella-bench exec-start --port P [--runs N] [--poll-us U] "
                            "[--timeout-ms T] [--name NAME] [--] CMD [ARGS...]");
        }
    }
    if (optind >= argc)
        return cerr_set(err, 0, "exec-start: no server command");
    if (o->port <= 0 || o->port > 65535 || o->runs <= 0 || o->runs > 10000 || o->poll_us < 0 ||
        o->timeout_ms <= 0)
        return cerr_set(err, 0,
                        "exec-start: --port (up to 65535), --runs (up to 10000) and "
                        "--timeout-ms must be positive, --poll-us not negative");
    o->argv = argv + optind;
    return 0;
}

/* One run: ms from fork to the first 200 (*pss_kib: the server's PSS then),
 * or -1 with *err set. The server is killed and the port free afterwards. */
static double one_run(const struct xs_opts *o, double *pss_kib, cerr_t *err)
{
    double t0 = now_ms(), deadline = t0 + o->timeout_ms, t = -1;
    pid_t pid = fork();
    if (pid < 0)
        return cerr_set(err, errno, "fork");
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        setpgid(0, 0);
        execvp(o->argv[0], o->argv);
        dprintf(2, "exec %s: %s\n", o->argv[0], strerror(errno));
        _exit(127);
    }
    bool reaped = false;
    for (;;) {
        if (http_probe("127.0.0.1", o->port)) {
            t = now_ms() - t0;
            struct mem_usage m = {0};
            mem_sum(&pid, 1, &m);
            *pss_kib = (double)m.pss_kb;
            break;
        }
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            reaped = true;
            cerr_set(err, 0, "%s: `%s` exited before serving on port %d", o->name, o->argv[0],
                     o->port);
            break;
        }
        if (bench_stop || now_ms() >= deadline) {
            cerr_set(err, 0, "%s: no HTTP 200 on port %d within %d ms", o->name, o->port,
                     bench_stop ? (int)(now_ms() - t0) : o->timeout_ms);
            break;
        }
        if (o->poll_us)
            usleep((useconds_t)o->poll_us);
    }
    if (!reaped) {
        kill(-pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    if (t >= 0 && !port_free("127.0.0.1", o->port, 5000))
        return cerr_set(err, 0, "%s: port %d still answers after the server was killed", o->name,
                        o->port);
    return t;
}

int exec_start_main(int argc, char **argv, cerr_t *err)
{
    struct xs_opts o;
    if (parse_xs(argc, argv, &o, err) < 0)
        return 2;
    if (!port_free("127.0.0.1", o.port, 2000))
        return cerr_set(err, 0, "exec-start: something already listens on 127.0.0.1:%d", o.port), 1;
    double *ms = calloc((size_t)o.runs, sizeof(*ms));
    double *pss = calloc((size_t)o.runs, sizeof(*pss));
    json_t *samples = json_array();
    if (ms == NULL || pss == NULL || samples == NULL)
        abort();
    size_t ok = 0;
    int failed = 0;
    for (int i = 0; i < o.runs && !bench_stop; i++) {
        double t = one_run(&o, &pss[ok], err);
        if (t < 0) {
            failed++;
            break; /* the first failure is the error; later runs would repeat it */
        }
        json_array_append_new(samples, json_real(t));
        ms[ok++] = t;
    }
    struct summary cold, mem;
    summarize(ms, ok, &cold);
    summarize(pss, ok, &mem);
    printf("%s exec: %zu ok, %d failed; cold start min %.2f median %.2f p95 %.2f max %.2f ms; "
           "PSS %.0f KiB\n",
           o.name, ok, failed, cold.min, cold.median, cold.p95, cold.max, mem.median);
    json_t *j = json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:f, s:f, s:f, s:f, s:f, s:o}", "runtime",
                          o.name, "command", o.argv[0], "mode", "exec", "runs", (int)ok + failed,
                          "ok", (int)ok, "failed", failed, "min_ms", cold.min, "median_ms",
                          cold.median, "p95_ms", cold.p95, "max_ms", cold.max, "pss_kib_median",
                          mem.median, "samples_ms", samples);
    char *line =
        j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6)) : NULL;
    if (line != NULL)
        printf("%s\n", line);
    fflush(stdout);
    free(line);
    json_decref(j);
    free(ms);
    free(pss);
    if (bench_stop)
        return 130;
    return failed ? 1 : 0;
}
