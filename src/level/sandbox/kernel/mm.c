/* Address spaces. Workload memory is pages of the address space's memfd:
 * the kernel maps the whole memfd once and reaches workload memory through
 * that mapping; the stub process maps the same pages where the workload sees
 * them (a host call per change). The mapping list here is the truth: the
 * stub's own page tables only matter to the workload itself. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/util.h"
#include "level/sandbox/kernel/kernel.h"

#define PROT_RESERVED 0x100 /* the stub region: never the workload's to map or reach */

static bool overlaps(uint64_t a, uint64_t b, uint64_t s, uint64_t e)
{
    return a < e && s < b;
}

static int insert(struct sb_mm *mm, struct sb_vma v)
{
    if (mm->nvma == mm->cap) {
        size_t cap = mm->cap ? mm->cap * 2 : 16;
        struct sb_vma *nv = realloc(mm->vma, cap * sizeof(*nv));
        if (nv == NULL)
            return -ENOMEM;
        mm->vma = nv;
        mm->cap = cap;
    }
    size_t i = 0;
    while (i < mm->nvma && mm->vma[i].start < v.start)
        i++;
    /* Merge with a neighbour continuing it in address, offset and protection. */
    if (i > 0) {
        struct sb_vma *p = &mm->vma[i - 1];
        if (p->end == v.start && p->prot == v.prot && p->flags == v.flags &&
            p->off + (p->end - p->start) == v.off) {
            p->end = v.end;
            return 0;
        }
    }
    memmove(&mm->vma[i + 1], &mm->vma[i], (mm->nvma - i) * sizeof(v));
    mm->vma[i] = v;
    mm->nvma++;
    return 0;
}

int sb_mm_init(struct sb_mm *mm, cerr_t *err)
{
    memset(mm, 0, sizeof(*mm));
    mm->memfd = (int)syscall(SYS_memfd_create, "cella-sandbox-mm", MFD_CLOEXEC);
    if (mm->memfd < 0)
        return cerr_set(err, errno, "sandbox: memfd_create");
    if (ftruncate(mm->memfd, (off_t)SB_MEM_MAX) < 0) {
        cerr_set(err, errno, "sandbox: size the address space's memfd");
        close(mm->memfd);
        return -1;
    }
    void *p =
        mmap(NULL, SB_MEM_MAX, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, mm->memfd, 0);
    if (p == MAP_FAILED) {
        cerr_set(err, errno, "sandbox: map the address space's memfd");
        close(mm->memfd);
        return -1;
    }
    mm->kbase = p;
    mm->next_off = SB_STUB_SIZE;
    insert(mm, (struct sb_vma){SB_STUB_BASE, SB_STUB_END, 0, PROT_RESERVED, 0});
    return 0;
}

void sb_mm_free(struct sb_mm *mm)
{
    if (mm->kbase != NULL)
        munmap(mm->kbase, SB_MEM_MAX);
    if (mm->memfd >= 0)
        close(mm->memfd);
    free(mm->vma);
    free(mm->holes);
    memset(mm, 0, sizeof(*mm));
    mm->memfd = -1;
}

/* Take [s, e) out of the list; the pieces taken go to *out (malloc'd). */
static int carve(struct sb_mm *mm, uint64_t s, uint64_t e, struct sb_vma **out, size_t *nout)
{
    struct sb_vma *nv = malloc((mm->nvma + 2) * sizeof(*nv));
    struct sb_vma *rm = malloc((mm->nvma + 1) * sizeof(*rm));
    if (nv == NULL || rm == NULL) {
        free(nv);
        free(rm);
        return -ENOMEM;
    }
    size_t k = 0, r = 0;
    for (size_t i = 0; i < mm->nvma; i++) {
        struct sb_vma v = mm->vma[i];
        if (!overlaps(v.start, v.end, s, e)) {
            nv[k++] = v;
            continue;
        }
        if (v.start < s)
            nv[k++] = (struct sb_vma){v.start, s, v.off, v.prot, v.flags};
        uint64_t a = v.start > s ? v.start : s, b = v.end < e ? v.end : e;
        rm[r++] = (struct sb_vma){a, b, v.off + (a - v.start), v.prot, v.flags};
        if (v.end > e)
            nv[k++] = (struct sb_vma){e, v.end, v.off + (e - v.start), v.prot, v.flags};
    }
    free(mm->vma);
    mm->vma = nv;
    mm->nvma = k;
    mm->cap = mm->nvma + 2;
    *out = rm;
    *nout = r;
    return 0;
}

