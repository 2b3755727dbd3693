/* cgroup v1 (and the v1 side of a hybrid host): one hierarchy per controller
 * (or per set of co-mounted controllers), the container's cgroup the same path
 * below each. */
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

#include "cgroup/devices.h"

static char *v1_dir(const struct layout *l, enum ctrl c, const char *path, const char *field,
                    cerr_t *err)
{
    const struct hier *h = cg_hier_v1(l, c);
    if (h == NULL) {
        cerr_set(err, 0, "%s: the cgroup v1 `%s` controller is not mounted", field,
                 cg_ctrl_names[c]);
        return NULL;
    }
    return xasprintf("%s%s", h->mnt, path);
}

static int v1_memory(const struct layout *l, const char *path, const struct spec_resources *r,
                     cerr_t *err)
{
    bool has_limit = r->memory.limit.set && r->memory.limit.v != 0;
    bool has_swap = r->memory.swap.set && r->memory.swap.v != 0;
    bool has_res = r->memory.reservation.set && r->memory.reservation.v != 0;
    bool has_tcp = r->memory.kernel_tcp.set && r->memory.kernel_tcp.v != 0;
    int64_t limit = r->memory.limit.v < 0 ? -1 : r->memory.limit.v;
    int64_t swap = r->memory.swap.v < 0 ? -1 : r->memory.swap.v;
    /* memory.kernel is deprecated and gone from recent kernels; useHierarchy is always on
     * since Linux 5.16: both are ignored. */
    if (!has_limit && !has_swap && !has_res && !has_tcp && !r->memory.swappiness.set &&
        !r->memory.disable_oom_killer.set)
        return 0;
    autofree char *dir = v1_dir(l, C_MEMORY, path, F_MEM, err);
    if (dir == NULL)
        return -1;
    if (has_limit && limit == -1 && !has_swap) { /* unlimited memory: unlimited swap too */
        has_swap = true;
        swap = -1;
    }
    if (has_swap && !cg_exists(dir, "memory.memsw.limit_in_bytes")) {
        if (swap != -1 && !(has_limit && swap == limit))
            return cerr_set(err, 0,
                            F_MEM ".swap: `%s/memory.memsw.limit_in_bytes` does not exist "
                                  "(swap accounting is disabled)",
                            dir);
        has_swap = false;
    }
    if (has_swap && has_limit && swap != -1 && (limit == -1 || swap < limit))
        return cerr_set(err, 0,
                        F_MEM ".swap (%" PRId64 ") must be at least " F_MEM ".limit (%" PRId64 ")",
                        swap, limit);
    if (has_limit && limit > 0 && r->memory.check_before_update.set &&
        r->memory.check_before_update.v &&
        cg_check_usage(dir, "memory.usage_in_bytes", limit, err) < 0)
        return -1;
    if (has_swap) {
        /* memsw must stay >= limit at every step: raise memsw first when growing, lower the
         * limit first when shrinking. */
        unsigned long long cur;
        if (cg_read_u64(dir, "memory.limit_in_bytes", &cur, err) < 0)
            return -1;
        bool swap_first = swap == -1 || cur < (unsigned long long)swap;
        if (swap_first &&
            cg_put_i64(dir, "memory.memsw.limit_in_bytes", swap, F_MEM ".swap", err) < 0)
            return -1;
        if (has_limit && cg_put_i64(dir, "memory.limit_in_bytes", limit, F_MEM ".limit", err) < 0)
            return -1;
        if (!swap_first &&
            cg_put_i64(dir, "memory.memsw.limit_in_bytes", swap, F_MEM ".swap", err) < 0)
            return -1;
    } else if (has_limit &&
               cg_put_i64(dir, "memory.limit_in_bytes", limit, F_MEM ".limit", err) < 0) {
        return -1;
    }
    if (has_res && cg_put_i64(dir, "memory.soft_limit_in_bytes",
                              r->memory.reservation.v < 0 ? -1 : r->memory.reservation.v,
                              F_MEM ".reservation", err) < 0)
        return -1;
    if (r->memory.swappiness.set) {
        if (r->memory.swappiness.v > 100)
            return cerr_set(err, 0, F_MEM ".swappiness: %" PRIu64 " is not in 0..100",
                            r->memory.swappiness.v);
        if (cg_put_u64(dir, "memory.swappiness", r->memory.swappiness.v, F_MEM ".swappiness", err) <
            0)
            return -1;
    }
    if (r->memory.disable_oom_killer.set &&
        cg_put(dir, "memory.oom_control", r->memory.disable_oom_killer.v ? "1" : "0",
               F_MEM ".disableOOMKiller", err) < 0)
        return -1;
    if (has_tcp && cg_put_i64(dir, "memory.kmem.tcp.limit_in_bytes",
                              r->memory.kernel_tcp.v < 0 ? -1 : r->memory.kernel_tcp.v,
                              F_MEM ".kernelTCP", err) < 0)
        return -1;
    return 0;
}

