/* The VM host side: what every VM level shares, whatever its VMM (the
 * backend: backend.h). A VM level's operations are these, with its backend
 * passed to create; the VM is held by a monitor (monitor.h), the
 * container's supervisor (level/supervisor.h). docs/vmhost.md. */
#ifndef CELLA_VMHOST_VMHOST_H
#define CELLA_VMHOST_VMHOST_H

#include "level/level.h"
#include "level/vmhost/backend.h"
#include "level/vmhost/commands.h"

/* The level's check (level.h): what a VM cannot do (a terminal, hooks that
 * run in the container's namespaces), the rootfs, the VMM, guest files and
 * network settings, found without making anything. */
int vmhost_check(const struct spec *s, const struct create_opts *o, const struct vm_backend *b,
                 cerr_t *err);
/* Configure the VM, get the rootfs image, make the cgroup,
 * fork the monitor, which boots the VM; returns once the agent is READY,
 * with the VMM's pid as the container's and the monitor recorded as its
 * supervisor; then the prestart and createRuntime hooks on the host. */
int vmhost_create(struct container *c, const struct create_opts *o, const struct vm_backend *b,
                  cerr_t *err);
/* The VMM killed, the cgroup removed, the monitor ended, the network
 * namespace's interface given back. */
int vmhost_destroy(struct container *c, cerr_t *err);
/* The VMM (from the cgroup) and the monitor. */
int vmhost_pids(struct container *c, pid_t **pids, size_t *n, cerr_t *err);
/* Refused: vCPUs and memory are fixed when the VM boots. */
int vmhost_update(struct container *c, const struct spec_resources *r, cerr_t *err);

#endif
