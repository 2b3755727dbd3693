/* cgroup v2: one tree, controllers enabled from the parent's
 * cgroup.subtree_control. On a hybrid host the tree has no controllers and
 * only its cgroup.* files are used. */
#define _GNU_SOURCE
#include "cgroup/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"

/* The controller must be enabled for DIR (listed in its cgroup.controllers). */
static int v2_need(const char *dir, const char *ctrl, const char *field, cerr_t *err)
{
    autofree char *list = cg_get(dir, "cgroup.controllers", err);
    if (list == NULL)
        return -1;
    if (!cg_has_word(list, ctrl))
        return cerr_set(err, 0, "%s: the cgroup v2 `%s` controller is not available in `%s`", field,
                        ctrl, dir);
    return 0;
}

static int put_max(const char *dir, const char *file, int64_t v, const char *field, cerr_t *err)
{
    return v < 0 ? cg_put(dir, file, "max", field, err) : cg_put_i64(dir, file, v, field, err);
}

static int v2_memory(const char *dir, const struct spec_resources *r, cerr_t *err)
{
    bool has_limit = r->memory.limit.set && r->memory.limit.v != 0;
    bool has_swap = r->memory.swap.set && r->memory.swap.v != 0;
    bool has_res = r->memory.reservation.set && r->memory.reservation.v != 0;
    /* swappiness, disableOOMKiller, kernel, kernelTCP and useHierarchy have no v2 knob:
     * ignored, as with runc and crun. */
    if (!has_limit && !has_swap && !has_res)
        return 0;
    if (v2_need(dir, "memory", F_MEM, err) < 0)
        return -1;
    int64_t limit = r->memory.limit.v < 0 ? -1 : r->memory.limit.v;
    if (has_limit && limit > 0 && r->memory.check_before_update.set &&
        r->memory.check_before_update.v && cg_check_usage(dir, "memory.current", limit, err) < 0)
        return -1;
    if (has_limit && put_max(dir, "memory.max", limit, F_MEM ".limit", err) < 0)
        return -1;
    if (has_res &&
        put_max(dir, "memory.low", r->memory.reservation.v, F_MEM ".reservation", err) < 0)
        return -1;
    if (has_swap) {
        /* OCI swap is memory+swap; v2 memory.swap.max is swap alone. */
        int64_t swap = r->memory.swap.v < 0 ? -1 : r->memory.swap.v, v2 = -1;
        if (swap != -1) {
            int64_t lim = limit;
            if (!has_limit) {
                autofree char *cur = cg_get(dir, "memory.max", err);
                if (cur == NULL)
                    return -1;
                lim = strcmp(cur, "max") == 0 ? -1 : strtoll(cur, NULL, 10);
            }
            if (lim <= 0)
                return cerr_set(err, 0, F_MEM ".swap: a swap limit needs a memory limit");
            if (swap < lim)
                return cerr_set(err, 0,
                                F_MEM ".swap (%" PRId64 ") must be at least " F_MEM
                                      ".limit (%" PRId64 ")",
                                swap, lim);
            v2 = swap - lim;
        }
        if (!cg_exists(dir, "memory.swap.max")) {
            if (v2 != -1 && v2 != 0)
                return cerr_set(err, 0,
                                F_MEM ".swap: `%s/memory.swap.max` does not exist (swap "
                                      "accounting is disabled)",
                                dir);
        } else if (put_max(dir, "memory.swap.max", v2, F_MEM ".swap", err) < 0) {
            return -1;
        }
    }
    return 0;
}

