/* The x86-64 encoder of x64.h (Intel SDM vol. 2, chapter 2: REX, ModRM, SIB). */
#include "level/wasm/x64.h"

#include <stdlib.h>

/* The buffer is full (or out of memory). */
void x64_byte_slow(struct x64 *a, uint8_t b)
{
    if (a->oom) {
        a->n++; /* only counted: the code is thrown away at the end */
        return;
    }
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 4096;
        uint8_t *p = realloc(a->p, cap);
        if (p == NULL) {
            a->oom = true;
            a->n++;
            return;
        }
        a->p = p;
        a->cap = cap;
    }
    a->p[a->n++] = b;
}

void x64_u32_slow(struct x64 *a, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        x64_byte(a, (uint8_t)(v >> (8 * i)));
}

void x64_u64(struct x64 *a, uint64_t v)
{
    x64_u32(a, (uint32_t)v);
    x64_u32(a, (uint32_t)(v >> 32));
}