static int v1_cpu(const struct layout *l, const char *path, const struct spec_resources *r,
                  cerr_t *err)
{
    bool has_shares = r->cpu.shares.set && r->cpu.shares.v != 0;
    bool has_period = r->cpu.period.set && r->cpu.period.v != 0;
    bool has_quota = r->cpu.quota.set && r->cpu.quota.v != 0;
    bool has_rtp = r->cpu.realtime_period.set && r->cpu.realtime_period.v != 0;
    bool has_rtr = r->cpu.realtime_runtime.set && r->cpu.realtime_runtime.v != 0;
    if (has_shares || has_period || has_quota || has_rtp || has_rtr || r->cpu.idle.set) {
        autofree char *dir = v1_dir(l, C_CPU, path, F_CPU, err);
        if (dir == NULL)
            return -1;
        int64_t quota = r->cpu.quota.v < 0 ? -1 : r->cpu.quota.v;
        if (has_shares && cg_put_u64(dir, "cpu.shares", r->cpu.shares.v, F_CPU ".shares", err) < 0)
            return -1;
        if (has_period) {
            /* Period first; a smaller period can be refused (EINVAL) while the old quota
             * would then exceed the parent's: set the quota first and retry. */
            cerr_t e = NULL;
            if (cg_put_u64(dir, "cpu.cfs_period_us", r->cpu.period.v, F_CPU ".period", &e) < 0) {
                bool retry = has_quota && e->errnum == EINVAL;
                if (!retry)
                    return cg_take_err(err, &e);
                cerr_free(&e);
                if (cg_put_i64(dir, "cpu.cfs_quota_us", quota, F_CPU ".quota", err) < 0 ||
                    cg_put_u64(dir, "cpu.cfs_period_us", r->cpu.period.v, F_CPU ".period", err) < 0)
                    return -1;
            }
        }
        if (has_quota && cg_put_i64(dir, "cpu.cfs_quota_us", quota, F_CPU ".quota", err) < 0)
            return -1;
        if (has_rtp && cg_put_u64(dir, "cpu.rt_period_us", r->cpu.realtime_period.v,
                                  F_CPU ".realtimePeriod", err) < 0)
            return -1;
        if (has_rtr && cg_put_i64(dir, "cpu.rt_runtime_us", r->cpu.realtime_runtime.v,
                                  F_CPU ".realtimeRuntime", err) < 0)
            return -1;
        if (r->cpu.idle.set && cg_put_i64(dir, "cpu.idle", r->cpu.idle.v, F_CPU ".idle", err) < 0)
            return -1;
    }
    bool has_cpus = r->cpu.cpus && r->cpu.cpus[0], has_mems = r->cpu.mems && r->cpu.mems[0];
    if (has_cpus || has_mems) {
        autofree char *dir = v1_dir(l, C_CPUSET, path, F_CPU, err);
        if (dir == NULL)
            return -1;
        if (has_cpus && cg_put(dir, "cpuset.cpus", r->cpu.cpus, F_CPU ".cpus", err) < 0)
            return -1;
        if (has_mems && cg_put(dir, "cpuset.mems", r->cpu.mems, F_CPU ".mems", err) < 0)
            return -1;
    }
    return 0;
}

