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
 * annotation run.cella.wasm.tcplisten asks for (ADDR:PORT[,ADDR:PORT...],
 * bound in the container's network namespace), as the wasi fds after the
 * root directory. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "level/container/container.h"
#include "level/wasm/program.h"

#define TCPLISTEN_ANNOTATION "run.cella.wasm.tcplisten"
#define MAX_LISTEN           64

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
    if (a == NULL)
        return 0;
    autofree char *copy = xstrdup(a);
    char *s = copy;
    for (char *tok; (tok = strsep(&s, ",")) != NULL;) {
        if (*tok == '\0')
            continue;
        if (*n == MAX_LISTEN)
            return cerr_set(err, 0, "annotation " TCPLISTEN_ANNOTATION ": too many sockets");
        int fd = wasm_tcp_listen(tok, err);
        if (fd < 0)
            return cerr_wrap(err, "annotation " TCPLISTEN_ANNOTATION);
        fds[(*n)++] = fd;
    }
    return 0;
}

static int wasm_oci_run(const struct proc_plan *plan, cerr_t *err)
{
    int before[1024];
    size_t nbefore = cloexec_fds(before, ARRAY_SIZE(before));
    int lfds[MAX_LISTEN];
    size_t nl = 0;
    if (listen_fds(plan, lfds, &nl, err) < 0)
        return -1;
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
                              .listen_fds = lfds,
                              .nlisten = nl};
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
    return container_create(c, o, wasm_oci_run, err);
}

const struct level_ops wasm_level = {
    .name = "wasm",
    .summary = "cella's WebAssembly engine (WASI preview1) inside a container",
    .create = wasm_create,
    CONTAINER_LEVEL_OPS,
};
