/* Turning the current process into the container's process: rlimits, user,
 * capabilities, no_new_privs, seccomp, cwd, environment and execve. Shared by
 * the container's init and by `exec`. */
#ifndef CELLA_PROCESS_H
#define CELLA_PROCESS_H

#include <stdbool.h>

#include "core/error.h"
#include "level/container/caps.h"
#include "level/container/seccomp.h"
#include "oci/spec.h"

/* Where args[0] is looked for when process.env has no PATH. */
#define PROC_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct proc_plan;
/* What replaces execve for a level that runs the workload in-process (the
 * wasm engine). Returns only on failure, before the point of no return. */
typedef int (*proc_run_fn)(const struct proc_plan *plan, cerr_t *err);

/* What a level built on the container level puts into the container's init
 * (container_create). NULL members: the container level's own behaviour. */
struct level_hooks {
    /* In the init, after namespaces, mounts, pivot_root and the process
     * plan, with the init's full privileges (root, every capability, no
     * seccomp filter, no rlimits), before rlimits, groups, uid, capabilities
     * and seccomp are applied to it: for what the level does on the
     * workload's behalf that the workload itself may not (its own kernel
     * in the container's namespaces; the wasm level binds the sockets of
     * its annotation). May keep what it made in plan->level_state for run.
     * Fails as create's error. */
    int (*pre_creds)(struct proc_plan *plan, cerr_t *err);
    /* Replaces execve once credentials, capabilities and seccomp are in
     * place. */
    proc_run_fn run;
};

struct proc_plan {
    const struct spec_process *p;
    const struct spec *spec; /* the whole config, for a run function */
    proc_run_fn run;         /* NULL: execve */
    struct caps_set caps;
    struct seccomp_prog seccomp; /* len 0: none */
    bool has_seccomp;
    char *exe;         /* resolved args[0] */
    char **envp;       /* env, with HOME and PATH defaults added */
    bool keep_groups;  /* run.oci.keep_original_groups: no setgroups */
    int listener_sock; /* where the seccomp listener fd goes (SCM_RIGHTS), -1: none */
    void *level_state; /* set by level_hooks.pre_creds, for run */
    /* Run under the final credentials and seccomp filter, right before
     * execve (the startContainer hooks), or NULL. */
    int (*before_exec)(const struct proc_plan *plan, cerr_t *err);
    const char *state_json; /* for before_exec */
};

/* Check and precompute everything that can fail before the point of no
 * return: capability names, seccomp filter, the executable (resolved in the
 * current root, so call it after pivot_root / setns). */
int proc_plan_make(const struct spec_process *p, const struct spec_seccomp *sc, proc_run_fn run,
                   struct proc_plan *plan, cerr_t *err);
/* Add or replace NAME=VALUE in the process environment. */
void proc_plan_setenv(struct proc_plan *plan, const char *kv);

/* Before the user switch: rlimits, oom score, bounding set, cwd creation. */
int proc_apply_privileged(const struct proc_plan *plan, cerr_t *err);
/* linux.personality (the execution domain), inherited by what the process
 * execs and by its children. */
/* linux.memoryPolicy: set_mempolicy(2), kept across execve. */
int proc_apply_mempolicy(const struct spec_linux *l, cerr_t *err);
int proc_apply_personality(const struct spec_linux *l, cerr_t *err);
/* Groups, gid, uid (keeping capabilities), then capability sets and umask. */
int proc_apply_user(const struct proc_plan *plan, cerr_t *err);
/* no_new_privs and seccomp, chdir, then execve (or plan->run). Returns only
 * on failure. */
int proc_exec(const struct proc_plan *plan, cerr_t *err);

/* Set up the terminal: a new pty from the container's /dev/ptmx, master sent
 * over `sock` (SCM_RIGHTS), slave made the controlling terminal and stdio. */
int proc_setup_terminal(const struct spec_process *p, int sock, cerr_t *err);
/* Send / receive one fd over a unix socket. */
int send_fd(int sock, int fd, cerr_t *err);
int recv_fd(int sock, cerr_t *err);

#endif