static int v2_cpu(const char *dir, const struct spec_resources *r, cerr_t *err)
{
    bool has_shares = r->cpu.shares.set && r->cpu.shares.v != 0;
    bool has_period = r->cpu.period.set && r->cpu.period.v != 0;
    bool has_quota = r->cpu.quota.set && r->cpu.quota.v != 0;
    if ((r->cpu.realtime_period.set && r->cpu.realtime_period.v != 0) ||
        (r->cpu.realtime_runtime.set && r->cpu.realtime_runtime.v != 0))
        return cerr_set(err, 0,
                        F_CPU ".realtimePeriod/realtimeRuntime: not supported with cgroup v2");
    if (has_shares || has_period || has_quota || r->cpu.idle.set) {
        if (v2_need(dir, "cpu", F_CPU, err) < 0)
            return -1;
        if (has_shares) {
            uint64_t s = r->cpu.shares.v;
            s = s < 2 ? 2 : s > 262144 ? 262144 : s;
            uint64_t weight = 1 + ((s - 2) * 9999) / 262142;
            if (cg_put_u64(dir, "cpu.weight", weight, F_CPU ".shares", err) < 0)
                return -1;
        }
        if (has_period || has_quota) {
            /* cpu.max is "QUOTA PERIOD"; keep the current quota when only the period changes
             * (a lone quota keeps the current period). */
            autofree char *q = NULL;
            if (has_quota) {
                q = r->cpu.quota.v < 0 ? xstrdup("max") : xasprintf("%" PRId64, r->cpu.quota.v);
            } else {
                q = cg_get(dir, "cpu.max", err);
                if (q == NULL)
                    return -1;
                q[strcspn(q, " ")] = '\0';
            }
            autofree char *v =
                has_period ? xasprintf("%s %" PRIu64, q, r->cpu.period.v) : xstrdup(q);
            if (cg_put(dir, "cpu.max", v, has_quota ? F_CPU ".quota" : F_CPU ".period", err) < 0)
                return -1;
        }
        if (r->cpu.idle.set && cg_put_i64(dir, "cpu.idle", r->cpu.idle.v, F_CPU ".idle", err) < 0)
            return -1;
    }
    bool has_cpus = r->cpu.cpus && r->cpu.cpus[0], has_mems = r->cpu.mems && r->cpu.mems[0];
    if (has_cpus || has_mems) {
        if (v2_need(dir, "cpuset", F_CPU, err) < 0)
            return -1;
        if (has_cpus && cg_put(dir, "cpuset.cpus", r->cpu.cpus, F_CPU ".cpus", err) < 0)
            return -1;
        if (has_mems && cg_put(dir, "cpuset.mems", r->cpu.mems, F_CPU ".mems", err) < 0)
            return -1;
    }
    return 0;
}

static int v2_pids_io(const char *dir, const struct spec_resources *r, cerr_t *err)
{
    if (r->pids.limit.set) {
        if (v2_need(dir, "pids", "linux.resources.pids", err) < 0)
            return -1;
        int64_t v = r->pids.limit.v > 0 ? r->pids.limit.v : -1;
        if (put_max(dir, "pids.max", v, "linux.resources.pids.limit", err) < 0)
            return -1;
    }
    if (r->blkio.weight.set && r->blkio.weight.v != 0) {
        const char *field = "linux.resources.blockIO.weight";
        if (v2_need(dir, "io", "linux.resources.blockIO", err) < 0)
            return -1;
        uint64_t w = r->blkio.weight.v;
        /* BFQ takes the blkio range (1..1000) as is; io.weight is 1..10000. */
        if (cg_exists(dir, "io.bfq.weight"))
            return cg_put_u64(dir, "io.bfq.weight", w, field, err);
        w = w < 10 ? 10 : w > 1000 ? 1000 : w;
        if (cg_put_u64(dir, "io.weight", 1 + (w - 10) * 9999 / 990, field, err) < 0)
            return -1;
    }
    return 0;
}

/* linux.resources.unified: file name -> value, written as given, after everything else. */
static int unified(const char *dir, const struct spec_resources *r, cerr_t *err)
{
    for (size_t i = 0; i < r->unified.n; i++) {
        const struct kv *kv = &r->unified.v[i];
        if (cg_bad_name(kv->key) || kv->key[0] == '.')
            return cerr_set(err, 0, "linux.resources.unified: invalid file name `%s`", kv->key);
        autofree char *field = xasprintf("linux.resources.unified.%s", kv->key);
        if (cg_put(dir, kv->key, kv->value ? kv->value : "", field, err) < 0)
            return -1;
    }
    return 0;
}

