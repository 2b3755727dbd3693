/* Threads (clone with CLONE_THREAD, clone3), futexes, robust lists.
 *
 * A workload thread is a task of its own — its tid, registers, signal mask,
 * TLS base, pending signals, parked call — sharing its process's address
 * space and descriptors with the others (the same sb_mm and sb_files) and
 * run by its own host thread in the process's stub process, in a thread
 * slot of the stub region (platform_thread.c). The loop schedules threads
 * exactly as processes: each has its own context page in the futex_waitv.
 * A thread's exit ends its host thread; a process's end (exit_group, the
 * last thread's exit, a fault of any thread: the host's kill of the whole
 * stub process) ends every thread. Futex waits park the thread in the
 * kernel, never the loop: the word is read and compared in the kernel's
 * mapping of the address space, a wake marks waiters that the loop then
 * answers. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>

#include "core/util.h"
#include "level/sandbox/kernel/sys.h"

/* The flags of a thread served (glibc's, musl's and Go's pthread-like
 * clones); a thread of its own files or cwd (no CLONE_FILES/CLONE_FS) is not. */
#define THREAD_FLAGS                                                                               \
    (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |            \
     CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID |              \
     CLONE_DETACHED)
#define ROBUST_LIMIT 2048 /* entries walked at most, as Linux's ROBUST_LIST_LIMIT */

static bool alive(const struct sb_task *t)
{
    return !t->zombie && !t->thread_gone;
}

static int live_threads(struct sb_task *t)
{
    struct sb_kernel *k = t->k;
    struct sb_task *l = sb_leader(t);
    int n = 0;
    for (int i = 0; i < k->ntask; i++)
        if (sb_leader(k->task[i]) == l && alive(k->task[i]))
            n++;
    return n;
}

/* A thread slot no live thread of t's process holds, whose host thread
 * (if one ran there) has ended. Slot 0 is the first thread's. */
static int free_slot(struct sb_task *t)
{
    struct sb_kernel *k = t->k;
    struct sb_task *l = sb_leader(t);
    for (int s = 1; s < SB_MAX_THREADS; s++) {
        bool used = false;
        for (int i = 0; i < k->ntask && !used; i++)
            used = sb_leader(k->task[i]) == l && alive(k->task[i]) && k->task[i]->slot == s;
        const struct sb_ctx *c =
            (const struct sb_ctx *)(t->mm->kbase + SB_SLOT_SIZE * (1 + (uint64_t)s));
        if (!used && __atomic_load_n(&c->thread_live, __ATOMIC_ACQUIRE) == 0)
            return s;
    }
    return -1;
}

long sb_thread_clone(struct sb_task *t, const uint64_t a[6])
{
    struct sb_kernel *k = t->k;
    uint64_t flags = a[0];
    if (!(flags & CLONE_SIGHAND) || !(flags & CLONE_VM))
        return -EINVAL; /* as Linux: a thread shares handlers, handlers share memory */
    if ((flags & ~(uint64_t)CSIGNAL & ~(uint64_t)THREAD_FLAGS) != 0 ||
        (flags & (CLONE_FS | CLONE_FILES)) != (CLONE_FS | CLONE_FILES))
        return -ENOSYS;
    uint64_t tls = flags & CLONE_SETTLS ? a[4] : t->fs_base;
    if (tls >= SB_TASK_TOP)
        return -EPERM;
    if (k->ntask == SB_MAX_TASKS)
        return -EAGAIN;
    int slot = free_slot(t);
    if (slot < 0)
        return -EAGAIN;
    struct sb_task *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return -ENOMEM;
    c->k = k;
    c->mm = t->mm;
    c->files = t->files;
    c->pid = t->pid;
    c->tid = k->next_pid;
    c->leader = sb_leader(t);
    c->slot = slot;
    c->fs_base = tls;
    c->sigmask = t->sigmask;
    memcpy(c->act, t->act, sizeof(c->act));
    memcpy(c->cwd, t->cwd, sizeof(c->cwd));
    /* The child returns 0 from the same call, on its own stack. */
    memcpy(c->regs, t->regs, sizeof(c->regs));
    c->regs[SB_RAX] = 0;
    if (a[1] != 0)
        c->regs[SB_RSP] = a[1];
    /* The tid words before the child runs: it may read them at once. */
    uint32_t tid = (uint32_t)c->tid;
    if (flags & CLONE_PARENT_SETTID)
        sb_copy_out(t->mm, a[2], &tid, sizeof(tid));
    if (flags & CLONE_CHILD_SETTID)
        sb_copy_out(t->mm, a[3], &tid, sizeof(tid));
    if (flags & CLONE_CHILD_CLEARTID)
        c->clear_child_tid = a[3];
    long r = sb_stub_thread(&t->stub, t->mm->kbase, slot, c->regs, tls, &c->stub);
    if (r < 0) {
        free(c);
        return r == -ESRCH ? -EAGAIN : r;
    }
    k->next_pid++;
    k->task[k->ntask++] = c;
    return c->tid;
}

