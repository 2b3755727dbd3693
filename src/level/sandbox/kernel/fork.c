/* Processes: fork (and clone/vfork with fork's semantics), wait4, getppid.
 * A child gets its own address space — a new memfd with a copy of the
 * parent's pages, never pages shared with it (the workload can map any page
 * of its own memfd) — its own stub process, and copies of the parent's
 * descriptors, dispositions and cwd. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "level/sandbox/kernel/sys.h"

/* The clone flags served: fork's, with the tid writes the C libraries ask
 * for; CLONE_VM|CLONE_VFORK (vfork, posix_spawn) is served as a fork on the
 * given stack. Threads (CLONE_THREAD) are thread.c's. */
#define TID_FLAGS (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | CLONE_PARENT_SETTID)

_Static_assert(sizeof(struct rusage) == 144, "the x86-64 kernel's struct rusage");

static void task_free(struct sb_task *c)
{
    sb_task_free(c);
    free(c);
}

static long do_fork(struct sb_task *t, uint64_t flags, uint64_t newsp, uint64_t ptid, uint64_t ctid)
{
    struct sb_kernel *k = t->k;
    if (k->ntask == SB_MAX_TASKS)
        return -EAGAIN;
    struct sb_task *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return -ENOMEM;
    c->k = k;
    c->stub.pid = -1;
    c->mm = calloc(1, sizeof(*c->mm));
    c->files = calloc(1, sizeof(*c->files));
    cerr_t err = NULL;
    if (c->mm == NULL || c->files == NULL) {
        task_free(c);
        return -ENOMEM;
    }
    c->mm->memfd = -1;
    sb_files_init(c->files);
    long r = sb_mm_init(c->mm, &err) < 0 ? -ENOMEM : 0;
    if (r == 0)
        r = sb_mm_fork(c->mm, t->mm);
    if (r == 0)
        r = sb_files_fork(c->files, t->files);
    if (r == 0 && sb_stub_spawn(&k->zygote, c->mm->memfd, c->mm->kbase, &c->stub, &err) < 0)
        r = -EAGAIN;
    if (r == 0)
        r = sb_mm_replay(c);
    if (r == 0 && t->fs_base != 0) {
        const uint64_t a[6] = {0x1002 /* ARCH_SET_FS */, t->fs_base};
        long ret;
        r = sb_stub_hostcall(&c->stub, SYS_arch_prctl, a, &ret) < 0 ? -EAGAIN : ret;
    }
    cerr_free(&err);
    if (r < 0) {
        task_free(c);
        return r;
    }
    c->pid = c->tid = k->next_pid++;
    c->parent = sb_leader(t); /* a child of the process, whichever thread forked */
    c->fs_base = t->fs_base;
    c->sigmask = t->sigmask;
    memcpy(c->act, t->act, sizeof(c->act));
    c->ss_sp = t->ss_sp, c->ss_size = t->ss_size, c->ss_flags = t->ss_flags;
    c->pgid = t->pgid, c->sid = t->sid;
    sb_fpu_fork(c, t);
    memcpy(c->cwd, t->cwd, sizeof(c->cwd));
    sb_proc_fork(c, t);
    uint32_t tid = (uint32_t)c->tid;
    if (flags & CLONE_CHILD_SETTID)
        sb_copy_out(c->mm, ctid, &tid, sizeof(tid));
    if (flags & CLONE_PARENT_SETTID)
        sb_copy_out(t->mm, ptid, &tid, sizeof(tid));
    if (flags & CLONE_CHILD_CLEARTID)
        c->clear_child_tid = ctid;
    k->task[k->ntask++] = c;
    /* The child returns 0 from the same call, on its stack if one was given. */
    memcpy(c->regs, t->regs, sizeof(c->regs));
    c->regs[SB_RAX] = 0;
    if (newsp != 0)
        c->regs[SB_RSP] = newsp;
    memcpy(c->stub.ctx->regs, c->regs, sizeof(c->regs));
    sb_stub_reply(&c->stub, SB_OP_REGS);
    return c->pid;
}

long sb_sys_fork(struct sb_task *t, const uint64_t a[6])
{
    (void)a;
    return do_fork(t, SIGCHLD, 0, 0, 0);
}

long sb_sys_vfork(struct sb_task *t, const uint64_t a[6])
{
    return sb_sys_fork(t, a);
}

/* x86-64: clone(flags, newsp, parent_tid, child_tid, tls) */
long sb_sys_clone(struct sb_task *t, const uint64_t a[6])
{
    uint64_t flags = a[0], rest = flags & ~(uint64_t)(CSIGNAL | TID_FLAGS);
    if (flags & CLONE_THREAD)
        return sb_thread_clone(t, a);
    if ((flags & CSIGNAL) != SIGCHLD || (rest != 0 && rest != (CLONE_VM | CLONE_VFORK)))
        return -ENOSYS; /* namespaces, CLONE_VM without a thread or vfork: not yet */
    return do_fork(t, flags, a[1], a[2], a[3]);
}

long sb_sys_getppid(struct sb_task *t, const uint64_t a[6])
{
    (void)a;
    struct sb_task *l = sb_leader(t);
    return l->parent ? l->parent->pid : 0; /* the first process's parent is outside */
}

void sb_task_unlink(struct sb_kernel *k, struct sb_task *c)
{
    for (int i = 0; i < k->ntask; i++)
        if (k->task[i] == c) {
            k->task[i] = k->task[--k->ntask];
            break;
        }
    sb_thread_reap(k); /* its threads' tasks, which name it as their leader */
    task_free(c);
}

/* wait4's work: the pid reaped, 0 (WNOHANG, none ended), -ECHILD, or
 * SB_PARK until a child ends. */
long sb_sys_wait4(struct sb_task *t, const uint64_t a[6])
{
    if (a[2] & ~(uint64_t)(WNOHANG | WUNTRACED | WCONTINUED | __WALL | __WCLONE | __WNOTHREAD))
        return -EINVAL;
    struct sb_kernel *k = t->k;
    int64_t want = (int32_t)a[0];
    bool any = false;
    for (int i = 0; i < k->ntask; i++) {
        struct sb_task *c = k->task[i];
        if (c->parent != sb_leader(t) || (want > 0 && c->pid != want))
            continue; /* process groups are not kept: 0 and < -1 wait for any child */
        any = true;
        if (!c->zombie)
            continue;
        int32_t status = c->wait_status;
        if (a[1] != 0) {
            int r = sb_copy_out(t->mm, a[1], &status, sizeof(status));
            if (r < 0)
                return r;
        }
        if (a[3] != 0) { /* no accounting kept: a zero rusage */
            static const uint8_t zero[144];
            int r = sb_copy_out(t->mm, a[3], zero, sizeof(zero));
            if (r < 0)
                return r;
        }
        long pid = c->pid;
        sb_task_unlink(k, c);
        return pid;
    }
    if (!any)
        return -ECHILD;
    return a[2] & WNOHANG ? 0 : SB_PARK;
}
