/* A VM level's operations that go through the VM's monitor. */
#ifndef CELLA_VMHOST_COMMANDS_H
#define CELLA_VMHOST_COMMANDS_H

#include "level/level.h"

int vm_start(struct container *c, cerr_t *err);
int vm_exec(struct container *c, const struct exec_opts *o, int *status, cerr_t *err);
int vm_kill(struct container *c, int sig, bool all, cerr_t *err);

#endif
