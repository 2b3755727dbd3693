/* The rest of the memory calls: mremap, madvise, msync, mincore and the
 * mlock family (mm.c does the work). Nothing is ever paged out of the
 * memfd, so locking only checks its range, as Linux's errors go. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/mman.h>

#include "level/sandbox/kernel/sys.h"

/* Linux's numbers, newer than some C libraries' headers. */
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#ifndef MADV_SOFT_OFFLINE
#define MADV_SOFT_OFFLINE 101
#endif

/* A page-aligned addr and a length rounded up to pages: -EINVAL else. */
static long range(uint64_t addr, uint64_t *len)
{
    if (addr % SB_PAGE != 0 || *len > SB_TASK_TOP || addr > SB_TASK_TOP)
        return -EINVAL;
    *len = SB_PAGE_UP(*len);
    return 0;
}

long sb_sys_mremap(struct sb_task *t, const uint64_t a[6])
{
    uint64_t old = a[0], olen = a[1], nlen = a[2], flags = a[3], naddr = a[4];
    if (flags & ~(uint64_t)(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP))
        return -EINVAL;
    if ((flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) && !(flags & MREMAP_MAYMOVE))
        return -EINVAL;
    if (range(old, &olen) < 0 || nlen == 0 || nlen > SB_TASK_TOP)
        return -EINVAL;
    nlen = SB_PAGE_UP(nlen);
    if ((flags & MREMAP_DONTUNMAP) && olen != nlen)
        return -EINVAL;
    if (flags & MREMAP_FIXED && (naddr % SB_PAGE != 0 || naddr > SB_TASK_TOP - nlen))
        return -EINVAL;
    /* old_len 0 duplicates a shared mapping: none here is one (a copy). */
    if (olen == 0)
        return -EINVAL;
    return sb_mm_remap(t, old, olen, nlen, flags, naddr);
}

long sb_sys_madvise(struct sb_task *t, const uint64_t a[6])
{
    uint64_t addr = a[0], len = a[1];
    if (range(addr, &len) < 0)
        return -EINVAL;
    switch (a[2]) {
    case MADV_DONTNEED:
    case MADV_DONTNEED_LOCKED:
    case MADV_FREE: /* its pages may be freed at once */
        return len == 0 ? 0 : sb_mm_discard(t->mm, addr, len);
    case MADV_NORMAL:
    case MADV_RANDOM:
    case MADV_SEQUENTIAL:
    case MADV_WILLNEED:
    case MADV_COLD:
    case MADV_PAGEOUT:
    case MADV_POPULATE_READ:
    case MADV_POPULATE_WRITE:
    case MADV_MERGEABLE:
    case MADV_UNMERGEABLE:
    case MADV_HUGEPAGE:
    case MADV_NOHUGEPAGE:
    case MADV_COLLAPSE:
    case MADV_DONTDUMP:
    case MADV_DODUMP:
    case MADV_DOFORK:
    case MADV_KEEPONFORK:
    /* A forked child still gets the pages (a copy): memory, not a leak of
     * anything the child could not read before the fork. */
    case MADV_DONTFORK:
        return len == 0 ? 0 : sb_mm_covered(t->mm, addr, len);
    case MADV_HWPOISON:
    case MADV_SOFT_OFFLINE:
        return -EPERM; /* CAP_SYS_ADMIN's */
    default:
        /* MADV_WIPEONFORK (a child's copy would not be wiped: its callers
         * fall back when refused, as on a kernel without it), MADV_REMOVE
         * (no mapping here is the file's own pages), unknown advice. */
        return -EINVAL;
    }
}

long sb_sys_msync(struct sb_task *t, const uint64_t a[6])
{
    uint64_t addr = a[0], len = a[1], flags = a[2];
    if (range(addr, &len) < 0 || flags & ~(uint64_t)(MS_ASYNC | MS_SYNC | MS_INVALIDATE) ||
        ((flags & MS_ASYNC) && (flags & MS_SYNC)))
        return -EINVAL;
    /* Nothing to write back: no mapping is a writable file's own pages. */
    return len == 0 ? 0 : sb_mm_covered(t->mm, addr, len);
}

/* mlock and munlock take any address (rounded down), as Linux. */
static long lock_range(struct sb_task *t, uint64_t addr, uint64_t len)
{
    uint64_t start = SB_PAGE_DOWN(addr);
    if (len > SB_TASK_TOP || addr > SB_TASK_TOP)
        return -ENOMEM;
    len = SB_PAGE_UP(addr + len) - start;
    return len == 0 ? 0 : sb_mm_covered(t->mm, start, len);
}

long sb_sys_mlock(struct sb_task *t, const uint64_t a[6])
{
    return lock_range(t, a[0], a[1]);
}

long sb_sys_mlock2(struct sb_task *t, const uint64_t a[6])
{
    if (a[2] & ~(uint64_t)MLOCK_ONFAULT)
        return -EINVAL;
    return lock_range(t, a[0], a[1]);
}

long sb_sys_munlock(struct sb_task *t, const uint64_t a[6])
{
    return lock_range(t, a[0], a[1]);
}

long sb_sys_mlockall(struct sb_task *t, const uint64_t a[6])
{
    (void)t;
    uint64_t f = a[0];
    if (f == 0 || f & ~(uint64_t)(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) || f == MCL_ONFAULT)
        return -EINVAL;
    return 0;
}

long sb_sys_munlockall(struct sb_task *t, const uint64_t a[6])
{
    (void)t, (void)a;
    return 0;
}

long sb_sys_mincore(struct sb_task *t, const uint64_t a[6])
{
    uint64_t addr = a[0], len = a[1], vec = a[2];
    if (range(addr, &len) < 0)
        return -EINVAL;
    long r = sb_mm_covered(t->mm, addr, len);
    if (r < 0)
        return r;
    /* A chunk at a time: len can be all of the address space. */
    uint8_t buf[4096];
    for (uint64_t done = 0; done < len && r == 0; done += sizeof(buf) * SB_PAGE) {
        uint64_t chunk = len - done < sizeof(buf) * SB_PAGE ? len - done : sizeof(buf) * SB_PAGE;
        sb_mm_resident(t->mm, addr + done, chunk, buf);
        r = sb_copy_out(t->mm, vec + done / SB_PAGE, buf, chunk / SB_PAGE);
    }
    return r;
}
