/* Signals: dispositions, masks, pending signals, delivery to handlers with
 * frames the kernel writes on the workload's stack, rt_sigreturn. A signal
 * is delivered when its process returns from a system call (or a parked
 * call is interrupted): a process that makes none is not interrupted. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>

#include "level/sandbox/kernel/sys.h"

#define SIGSET_SIZE 8
#define UNBLOCKABLE ((1ULL << (SIGKILL - 1)) | (1ULL << (SIGSTOP - 1)))

long sb_sys_rt_sigaction(struct sb_task *t, const uint64_t a[6])
{
    uint64_t sig = a[0];
    if (a[3] != SIGSET_SIZE || sig < 1 || sig > 64)
        return -EINVAL;
    struct sb_sigaction next;
    if (a[1] != 0) {
        if (sig == SIGKILL || sig == SIGSTOP)
            return -EINVAL;
        int r = sb_copy_in(t->mm, &next, a[1], sizeof(next));
        if (r < 0)
            return r;
        next.mask &= ~UNBLOCKABLE;
    }
    if (a[2] != 0) {
        int r = sb_copy_out(t->mm, a[2], &t->act[sig - 1], sizeof(next));
        if (r < 0)
            return r;
    }
    if (a[1] != 0)
        t->act[sig - 1] = next;
    return 0;
}

long sb_sys_rt_sigprocmask(struct sb_task *t, const uint64_t a[6])
{
    if (a[3] != SIGSET_SIZE)
        return -EINVAL;
    uint64_t set = 0, old = t->sigmask;
    if (a[1] != 0) {
        int r = sb_copy_in(t->mm, &set, a[1], sizeof(set));
        if (r < 0)
            return r;
        switch (a[0]) {
        case SIG_BLOCK:
            t->sigmask |= set;
            break;
        case SIG_UNBLOCK:
            t->sigmask &= ~set;
            break;
        case SIG_SETMASK:
            t->sigmask = set;
            break;
        default:
            return -EINVAL;
        }
        t->sigmask &= ~UNBLOCKABLE;
        sb_signal_unblocked(t);
    }
    if (a[2] != 0) {
        int r = sb_copy_out(t->mm, a[2], &old, sizeof(old));
        if (r < 0) {
            t->sigmask = old;
            return r;
        }
    }
    return 0;
}

/* Signals whose default action is to do nothing. */
static bool ignored_by_default(int sig)
{
    return sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH || sig == SIGCONT;
}

void sb_signal_unblocked(struct sb_task *t)
{
    for (uint64_t due = t->sigpending & ~t->sigmask; due != 0; due &= due - 1) {
        int sig = __builtin_ctzll(due) + 1;
        uint64_t handler = t->act[sig - 1].handler;
        if (handler > 1)
            continue; /* caught: delivered on the way back */
        t->sigpending &= ~(1ULL << (sig - 1));
        /* A pid namespace's init drops what it has no handler for (Linux's
         * get_signal, SIGNAL_UNKILLABLE). */
        if (handler == 0 && !ignored_by_default(sig) && !(t->pid == 1 && t->k->pidns_init)) {
            t->exited = true;
            t->exit_status = sig;
            break;
        }
    }
    sb_signalfd_update(t);
}

long sb_epipe(struct sb_task *t)
{
    /* SIGPIPE to the writer, as Linux's send_sig: its default action ends
     * it; a handler runs on the way back (GNU sort's cleans up and raises
     * it again), after which the write returns EPIPE. */
    sb_signal_send(t, t, SIGPIPE, SI_USER, t->pid, 0);
    return -EPIPE;
}

long sb_signal_send(struct sb_task *self, struct sb_task *target, int sig, int code, int pid,
                    int status)
{
    if (target->zombie)
        return 0;
    uint64_t handler = target->act[sig - 1].handler, bit = 1ULL << (sig - 1);
    /* Ignored, unless blocked: a blocked signal is kept (for a signalfd,
     * sigtimedwait, or a handler set by then), as Linux's sig_ignored. */
    if (sig != SIGKILL && !(target->sigmask & bit) &&
        (handler == 1 /* SIG_IGN */ || (handler == 0 && ignored_by_default(sig))))
        return 0;
    if (sig != SIGKILL && handler == 0 &&
        (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU))
        return -ENOSYS;
    if (sig != SIGKILL && (handler > 1 || (target->sigmask & bit))) {
        /* Caught (delivered on its way back to its program) or blocked
         * (the C library blocks every signal around fork, so a child just
         * forked often has): pending. */
        target->sigpending |= bit;
        target->siginfo[sig - 1] = (struct sb_siginfo){.code = code, .pid = pid, .status = status};
        sb_signalfd_update(target);
        /* Running its own code (no system call to return from): interrupted. */
        if (target != self && !target->parked && sb_signal_next(target) != 0)
            sb_stub_kick(&target->stub);
        return 0;
    }
    target->sigpending &= ~bit;
    if (target == self) { /* ends when its call is done */
        target->exited = true;
        target->exit_status = sig;
    } else {
        sb_task_exit(target, sig);
    }
    return 0;
}