static bool reserved(const struct sb_mm *mm, uint64_t s, uint64_t e)
{
    for (size_t i = 0; i < mm->nvma; i++)
        if (mm->vma[i].prot == PROT_RESERVED && overlaps(mm->vma[i].start, mm->vma[i].end, s, e))
            return true;
    return false;
}

/* Offsets go back to the holes list once punched (their pages are zero
 * again), merged with their neighbours; first fit takes them. */
static void add_hole(struct sb_mm *mm, uint64_t off, uint64_t len)
{
    size_t i = 0;
    while (i < mm->nholes && mm->holes[i].off < off)
        i++;
    if (i > 0 && mm->holes[i - 1].off + mm->holes[i - 1].len == off) {
        mm->holes[i - 1].len += len;
        if (i < mm->nholes && off + len == mm->holes[i].off) {
            mm->holes[i - 1].len += mm->holes[i].len;
            memmove(&mm->holes[i], &mm->holes[i + 1], (mm->nholes - i - 1) * sizeof(mm->holes[0]));
            mm->nholes--;
        }
        return;
    }
    if (i < mm->nholes && off + len == mm->holes[i].off) {
        mm->holes[i].off = off;
        mm->holes[i].len += len;
        return;
    }
    if (mm->nholes == mm->holes_cap) {
        size_t cap = mm->holes_cap ? mm->holes_cap * 2 : 16;
        struct sb_range *h = realloc(mm->holes, cap * sizeof(*h));
        if (h == NULL)
            return; /* the offsets are lost, not the memory */
        mm->holes = h;
        mm->holes_cap = cap;
    }
    memmove(&mm->holes[i + 1], &mm->holes[i], (mm->nholes - i) * sizeof(mm->holes[0]));
    mm->holes[i] = (struct sb_range){off, len};
    mm->nholes++;
}

/* memfd offsets for len bytes, or UINT64_MAX. */
static uint64_t alloc_off(struct sb_mm *mm, uint64_t len)
{
    for (size_t i = 0; i < mm->nholes; i++) {
        struct sb_range *h = &mm->holes[i];
        if (h->len < len)
            continue;
        uint64_t off = h->off;
        h->off += len;
        h->len -= len;
        if (h->len == 0) {
            memmove(h, h + 1, (mm->nholes - i - 1) * sizeof(*h));
            mm->nholes--;
        }
        return off;
    }
    if (mm->next_off + len > SB_MEM_MAX)
        return UINT64_MAX;
    mm->next_off += len;
    return mm->next_off - len;
}

static void release(struct sb_mm *mm, const struct sb_vma *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t len = v[i].end - v[i].start;
        if (fallocate(mm->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)v[i].off,
                      (off_t)len) == 0)
            add_hole(mm, v[i].off, len);
    }
}

uint64_t sb_mm_free_below(const struct sb_mm *mm, uint64_t len, uint64_t lo, uint64_t hi)
{
    for (size_t i = mm->nvma; i-- > 0;) {
        const struct sb_vma *v = &mm->vma[i];
        if (v->start >= hi)
            continue;
        if (v->end <= hi && hi - v->end >= len)
            return hi - len >= lo ? hi - len : 0;
        hi = v->start;
    }
    return hi >= lo + len ? hi - len : 0;
}

/* The highest free range of len bytes below SB_MMAP_TOP, or 0. */
static uint64_t find_free(const struct sb_mm *mm, uint64_t len)
{
    return sb_mm_free_below(mm, len, SB_MMAP_MIN, SB_MMAP_TOP);
}

static long hostcall(struct sb_task *t, long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                     uint64_t a4, uint64_t a5)
{
    const uint64_t a[6] = {a0, a1, a2, a3, a4, a5};
    long r;
    if (sb_stub_hostcall(&t->stub, nr, a, &r) < 0)
        return -ESRCH;
    return r;
}

static int check_range(const struct sb_mm *mm, uint64_t addr, uint64_t len)
{
    if (addr % SB_PAGE != 0 || len == 0)
        return -EINVAL;
    if (addr < SB_MMAP_MIN)
        return -EPERM;
    if (addr > SB_TASK_TOP || len > SB_TASK_TOP - addr || reserved(mm, addr, addr + len))
        return -ENOMEM;
    return 0;
}

