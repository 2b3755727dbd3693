/* cgroup v2 has no devices.allow: the device rules become an eBPF program
 * (BPF_PROG_TYPE_CGROUP_DEVICE) attached to the cgroup. */
#define _GNU_SOURCE
#include "cgroup/devices.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/util.h"

#define INSN(c, d, s, o, i)                                                                        \
    ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})

struct prog {
    struct bpf_insn *v;
    size_t n, cap;
};

static void emit(struct prog *p, struct bpf_insn i)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 64;
        p->v = realloc(p->v, p->cap * sizeof(*p->v));
        if (p->v == NULL)
            abort();
    }
    p->v[p->n++] = i;
}

static unsigned access_bits(const char *a)
{
    unsigned bits = 0;
    for (const char *c = a && a[0] ? a : "rwm"; *c; c++)
        bits |= *c == 'm'   ? BPF_DEVCG_ACC_MKNOD
                : *c == 'r' ? BPF_DEVCG_ACC_READ
                : *c == 'w' ? BPF_DEVCG_ACC_WRITE
                            : 0;
    return bits;
}

/* One rule: a block of tests, each jumping past the block when it fails.
 * Returns false when the rule matches everything (code after it would be
 * unreachable, which the verifier refuses). */
static bool emit_rule(struct prog *p, const struct spec_dev_cgroup *d)
{
    struct bpf_insn tests[4];
    size_t n = 0;
    unsigned acc = access_bits(d->access);
    if (d->type == 'b' || d->type == 'c')
        tests[n++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, 0,
                          d->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
    if (d->type != 'a' && d->major >= 0)
        tests[n++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, 0, (int32_t)d->major);
    if (d->type != 'a' && d->minor >= 0)
        tests[n++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, 0, (int32_t)d->minor);
    bool all_access = acc == (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE);
    /* Block length: tests, the access test (3 insns), then r0 = verdict; exit. */
    size_t len = n + (all_access ? 0 : 3) + 2;
    size_t done = 0;
    for (size_t i = 0; i < n; i++) {
        tests[i].off = (int16_t)(len - ++done);
        emit(p, tests[i]);
    }
    if (!all_access) {
        /* The access asked for must be within the rule's: (r3 & ~acc) == 0. */
        emit(p, INSN(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0));
        emit(p, INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0, (int32_t)(~acc & 7)));
        done += 2;
        emit(p, INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_1, 0, (int16_t)(len - ++done), 0));
    }
    emit(p, INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, d->allow ? 1 : 0));
    emit(p, INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
    return n > 0 || !all_access;
}

int devices_bpf_attach(const char *cgroup_dir, const struct spec_dev_cgroup *rules, size_t n,
                       cerr_t *err)
{
    struct prog p = {0};
    /* r2 = type, r3 = access, r4 = major, r5 = minor (struct bpf_cgroup_dev_ctx). */
    emit(&p, INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, 0, 0));
    emit(&p, INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xFFFF));
    emit(&p, INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_1, 0, 0));
    emit(&p, INSN(BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16));
    emit(&p, INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_1, 4, 0));
    emit(&p, INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_1, 8, 0));
    /* The last matching rule wins: test them from the end. */
    bool more = true;
    for (size_t i = n_device_defaults; more && i-- > 0;)
        more = emit_rule(&p, &device_defaults[i]);
    for (size_t i = n; more && i-- > 0;)
        more = emit_rule(&p, &rules[i]);
    if (more) { /* nothing matched: denied */
        emit(&p, INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0));
        emit(&p, INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
    }

    union bpf_attr load;
    memset(&load, 0, sizeof(load));
    load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    load.insns = (uint64_t)(uintptr_t)p.v;
    load.insn_cnt = (uint32_t)p.n;
    load.license = (uint64_t)(uintptr_t) "Apache-2.0";
    int prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof(load));
    int e = errno;
    free(p.v);
    if (prog < 0)
        return cerr_set(err, e, "linux.resources.devices: load the device filter (eBPF)");
    int cg = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cg < 0) {
        e = errno;
        close(prog);
        return cerr_set(err, e, "open `%s`", cgroup_dir);
    }
    union bpf_attr at;
    memset(&at, 0, sizeof(at));
    at.target_fd = (uint32_t)cg;
    at.attach_bpf_fd = (uint32_t)prog;
    at.attach_type = BPF_CGROUP_DEVICE;
    at.attach_flags = BPF_F_ALLOW_MULTI;
    int r = (int)syscall(SYS_bpf, BPF_PROG_ATTACH, &at, sizeof(at));
    e = errno;
    close(cg);
    close(prog);
    if (r < 0)
        return cerr_set(err, e, "linux.resources.devices: attach the device filter to `%s`",
                        cgroup_dir);
    return 0;
}