/* kill, tkill, tgkill: one process, or a group (kill only). */
static long send(struct sb_task *t, int64_t pid, uint64_t sig, int code)
{
    if (sig > 64)
        return -EINVAL;
    if (pid <= 0 && code == SI_USER && pid != INT32_MIN)
        return sb_signal_group(t, pid, (int)sig, code);
    if (pid <= 0)
        return code == SI_USER ? -ESRCH : -EINVAL;
    struct sb_task *target = NULL;
    for (int i = 0; i < t->k->ntask; i++)
        if (t->k->task[i]->pid == pid && sb_leader(t->k->task[i]) == t->k->task[i])
            target = t->k->task[i];
    if (target == NULL)
        return -ESRCH;
    if (sig == 0)
        return 0;
    return sb_signal_send(t, sb_thread_for_signal(target, (int)sig), (int)sig, code, t->pid, 0);
}

/* tkill, tgkill: one thread (tgid 0: of any process). */
static long send_thread(struct sb_task *t, int64_t tgid, int64_t tid, uint64_t sig)
{
    if (sig > 64 || tid <= 0)
        return -EINVAL;
    struct sb_task *target = sb_thread_find(t->k, tgid, tid);
    if (target == NULL)
        return -ESRCH;
    if (sig == 0)
        return 0;
    return sb_signal_send(t, target, (int)sig, SI_TKILL, t->pid, 0);
}

long sb_sys_kill(struct sb_task *t, const uint64_t a[6])
{
    return send(t, (int32_t)a[0], a[1], SI_USER);
}

long sb_sys_tkill(struct sb_task *t, const uint64_t a[6])
{
    return send_thread(t, 0, (int32_t)a[0], a[1]);
}

long sb_sys_tgkill(struct sb_task *t, const uint64_t a[6])
{
    if ((int32_t)a[0] <= 0)
        return -EINVAL;
    return send_thread(t, (int32_t)a[0], (int32_t)a[1], a[2]);
}

int sb_signal_next(const struct sb_task *t)
{
    for (uint64_t due = t->sigpending & ~t->sigmask; due != 0; due &= due - 1) {
        int sig = __builtin_ctzll(due) + 1;
        if (t->act[sig - 1].handler > 1)
            return sig;
    }
    return 0;
}

/* The frame Linux writes for a handler on x86-64 (struct rt_sigframe, no
 * FP state): the handler's return address (its restorer), the ucontext
 * (the registers to return to and the mask to restore), the siginfo. */
struct frame_uc {
    uint64_t flags, link;
    uint64_t ss_sp;
    int32_t ss_flags, pad;
    uint64_t ss_size;
    uint64_t regs[SB_NREGS];
    uint16_t cs, gs, fs, ss;
    uint64_t err, trapno, oldmask, cr2, fpstate, reserved[8];
    uint64_t sigmask;
};
struct frame {
    uint64_t pretcode;
    struct frame_uc uc;
    int32_t info[32]; /* signo, errno, code, pad, then pid, uid, status */
};
_Static_assert(sizeof(struct frame_uc) == 304, "ucontext as Linux's");
_Static_assert(sizeof(struct frame) == 440, "rt_sigframe as Linux's");

#define SA_RESTORER 0x04000000ULL /* the kernel ABI's, not in the C library's headers */
#define EFLAGS_DF   0x400ULL
#define EFLAGS_TF   0x100ULL
#define EFLAGS_RF   0x10000ULL
/* The flags a frame may change (Linux's FIX_EFLAGS): the arithmetic ones,
 * direction, trap, alignment check, resume. Nothing privileged (IOPL, IF). */
#define EFLAGS_FRAME_OK 0x50dd5ULL

