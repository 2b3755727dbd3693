/* `cella wasm run`: run a WASI command module directly, with wasmtime's
 * meaning of --dir, --env and --tcplisten. The module's exit code is the
 * command's. */
#define _GNU_SOURCE
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/util.h"
#include "level/wasm/program.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: cella wasm run [--dir HOST[::GUEST]]... [--env NAME[=VALUE]]...\n"
            "                      [--tcplisten ADDR:PORT]... FILE.wasm [ARGS...]\n\n"
            "  --dir HOST[::GUEST]     preopen the host directory HOST as GUEST (default: HOST)\n"
            "  --env NAME=VALUE        set an environment variable (NAME alone: the host's value)\n"
            "  --tcplisten ADDR:PORT   preopen a listening TCP socket (wasi fds 3, 4, ...)\n");
}

struct run_args {
    struct wasi_preopen_dir *dirs;
    size_t ndirs;
    char **env;
    size_t nenv;
    int *listen;
    size_t nlisten;
};

static void run_args_free(struct run_args *a)
{
    for (size_t i = 0; i < a->ndirs; i++) {
        free((char *)a->dirs[i].host_path);
        free((char *)a->dirs[i].guest_path);
    }
    for (size_t i = 0; i < a->nenv; i++)
        free(a->env[i]);
    for (size_t i = 0; i < a->nlisten; i++)
        close(a->listen[i]);
    free(a->dirs);
    free(a->env);
    free(a->listen);
}

static void *grow_array(void *p, size_t n, size_t size)
{
    void *q = realloc(p, (n + 1) * size);
    if (q == NULL)
        abort();
    return q;
}

static void add_dir(struct run_args *a, const char *arg)
{
    const char *sep = strstr(arg, "::");
    a->dirs = grow_array(a->dirs, a->ndirs + 1, sizeof(*a->dirs));
    struct wasi_preopen_dir *d = &a->dirs[a->ndirs++];
    d->host_path = sep ? strndup(arg, (size_t)(sep - arg)) : xstrdup(arg);
    d->guest_path = xstrdup(sep ? sep + 2 : arg);
}

static void add_env(struct run_args *a, const char *arg)
{
    char *kv;
    if (strchr(arg, '=') != NULL) {
        kv = xstrdup(arg);
    } else {
        const char *v = getenv(arg);
        if (v == NULL)
            return;
        kv = xasprintf("%s=%s", arg, v);
    }
    a->env = grow_array(a->env, a->nenv + 1, sizeof(char *));
    a->env[a->nenv++] = kv;
    a->env[a->nenv] = NULL;
}

static int wasm_run(int argc, char **argv, cerr_t *err)
{
    enum { O_DIR = 256, O_ENV, O_TCPLISTEN };
    static const struct option opts[] = {{"dir", required_argument, 0, O_DIR},
                                         {"env", required_argument, 0, O_ENV},
                                         {"tcplisten", required_argument, 0, O_TCPLISTEN},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    struct run_args a = {0};
    int c, status = -1;
    optind = 1;
    opterr = 0;
    /* "+": options end at the module; what follows are its arguments. */
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        if (c == O_DIR) {
            add_dir(&a, optarg);
        } else if (c == O_ENV) {
            add_env(&a, optarg);
        } else if (c == O_TCPLISTEN) {
            int fd = wasm_tcp_listen(optarg, err);
            if (fd < 0)
                goto out;
            a.listen = grow_array(a.listen, a.nlisten + 1, sizeof(int));
            a.listen[a.nlisten++] = fd;
        } else if (c == 'h') {
            usage(stdout);
            status = 0;
            goto out;
        } else {
            cli_usage_error(err, "wasm run", "unknown option `%s`", argv[optind - 1]);
            goto out;
        }
    }
    if (optind >= argc) {
        cerr_set(err, 0, "`wasm run` needs a module file (FILE.wasm)");
        goto out;
    }
    struct wasi_config cfg = {.argc = argc - optind,
                              .argv = argv + optind,
                              .envp = a.env,
                              .stdin_fd = 0,
                              .stdout_fd = 1,
                              .stderr_fd = 2,
                              .dirs = a.dirs,
                              .ndirs = a.ndirs,
                              .listen_fds = a.listen,
                              .nlisten = a.nlisten};
    struct wasm_program *p = wasm_program_load(argv[optind], &cfg, err);
    if (p != NULL) {
        signal(SIGPIPE, SIG_IGN); /* a closed pipe or socket is EPIPE for the module */
        status = wasm_program_run(p);
        fflush(stdout);
        wasm_program_free(p);
    }
out:
    run_args_free(&a);
    return status;
}

int cmd_wasm(const struct globals *g, int argc, char **argv, cerr_t *err)
{
    (void)g;
    if (argc >= 2 && strcmp(argv[1], "run") == 0)
        return wasm_run(argc - 1, argv + 1, err);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return cerr_set(err, 0, "`wasm` needs a subcommand: run");
}
