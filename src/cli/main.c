/* cella: one OCI runtime, five isolation levels. Global options, then one
 * command, as runc's command line. */
#define _GNU_SOURCE
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/log.h"
#include "core/self_exe.h"
#include "core/util.h"

static const struct {
    const char *name;
    cmd_fn fn;
} commands[] = {
    {"create", cmd_create}, {"delete", cmd_delete}, {"exec", cmd_exec},
    {"kill", cmd_kill},     {"list", cmd_list},     {"pause", cmd_pause},
    {"ps", cmd_ps},         {"resume", cmd_resume}, {"run", cmd_run},
    {"spec", cmd_spec},     {"start", cmd_start},   {"state", cmd_state},
    {"update", cmd_update}, {"events", cmd_events}, {"features", cmd_features},
    {"wasm", cmd_wasm},     {"bench", cmd_bench},
};

/* runc's main help, with cella's levels and options. */
static void usage(FILE *f)
{
    fprintf(f, "NAME:\n"
               "   cella - an OCI runtime with five isolation levels: container, sandbox, qemu, "
               "vm, wasm\n\n"
               "The level is taken from the annotation run.cella.isolation, else --isolation,\n"
               "else the program name (cella-LEVEL), else `container`.\n\n"
               "To start a new instance of a container:\n\n"
               "    # cella run [ -b bundle ] <container-id>\n\n"
               "USAGE:\n   cella [global options] command [command options] [arguments...]\n\n"
               "VERSION:\n   ");
    cli_version(f);
    fprintf(f, "\nCOMMANDS:\n");
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        fprintf(f, "   %-9s  %s\n", commands[i].name, cli_summary(commands[i].name));
    fprintf(f, "   %-9s  %s\n", "help, h", "Shows a list of commands or help for one command");
    fprintf(
        f, "\nGLOBAL OPTIONS:\n"
           "   --debug                 enable debug logging\n"
           "   --log value             set the log file to write cella logs to (default is "
           "'/dev/stderr')\n"
           "   --log-format value      set the log format ('text' (default), or 'json') (default: "
           "\"text\")\n"
           "   --root value            root directory for storage of container state (this should "
           "be located in tmpfs) (default: \"/run/cella\")\n"
           "   --systemd-cgroup        enable systemd cgroup support, expects cgroupsPath to be of "
           "form \"slice:prefix:name\" for e.g. \"system.slice:cella:434234\"\n"
           "   --cgroup-manager value  cgroupfs, systemd or disabled (as crun's)\n"
           "   --isolation value       container (default), sandbox, qemu, vm or wasm\n"
           "   --criu value            accepted, ignored (no checkpoint/restore)\n"
           "   --rootless value        accepted, ignored\n"
           "   --help, -h              show help\n"
           "   --version, -v           print the version\n");
}

/* PATH against the working directory, in BUF (PATH_MAX); PATH itself if too long. */
static const char *absolute(const char *path, char *buf)
{
    char cwd[PATH_MAX];
    if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
        return path;
    int n = snprintf(buf, PATH_MAX, "%s/%s", cwd, path);
    return n > 0 && n < PATH_MAX ? buf : path;
}

/* `cella help [COMMAND]`, as runc's. Returns the exit status. */
static int help_command(int argc, char **argv, cerr_t *err)
{
    if (argc < 2) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        if (strcmp(commands[i].name, argv[1]) == 0)
            cli_help(argv[1]);
    cerr_set(err, 0, "No help topic for '%s'", argv[1]);
    return -3;
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
            printf("cella version ");
            cli_version(stdout);
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
    /* getopt may permute argv: the re-exec gets it as given. */
    static char **given;
    given = calloc((size_t)argc + 1, sizeof(char *));
    if (given == NULL)
        abort();
    memcpy(given, argv, (size_t)argc * sizeof(char *));
    int first = parse_globals(argc, argv, &g, &err);
    /* Absolute, as runc makes them: create works from the bundle directory. */
    static char root[PATH_MAX], log_file[PATH_MAX];
    g.root = absolute(g.root, root);
    g.log_file = g.log_file ? absolute(g.log_file, log_file) : NULL;
    if (first < 0 || log_init(g.log_file, g.log_json, g.debug, &err) < 0)
        goto fail;
    if (first >= argc) {
        usage(stdout);
        return 0;
    }
    const char *name = argv[first];
    if (strcmp(name, "create") == 0 || strcmp(name, "run") == 0 || strcmp(name, "exec") == 0)
        self_exe_seal(given);
    if (strcmp(name, "help") == 0 || strcmp(name, "h") == 0) {
        status = help_command(argc - first, argv + first, &err);
        if (status >= 0)
            return status;
        status = -status;
        goto fail;
    }
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
    /* runc's words and status 3: tools probe for commands this way (`features`). */
    cerr_set(&err, 0, "No help topic for '%s'", name);
    status = 3;
fail:
    log_error("%s", cerr_msg(err));
    cerr_free(&err);
    return status > 0 ? status : 1;
}
