/* Process groups and sessions, as Linux keeps them: a shell's jobs are
 * groups it signals at once (kill(0), kill(-pgid)). The first process is
 * the leader of session 1 and group 1, as a container's init that runc made
 * with setsid; a child inherits both. A zombie keeps its group until it is
 * waited for. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdbool.h>

#include "level/sandbox/kernel/sys.h"

static struct sb_task *find(struct sb_kernel *k, int64_t pid)
{
    for (int i = 0; i < k->ntask; i++)
        if (k->task[i]->pid == pid)
            return k->task[i];
    return NULL;
}

static bool group_in_session(struct sb_kernel *k, int pgid, int sid)
{
    for (int i = 0; i < k->ntask; i++)
        if (k->task[i]->pgid == pgid && k->task[i]->sid == sid)
            return true;
    return false;
}

long sb_sys_setpgid(struct sb_task *t, const uint64_t a[6])
{
    int64_t pid = (int32_t)a[0], pgid = (int32_t)a[1];
    if (pgid < 0)
        return -EINVAL;
    struct sb_task *p = pid == 0 ? t : find(t->k, pid);
    if (p == NULL || (p != t && p->parent != t))
        return -ESRCH;
    if (pgid == 0)
        pgid = p->pid;
    if (p != t && p->sid != t->sid)
        return -EPERM;
    if (p->sid == p->pid) /* a session leader stays its group's */
        return -EPERM;
    if (pgid != p->pid && !group_in_session(t->k, (int)pgid, t->sid))
        return -EPERM;
    p->pgid = (int)pgid;
    return 0;
}

long sb_sys_getpgid(struct sb_task *t, const uint64_t a[6])
{
    struct sb_task *p = (int32_t)a[0] == 0 ? t : find(t->k, (int32_t)a[0]);
    return p == NULL ? -ESRCH : p->pgid;
}

long sb_sys_getpgrp(struct sb_task *t, const uint64_t a[6])
{
    (void)a;
    return t->pgid;
}

long sb_sys_getsid(struct sb_task *t, const uint64_t a[6])
{
    struct sb_task *p = (int32_t)a[0] == 0 ? t : find(t->k, (int32_t)a[0]);
    return p == NULL ? -ESRCH : p->sid;
}

long sb_sys_setsid(struct sb_task *t, const uint64_t a[6])
{
    (void)a;
    for (int i = 0; i < t->k->ntask; i++)
        if (t->k->task[i]->pgid == t->pid)
            return -EPERM; /* it leads a group already */
    t->sid = t->pgid = t->pid;
    return t->sid;
}

long sb_signal_group(struct sb_task *t, int64_t pid, int sig, int code)
{
    /* kill(0): the caller's group; kill(-1): everyone but the first
     * process and the caller; kill(-pgid): that group. */
    struct sb_kernel *k = t->k;
    int pids[SB_MAX_TASKS], n = 0;
    for (int i = 0; i < k->ntask; i++) {
        struct sb_task *p = k->task[i];
        bool in = pid == 0    ? p->pgid == t->pgid
                  : pid == -1 ? p->pid != 1 && p != t
                              : p->pgid == -pid;
        if (in)
            pids[n++] = p->pid;
    }
    if (n == 0)
        return -ESRCH;
    if (sig == 0)
        return 0;
    /* The others first: the caller, if it is one, ends only when its call is done. */
    for (int j = 0; j < n; j++) {
        struct sb_task *p = find(k, pids[j]);
        if (p != NULL && p != t)
            sb_signal_send(t, p, sig, code, t->pid, 0);
    }
    for (int j = 0; j < n; j++)
        if (pids[j] == t->pid)
            sb_signal_send(t, t, sig, code, t->pid, 0);
    return 0;
}
