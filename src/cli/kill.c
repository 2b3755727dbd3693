#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "core/lifecycle.h"

int cmd_kill(const struct globals *g, int argc, char **argv, cerr_t *err)
{
    static const struct option opts[] = {
        {"all", no_argument, 0, 'a'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    bool all = false;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "ah", opts, NULL)) != -1) {
        if (c == 'a') {
            all = true;
        } else if (c == 'h') {
            cli_help("kill");
        } else {
            return cli_usage_error(err, "kill", "unknown option `%s`", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cerr_set(err, 0, "`kill` needs a container ID");
    if (optind + 2 < argc)
        return cerr_set(err, 0, "`kill`: unexpected argument `%s`", argv[optind + 2]);
    int sig = SIGTERM;
    if (optind + 1 < argc && (sig = cli_signal(argv[optind + 1], err)) < 0)
        return -1;
    return lc_kill(g, argv[optind], sig, all, err) < 0 ? -1 : 0;
}
