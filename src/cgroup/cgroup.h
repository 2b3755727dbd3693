/* cgroups, shared by every level: cgroup v1 (legacy), hybrid (v1
 * controllers plus an empty v2 tree at /sys/fs/cgroup/unified) and v2
 * (unified). A container's cgroup is named by one path relative to each
 * hierarchy's root (e.g. "/ID"), stored in state.json.
 * common.c: layout and what every kind shares; v1.c, v2.c: each kind's
 * resources and freezer; path.c: naming; devices*.c: device rules. */
#ifndef CELLA_CGROUP_H
#define CELLA_CGROUP_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "core/error.h"
#include "oci/spec.h"

enum cgroup_mode { CGROUP_V1, CGROUP_HYBRID, CGROUP_V2 };

/* Detected once per process from the mounts under /sys/fs/cgroup. */
enum cgroup_mode cgroup_mode(void);
const char *cgroup_mode_name(enum cgroup_mode m);

/* The cgroup path for a container: linux.cgroupsPath when given (absolute,
 * relative to the hierarchy root; relative, under the root; with systemd, the
 * "slice:prefix:name" form mapped to /slice/prefix-name.scope), else /ID.
 * Returned string is malloc'd. */
char *cgroup_path_for(const char *cgroups_path, const char *id, bool systemd, cerr_t *err);

/* Create the cgroup in every hierarchy cella uses, apply `r` (may be NULL or
 * !present), and move `pid` into it (pid 0: don't move). On failure nothing is
 * left behind. */
int cgroup_create(const char *path, const struct spec_resources *r, pid_t pid, cerr_t *err);
/* For a cgroup that may exist before create (linux.cgroupsPath): fails when
 * it is frozen (the container would stop in it for good); warns, as runc 1.1,
 * when it holds processes, and returns 1 then (0 when empty or missing). */
int cgroup_check_existing(const char *path, cerr_t *err);
/* Refuse what R asks that this host has no controller for (hugetlb,
 * net_cls, net_prio, unified on a non-v2 host, ...), naming the field and
 * the controller: called by a level's check, before anything is made. */
int cgroup_check_resources(const struct spec_resources *r, cerr_t *err);
/* Move pid into an existing cgroup (exec). */
int cgroup_enter(const char *path, pid_t pid, cerr_t *err);
/* The same in two halves, for a container's process: it moves itself into
 * the v1 hierarchies (the caller must be single-threaded; no RCU grace
 * period, unlike cgroup_enter), and is put into the v2 one by clone3's
 * CLONE_INTO_CGROUP with the directory cgroup_open_v2 opened (-1 without
 * a v2 hierarchy), or else by cgroup_enter_v2 (nothing without one). */
int cgroup_enter_self_v1(const char *path, cerr_t *err);
int cgroup_open_v2(const char *path);
int cgroup_enter_v2(const char *path, pid_t pid, cerr_t *err);
/* Apply resources to an existing cgroup (update). Only fields that are set. */
int cgroup_apply(const char *path, const struct spec_resources *r, cerr_t *err);
/* Remove the cgroup from every hierarchy; processes left inside are killed
 * with SIGKILL first. Missing cgroups are not an error. */
int cgroup_destroy(const char *path, cerr_t *err);
/* For a cgroup that held other processes before create: remove it (and its
 * sub-cgroups) from the hierarchies where nothing runs in it any more; where
 * processes remain, it stays. Kills nothing. */
int cgroup_release_shared(const char *path, cerr_t *err);
/* Every pid in the cgroup (recursively), from the pids or first v1 hierarchy
 * or from v2. Caller frees *pids. */
int cgroup_pids(const char *path, pid_t **pids, size_t *n, cerr_t *err);
int cgroup_kill_all(const char *path, int sig, cerr_t *err);
/* Freeze / thaw (v1 freezer or v2 cgroup.freeze); waits until it took effect. */
int cgroup_freeze(const char *path, bool freeze, cerr_t *err);
bool cgroup_is_frozen(const char *path);
/* The cgroup's statistics as runc's `events` prints them in "data" (cpu,
 * memory, pids, blkio, ...): what the host has files for. */
json_t *cgroup_stats(const char *path, cerr_t *err);
/* How many processes the OOM killer killed in the cgroup (-1: unknown). */
long long cgroup_oom_kills(const char *path);

#endif
