/* The OCI process as the agent's RUN fields (src/proto/protocol.h). */
#ifndef CELLA_VMHOST_PROCESS_H
#define CELLA_VMHOST_PROCESS_H

#include "core/error.h"
#include "proto/protocol.h"
#include "oci/spec.h"

/* hostname: for process 0 (the spec's), NULL for exec. Fields the agent
 * cannot apply in a VM are refused with an error naming them. */
int vm_run_fields(const struct spec_process *p, const char *hostname, struct agent_buf *b,
                  cerr_t *err);
/* linux.sysctl as SYSCTL fields for process 0: the agent writes them below
 * the guest's /proc/sys before it runs the process (a name that is not one
 * is refused). */
int vm_run_sysctls(const struct kv_list *sysctl, struct agent_buf *b, cerr_t *err);

#endif
