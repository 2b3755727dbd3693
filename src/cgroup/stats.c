/* Statistics of a cgroup in the shape runc's `events` prints them
 * (runc types/events.go): the skeleton and what v1 and v2 share; each kind
 * fills it from its own files (v1.c, v2.c). */
#define _GNU_SOURCE
#include "cgroup/cgroup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/internal.h"
#include "core/util.h"

json_t *cg_stat_obj(json_t *parent, const char *key)
{
    json_t *o = json_object_get(parent, key);
    if (o == NULL) {
        o = json_object();
        json_object_set_new(parent, key, o);
    }
    return o;
}

void cg_stat_set(json_t *o, const char *key, unsigned long long v, bool omit_zero)
{
    if (v != 0 || !omit_zero)
        json_object_set_new(o, key, json_integer((json_int_t)v));
}

bool cg_stat_read(const char *dir, const char *file, unsigned long long *v)
{
    autofree char *s = cg_get(dir, file, NULL);
    if (s == NULL)
        return false;
    /* "max" is no limit: the largest value, as runc reads it. */
    *v = strcmp(s, "max") == 0 ? UINT64_MAX : strtoull(s, NULL, 10);
    return true;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

json_t *cg_stat_keyed(const char *dir, const char *file)
{
    autofree char *text = cg_get(dir, file, NULL);
    /* Sorted by key, as Go prints a map. */
    size_t n = 0, cap = 0;
    char **lines = NULL;
    for (char *save = NULL, *line = text ? strtok_r(text, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            lines = realloc(lines, cap * sizeof(*lines));
            if (lines == NULL)
                abort();
        }
        lines[n++] = line;
    }
    if (n > 0)
        qsort(lines, n, sizeof(*lines), cmp_str);
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++) {
        char *sp = strchr(lines[i], ' ');
        if (sp == NULL)
            continue;
        *sp = '\0';
        json_object_set_new(o, lines[i], json_integer((json_int_t)strtoull(sp + 1, NULL, 10)));
    }
    free(lines);
    return o;
}

void cg_stat_blkio(json_t *blkio, const char *list, unsigned maj, unsigned min, const char *op,
                   unsigned long long v)
{
    json_t *arr = json_object_get(blkio, list);
    if (arr == NULL) {
        arr = json_array();
        json_object_set_new(blkio, list, arr);
    }
    json_t *e = json_object();
    cg_stat_set(e, "major", maj, true);
    cg_stat_set(e, "minor", min, true);
    if (op[0] != '\0')
        json_object_set_new(e, "op", json_string(op));
    cg_stat_set(e, "value", v, true);
    json_array_append_new(arr, e);
}

/* "0-3,8" as [0,1,2,3,8]. */
static json_t *range_list(const char *text)
{
    json_t *a = json_array();
    for (const char *p = text; p && *p;) {
        char *end;
        unsigned long lo = strtoul(p, &end, 10), hi = lo;
        if (end == p)
            break;
        if (*end == '-')
            hi = strtoul(end + 1, &end, 10);
        for (unsigned long i = lo; i <= hi && i - lo < 65536; i++)
            json_array_append_new(a, json_integer((json_int_t)i));
        p = *end == ',' ? end + 1 : end;
    }
    return a;
}

/* v1's cpuset files (runc leaves them zero on v2: DIR is NULL then). */
void cg_stat_cpuset(json_t *d, const char *dir)
{
    static const char *const fields[] = {"cpus",
                                         "cpu_exclusive",
                                         "mems",
                                         "mem_hardwall",
                                         "mem_exclusive",
                                         "memory_migrate",
                                         "memory_spread_page",
                                         "memory_spread_slab",
                                         "memory_pressure",
                                         "sched_load_balance",
                                         "sched_relax_domain_level"};
    json_t *o = json_object();
    for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
        autofree char *file = xasprintf("cpuset.%s", fields[i]);
        autofree char *v = dir ? cg_get(dir, file, NULL) : NULL;
        bool list = strcmp(fields[i], "cpus") == 0 || strcmp(fields[i], "mems") == 0;
        if (list) {
            json_t *a = range_list(v);
            if (json_array_size(a) > 0)
                json_object_set_new(o, fields[i], a);
            else
                json_decref(a);
        } else {
            json_object_set_new(o, fields[i], json_integer(v ? strtoll(v, NULL, 10) : 0));
        }
    }
    json_object_set_new(d, "cpuset", o);
}

json_t *cgroup_stats(const char *path, cerr_t *err)
{
    const struct layout *l = cg_layout();
    if (l->n == 0) {
        cerr_set(err, 0, "no cgroup hierarchy is mounted under /sys/fs/cgroup");
        return NULL;
    }
    json_t *d = json_object();
    json_t *cpu = cg_stat_obj(d, "cpu");
    cg_stat_obj(cpu, "usage");
    cg_stat_obj(cpu, "throttling");
    cg_stat_cpuset(d, NULL);
    cg_stat_obj(d, "memory");
    cg_stat_obj(d, "pids");
    cg_stat_obj(d, "blkio");
    cg_stat_obj(d, "hugetlb");
    cg_stat_obj(d, "intel_rdt");
    json_object_set_new(d, "network_interfaces", json_null());
    int r;
    if (l->mode == CGROUP_V2) {
        autofree char *dir = xasprintf("%s%s", cg_hier_v2(l)->mnt, path);
        r = cgv2_stats(dir, d, err);
    } else {
        r = cgv1_stats(l, path, d, err);
    }
    if (r < 0) {
        json_decref(d);
        return NULL;
    }
    return d;
}

long long cgroup_oom_kills(const char *path)
{
    const struct layout *l = cg_layout();
    const struct hier *h = l->mode == CGROUP_V2 ? cg_hier_v2(l) : cg_hier_v1(l, C_MEMORY);
    if (h == NULL)
        return -1;
    autofree char *dir = xasprintf("%s%s", h->mnt, path);
    autofree char *text = cg_get(dir, h->v2 ? "memory.events" : "memory.oom_control", NULL);
    return text ? cg_keyed_value(text, "oom_kill") : -1;
}
