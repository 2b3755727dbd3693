/* A container's supervisor: the process that holds its workload between
 * cella's short commands and ends as the container's process does — the VM
 * levels' monitor (level/vmhost/monitor.h), the sandbox's kernel next. The
 * workload is then not the child of any cella command, so the lifecycle asks
 * the supervisor: `create --pid-file` names it (what conmon or containerd's
 * shim reaps for the exit status), and a foreground `run` waits through it.
 *
 * It lives in the state directory:
 *   monitor.pid   its pid and start time (written by create)
 *   monitor.sock  its control socket (ctl.h), bound by the supervisor
 *   exit          the container process's exit code, once known: `run`
 *                 reads it when the supervisor has already gone */
#ifndef CELLA_LEVEL_SUPERVISOR_H
#define CELLA_LEVEL_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/error.h"

#define SUPERVISOR_PID_FILE "monitor.pid"
#define SUPERVISOR_SOCK     "monitor.sock"

/* Record pid as the supervisor of the container whose state directory is
 * dirfd. */
int supervisor_record(int dirfd, pid_t pid, cerr_t *err);
/* The container has a supervisor (alive or not). */
bool supervisor_recorded(int dirfd);
/* The supervisor, if it still runs (guarded by its start time), else 0. */
pid_t supervisor_pid(int dirfd);
/* Give the supervisor up to timeout_ms to end (it does once its workload
 * has), then kill it; reaped when it is our child. */
void supervisor_end(pid_t pid, int timeout_ms);

/* The supervisor's side: its listening control socket (-1 with errno), and
 * the exit code it keeps for `run`. */
int supervisor_listen(int dirfd);
int supervisor_save_exit(int dirfd, int code, cerr_t *err);
/* The commands' side: a connection to the control socket; the error keeps
 * connect's errno (ENOENT, ECONNREFUSED: the supervisor has gone). */
int supervisor_connect(int dirfd, cerr_t *err);

/* Wait on sock for CTL_EXIT of process id, passing the signals a foreground
 * command receives (INT, TERM, HUP, QUIT, USR1, USR2) on to that process,
 * as runc's run and exec do. The exit code, or -1 when the supervisor went
 * away without one. */
int supervisor_await_exit(int dirfd, int sock, uint32_t id);
/* Foreground `run`: the exit code of the container's process (128 + signal
 * when killed), from the supervisor or the file it leaves; 128 + SIGKILL
 * when there is none at all (the workload was killed under it). */
int supervisor_wait(int dirfd);

#endif
