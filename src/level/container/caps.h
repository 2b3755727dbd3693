/* process.capabilities: names -> bit sets, applied in the container process
 * around the switch to the container user. */
#ifndef CELLA_CAPS_H
#define CELLA_CAPS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "oci/spec.h"

struct caps_set {
    bool present;
    uint64_t bounding, effective, inheritable, permitted, ambient;
};

/* Names like "CAP_NET_ADMIN". An unknown name, or one the running kernel
 * does not have, is left out (runtime-spec 1.3: warn, do not fail). */
int caps_parse(const struct spec_caps *c, const char *path, struct caps_set *out, cerr_t *err);
/* One warning line per name caps_parse leaves out, naming PATH.SET[i]. */
void caps_warn_unknown(const struct spec_caps *c, const char *path);
int cap_from_name_(const char *name); /* -1 if unknown */
const char *cap_name_(int cap);
int cap_last(void);

/* Drop the bounding set (needs CAP_SETPCAP: call before changing user). */
int caps_drop_bounding(const struct caps_set *c, cerr_t *err);
/* Set effective, permitted, inheritable, then raise ambient. Call after the
 * uid change (done with PR_SET_KEEPCAPS). */
int caps_apply(const struct caps_set *c, cerr_t *err);

/* Make the effective set equal to the permitted set (after a uid change). */
int caps_raise_effective(cerr_t *err);

#endif
