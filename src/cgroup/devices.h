/* Device access rules of the container level: the spec's
 * linux.resources.devices followed by the defaults every container gets (as
 * runc and crun). v1 writes them to devices.allow/deny; v2 compiles them to
 * an eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE) attached to the cgroup. */
#ifndef CELLA_DEVICES_H
#define CELLA_DEVICES_H

#include <stddef.h>

#include "core/error.h"
#include "oci/spec.h"

/* mknod of anything; null, zero, full, random, urandom, tty, console, ptmx,
 * the pty slaves. */
extern const struct spec_dev_cgroup device_defaults[];
extern const size_t n_device_defaults;

/* v2: attach the rules (spec rules, then the defaults; the last match wins,
 * nothing matched is denied) to the cgroup directory. */
int devices_bpf_attach(const char *cgroup_dir, const struct spec_dev_cgroup *rules, size_t n,
                       cerr_t *err);

#endif
