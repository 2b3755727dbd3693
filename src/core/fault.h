/* Fault injection for the tests: the environment variable CELLA_FAULT names
 * points (comma-separated). A command that reaches a point named POINT fails
 * there as if that step had failed, so that a test can prove the path cleans
 * up what came before (a path with no deterministic trigger otherwise); one
 * named kill:POINT dies there by SIGKILL, as if killed from outside between
 * two steps, so that a test can prove `delete --force` removes what was left
 * (docs/reliability.md lists the points). */
#ifndef CELLA_FAULT_H
#define CELLA_FAULT_H

#include "core/error.h"

/* -1 with "injected fault at POINT" when CELLA_FAULT names POINT, else 0. */
int fault_at(const char *point, cerr_t *err);

/* raise(SIGKILL) when CELLA_FAULT names kill:POINT. */
void fault_kill(const char *point);

#endif
