/* process.terminal, level-neutral: the pty pair, and when a create may have
 * one. The container level opens it from the container's /dev/ptmx (in its
 * init, after the root switch); the VM levels from the host's, the guest's
 * pty being the agent's (docs/vmhost.md, Terminals). */
#ifndef CELLA_LEVEL_TERMINAL_H
#define CELLA_LEVEL_TERMINAL_H

#include <stdbool.h>

#include "core/error.h"
#include "level/level.h"

/* A new pty from /dev/ptmx as the caller sees it, sized rows x cols (0 x 0:
 * left as the kernel makes it). Returns the master (close-on-exec), *slave
 * its peer (close-on-exec, not the controlling terminal), or -1. */
int terminal_open(unsigned rows, unsigned cols, int *slave, cerr_t *err);

/* Make fd's terminal raw: a relay's end, whose bytes pass unchanged to a
 * terminal further on that has the line discipline (the guest's pty). */
void terminal_raw(int fd);

/* Send the master to --console-socket PATH (the OCI contract: one message
 * with the fd attached). */
int terminal_send(const char *path, int master, cerr_t *err);

/* A foreground `run` with process.terminal and no --console-socket: cella
 * holds the master and relays its own stdio (o->console_master). */
bool terminal_proxied(const struct spec *s, const struct create_opts *o);

/* process.terminal needs somewhere for the master to go: --console-socket,
 * or a foreground `run`. */
int terminal_check(const struct spec *s, const struct create_opts *o, cerr_t *err);

#endif
