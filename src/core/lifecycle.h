/* The OCI lifecycle, written once for every level: locking, state, hooks,
 * status checks and cleanup. The CLI calls these; they call the level. */
#ifndef CELLA_LIFECYCLE_H
#define CELLA_LIFECYCLE_H

#include "level/level.h"

int lc_create(const struct globals *g, const char *id, const struct create_opts *o, cerr_t *err);
int lc_start(const struct globals *g, const char *id, cerr_t *err);
/* create + start; foreground: wait and delete, *status = exit code. */
int lc_run(const struct globals *g, const char *id, const struct create_opts *o, int *status,
           cerr_t *err);
int lc_kill(const struct globals *g, const char *id, int sig, bool all, cerr_t *err);
int lc_delete(const struct globals *g, const char *id, bool force, cerr_t *err);
/* Prints the OCI state JSON. */
int lc_state(const struct globals *g, const char *id, cerr_t *err);
int lc_pause(const struct globals *g, const char *id, bool pause, cerr_t *err);
int lc_update(const struct globals *g, const char *id, const struct spec_resources *r, cerr_t *err);
int lc_pids(const struct globals *g, const char *id, pid_t **pids, size_t *n, cerr_t *err);
/* What `exec` was asked to run: a process file, or args plus overrides of
 * the container's own process (as runc does). */
struct exec_request {
    const char *process_file;
    char **args; /* NULL-terminated */
    char **env;  /* NAME=VALUE, added or replacing */
    char **caps; /* capabilities added */
    const char *cwd;
    const char *user; /* uid[:gid] */
    gid_t *additional_gids;
    size_t n_additional_gids;
    bool tty, tty_set;
    bool detach;
    bool no_new_privs;
    bool ignore_paused; /* --ignore-paused: the process waits until the container is resumed */
    const char *console_socket;
    const char *pid_file;
    int preserve_fds;
};
int lc_exec(const struct globals *g, const char *id, const struct exec_request *rq, int *status,
            cerr_t *err);

/* Open a container (locked) with its state and spec; for list and the CLI. */
int container_open(const struct globals *g, const char *id, struct container *c, cerr_t *err);
/* The same without the lock, for commands that only read (state, list, ps). */
int container_peek(const struct globals *g, const char *id, struct container *c, cerr_t *err);
void container_close(struct container *c);
enum cstatus container_status(struct container *c);

#endif
