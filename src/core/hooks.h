/* Running OCI hooks: each hook is executed with the container state JSON on
 * its stdin, in order; a hook that fails or exceeds its timeout fails the
 * operation (except poststart/poststop, whose failures are only logged). */
#ifndef CELLA_HOOKS_H
#define CELLA_HOOKS_H

#include "core/error.h"
#include "oci/spec.h"

int hooks_run(const struct spec *s, enum hook_kind kind, const char *state_json, cerr_t *err);

#endif