/* clone3(struct clone_args *, size): the same as clone's arguments. */
long sb_sys_clone3(struct sb_task *t, const uint64_t a[6])
{
    struct {
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
            set_tid_size, cgroup;
    } ca = {0};
    if (a[1] < 64)
        return -EINVAL; /* CLONE_ARGS_SIZE_VER0 */
    if (a[1] > SB_PAGE)
        return -E2BIG;
    size_t n = a[1] < sizeof(ca) ? a[1] : sizeof(ca);
    int r = sb_copy_in(t->mm, &ca, a[0], n);
    if (r < 0)
        return r;
    for (uint64_t off = sizeof(ca); off < a[1]; off++) { /* a newer caller's fields: unset */
        uint8_t b;
        if ((r = sb_copy_in(t->mm, &b, a[0] + off, 1)) < 0)
            return r;
        if (b != 0)
            return -E2BIG;
    }
    if (ca.set_tid != 0 || ca.set_tid_size != 0)
        return -EPERM; /* choosing pids needs CAP_SYS_ADMIN in the pid namespace */
    if ((ca.exit_signal & ~(uint64_t)CSIGNAL) != 0 ||
        ((ca.flags & (CLONE_THREAD | CLONE_PARENT)) && ca.exit_signal != 0) ||
        (ca.flags & CSIGNAL) != 0 || (ca.stack == 0) != (ca.stack_size == 0))
        return -EINVAL;
    const uint64_t b[6] = {ca.flags | ca.exit_signal, ca.stack ? ca.stack + ca.stack_size : 0,
                           ca.parent_tid, ca.child_tid, ca.tls};
    return sb_sys_clone(t, b);
}

/* The futex word at addr as the kernel's pointer, or NULL (unmapped). */
static uint32_t *futex_word(struct sb_mm *mm, uint64_t addr, int prot)
{
    struct iovec iov;
    if ((addr & 3) != 0 || sb_mm_iov(mm, addr, 4, prot, &iov, 1) != 1)
        return NULL;
    return iov.iov_base;
}

static bool waiting(const struct sb_task *x, const struct sb_mm *mm, uint64_t addr)
{
    return x->mm == mm && x->parked && x->park_fn == sb_sys_futex && !x->futex_woken &&
           x->futex_addr == addr;
}

/* The waiter on addr that has waited longest, among those queued after `seq`. */
static struct sb_task *next_waiter(struct sb_kernel *k, struct sb_mm *mm, uint64_t addr,
                                   uint32_t bitset, uint64_t seq)
{
    struct sb_task *best = NULL;
    for (int i = 0; i < k->ntask; i++) {
        struct sb_task *x = k->task[i];
        if (waiting(x, mm, addr) && (x->futex_bitset & bitset) != 0 && x->futex_seq > seq &&
            (best == NULL || x->futex_seq < best->futex_seq))
            best = x;
    }
    return best;
}

int sb_futex_wake(struct sb_kernel *k, struct sb_mm *mm, uint64_t addr, int n, uint32_t bitset)
{
    int woken = 0;
    for (struct sb_task *x; woken < n && (x = next_waiter(k, mm, addr, bitset, 0)) != NULL;) {
        x->futex_woken = true;
        woken++;
    }
    return woken;
}

static uint64_t futex_seq; /* the order of waits: wakes take the oldest first */

/* FUTEX_WAIT[_BITSET]: parked until woken (0), the timeout (ETIMEDOUT) or a
 * caught signal (EINTR, by the loop). */
