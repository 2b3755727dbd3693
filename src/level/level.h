/* The interface every isolation level implements. The OCI layer (CLI, state,
 * locking, hooks, lifecycle in core/) is written once against it; a level only
 * knows how to make, run and remove its kind of workload. */
#ifndef CELLA_LEVEL_H
#define CELLA_LEVEL_H

#include <stdbool.h>
#include <sys/types.h>

#include "core/error.h"
#include "core/state.h"
#include "oci/spec.h"

struct globals {
    const char *root;
    const char *log_file;
    bool log_json;
    bool debug;
    bool systemd_cgroup;
    const char *isolation; /* --isolation, or from argv[0] */
    const char *isolation_origin;
};

struct create_opts {
    const char *bundle; /* absolute */
    const char *config; /* --config, relative to the bundle (default config.json) */
    const char *pid_file;
    const char *console_socket;
    int preserve_fds;
    bool no_pivot;
    bool no_new_keyring;
    bool foreground; /* `run` without --detach: keep stdio, wait */
    bool keep;       /* foreground `run --keep`: the stopped container stays for `delete` */
    /* foreground with process.terminal and no console socket: receives the
     * pty master, which `run` then proxies to its own stdio (as runc). */
    int *console_master;
};

struct exec_opts {
    struct spec_process *process; /* the full process to run */
    const char *console_socket;
    const char *pid_file;
    int preserve_fds;
    bool detach;
    bool no_new_privs_set; /* --no-new-privs given */
};

/* One container being operated on, with its state directory locked. */
struct container {
    const struct globals *g;
    char *id;
    int dirfd;                   /* ROOT/ID, locked */
    struct spec *spec;           /* config.json of the container */
    struct cstate *st;           /* state.json */
    const struct level_ops *ops; /* the level that made it */
    int ready_fd;                /* set by start when the workload will say it is ready, else -1 */
};

struct json_t;

struct level_ops {
    const char *name;
    const char *summary;
    /* Optional. The bundle is of this level's kind whatever the options (a
     * WebAssembly module for wasm): where that came from ("process.args[0]
     * (a .wasm module)"), else NULL. Asked by level_for_spec when neither
     * the annotation nor --isolation chose a level, in table order. */
    const char *(*detect)(const struct spec *s);
    /* Optional. Add the level's entries to the `annotations` object of
     * `cella features`: the config annotations it reads ("run.cella.LEVEL.*"
     * with their syntax) and what it can say about itself. */
    void (*features)(struct json_t *annotations);
    /* Refuse a bundle the level cannot run before anything exists: called by
     * create once config.json is parsed and the level chosen, before the
     * state directory, cgroup or any process is made. Only reads the spec,
     * the create options and the host (programs, files): makes nothing.
     * NULL: nothing to refuse up front. */
    int (*check)(const struct spec *s, const struct create_opts *o, cerr_t *err);
    /* Make the workload and leave it waiting before the user process. Fills
     * c->st->pid and start_time. Runs prestart/createRuntime/createContainer hooks. */
    int (*create)(struct container *c, const struct create_opts *o, cerr_t *err);
    /* Release the waiting workload (runs startContainer hooks). */
    int (*start)(struct container *c, cerr_t *err);
    /* After start, without the lock held: wait until the workload says it is
     * ready (sd_notify READY=1) when start set c->ready_fd. May be NULL. */
    int (*await_ready)(struct container *c, cerr_t *err);
    int (*kill)(struct container *c, int sig, bool all, cerr_t *err);
    /* Remove everything the level made; the workload is killed if alive. */
    int (*destroy)(struct container *c, cerr_t *err);
    /* Run an extra process; returns its exit status when not detached.
     * Called by lc_exec, the one place of its lock contract
     * (docs/levels.md): the container was found created or running with
     * the lock held, then the lock was released; c->dirfd is open but
     * unlocked, c->st and c->spec are the state read under the lock. The
     * level neither re-locks nor re-checks the status; it must fail cleanly
     * (one line) when the workload has ended meanwhile. NULL: the level
     * has no exec (refused). A level built from the container level's
     * pieces states its exec: CONTAINER_LEVEL_OPS leaves it out. */
    int (*exec)(struct container *c, const struct exec_opts *o, int *status, cerr_t *err);
    int (*pause)(struct container *c, cerr_t *err);
    int (*resume)(struct container *c, cerr_t *err);
    /* True when the workload is frozen. */
    bool (*paused)(struct container *c);
    int (*update)(struct container *c, const struct spec_resources *r, cerr_t *err);
    /* Host pids of every process of the container. */
    int (*pids)(struct container *c, pid_t **pids, size_t *n, cerr_t *err);
};

/* Every level cella knows; a level not yet built has ops == NULL. */
struct level_entry {
    const char *name;
    const struct level_ops *ops;
    const char *planned; /* why it is not available yet */
};

const struct level_entry *level_table(size_t *n);
/* Resolve a level by name ("unknown isolation level", "not yet built"). */
const struct level_ops *level_find(const char *name, const char *origin, cerr_t *err);
/* The level for a bundle: annotation run.cella.isolation, then --isolation /
 * argv[0], then the first level whose detect() claims the bundle (wasm: a
 * WebAssembly module), then the default (container). */
const struct level_ops *level_for_spec(const struct spec *s, const struct globals *g, cerr_t *err);

/* root.path resolved against the bundle (absolute, real; malloc'd), or NULL. */
char *level_rootfs_path(const struct spec *s, const char *bundle, cerr_t *err);
/* The same into c->st->rootfs. */
int level_resolve_rootfs(struct container *c, const char *bundle, cerr_t *err);

extern const struct level_ops container_level;
extern const struct level_ops wasm_level;
extern const struct level_ops qemu_level;
extern const struct level_ops sandbox_level;
extern const struct level_ops vm_level;

#endif