long sb_mm_map(struct sb_task *t, uint64_t addr, uint64_t len, int prot, bool fixed)
{
    struct sb_mm *mm = t->mm;
    if (len == 0 || len > SB_TASK_TOP)
        return -EINVAL;
    len = SB_PAGE_UP(len);
    if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC))
        return -EINVAL;
    if (!fixed) {
        addr = find_free(mm, len);
        if (addr == 0)
            return -ENOMEM;
    }
    int r = check_range(mm, addr, len);
    if (r < 0)
        return r;
    uint64_t off = alloc_off(mm, len);
    if (off == UINT64_MAX)
        return -ENOMEM;
    long got =
        hostcall(t, SYS_mmap, addr, len, (uint64_t)prot, MAP_SHARED | MAP_FIXED, SB_MEMFD_FD, off);
    if (got != (long)addr) {
        /* Punched all the same: a stub that lied may have written there. */
        struct sb_vma v = {addr, addr + len, off, prot, 0};
        release(mm, &v, 1);
        return got < 0 ? got : -ENOMEM;
    }
    struct sb_vma *old;
    size_t nold;
    if (carve(mm, addr, addr + len, &old, &nold) < 0)
        return -ENOMEM;
    release(mm, old, nold);
    free(old);
    if (insert(mm, (struct sb_vma){addr, addr + len, off, prot, 0}) < 0)
        return -ENOMEM;
    return (long)addr;
}

long sb_mm_unmap(struct sb_task *t, uint64_t addr, uint64_t len)
{
    struct sb_mm *mm = t->mm;
    int r = check_range(mm, addr, len);
    if (r < 0)
        return r == -EPERM ? -EINVAL : r == -ENOMEM ? -EINVAL : r;
    len = SB_PAGE_UP(len);
    struct sb_vma *old;
    size_t nold;
    if (carve(mm, addr, addr + len, &old, &nold) < 0)
        return -ENOMEM;
    release(mm, old, nold);
    free(old);
    long h = hostcall(t, SYS_munmap, addr, len, 0, 0, 0, 0);
    return h < 0 ? h : 0;
}

long sb_mm_protect(struct sb_task *t, uint64_t addr, uint64_t len, int prot)
{
    struct sb_mm *mm = t->mm;
    if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC))
        return -EINVAL;
    int r = check_range(mm, addr, len ? len : SB_PAGE);
    if (r < 0)
        return r == -EPERM ? -ENOMEM : r;
    if (len == 0)
        return 0;
    len = SB_PAGE_UP(len);
    /* Every page of the range must be mapped. */
    uint64_t cur = addr;
    for (size_t i = 0; i < mm->nvma && cur < addr + len; i++)
        if (mm->vma[i].start <= cur && mm->vma[i].end > cur)
            cur = mm->vma[i].end;
    if (cur < addr + len)
        return -ENOMEM;
    if (prot & PROT_WRITE)
        for (size_t i = 0; i < mm->nvma; i++)
            if (mm->vma[i].flags & SB_VMA_NOWRITE &&
                overlaps(mm->vma[i].start, mm->vma[i].end, addr, addr + len))
                return -EACCES;
    long h = hostcall(t, SYS_mprotect, addr, len, (uint64_t)prot, 0, 0, 0);
    if (h < 0)
        return h;
    struct sb_vma *pieces;
    size_t n;
    if (carve(mm, addr, addr + len, &pieces, &n) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        pieces[i].prot = prot;
        if (insert(mm, pieces[i]) < 0) {
            free(pieces);
            return -ENOMEM;
        }
    }
    free(pieces);
    return 0;
}

static const struct sb_vma *find(const struct sb_mm *mm, uint64_t addr)
{
    size_t lo = 0, hi = mm->nvma;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (mm->vma[mid].end <= addr)
            lo = mid + 1;
        else if (mm->vma[mid].start > addr)
            hi = mid;
        else
            return &mm->vma[mid];
    }
    return NULL;
}