static int v1_pids_blkio(const struct layout *l, const char *path, const struct spec_resources *r,
                         cerr_t *err)
{
    if (r->pids.limit.set) {
        autofree char *dir = v1_dir(l, C_PIDS, path, "linux.resources.pids", err);
        if (dir == NULL)
            return -1;
        /* limit <= 0 means unlimited, as with runc. */
        int rc =
            r->pids.limit.v > 0
                ? cg_put_i64(dir, "pids.max", r->pids.limit.v, "linux.resources.pids.limit", err)
                : cg_put(dir, "pids.max", "max", "linux.resources.pids.limit", err);
        if (rc < 0)
            return -1;
    }
    if (r->blkio.weight.set && r->blkio.weight.v != 0) {
        autofree char *dir = v1_dir(l, C_BLKIO, path, "linux.resources.blockIO", err);
        if (dir == NULL)
            return -1;
        /* BFQ's knob when present, else CFQ's: a weight that cannot be applied is an error. */
        const char *file = cg_exists(dir, "blkio.bfq.weight") ? "blkio.bfq.weight" : "blkio.weight";
        if (cg_put_u64(dir, file, r->blkio.weight.v, "linux.resources.blockIO.weight", err) < 0)
            return -1;
    }
    return 0;
}

/* hugepageLimits when hugetlb is a v1 hierarchy (else common.c uses v2);
 * network: net_cls and net_prio exist on v1 only. */
static int v1_hugetlb_net(const struct layout *l, const char *path, const struct spec_resources *r,
                          cerr_t *err)
{
    if (r->n_hugepages > 0 && cg_hier_v1(l, C_HUGETLB) != NULL) {
        autofree char *dir = v1_dir(l, C_HUGETLB, path, "linux.resources.hugepageLimits", err);
        for (size_t i = 0; i < r->n_hugepages; i++) {
            autofree char *file = xasprintf("hugetlb.%s.limit_in_bytes", r->hugepages[i].page_size);
            autofree char *field = xasprintf("linux.resources.hugepageLimits[%zu]", i);
            if (cg_put_u64(dir, file, r->hugepages[i].limit, field, err) < 0)
                return -1;
        }
    }
    if (r->network.class_id.set) {
        const char *field = "linux.resources.network.classID";
        autofree char *dir = v1_dir(l, C_NET_CLS, path, field, err);
        if (dir == NULL ||
            cg_put_u64(dir, "net_cls.classid", r->network.class_id.v, field, err) < 0)
            return -1;
    }
    for (size_t i = 0; i < r->network.n_priorities; i++) {
        autofree char *field = xasprintf("linux.resources.network.priorities[%zu]", i);
        autofree char *dir = v1_dir(l, C_NET_PRIO, path, field, err);
        autofree char *line = xasprintf("%s %" PRIu32, r->network.priorities[i].name,
                                        r->network.priorities[i].priority);
        if (dir == NULL || cg_put(dir, "net_prio.ifpriomap", line, field, err) < 0)
            return -1;
    }
    return 0;
}

int cgv1_apply(const struct layout *l, const char *path, const struct spec_resources *r,
               cerr_t *err)
{
    return v1_memory(l, path, r, err) < 0 || v1_cpu(l, path, r, err) < 0 ||
                   v1_pids_blkio(l, path, r, err) < 0 || v1_hugetlb_net(l, path, r, err) < 0
               ? -1
               : 0;
}

static void dev_num(char *b, size_t n, int64_t v)
{
    if (v < 0)
        snprintf(b, n, "*");
    else
        snprintf(b, n, "%" PRId64, v);
}

