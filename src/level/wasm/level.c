/* The `wasm` isolation level: the container level with cella's WebAssembly
 * engine in place of execve, as crun's wasm handlers do. The module runs in
 * the container's namespaces, cgroup, credentials, capabilities and seccomp
 * filter (defence in depth: a bug in the engine meets the same walls as a
 * native process), so every lifecycle operation but create is the
 * container level's.
 *
 * Inside the container the engine preopens the root as "/" (the bundle's
 * rootfs with its mounts), passes process.args/env, stdio, and listening
 * sockets: those inherited by socket activation (LISTEN_FDS) and those the
 * annotation run.cella.wasm.tcplisten (else process.env CELLA_WASM_TCPLISTEN)
 * asks for (ADDR:PORT[,ADDR:PORT...], bound in the container's network
 * namespace), as the wasi fds after the root directory. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/util.h"
#include "level/container/container.h"
#include "level/rootfs_exe.h"
#include "level/wasm/program.h"

#define TCPLISTEN_ANNOTATION "run.cella.wasm.tcplisten"
#define TCPLISTEN_ENV        "CELLA_WASM_TCPLISTEN"
#define VARIANT_ANNOTATION   "module.wasm.image/variant"
#define MAX_LISTEN           64

/* ---- choosing the level, features ------------------------------------------------------ */

/* A bundle for the WebAssembly engine: process.args[0] is a .wasm file, or
 * crun's annotation says so. */
static const char *wasm_detect(const struct spec *s)
{
    const char *v = spec_annotation(s, VARIANT_ANNOTATION);
    if (v != NULL && (strcmp(v, "compat") == 0 || strcmp(v, "compat-smart") == 0))
        return "annotation " VARIANT_ANNOTATION;
    if (s->process.args.n > 0) {
        const char *a0 = s->process.args.v[0];
        size_t n = strlen(a0);
        if (n > 5 && strcmp(a0 + n - 5, ".wasm") == 0)
            return "process.args[0] (a .wasm module)";
    }
    return NULL;
}

static void wasm_features(json_t *annotations)
{
    json_object_set_new(annotations, VARIANT_ANNOTATION, json_string("compat"));
    json_object_set_new(annotations, TCPLISTEN_ANNOTATION, json_string("ADDR:PORT[,ADDR:PORT]"));
}

/* ---- check: the module is there -------------------------------------------------------- */

/* process.args[0] found as the container's init will look for it
 * (rootfs_find_exe). Not refused when a mount of the spec may provide it. */
static int module_check(const struct spec *s, const char *rootfs, cerr_t *err)
{
    const char *name = s->process.args.v[0];
    autoclose int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return cerr_set(err, errno, "root.path: `%s`", rootfs);
    autofree char *found = NULL;
    if (rootfs_find_exe(s, rootfd, &found) >= 0)
        return 0;
    if (strchr(name, '/') != NULL)
        return cerr_set(err, errno, "process.args[0]: module `%s` in the rootfs", name);
    return cerr_set(err, 0, "process.args[0]: module `%s` not found in $PATH of the rootfs", name);
}

static int wasm_check(const struct spec *s, const struct create_opts *o, cerr_t *err)
{
    if (container_check(s, o, err) < 0)
        return -1;
    autofree char *rootfs = level_rootfs_path(s, o->bundle, err);
    return rootfs == NULL ? -1 : module_check(s, rootfs, err);
}

/* ---- in the container ------------------------------------------------------------------ */

/* As PID 1 of its pid namespace the engine would ignore signals without a
 * handler: end with the status a shell reports for a signal instead. */
static void on_signal(int sig)
{
    _exit(128 + sig);
}

static void install_signals(void)
{
    static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM};
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
        sigaction(sigs[i], &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* a closed socket is EPIPE for the module */
}

struct listen_set {
    int fds[MAX_LISTEN];
    size_t n;
};

