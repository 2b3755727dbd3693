/* The memory system calls: brk, mmap, munmap, mprotect (mm.c does the work). */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "level/sandbox/kernel/sys.h"

long sb_sys_brk(struct sb_task *t, const uint64_t a[6])
{
    struct sb_mm *mm = t->mm;
    uint64_t want = a[0];
    if (want < mm->brk_start || want > SB_MMAP_TOP)
        return (long)mm->brk;
    uint64_t old_top = SB_PAGE_UP(mm->brk), new_top = SB_PAGE_UP(want);
    if (new_top > old_top) {
        if (!sb_mm_is_free(mm, old_top, new_top - old_top) ||
            sb_mm_map(t, old_top, new_top - old_top, PROT_READ | PROT_WRITE, true) < 0)
            return (long)mm->brk;
    } else if (new_top < old_top && sb_mm_unmap(t, new_top, old_top - new_top) < 0) {
        return (long)mm->brk;
    }
    mm->brk = want;
    return (long)want;
}

#define IGNORED_FLAGS (MAP_NORESERVE | MAP_POPULATE | MAP_STACK | MAP_DENYWRITE | MAP_EXECUTABLE)

long sb_sys_mmap(struct sb_task *t, const uint64_t a[6])
{
    uint64_t addr = a[0], len = a[1], flags = a[3], off = a[5];
    int prot = (int)a[2];
    uint64_t type = flags & MAP_TYPE;
    if (type != MAP_PRIVATE && type != MAP_SHARED)
        return -EINVAL;
    if (flags & ~(MAP_TYPE | MAP_FIXED | MAP_FIXED_NOREPLACE | MAP_ANONYMOUS | IGNORED_FLAGS))
        return -EINVAL;
    if (len == 0 || off % SB_PAGE != 0)
        return -EINVAL;
    struct sb_file *f = NULL;
    if (!(flags & MAP_ANONYMOUS)) {
        f = sb_fd_get(t->files, a[4]);
        if (f == NULL)
            return -EBADF;
        if (type == MAP_SHARED && (prot & PROT_WRITE))
            return -ENODEV; /* shared writable file mappings: not yet */
    }
    bool fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);
    if (flags & MAP_FIXED_NOREPLACE && !sb_mm_is_free(t->mm, addr, SB_PAGE_UP(len)))
        return -EEXIST;
    if (!fixed && addr != 0) {
        /* A hint is taken when it is free. */
        addr = SB_PAGE_DOWN(addr);
        fixed = addr >= SB_MMAP_MIN && sb_mm_is_free(t->mm, addr, SB_PAGE_UP(len));
        if (!fixed)
            addr = 0;
    }
    if (f == NULL)
        return sb_mm_map(t, addr, len, prot, fixed);
    /* A file: a private copy of its contents (pages past the end stay zero). */
    long at = sb_mm_map(t, addr, len, PROT_READ | PROT_WRITE, fixed);
    if (at < 0)
        return at;
    struct iovec iov[64];
    int n = sb_mm_iov(t->mm, (uint64_t)at, len, PROT_WRITE, iov, 64);
    ssize_t r = n < 0 ? n : preadv(f->host, iov, n, (off_t)off);
    long p = r < 0 ? (n < 0 ? n : -errno) : sb_mm_protect(t, (uint64_t)at, len, prot);
    if (p < 0) {
        sb_mm_unmap(t, (uint64_t)at, len);
        return p;
    }
    return at;
}

long sb_sys_munmap(struct sb_task *t, const uint64_t a[6])
{
    return sb_mm_unmap(t, a[0], a[1]);
}

long sb_sys_mprotect(struct sb_task *t, const uint64_t a[6])
{
    return sb_mm_protect(t, a[0], a[1], (int)a[2]);
}