static long futex_wait(struct sb_task *t, const uint64_t a[6], uint32_t bitset, bool absolute,
                       bool realtime)
{
    unsigned long long at = 0;
    if (a[3] != 0) {
        struct timespec ts;
        int r = sb_copy_in(t->mm, &ts, a[3], sizeof(ts));
        if (r < 0)
            return r;
        if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000L)
            return -EINVAL;
        /* Beyond ~146 years: as good as none (Linux clamps at KTIME_MAX). */
        unsigned long long ns =
            ts.tv_sec > (1LL << 32)
                ? 1ULL << 62
                : (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec;
        unsigned long long mono = now_ns();
        if (!absolute) {
            at = mono + ns;
        } else if (realtime) {
            struct timespec now;
            clock_gettime(CLOCK_REALTIME, &now);
            unsigned long long rt =
                (unsigned long long)now.tv_sec * 1000000000ULL + (unsigned long long)now.tv_nsec;
            at = mono + (ns > rt ? ns - rt : 0);
        } else {
            at = ns;
        }
        if (at == 0)
            at = 1; /* 0 means no timeout */
    }
    uint32_t *w = futex_word(t->mm, a[0], PROT_READ);
    if (w == NULL)
        return (a[0] & 3) != 0 ? -EINVAL : -EFAULT;
    if (__atomic_load_n(w, __ATOMIC_SEQ_CST) != (uint32_t)a[2])
        return -EAGAIN;
    t->futex_addr = a[0];
    t->futex_bitset = bitset;
    t->futex_woken = false;
    t->futex_seq = ++futex_seq;
    t->wake_at = at;
    return SB_PARK;
}

/* FUTEX_WAKE_OP's operation on the word at w: the old value. */
static uint32_t wake_op(uint32_t *w, unsigned op, uint32_t arg)
{
    switch (op) {
    case FUTEX_OP_SET:
        return __atomic_exchange_n(w, arg, __ATOMIC_SEQ_CST);
    case FUTEX_OP_ADD:
        return __atomic_fetch_add(w, arg, __ATOMIC_SEQ_CST);
    case FUTEX_OP_OR:
        return __atomic_fetch_or(w, arg, __ATOMIC_SEQ_CST);
    case FUTEX_OP_ANDN:
        return __atomic_fetch_and(w, ~arg, __ATOMIC_SEQ_CST);
    default: /* FUTEX_OP_XOR */
        return __atomic_fetch_xor(w, arg, __ATOMIC_SEQ_CST);
    }
}

static long futex_wake_op(struct sb_task *t, const uint64_t a[6])
{
    uint32_t enc = (uint32_t)a[5];
    unsigned op = (enc >> 28) & 7, cmp = (enc >> 24) & 15;
    int32_t oparg = (int32_t)(enc << 8) >> 20, cmparg = (int32_t)(enc << 20) >> 20;
    if (enc & ((uint32_t)FUTEX_OP_OPARG_SHIFT << 28))
        oparg = (int32_t)(1U << (oparg & 31));
    if ((a[0] & 3) != 0 || (a[4] & 3) != 0)
        return -EINVAL;
    if (op > FUTEX_OP_XOR)
        return -ENOSYS;
    uint32_t *w2 = futex_word(t->mm, a[4], PROT_READ | PROT_WRITE);
    if (w2 == NULL)
        return -EFAULT;
    int32_t old = (int32_t)wake_op(w2, op, (uint32_t)oparg);
    bool hit;
    switch (cmp) {
    case FUTEX_OP_CMP_EQ:
        hit = old == cmparg;
        break;
    case FUTEX_OP_CMP_NE:
        hit = old != cmparg;
        break;
    case FUTEX_OP_CMP_LT:
        hit = old < cmparg;
        break;
    case FUTEX_OP_CMP_LE:
        hit = old <= cmparg;
        break;
    case FUTEX_OP_CMP_GT:
        hit = old > cmparg;
        break;
    case FUTEX_OP_CMP_GE:
        hit = old >= cmparg;
        break;
    default:
        return -ENOSYS;
    }
    int n1 = (int)a[2], n2 = (int)a[3];
    int woken = sb_futex_wake(t->k, t->mm, a[0], n1 > 0 ? n1 : 1, FUTEX_BITSET_MATCH_ANY);
    if (hit)
        woken += sb_futex_wake(t->k, t->mm, a[4], n2 > 0 ? n2 : 1, FUTEX_BITSET_MATCH_ANY);
    return woken;
}

/* FUTEX_[CMP_]REQUEUE: up to nr_wake waiters woken, up to nr_requeue of the
 * rest moved to addr2; the count of both, as Linux returns. */
