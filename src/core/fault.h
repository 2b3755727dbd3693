/* Fault injection for the tests: the environment variable CELLA_FAULT names
 * points (comma-separated); a command that reaches a named point fails there
 * as if that step had failed, so that a test can prove the path cleans up
 * what came before (a path with no deterministic trigger otherwise). */
#ifndef CELLA_FAULT_H
#define CELLA_FAULT_H

#include "core/error.h"

/* -1 with "injected fault at POINT" when CELLA_FAULT names POINT, else 0. */
int fault_at(const char *point, cerr_t *err);

#endif
