/* Pieces of the container level shared between its files. */
#ifndef CELLA_CONTAINER_H
#define CELLA_CONTAINER_H

#include "level/level.h"

int container_exec(struct container *c, const struct exec_opts *o, int *status, cerr_t *err);

#endif
