/* `events`: the container's cgroup statistics as runc prints them, one JSON
 * event a line ({"type":"stats","id":ID,"data":{...}}), once with --stats or
 * every --interval until the container stops; an {"type":"oom"} event when
 * the OOM killer killed in the cgroup since the last look. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cgroup/cgroup.h"
#include "cli/cli.h"
#include "core/lifecycle.h"
#include "core/util.h"

/* A Go duration, as runc takes --interval: "5s", "100ms", "1m30s", "1.5h";
 * units ns, us (or µs), ms, s, m, h. */
static int duration_ns(const char *s, long double *out)
{
    static const struct {
        const char *unit;
        long double ns;
    } units[] = {{"ns", 1},   {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"\xce\xbcs", 1e3},
                 {"ms", 1e6}, {"s", 1e9},  {"m", 60e9},        {"h", 3600e9}};
    long double total = 0;
    const char *p = s;
    bool neg = *p == '-';
    if (*p == '-' || *p == '+')
        p++;
    if (strcmp(p, "0") == 0) {
        *out = 0;
        return 0;
    }
    if (*p == '\0')
        return -1;
    while (*p) {
        size_t n = strspn(p, "0123456789.");
        if (n == 0 || strspn(p, ".") == n)
            return -1;
        autofree char *num = strndup(p, n);
        char *end;
        long double v = strtold(num, &end);
        if (*end != '\0')
            return -1;
        p += n;
        size_t best = 0, bi = 0;
        for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
            size_t ul = strlen(units[i].unit);
            if (strncmp(p, units[i].unit, ul) == 0 && ul > best)
                best = ul, bi = i;
        }
        if (best == 0)
            return -1;
        total += v * units[bi].ns;
        p += best;
    }
    *out = neg ? -total : total;
    return 0;
}

static void print_event(const char *type, const char *id, json_t *data)
{
    json_t *e = json_pack("{s:s, s:s}", "type", type, "id", id);
    if (data != NULL)
        json_object_set(e, "data", data);
    char *text = json_dumps(e, JSON_COMPACT);
    if (text != NULL) {
        printf("%s\n", text);
        fflush(stdout);
    }
    free(text);
    json_decref(e);
}

/* The container's cgroup while it runs, else NULL with *err set (ERR may be
 * NULL: the loop only stops once the container stopped or is gone). */
static char *live_cgroup(const struct globals *g, const char *id, cerr_t *err)
{
    struct container c;
    cerr_t e = NULL;
    if (container_peek(g, id, &c, err ? err : &e) < 0) {
        cerr_free(&e);
        return NULL;
    }
    char *cg = NULL;
    if (container_status(&c) == ST_STOPPED)
        cerr_set(err, 0, "container `%s` is not running", id);
    else if (c.st->cgroup == NULL)
        cerr_set(err, 0, "container `%s` has no cgroup", id);
    else
        cg = xstrdup(c.st->cgroup);
    container_close(&c);
    return cg;
}

int cmd_events(const struct globals *g, int argc, char **argv, cerr_t *err)
{
    static const struct option opts[] = {{"interval", required_argument, 0, 'i'},
                                         {"stats", no_argument, 0, 's'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    long double interval = 5e9;
    bool once = false;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'i') {
            if (duration_ns(optarg, &interval) < 0)
                return cli_usage_error(err, "events", "--interval: invalid duration `%s`", optarg);
        } else if (c == 's') {
            once = true;
        } else if (c == 'h') {
            cli_help("events");
        } else {
            return cli_usage_error(err, "events", "unknown option `%s`", argv[optind - 1]);
        }
    }
    const char *id = cli_one_id("events", argc, argv, optind, err);
    if (id == NULL)
        return -1;
    if (interval <= 0)
        return cli_usage_error(err, "events", "--interval: must be greater than 0");
    autofree char *cg = live_cgroup(g, id, err);
    if (cg == NULL)
        return -1;
    long long ooms = cgroup_oom_kills(cg);
    for (;;) {
        if (!once) {
            time_t sec = (time_t)(interval / 1e9);
            struct timespec ts = {.tv_sec = sec, .tv_nsec = (long)(interval - sec * 1e9L)};
            while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
            free(cg);
            cg = live_cgroup(g, id, NULL);
            if (cg == NULL)
                return 0;
            long long now = cgroup_oom_kills(cg);
            if (ooms >= 0 && now > ooms)
                print_event("oom", id, NULL);
            ooms = now;
        }
        cerr_t e = NULL;
        json_t *data = cgroup_stats(cg, &e);
        if (data == NULL) {
            /* A container that stopped meanwhile ends the stream. */
            autofree char *still = once ? NULL : live_cgroup(g, id, NULL);
            if (!once && still == NULL) {
                cerr_free(&e);
                return 0;
            }
            if (err != NULL && *err == NULL)
                *err = e;
            else
                cerr_free(&e);
            return -1;
        }
        print_event("stats", id, data);
        json_decref(data);
        if (once)
            return 0;
    }
}
