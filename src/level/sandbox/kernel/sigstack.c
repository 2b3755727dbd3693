/* Where a handler's frame goes and what it keeps besides the registers:
 * sigaltstack (SA_ONSTACK, SS_AUTODISARM), and the FP/vector state laid out
 * as Linux's (an XSAVE area 64-byte aligned above the frame, the fpstate
 * pointer in the ucontext, FP_XSTATE_MAGIC1 in its software-reserved bytes
 * and FP_XSTATE_MAGIC2 after it, UC_FP_XSTATE).
 *
 * The workload's FP state lives in the host's signal frame of its stub
 * (on the stub's signal stack in the stub region, which the kernel maps):
 * the host saved it there when the stub's handler was entered and restores
 * it when the handler returns. Delivering a signal copies it into the
 * workload's frame; rt_sigreturn copies the frame's back into the host
 * frame, so the interrupted code gets its registers back even when a signal
 * interrupted it between system calls. The handler itself starts from the
 * initial FP state, as Linux's. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>

#include "level/sandbox/kernel/sys.h"

#define MINSTACK       2048 /* MINSIGSTKSZ */
#define SS_AUTODISARM_ (1U << 31)
#define FP_MAGIC1      0x46505853U
#define FP_MAGIC2      0x46505845U
#define FP_SW_BYTES    464 /* struct _fpx_sw_bytes in the legacy area */
#define FP_LEGACY      512 /* the FXSAVE part */
#define FP_MAX         16384
#define UC_FP_XSTATE   0x1
#define UC_SS          0x6 /* UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS */
#define UC_FPREGS      224 /* offsetof(ucontext_t, uc_mcontext.fpregs) */

static bool on_stack(const struct sb_task *t, uint64_t sp)
{
    return t->ss_size != 0 && sp > t->ss_sp && sp - t->ss_sp <= t->ss_size;
}

static int32_t stack_flags(const struct sb_task *t, uint64_t sp)
{
    if (t->ss_size == 0)
        return SS_DISABLE;
    return (on_stack(t, sp) ? SS_ONSTACK : 0) | (int32_t)t->ss_flags;
}

/* Linux's do_sigaltstack: not while on it; SS_DISABLE, or a stack of at
 * least MINSIGSTKSZ. */
static long set_stack(struct sb_task *t, uint64_t sp, uint64_t ss_sp, int32_t flags, uint64_t size)
{
    if (on_stack(t, sp))
        return -EPERM;
    uint32_t mode = (uint32_t)flags & ~SS_AUTODISARM_;
    if (mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0)
        return -EINVAL;
    if (mode == SS_DISABLE) {
        t->ss_sp = t->ss_size = 0;
        t->ss_flags = 0;
        return 0;
    }
    if (size < MINSTACK)
        return -ENOMEM;
    t->ss_sp = ss_sp;
    t->ss_size = size;
    t->ss_flags = (uint32_t)flags & SS_AUTODISARM_;
    return 0;
}

long sb_sys_sigaltstack(struct sb_task *t, const uint64_t a[6])
{
    uint64_t sp = t->regs[SB_RSP];
    stack_t old = {
        .ss_sp = (void *)t->ss_sp, .ss_size = t->ss_size, .ss_flags = stack_flags(t, sp)};
    if (a[0] != 0) {
        stack_t ss;
        int r = sb_copy_in(t->mm, &ss, a[0], sizeof(ss));
        if (r < 0)
            return r;
        long e = set_stack(t, sp, (uint64_t)ss.ss_sp, ss.ss_flags, ss.ss_size);
        if (e < 0)
            return e;
    }
    return a[1] != 0 ? sb_copy_out(t->mm, a[1], &old, sizeof(old)) : 0;
}

/* The FP state in the host's frame of t's stub: its place in the kernel's
 * mapping and size, checked to lie in the stub's signal stack (the
 * context page says where the frame is; the workload can write it). */
static uint8_t *host_fp(struct sb_task *t, uint32_t *size, bool *xsave)
{
    uint8_t *kbase = t->mm->kbase, *ctx = (uint8_t *)t->stub.ctx;
    uint64_t lo = SB_STUB_BASE + (uint64_t)(ctx - kbase) + SB_PAGE,
             hi = lo - SB_PAGE + SB_SLOT_SIZE;
    uint64_t uc = __atomic_load_n(&t->stub.ctx->uc, __ATOMIC_RELAXED), fp;
    if (uc < lo || uc > hi - 1024 || uc % 8 != 0)
        return NULL;
    memcpy(&fp, kbase + (uc - SB_STUB_BASE) + UC_FPREGS, sizeof(fp));
    if (fp < lo || fp > hi - FP_LEGACY || fp % 64 != 0)
        return NULL;
    uint8_t *p = kbase + (fp - SB_STUB_BASE);
    uint32_t magic1, ext, xsize, magic2;
    memcpy(&magic1, p + FP_SW_BYTES, 4);
    memcpy(&ext, p + FP_SW_BYTES + 4, 4);
    memcpy(&xsize, p + FP_SW_BYTES + 16, 4);
    *size = FP_LEGACY;
    *xsave = false;
    if (magic1 == FP_MAGIC1 && xsize >= FP_LEGACY + 64 && xsize <= FP_MAX && ext == xsize + 4 &&
        fp + ext <= hi) {
        memcpy(&magic2, p + xsize, 4);
        if (magic2 == FP_MAGIC2) {
            *size = ext;
            *xsave = true;
        }
    }
    return p;
}

