/* cella-bench: the runtime shoot-out of the seed article on this machine.
 * `cella bench` runs this program (kept apart so that cella's own start path
 * carries none of it). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ftw.h>

#include "core/error.h"
#include "drivers.h"
#include "engine.h"
#include "env.h"
#include "exec_start.h"
#include "measure.h"
#include "model.h"
#include "report.h"
#include "rounds.h"

struct options {
    const char *cella;
    const char *runtimes; /* comma list, NULL: every installed one */
    const char *json, *markdown, *html;
    int runs, rounds;
    double duration;
    bool quick;
    bool debian;
    const char *engine; /* "docker", NULL: the runtimes' OCI command lines */
    int port;
};

static void usage(FILE *f)
{
    fprintf(
        f, "usage: cella bench [--runtimes a,b,c] [--runs N] [--rounds N] [--duration SECONDS]\n"
           "                   [--quick] [--json FILE] [--markdown FILE] [--html FILE] [--port P]\n"
           "                   [--debian]   (also size a Debian minbase image: downloads)\n"
           "                   [--engine docker]\n"
           "Measures cold start, latency, throughput and memory of one small HTTP server\n"
           "under every runtime present (cella's levels, crun, runc, runsc) and run bare,\n"
           "in interleaved rounds: --runs cold starts per runtime in all, --rounds rounds\n"
           "(default 5, --quick 3), each with a warm-up and load steps of --duration\n"
           "seconds (default 2, --quick 0.5). Figures are medians with their spread.\n"
           "--engine docker: the levels as Docker runs them (docker run --runtime=cella-LEVEL,\n"
           "a bridge network) against Docker's default runtime runc, in a dockerd of the\n"
           "bench's own (scripts/dockerd.sh); rows docker-runc, docker-cella, ...\n"
           "       cella-bench exec-start --port P [--runs N] [--poll-us U] [--name NAME] CMD...\n"
           "Cold start of a server command run directly (exec -> first 200), and its PSS.\n");
}

static void on_signal(int sig)
{
    (void)sig;
    bench_stop = 1;
}

/* ---- environment ------------------------------------------------------------------ */

static void read_env(struct bench_env *e)
{
    FILE *f = fopen("/proc/cpuinfo", "re");
    char line[512];
    bool vmx = false;
    while (f && fgets(line, sizeof(line), f)) {
        if (e->cpu_model[0] == '\0' && strncmp(line, "model name", 10) == 0) {
            char *v = strchr(line, ':');
            if (v) {
                v += 2;
                v[strcspn(v, "\n")] = '\0';
                snprintf(e->cpu_model, sizeof(e->cpu_model), "%s", v);
            }
        }
        if (strncmp(line, "flags", 5) == 0 && (strstr(line, " vmx") || strstr(line, " svm")))
            vmx = true;
    }
    if (f)
        fclose(f);
    e->cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    struct utsname u;
    if (uname(&u) == 0)
        snprintf(e->kernel, sizeof(e->kernel), "%.20s %.100s", u.sysname, u.release);
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm >= 0)
        close(kvm);
    env_virt(vmx, kvm >= 0, access("/sys/module/kvm_pvm", F_OK) == 0, e->virt, sizeof(e->virt));
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(e->date, sizeof(e->date), "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- the bundle --------------------------------------------------------------------- */

/* The bench's server next to cella-bench (or where CELLA_BENCH_HTTPD{,_WASM}
 * says): name is "cella-bench-httpd" or "cella-bench-httpd.wasm". */
static char *find_httpd(const char *self, const char *env_name, const char *name, int mode)
{
    const char *env = getenv(env_name);
    if (env != NULL)
        return access(env, mode) == 0 ? realpath(env, NULL) : NULL;
    char dir[PATH_MAX], cand[PATH_MAX + 64];
    snprintf(dir, sizeof(dir), "%s", self);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    const char *rel[] = {"", "../libexec/cella/"};
    for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
        if (snprintf(cand, sizeof(cand), "%s/%s%s", dir, rel[i], name) < (int)sizeof(cand) &&
            access(cand, mode) == 0)
            return realpath(cand, NULL);
    }
    return NULL;
}

static int copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, r = -1;
    if (in >= 0)
        out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    char buf[65536];
    ssize_t n;
    if (out >= 0) {
        r = 0;
        while ((n = read(in, buf, sizeof(buf))) > 0)
            if (write(out, buf, (size_t)n) != n)
                r = -1;
        if (n < 0)
            r = -1;
    }
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    return r;
}

