/* cella: one OCI runtime, five isolation levels. Global options, then one
 * command, as runc's command line. */
#define _GNU_SOURCE
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/log.h"
#include "core/util.h"

#ifndef CELLA_VERSION
#define CELLA_VERSION "0.1.0"
#endif

static const struct {
    const char *name;
    cmd_fn fn;
    const char *help;
} commands[] = {
    {"create", cmd_create, "create a container (the process waits for `start`)"},
    {"start", cmd_start, "start the user process of a created container"},
    {"run", cmd_run, "create and start a container"},
    {"state", cmd_state, "print the state of a container as JSON"},
    {"kill", cmd_kill, "send a signal to the container's process (default SIGTERM)"},
    {"delete", cmd_delete, "delete a container and everything it holds"},
    {"exec", cmd_exec, "run a new process inside a running container"},
    {"list", cmd_list, "list containers"},
    {"ps", cmd_ps, "list the processes of a container"},
    {"pause", cmd_pause, "freeze every process of a container"},
    {"resume", cmd_resume, "thaw a paused container"},
    {"update", cmd_update, "change the resource limits of a container"},
    {"spec", cmd_spec, "write a default config.json"},
    {"features", cmd_features, "print the features cella supports as JSON"},
    {"wasm", cmd_wasm, "run a WebAssembly (WASI) module directly: cella wasm run FILE.wasm"},
    {"bench", cmd_bench, "measure every runtime present side by side (see cella bench --help)"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: cella [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]\n\n"
               "An OCI runtime with five isolation levels: container, sandbox, qemu, vm, wasm.\n\n"
               "Commands:\n");
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nGlobal options:\n"
               "  --root DIR              state directory (default /run/cella)\n"
               "  --log FILE              also write messages to FILE\n"
               "  --log-format text|json  format of --log (default text)\n"
               "  --debug                 print debug messages\n"
               "  --systemd-cgroup        cgroupsPath is slice:prefix:name\n"
               "  --cgroup-manager cgroupfs|systemd|disabled\n"
               "  --isolation LEVEL       container (default), sandbox, qemu, vm or wasm\n"
               "  --version, --help\n\n"
               "The level is taken from the annotation run.cella.isolation, else --isolation,\n"
               "else the program name (cella-LEVEL), else `container`.\n");
}

static int parse_globals(int argc, char **argv, struct globals *g, cerr_t *err)
{
    enum {
        O_ROOT = 256,
        O_LOG,
        O_LOG_FORMAT,
        O_DEBUG,
        O_SYSTEMD,
        O_MANAGER,
        O_ISOLATION,
        O_VERSION,
        O_HELP,
        O_IGNORED_ARG,
        O_IGNORED
    };
    static const struct option opts[] = {
        {"root", required_argument, 0, O_ROOT},
        {"log", required_argument, 0, O_LOG},
        {"log-format", required_argument, 0, O_LOG_FORMAT},
        {"debug", no_argument, 0, O_DEBUG},
        {"systemd-cgroup", no_argument, 0, O_SYSTEMD},
        {"cgroup-manager", required_argument, 0, O_MANAGER},
        {"isolation", required_argument, 0, O_ISOLATION},
        {"version", no_argument, 0, O_VERSION},
        {"help", no_argument, 0, O_HELP},
        {"criu", required_argument, 0, O_IGNORED_ARG},
        {"rootless", required_argument, 0, O_IGNORED_ARG},
        {0, 0, 0, 0},
    };
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+hv", opts, NULL)) != -1) {
        switch (c) {
        case O_ROOT:
            g->root = optarg;
            break;
        case O_LOG:
            g->log_file = optarg;
            break;
        case O_LOG_FORMAT:
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0)
                return cerr_set(err, 0, "--log-format: expected text or json, got `%s`", optarg);
            g->log_json = strcmp(optarg, "json") == 0;
            break;
        case O_DEBUG:
            g->debug = true;
            break;
        case O_SYSTEMD:
            g->systemd_cgroup = true;
            break;
        case O_MANAGER:
            if (strcmp(optarg, "systemd") == 0)
                g->systemd_cgroup = true;
            else if (strcmp(optarg, "cgroupfs") == 0 || strcmp(optarg, "disabled") == 0)
                g->systemd_cgroup = false;
            else
                return cerr_set(
                    err, 0, "--cgroup-manager: expected cgroupfs, systemd or disabled, got `%s`",
                    optarg);
            break;
        case O_ISOLATION:
            g->isolation = optarg;
            g->isolation_origin = "--isolation";
            break;
        case 'v':
        case O_VERSION:
            printf("cella version %s\nspec: 1.1.0\n+SECCOMP +CAP +SYSTEMD_NOTIFY\n", CELLA_VERSION);
            exit(0);
        case 'h':
        case O_HELP:
            usage(stdout);
            exit(0);
        case O_IGNORED_ARG:
        case O_IGNORED:
            break;
        default:
            return cerr_set(err, 0, "unknown global option `%s` (see cella --help)",
                            argv[optind - 1]);
        }
    }
    return optind;
}

int main(int argc, char **argv)
{
    struct globals g = {.root = "/run/cella"};
    cerr_t err = NULL;
    int status = 1;

    /* cella-LEVEL picks the level by program name. */
    char *prog = basename(argv[0]);
    if (strncmp(prog, "cella-", 6) == 0 && prog[6] != '\0') {
        g.isolation = prog + 6;
        g.isolation_origin = "program name";
    }
    int first = parse_globals(argc, argv, &g, &err);
    if (first < 0 || log_init(g.log_file, g.log_json, g.debug, &err) < 0)
        goto fail;
    if (first >= argc) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[first];
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
        if (strcmp(commands[i].name, name) != 0)
            continue;
        optind = 0;
        log_debug("%s: root `%s`, level %s (%s)", name, g.root,
                  g.isolation ? g.isolation : "from the bundle",
                  g.isolation_origin ? g.isolation_origin : "default");
        status = commands[i].fn(&g, argc - first, argv + first, &err);
        log_debug("%s: %s, exit status %d", name, status < 0 ? "failed" : "done",
                  status < 0 ? -status : status);
        if (status < 0) {
            status = -status;
            goto fail;
        }
        return status;
    }
    cerr_set(&err, 0, "unknown command `%s` (see cella --help)", name);
fail:
    log_error("%s", cerr_msg(err));
    cerr_free(&err);
    return status > 0 ? status : 1;
}
