#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/lifecycle.h"
#include "core/util.h"

/* runc's table: columns padded to the widest cell plus 3, at least 12
 * wide (its tabwriter's settings); the last column is not padded. */
#define NCOLS 6
struct table {
    char **cells; /* NCOLS per row */
    size_t rows;
};

static void add_row(struct table *t, const char *const row[NCOLS])
{
    t->cells = realloc(t->cells, (t->rows + 1) * NCOLS * sizeof(char *));
    if (t->cells == NULL)
        abort();
    for (size_t c = 0; c < NCOLS; c++)
        t->cells[t->rows * NCOLS + c] = xstrdup(row[c]);
    t->rows++;
}

static void print_table(const struct table *t)
{
    size_t width[NCOLS] = {0};
    for (size_t r = 0; r < t->rows; r++)
        for (size_t c = 0; c + 1 < NCOLS; c++) {
            size_t w = strlen(t->cells[r * NCOLS + c]) + 3;
            width[c] = w > width[c] ? w : width[c];
        }
    for (size_t r = 0; r < t->rows; r++) {
        for (size_t c = 0; c + 1 < NCOLS; c++)
            printf("%-*s", (int)(width[c] < 12 ? 12 : width[c]), t->cells[r * NCOLS + c]);
        printf("%s\n", t->cells[r * NCOLS + NCOLS - 1]);
    }
}

static void table_free(struct table *t)
{
    for (size_t i = 0; i < t->rows * NCOLS; i++)
        free(t->cells[i]);
    free(t->cells);
}

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
            cli_help("list");
        } else {
            return cli_usage_error(err, "list", "unknown option `%s`", argv[optind - 1]);
        }
    }
    char **ids = state_list_ids(g->root, err);
    if (ids == NULL)
        return -1;
    json_t *arr = json_array();
    struct table t = {0};
    add_row(&t, (const char *[]){"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"});
    for (size_t i = 0; ids[i]; i++) {
        struct container ct;
        cerr_t skip = NULL;
        if (container_peek(g, ids[i], &ct, &skip) < 0) {
            cerr_free(&skip); /* deleted meanwhile */
            continue;
        }
        enum cstatus s = container_status(&ct);
        int pid = s == ST_STOPPED ? 0 : ct.st->pid;
        const char *created = ct.st->created ? ct.st->created : "";
        const char *owner = ct.st->owner && ct.st->owner[0] ? ct.st->owner : "root";
        if (quiet) {
            printf("%s\n", ct.id);
        } else if (json) {
            json_t *o = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s}", "ociVersion",
                                  ct.spec->oci_version ? ct.spec->oci_version : "", "id", ct.id,
                                  "pid", pid, "status", cstatus_name(s), "bundle", ct.st->bundle,
                                  "rootfs", ct.st->rootfs ? ct.st->rootfs : "", "created", created);
            if (ct.spec->annotations.n > 0) {
                json_t *a = json_object();
                for (size_t k = 0; k < ct.spec->annotations.n; k++)
                    json_object_set_new(a, ct.spec->annotations.v[k].key,
                                        json_string(ct.spec->annotations.v[k].value));
                json_object_set_new(o, "annotations", a);
            }
            json_object_set_new(o, "owner", json_string(owner));
            json_array_append_new(arr, o);
        } else {
            autofree char *pids = xasprintf("%d", pid);
            add_row(&t,
                    (const char *[]){ct.id, pids, cstatus_name(s), ct.st->bundle, created, owner});
        }
        container_close(&ct);
    }
    if (json) {
        char *text = json_dumps(arr, JSON_COMPACT);
        printf("%s\n", text ? text : "[]");
        free(text);
    } else if (!quiet) {
        print_table(&t);
    }
    table_free(&t);
    json_decref(arr);
    for (size_t i = 0; ids[i]; i++)
        free(ids[i]);
    free(ids);
    return 0;
}