int sb_mm_iov(struct sb_mm *mm, uint64_t addr, uint64_t len, int prot, struct iovec *iov, int max)
{
    if (len == 0)
        return 0;
    if (addr + len < addr)
        return -EFAULT;
    int n = 0;
    for (uint64_t cur = addr; cur < addr + len;) {
        const struct sb_vma *v = find(mm, cur);
        if (v == NULL || v->prot == PROT_RESERVED || (v->prot & prot) != prot)
            return -EFAULT;
        uint64_t end = v->end < addr + len ? v->end : addr + len;
        uint8_t *p = mm->kbase + v->off + (cur - v->start);
        if (n > 0 && (uint8_t *)iov[n - 1].iov_base + iov[n - 1].iov_len == p)
            iov[n - 1].iov_len += end - cur;
        else if (n == max)
            return -EFAULT;
        else
            iov[n++] = (struct iovec){p, end - cur};
        cur = end;
    }
    return n;
}

int sb_copy_in(struct sb_mm *mm, void *dst, uint64_t addr, size_t len)
{
    struct iovec iov[16];
    int n = sb_mm_iov(mm, addr, len, PROT_READ, iov, 16);
    if (n < 0)
        return n;
    for (int i = 0; i < n; i++) {
        memcpy(dst, iov[i].iov_base, iov[i].iov_len);
        dst = (uint8_t *)dst + iov[i].iov_len;
    }
    return 0;
}

int sb_copy_out(struct sb_mm *mm, uint64_t addr, const void *src, size_t len)
{
    struct iovec iov[16];
    int n = sb_mm_iov(mm, addr, len, PROT_WRITE, iov, 16);
    if (n < 0)
        return n;
    for (int i = 0; i < n; i++) {
        memcpy(iov[i].iov_base, src, iov[i].iov_len);
        src = (const uint8_t *)src + iov[i].iov_len;
    }
    return 0;
}

int sb_copy_str(struct sb_mm *mm, char *dst, uint64_t addr, size_t max)
{
    size_t got = 0;
    while (got < max) {
        const struct sb_vma *v = find(mm, addr + got);
        if (v == NULL || v->prot == PROT_RESERVED || !(v->prot & PROT_READ))
            return -EFAULT;
        size_t span = v->end - (addr + got);
        if (span > max - got)
            span = max - got;
        /* Copied first, then searched: the workload may change it meanwhile. */
        memcpy(dst + got, mm->kbase + v->off + (addr + got - v->start), span);
        char *nul = memchr(dst + got, '\0', span);
        if (nul != NULL)
            return 0;
        got += span;
    }
    return -ENAMETOOLONG;
}

bool sb_mm_is_free(const struct sb_mm *mm, uint64_t addr, uint64_t len)
{
    for (size_t i = 0; i < mm->nvma; i++)
        if (overlaps(mm->vma[i].start, mm->vma[i].end, addr, addr + len))
            return false;
    return true;
}

uint64_t sb_mm_accessible(const struct sb_mm *mm, uint64_t addr, uint64_t len, int prot)
{
    uint64_t cur = addr;
    while (cur - addr < len) {
        const struct sb_vma *v = find(mm, cur);
        if (v == NULL || v->prot == PROT_RESERVED || (v->prot & prot) != prot)
            break;
        cur = v->end;
    }
    return cur - addr < len ? cur - addr : len;
}

long sb_mm_reset(struct sb_task *t)
{
    struct sb_mm *mm = t->mm;
    struct sb_vma *old;
    size_t nold;
    if (carve(mm, 0, SB_STUB_BASE, &old, &nold) < 0)
        return -ENOMEM;
    release(mm, old, nold);
    free(old);
    if (carve(mm, SB_STUB_END, SB_TASK_TOP, &old, &nold) < 0)
        return -ENOMEM;
    release(mm, old, nold);
    free(old);
    mm->brk_start = mm->brk = 0;
    long a = hostcall(t, SYS_munmap, 0, SB_STUB_BASE, 0, 0, 0, 0);
    long b = hostcall(t, SYS_munmap, SB_STUB_END, SB_TASK_TOP - SB_STUB_END, 0, 0, 0, 0);
    return a < 0 ? a : b < 0 ? b : 0;
}

