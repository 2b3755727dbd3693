/* What the files of src/cgroup share and no level sees: the host's layout of
 * hierarchies, reading and writing cgroup files, and the parts each hierarchy
 * kind implements (v1.c, v2.c). */
#ifndef CELLA_CGROUP_INTERNAL_H
#define CELLA_CGROUP_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "cgroup/cgroup.h"

#define F_MEM "linux.resources.memory"
#define F_CPU "linux.resources.cpu"
/* How long freezing or thawing may take before it is an error. */
#define FREEZE_TIMEOUT_MS 5000

/* The v1 controllers cella uses, and name=systemd. */
enum ctrl {
    C_CPU,
    C_CPUACCT,
    C_CPUSET,
    C_MEMORY,
    C_PIDS,
    C_DEVICES,
    C_FREEZER,
    C_BLKIO,
    C_HUGETLB,
    C_NET_CLS,
    C_NET_PRIO,
    C_SYSTEMD,
    C_COUNT
};

extern const char *const cg_ctrl_names[C_COUNT];

struct hier {
    char mnt[PATH_MAX]; /* mount point, no trailing slash */
    unsigned mask;      /* v1: bits (1 << enum ctrl) bound to this hierarchy */
    bool v2;
};

struct layout {
    enum cgroup_mode mode;
    size_t n;
    struct hier h[C_COUNT + 1];
};

/* The host's layout, detected on first use (common.c). */
const struct layout *cg_layout(void);
const struct hier *cg_hier_v2(const struct layout *l);
const struct hier *cg_hier_v1(const struct layout *l, enum ctrl c);

/* ---- files (common.c) ---- */
void cg_sleep_ms(unsigned ms);
unsigned long long cg_ms_since(unsigned long long start_ns);
/* Move the error E into *ERR (unless *ERR already holds one). Returns -1. */
int cg_take_err(cerr_t *err, cerr_t *e);
bool cg_exists(const char *dir, const char *file);
/* DIR/FILE without trailing whitespace, NULL with *err set on failure. */
char *cg_get(const char *dir, const char *file, cerr_t *err);
/* Write VALUE to DIR/FILE; the error names the file and, when given, the spec field. */
int cg_put(const char *dir, const char *file, const char *value, const char *field, cerr_t *err);
int cg_put_i64(const char *dir, const char *file, int64_t v, const char *field, cerr_t *err);
int cg_put_u64(const char *dir, const char *file, uint64_t v, const char *field, cerr_t *err);
int cg_read_u64(const char *dir, const char *file, unsigned long long *v, cerr_t *err);
/* Whether the whitespace-separated LIST holds WORD. */
bool cg_has_word(const char *list, const char *word);
/* Value of KEY in a flat keyed file ("key value" lines), -1 if absent. */
long long cg_keyed_value(const char *text, const char *key);
/* checkBeforeUpdate: refuse a memory limit below the usage in DIR/FILE. */
int cg_check_usage(const char *dir, const char *file, int64_t limit, cerr_t *err);
/* Empty, "/", "." or "..": not one path component (path.c). */
bool cg_bad_name(const char *s);

/* ---- statistics (stats.c) ---- */
/* PARENT.KEY, made an empty object when absent. */
json_t *cg_stat_obj(json_t *parent, const char *key);
/* O.KEY = V; left out when V is 0 and OMIT_ZERO (Go's omitempty). */
void cg_stat_set(json_t *o, const char *key, unsigned long long v, bool omit_zero);
/* DIR/FILE as a number ("max": UINT64_MAX); false when it cannot be read. */
bool cg_stat_read(const char *dir, const char *file, unsigned long long *v);
/* A flat keyed file ("key value" lines) as an object. */
json_t *cg_stat_keyed(const char *dir, const char *file);
/* Append {major, minor, op, value} to BLKIO.LIST. */
void cg_stat_blkio(json_t *blkio, const char *list, unsigned maj, unsigned min, const char *op,
                   unsigned long long v);

/* D.cpuset from the v1 cpuset cgroup DIR (NULL: zeros). */
void cg_stat_cpuset(json_t *d, const char *dir);

/* ---- cgroup v1 (v1.c) ---- */
/* memory, cpu, cpuset, pids and blkio of R into PATH below each v1 hierarchy. */
int cgv1_apply(const struct layout *l, const char *path, const struct spec_resources *r,
               cerr_t *err);
/* deny-all, then R's device rules (R may be NULL) and the defaults. */
int cgv1_devices(const struct layout *l, const char *path, const struct spec_resources *r,
                 cerr_t *err);
/* A new cpuset has empty cpus and mems: copy them from the parent. */
int cgv1_cpuset_inherit(const char *dir, cerr_t *err);
int cgv1_freeze(const char *dir, bool freeze, cerr_t *err);
/* Fill the stats object D (see cgroup_stats) from the v1 hierarchies. */
int cgv1_stats(const struct layout *l, const char *path, json_t *d, cerr_t *err);

/* ---- what a host can apply (check.c) ---- */
/* Whether the v2 hierarchy's root offers controller CTRL (hybrid: one not bound to v1). */
bool cg_v2_offers(const struct layout *l, const char *ctrl);
/* Every resource of R the host has no controller for, refused naming the field. */
int cg_check_resources(const struct layout *l, const struct spec_resources *r, cerr_t *err);

/* ---- cgroup v2 (v2.c) ---- */
/* memory, cpu, cpuset, pids, io and unified of R into the cgroup directory DIR. */
int cgv2_apply(const char *dir, const struct spec_resources *r, cerr_t *err);
/* hugepageLimits into the cgroup directory DIR (hugetlb.SIZE.max). */
int cgv2_hugetlb(const char *dir, const struct spec_resources *r, cerr_t *err);
/* Enable in DIR's cgroup.subtree_control every controller DIR has. */
int cgv2_enable_controllers(const char *dir, cerr_t *err);
int cgv2_freeze(const char *dir, bool freeze, cerr_t *err);
/* 1 when DIR is frozen, 0 when not, -1 on error. */
int cgv2_frozen(const char *dir, cerr_t *err);
/* Fill the stats object D (see cgroup_stats) from the v2 cgroup DIR. */
int cgv2_stats(const char *dir, json_t *d, cerr_t *err);

#endif
