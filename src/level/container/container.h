/* Pieces of the container level shared between its files. */
#ifndef CELLA_CONTAINER_H
#define CELLA_CONTAINER_H

#include "level/container/process.h"
#include "level/level.h"

/* The container level's operations, also used by levels whose workload runs
 * inside a container (wasm). create with `run` NULL execs process.args[0];
 * otherwise `run` replaces execve once namespaces, mounts, cgroup,
 * credentials, capabilities and seccomp are in place. */
int container_create(struct container *c, const struct create_opts *o, proc_run_fn run,
                     cerr_t *err);
int container_start(struct container *c, cerr_t *err);
int container_await_ready(struct container *c, cerr_t *err);
int container_kill(struct container *c, int sig, bool all, cerr_t *err);
int container_destroy(struct container *c, cerr_t *err);
int container_pause(struct container *c, cerr_t *err);
int container_resume(struct container *c, cerr_t *err);
bool container_paused(struct container *c);
int container_update(struct container *c, const struct spec_resources *r, cerr_t *err);
int container_pids(struct container *c, pid_t **pids, size_t *n, cerr_t *err);
/* Every operation of the container level but create, for the ops table of
 * a level that runs inside a container. */
#define CONTAINER_LEVEL_OPS                                                                        \
    .start = container_start, .await_ready = container_await_ready, .kill = container_kill,        \
    .destroy = container_destroy, .exec = container_exec, .pause = container_pause,                \
    .resume = container_resume, .paused = container_paused, .update = container_update,            \
    .pids = container_pids

int container_exec(struct container *c, const struct exec_opts *o, int *status, cerr_t *err);

#endif