int sb_mm_fork(struct sb_mm *dst, const struct sb_mm *src)
{
    for (size_t i = 0; i < src->nvma; i++) {
        const struct sb_vma *v = &src->vma[i];
        if (v->prot == PROT_RESERVED)
            continue;
        uint64_t len = v->end - v->start;
        uint64_t off = alloc_off(dst, len);
        if (off == UINT64_MAX ||
            insert(dst, (struct sb_vma){v->start, v->end, off, v->prot, v->flags}) < 0)
            return -ENOMEM;
        /* Only the pages the parent has: its holes stay holes in the copy. */
        off_t pos = (off_t)v->off, end = (off_t)(v->off + len);
        while (pos < end) {
            off_t data = lseek(src->memfd, pos, SEEK_DATA);
            if (data < 0 || data >= end)
                break;
            off_t hole = lseek(src->memfd, data, SEEK_HOLE);
            if (hole < 0 || hole > end)
                hole = end;
            memcpy(dst->kbase + off + (uint64_t)(data - (off_t)v->off), src->kbase + data,
                   (size_t)(hole - data));
            pos = hole;
        }
    }
    dst->brk_start = src->brk_start;
    dst->brk = src->brk;
    memcpy(dst->rlim, src->rlim, sizeof(dst->rlim));
    return 0;
}

long sb_mm_replay(struct sb_task *t)
{
    const struct sb_mm *mm = t->mm;
    for (size_t i = 0; i < mm->nvma; i++) {
        const struct sb_vma *v = &mm->vma[i];
        if (v->prot == PROT_RESERVED)
            continue;
        long got = hostcall(t, SYS_mmap, v->start, v->end - v->start, (uint64_t)v->prot,
                            MAP_SHARED | MAP_FIXED, SB_MEMFD_FD, v->off);
        if (got != (long)v->start)
            return got < 0 ? got : -ENOMEM;
    }
    return 0;
}

/* Re-insert carved pieces (their flags or place changed). */
static int reinsert(struct sb_mm *mm, struct sb_vma *pieces, size_t n)
{
    int r = 0;
    for (size_t i = 0; i < n; i++)
        if (r == 0)
            r = insert(mm, pieces[i]);
    free(pieces);
    return r;
}

void sb_mm_set_flags(struct sb_mm *mm, uint64_t addr, uint64_t len, int flags)
{
    struct sb_vma *pieces;
    size_t n;
    if (carve(mm, addr, addr + len, &pieces, &n) < 0)
        return;
    for (size_t i = 0; i < n; i++)
        pieces[i].flags |= flags;
    reinsert(mm, pieces, n);
}

long sb_mm_covered(const struct sb_mm *mm, uint64_t addr, uint64_t len)
{
    uint64_t cur = addr;
    while (cur < addr + len) {
        const struct sb_vma *v = find(mm, cur);
        if (v == NULL || v->prot == PROT_RESERVED)
            return -ENOMEM;
        cur = v->end;
    }
    return 0;
}

/* Moving keeps the pages where they are in the memfd: the stub maps the same
 * offsets at the new address, nothing is copied. Growing adds fresh pages
 * (another vma: their offsets do not continue the old ones). */