/* A distroless bundle: the rootfs holds the server and nothing else.
 * server_cpus: a cpuset for the server ("0"), so that it and the load
 * generator run on different CPUs; NULL: no pinning. wasm: httpd is the
 * wasm32-wasi build, run by cella's wasm level with its listening socket
 * preopened from the annotation run.cella.wasm.tcplisten. *config: the
 * config.json text with MEASURE_CGROUP_MARK for linux.cgroupsPath, which the
 * bench sets for each container (measure.c). */
static int make_bundle(const char *dir, const char *httpd, bool wasm, int port,
                       const char *server_cpus, char **config, cerr_t *err)
{
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        return cerr_set(err, errno, "mkdir `%s`", dir);
    char p[PATH_MAX];
    const char *subdirs[] = {"rootfs", "rootfs/proc", "rootfs/dev", "rootfs/sys", "rootfs/tmp"};
    for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
        if (snprintf(p, sizeof(p), "%s/%s", dir, subdirs[i]) >= (int)sizeof(p))
            return cerr_set(err, ENAMETOOLONG, "bundle `%s`", dir);
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
            return cerr_set(err, errno, "mkdir `%s`", p);
    }
    const char *file = wasm ? "httpd.wasm" : "httpd";
    if (snprintf(p, sizeof(p), "%s/rootfs/%s", dir, file) >= (int)sizeof(p))
        return cerr_set(err, ENAMETOOLONG, "bundle `%s`", dir);
    if (copy_file(httpd, p) < 0)
        return cerr_set(err, errno, "copy `%s` to `%s`", httpd, p);
    size_t config_len = 0;
    FILE *f = open_memstream(config, &config_len);
    if (f == NULL)
        return cerr_set(err, errno, "config of `%s`", dir);
    static const char caps[] = "[\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"]";
    char args[64], annotations[160] = "";
    if (wasm) {
        snprintf(args, sizeof(args), "\"/httpd.wasm\"");
        snprintf(annotations, sizeof(annotations),
                 " \"annotations\": {\"run.cella.wasm.tcplisten\": \"0.0.0.0:%d\"},\n", port);
    } else {
        snprintf(args, sizeof(args), "\"/httpd\", \"%d\"", port);
        /* cella's qemu level: the VM is behind QEMU's user-mode NAT, which
         * publishes the port on the host (other runtimes ignore it). */
        snprintf(annotations, sizeof(annotations),
                 " \"annotations\": {\"run.cella.qemu.ports\": \"tcp:127.0.0.1:%d:%d\"},\n", port,
                 port);
    }
    fprintf(f,
            "{\"ociVersion\": \"1.1.0\",\n%s"
            " \"process\": {\"terminal\": false, \"user\": {\"uid\": 0, \"gid\": 0},\n"
            "   \"args\": [%s],\n"
            "   \"env\": [\"PATH=/usr/sbin:/usr/bin:/sbin:/bin\", \"RUNTIME_NAME=bench\"],\n"
            "   \"cwd\": \"/\",\n"
            "   \"capabilities\": {\"bounding\": %s, \"effective\": %s, \"permitted\": %s},\n"
            "   \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024}],\n"
            "   \"noNewPrivileges\": true},\n"
            " \"root\": {\"path\": \"rootfs\", \"readonly\": true},\n"
            " \"hostname\": \"cella-bench\",\n"
            " \"mounts\": [\n"
            "   {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},\n"
            "   {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\",\n"
            "    \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},\n"
            "   {\"destination\": \"/tmp\", \"type\": \"tmpfs\", \"source\": \"tmpfs\",\n"
            "    \"options\": [\"nosuid\", \"nodev\", \"size=65536k\"]}],\n"
            " \"linux\": {\"cgroupsPath\": \"" MEASURE_CGROUP_MARK "\",\n"
            "   \"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"ipc\"},\n"
            "   {\"type\": \"uts\"}, {\"type\": \"mount\"}],\n"
            "   \"maskedPaths\": [\"/proc/kcore\", \"/proc/keys\", \"/proc/timer_list\"],\n"
            "   \"readonlyPaths\": [\"/proc/sys\", \"/proc/sysrq-trigger\"]%s%s%s}}\n",
            annotations, args, caps, caps, caps,
            server_cpus ? ",\n   \"resources\": {\"cpu\": {\"cpus\": \"" : "",
            server_cpus ? server_cpus : "", server_cpus ? "\"}}" : "");
    if (fclose(f) != 0)
        return cerr_set(err, errno, "config of `%s`", dir);
    return 0;
}

