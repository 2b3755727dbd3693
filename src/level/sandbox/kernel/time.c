/* Clocks and randomness, from the host's. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/util.h"
#include "level/sandbox/kernel/sys.h"

/* The fixed clocks only: no per-process/thread CPU clocks of the host's. */
static bool fixed_clock(uint64_t id)
{
    switch (id) {
    case CLOCK_REALTIME:
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_REALTIME_COARSE:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
        return true;
    default:
        return false;
    }
}

long sb_sys_clock_gettime(struct sb_task *t, const uint64_t a[6])
{
    if (!fixed_clock(a[0]))
        return -EINVAL;
    struct timespec ts;
    if (clock_gettime((clockid_t)a[0], &ts) < 0)
        return -errno;
    return sb_copy_out(t->mm, a[1], &ts, sizeof(ts));
}

/* The host's resolution of the same clock (1 ns with high-resolution
 * timers, a tick for the coarse ones); res may be NULL, as on Linux. */
long sb_sys_clock_getres(struct sb_task *t, const uint64_t a[6])
{
    if (!fixed_clock(a[0]))
        return -EINVAL;
    struct timespec ts;
    if (syscall(SYS_clock_getres, (clockid_t)a[0], &ts) < 0)
        return -errno;
    return a[1] == 0 ? 0 : sb_copy_out(t->mm, a[1], &ts, sizeof(ts));
}

long sb_sys_gettimeofday(struct sb_task *t, const uint64_t a[6])
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    if (a[0] != 0) {
        int r = sb_copy_out(t->mm, a[0], &tv, sizeof(tv));
        if (r < 0)
            return r;
    }
    return 0;
}

long sb_sys_time(struct sb_task *t, const uint64_t a[6])
{
    struct timespec ts; /* not time(): clock_gettime is the host call the filter keeps */
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec;
    if (a[0] != 0) {
        int r = sb_copy_out(t->mm, a[0], &now, sizeof(now));
        if (r < 0)
            return r;
    }
    return now;
}

long sb_sys_getrandom(struct sb_task *t, const uint64_t a[6])
{
    if (a[2] & ~(uint64_t)(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE))
        return -EINVAL;
    uint64_t len = a[1] > (1 << 20) ? (1 << 20) : a[1];
    struct iovec iov[16];
    int n = sb_mm_iov(t->mm, a[0], len, PROT_WRITE, iov, 16);
    if (n < 0)
        return n;
    long total = 0;
    for (int i = 0; i < n; i++) {
        ssize_t r = getrandom(iov[i].iov_base, iov[i].iov_len, 0);
        if (r < 0)
            return total > 0 ? total : -errno;
        total += r;
    }
    return total;
}

/* A sleep parks the process until its end: the kernel's loop wakes for the
 * nearest one. Nothing interrupts it yet (no signals are delivered). */
static long sleep_until(struct sb_task *t, clockid_t clock, uint64_t ureq, bool absolute)
{
    if (!t->parked) {
        struct timespec req, now;
        int r = sb_copy_in(t->mm, &req, ureq, sizeof(req));
        if (r < 0)
            return r;
        if (req.tv_sec < 0 || req.tv_nsec < 0 || req.tv_nsec >= 1000000000L)
            return -EINVAL;
        unsigned long long ns =
            (unsigned long long)req.tv_sec * 1000000000ULL + (unsigned long long)req.tv_nsec;
        if (absolute) {
            clock_gettime(clock, &now);
            unsigned long long at =
                (unsigned long long)now.tv_sec * 1000000000ULL + (unsigned long long)now.tv_nsec;
            ns = ns > at ? ns - at : 0;
        }
        t->wake_at = now_ns() + ns;
    }
    if (now_ns() >= t->wake_at) {
        t->wake_at = 0;
        return 0;
    }
    return SB_PARK;
}

long sb_sys_nanosleep(struct sb_task *t, const uint64_t a[6])
{
    return sleep_until(t, CLOCK_MONOTONIC, a[0], false);
}

long sb_sys_clock_nanosleep(struct sb_task *t, const uint64_t a[6])
{
    if (a[0] != CLOCK_MONOTONIC && a[0] != CLOCK_REALTIME && a[0] != CLOCK_BOOTTIME)
        return -EINVAL;
    return sleep_until(t, (clockid_t)a[0], a[2], a[1] & TIMER_ABSTIME);
}
