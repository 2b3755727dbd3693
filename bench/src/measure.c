#define _GNU_SOURCE
#include "measure.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
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
    const char *argv[48];
    size_t n = 0;
    argv[n++] = path;
    for (size_t i = 0; i < DRIVER_MAX_ARGS && d->global_args[i]; i++)
        argv[n++] = d->global_args[i];
    if (o->root != NULL && d->takes_root) {
        argv[n++] = "--root";
        argv[n++] = o->root;
    }
    if (d->engine_runtime != NULL) {
        argv[n++] = "-H";
        argv[n++] = o->engine_host;
    }
    for (size_t i = 0; args[i] && n < 47; i++)
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
    /* A pipe's read may return part of the line (docker's came in pieces). */
    char out[512];
    size_t got = 0;
    ssize_t n;
    while (pid > 0 && got < sizeof(out) - 1 &&
           (n = read(p[0], out + got, sizeof(out) - 1 - got)) > 0)
        got += (size_t)n;
    close(p[0]);
    if (pid > 0)
        waitpid(pid, NULL, 0);
    if (got > 0) {
        out[got] = '\0';
        out[strcspn(out, "\n")] = '\0';
        copy_str(buf, len, out);
    }
}

/* ---- HTTP probing ------------------------------------------------------------------ */

/* connect() that gives up after ms: a SYN to an address whose container is
 * not attached yet (or no longer) is dropped, and a blocking connect would
 * wait for TCP's retransmissions (1 s, then more). 0 when connected. */
static int connect_within(int fd, const struct sockaddr_in *sa, int ms)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    int r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
    if (r < 0 && errno == EINPROGRESS) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int e = 0;
        socklen_t el = sizeof(e);
        r = poll(&p, 1, ms) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && e == 0
                ? 0
                : -1;
    }
    if (r == 0 && fcntl(fd, F_SETFL, fl) < 0)
        return -1;
    return r;
}