static long futex_requeue(struct sb_task *t, const uint64_t a[6], bool cmp)
{
    int nr_wake = (int)a[2], nr_requeue = (int)a[3];
    if (nr_wake < 0 || nr_requeue < 0 || (a[0] & 3) != 0 || (a[4] & 3) != 0)
        return -EINVAL;
    if (cmp) {
        uint32_t *w = futex_word(t->mm, a[0], PROT_READ);
        if (w == NULL)
            return -EFAULT;
        if (__atomic_load_n(w, __ATOMIC_SEQ_CST) != (uint32_t)a[5])
            return -EAGAIN;
    }
    long n = 0;
    uint64_t seq = 0;
    for (struct sb_task *x;
         n < (long)nr_wake + nr_requeue &&
         (x = next_waiter(t->k, t->mm, a[0], FUTEX_BITSET_MATCH_ANY, seq)) != NULL;
         n++) {
        seq = x->futex_seq;
        if (n < nr_wake)
            x->futex_woken = true;
        else
            x->futex_addr = a[4];
    }
    return n;
}

long sb_sys_futex(struct sb_task *t, const uint64_t a[6])
{
    if (t->parked) { /* a wait made again by the loop */
        if (t->futex_woken)
            return 0;
        return t->wake_at != 0 && now_ns() >= t->wake_at ? -ETIMEDOUT : SB_PARK;
    }
    int op = (int)a[1], cmd = op & FUTEX_CMD_MASK;
    if ((op & FUTEX_CLOCK_REALTIME) && cmd != FUTEX_WAIT_BITSET)
        return -ENOSYS;
    /* FUTEX_PRIVATE_FLAG changes nothing: no memory is shared between
     * processes, so every futex is its address space's. */
    switch (cmd) {
    case FUTEX_WAIT:
        return futex_wait(t, a, FUTEX_BITSET_MATCH_ANY, false, false);
    case FUTEX_WAIT_BITSET:
        if ((uint32_t)a[5] == 0)
            return -EINVAL;
        return futex_wait(t, a, (uint32_t)a[5], true, op & FUTEX_CLOCK_REALTIME);
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: {
        uint32_t bitset = cmd == FUTEX_WAKE ? FUTEX_BITSET_MATCH_ANY : (uint32_t)a[5];
        if (bitset == 0 || (a[0] & 3) != 0)
            return -EINVAL;
        if (a[0] >= SB_TASK_TOP)
            return -EFAULT;
        int n = (int)a[2]; /* Linux wakes one for 0 or less */
        return sb_futex_wake(t->k, t->mm, a[0], n > 0 ? n : 1, bitset);
    }
    case FUTEX_REQUEUE:
        return futex_requeue(t, a, false);
    case FUTEX_CMP_REQUEUE:
        return futex_requeue(t, a, true);
    case FUTEX_WAKE_OP:
        return futex_wake_op(t, a);
    default:
        return -ENOSYS; /* priority inheritance, FUTEX_FD */
    }
}

long sb_sys_set_robust_list(struct sb_task *t, const uint64_t a[6])
{
    if (a[1] != 3 * sizeof(uint64_t))
        return -EINVAL;
    t->robust_list = a[0];
    t->robust_len = a[1];
    return 0;
}

long sb_sys_get_robust_list(struct sb_task *t, const uint64_t a[6])
{
    struct sb_task *x = (int32_t)a[0] == 0 ? t : sb_thread_find(t->k, 0, (int32_t)a[0]);
    if (x == NULL)
        return -ESRCH;
    uint64_t len = 3 * sizeof(uint64_t);
    int r = sb_copy_out(t->mm, a[2], &len, sizeof(len));
    if (r < 0)
        return r;
    return sb_copy_out(t->mm, a[1], &x->robust_list, sizeof(x->robust_list));
}

/* A robust mutex held by the dying thread t: marked FUTEX_OWNER_DIED, a
 * waiter woken (Linux's handle_futex_death). */
