/* The initial stack of a new program, as Linux's binfmt_elf lays it out:
 *   sp -> argc, argv[0..argc-1], NULL, envp[..], NULL, auxv pairs, AT_NULL,
 *   padding, then (towards the top) AT_RANDOM's bytes, the platform string,
 *   the argument and environment strings and the file name.
 * No AT_SYSINFO_EHDR: there is no vDSO in a stub process (see docs/sandbox.md);
 * the C libraries then make their time calls as system calls. */
#define _GNU_SOURCE
#include <elf.h>
#include <string.h>
#include <sys/auxv.h>

#include "core/util.h"
#include "level/sandbox/kernel/kernel.h"

struct builder {
    uint8_t *buf;
    uint64_t low; /* the address buf[0] stands for */
    uint64_t pos; /* the lowest address used so far */
    bool full;
};

static uint64_t push(struct builder *b, const void *data, size_t len)
{
    if (b->full || b->pos - b->low < len) {
        b->full = true;
        return 0;
    }
    b->pos -= len;
    memcpy(b->buf + (b->pos - b->low), data, len);
    return b->pos;
}

static uint64_t push_str(struct builder *b, const char *s)
{
    return push(b, s, strlen(s) + 1);
}

static size_t count(char *const *v)
{
    size_t n = 0;
    while (v != NULL && v[n] != NULL)
        n++;
    return n;
}

int sb_stack_build(const struct sb_stack_in *in, uint8_t *buf, size_t size, uint64_t top,
                   uint64_t *sp)
{
    struct builder b = {.buf = buf, .low = top - size, .pos = top};
    size_t argc = count(in->argv), envc = count(in->envp);
    uint64_t execfn = push_str(&b, in->execfn);
    uint64_t ptrs[argc + envc + 1];
    for (size_t i = envc; i-- > 0;)
        ptrs[argc + i] = push_str(&b, in->envp[i]);
    for (size_t i = argc; i-- > 0;)
        ptrs[i] = push_str(&b, in->argv[i]);
    uint64_t platform = push_str(&b, "x86_64");
    uint64_t random = push(&b, in->random, 16);
    const uint64_t aux[][2] = {
        {AT_PHDR, in->elf->phdr},
        {AT_PHENT, in->elf->phent},
        {AT_PHNUM, in->elf->phnum},
        {AT_PAGESZ, SB_PAGE},
        {AT_BASE, in->elf->interp ? in->elf->interp_base : 0},
        {AT_FLAGS, 0},
        {AT_ENTRY, in->elf->entry},
        {AT_UID, in->uid},
        {AT_EUID, in->uid},
        {AT_GID, in->gid},
        {AT_EGID, in->gid},
        {AT_SECURE, 0},
        {AT_RANDOM, random},
        {AT_HWCAP, getauxval(AT_HWCAP)},
        {AT_HWCAP2, getauxval(AT_HWCAP2)},
        {AT_CLKTCK, 100},
        {AT_PLATFORM, platform},
        {AT_EXECFN, execfn},
        {AT_NULL, 0},
    };
    size_t words = 1 + argc + 1 + envc + 1 + 2 * ARRAY_SIZE(aux);
    b.pos &= ~15ULL;
    if (words % 2)
        b.pos -= 8; /* %rsp is 16-byte aligned at the entry point */
    uint64_t v[words];
    size_t w = 0;
    v[w++] = argc;
    for (size_t i = 0; i < argc; i++)
        v[w++] = ptrs[i];
    v[w++] = 0;
    for (size_t i = 0; i < envc; i++)
        v[w++] = ptrs[argc + i];
    v[w++] = 0;
    for (size_t i = 0; i < ARRAY_SIZE(aux); i++) {
        v[w++] = aux[i][0];
        v[w++] = aux[i][1];
    }
    if (b.pos < b.low)
        return -1;
    *sp = push(&b, v, sizeof(v));
    return b.full ? -1 : 0;
}
