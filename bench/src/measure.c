#define _GNU_SOURCE
#include "measure.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

volatile sig_atomic_t bench_stop;

/* Copy with truncation (messages are cut, never overflow). */
static void copy_str(char *dst, size_t len, const char *src)
{
    size_t n = strnlen(src, len - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- running the runtime ------------------------------------------------------- */

struct cmd {
    pid_t pid;
    int err_fd; /* the runtime's stderr, for the error message */
};

static int spawn(const struct driver *d, const char *path, const struct measure_opts *o,
                 const char *const *args, struct cmd *c)
{
    const char *argv[32];
    size_t n = 0;
    argv[n++] = path;
    for (size_t i = 0; i < DRIVER_MAX_ARGS && d->global_args[i]; i++)
        argv[n++] = d->global_args[i];
    if (o->root != NULL) {
        argv[n++] = "--root";
        argv[n++] = o->root;
    }
    for (size_t i = 0; args[i] && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    /* The runtime's stderr goes to an unnamed file, not a pipe: the
     * container inherits it and would hold a pipe open for as long as it
     * runs. */
    int ef = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (ef < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(ef);
        return -1;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        if (!o->verbose)
            dup2(null, 1);
        dup2(ef, 2);
        setpgid(0, 0);
        execv(path, (char *const *)argv);
        dprintf(2, "exec %s: %s\n", path, strerror(errno));
        _exit(127);
    }
    c->pid = pid;
    c->err_fd = ef;
    return 0;
}

/* Wait for the command (bounded); its exit status, or -1 with *err set on a
 * timeout (killed). A failing command's error is the first line of its stderr. */
static int finish(struct cmd *c, int timeout_ms, cerr_t *err)
{
    double deadline = now_ms() + timeout_ms;
    int status = 0;
    pid_t r;
    while ((r = waitpid(c->pid, &status, WNOHANG)) == 0 && now_ms() < deadline)
        usleep(500);
    if (r == 0) {
        kill(-c->pid, SIGKILL);
        waitpid(c->pid, &status, 0);
        close(c->err_fd);
        return cerr_set(err, 0, "timed out after %d ms", timeout_ms);
    }
    char buf[1024];
    ssize_t n = pread(c->err_fd, buf, sizeof(buf) - 1, 0);
    close(c->err_fd);
    int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (rc != 0) {
        buf[n > 0 ? n : 0] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        cerr_set(err, 0, "exited with status %d: %s", rc, n > 0 ? buf : "no message");
    }
    return rc;
}

static int run_cmd(const struct driver *d, const char *path, const struct measure_opts *o,
                   const char *const *args, int timeout_ms, cerr_t *err)
{
    struct cmd c;
    if (spawn(d, path, o, args, &c) < 0)
        return cerr_set(err, errno, "run %s", path);
    return finish(&c, timeout_ms, err);
}

void runtime_version(const char *path, char *buf, size_t len)
{
    buf[0] = '\0';
    int p[2];
    if (pipe(p) < 0)
        return;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        int null = open("/dev/null", O_RDWR);
        dup2(null, 2);
        execl(path, path, "--version", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char out[512];
    ssize_t n = pid > 0 ? read(p[0], out, sizeof(out) - 1) : -1;
    close(p[0]);
    if (pid > 0)
        waitpid(pid, NULL, 0);
    if (n > 0) {
        out[n] = '\0';
        out[strcspn(out, "\n")] = '\0';
        copy_str(buf, len, out);
    }
}

/* ---- HTTP probing ------------------------------------------------------------------ */

/* 1: answered 200; 0: not (yet); the connection is refused or closed. */
int http_probe(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    int ok = 0;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
        static const char req[] = "GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n";
        char buf[64];
        if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) > 0) {
            ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
            if (n >= 12) {
                buf[n] = '\0';
                ok = strncmp(buf, "HTTP/1.1 200", 12) == 0 || strncmp(buf, "HTTP/1.0 200", 12) == 0;
            }
        }
    }
    close(fd);
    return ok;
}

bool port_free(int port, int wait_ms)
{
    double deadline = now_ms() + wait_ms;
    do {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
        close(fd);
        if (r < 0)
            return true;
        usleep(2000);
    } while (now_ms() < deadline);
    return false;
}

/* ---- one container ------------------------------------------------------------------ */

struct ctr {
    char id[64];
    bool running;
};

static void teardown(const struct driver *d, const char *path, const struct measure_opts *o,
                     struct ctr *c)
{
    /* The container may be gone already: what matters is that the port is
     * free afterwards, which the caller checks. */
    cerr_t ignore = NULL;
    const char *kill_args[] = {"kill", c->id, "KILL", NULL};
    const char *del_args[] = {"delete", "--force", c->id, NULL};
    run_cmd(d, path, o, kill_args, 10000, &ignore);
    cerr_free(&ignore);
    run_cmd(d, path, o, del_args, 20000, &ignore);
    cerr_free(&ignore);
    c->running = false;
}

/* Start a container and wait for its first 200. Returns the time in ms, or
 * -1 with *err set. */
static double start_container(const struct driver *d, const char *path,
                              const struct measure_opts *o, struct ctr *c, cerr_t *err)
{
    const char *bundle = d->wasm ? o->wasm_bundle : o->bundle;
    if (bundle == NULL)
        return cerr_set(err, 0,
                        "the wasm32-wasi build of the workload (cella-bench-httpd.wasm) "
                        "is not built: no wasm32-wasi toolchain (scripts/deps.sh)");
    const char *args[] = {"run", d->detach_flag, "--bundle", bundle, c->id, NULL};
    struct cmd cmd;
    double t0 = now_ms();
    if (spawn(d, path, o, args, &cmd) < 0)
        return cerr_set(err, errno, "run %s", path);
    c->running = true;
    bool exited = false;
    int status = 0;
    double deadline = t0 + o->timeout_ms;
    while (!bench_stop && now_ms() < deadline) {
        if (http_probe(o->port)) {
            double t = now_ms() - t0;
            /* Served: how `run` itself ended does not matter. */
            cerr_t ignore = NULL;
            if (!exited)
                finish(&cmd, 10000, &ignore);
            cerr_free(&ignore);
            return t;
        }
        if (!exited && waitpid(cmd.pid, &status, WNOHANG) == cmd.pid) {
            exited = true;
            char msg[512] = "";
            ssize_t n = pread(cmd.err_fd, msg, sizeof(msg) - 1, 0);
            close(cmd.err_fd);
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                if (n > 0)
                    msg[strcspn(msg, "\n")] = '\0';
                return cerr_set(err, 0, "`run` failed (status %d): %s",
                                WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
                                n > 0 ? msg : "no message");
            }
        }
    }
    if (!exited) {
        kill(-cmd.pid, SIGKILL);
        waitpid(cmd.pid, NULL, 0);
        close(cmd.err_fd);
    }
    if (bench_stop)
        return cerr_set(err, 0, "interrupted");
    return cerr_set(err, 0, "no HTTP 200 within %d ms", o->timeout_ms);
}