static void futex_death(struct sb_task *t, uint64_t addr, bool pi, bool pending)
{
    uint32_t *w = futex_word(t->mm, addr, PROT_READ | PROT_WRITE);
    if (w == NULL)
        return;
    uint32_t v = __atomic_load_n(w, __ATOMIC_SEQ_CST);
    for (;;) {
        if (pending && !pi && v == 0) { /* released, its waiter not yet woken */
            sb_futex_wake(t->k, t->mm, addr, 1, FUTEX_BITSET_MATCH_ANY);
            return;
        }
        if ((v & FUTEX_TID_MASK) != (uint32_t)t->tid)
            return;
        uint32_t owner_died = (v & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
        if (__atomic_compare_exchange_n(w, &v, owner_died, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST))
            break;
    }
    if (!pi && (v & FUTEX_WAITERS))
        sb_futex_wake(t->k, t->mm, addr, 1, FUTEX_BITSET_MATCH_ANY);
}

/* struct robust_list_head { next; futex_offset; list_op_pending }: each
 * entry's bit 0 says PI. Untrusted: bounded, every read checked. */
static void robust_walk(struct sb_task *t)
{
    uint64_t head = t->robust_list;
    struct {
        uint64_t next;
        int64_t off;
        uint64_t pending;
    } h;
    t->robust_list = 0;
    if (head == 0 || sb_copy_in(t->mm, &h, head, sizeof(h)) < 0)
        return;
    uint64_t entry = h.next, pending = h.pending & ~1ULL;
    for (int n = 0; (entry & ~1ULL) != head && n < ROBUST_LIMIT; n++) {
        uint64_t e = entry & ~1ULL, next;
        if (sb_copy_in(t->mm, &next, e, sizeof(next)) < 0)
            return;
        if (e != pending)
            futex_death(t, e + (uint64_t)h.off, entry & 1, false);
        entry = next;
    }
    if (pending != 0)
        futex_death(t, pending + (uint64_t)h.off, h.pending & 1, true);
}

long sb_thread_exit(struct sb_task *t, int code)
{
    struct sb_task *l = sb_leader(t);
    if (live_threads(t) <= 1) { /* the last thread: the process ends, with the leader's code */
        t->exited = true;
        t->exit_status = l != t && l->thread_gone ? l->exit_status : (code & 0xff) << 8;
        return 0;
    }
    robust_walk(t);
    if (t->clear_child_tid != 0) { /* what pthread_join waits for */
        uint32_t zero = 0;
        if (sb_copy_out(t->mm, t->clear_child_tid, &zero, sizeof(zero)) == 0)
            sb_futex_wake(t->k, t->mm, t->clear_child_tid, 1, FUTEX_BITSET_MATCH_ANY);
        t->clear_child_tid = 0;
    }
    sb_stub_thread_exit(&t->stub);
    t->thread_gone = true;
    t->parked = false;
    t->exit_status = (code & 0xff) << 8;
    return 0;
}

struct sb_task *sb_thread_group_end(struct sb_task *t)
{
    struct sb_kernel *k = t->k;
    struct sb_task *l = sb_leader(t);
    if (l->zombie)
        return l;
    for (int i = 0; i < k->ntask; i++) {
        struct sb_task *x = k->task[i];
        if (x == l || sb_leader(x) != l)
            continue;
        if (x->stub.dead && !l->stub.dead) { /* the host process was reaped through x */
            l->stub.dead = 1;
            l->stub.status = x->stub.status;
        }
        x->zombie = true;
        x->thread_gone = true;
        x->parked = false;
        x->mm = NULL;
        x->files = NULL;
    }
    return l;
}

void sb_thread_reap(struct sb_kernel *k)
{
    for (int i = 0; i < k->ntask;) {
        struct sb_task *x = k->task[i];
        if (x->leader != NULL && x->leader != x && (x->zombie || x->thread_gone)) {
            k->task[i] = k->task[--k->ntask];
            free(x);
        } else {
            i++;
        }
    }
}

void sb_thread_share(struct sb_task *t)
{
    struct sb_kernel *k = t->k;
    struct sb_task *l = sb_leader(t);
    if (t->zombie)
        return;
    for (int i = 0; i < k->ntask; i++) {
        struct sb_task *x = k->task[i];
        if (x == t || sb_leader(x) != l || x->zombie)
            continue;
        memcpy(x->act, t->act, sizeof(x->act));
        if (strcmp(x->cwd, t->cwd) != 0)
            memcpy(x->cwd, t->cwd, sizeof(x->cwd));
    }
}

/* x waits in sigwait (rt_sigtimedwait) for a set holding bit. */
static bool sigwaits_for(struct sb_task *x, uint64_t bit)
{
    uint64_t set;
    return x->parked && x->park_nr == SYS_rt_sigtimedwait &&
           sb_copy_in(x->mm, &set, x->park_args[0], sizeof(set)) == 0 && (set & bit);
}

struct sb_task *sb_thread_for_signal(struct sb_task *leader, int sig)
{
    struct sb_kernel *k = leader->k;
    uint64_t bit = 1ULL << (sig - 1);
    if (alive(leader) && !(leader->sigmask & bit))
        return leader;
    /* Another thread that does not block it, else one waiting for it in
     * sigwait (the signal thread of many daemons), else any. */
    struct sb_task *any = alive(leader) ? leader : NULL, *waiter = NULL;
    for (int i = 0; i < k->ntask; i++) {
        struct sb_task *x = k->task[i];
        if (sb_leader(x) != leader || !alive(x))
            continue;
        if (!(x->sigmask & bit))
            return x;
        if (waiter == NULL && sigwaits_for(x, bit))
            waiter = x;
        if (any == NULL)
            any = x;
    }
    return waiter != NULL ? waiter : any != NULL ? any : leader;
}

struct sb_task *sb_thread_find(struct sb_kernel *k, int64_t tgid, int64_t tid)
{
    for (int i = 0; i < k->ntask; i++) {
        struct sb_task *x = k->task[i];
        /* A process's first thread answers for it while it is a zombie. */
        if (x->tid == tid && (tgid <= 0 || x->pid == tgid) && (alive(x) || sb_leader(x) == x))
            return x;
    }
    return NULL;
}

int sb_thread_exec(struct sb_task **tp)
{
    struct sb_task *t = *tp, *l = sb_leader(t);
    struct sb_kernel *k = t->k;
    if (t == l && live_threads(t) == 1)
        return 0;
    /* Linux's de_thread: every other thread ends. A host thread cannot be
     * ended alone while it runs the workload's code, so the whole stub
     * process goes and the leader gets a new one, with a new (empty)
     * address space: execve replaces it anyway. */
    for (int i = 0; i < k->ntask; i++) {
        struct sb_task *x = k->task[i];
        if (x != l && sb_leader(x) == l) {
            x->thread_gone = true;
            x->parked = false;
        }
    }
    sb_stub_kill(&l->stub);
    struct sb_mm *mm = calloc(1, sizeof(*mm));
    cerr_t err = NULL;
    if (mm != NULL && sb_mm_init(mm, &err) < 0) {
        free(mm);
        mm = NULL;
    }
    if (mm != NULL) {
        sb_mm_free(l->mm);
        free(l->mm);
        l->mm = mm;
    }
    if (t != l) { /* the caller's thread carries on as the leader, with the leader's pid */
        memcpy(l->regs, t->regs, sizeof(l->regs));
        l->sigmask = t->sigmask;
        l->sigpending = t->sigpending;
        memcpy(l->siginfo, t->siginfo, sizeof(l->siginfo));
        memcpy(l->act, t->act, sizeof(l->act));
        l->thread_gone = false;
        l->exit_status = 0;
        t->mm = l->mm;
    }
    l->parked = false;
    l->robust_list = 0;
    l->clear_child_tid = 0;
    *tp = l;
    if (mm == NULL || sb_stub_spawn(&k->zygote, mm->memfd, mm->kbase, &l->stub, &err) < 0) {
        cerr_free(&err);
        l->stub.dead = 1;
        l->stub.status = SIGSEGV;
        return -1;
    }
    return 0;
}

void sb_thread_exec_done(struct sb_task *caller, struct sb_task *l)
{
    if (caller == l)
        return;
    if (l->exited) {
        sb_task_exit(l, l->exit_status);
        return;
    }
    memcpy(l->stub.ctx->regs, l->regs, sizeof(l->regs));
    l->set_regs = false;
    sb_stub_reply(&l->stub, SB_OP_REGS);
}

long sb_sys_sched_yield(struct sb_task *t, const uint64_t a[6])
{
    (void)t;
    (void)a;
    return 0;
}

long sb_sys_sched_getaffinity(struct sb_task *t, const uint64_t a[6])
{
    if ((int32_t)a[0] != 0 && sb_thread_find(t->k, 0, (int32_t)a[0]) == NULL)
        return -ESRCH;
    uint64_t cpus[16];
    memcpy(cpus, t->k->cpus, sizeof(cpus));
    unsigned words = 1;
    for (unsigned i = 0; i < 16; i++)
        if (cpus[i] != 0)
            words = i + 1;
    if (words == 1 && cpus[0] == 0)
        cpus[0] = 1; /* not read at start: CPU 0 */
    uint64_t size = words * sizeof(uint64_t);
    if (a[1] < size || (a[1] & (sizeof(uint64_t) - 1)) != 0)
        return -EINVAL;
    int r = sb_copy_out(t->mm, a[2], cpus, size);
    return r < 0 ? r : (long)size;
}
