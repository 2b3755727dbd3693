/* The state directory of one container: ROOT/ID/ holding state.json (what
 * `state` reports plus what cella needs to manage the container later) and a
 * copy of config.json. The directory itself is the per-container lock. */
#ifndef CELLA_STATE_H
#define CELLA_STATE_H

#include <stdbool.h>
#include <sys/types.h>

#include "core/error.h"

enum cstatus { ST_CREATING, ST_CREATED, ST_RUNNING, ST_PAUSED, ST_STOPPED };

struct cstate {
    char *id;
    char *bundle;
    char *rootfs;
    char *level;
    enum cstatus status; /* as recorded; see state_refresh for the live value */
    pid_t pid;
    unsigned long long start_time; /* of pid, guards against pid reuse */
    char *created;                 /* RFC 3339 */
    char *owner;
    char *cgroup;        /* cgroup path relative to each hierarchy root */
    char *notify_socket; /* NOTIFY_SOCKET given to create: start proxies READY=1 to it */
    bool systemd_cgroup;
    bool cgroup_shared; /* the cgroup held other processes at create (runc 1.1 allows it) */
    char **annotations; /* key, value, key, value, ..., NULL */
    char **extra;       /* level-specific annotations reported by `state` */
};

const char *cstatus_name(enum cstatus s);

/* Validate a container id: [A-Za-z0-9][A-Za-z0-9_.+-]*, no path separators. */
int state_check_id(const char *id, cerr_t *err);

/* Create ROOT/ID exclusively and lock it. Returns the directory fd. */
int state_dir_create(const char *root, const char *id, cerr_t *err);
/* Open and lock an existing ROOT/ID ("container `ID` does not exist"). */
int state_dir_open(const char *root, const char *id, cerr_t *err);
/* Open it without the lock, to read: state.json is replaced atomically, so
 * `state`, `list` and `ps` never wait for a create or start in progress. */
int state_dir_peek(const char *root, const char *id, cerr_t *err);
/* Release the lock of state_dir_open / state_dir_create; the fd stays open. */
void state_dir_unlock(int dirfd);
/* Remove ROOT/ID (the caller holds the lock through dirfd). */
/* A state directory without state.json, left by a create killed before it
 * wrote one (no command sees such a container): removed once its lock shows
 * that no create is still at work in it. 1 when one was removed, else 0. */
int state_dir_remove_unborn(const char *root, const char *id);
int state_dir_remove(const char *root, const char *id, int dirfd);

int state_save(int dirfd, const struct cstate *st, cerr_t *err);
struct cstate *state_load(int dirfd, const char *id, cerr_t *err);
/* state_load's parser of a state.json text (untrusted: the file is on disk). */
struct cstate *state_parse(const char *text, size_t len, const char *id, cerr_t *err);
void state_free(struct cstate *st);
/* Status derived from the live process: stopped when it is gone. The level
 * may refine it (paused). */
enum cstatus state_live_status(const struct cstate *st);
/* The state JSON of `state`: runtime-spec "State" plus runc's rootfs, created, owner. */
char *state_to_oci_json(const struct cstate *st, enum cstatus status, bool pretty);
/* What hooks read on stdin: the runtime-spec "State" alone (ociVersion, id,
 * status, pid but once stopped, bundle, annotations), as runc passes it. */
char *state_hook_json(const struct cstate *st, enum cstatus status);

/* List the ids under root; NULL-terminated, caller frees each and the array. */
char **state_list_ids(const char *root, cerr_t *err);

#endif