int cgv2_hugetlb(const char *dir, const struct spec_resources *r, cerr_t *err)
{
    if (r->n_hugepages == 0)
        return 0;
    if (v2_need(dir, "hugetlb", "linux.resources.hugepageLimits", err) < 0)
        return -1;
    for (size_t i = 0; i < r->n_hugepages; i++) {
        autofree char *file = xasprintf("hugetlb.%s.max", r->hugepages[i].page_size);
        autofree char *field = xasprintf("linux.resources.hugepageLimits[%zu]", i);
        if (cg_put_u64(dir, file, r->hugepages[i].limit, field, err) < 0)
            return -1;
    }
    return 0;
}

int cgv2_apply(const char *dir, const struct spec_resources *r, cerr_t *err)
{
    if (v2_memory(dir, r, err) < 0 || v2_cpu(dir, r, err) < 0 || v2_pids_io(dir, r, err) < 0 ||
        cgv2_hugetlb(dir, r, err) < 0)
        return -1;
    return unified(dir, r, err);
}

/* A controller that cannot be enabled (e.g. DIR holds processes) is left out: applying a
 * resource that needs it then fails naming the controller. */
int cgv2_enable_controllers(const char *dir, cerr_t *err)
{
    autofree char *avail = cg_get(dir, "cgroup.controllers", err);
    if (avail == NULL)
        return -1;
    autofree char *on = cg_get(dir, "cgroup.subtree_control", err);
    if (on == NULL)
        return -1;
    for (char *save = NULL, *c = strtok_r(avail, " \n", &save); c;
         c = strtok_r(NULL, " \n", &save)) {
        if (cg_has_word(on, c))
            continue;
        autofree char *v = xasprintf("+%s", c);
        cerr_t ignored = NULL;
        cg_put(dir, "cgroup.subtree_control", v, NULL, &ignored);
        cerr_free(&ignored);
    }
    return 0;
}

int cgv2_frozen(const char *dir, cerr_t *err)
{
    autofree char *ev = cg_get(dir, "cgroup.events", err);
    if (ev == NULL)
        return -1;
    return cg_keyed_value(ev, "frozen") == 1;
}

