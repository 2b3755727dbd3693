/* runc's -ENOSYS stub, in front of libseccomp's filter.
 *
 * A profile lists the syscalls it knows; a syscall newer than all of them
 * (clone3, faccessat2, ...) would get the default action, usually EPERM, and
 * the C library takes EPERM as a real refusal instead of falling back to the
 * older syscall. runc (libcontainer/seccomp/patchbpf) therefore prepends a
 * stub: for each architecture the profile lists, a syscall number above the
 * largest one the profile names for it returns ENOSYS, as the kernel would
 * for a syscall it does not have. Same conditions as runc: not when the
 * default action lets syscalls through (ALLOW, LOG, TRACE) or when
 * defaultErrnoRet is ENOSYS already. Why this and not rules: docs/seccomp.md. */
#define _GNU_SOURCE
#include "level/container/seccomp_enosys.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define X32_SYSCALL_BIT 0x40000000u
#define MAX_ARCHS       16
#define MAX_STUB        256 /* a block is at most 12 instructions */

/* One block per architecture of the kernel's (AUDIT_ARCH_*); x86_64 holds
 * two syscall tables, told apart by the x32 bit of the number. */
struct arch_max {
    uint32_t audit;
    uint32_t max;     /* largest number the profile names, 0: none */
    uint32_t max_x32; /* x86_64 only: the same in x32 mode */
};

static bool lets_through(uint32_t action)
{
    return action == SCMP_ACT_ALLOW || action == SCMP_ACT_LOG ||
           (action & SECCOMP_RET_ACTION_FULL) == SCMP_ACT_TRACE(0);
}

static uint32_t largest_syscall(const struct spec_seccomp *s, uint32_t arch)
{
    uint32_t max = 0;
    for (size_t i = 0; i < s->n_syscalls; i++)
        for (size_t k = 0; k < s->syscalls[i].names.n; k++) {
            const char *name = s->syscalls[i].names.v[k];
            int nr = name ? seccomp_syscall_resolve_name_arch(arch, name) : __NR_SCMP_ERROR;
            if (nr >= 0 && (uint32_t)nr > max)
                max = (uint32_t)nr;
        }
    return max;
}

static struct arch_max *arch_slot(struct arch_max *a, size_t *n, uint32_t audit)
{
    for (size_t i = 0; i < *n; i++)
        if (a[i].audit == audit)
            return &a[i];
    if (*n == MAX_ARCHS)
        return NULL;
    a[*n] = (struct arch_max){.audit = audit};
    return &a[(*n)++];
}

/* The architectures as the kernel reports them (libseccomp's tokens are the
 * AUDIT_ARCH_* values, except x32, which runs as x86_64 with the x32 bit). */
static size_t collect(const struct spec_seccomp *s, struct arch_max *a)
{
    static const char prefix[] = "SCMP_ARCH_";
    size_t n = 0;
    for (size_t i = 0; i < s->architectures.n; i++) {
        const char *name = s->architectures.v[i];
        char lower[32];
        size_t j = 0;
        if (name == NULL || strncmp(name, prefix, sizeof(prefix) - 1) != 0)
            continue;
        for (const char *p = name + sizeof(prefix) - 1; *p && j + 1 < sizeof(lower); p++)
            lower[j++] = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
        lower[j] = '\0';
        uint32_t arch = seccomp_arch_resolve_name(lower);
        if (arch == SCMP_ARCH_NATIVE)
            arch = seccomp_arch_native();
        if (arch == 0)
            continue;
        bool x32 = arch == SCMP_ARCH_X32;
        struct arch_max *m = arch_slot(a, &n, x32 ? AUDIT_ARCH_X86_64 : arch);
        if (m == NULL)
            continue;
        uint32_t max = largest_syscall(s, arch);
        if (x32)
            m->max_x32 = max;
        else
            m->max = max;
    }
    return n;
}

struct stub {
    struct sock_filter insn[MAX_STUB];
    bool to_filter[MAX_STUB]; /* a `ja` whose target is the filter's start */
    size_t n;
};

static void emit(struct stub *st, uint16_t code, uint32_t k, uint8_t jt, uint8_t jf)
{
    st->insn[st->n] = (struct sock_filter)BPF_JUMP(code, k, jt, jf);
    st->to_filter[st->n++] = false;
}

static void emit_to_filter(struct stub *st)
{
    emit(st, BPF_JMP | BPF_JA, 0, 0, 0);
    st->to_filter[st->n - 1] = true;
}

/* Syscall number loaded: above max, ENOSYS; otherwise on to the filter. */
static size_t emit_check(struct stub *st, uint32_t max)
{
    if (max == 0) {
        emit_to_filter(st);
        return 1;
    }
    emit(st, BPF_JMP | BPF_JGT | BPF_K, max, 0, 1);
    emit(st, BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS, 0, 0);
    emit_to_filter(st);
    return 3;
}

static void emit_arch(struct stub *st, const struct arch_max *m)
{
    bool s390 = m->audit == AUDIT_ARCH_S390 || m->audit == AUDIT_ARCH_S390X;
    bool x86_64 = m->audit == AUDIT_ARCH_X86_64;
    emit(st, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch), 0, 0);
    size_t jeq = st->n;
    emit(st, BPF_JMP | BPF_JEQ | BPF_K, m->audit, 0, 0);
    emit(st, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr), 0, 0);
    /* s390: an unknown number reaches the filter as setup(2), number 0. */
    if (s390) {
        emit(st, BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1);
        emit(st, BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS, 0, 0);
    }
    if (x86_64) {
        size_t jset = st->n;
        emit(st, BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT, 0, 0);
        st->insn[jset].jf = (uint8_t)emit_check(st, m->max_x32);
    }
    emit_check(st, m->max);
    st->insn[jeq].jf = (uint8_t)(st->n - jeq - 1);
}

int seccomp_enosys_patch(const struct spec_seccomp *s, uint32_t default_action,
                         struct seccomp_prog *p, cerr_t *err)
{
    if (lets_through(default_action) ||
        (s->has_default_errno_ret && s->default_errno_ret == ENOSYS))
        return 0;
    struct arch_max archs[MAX_ARCHS];
    size_t n = collect(s, archs);
    struct stub st = {.n = 0};
    for (size_t i = 0; i < n; i++)
        if (archs[i].max != 0 || archs[i].max_x32 != 0)
            emit_arch(&st, &archs[i]);
    if (st.n == 0)
        return 0;
    for (size_t i = 0; i < st.n; i++)
        if (st.to_filter[i])
            st.insn[i].k = (uint32_t)(st.n - i - 1);
    size_t len = st.n + p->len;
    if (len > BPF_MAXINSNS)
        return cerr_set(err, 0,
                        "linux.seccomp: filter has %zu instructions, more than the kernel "
                        "limit of %d",
                        len, BPF_MAXINSNS);
    struct sock_filter *all = malloc(len * sizeof(*all));
    if (all == NULL)
        return cerr_set(err, ENOMEM, "linux.seccomp: ENOSYS stub");
    memcpy(all, st.insn, st.n * sizeof(*all));
    memcpy(all + st.n, p->bpf, p->len * sizeof(*all));
    free(p->bpf);
    p->bpf = all;
    p->len = len;
    return 0;
}
