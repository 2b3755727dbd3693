#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/lifecycle.h"
#include "core/util.h"

const char *cli_create_opts(const char *cmd, int argc, char **argv, struct create_opts *o,
                            bool *detach, cerr_t *err)
{
    enum { O_PID = 256, O_CONSOLE, O_PRESERVE, O_NOPIVOT, O_NOKEYRING, O_KEEP, O_IGNORED };
    static const struct option opts[] = {
        {"bundle", required_argument, 0, 'b'},
        {"config", required_argument, 0, 'f'},
        {"pid-file", required_argument, 0, O_PID},
        {"console-socket", required_argument, 0, O_CONSOLE},
        {"preserve-fds", required_argument, 0, O_PRESERVE},
        {"no-pivot", no_argument, 0, O_NOPIVOT},
        {"no-new-keyring", no_argument, 0, O_NOKEYRING},
        {"detach", no_argument, 0, 'd'},
        {"keep", no_argument, 0, O_KEEP},
        {"no-subreaper", no_argument, 0, O_IGNORED},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *bundle = NULL;
    long n;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+b:f:dh", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            bundle = optarg;
            break;
        case 'f':
            o->config = optarg;
            break;
        case O_PID:
            free((char *)o->pid_file);
            o->pid_file = cli_abs_path(optarg);
            break;
        case O_CONSOLE:
            o->console_socket = optarg;
            break;
        case O_PRESERVE:
            if (parse_long(optarg, &n) < 0 || n < 0 || n > 65536) {
                cli_usage_error(err, cmd, "--preserve-fds: expected a number, got `%s`", optarg);
                return NULL;
            }
            o->preserve_fds = (int)n;
            break;
        case O_NOPIVOT:
            o->no_pivot = true;
            break;
        case O_NOKEYRING:
            o->no_new_keyring = true;
            break;
        case 'd':
            if (detach == NULL) {
                cli_usage_error(err, cmd, "unknown option `--detach`");
                return NULL;
            }
            *detach = true;
            break;
        case O_KEEP:
            if (detach == NULL) {
                cli_usage_error(err, cmd, "unknown option `--keep`");
                return NULL;
            }
            o->keep = true;
            break;
        case O_IGNORED:
            break;
        case 'h':
            cli_help(cmd);
        default:
            cli_usage_error(err, cmd, "unknown option `%s`", argv[optind - 1]);
            return NULL;
        }
    }
    const char *id = cli_one_id(cmd, argc, argv, optind, err);
    if (id == NULL)
        return NULL;
    char *b = cli_bundle(bundle, err);
    if (b == NULL)
        return NULL;
    o->bundle = b;
    return id;
}

int cmd_create(const struct globals *g, int argc, char **argv, cerr_t *err)
{
    struct create_opts o = {0};
    const char *id = cli_create_opts("create", argc, argv, &o, NULL, err);
    if (id == NULL) {
        free((char *)o.pid_file);
        return -1;
    }
    int r = lc_create(g, id, &o, err);
    free((char *)o.bundle);
    free((char *)o.pid_file);
    return r < 0 ? -1 : 0;
}
