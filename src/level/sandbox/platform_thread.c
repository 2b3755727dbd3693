/* A workload thread's host thread in its stub process (docs/sandbox.md,
 * "Threads"). The kernel asks a thread of the process, waiting in a trap, to
 * make a host clone (SB_OP_CLONE: the one clone the stub's filter allows);
 * the child starts in the stub's code page with a stack pointer on a frame
 * the kernel wrote into the new thread slot, and its first act is
 * rt_sigreturn: the host kernel then sets the workload thread's registers,
 * the stub's signal mask (everything blocked but SB_STUB_SIGNALS, not the parent's
 * all-blocked mask of the SIGSYS handler it was cloned from) and the slot's
 * signal stack (a clone with CLONE_VM starts with none) and its creator's
 * floating-point environment in one call, with nothing of the stub's
 * running on the workload's stack. */
#define _GNU_SOURCE
#include "level/sandbox/platform.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>

#define UC_SIGCONTEXT_SS     0x2 /* the kernel ABI's, not in the C library's headers */
#define UC_STRICT_RESTORE_SS 0x4
#define FRAME_AT             2048 /* below the slot's end: the frame's place on its signal stack */

#define FXSAVE_SIZE    512 /* the legacy FPU area: x87 and SSE state, MXCSR */
#define FX_SW_RESERVED 464 /* where an xsave frame's extension header starts */

_Static_assert(((sizeof(ucontext_t) + 8 + 63) & ~63UL) + FXSAVE_SIZE <= FRAME_AT, "the frame fits");

/* The FPU state of the thread making the clone (x87 control word, MXCSR:
 * the floating-point environment a new thread inherits on Linux), copied
 * from its SIGSYS frame into `to`. The frame is in the workload's memory:
 * its pointers are checked to lie in the parent's slot; the values are the
 * host kernel's to sanitize at rt_sigreturn. False when there is none. */
static bool copy_fpu(const struct sb_stub *s, uint8_t *kstub, uint8_t *to)
{
    uint64_t slot = SB_STUB_BASE + (uint64_t)((uint8_t *)s->ctx - kstub);
    uint64_t lo = slot + 4096, hi = slot + SB_SLOT_SIZE;
    uint64_t uc = __atomic_load_n(&s->ctx->uc, __ATOMIC_RELAXED);
    if (uc < lo || uc > hi - sizeof(ucontext_t))
        return false;
    const ucontext_t *puc = (const ucontext_t *)(kstub + (uc - SB_STUB_BASE));
    uint64_t fp = (uint64_t)(uintptr_t)puc->uc_mcontext.fpregs;
    if (fp < lo || fp > hi - FXSAVE_SIZE || (fp & 15) != 0)
        return false;
    memcpy(to, kstub + (fp - SB_STUB_BASE), FXSAVE_SIZE);
    /* Only the legacy area: no xsave header claims more (the rest starts
     * in its initial state). */
    memset(to + FX_SW_RESERVED, 0, FXSAVE_SIZE - FX_SW_RESERVED);
    return true;
}

long sb_stub_thread(struct sb_stub *s, uint8_t *kstub, int slot, const uint64_t regs[SB_NREGS],
                    uint64_t tls, struct sb_stub *out)
{
    if (slot < 1 || slot >= SB_MAX_THREADS)
        return -EINVAL;
    uint64_t at = SB_SLOT_SIZE * (1 + (uint64_t)slot); /* offset in the region and the memfd */
    struct sb_ctx *c = (struct sb_ctx *)(kstub + at);
    memset(c, 0, sizeof(*c));
    c->spin = s->ctx->spin;
    c->thread_live = 1;
    /* rt_sigreturn's frame: the return address slot, then the ucontext. */
    uint64_t frame = at + SB_SLOT_SIZE - FRAME_AT;
    ucontext_t *uc = (ucontext_t *)(kstub + frame + 8);
    memset(uc, 0, sizeof(*uc));
    uc->uc_flags = UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
    uc->uc_stack.ss_sp = (void *)(SB_STUB_BASE + at + 4096);
    uc->uc_stack.ss_size = SB_SLOT_SIZE - 4096;
    memcpy(uc->uc_mcontext.gregs, regs, SB_NREGS * sizeof(uint64_t));
    uc->uc_mcontext.gregs[REG_CSGSFS] = 0x33 | (0x2bLL << 48); /* user cs and ss */
    uint64_t fx = (frame + 8 + sizeof(ucontext_t) + 63) & ~63ULL;
    uc->uc_mcontext.fpregs = copy_fpu(s, kstub, kstub + fx) ? (void *)(SB_STUB_BASE + fx)
                                                            : NULL; /* NULL: a fresh state */
    uint64_t mask = sb_stub_sigmask(); /* the kick and faults open too, as in the first */
    memcpy(&uc->uc_sigmask, &mask, sizeof(mask));
    uint64_t *a = s->ctx->args;
    a[0] = SYS_clone;
    a[1] = SB_THREAD_CLONE_FLAGS;
    a[2] = SB_STUB_BASE + frame + 8; /* rt_sigreturn finds the frame 8 below */
    a[3] = 0;
    a[4] = SB_STUB_BASE + at + offsetof(struct sb_ctx, thread_live);
    a[5] = tls;
    a[6] = 0;
    sb_stub_reply(s, SB_OP_CLONE);
    if (sb_stub_wait(s) < 0) {
        c->thread_live = 0;
        return -ESRCH;
    }
    long r = (long)__atomic_load_n(&s->ctx->ret, __ATOMIC_RELAXED);
    if (r <= 0) {
        c->thread_live = 0;
        return r < 0 ? r : -EAGAIN;
    }
    *out = *s;
    out->ctx = c;
    out->tid = (pid_t)r;
    return r;
}

void sb_stub_thread_exit(struct sb_stub *s)
{
    s->ctx->args[0] = SYS_exit;
    memset(&s->ctx->args[1], 0, 6 * sizeof(uint64_t));
    sb_stub_reply(s, SB_OP_HOSTCALL);
}