int cgv2_freeze(const char *dir, bool freeze, cerr_t *err)
{
    if (cg_put(dir, "cgroup.freeze", freeze ? "1" : "0", NULL, err) < 0)
        return -1;
    /* cgroup.events reports "frozen 1" once every task stopped, and signals changes as
     * POLLPRI: wait on it, re-reading in case a notification was missed. */
    autofree char *evpath = xasprintf("%s/cgroup.events", dir);
    autoclose int fd = open(evpath, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cerr_set(err, errno, "open `%s`", evpath);
    unsigned long long start = now_ns();
    for (;;) {
        char buf[512];
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        if (n < 0)
            return cerr_set(err, errno, "read `%s`", evpath);
        buf[n] = '\0';
        if ((cg_keyed_value(buf, "frozen") == 1) == freeze)
            return 0;
        if (cg_ms_since(start) >= FREEZE_TIMEOUT_MS) {
            if (freeze) {
                cerr_t ignored = NULL;
                cg_put(dir, "cgroup.freeze", "0", NULL, &ignored);
                cerr_free(&ignored);
            }
            return cerr_set(err, 0, "%s `%s`: not done after %d ms", freeze ? "freeze" : "thaw",
                            dir, FREEZE_TIMEOUT_MS);
        }
        struct pollfd p = {.fd = fd, .events = POLLPRI};
        poll(&p, 1, 10);
    }
}

/* ---- statistics ---- */

/* KEY of the keyed file TEXT, 0 when TEXT or KEY is missing. */
static unsigned long long keyed_u64(const char *text, const char *key)
{
    long long v = text ? cg_keyed_value(text, key) : -1;
    return v > 0 ? (unsigned long long)v : 0;
}

int cgv2_stats(const char *dir, json_t *d, cerr_t *err)
{
    if (access(dir, F_OK) < 0)
        return cerr_set(err, errno, "cgroup `%s`", dir);
    /* cpu.stat is in microseconds; runc reports nanoseconds. */
    autofree char *cs = cg_get(dir, "cpu.stat", NULL);
    json_t *cpu = cg_stat_obj(d, "cpu"), *usage = cg_stat_obj(cpu, "usage");
    cg_stat_set(usage, "total", keyed_u64(cs, "usage_usec") * 1000, true);
    cg_stat_set(usage, "kernel", keyed_u64(cs, "system_usec") * 1000, false);
    cg_stat_set(usage, "user", keyed_u64(cs, "user_usec") * 1000, false);
    json_t *t = cg_stat_obj(cpu, "throttling");
    cg_stat_set(t, "periods", keyed_u64(cs, "nr_periods"), true);
    cg_stat_set(t, "throttledPeriods", keyed_u64(cs, "nr_throttled"), true);
    cg_stat_set(t, "throttledTime", keyed_u64(cs, "throttled_usec") * 1000, true);

    json_t *mem = cg_stat_obj(d, "memory");
    json_t *raw = cg_stat_keyed(dir, "memory.stat");
    json_t *file = json_object_get(raw, "file");
    cg_stat_set(mem, "cache", file ? (unsigned long long)json_integer_value(file) : 0, true);
    unsigned long long cur = 0, max = 0, scur = 0, smax = 0, peak = 0;
    cg_stat_read(dir, "memory.current", &cur);
    cg_stat_read(dir, "memory.max", &max);
    cg_stat_read(dir, "memory.peak", &peak);
    json_t *u = cg_stat_obj(mem, "usage");
    cg_stat_set(u, "limit", max, false);
    cg_stat_set(u, "usage", cur, true);
    cg_stat_set(u, "max", peak, true);
    cg_stat_set(u, "failcnt", 0, false);
    /* v1 reports swap as memory+swap: so does runc on v2. */
    json_t *s = cg_stat_obj(mem, "swap");
    if (cg_stat_read(dir, "memory.swap.current", &scur) &&
        cg_stat_read(dir, "memory.swap.max", &smax)) {
        cg_stat_set(s, "limit", smax == UINT64_MAX || max == UINT64_MAX ? UINT64_MAX : smax + max,
                    false);
        cg_stat_set(s, "usage", scur + cur, true);
    } else {
        cg_stat_set(s, "limit", 0, false);
    }
    cg_stat_set(s, "failcnt", 0, false);
    cg_stat_set(cg_stat_obj(mem, "kernel"), "limit", 0, false);
    cg_stat_set(cg_stat_obj(mem, "kernel"), "failcnt", 0, false);
    cg_stat_set(cg_stat_obj(mem, "kernelTCP"), "limit", 0, false);
    cg_stat_set(cg_stat_obj(mem, "kernelTCP"), "failcnt", 0, false);
    if (json_object_size(raw) > 0)
        json_object_set_new(mem, "raw", raw);
    else
        json_decref(raw);

    json_t *p = cg_stat_obj(d, "pids");
    unsigned long long n;
    if (cg_stat_read(dir, "pids.current", &n))
        cg_stat_set(p, "current", n, true);
    if (cg_stat_read(dir, "pids.max", &n))
        cg_stat_set(p, "limit", n == UINT64_MAX ? 0 : n, true);

    /* io.stat: "MAJ:MIN rbytes=.. wbytes=.. rios=.. wios=.. ..." per device. */
    autofree char *io = cg_get(dir, "io.stat", NULL);
    json_t *b = cg_stat_obj(d, "blkio");
    for (char *save = NULL, *line = io ? strtok_r(io, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        unsigned maj, min;
        if (sscanf(line, "%u:%u", &maj, &min) != 2)
            continue;
        static const char *const keys[][3] = {{"rbytes=", "ioServiceBytesRecursive", "Read"},
                                              {"wbytes=", "ioServiceBytesRecursive", "Write"},
                                              {"rios=", "ioServicedRecursive", "Read"},
                                              {"wios=", "ioServicedRecursive", "Write"}};
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
            const char *k = strstr(line, keys[i][0]);
            if (k != NULL)
                cg_stat_blkio(b, keys[i][1], maj, min, keys[i][2],
                              strtoull(k + strlen(keys[i][0]), NULL, 10));
        }
    }
    return 0;
}