/* 1: answered 200; 0: not (yet); the connection is refused or closed. */
int http_probe(const char *host, int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return 0;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    int ok = 0;
    if (connect_within(fd, &sa, 20) == 0) {
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

bool port_free(const char *host, int port, int wait_ms)
{
    double deadline = now_ms() + wait_ms;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return false;
    do {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int r = connect_within(fd, &sa, 200);
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
    pid_t bare_pid; /* the bare process: the server itself */
};

/* Where the container's server is reached. */
static const char *server_host(const struct driver *d, const struct measure_opts *o)
{
    return d->engine_runtime != NULL ? o->engine_ip : "127.0.0.1";
}

static void teardown(const struct driver *d, const char *path, const struct measure_opts *o,
                     struct ctr *c)
{
    if (d->bare) {
        if (c->bare_pid > 0) {
            kill(c->bare_pid, SIGKILL);
            waitpid(c->bare_pid, NULL, 0);
        }
        c->bare_pid = 0;
        c->running = false;
        return;
    }
    /* The container may be gone already: what matters is that the port is
     * free afterwards, which the caller checks. */
    cerr_t ignore = NULL;
    if (d->engine_runtime != NULL) {
        const char *rm_args[] = {"rm", "--force", c->id, NULL};
        run_cmd(d, path, o, rm_args, 30000, &ignore);
        cerr_free(&ignore);
        c->running = false;
        return;
    }
    const char *kill_args[] = {"kill", c->id, "KILL", NULL};
    const char *del_args[] = {"delete", "--force", c->id, NULL};
    run_cmd(d, path, o, kill_args, 10000, &ignore);
    cerr_free(&ignore);
    run_cmd(d, path, o, del_args, 20000, &ignore);
    cerr_free(&ignore);
    c->running = false;
}

/* The bare process: the server forked and exec'd here, on the CPU the
 * bundle's cpuset gives the containers. */
static int spawn_bare(const struct measure_opts *o, struct ctr *c, struct cmd *cmd)
{
    char port[16];
    snprintf(port, sizeof(port), "%d", o->port);
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
        dup2(null, 1);
        dup2(ef, 2);
        /* A session of its own, as a daemon has (and as a container's
         * process has): with autogroup scheduling it would otherwise share
         * the bench's task group, and the busy load generator's weight. */
        setsid();
        if (o->server_cpu >= 0) {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(o->server_cpu, &one);
            sched_setaffinity(0, sizeof(one), &one);
        }
        execl(o->httpd, o->httpd, port, (char *)NULL);
        dprintf(2, "exec %s: %s\n", o->httpd, strerror(errno));
        _exit(127);
    }
    c->bare_pid = pid;
    cmd->pid = pid;
    cmd->err_fd = ef;
    return 0;
}

/* config.json of the bundle in dir from the template, the cgroup path in
 * place of MEASURE_CGROUP_MARK. */
static int write_config(const char *dir, const char *tmpl, const char *cgroup, cerr_t *err)
{
    char path[PATH_MAX];
    const char *mark = strstr(tmpl, MEASURE_CGROUP_MARK);
    if (mark == NULL)
        return cerr_set(err, 0, "bundle `%s`: no cgroup mark in the config", dir);
    if (snprintf(path, sizeof(path), "%s/config.json", dir) >= (int)sizeof(path))
        return cerr_set(err, ENAMETOOLONG, "bundle `%s`", dir);
    FILE *f = fopen(path, "we");
    if (f == NULL)
        return cerr_set(err, errno, "create `%s`", path);
    fprintf(f, "%.*s%s%s", (int)(mark - tmpl), tmpl, cgroup, mark + strlen(MEASURE_CGROUP_MARK));
    if (fclose(f) != 0)
        return cerr_set(err, errno, "write `%s`", path);
    return 0;
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
    const char *oci_args[] = {"run", d->detach_flag, "--bundle", bundle, c->id, NULL};
    const char *const *args = oci_args;
    const char *tmpl = d->wasm ? o->wasm_config : o->config;
    char cgroup[80], cpus[16], listen[48];
    snprintf(cgroup, sizeof(cgroup), "/%s", c->id);
    if (!d->bare && d->engine_runtime == NULL && tmpl != NULL &&
        write_config(bundle, tmpl, cgroup, err) < 0)
        return -1;
    /* The bundle's settings as docker run options: the server's CPU, and for
     * the wasm module its listening socket (Docker 20.10 passes no
     * annotations; the wasm level reads CELLA_WASM_TCPLISTEN instead). */
    snprintf(cpus, sizeof(cpus), "%d", o->server_cpu);
    snprintf(listen, sizeof(listen), "CELLA_WASM_TCPLISTEN=0.0.0.0:%d", o->port);
    const char *engine_args[24];
    if (d->engine_runtime != NULL) {
        size_t k = 0;
        const char *fixed[] = {
            "run",       "--detach",    "--name", c->id,        "--runtime",     d->engine_runtime,
            "--network", o->engine_net, "--ip",   o->engine_ip, "--mac-address", o->engine_mac,
            "--env",     listen};
        for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
            engine_args[k++] = fixed[i];
        if (o->server_cpu >= 0) {
            engine_args[k++] = "--cpuset-cpus";
            engine_args[k++] = cpus;
        }
        engine_args[k++] = d->wasm ? o->wasm_image : o->image;
        if (d->wasm)
            engine_args[k++] = "/httpd.wasm";
        engine_args[k] = NULL;
        args = engine_args;
    }
    struct cmd cmd;
    double t0 = now_ms();
    if ((d->bare ? spawn_bare(o, c, &cmd) : spawn(d, path, o, args, &cmd)) < 0)
        return cerr_set(err, errno, "run %s", d->bare ? o->httpd : path);
    c->running = true;
    bool exited = false;
    int status = 0;
    double deadline = t0 + o->timeout_ms;
    while (!bench_stop && now_ms() < deadline) {
        if (http_probe(server_host(d, o), o->port)) {
            double t = now_ms() - t0;
            /* Served: how `run` itself ended does not matter (the bare
             * server's own process runs on). */
            cerr_t ignore = NULL;
            if (d->bare)
                close(cmd.err_fd);
            else if (!exited)
                finish(&cmd, 10000, &ignore);
            cerr_free(&ignore);
            return t;
        }
        /* A pause between probes: on two cores a tight probing loop takes
         * the CPU the starting runtime needs (bench/wasm.sh does the same). */
        usleep(100);
        if (!exited && waitpid(cmd.pid, &status, WNOHANG) == cmd.pid) {
            exited = true;
            c->bare_pid = 0;
            char msg[512] = "";
            ssize_t n = pread(cmd.err_fd, msg, sizeof(msg) - 1, 0);
            close(cmd.err_fd);
            if (d->bare || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                if (n > 0)
                    msg[strcspn(msg, "\n")] = '\0';
                return cerr_set(err, 0, "`%s` failed (status %d): %s", d->bare ? "httpd" : "run",
                                WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
                                n > 0 ? msg : "no message");
            }
        }
    }
    if (!exited) {
        kill(-cmd.pid, SIGKILL);
        waitpid(cmd.pid, NULL, 0);
        close(cmd.err_fd);
        c->bare_pid = 0;
    }
    if (bench_stop)
        return cerr_set(err, 0, "interrupted");
    return cerr_set(err, 0, "no HTTP 200 within %d ms", o->timeout_ms);
}

/* Runs argv (argv[0] the program's path), stderr to /dev/null, and reads
 * its stdout into buf (NUL-terminated, cut at size - 1). */
static void capture(char *const argv[], char *buf, size_t size)
{
    size_t got = 0;
    int p[2];
    if (pipe(p) == 0) {
        pid_t child = fork();
        if (child == 0) {
            dup2(p[1], 1);
            int null = open("/dev/null", O_RDWR);
            dup2(null, 2);
            execv(argv[0], argv);
            _exit(127);
        }
        close(p[1]);
        ssize_t n;
        while (child > 0 && got < size - 1 && (n = read(p[0], buf + got, size - 1 - got)) > 0)
            got += (size_t)n;
        close(p[0]);
        if (child > 0)
            waitpid(child, NULL, 0);
    }
    buf[got] = '\0';
}

/* `docker inspect` of an engine's container: its pid, and its full id. */
static pid_t engine_pid(const char *path, const struct measure_opts *o, const struct ctr *c,
                        char full[65])
{
    const char *argv[] = {
        path, "-H", o->engine_host, "inspect", "--format", "{{.State.Pid}} {{.Id}}", c->id, NULL};
    char buf[256];
    capture((char *const *)argv, buf, sizeof(buf));
    int pid = -1;
    if (sscanf(buf, "%d %64s", &pid, full) != 2)
        full[0] = '\0';
    return pid > 0 ? (pid_t)pid : -1;
}

/* The container's pid; for an engine's container also its full id in
 * full[65] (the shim's command line names it, not the container's name). */
static pid_t container_pid(const struct driver *d, const char *path, const struct measure_opts *o,
                           const struct ctr *c, char full[65])
{
    if (d->bare)
        return c->bare_pid;
    if (d->engine_runtime != NULL)
        return engine_pid(path, o, c, full);
    const char *argv[24];
    size_t n = 0;
    argv[n++] = path;
    for (size_t i = 0; i < DRIVER_MAX_ARGS && d->global_args[i]; i++)
        argv[n++] = d->global_args[i];
    if (o->root && d->takes_root) {
        argv[n++] = "--root";
        argv[n++] = o->root;
    }
    argv[n++] = "state";
    argv[n++] = c->id;
    argv[n] = NULL;
    char buf[8192];
    capture((char *const *)argv, buf, sizeof(buf));
    json_t *j = json_loads(buf, 0, NULL);
    pid_t pid = j ? (pid_t)json_integer_value(json_object_get(j, "pid")) : -1;
    json_decref(j);
    return pid;
}

/* One round of one runtime: ncold cold starts (each but the last torn down
 * at once), then on the last container: PSS idle, a warm-up at concurrency
 * 10 that is not recorded, latency at concurrency 1, throughput at 10, PSS
 * under load, teardown. */
static void round_here(const struct driver *d, const char *path, const struct measure_opts *o,
                       int round, int ncold, struct round_result *out)
{
    struct ctr c = {0};
    cerr_t err = NULL;
    bool tty = isatty(2);
    if (!port_free(server_host(d, o), o->port, 2000)) {
        snprintf(out->error, sizeof(out->error), "port %d is in use", o->port);
        goto done;
    }
    for (int i = 0; i < ncold && !bench_stop; i++) {
        if (tty) /* a progress line, rewritten in place */
            fprintf(stderr, "\r  round %d/%d  %-16s cold start %3d/%d", round + 1, o->rounds,
                    d->name, i + 1, ncold);
        snprintf(c.id, sizeof(c.id), "cella-bench-%d-%d-%d", o->tag, round, i);
        double t = start_container(d, path, o, &c, &err);
        if (t < 0)
            goto done;
        out->cold[out->ncold] = t;
        if (i + 1 == ncold) {
            out->ncold++;
            break; /* this one serves the load */
        }
        double t1 = now_ms();
        teardown(d, path, o, &c);
        out->down[out->ncold++] = now_ms() - t1;
        if (!port_free(server_host(d, o), o->port, 2000)) {
            snprintf(out->error, sizeof(out->error), "port %d still answers after delete", o->port);
            goto done;
        }
    }
    if (bench_stop) {
        snprintf(out->error, sizeof(out->error), "interrupted");
        goto done;
    }
    if (tty)
        fprintf(stderr, "\r  round %d/%d  %-16s latency, throughput, memory      ", round + 1,
                o->rounds, d->name);
    usleep(100000);
    char full[65] = "";
    pid_t pid = container_pid(d, path, o, &c, full);
    const char *mem_id = full[0] ? full : c.id;
    size_t np = 0;
    pid_t *pids = mem_container_pids(pid, mem_id, &np);
    mem_sum(pids, np, &out->mem_idle);
    free(pids);
    struct load_result warm;
    const char *host = server_host(d, o);
    if (loadgen_run(host, o->port, 10, o->warmup_s, o->loadgen_cpu, &warm, &err) < 0 ||
        loadgen_run(host, o->port, 1, o->duration_s, o->loadgen_cpu, &out->lat_c1, &err) < 0 ||
        loadgen_run(host, o->port, 10, o->duration_s, o->loadgen_cpu, &out->thr_c10, &err) < 0) {
        cerr_wrap(&err, "load");
        goto done;
    }
    if (out->lat_c1.requests == 0 || out->thr_c10.requests == 0) {
        snprintf(out->error, sizeof(out->error), "load: no successful request (%llu errors)",
                 (unsigned long long)(out->lat_c1.errors + out->thr_c10.errors));
        goto done;
    }
    pids = mem_container_pids(pid, mem_id, &np);
    mem_sum(pids, np, &out->mem_load);
    free(pids);
    double t1 = now_ms();
    teardown(d, path, o, &c);
    out->down[out->ncold - 1] = now_ms() - t1;
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
}

void measure_round(const struct driver *d, const char *path, const struct measure_opts *o,
                   int round, int ncold, struct round_result *out)
{
    memset(out, 0, sizeof(*out));
    if (ncold < 1 || ncold > ROUND_MAX_COLD) {
        snprintf(out->error, sizeof(out->error), "%d cold starts in a round (1 to %d)", ncold,
                 ROUND_MAX_COLD);
        return;
    }
    if (!d->hide_unified_cgroup) {
        round_here(d, path, o, round, ncold, out);
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
            round_here(d, path, o, round, ncold, out);
        } else {
            snprintf(out->error, sizeof(out->error), "private mount namespace: %s",
                     strerror(errno));
        }
        const char *b = (const char *)out;
        size_t left = sizeof(*out);
        while (left > 0) {
            ssize_t w = write(p[1], b, left);
            if (w <= 0)
                _exit(1);
            b += w;
            left -= (size_t)w;
        }
        _exit(0);
    }
    close(p[1]);
    char *b = (char *)out;
    size_t got = 0;
    ssize_t n = 0;
    while (child > 0 && got < sizeof(*out) && (n = read(p[0], b + got, sizeof(*out) - got)) > 0)
        got += (size_t)n;
    close(p[0]);
    if (child > 0)
        waitpid(child, NULL, 0);
    if (got != sizeof(*out)) {
        memset(out, 0, sizeof(*out));
        snprintf(out->error, sizeof(out->error), "measuring process failed");
    }
}
