/* The qemu level's operations that go through the VM's monitor. */
#ifndef CELLA_QEMU_COMMANDS_H
#define CELLA_QEMU_COMMANDS_H

#include "level/level.h"

int qemu_start(struct container *c, cerr_t *err);
int qemu_exec(struct container *c, const struct exec_opts *o, int *status, cerr_t *err);
int qemu_kill(struct container *c, int sig, bool all, cerr_t *err);
/* Foreground `run`: process 0's exit code. */
int qemu_wait(struct container *c, int *status, cerr_t *err);

#endif
