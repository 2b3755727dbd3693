/* The control channel between cella's commands and a container's
 * supervisor (supervisor.h; the VM levels' monitor): a stream socket
 * ROOT/ID/monitor.sock carrying frames of the agent protocol
 * (src/proto/protocol.h: the same header and functions) with types of their
 * own, below. An exec request is followed by its stdin, stdout and stderr,
 * one fd per 1-byte message (SCM_RIGHTS). */
#ifndef CELLA_LEVEL_CTL_H
#define CELLA_LEVEL_CTL_H

#include <stdbool.h>

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "proto/protocol.h"

enum ctl_type {
    /* command -> monitor */
    CTL_START = 64,         /* payload: RUN fields of process 0 */
    CTL_EXEC = 65,          /* payload: RUN fields; then the 3 stdio fds */
    CTL_KILL = 66,          /* id: the process; payload: i32 signo, u32 AGENT_SIGNAL_* flags */
    CTL_WAIT = 67,          /* answered by CTL_EXIT once process 0 has exited */
    CTL_EXEC_DETACHED = 68, /* as CTL_EXEC; nobody waits for its CTL_EXIT */
    /* monitor -> command */
    CTL_OK = 80, /* payload: u32 guest pid, u32 process id (START, EXEC), or empty */
    /* payload: one line; after its NUL, optionally a byte: the error's kind
     * (CERR_EXE_MISSING, CERR_EXE_CANNOT_RUN: exec exits 127 / 126) */
    CTL_ERROR = 81,
    CTL_EXIT = 82, /* payload: i32 exit code (as a shell reports it: 128 + signal) */
};

/* One frame: 1 (h filled, *payload malloc'd and NUL-terminated), 0 at the
 * end of the stream, -1 with errno. */
int ctl_recv(int sock, struct agent_hdr *h, uint8_t **payload);
/* The stdio fds that follow an exec request. 0, or -1 (none kept). */
int ctl_send_stdio(int sock, const int fds[3]);
int ctl_recv_stdio(int sock, int fds[3]);

/* Send a request (with stdio, for exec, unless NULL); a monitor gone
 * meanwhile is -1 with errno EPIPE, not a SIGPIPE. */
int ctl_send(int sock, uint16_t type, uint32_t id, const void *payload, size_t len,
             const int *stdio);
/* ctl_send, then read the answer.
 * CTL_ERROR becomes *err; the answer's type is returned, its payload put in
 * *reply (when not NULL: the caller frees it). */
int ctl_call(int sock, uint16_t type, uint32_t id, const void *payload, size_t len,
             const int *stdio, uint8_t **reply, cerr_t *err);
struct container;
struct exec_opts;
/* `cella exec` through a supervisor's control socket sock (connected, the
 * caller closes it): CTL_EXEC (CTL_EXEC_DETACHED) with the RUN fields
 * run[0, len) and the caller's stdio, then, in the foreground, the wait
 * for CTL_EXIT, its code into *status. --pid-file names a host process
 * that ends as the exec'd one does (it has none of its own on the host):
 * this command, or for --detach a child left waiting on sock. `who` names
 * the supervisor in errors. --preserve-fds is refused. */
int ctl_exec(struct container *c, const struct exec_opts *o, int sock, const void *run, size_t len,
             const char *who, bool tty, int *status, cerr_t *err);
/* The refusals of ctl_exec, for a level to make before anything else; tty:
 * the level's supervisor relays a terminal (exec --tty: a host pty of its
 * own, its slave the process's stdio, its master sent to --console-socket
 * or relayed here), else --tty is refused. */
int ctl_exec_refuse(const struct container *c, const struct exec_opts *o, bool tty, cerr_t *err);

/* CTL_KILL of process id (0: the container's process; all: every process). */
int ctl_kill(int sock, uint32_t id, int sig, bool all, cerr_t *err);

#endif