/* The siginfo Linux gives for t's pending sig (struct siginfo's layout):
 * a fault's address, or the sender's pid and uid (and a child's status). */
static void fill_info(const struct sb_task *t, int sig, int32_t info[32])
{
    const struct sb_siginfo *si = &t->siginfo[sig - 1];
    memset(info, 0, 32 * sizeof(int32_t));
    info[0] = sig;
    info[2] = si->code;
    if (si->code > 0 &&
        (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGTRAP)) {
        memcpy(&info[4], &si->addr, sizeof(si->addr));
        return;
    }
    info[4] = si->pid;
    info[5] = (int32_t)t->k->uid;
    info[6] = si->status;
}

void sb_signal_siginfo(const struct sb_task *t, int sig, struct signalfd_siginfo *out)
{
    const struct sb_siginfo *si = &t->siginfo[sig - 1];
    memset(out, 0, sizeof(*out));
    out->ssi_signo = (uint32_t)sig;
    out->ssi_code = si->code;
    out->ssi_pid = (uint32_t)si->pid;
    out->ssi_uid = t->k->uid;
    out->ssi_status = si->status;
    out->ssi_addr = si->addr;
}

static void segv(struct sb_task *t)
{
    t->exited = true;
    t->exit_status = SIGSEGV;
}

void sb_signal_deliver(struct sb_task *t, long r, bool restart)
{
    int sig = sb_signal_next(t);
    uint64_t mask = t->has_saved_mask ? t->saved_mask : t->sigmask;
    if (t->has_saved_mask && sig == 0)
        t->sigmask = t->saved_mask;
    t->has_saved_mask = false;
    if (sig == 0)
        return;
    struct sb_sigaction *act = &t->act[sig - 1];
    uint64_t bit = 1ULL << (sig - 1);
    t->sigpending &= ~bit;
    sb_signalfd_update(t);
    struct frame f = {0};
    memcpy(f.uc.regs, t->regs, sizeof(f.uc.regs));
    if (restart) { /* the call is made again: its number back, rip on its `syscall` */
        f.uc.regs[SB_RAX] = t->park_nr;
        f.uc.regs[SB_RIP] -= 2;
    } else if (!t->set_regs) {
        f.uc.regs[SB_RAX] = (uint64_t)r;
    }
    if (!(act->flags & SA_RESTORER))
        return segv(t); /* as Linux on x86-64: no way back */
    struct sb_frame_place at;
    if (sb_sigframe_place(t, act->flags, f.uc.regs[SB_RSP], sizeof(f), &at) < 0)
        return segv(t);
    f.pretcode = act->restorer;
    f.uc.flags = at.uc_flags;
    f.uc.ss_sp = at.ss_sp;
    f.uc.ss_flags = at.ss_flags;
    f.uc.ss_size = at.ss_size;
    f.uc.fpstate = at.fpstate;
    f.uc.cs = 0x33;
    f.uc.ss = 0x2b;
    f.uc.oldmask = mask;
    f.uc.sigmask = mask;
    fill_info(t, sig, f.info);
    uint64_t sp = at.sp;
    if (sb_copy_out(t->mm, sp, &f, sizeof(f)) < 0)
        return segv(t);
    t->regs[SB_RIP] = act->handler;
    t->regs[SB_RSP] = sp;
    t->regs[SB_RDI] = (uint64_t)sig;
    t->regs[SB_RSI] = sp + offsetof(struct frame, info);
    t->regs[SB_RDX] = sp + offsetof(struct frame, uc);
    t->regs[SB_RAX] = 0;
    t->regs[SB_EFLAGS] = f.uc.regs[SB_EFLAGS] & ~(EFLAGS_DF | EFLAGS_TF | EFLAGS_RF);
    t->set_regs = true;
    t->sigmask |= act->mask | (act->flags & SA_NODEFER ? 0 : bit);
    t->sigmask &= ~UNBLOCKABLE;
    if (act->flags & SA_RESETHAND)
        act->handler = 0;
}

/* The handler returned through its restorer: the ucontext is where its
 * `ret` left %rsp. Everything in it is the workload's to forge: it sets
 * only its own registers (the flags among Linux's list) and mask. */