static int listen_fds(const struct proc_plan *plan, int *fds, size_t *n, cerr_t *err)
{
    *n = 0;
    const char *lf = NULL;
    for (char **e = plan->envp; e && *e; e++)
        if (strncmp(*e, "LISTEN_FDS=", 11) == 0)
            lf = *e + 11;
    long count;
    if (lf != NULL && parse_long(lf, &count) == 0)
        for (long i = 0; i < count && *n < MAX_LISTEN; i++)
            fds[(*n)++] = 3 + (int)i;
    const char *a = plan->spec ? spec_annotation(plan->spec, TCPLISTEN_ANNOTATION) : NULL;
    const char *origin = "annotation " TCPLISTEN_ANNOTATION;
    /* Engines that pass no annotations (Docker before 24) pass the process's
     * environment: `docker run -e CELLA_WASM_TCPLISTEN=ADDR:PORT`. */
    for (char **e = plan->envp; a == NULL && e && *e; e++)
        if (strncmp(*e, TCPLISTEN_ENV "=", sizeof(TCPLISTEN_ENV)) == 0) {
            a = *e + sizeof(TCPLISTEN_ENV);
            origin = "process.env " TCPLISTEN_ENV;
        }
    if (a == NULL)
        return 0;
    autofree char *copy = xstrdup(a);
    char *s = copy;
    for (char *tok; (tok = strsep(&s, ",")) != NULL;) {
        if (*tok == '\0')
            continue;
        if (*n == MAX_LISTEN)
            return cerr_set(err, 0, "%s: too many sockets", origin);
        int fd = wasm_tcp_listen(tok, err);
        if (fd < 0)
            return cerr_wrap(err, "%s", origin);
        /* Kept when the fds execve would close are closed (wasm_oci_run). */
        fcntl(fd, F_SETFD, 0);
        fds[(*n)++] = fd;
    }
    return 0;
}

/* The sockets are the runtime's, bound for the module as socket activation
 * would: with the init's privileges (a port below 1024 for a process
 * without CAP_NET_BIND_SERVICE; a seccomp filter that denies bind), and
 * at create, so that a port in use fails create, not start. */
static int wasm_pre_creds(struct proc_plan *plan, cerr_t *err)
{
    struct listen_set *l = calloc(1, sizeof(*l));
    if (l == NULL)
        abort();
    plan->level_state = l;
    return listen_fds(plan, l->fds, &l->n, err);
}

static int wasm_oci_run(const struct proc_plan *plan, cerr_t *err)
{
    int before[1024];
    size_t nbefore = cloexec_fds(before, ARRAY_SIZE(before));
    const struct listen_set *l = plan->level_state;
    size_t argc = plan->p->args.n;
    const struct wasi_preopen_dir root = {.host_path = "/", .guest_path = "/"};
    struct wasi_config cfg = {.argc = (int)argc,
                              .argv = plan->p->args.v,
                              .envp = plan->envp,
                              .stdin_fd = 0,
                              .stdout_fd = 1,
                              .stderr_fd = 2,
                              .dirs = &root,
                              .ndirs = 1,
                              .listen_fds = l->fds,
                              .nlisten = l->n};
    struct wasm_program *prog = wasm_program_load(plan->exe, &cfg, err);
    if (prog == NULL)
        return -1;
    /* The point of no return, where execve would be: the fds it would
     * close are closed (the start connection among them, which tells
     * `cella start` the workload runs). */
    for (size_t i = 0; i < nbefore; i++)
        close(before[i]);
    install_signals();
    int status = wasm_program_run(prog);
    fflush(stdout);
    fflush(stderr);
    _exit(status);
}

static int wasm_create(struct container *c, const struct create_opts *o, cerr_t *err)
{
    static const struct level_hooks hooks = {.pre_creds = wasm_pre_creds, .run = wasm_oci_run};
    return container_create(c, o, &hooks, err);
}

const struct level_ops wasm_level = {
    .name = "wasm",
    .summary = "cella's WebAssembly engine (WASI preview1) inside a container",
    .detect = wasm_detect,
    .features = wasm_features,
    .check = wasm_check,
    .create = wasm_create,
    /* A native process in the container's namespaces, cgroup, credentials
     * and seccomp filter, as crun's wasm handlers do: the walls the engine
     * runs in are the container's, so exec goes through none other. */
    .exec = container_exec,
    CONTAINER_LEVEL_OPS,
};
