/* The spec-suite runner's executing half (spec_exec.c). */
#ifndef CELLA_TESTS_SPEC_H
#define CELLA_TESTS_SPEC_H

#include <jansson.h>
#include <stdbool.h>

#include "core/error.h"

enum { SPEC_OK = 0, SPEC_FAIL, SPEC_SKIP, SPEC_TRAP, SPEC_LINK_ERROR, SPEC_LOAD_ERROR };

struct spec_exec;

struct spec_exec *spec_exec_new(void);
void spec_exec_free(struct spec_exec *x);
/* Decode, validate and instantiate; name ("$M") is remembered when given. */
int spec_exec_instantiate(struct spec_exec *x, const char *path, const char *name, cerr_t *err);
/* After a `module` command: the last instance becomes the current one (or
 * none when it failed to load). */
void spec_exec_set_current(struct spec_exec *x, bool ok);
int spec_exec_register(struct spec_exec *x, const char *as, const char *name);
/* action, assert_return, assert_trap, assert_exhaustion: SPEC_OK, SPEC_FAIL
 * (*why says what differed), SPEC_SKIP or SPEC_LOAD_ERROR. */
int spec_exec_assert(struct spec_exec *x, json_t *cmd, const char **why);

#endif