long sb_sys_rt_sigreturn(struct sb_task *t, const uint64_t a[6])
{
    (void)a;
    struct frame_uc uc;
    if (sb_copy_in(t->mm, &uc, t->regs[SB_RSP], sizeof(uc)) < 0) {
        segv(t);
        return 0;
    }
    if (sb_sigframe_restore(t, uc.ss_sp, uc.ss_flags, uc.ss_size, uc.fpstate) < 0) {
        segv(t);
        return 0;
    }
    uint64_t flags = t->regs[SB_EFLAGS];
    memcpy(t->regs, uc.regs, sizeof(uc.regs));
    t->regs[SB_EFLAGS] = (flags & ~EFLAGS_FRAME_OK) | (uc.regs[SB_EFLAGS] & EFLAGS_FRAME_OK);
    t->sigmask = uc.sigmask & ~UNBLOCKABLE;
    t->set_regs = true;
    sb_signal_unblocked(t);
    return 0;
}

void sb_signal_trap(struct sb_task *t, int sig, int code, uint64_t addr)
{
    t->set_regs = true; /* back where it was, unless a handler is due */
    if (sig != SIGSEGV && sig != SIGBUS && sig != SIGILL && sig != SIGFPE && sig != SIGTRAP)
        return; /* the kick: a pending signal is delivered on the way back */
    struct sb_sigaction *act = &t->act[sig - 1];
    uint64_t bit = 1ULL << (sig - 1);
    if (act->handler == 1 || (t->sigmask & bit)) { /* it would fault again: the default */
        act->handler = 0;
        t->sigmask &= ~bit;
    }
    if (act->handler == 0) {
        t->exited = true;
        t->exit_status = sig;
        return;
    }
    t->sigpending |= bit;
    t->siginfo[sig - 1] = (struct sb_siginfo){.code = code, .addr = addr};
    sb_signalfd_update(t);
}

/* Wait for a caught signal: -EINTR once one can be delivered (it is, with
 * the mask from before the call restored when its handler returns). */
static long suspend(struct sb_task *t)
{
    sb_signal_unblocked(t);
    if (t->exited || sb_signal_next(t) != 0)
        return -EINTR;
    return SB_PARK;
}

long sb_sys_rt_sigsuspend(struct sb_task *t, const uint64_t a[6])
{
    if (!t->parked) {
        if (a[1] != SIGSET_SIZE)
            return -EINVAL;
        uint64_t set;
        int r = sb_copy_in(t->mm, &set, a[0], sizeof(set));
        if (r < 0)
            return r;
        t->saved_mask = t->sigmask;
        t->has_saved_mask = true;
        t->sigmask = set & ~UNBLOCKABLE;
    }
    return suspend(t);
}

long sb_sys_pause(struct sb_task *t, const uint64_t a[6])
{
    (void)a;
    return suspend(t);
}

/* Take a pending signal of `set` without a handler running: its number. */
long sb_sys_rt_sigtimedwait(struct sb_task *t, const uint64_t a[6])
{
    if (a[3] != SIGSET_SIZE)
        return -EINVAL;
    uint64_t set;
    int r = sb_copy_in(t->mm, &set, a[0], sizeof(set));
    if (r < 0)
        return r;
    uint64_t due = t->sigpending & set & ~UNBLOCKABLE;
    if (due != 0) {
        int sig = __builtin_ctzll(due) + 1;
        t->sigpending &= ~(1ULL << (sig - 1));
        sb_signalfd_update(t);
        if (a[1] != 0) {
            int32_t info[32];
            fill_info(t, sig, info);
            if ((r = sb_copy_out(t->mm, a[1], info, sizeof(info))) < 0)
                return r;
        }
        return sig;
    }
    if (sb_signal_next(t) != 0)
        return -EINTR;
    long ms = -1;
    if (a[2] != 0 && !t->parked) {
        struct timespec ts;
        if ((r = sb_copy_in(t->mm, &ts, a[2], sizeof(ts))) < 0)
            return r;
        if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000L)
            return -EINVAL;
        ms = ts.tv_sec * 1000 + (ts.tv_nsec + 999999) / 1000000;
    }
    if (sb_park_expired(t, t->parked ? 1 : ms))
        return -EAGAIN;
    return SB_PARK;
}

/* The pending signals it blocks (an unblocked one would have acted). */
long sb_sys_rt_sigpending(struct sb_task *t, const uint64_t a[6])
{
    if (a[1] > SIGSET_SIZE)
        return -EINVAL;
    uint64_t set = t->sigpending & t->sigmask;
    return sb_copy_out(t->mm, a[0], &set, a[1]);
}
