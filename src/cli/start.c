#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "core/lifecycle.h"

/* Commands that take only an ID: start, state, pause, resume. */
static const char *only_id(const char *cmd, int argc, char **argv, cerr_t *err)
{
    static const struct option opts[] = {{"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        if (c == 'h')
            cli_help(cmd);
        cli_usage_error(err, cmd, "unknown option `%s`", argv[optind - 1]);
        return NULL;
    }
    return cli_one_id(cmd, argc, argv, optind, err);
}

int cmd_start(const struct globals *g, int argc, char **argv, cerr_t *err)
{
    const char *id = only_id("start", argc, argv, err);
    return id == NULL || lc_start(g, id, err) < 0 ? -1 : 0;
}

int cmd_state(const struct globals *g, int argc, char **argv, cerr_t *err)
{
    const char *id = only_id("state", argc, argv, err);
    return id == NULL || lc_state(g, id, err) < 0 ? -1 : 0;
}

int cmd_pause(const struct globals *g, int argc, char **argv, cerr_t *err)
{
    const char *id = only_id("pause", argc, argv, err);
    return id == NULL || lc_pause(g, id, true, err) < 0 ? -1 : 0;
}

int cmd_resume(const struct globals *g, int argc, char **argv, cerr_t *err)
{
    const char *id = only_id("resume", argc, argv, err);
    return id == NULL || lc_pause(g, id, false, err) < 0 ? -1 : 0;
}
