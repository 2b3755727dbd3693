/* Clocks and randomness, from the host's. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/random.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <sys/mman.h>

#include "level/sandbox/kernel/sys.h"

long sb_sys_clock_gettime(struct sb_task *t, const uint64_t a[6])
{
    /* The fixed clocks only: no per-process/thread CPU clocks of the host's. */
    switch (a[0]) {
    case CLOCK_REALTIME:
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_REALTIME_COARSE:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
        break;
    default:
        return -EINVAL;
    }
    struct timespec ts;
    if (clock_gettime((clockid_t)a[0], &ts) < 0)
        return -errno;
    return sb_copy_out(t->mm, a[1], &ts, sizeof(ts));
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
