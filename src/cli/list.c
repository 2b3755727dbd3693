#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/lifecycle.h"
#include "core/util.h"

int cmd_list(const struct globals *g, int argc, char **argv, cerr_t *err)
{
    static const struct option opts[] = {{"format", required_argument, 0, 'f'},
                                         {"quiet", no_argument, 0, 'q'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    bool json = false, quiet = false;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "f:qh", opts, NULL)) != -1) {
        if (c == 'f') {
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "table") != 0)
                return cli_usage_error(err, "list", "--format: expected table or json");
            json = strcmp(optarg, "json") == 0;
        } else if (c == 'q') {
            quiet = true;
        } else if (c == 'h') {
            printf("usage: cella list [--format table|json] [--quiet]\n");
            exit(0);
        } else {
            return cli_usage_error(err, "list", "unknown option `%s`", argv[optind - 1]);
        }
    }
    char **ids = state_list_ids(g->root, err);
    if (ids == NULL)
        return -1;
    json_t *arr = json_array();
    if (!json && !quiet)
        printf("%-24s %-8s %-10s %-40s %-32s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED",
               "OWNER");
    for (size_t i = 0; ids[i]; i++) {
        struct container ct;
        cerr_t skip = NULL;
        if (container_peek(g, ids[i], &ct, &skip) < 0) {
            cerr_free(&skip); /* deleted meanwhile */
            continue;
        }
        enum cstatus s = container_status(&ct);
        int pid = s == ST_STOPPED ? 0 : ct.st->pid;
        if (quiet)
            printf("%s\n", ct.id);
        else if (json)
            json_array_append_new(arr, json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s}", "id", ct.id,
                                                 "pid", pid, "status", cstatus_name(s), "bundle",
                                                 ct.st->bundle, "rootfs",
                                                 ct.st->rootfs ? ct.st->rootfs : "", "created",
                                                 ct.st->created ? ct.st->created : "", "owner",
                                                 ct.st->owner ? ct.st->owner : ""));
        else
            printf("%-24s %-8d %-10s %-40s %-32s %s\n", ct.id, pid, cstatus_name(s), ct.st->bundle,
                   ct.st->created ? ct.st->created : "",
                   ct.st->owner && ct.st->owner[0] ? ct.st->owner : "root");
        container_close(&ct);
    }
    if (json) {
        char *text = json_dumps(arr, JSON_COMPACT);
        printf("%s\n", text ? text : "[]");
        free(text);
    }
    json_decref(arr);
    for (size_t i = 0; ids[i]; i++)
        free(ids[i]);
    free(ids);
    return 0;
}