/* ---- image sizes ---------------------------------------------------------------------------- */

/* snprintf whose truncation (of very long paths) is the caller's to check. */
static bool fmt(char *buf, size_t len, const char *f, ...) __attribute__((format(printf, 3, 4)));
static bool fmt(char *buf, size_t len, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(buf, len, f, ap);
    va_end(ap);
    return n >= 0 && (size_t)n < len;
}

static unsigned long long tree_bytes;

static int add_size(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)path;
    (void)ftw;
    if (type == FTW_F)
        tree_bytes += (unsigned long long)st->st_size;
    return 0;
}

/* Bytes of the regular files of a rootfs, and of it as a gzip'd layer tarball. */
static void size_rootfs(const char *dir, struct image_size *img)
{
    tree_bytes = 0;
    if (nftw(dir, add_size, 32, FTW_PHYS) != 0) {
        snprintf(img->error, sizeof(img->error), "walk %.200s: %s", dir, strerror(errno));
        return;
    }
    img->rootfs_bytes = tree_bytes;
    char cmd[PATH_MAX + 96];
    fmt(cmd, sizeof(cmd), "tar -C '%s' --numeric-owner -cf - . 2>/dev/null | gzip -n | wc -c", dir);
    FILE *p = popen(cmd, "r");
    unsigned long long gz = 0;
    if (p == NULL || fscanf(p, "%llu", &gz) != 1 || gz == 0) {
        snprintf(img->error, sizeof(img->error), "tar | gzip failed");
        if (p)
            pclose(p);
        return;
    }
    pclose(p);
    img->layer_gz_bytes = gz;
    img->ok = true;
}

static int run_quiet(const char *cmd)
{
    int r = system(cmd);
    return r == 0 ? 0 : -1;
}

/* The article's three images: distroless (the server alone), busybox
 * (busybox-static + the server) and Debian minbase (with --debian: it
 * downloads packages); and the wasm one (the wasm32-wasi server alone). */
static void measure_images(struct bench_report *rep, const char *dir, const char *bundle,
                           const char *wasm_bundle, const char *httpd, bool debian)
{
    static struct image_size imgs[4];
    memset(imgs, 0, sizeof(imgs));
    rep->img = imgs;
    rep->n_img = 4;
    char root[PATH_MAX], cmd[3 * PATH_MAX];
    snprintf(imgs[0].name, sizeof(imgs[0].name), "distroless");
    fmt(root, sizeof(root), "%s/rootfs", bundle);
    size_rootfs(root, &imgs[0]);

    snprintf(imgs[1].name, sizeof(imgs[1].name), "busybox");
    fmt(root, sizeof(root), "%s/busybox", dir);
    fmt(cmd, sizeof(cmd),
        "mkdir -p '%s/bin' && cp /bin/busybox '%s/bin/busybox' && cp '%s' '%s/httpd' && "
        "for a in $(/bin/busybox --list); do [ $a = busybox ] || ln -sf busybox '%s/bin/'$a; done",
        root, root, httpd, root, root);
    if (access("/bin/busybox", X_OK) != 0)
        snprintf(imgs[1].error, sizeof(imgs[1].error), "busybox-static is not installed");
    else if (run_quiet(cmd) < 0)
        snprintf(imgs[1].error, sizeof(imgs[1].error), "could not assemble the busybox rootfs");
    else
        size_rootfs(root, &imgs[1]);

    /* The wasm32-wasi server alone, as the wasm level runs it. */
    snprintf(imgs[3].name, sizeof(imgs[3].name), "wasm");
    if (wasm_bundle == NULL) {
        snprintf(imgs[3].error, sizeof(imgs[3].error),
                 "not measured: no wasm32-wasi build of the server");
    } else {
        fmt(root, sizeof(root), "%s/rootfs", wasm_bundle);
        size_rootfs(root, &imgs[3]);
    }

    snprintf(imgs[2].name, sizeof(imgs[2].name), "debian");
    if (!debian) {
        snprintf(imgs[2].error, sizeof(imgs[2].error),
                 "not measured: --debian builds it with debootstrap (downloads packages)");
        return;
    }
    fmt(root, sizeof(root), "%s/debian", dir);
    fmt(cmd, sizeof(cmd),
        "debootstrap --variant=minbase bookworm '%s' >/dev/null 2>&1 && cp '%s' '%s/httpd'", root,
        httpd, root);
    if (run_quiet(cmd) < 0)
        snprintf(imgs[2].error, sizeof(imgs[2].error),
                 "debootstrap --variant=minbase failed (is debootstrap installed?)");
    else
        size_rootfs(root, &imgs[2]);
}