long sb_mm_remap(struct sb_task *t, uint64_t old, uint64_t olen, uint64_t nlen, uint64_t flags,
                 uint64_t naddr)
{
    struct sb_mm *mm = t->mm;
    if (old > SB_TASK_TOP || olen > SB_TASK_TOP - old || sb_mm_covered(mm, old, olen) < 0)
        return -EFAULT;
    bool fixed = flags & MREMAP_FIXED, dontunmap = flags & MREMAP_DONTUNMAP;
    if (fixed) {
        if (overlaps(old, old + olen, naddr, naddr + nlen))
            return -EINVAL;
        int r = check_range(mm, naddr, nlen);
        if (r < 0)
            return r == -EPERM ? -EINVAL : r;
    }
    const struct sb_vma *last = find(mm, old + olen - 1);
    int prot = last->prot, vflags = last->flags;
    if (!fixed && !dontunmap) {
        if (nlen <= olen) {
            long r = nlen < olen ? sb_mm_unmap(t, old + nlen, olen - nlen) : 0;
            return r < 0 ? r : (long)old;
        }
        if (nlen <= SB_TASK_TOP - old && sb_mm_is_free(mm, old + olen, nlen - olen)) {
            long r = sb_mm_map(t, old + olen, nlen - olen, prot, true);
            if (r < 0)
                return r;
            sb_mm_set_flags(mm, old + olen, nlen - olen, vflags);
            return (long)old;
        }
        if (!(flags & MREMAP_MAYMOVE))
            return -ENOMEM;
        naddr = find_free(mm, nlen);
        if (naddr == 0)
            return -ENOMEM;
    }
    if (nlen < olen) {
        long r = sb_mm_unmap(t, old + nlen, olen - nlen);
        if (r < 0)
            return r;
        olen = nlen;
    }
    if (fixed) {
        long r = sb_mm_unmap(t, naddr, nlen);
        if (r < 0)
            return r;
    }
    struct sb_vma *pieces;
    size_t n;
    if (carve(mm, old, old + olen, &pieces, &n) < 0)
        return -ENOMEM;
    /* A host call fails only for a stub that is dead or lying: the pages
     * are its own either way. */
    long r = 0;
    for (size_t i = 0; i < n && r >= 0; i++) {
        uint64_t to = naddr + (pieces[i].start - old), len = pieces[i].end - pieces[i].start;
        r = hostcall(t, SYS_mmap, to, len, (uint64_t)pieces[i].prot, MAP_SHARED | MAP_FIXED,
                     SB_MEMFD_FD, pieces[i].off);
        if (r >= 0) {
            pieces[i].start = to;
            pieces[i].end = to + len;
        }
    }
    if (reinsert(mm, pieces, n) < 0 || r < 0)
        return r < 0 ? r : -ENOMEM;
    r = hostcall(t, SYS_munmap, old, olen, 0, 0, 0, 0);
    if (r >= 0 && nlen > olen) {
        r = sb_mm_map(t, naddr + olen, nlen - olen, prot, true);
        sb_mm_set_flags(mm, naddr + olen, nlen - olen, vflags);
    }
    /* MREMAP_DONTUNMAP: the old range stays, empty (olen == nlen). */
    for (uint64_t cur = naddr; r >= 0 && dontunmap && cur < naddr + olen;) {
        const struct sb_vma *v = find(mm, cur);
        uint64_t end = v->end < naddr + olen ? v->end : naddr + olen;
        int p = v->prot, f = v->flags;
        r = sb_mm_map(t, old + (cur - naddr), end - cur, p, true);
        sb_mm_set_flags(mm, old + (cur - naddr), end - cur, f);
        cur = end;
    }
    return r < 0 ? r : (long)naddr;
}

long sb_mm_discard(struct sb_mm *mm, uint64_t addr, uint64_t len)
{
    uint64_t cur = addr;
    long r = 0;
    while (cur < addr + len) {
        const struct sb_vma *v = find(mm, cur);
        if (v == NULL || v->prot == PROT_RESERVED) {
            r = -ENOMEM;
            /* on to the next mapping in the range */
            uint64_t next = addr + len;
            for (size_t i = 0; i < mm->nvma; i++)
                if (mm->vma[i].start > cur && mm->vma[i].start < next)
                    next = mm->vma[i].start;
            cur = next;
            continue;
        }
        uint64_t end = v->end < addr + len ? v->end : addr + len;
        /* The stub maps these memfd pages shared: punched, they read zero there at once. */
        if (!(v->flags & SB_VMA_BACKED))
            fallocate(mm->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                      (off_t)(v->off + (cur - v->start)), (off_t)(end - cur));
        cur = end;
    }
    return r;
}

void sb_mm_resident(const struct sb_mm *mm, uint64_t addr, uint64_t len, uint8_t *vec)
{
    memset(vec, 0, len / SB_PAGE);
    for (uint64_t cur = addr; cur < addr + len;) {
        const struct sb_vma *v = find(mm, cur);
        if (v == NULL)
            return;
        uint64_t end = v->end < addr + len ? v->end : addr + len;
        off_t pos = (off_t)(v->off + (cur - v->start)), stop = (off_t)(v->off + (end - v->start));
        while (pos < stop) {
            off_t data = lseek(mm->memfd, pos, SEEK_DATA);
            if (data < 0 || data >= stop)
                break;
            off_t hole = lseek(mm->memfd, data, SEEK_HOLE);
            if (hole < 0 || hole > stop)
                hole = stop;
            uint64_t first = cur + (uint64_t)(data - (off_t)(v->off + (cur - v->start)));
            uint64_t last = cur + (uint64_t)(hole - (off_t)(v->off + (cur - v->start)));
            for (uint64_t p = SB_PAGE_DOWN(first); p < last; p += SB_PAGE)
                vec[(p - addr) / SB_PAGE] = 1;
            pos = hole;
        }
        cur = end;
    }
}
