/* Reading instruction bytes that the decoder has already checked: no error
 * reporting beyond staying inside the buffer. Shared by the validator and
 * the compiler. */
#ifndef CELLA_WASM_READER_H
#define CELLA_WASM_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rd {
    const uint8_t *p, *end;
};

static inline uint64_t rd_leb(struct rd *r, bool sign)
{
    uint64_t x = 0;
    unsigned shift = 0;
    uint8_t b = 0;
    do {
        if (r->p >= r->end)
            return x;
        b = *r->p++;
        if (shift < 64)
            x |= (uint64_t)(b & 0x7F) << shift;
        shift += 7;
    } while (b & 0x80);
    if (sign && shift < 64 && (b & 0x40))
        x |= ~(uint64_t)0 << shift;
    return x;
}

static inline uint32_t rd_u32(struct rd *r)
{
    return (uint32_t)rd_leb(r, false);
}

static inline uint8_t rd_byte(struct rd *r)
{
    return r->p < r->end ? *r->p++ : 0;
}

static inline void rd_skip(struct rd *r, size_t n)
{
    r->p = (size_t)(r->end - r->p) < n ? r->end : r->p + n;
}

#endif