/* ---- --engine docker ------------------------------------------------------------------ */

/* The bench's dockerd and the bundles' rootfs as its images; on failure
 * error says why (the engine's rows show it). */
static void start_engine(struct engine *e, const char *dir, const char *self, const char *cella,
                         const char *bundle, const char *wasm_bundle, int port, char *error,
                         size_t len)
{
    char edir[PATH_MAX], rootfs[PATH_MAX], cmd[64];
    cerr_t err = NULL;
    fmt(edir, sizeof(edir), "%s/docker", dir);
    snprintf(cmd, sizeof(cmd), "[\"/httpd\", \"%d\"]", port);
    fprintf(stderr, "cella bench: starting a dockerd of its own in %s\n", edir);
    int r = engine_start(e, edir, self, cella, &err);
    if (r == 0 && fmt(rootfs, sizeof(rootfs), "%s/rootfs", bundle))
        r = engine_import(e, rootfs, "cella-bench-httpd:1", cmd, &err);
    if (r == 0 && wasm_bundle != NULL && fmt(rootfs, sizeof(rootfs), "%s/rootfs", wasm_bundle))
        r = engine_import(e, rootfs, "cella-bench-httpd-wasm:1", NULL, &err);
    if (r < 0)
        snprintf(error, len, "%s", cerr_msg(err));
    cerr_free(&err);
}

/* ---- main ------------------------------------------------------------------------------- */

static int write_with(const char *path, int (*writer)(FILE *, const struct bench_report *),
                      const struct bench_report *r, cerr_t *err)
{
    FILE *f = fopen(path, "we");
    if (f == NULL)
        return cerr_set(err, errno, "create `%s`", path);
    int w = writer(f, r);
    if (fclose(f) != 0 || w < 0)
        return cerr_set(err, errno, "write `%s`", path);
    return 0;
}

static bool wanted(const char *list, const char *name)
{
    if (list == NULL)
        return true;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        size_t l = strcspn(p, ",");
        if (l == n && strncmp(p, name, n) == 0)
            return true;
        p += l + (p[l] == ',');
    }
    return false;
}

/* Exits at --help; -1 with *err set on a bad option. */
static int parse(int argc, char **argv, struct options *o, cerr_t *err)
{
    static const struct option opts[] = {
        {"cella", required_argument, 0, 'c'},    {"runtimes", required_argument, 0, 'r'},
        {"runs", required_argument, 0, 'n'},     {"duration", required_argument, 0, 'd'},
        {"quick", no_argument, 0, 'q'},          {"json", required_argument, 0, 'j'},
        {"markdown", required_argument, 0, 'm'}, {"html", required_argument, 0, 'H'},
        {"port", required_argument, 0, 'p'},     {"help", no_argument, 0, 'h'},
        {"debian", no_argument, 0, 'D'},         {"rounds", required_argument, 0, 'R'},
        {"engine", required_argument, 0, 'E'},   {0, 0, 0, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o->cella = optarg;
            break;
        case 'r':
            o->runtimes = optarg;
            break;
        case 'n':
            o->runs = atoi(optarg);
            break;
        case 'd':
            o->duration = atof(optarg);
            break;
        case 'D':
            o->debian = true;
            break;
        case 'R':
            o->rounds = atoi(optarg);
            break;
        case 'E':
            if (strcmp(optarg, "docker") != 0)
                return cerr_set(err, 0, "--engine `%s`: only docker is known", optarg);
            o->engine = optarg;
            break;
        case 'q':
            o->quick = true;
            break;
        case 'j':
            o->json = optarg;
            break;
        case 'm':
            o->markdown = optarg;
            break;
        case 'H':
            o->html = optarg;
            break;
        case 'p':
            o->port = atoi(optarg);
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return cerr_set(err, 0, "bad arguments");
        }
    }
    /* -1: not given (the defaults depend on --quick) */
    if ((o->runs != -1 && (o->runs <= 0 || o->runs > 10000)) ||
        (o->duration != -1 && !(o->duration > 0)) || o->port <= 0 || o->port > 65535 ||
        (o->rounds != -1 && (o->rounds <= 0 || o->rounds > BENCH_MAX_ROUNDS)))
        return cerr_set(err, 0,
                        "--runs (up to 10000), --duration and --port (up to 65535) must "
                        "be positive, --rounds 1 to 100");
    return 0;
}

