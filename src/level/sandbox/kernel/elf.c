/* Loading an x86-64 ELF executable (ET_EXEC, or ET_DYN: PIE, static-pie, an
 * interpreter) into an address space. Segment contents are read from the
 * file straight into the address space's memfd pages; the bss is zero
 * because memfd pages are handed out once. A program's interpreter
 * (PT_INTERP) is found and loaded by interp.c. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "level/sandbox/kernel/kernel.h"

#define MAX_PHNUM 64

struct image {
    Elf64_Ehdr eh;
    Elf64_Phdr ph[MAX_PHNUM];
    int interp; /* the PT_INTERP header's index, -1: none */
};

static int read_image(int fd, const char *path, struct image *im, cerr_t *err)
{
    ssize_t n = pread(fd, &im->eh, sizeof(im->eh), 0);
    if (n < 0)
        return cerr_set(err, errno, "`%s`: read", path);
    if (n >= 2 && memcmp(&im->eh, "#!", 2) == 0)
        return cerr_set(err, 0,
                        "`%s`: a script: the sandbox level runs ELF executables only so far", path);
    if ((size_t)n < sizeof(im->eh) || memcmp(im->eh.e_ident, ELFMAG, SELFMAG) != 0)
        return cerr_set(err, 0, "`%s`: not an ELF executable", path);
    const Elf64_Ehdr *e = &im->eh;
    if (e->e_ident[EI_CLASS] != ELFCLASS64 || e->e_ident[EI_DATA] != ELFDATA2LSB ||
        e->e_machine != EM_X86_64)
        return cerr_set(err, 0, "`%s`: not an x86-64 ELF executable", path);
    if (e->e_type != ET_EXEC && e->e_type != ET_DYN)
        return cerr_set(err, 0, "`%s`: ELF type %u is not an executable", path, e->e_type);
    if (e->e_phentsize != sizeof(Elf64_Phdr) || e->e_phnum == 0 || e->e_phnum > MAX_PHNUM)
        return cerr_set(err, 0, "`%s`: bad ELF program header table", path);
    size_t len = e->e_phnum * sizeof(Elf64_Phdr);
    if (pread(fd, im->ph, len, (off_t)e->e_phoff) != (ssize_t)len)
        return cerr_set(err, 0, "`%s`: truncated ELF program header table", path);
    bool load = false;
    im->interp = -1;
    for (unsigned i = 0; i < e->e_phnum; i++) {
        const Elf64_Phdr *p = &im->ph[i];
        if (p->p_type == PT_INTERP) {
            if (im->interp >= 0 || p->p_filesz < 2 || p->p_filesz > SB_PATH_MAX)
                return cerr_set(err, 0, "`%s`: bad ELF interpreter header", path);
            im->interp = (int)i;
        }
        if (p->p_type != PT_LOAD)
            continue;
        load = true;
        if (p->p_filesz > p->p_memsz || p->p_vaddr % SB_PAGE != p->p_offset % SB_PAGE ||
            p->p_vaddr + p->p_memsz < p->p_vaddr || p->p_vaddr + p->p_memsz > SB_MMAP_TOP ||
            p->p_offset + p->p_filesz < p->p_offset)
            return cerr_set(err, 0, "`%s`: bad ELF segment %u", path, i);
    }
    if (!load)
        return cerr_set(err, 0, "`%s`: no loadable ELF segment", path);
    return 0;
}

int sb_elf_check(int fd, const char *path, cerr_t *err)
{
    struct image im;
    return read_image(fd, path, &im, err);
}

int sb_elf_interp(int fd, const char *path, char *interp, size_t size, cerr_t *err)
{
    struct image im;
    if (read_image(fd, path, &im, err) < 0)
        return -1;
    if (im.interp < 0)
        return 0;
    const Elf64_Phdr *p = &im.ph[im.interp];
    /* As Linux: the string fills the segment, its last byte the NUL. */
    if (p->p_filesz > size ||
        pread(fd, interp, p->p_filesz, (off_t)p->p_offset) != (ssize_t)p->p_filesz ||
        interp[p->p_filesz - 1] != '\0')
        return cerr_set(err, 0, "`%s`: bad ELF interpreter path", path);
    return 1;
}

static int prot_of(uint32_t flags)
{
    return (flags & PF_R ? PROT_READ : 0) | (flags & PF_W ? PROT_WRITE : 0) |
           (flags & PF_X ? PROT_EXEC : 0);
}