static pid_t container_pid(const struct driver *d, const char *path, const struct measure_opts *o,
                           const char *id)
{
    int p[2];
    if (pipe(p) < 0)
        return -1;
    pid_t child = fork();
    if (child == 0) {
        dup2(p[1], 1);
        int null = open("/dev/null", O_RDWR);
        dup2(null, 2);
        const char *argv[24];
        size_t n = 0;
        argv[n++] = path;
        for (size_t i = 0; i < DRIVER_MAX_ARGS && d->global_args[i]; i++)
            argv[n++] = d->global_args[i];
        if (o->root) {
            argv[n++] = "--root";
            argv[n++] = o->root;
        }
        argv[n++] = "state";
        argv[n++] = id;
        argv[n] = NULL;
        execv(path, (char *const *)argv);
        _exit(127);
    }
    close(p[1]);
    char buf[8192];
    size_t got = 0;
    ssize_t n;
    while (child > 0 && got < sizeof(buf) - 1 &&
           (n = read(p[0], buf + got, sizeof(buf) - 1 - got)) > 0)
        got += (size_t)n;
    close(p[0]);
    if (child > 0)
        waitpid(child, NULL, 0);
    buf[got] = '\0';
    json_t *j = json_loads(buf, 0, NULL);
    pid_t pid = j ? (pid_t)json_integer_value(json_object_get(j, "pid")) : -1;
    json_decref(j);
    return pid;
}