int cgv1_devices(const struct layout *l, const char *path, const struct spec_resources *r,
                 cerr_t *err)
{
    size_t nrules = r ? r->n_devices : 0;
    if (cg_hier_v1(l, C_DEVICES) == NULL && nrules == 0)
        return 0;
    autofree char *dir = v1_dir(l, C_DEVICES, path, "linux.resources.devices", err);
    if (dir == NULL)
        return -1;
    if (cg_put(dir, "devices.deny", "a", "linux.resources.devices", err) < 0)
        return -1;
    /* The spec's rules, then the defaults every container gets. */
    for (size_t i = 0; i < nrules + n_device_defaults; i++) {
        const struct spec_dev_cgroup *d =
            i < nrules ? &r->devices[i] : &device_defaults[i - nrules];
        char field[64], maj[24], min[24];
        if (i < nrules)
            snprintf(field, sizeof(field), "linux.resources.devices[%zu]", i);
        else
            snprintf(field, sizeof(field), "default device rules");
        const char *access = d->access && d->access[0] ? d->access : "rwm";
        if (strspn(access, "rwm") != strlen(access))
            return cerr_set(err, 0, "%s.access: `%s` is not made of r, w, m", field, access);
        autofree char *rule = NULL;
        if (d->type == 'a') {
            rule = xstrdup("a");
        } else if (d->type == 'b' || d->type == 'c') {
            dev_num(maj, sizeof(maj), d->major);
            dev_num(min, sizeof(min), d->minor);
            rule = xasprintf("%c %s:%s %s", d->type, maj, min, access);
        } else {
            return cerr_set(err, 0, "%s.type: `%c` is not a, b or c", field, d->type);
        }
        if (cg_put(dir, d->allow ? "devices.allow" : "devices.deny", rule, field, err) < 0)
            return -1;
    }
    return 0;
}

/* No task can join a new cpuset until its cpus and mems are set. */
int cgv1_cpuset_inherit(const char *dir, cerr_t *err)
{
    static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
    autofree char *parent = xstrdup(dir);
    *strrchr(parent, '/') = '\0';
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        autofree char *cur = cg_get(dir, files[i], err);
        if (cur == NULL)
            return -1;
        if (cur[0] != '\0')
            continue;
        autofree char *pv = cg_get(parent, files[i], err);
        if (pv == NULL || cg_put(dir, files[i], pv, NULL, err) < 0)
            return -1;
    }
    return 0;
}

int cgv1_freeze(const char *dir, bool freeze, cerr_t *err)
{
    const char *want = freeze ? "FROZEN" : "THAWED";
    if (cg_put(dir, "freezer.state", want, NULL, err) < 0)
        return -1;
    unsigned long long start = now_ns();
    for (unsigned round = 1;; round++) {
        autofree char *state = cg_get(dir, "freezer.state", err);
        if (state == NULL)
            return -1;
        if (strcmp(state, want) == 0)
            return 0;
        if (cg_ms_since(start) >= FREEZE_TIMEOUT_MS) {
            if (freeze) {
                cerr_t ignored = NULL;
                cg_put(dir, "freezer.state", "THAWED", NULL, &ignored);
                cerr_free(&ignored);
            }
            return cerr_set(err, 0, "%s `%s`: still %s after %d ms", freeze ? "freeze" : "thaw",
                            dir, state, FREEZE_TIMEOUT_MS);
        }
        /* A task stuck in FREEZING may need the request again. */
        if (round % 50 == 0 && cg_put(dir, "freezer.state", want, NULL, err) < 0)
            return -1;
        cg_sleep_ms(round < 10 ? 1 : 10);
    }
}

/* ---- statistics ---- */

/* A list of numbers ("1 2 3") as a JSON array. */
static json_t *number_list(const char *text)
{
    json_t *a = json_array();
    for (const char *p = text; p && *p;) {
        char *end;
        unsigned long long v = strtoull(p, &end, 10);
        if (end == p)
            break;
        json_array_append_new(a, json_integer((json_int_t)v));
        p = end;
    }
    return a;
}

