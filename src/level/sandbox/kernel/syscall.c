/* The system call table. A call without an entry is ENOSYS and counted, so
 * that `--debug` can list what a workload needed and did not get. */
#define _GNU_SOURCE
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "level/sandbox/kernel/sys.h"

static const sb_syscall_fn table[SB_NSYSCALLS] = {
#define SB_ENTRY(name) [SYS_##name] = sb_sys_##name,
    SB_SYSCALLS(SB_ENTRY)
#undef SB_ENTRY
};

long sb_syscall(struct sb_task *t, uint64_t nr)
{
    const uint64_t *r = t->regs;
    const uint64_t a[6] = {r[SB_RDI], r[SB_RSI], r[SB_RDX], r[SB_R10], r[SB_R8], r[SB_R9]};
    if (nr < SB_NSYSCALLS && table[nr] != NULL) {
        t->nwait = 0;
        t->wake_at = 0;
        long r = table[nr](t, a);
        if (r == SB_PARK) {
            t->parked = true;
            t->park_fn = table[nr];
            t->park_nr = nr;
            memcpy(t->park_args, a, sizeof(t->park_args));
        }
        return r;
    }
    if (nr < SB_NSYSCALLS)
        t->k->enosys[nr]++;
    else
        t->k->enosys_other++;
    return -ENOSYS;
}

char *sb_enosys_report(const struct sb_kernel *k)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (f == NULL)
        return NULL;
    const char *sep = "";
    for (unsigned nr = 0; nr < SB_NSYSCALLS; nr++) {
        if (k->enosys[nr] == 0)
            continue;
        char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, (int)nr);
        fprintf(f, "%s%s(%u) x%llu", sep, name ? name : "?", nr, (unsigned long long)k->enosys[nr]);
        free(name);
        sep = ", ";
    }
    if (k->enosys_other > 0)
        fprintf(f, "%sbeyond the table x%llu", sep, (unsigned long long)k->enosys_other);
    fclose(f);
    if (len == 0) {
        free(out);
        return NULL;
    }
    return out;
}
