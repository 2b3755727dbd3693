/* Pieces of the container level shared between its files. */
#ifndef CELLA_CONTAINER_H
#define CELLA_CONTAINER_H

#include "level/container/process.h"
#include "level/level.h"

/* The container level's operations, also used by levels whose workload runs
 * inside a container (wasm). create with `hooks` NULL execs process.args[0];
 * otherwise the level's hooks run in the container's init (process.h). */
int container_check(const struct spec *s, const struct create_opts *o, cerr_t *err);
int container_create(struct container *c, const struct create_opts *o,
                     const struct level_hooks *hooks, cerr_t *err);
int container_start(struct container *c, cerr_t *err);
int container_await_ready(struct container *c, cerr_t *err);
int container_kill(struct container *c, int sig, bool all, cerr_t *err);
int container_destroy(struct container *c, cerr_t *err);
int container_pause(struct container *c, cerr_t *err);
int container_resume(struct container *c, cerr_t *err);
bool container_paused(struct container *c);
int container_update(struct container *c, const struct spec_resources *r, cerr_t *err);
int container_pids(struct container *c, pid_t **pids, size_t *n, cerr_t *err);
/* The operations of the container level a level that runs inside a
 * container shares: all but check, create and exec. exec is left out on
 * purpose: such a level states its own (container_exec runs a native
 * process in the container's namespaces, which would bypass a level that
 * puts its own kernel between the workload and the host). */
#define CONTAINER_LEVEL_OPS                                                                        \
    .start = container_start, .await_ready = container_await_ready, .kill = container_kill,        \
    .destroy = container_destroy, .pause = container_pause, .resume = container_resume,            \
    .paused = container_paused, .update = container_update, .pids = container_pids

/* A process entering the container's namespaces and cgroup. Refused for a
 * container whose level has an exec of its own. */
int container_exec(struct container *c, const struct exec_opts *o, int *status, cerr_t *err);

/* linux.seccomp.listenerPath: connect to the agent (before anything starts,
 * so that a missing agent changes nothing), and send it a process's
 * listener with the "container process state" of the runtime-spec, as runc
 * and crun do: for the init at start, for each exec'd process. */
int container_seccomp_agent(const struct spec_seccomp *sc, cerr_t *err);
int container_seccomp_send(struct container *c, int agent, int listener, pid_t pid,
                           enum cstatus status, cerr_t *err);

#endif