static int load(struct sb_task *t, int fd, const char *path, const struct image *im, uint64_t bias,
                struct sb_elf *out, cerr_t *err)
{
    memset(out, 0, sizeof(*out));
    out->bias = bias;
    uint64_t prev_end = 0;
    int prev_prot = 0;
    /* Mapped writable first, filled, then given their protection; a page two
     * segments share gets both protections. */
    for (int pass = 0; pass < 2; pass++) {
        prev_end = 0;
        for (unsigned i = 0; i < im->eh.e_phnum; i++) {
            const Elf64_Phdr *p = &im->ph[i];
            if (p->p_type != PT_LOAD)
                continue;
            uint64_t va = out->bias + p->p_vaddr;
            uint64_t s = SB_PAGE_DOWN(va), e = SB_PAGE_UP(va + p->p_memsz);
            int prot = prot_of(p->p_flags);
            if (s < prev_end)
                s = prev_end;
            long r = 0;
            if (pass == 0 && e > s)
                r = sb_mm_map(t, s, e - s, PROT_READ | PROT_WRITE, true);
            if (pass == 0 && r >= 0 && p->p_filesz > 0) {
                struct iovec iov[16];
                int n = sb_mm_iov(t->mm, va, p->p_filesz, PROT_WRITE, iov, 16);
                r = n < 0 ? n : preadv(fd, iov, n, (off_t)p->p_offset);
                if (r >= 0 && (uint64_t)r != p->p_filesz)
                    r = -EIO;
            }
            if (pass == 1) {
                uint64_t first = SB_PAGE_DOWN(va);
                if (first < prev_end) /* shares its first page with the previous segment */
                    r = sb_mm_protect(t, first, SB_PAGE, prot | prev_prot);
                if (r >= 0 && e > s)
                    r = sb_mm_protect(t, s, e - s, prot);
            }
            if (r < 0)
                return cerr_set(err, (int)-r, "`%s`: load ELF segment %u", path, i);
            if (e > prev_end)
                prev_end = e;
            prev_prot = prot;
            if (va + p->p_memsz > out->end)
                out->end = va + p->p_memsz;
            if (p->p_offset <= im->eh.e_phoff && im->eh.e_phoff < p->p_offset + p->p_filesz)
                out->phdr = va + (im->eh.e_phoff - p->p_offset);
        }
    }
    for (unsigned i = 0; i < im->eh.e_phnum; i++)
        if (im->ph[i].p_type == PT_PHDR)
            out->phdr = out->bias + im->ph[i].p_vaddr;
    out->entry = out->bias + im->eh.e_entry;
    out->phnum = im->eh.e_phnum;
    out->phent = sizeof(Elf64_Phdr);
    return 0;
}

int sb_elf_load(struct sb_task *t, int fd, const char *path, struct sb_elf *out, cerr_t *err)
{
    struct image im;
    if (read_image(fd, path, &im, err) < 0)
        return -1;
    return load(t, fd, path, &im, im.eh.e_type == ET_DYN ? SB_PIE_BASE : 0, out, err);
}

int sb_elf_load_anywhere(struct sb_task *t, int fd, const char *path, struct sb_elf *out,
                         cerr_t *err)
{
    struct image im;
    if (read_image(fd, path, &im, err) < 0)
        return -1;
    if (im.eh.e_type != ET_DYN)
        return load(t, fd, path, &im, 0, out, err);
    /* The whole span is reserved first (inaccessible), where the
     * kernel's mmap would put it; the segments then replace their part. */
    uint64_t lo = UINT64_MAX, hi = 0;
    for (unsigned i = 0; i < im.eh.e_phnum; i++) {
        const Elf64_Phdr *p = &im.ph[i];
        if (p->p_type != PT_LOAD)
            continue;
        if (SB_PAGE_DOWN(p->p_vaddr) < lo)
            lo = SB_PAGE_DOWN(p->p_vaddr);
        if (SB_PAGE_UP(p->p_vaddr + p->p_memsz) > hi)
            hi = SB_PAGE_UP(p->p_vaddr + p->p_memsz);
    }
    long base = sb_mm_map(t, 0, hi - lo, PROT_NONE, false);
    if (base < 0)
        return cerr_set(err, (int)-base, "`%s`: reserve %llu bytes", path,
                        (unsigned long long)(hi - lo));
    return load(t, fd, path, &im, (uint64_t)base - lo, out, err);
}
