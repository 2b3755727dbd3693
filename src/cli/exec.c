#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/lifecycle.h"
#include "core/util.h"

static void push(char ***v, size_t *n, const char *s)
{
    char **nv = realloc(*v, (*n + 2) * sizeof(char *));
    if (nv == NULL)
        abort();
    *v = nv;
    nv[(*n)++] = (char *)s;
    nv[*n] = NULL;
}

int cmd_exec(const struct globals *g, int argc, char **argv, cerr_t *err)
{
    enum { O_CONSOLE = 256, O_PID, O_PRESERVE, O_NNP, O_IGNORE_PAUSED, O_IGNORED_ARG };
    static const struct option opts[] = {
        {"process", required_argument, 0, 'p'},
        {"detach", no_argument, 0, 'd'},
        {"tty", no_argument, 0, 't'},
        {"env", required_argument, 0, 'e'},
        {"cwd", required_argument, 0, 'w'},
        {"user", required_argument, 0, 'u'},
        {"additional-gids", required_argument, 0, 'g'},
        {"cap", required_argument, 0, 'c'},
        {"console-socket", required_argument, 0, O_CONSOLE},
        {"pid-file", required_argument, 0, O_PID},
        {"preserve-fds", required_argument, 0, O_PRESERVE},
        {"no-new-privs", no_argument, 0, O_NNP},
        {"process-label", required_argument, 0, O_IGNORED_ARG},
        {"apparmor", required_argument, 0, O_IGNORED_ARG},
        {"cgroup", required_argument, 0, O_IGNORED_ARG},
        {"ignore-paused", no_argument, 0, O_IGNORE_PAUSED},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    struct exec_request rq = {0};
    size_t nenv = 0, ncaps = 0, nargs = 0;
    gid_t gids[64];
    char *pid_file = NULL;
    long n;
    int c, r = -1, status = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+p:dte:w:u:g:c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            rq.process_file = optarg;
            break;
        case 'd':
            rq.detach = true;
            break;
        case 't':
            rq.tty = rq.tty_set = true;
            break;
        case 'e':
            if (strchr(optarg, '=') == NULL) {
                cli_usage_error(err, "exec", "--env `%s`: expected NAME=VALUE", optarg);
                goto out;
            }
            push(&rq.env, &nenv, optarg);
            break;
        case 'w':
            rq.cwd = optarg;
            break;
        case 'u':
            rq.user = optarg;
            break;
        case 'g':
            if (parse_long(optarg, &n) < 0 || n < 0 || rq.n_additional_gids >= 64) {
                cli_usage_error(err, "exec", "--additional-gids: bad gid `%s`", optarg);
                goto out;
            }
            gids[rq.n_additional_gids++] = (gid_t)n;
            rq.additional_gids = gids;
            break;
        case 'c':
            push(&rq.caps, &ncaps, optarg);
            break;
        case O_CONSOLE:
            rq.console_socket = optarg;
            break;
        case O_PID:
            free(pid_file);
            rq.pid_file = pid_file = cli_abs_path(optarg);
            break;
        case O_PRESERVE:
            if (parse_long(optarg, &n) < 0 || n < 0) {
                cli_usage_error(err, "exec", "--preserve-fds: expected a number, got `%s`", optarg);
                goto out;
            }
            rq.preserve_fds = (int)n;
            break;
        case O_NNP:
            rq.no_new_privs = true;
            break;
        case O_IGNORE_PAUSED:
            rq.ignore_paused = true;
            break;
        case O_IGNORED_ARG:
            break;
        case 'h':
            cli_help("exec");
        default:
            cli_usage_error(err, "exec", "unknown option `%s`", argv[optind - 1]);
            goto out;
        }
    }
    if (optind >= argc) {
        cerr_set(err, 0, "`exec` needs a container ID");
        goto out;
    }
    const char *id = argv[optind++];
    for (int i = optind; i < argc; i++) {
        if (i == optind && strcmp(argv[i], "--") == 0)
            continue;
        push(&rq.args, &nargs, argv[i]);
    }
    if (rq.process_file && rq.args) {
        cerr_set(err, 0, "exec: give either --process or a command, not both");
        goto out;
    }
    r = lc_exec(g, id, &rq, &status, err);
    /* A level that checks the program first (the sandbox's kernel) exits
     * as a shell for one missing or that cannot run, as `run` does. */
    if (r < 0)
        r = cerr_code(*err) == CERR_EXE_MISSING      ? -127
            : cerr_code(*err) == CERR_EXE_CANNOT_RUN ? -126
                                                     : -255;
out:
    free(rq.env);
    free(rq.caps);
    free(rq.args);
    free(pid_file);
    return r < 0 ? r : status;
}