/* Everything after the options; the exit status (130: interrupted). */
static int run(struct options o, cerr_t *err)
{
    if (o.rounds == -1)
        o.rounds = o.quick ? 3 : 5;
    if (o.runs == -1)
        o.runs = o.quick ? 3 : 20;
    if (o.duration == -1)
        o.duration = o.quick ? 0.5 : 2;
    if (o.runs > ROUND_MAX_COLD * o.rounds) {
        cerr_set(err, 0, "--runs %d over %d rounds: at most %d cold starts per round", o.runs,
                 o.rounds, ROUND_MAX_COLD);
        return 2;
    }
    /* a warm-up before each round's load steps, not recorded */
    double warmup = o.duration / 4 < 0.1 ? 0.1 : o.duration / 4 > 1 ? 1 : o.duration / 4;
    char self[PATH_MAX];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
    self[sl > 0 ? sl : 0] = '\0';
    char *httpd = find_httpd(self, "CELLA_BENCH_HTTPD", "cella-bench-httpd", X_OK);
    char *httpd_wasm = find_httpd(self, "CELLA_BENCH_HTTPD_WASM", "cella-bench-httpd.wasm", R_OK);
    struct bench_report rep = {.runs = o.runs,
                               .rounds = o.rounds,
                               .duration_s = o.duration,
                               .warmup_s = warmup,
                               .quick = o.quick};
    int rc = 1;
    struct engine eng = {.started = false};
    char engine_err[512] = "";
    /* Under $TMPDIR as mkdtemp(1): two benches, or a test beside a user's bench, each find
     * only their own directory. */
    const char *tmpdir = getenv("TMPDIR");
    char tmpl[PATH_MAX];
    snprintf(tmpl, sizeof(tmpl), "%s/cella-bench.XXXXXX",
             tmpdir != NULL && tmpdir[0] == '/' ? tmpdir : "/tmp");
    char *dir = NULL, *config = NULL, *wasm_config = NULL;
    if (httpd == NULL) {
        cerr_set(err, 0,
                 "the bench's HTTP server (cella-bench-httpd) is not installed next to %s; set "
                 "CELLA_BENCH_HTTPD",
                 self);
        goto out;
    }
    dir = mkdtemp(tmpl);
    if (dir == NULL) {
        cerr_set(err, errno, "mkdtemp `%s`", tmpl);
        goto out;
    }
    char bundle[PATH_MAX], wasm_bundle[PATH_MAX], root[PATH_MAX];
    snprintf(bundle, sizeof(bundle), "%s/bundle", dir);
    snprintf(wasm_bundle, sizeof(wasm_bundle), "%s/bundle-wasm", dir);
    snprintf(root, sizeof(root), "%s/state", dir);
    read_env(&rep.env);
    /* Two or more CPUs: the server on CPU 0, the load generator on the last. */
    const char *cpus = rep.env.cores >= 2 ? "0" : NULL;
    if (make_bundle(bundle, httpd, false, o.port, cpus, &config, err) < 0 ||
        (httpd_wasm != NULL &&
         make_bundle(wasm_bundle, httpd_wasm, true, o.port, cpus, &wasm_config, err) < 0))
        goto out;
    if (o.engine != NULL) {
        snprintf(rep.engine, sizeof(rep.engine), "%s", o.engine);
        snprintf(rep.baseline, sizeof(rep.baseline), "docker-runc");
        start_engine(&eng, dir, self, o.cella, bundle, httpd_wasm ? wasm_bundle : NULL, o.port,
                     engine_err, sizeof(engine_err));
    }
    size_t nd;
    const struct driver *ds = drivers_all(o.cella, &nd);
    rep.rt = calloc(nd, sizeof(*rep.rt));
    struct rt_plan *plan = calloc(nd, sizeof(*plan));
    char **paths = calloc(nd, sizeof(*paths));
    size_t np = 0;
    struct measure_opts mo = {.bundle = bundle,
                              .wasm_bundle = httpd_wasm ? wasm_bundle : NULL,
                              .config = config,
                              .wasm_config = wasm_config,
                              .httpd = httpd,
                              .port = o.port,
                              .rounds = o.rounds,
                              .duration_s = o.duration,
                              .warmup_s = warmup,
                              .loadgen_cpu = rep.env.cores >= 2 ? rep.env.cores - 1 : -1,
                              .server_cpu = cpus ? 0 : -1,
                              .tag = (int)getpid(),
                              .root = root,
                              .engine_host = eng.host,
                              .engine_net = eng.net,
                              .engine_ip = eng.ip,
                              .engine_mac = eng.mac,
                              .image = "cella-bench-httpd:1",
                              .wasm_image = "cella-bench-httpd-wasm:1",
                              /* a VM's boot under TCG behind Docker's setup */
                              .timeout_ms = o.engine ? 60000 : 10000};
    if (rep.rt == NULL || plan == NULL || paths == NULL) {
        cerr_set(err, ENOMEM, "bench");
        goto out;
    }
    /* The bare row is always measured: it is the floor of the report. */
    for (size_t i = 0; i < nd; i++) {
        if (!ds[i].bare && (!wanted(o.runtimes, ds[i].name) ||
                            (ds[i].engine_runtime != NULL) != (o.engine != NULL)))
            continue;
        struct runtime_result *r = &rep.rt[rep.n_rt++];
        snprintf(r->name, sizeof(r->name), "%s", ds[i].name);
        r->boundary = ds[i].boundary;
        r->runs = o.runs;
        r->rounds = o.rounds;
        if (ds[i].engine_runtime != NULL && engine_err[0] != '\0') {
            snprintf(r->error, sizeof(r->error), "%s", engine_err);
            continue;
        }
        char *path = ds[i].bare             ? strdup(httpd)
                     : ds[i].engine_runtime ? strdup(eng.docker)
                                            : driver_path(&ds[i]);
        if (path == NULL) {
            snprintf(r->error, sizeof(r->error), "not installed");
            continue;
        }
        if (ds[i].bare)
            snprintf(r->version, sizeof(r->version), "cella-bench-httpd, no runtime");
        else
            runtime_version(path, r->version, sizeof(r->version));
        if (ds[i].engine_runtime != NULL) {
            size_t vl = strlen(r->version);
            snprintf(r->version + vl, sizeof(r->version) - vl, ", --runtime=%s",
                     ds[i].engine_runtime);
        }
        fprintf(stderr, "cella bench: %s (%s)\n", r->name, r->version);
        paths[np] = path;
        plan[np++] = (struct rt_plan){.d = &ds[i], .path = path, .res = r};
    }
    fprintf(stderr, "cella bench: %d interleaved rounds of %zu, %.1f s per load step\n", o.rounds,
            np, o.duration);
    rounds_measure(plan, np, &mo, o.runs);
    for (size_t i = 0; i < np; i++)
        free(paths[i]);
    free(paths);
    free(plan);
    if (!bench_stop)
        measure_images(&rep, dir, bundle, httpd_wasm ? wasm_bundle : NULL, httpd, o.debian);
    report_text(stdout, &rep);
    /* Every report is attempted; the first failure is the error. */
    rc = 0;
    if (o.json && report_json(&rep, o.json, err) < 0)
        rc = 1;
    if (o.markdown && write_with(o.markdown, report_md, &rep, err) < 0)
        rc = 1;
    if (o.html && write_with(o.html, report_html, &rep, err) < 0)
        rc = 1;
out:
    engine_stop(&eng);
    /* the state dir and bundle: everything the bench made */
    if (dir != NULL) {
        pid_t pid = fork();
        if (pid == 0) {
            execlp("rm", "rm", "-rf", dir, (char *)NULL);
            _exit(127);
        }
        if (pid > 0)
            waitpid(pid, NULL, 0);
    }
    free(rep.rt);
    free(config);
    free(wasm_config);
    free(httpd);
    free(httpd_wasm);
    return bench_stop ? 130 : rc;
}

int main(int argc, char **argv)
{
    struct options o = {.port = 18480, .runs = -1, .rounds = -1, .duration = -1};
    cerr_t err = NULL;
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int rc;
    if (argc > 1 && strcmp(argv[1], "exec-start") == 0)
        rc = exec_start_main(argc - 1, argv + 1, &err);
    else
        rc = parse(argc, argv, &o, &err) < 0 ? 2 : run(o, &err);
    if (err != NULL)
        fprintf(stderr, "cella bench: %s\n", cerr_msg(err));
    cerr_free(&err);
    return rc;
}