static void v1_cpu_stats(const char *acct, const char *cpu, json_t *d)
{
    json_t *usage = cg_stat_obj(cg_stat_obj(d, "cpu"), "usage");
    unsigned long long v;
    if (acct != NULL) {
        if (cg_stat_read(acct, "cpuacct.usage", &v))
            cg_stat_set(usage, "total", v, true);
        autofree char *percpu = cg_get(acct, "cpuacct.usage_percpu", NULL);
        if (percpu != NULL && percpu[0] != '\0')
            json_object_set_new(usage, "percpu", number_list(percpu));
        /* "cpu user system" then one line per cpu. */
        autofree char *all = cg_get(acct, "cpuacct.usage_all", NULL);
        json_t *kern = json_array(), *user = json_array();
        for (char *save = NULL, *line = all ? strtok_r(all, "\n", &save) : NULL; line;
             line = strtok_r(NULL, "\n", &save)) {
            unsigned c;
            unsigned long long u, s;
            if (sscanf(line, "%u %llu %llu", &c, &u, &s) == 3) {
                json_array_append_new(kern, json_integer((json_int_t)s));
                json_array_append_new(user, json_integer((json_int_t)u));
            }
        }
        json_object_set_new(usage, "percpu_kernel", kern);
        json_object_set_new(usage, "percpu_user", user);
        if (json_array_size(kern) == 0) {
            json_object_del(usage, "percpu_kernel");
            json_object_del(usage, "percpu_user");
        }
    }
    /* cpuacct.stat counts clock ticks; runc reports nanoseconds. */
    autofree char *st = acct ? cg_get(acct, "cpuacct.stat", NULL) : NULL;
    long hz = sysconf(_SC_CLK_TCK);
    long long sys = st ? cg_keyed_value(st, "system") : -1,
              usr = st ? cg_keyed_value(st, "user") : -1;
    cg_stat_set(usage, "kernel",
                sys > 0 && hz > 0 ? (unsigned long long)sys * 1000000000ULL / (unsigned long long)hz
                                  : 0,
                false);
    cg_stat_set(usage, "user",
                usr > 0 && hz > 0 ? (unsigned long long)usr * 1000000000ULL / (unsigned long long)hz
                                  : 0,
                false);
    autofree char *thr = cpu ? cg_get(cpu, "cpu.stat", NULL) : NULL;
    if (thr != NULL) {
        json_t *t = cg_stat_obj(cg_stat_obj(d, "cpu"), "throttling");
        static const char *const keys[][2] = {{"nr_periods", "periods"},
                                              {"nr_throttled", "throttledPeriods"},
                                              {"throttled_time", "throttledTime"}};
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
            long long n = cg_keyed_value(thr, keys[i][0]);
            cg_stat_set(t, keys[i][1], n > 0 ? (unsigned long long)n : 0, true);
        }
    }
}

/* One of memory's entries: PREFIX.{limit_in_bytes,usage_in_bytes,max_usage_in_bytes,failcnt}. */
static void v1_mem_entry(const char *dir, const char *prefix, json_t *mem, const char *key)
{
    json_t *e = cg_stat_obj(mem, key);
    static const char *const files[][2] = {{"limit_in_bytes", "limit"},
                                           {"usage_in_bytes", "usage"},
                                           {"max_usage_in_bytes", "max"},
                                           {"failcnt", "failcnt"}};
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        autofree char *f = xasprintf("%s.%s", prefix, files[i][0]);
        unsigned long long v = 0;
        if (dir != NULL)
            cg_stat_read(dir, f, &v);
        bool always = strcmp(files[i][1], "limit") == 0 || strcmp(files[i][1], "failcnt") == 0;
        cg_stat_set(e, files[i][1], v, !always);
    }
}

