/* runc's -ENOSYS stub for syscalls newer than a seccomp profile. */
#ifndef CELLA_SECCOMP_ENOSYS_H
#define CELLA_SECCOMP_ENOSYS_H

#include <stdint.h>

#include "core/error.h"
#include "level/container/seccomp.h"
#include "oci/spec.h"

/* Prepend the stub to p (exported from libseccomp) when runc would:
 * a syscall above the largest one the profile names for an architecture it
 * lists returns ENOSYS instead of the default action. */
int seccomp_enosys_patch(const struct spec_seccomp *s, uint32_t default_action,
                         struct seccomp_prog *p, cerr_t *err);

#endif
