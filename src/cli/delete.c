#include <getopt.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "core/lifecycle.h"
#include "core/util.h"

/* delete --regex: every container whose id matches (crun's extension). */
static int delete_matching(const struct globals *g, const char *pattern, bool force, cerr_t *err)
{
    regex_t re;
    if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
        return cerr_set(err, 0, "delete --regex: invalid regular expression `%s`", pattern);
    char **ids = state_list_ids(g->root, err);
    int r = ids ? 0 : -1;
    for (size_t i = 0; ids && ids[i]; i++) {
        if (r == 0 && regexec(&re, ids[i], 0, NULL, 0) == 0)
            r = lc_delete(g, ids[i], force, err);
        free(ids[i]);
    }
    free(ids);
    regfree(&re);
    return r;
}

int cmd_delete(const struct globals *g, int argc, char **argv, cerr_t *err)
{
    static const struct option opts[] = {{"force", no_argument, 0, 'f'},
                                         {"regex", required_argument, 0, 'r'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    bool force = false;
    const char *regex = NULL;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "fr:h", opts, NULL)) != -1) {
        if (c == 'f') {
            force = true;
        } else if (c == 'r') {
            regex = optarg;
        } else if (c == 'h') {
            cli_help("delete");
        } else {
            return cli_usage_error(err, "delete", "unknown option `%s`", argv[optind - 1]);
        }
    }
    if (regex != NULL)
        return optind < argc ? cli_usage_error(err, "delete", "--regex takes no ID")
               : delete_matching(g, regex, force, err) < 0 ? -1
                                                           : 0;
    const char *id = cli_one_id("delete", argc, argv, optind, err);
    return id == NULL || lc_delete(g, id, force, err) < 0 ? -1 : 0;
}