static void v1_memory_stats(const char *dir, json_t *d)
{
    json_t *mem = cg_stat_obj(d, "memory");
    json_t *raw = dir ? cg_stat_keyed(dir, "memory.stat") : json_object();
    json_t *cache = json_object_get(raw, "cache");
    cg_stat_set(mem, "cache", cache ? (unsigned long long)json_integer_value(cache) : 0, true);
    v1_mem_entry(dir, "memory", mem, "usage");
    v1_mem_entry(dir, "memory.memsw", mem, "swap");
    v1_mem_entry(dir, "memory.kmem", mem, "kernel");
    v1_mem_entry(dir, "memory.kmem.tcp", mem, "kernelTCP");
    if (json_object_size(raw) > 0)
        json_object_set_new(mem, "raw", raw);
    else
        json_decref(raw);
}

/* "MAJ:MIN Op value" lines (a last "Total value" line is the sum, left out). */
static void v1_blkio_list(const char *dir, const char *file, json_t *blkio, const char *list)
{
    autofree char *text = cg_get(dir, file, NULL);
    for (char *save = NULL, *line = text ? strtok_r(text, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        unsigned maj, min;
        char op[32];
        unsigned long long v;
        if (sscanf(line, "%u:%u %31s %llu", &maj, &min, op, &v) == 4)
            cg_stat_blkio(blkio, list, maj, min, op, v);
    }
}

int cgv1_stats(const struct layout *l, const char *path, json_t *d, cerr_t *err)
{
    const struct hier *acct = cg_hier_v1(l, C_CPUACCT), *cpu = cg_hier_v1(l, C_CPU),
                      *mem = cg_hier_v1(l, C_MEMORY), *pids = cg_hier_v1(l, C_PIDS),
                      *blk = cg_hier_v1(l, C_BLKIO);
    autofree char *acct_dir = acct ? xasprintf("%s%s", acct->mnt, path) : NULL;
    autofree char *cpu_dir = cpu ? xasprintf("%s%s", cpu->mnt, path) : NULL;
    autofree char *mem_dir = mem ? xasprintf("%s%s", mem->mnt, path) : NULL;
    autofree char *pids_dir = pids ? xasprintf("%s%s", pids->mnt, path) : NULL;
    autofree char *blk_dir = blk ? xasprintf("%s%s", blk->mnt, path) : NULL;
    autofree char *any = xasprintf("%s%s", l->h[0].mnt, path);
    if (access(any, F_OK) < 0)
        return cerr_set(err, errno, "cgroup `%s`", any);
    v1_cpu_stats(acct_dir, cpu_dir, d);
    const struct hier *cs = cg_hier_v1(l, C_CPUSET);
    if (cs != NULL) {
        autofree char *cs_dir = xasprintf("%s%s", cs->mnt, path);
        cg_stat_cpuset(d, cs_dir);
    }
    v1_memory_stats(mem_dir, d);
    json_t *p = cg_stat_obj(d, "pids");
    unsigned long long v;
    if (pids_dir && cg_stat_read(pids_dir, "pids.current", &v))
        cg_stat_set(p, "current", v, true);
    /* "max" (no limit) is reported as 0, as runc does. */
    if (pids_dir && cg_stat_read(pids_dir, "pids.max", &v))
        cg_stat_set(p, "limit", v == UINT64_MAX ? 0 : v, true);
    if (blk_dir != NULL) {
        json_t *b = cg_stat_obj(d, "blkio");
        /* BFQ's counters when the scheduler has them, else the throttle layer's. */
        bool bfq = cg_exists(blk_dir, "blkio.bfq.io_service_bytes_recursive");
        v1_blkio_list(blk_dir,
                      bfq ? "blkio.bfq.io_service_bytes_recursive"
                          : "blkio.throttle.io_service_bytes_recursive",
                      b, "ioServiceBytesRecursive");
        v1_blkio_list(blk_dir,
                      bfq ? "blkio.bfq.io_serviced_recursive"
                          : "blkio.throttle.io_serviced_recursive",
                      b, "ioServicedRecursive");
    }
    return 0;
}