static void measure_here(const struct driver *d, const char *path, const struct measure_opts *o,
                         struct runtime_result *out)
{
    double *cold = calloc((size_t)o->runs, sizeof(double));
    double *down = calloc((size_t)o->runs, sizeof(double));
    struct ctr c = {0};
    cerr_t err = NULL;
    bool tty = isatty(2);
    out->runs = o->runs;
    if (!port_free(o->port, 2000)) {
        snprintf(out->error, sizeof(out->error), "port %d is in use", o->port);
        goto done;
    }
    for (int i = 0; i < o->runs && !bench_stop; i++) {
        if (tty) /* a progress line, rewritten in place */
            fprintf(stderr, "\r  %-16s cold start %3d/%d", d->name, i + 1, o->runs);
        snprintf(c.id, sizeof(c.id), "cella-bench-%d-%d", (int)getpid(), i);
        double t = start_container(d, path, o, &c, &err);
        double t1 = now_ms();
        teardown(d, path, o, &c);
        double td = now_ms() - t1;
        if (t < 0)
            goto done;
        cold[out->runs_ok] = t;
        down[out->runs_ok] = td;
        out->runs_ok++;
        if (!port_free(o->port, 2000)) {
            snprintf(out->error, sizeof(out->error), "port %d still answers after delete", o->port);
            goto done;
        }
    }
    summarize(cold, (size_t)out->runs_ok, &out->cold_ms);
    summarize(down, (size_t)out->runs_ok, &out->teardown_ms);
    if (bench_stop) {
        snprintf(out->error, sizeof(out->error), "interrupted");
        goto done;
    }
    if (tty)
        fprintf(stderr, "\r  %-16s steady state: latency, throughput, memory", d->name);
    /* Steady state: one container under load. */
    snprintf(c.id, sizeof(c.id), "cella-bench-%d-load", (int)getpid());
    if (start_container(d, path, o, &c, &err) < 0)
        goto done;
    usleep(100000);
    pid_t pid = container_pid(d, path, o, c.id);
    size_t np = 0;
    pid_t *pids = mem_container_pids(pid, c.id, &np);
    mem_sum(pids, np, &out->mem_idle);
    free(pids);
    if (loadgen_run("127.0.0.1", o->port, 1, o->duration_s, o->loadgen_cpu, &out->lat_c1, &err) <
            0 ||
        loadgen_run("127.0.0.1", o->port, 10, o->duration_s, o->loadgen_cpu, &out->thr_c10, &err) <
            0) {
        cerr_wrap(&err, "load");
        teardown(d, path, o, &c);
        goto done;
    }
    if (out->lat_c1.requests == 0 || out->thr_c10.requests == 0) {
        snprintf(out->error, sizeof(out->error), "load: no successful request (%llu errors)",
                 (unsigned long long)(out->lat_c1.errors + out->thr_c10.errors));
        teardown(d, path, o, &c);
        goto done;
    }
    pids = mem_container_pids(pid, c.id, &np);
    mem_sum(pids, np, &out->mem_load);
    free(pids);
    teardown(d, path, o, &c);
    out->ok = true;
done:
    /* The runtime's error is a field of its row in the report. */
    if (err != NULL)
        copy_str(out->error, sizeof(out->error), cerr_msg(err));
    cerr_free(&err);
    if (tty)
        fprintf(stderr, "\r\033[K");
    if (c.running)
        teardown(d, path, o, &c);
    free(cold);
    free(down);
}

void measure_runtime(const struct driver *d, const char *path, const struct measure_opts *o,
                     struct runtime_result *out)
{
    if (!d->hide_unified_cgroup) {
        measure_here(d, path, o, out);
        return;
    }
    /* In a child with a private mount namespace: the host keeps its mounts. */
    int p[2];
    if (pipe(p) < 0) {
        snprintf(out->error, sizeof(out->error), "pipe: %s", strerror(errno));
        return;
    }
    pid_t child = fork();
    if (child == 0) {
        close(p[0]);
        if (unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0) {
            umount2("/sys/fs/cgroup/unified", MNT_DETACH);
            measure_here(d, path, o, out);
        } else {
            snprintf(out->error, sizeof(out->error), "private mount namespace: %s",
                     strerror(errno));
        }
        ssize_t w = write(p[1], out, sizeof(*out));
        _exit(w == (ssize_t)sizeof(*out) ? 0 : 1);
    }
    close(p[1]);
    struct runtime_result r;
    ssize_t n = child > 0 ? read(p[0], &r, sizeof(r)) : -1;
    close(p[0]);
    if (child > 0)
        waitpid(child, NULL, 0);
    if (n == (ssize_t)sizeof(r))
        *out = r;
    else
        snprintf(out->error, sizeof(out->error), "measuring process failed");
}
