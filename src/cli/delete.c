#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "core/lifecycle.h"

int cmd_delete(const struct globals *g, int argc, char **argv, cerr_t *err)
{
    static const struct option opts[] = {
        {"force", no_argument, 0, 'f'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    bool force = false;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
        if (c == 'f') {
            force = true;
        } else if (c == 'h') {
            printf("usage: cella delete [--force] ID\n");
            exit(0);
        } else {
            return cli_usage_error(err, "delete", "unknown option `%s`", argv[optind - 1]);
        }
    }
    const char *id = cli_one_id("delete", argc, argv, optind, err);
    return id == NULL || lc_delete(g, id, force, err) < 0 ? -1 : 0;
}
