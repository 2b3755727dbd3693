/* Fields of config.json that only the container level's process setup on
 * the host kernel applies. A level that does not run that setup (a VM's
 * guest agent) or whose workload would not see the effect (the sandbox's
 * kernel answers for it) refuses each one that is set, in one line naming
 * the field and the level, from its `check`: never accepted and dropped.
 * docs/spec-conformance.md has the table per level. */
#ifndef CELLA_LEVEL_FIELDS_H
#define CELLA_LEVEL_FIELDS_H

#include "core/error.h"
#include "oci/spec.h"

enum level_field {
    LF_PERSONALITY = 1u << 0,    /* linux.personality (any domain) */
    LF_PERSONALITY32 = 1u << 1,  /* linux.personality with domain LINUX32 */
    LF_SCHEDULER = 1u << 2,      /* process.scheduler */
    LF_IOPRIORITY = 1u << 3,     /* process.ioPriority */
    LF_OOM_SCORE = 1u << 4,      /* process.oomScoreAdj */
    LF_TIME_OFFSETS = 1u << 5,   /* linux.timeOffsets */
    LF_SYSCTL = 1u << 6,         /* linux.sysctl */
    LF_DOMAINNAME = 1u << 7,     /* domainname */
    LF_NOT_YET = 1u << 8,        /* what cella applies nowhere yet (spec's `unsupported` lists) */
    LF_IDMAP_MOUNTS = 1u << 9,   /* mounts[].uidMappings, gidMappings */
    LF_MEMPOLICY = 1u << 10,     /* linux.memoryPolicy */
    LF_EXEC_AFFINITY = 1u << 11, /* process.execCPUAffinity */
};

/* What each level refuses. A VM's guest agent applies the process's args,
 * env, cwd, user, umask, rlimits and no_new_privs, and the hostname
 * (vmhost/process.c): nothing of the rest. The sandbox's kernel process and
 * its stubs get the container's setup: only what the workload would see
 * through uname, which the kernel answers itself, is lost. */
#define LF_VM_LEVELS                                                                               \
    (LF_NOT_YET | LF_PERSONALITY | LF_SCHEDULER | LF_IOPRIORITY | LF_TIME_OFFSETS |                \
     LF_DOMAINNAME | LF_IDMAP_MOUNTS | LF_MEMPOLICY | LF_EXEC_AFFINITY)
#define LF_SANDBOX_LEVEL                                                                           \
    (LF_PERSONALITY32 | LF_DOMAINNAME | LF_IDMAP_MOUNTS | LF_MEMPOLICY | LF_EXEC_AFFINITY)

/* The first field of `which` that `s` sets: "FIELD: not supported at the
 * LEVEL level" (the not-yet ones as spec_refuse_unsupported says them). */
int level_refuse_fields(const struct spec *s, const char *level, unsigned which, cerr_t *err);

#endif
