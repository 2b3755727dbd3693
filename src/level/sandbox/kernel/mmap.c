/* The memory system calls: brk, mmap, munmap, mprotect (mm.c does the work).
 * A file mapping is a copy of the file's pages taken when it is made: private
 * ones as Linux's until written; shared ones only when read-only (the file
 * opened read-only or the mapping never writable), and without seeing later
 * writes to the file. A shared writable file mapping would need the file's
 * own pages in the stub (docs/sandbox.md, "Next"). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
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

#ifndef MAP_UNINITIALIZED
#define MAP_UNINITIALIZED 0x4000000
#endif
/* The flags Linux knows besides the type (LEGACY_MAP_MASK, MAP_SYNC,
 * MAP_FIXED_NOREPLACE): others are ignored, as Linux ignores them, unless
 * the type is MAP_SHARED_VALIDATE. MAP_LOCKED and MAP_GROWSDOWN map
 * ordinary memory (nothing is paged out; a growsdown mapping does not grow). */
#define KNOWN_FLAGS                                                                                \
    (MAP_FIXED | MAP_FIXED_NOREPLACE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_POPULATE | MAP_STACK |  \
     MAP_DENYWRITE | MAP_EXECUTABLE | MAP_NONBLOCK | MAP_LOCKED | MAP_GROWSDOWN | MAP_32BIT |      \
     MAP_HUGETLB | MAP_UNINITIALIZED | ((uint64_t)0x3f << MAP_HUGE_SHIFT))

long sb_sys_mmap(struct sb_task *t, const uint64_t a[6])
{
    uint64_t addr = a[0], len = a[1], flags = a[3], off = a[5];
    int prot = (int)a[2];
    uint64_t type = flags & MAP_TYPE;
    if (type != MAP_PRIVATE && type != MAP_SHARED && type != MAP_SHARED_VALIDATE)
        return -EINVAL;
    if (type == MAP_SHARED_VALIDATE && flags & MAP_ANONYMOUS)
        return -EINVAL; /* as Linux: a file's type only */
    if (type == MAP_SHARED_VALIDATE && flags & ~(MAP_TYPE | KNOWN_FLAGS))
        return -EOPNOTSUPP; /* MAP_SYNC among them: no DAX file here */
    if (type == MAP_SHARED_VALIDATE)
        type = MAP_SHARED;
    if (len == 0 || off % SB_PAGE != 0)
        return -EINVAL;
    if (flags & MAP_HUGETLB && flags & MAP_ANONYMOUS)
        return -ENOMEM; /* no huge pages reserved, as a host with none */
    if (len > SB_TASK_TOP)
        return -ENOMEM;
    if (!(flags & MAP_ANONYMOUS) && off + SB_PAGE_UP(len) < off)
        return -EOVERFLOW;
    struct sb_file *f = NULL;
    int vflags = type == MAP_SHARED ? SB_VMA_BACKED : 0;
    if (!(flags & MAP_ANONYMOUS)) {
        f = sb_fd_get(t->files, a[4]);
        int fl = f == NULL ? -1 : fcntl(f->host, F_GETFL);
        struct stat st;
        if (f == NULL || fl < 0 || (fl & O_PATH))
            return -EBADF;
        if (fstat(f->host, &st) < 0)
            return -errno;
        if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 5))
            f = NULL; /* /dev/zero: anonymous memory */
        else if (!S_ISREG(st.st_mode))
            return -ENODEV;
        else if ((fl & O_ACCMODE) == O_WRONLY)
            return -EACCES;
        else if (type == MAP_SHARED && (prot & PROT_WRITE))
            return (fl & O_ACCMODE) != O_RDWR || (fl & O_APPEND) ? -EACCES : -ENODEV;
        else
            vflags = SB_VMA_BACKED |
                     (type == MAP_SHARED && (fl & O_ACCMODE) != O_RDWR ? SB_VMA_NOWRITE : 0);
    }
    bool fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);
    if (flags & MAP_FIXED_NOREPLACE && !sb_mm_is_free(t->mm, addr, SB_PAGE_UP(len)))
        return -EEXIST;
    if (!fixed && flags & MAP_32BIT) {
        /* x86-64's MAP_32BIT: in the second GiB, as Linux places it. */
        addr = sb_mm_free_below(t->mm, SB_PAGE_UP(len), 0x40000000, 0x80000000);
        if (addr == 0)
            return -ENOMEM;
        fixed = true;
    } else if (!fixed && addr != 0) {
        /* A hint is taken when it is free. */
        addr = SB_PAGE_DOWN(addr);
        fixed = addr >= SB_MMAP_MIN && sb_mm_is_free(t->mm, addr, SB_PAGE_UP(len));
        if (!fixed)
            addr = 0;
    }
    if (f == NULL) {
        long at = sb_mm_map(t, addr, len, prot, fixed);
        if (at >= 0 && vflags)
            sb_mm_set_flags(t->mm, (uint64_t)at, len, vflags);
        return at;
    }
    /* A file: a copy of its contents (pages past the end stay zero). */
    long at = sb_mm_map(t, addr, len, PROT_READ | PROT_WRITE, fixed);
    if (at < 0)
        return at;
    long p = 0;
    for (uint64_t done = 0; done < len;) {
        struct iovec iov[16];
        int n = sb_mm_iov(t->mm, (uint64_t)at + done, len - done, PROT_WRITE, iov, 16);
        ssize_t r = n < 0 ? -1 : preadv(f->host, iov, n, (off_t)(off + done));
        if (r < 0)
            p = n < 0 ? n : -errno;
        if (r <= 0)
            break; /* an error, or the end of the file */
        done += (uint64_t)r;
    }
    if (p == 0)
        p = sb_mm_protect(t, (uint64_t)at, len, prot);
    if (p < 0) {
        sb_mm_unmap(t, (uint64_t)at, len);
        return p;
    }
    sb_mm_set_flags(t->mm, (uint64_t)at, len, vflags);
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