int sb_sigframe_place(struct sb_task *t, uint64_t sa_flags, uint64_t sp, size_t frame_size,
                      struct sb_frame_place *out)
{
    out->ss_sp = t->ss_sp;
    out->ss_size = t->ss_size;
    out->ss_flags = stack_flags(t, sp);
    sp -= 128; /* the red zone */
    bool entering = false;
    if ((sa_flags & SA_ONSTACK) && t->ss_size != 0 && !on_stack(t, sp)) {
        sp = t->ss_sp + t->ss_size;
        entering = true;
    }
    bool nested = on_stack(t, sp);
    uint32_t size = 0;
    bool xsave = false;
    uint8_t *fp = host_fp(t, &size, &xsave);
    out->fpstate = 0;
    out->uc_flags = UC_SS;
    if (fp != NULL) {
        sp = (sp - size) & ~63ULL;
        if (sb_copy_out(t->mm, sp, fp, size) < 0)
            return -1;
        out->fpstate = sp;
        out->uc_flags |= xsave ? UC_FP_XSTATE : 0;
        /* The handler starts from the initial FP state, as on Linux (its
         * rounding mode is the default whatever the code it interrupted
         * set): x87 control word 0x37f, MXCSR 0x1f80, no component in use. */
        uint16_t fcw = 0x37f;
        uint32_t mxcsr = 0x1f80;
        memset(fp, 0, 24);
        memset(fp + 32, 0, FP_SW_BYTES - 32);
        memcpy(fp, &fcw, 2);
        memcpy(fp + 24, &mxcsr, 4);
        if (xsave)
            memset(fp + FP_LEGACY, 0, 8); /* XSTATE_BV */
    }
    sp = ((sp - frame_size) & ~15ULL) - 8;
    if ((entering || nested) && !on_stack(t, sp))
        return -1; /* it would overflow the alternate stack: SIGSEGV, as Linux */
    out->sp = sp;
    if (entering && (t->ss_flags & SS_AUTODISARM_))
        t->ss_sp = t->ss_size = t->ss_flags = 0;
    return 0;
}

int sb_sigframe_restore(struct sb_task *t, uint64_t ss_sp, int32_t ss_flags, uint64_t ss_size,
                        uint64_t fpstate)
{
    /* Linux's restore_altstack: only a fault counts; EPERM (returning
     * from a handler on the stack) and the rest are ignored. */
    set_stack(t, t->regs[SB_RSP], ss_sp, ss_flags, ss_size);
    uint32_t size;
    bool xsave;
    uint8_t *fp = host_fp(t, &size, &xsave);
    if (fp == NULL || fpstate == 0)
        return 0;
    /* Into the host frame, which the host checks when the stub's handler
     * returns: its own size and features bytes kept, the header's
     * components limited to its own, MXCSR to the bits it allows. */
    static uint8_t buf[FP_MAX];
    if (sb_copy_in(t->mm, buf, fpstate, size) < 0)
        return -1;
    memcpy(buf + FP_SW_BYTES, fp + FP_SW_BYTES, FP_LEGACY - FP_SW_BYTES);
    uint32_t mxcsr, mxcsr_mask;
    memcpy(&mxcsr, buf + 24, 4);
    memcpy(&mxcsr_mask, fp + 28, 4);
    mxcsr &= mxcsr_mask ? mxcsr_mask : 0xffbf;
    memcpy(buf + 24, &mxcsr, 4);
    memcpy(buf + 28, &mxcsr_mask, 4);
    if (xsave) {
        uint64_t features, bv;
        memcpy(&features, fp + FP_SW_BYTES + 8, 8);
        memcpy(&bv, buf + FP_LEGACY, 8);
        bv &= features;
        memset(buf + FP_LEGACY, 0, 64); /* xcomp_bv and the reserved words: 0 */
        memcpy(buf + FP_LEGACY, &bv, 8);
        memcpy(buf + size - 4, fp + size - 4, 4); /* FP_XSTATE_MAGIC2 */
    }
    memcpy(fp, buf, size);
    return 0;
}

void sb_fpu_fork(struct sb_task *child, struct sb_task *parent)
{
    uint32_t csize, psize;
    bool cx, px;
    uint8_t *cfp = host_fp(child, &csize, &cx), *pfp = host_fp(parent, &psize, &px);
    if (cfp != NULL && pfp != NULL && csize == psize && cx == px)
        memcpy(cfp, pfp, psize);
}
