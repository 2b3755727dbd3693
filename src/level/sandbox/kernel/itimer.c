/* Interval timers: alarm, setitimer, getitimer. ITIMER_REAL is the
 * process's (its thread group leader's task keeps it; not inherited by
 * fork, kept by execve): at its end SIGALRM goes to the process, as Linux's
 * it_real_fn, and the loop wakes for the nearest end as it does for a
 * sleep's. ITIMER_VIRTUAL and ITIMER_PROF count the process's CPU time,
 * which the kernel does not keep: arming one is ENOSYS (counted, so that
 * --debug names it). */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <sys/time.h>

#include "core/util.h"
#include "level/sandbox/kernel/sys.h"

#define NS_SEC  1000000000ULL
#define NS_USEC 1000ULL

static unsigned long long tv_ns(const struct timeval *tv)
{
    return (unsigned long long)tv->tv_sec * NS_SEC + (unsigned long long)tv->tv_usec * NS_USEC;
}

static struct timeval ns_tv(unsigned long long ns)
{
    return (struct timeval){.tv_sec = (time_t)(ns / NS_SEC),
                            .tv_usec = (suseconds_t)(ns % NS_SEC / NS_USEC)};
}

/* The nearest end of any process's timer, for the loop. */
static void recompute(struct sb_kernel *k)
{
    unsigned long long next = 0;
    for (int i = 0; i < k->ntask; i++) {
        const struct sb_task *t = k->task[i];
        if (!t->zombie && t->itimer_at != 0 && (next == 0 || t->itimer_at < next))
            next = t->itimer_at;
    }
    k->itimer_next = next;
}

/* ITIMER_REAL as getitimer reports it: the time left (never 0 while armed,
 * as Linux's itimer_get_remtime) and the interval. */
static struct itimerval current(const struct sb_task *l)
{
    struct itimerval v = {.it_interval = ns_tv(l->itimer_interval)};
    if (l->itimer_at != 0) {
        unsigned long long now = now_ns();
        v.it_value = ns_tv(l->itimer_at > now + NS_USEC ? l->itimer_at - now : NS_USEC);
    }
    return v;
}

static void arm(struct sb_task *l, unsigned long long value, unsigned long long interval)
{
    l->itimer_at = value != 0 ? now_ns() + value : 0;
    l->itimer_interval = value != 0 ? interval : 0;
    recompute(l->k);
}

long sb_sys_setitimer(struct sb_task *t, const uint64_t a[6])
{
    struct itimerval nv = {0}, old = {0};
    /* A NULL new value disarms, as Linux (which warns about it) does. */
    if (a[1] != 0) {
        int r = sb_copy_in(t->mm, &nv, a[1], sizeof(nv));
        if (r < 0)
            return r;
    }
    const struct timeval *tv[2] = {&nv.it_value, &nv.it_interval};
    for (int i = 0; i < 2; i++)
        if (tv[i]->tv_sec < 0 || tv[i]->tv_usec < 0 || tv[i]->tv_usec >= 1000000)
            return -EINVAL;
    struct sb_task *l = sb_leader(t);
    switch (a[0]) {
    case ITIMER_REAL:
        old = current(l);
        arm(l, tv_ns(&nv.it_value), tv_ns(&nv.it_interval));
        break;
    case ITIMER_VIRTUAL:
    case ITIMER_PROF:
        if (timerisset(&nv.it_value)) {
            t->k->enosys[SYS_setitimer]++;
            return -ENOSYS;
        }
        break; /* disarming one never armed: nothing was left */
    default:
        return -EINVAL;
    }
    return a[2] == 0 ? 0 : sb_copy_out(t->mm, a[2], &old, sizeof(old));
}

long sb_sys_getitimer(struct sb_task *t, const uint64_t a[6])
{
    struct itimerval v = {0};
    switch (a[0]) {
    case ITIMER_REAL:
        v = current(sb_leader(t));
        break;
    case ITIMER_VIRTUAL:
    case ITIMER_PROF:
        break; /* never armed (above) */
    default:
        return -EINVAL;
    }
    return sb_copy_out(t->mm, a[1], &v, sizeof(v));
}

long sb_sys_alarm(struct sb_task *t, const uint64_t a[6])
{
    unsigned int secs = (unsigned int)a[0];
    if (secs > INT_MAX) /* as Linux's alarm_setitimer, against overflow */
        secs = INT_MAX;
    struct sb_task *l = sb_leader(t);
    struct itimerval old = current(l);
    arm(l, (unsigned long long)secs * NS_SEC, 0);
    /* The seconds left, rounded to the nearest, and never 0 while armed. */
    long left = (long)old.it_value.tv_sec;
    if ((left == 0 && old.it_value.tv_usec != 0) || old.it_value.tv_usec >= 500000)
        left++;
    return left;
}

unsigned long long sb_itimer_next(const struct sb_kernel *k)
{
    return k->itimer_next;
}

bool sb_itimer_fire(struct sb_kernel *k)
{
    unsigned long long now = now_ns();
    if (k->itimer_next == 0 || now < k->itimer_next)
        return false;
    for (int i = 0; i < k->ntask; i++) {
        struct sb_task *l = k->task[i];
        if (l->zombie || l->itimer_at == 0 || now < l->itimer_at)
            continue;
        /* The next end after now (overruns skipped, as hrtimer_forward). */
        unsigned long long iv = l->itimer_interval;
        l->itimer_at = iv == 0 ? 0 : l->itimer_at + iv * ((now - l->itimer_at) / iv + 1);
        sb_signal_send(NULL, sb_thread_for_signal(l, SIGALRM), SIGALRM, SI_KERNEL, 0, 0);
    }
    recompute(k);
    return true;
}
