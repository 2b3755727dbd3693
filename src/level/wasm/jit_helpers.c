/* The C functions translated code calls for operations that take many
 * instructions (jit_helpers.h), built from the interpreter's own definitions
 * in numeric.h so that both engines compute the same bits. */
#include "level/wasm/jit_helpers.h"

#include <string.h>

#include "level/wasm/numeric.h"

#define F32(x) bits_f32((uint32_t)(x))
#define F64(x) bits_f64(x)
#define UNARY(name, expr)                                                                          \
    static uint64_t name(uint64_t a)                                                               \
    {                                                                                              \
        return (expr);                                                                             \
    }
#define BINARY(name, expr)                                                                         \
    static uint64_t name(uint64_t a, uint64_t b)                                                   \
    {                                                                                              \
        return (expr);                                                                             \
    }

UNARY(h_clz32, (uint32_t)a ? (uint64_t)__builtin_clz((uint32_t)a) : 32)
UNARY(h_ctz32, (uint32_t)a ? (uint64_t)__builtin_ctz((uint32_t)a) : 32)
UNARY(h_popcnt32, (uint64_t)__builtin_popcount((uint32_t)a))
UNARY(h_clz64, a ? (uint64_t)__builtin_clzll(a) : 64)
UNARY(h_ctz64, a ? (uint64_t)__builtin_ctzll(a) : 64)
UNARY(h_popcnt64, (uint64_t)__builtin_popcountll(a))
UNARY(h_f32_ceil, f32_bits(f32_ceil(F32(a))))
UNARY(h_f32_floor, f32_bits(f32_floor(F32(a))))
UNARY(h_f32_trunc, f32_bits(f32_trunc(F32(a))))
UNARY(h_f32_nearest, f32_bits(f32_nearest(F32(a))))
UNARY(h_f64_ceil, f64_bits(f64_ceil(F64(a))))
UNARY(h_f64_floor, f64_bits(f64_floor(F64(a))))
UNARY(h_f64_trunc, f64_bits(f64_trunc(F64(a))))
UNARY(h_f64_nearest, f64_bits(f64_nearest(F64(a))))
UNARY(h_f32_from_u64, f32_bits((float)a))
UNARY(h_f64_from_u64, f64_bits((double)a))
UNARY(h_sat_i32_f32, sat_i32(F32(a)))
UNARY(h_sat_u32_f32, sat_u32(F32(a)))
UNARY(h_sat_i32_f64, sat_i32(F64(a)))
UNARY(h_sat_u32_f64, sat_u32(F64(a)))
UNARY(h_sat_i64_f32, sat_i64(F32(a)))
UNARY(h_sat_u64_f32, sat_u64(F32(a)))
UNARY(h_sat_i64_f64, sat_i64(F64(a)))
UNARY(h_sat_u64_f64, sat_u64(F64(a)))
BINARY(h_f32_min, f32_bits(f32_min(F32(a), F32(b))))
BINARY(h_f32_max, f32_bits(f32_max(F32(a), F32(b))))
BINARY(h_f64_min, f64_bits(f64_min(F64(a), F64(b))))
BINARY(h_f64_max, f64_bits(f64_max(F64(a), F64(b))))
BINARY(h_f32_copysign, (a & 0x7FFFFFFFu) | (b & 0x80000000u))
BINARY(h_f64_copysign, (a & 0x7FFFFFFFFFFFFFFFull) | (b & 0x8000000000000000ull))

#define TRUNC(name, x, RT, R, lo, hi)                                                              \
    static const char *name(uint64_t a, wasm_val *out)                                             \
    {                                                                                              \
        double v = (double)(x);                                                                    \
        const char *t = trunc_check(v, lo, hi);                                                    \
        if (t == NULL)                                                                             \
            out->R = (RT)v;                                                                        \
        return t;                                                                                  \
    }
TRUNC(h_i32_trunc_f32_s, F32(a), int32_t, i32, I32_LO, I32_HI)
TRUNC(h_i32_trunc_f32_u, F32(a), uint32_t, i32, -1.0, U32_HI)
TRUNC(h_i32_trunc_f64_s, F64(a), int32_t, i32, I32_LO, I32_HI)
TRUNC(h_i32_trunc_f64_u, F64(a), uint32_t, i32, -1.0, U32_HI)
TRUNC(h_i64_trunc_f32_s, F32(a), int64_t, i64, I64_LO, I64_HI)
TRUNC(h_i64_trunc_f32_u, F32(a), uint64_t, i64, -1.0, U64_HI)
TRUNC(h_i64_trunc_f64_s, F64(a), int64_t, i64, I64_LO, I64_HI)
TRUNC(h_i64_trunc_f64_u, F64(a), uint64_t, i64, -1.0, U64_HI)

jit_unary_fn jit_unary_helper(int op)
{
    switch (op) {
    case 0x67:
        return h_clz32;
    case 0x68:
        return h_ctz32;
    case 0x69:
        return h_popcnt32;
    case 0x79:
        return h_clz64;
    case 0x7A:
        return h_ctz64;
    case 0x7B:
        return h_popcnt64;
    case 0x8D:
        return h_f32_ceil;
    case 0x8E:
        return h_f32_floor;
    case 0x8F:
        return h_f32_trunc;
    case 0x90:
        return h_f32_nearest;
    case 0x9B:
        return h_f64_ceil;
    case 0x9C:
        return h_f64_floor;
    case 0x9D:
        return h_f64_trunc;
    case 0x9E:
        return h_f64_nearest;
    case 0xB5:
        return h_f32_from_u64;
    case 0xBA:
        return h_f64_from_u64;
    case OP_FC + 0:
        return h_sat_i32_f32;
    case OP_FC + 1:
        return h_sat_u32_f32;
    case OP_FC + 2:
        return h_sat_i32_f64;
    case OP_FC + 3:
        return h_sat_u32_f64;
    case OP_FC + 4:
        return h_sat_i64_f32;
    case OP_FC + 5:
        return h_sat_u64_f32;
    case OP_FC + 6:
        return h_sat_i64_f64;
    case OP_FC + 7:
        return h_sat_u64_f64;
    default:
        return NULL;
    }
}

jit_binary_fn jit_binary_helper(int op)
{
    switch (op) {
    case 0x96:
        return h_f32_min;
    case 0x97:
        return h_f32_max;
    case 0x98:
        return h_f32_copysign;
    case 0xA4:
        return h_f64_min;
    case 0xA5:
        return h_f64_max;
    case 0xA6:
        return h_f64_copysign;
    default:
        return NULL;
    }
}

jit_trapping_fn jit_trapping_helper(int op)
{
    switch (op) {
    case 0xA8:
        return h_i32_trunc_f32_s;
    case 0xA9:
        return h_i32_trunc_f32_u;
    case 0xAA:
        return h_i32_trunc_f64_s;
    case 0xAB:
        return h_i32_trunc_f64_u;
    case 0xAE:
        return h_i64_trunc_f32_s;
    case 0xAF:
        return h_i64_trunc_f32_u;
    case 0xB0:
        return h_i64_trunc_f64_s;
    case 0xB1:
        return h_i64_trunc_f64_u;
    default:
        return NULL;
    }
}

/* Bulk memory, with the interpreter's checks (a trap or NULL). */
static bool in_range(uint64_t off, uint64_t n, uint64_t len)
{
    return off <= len && n <= len - off;
}

const char *jit_memory_copy(struct wasm_memory *m, uint32_t d, uint32_t s, uint32_t n)
{
    if (!in_range(s, n, m->size) || !in_range(d, n, m->size))
        return T_OOB;
    if (n > 0)
        memmove(m->data + d, m->data + s, n);
    return NULL;
}

const char *jit_memory_fill(struct wasm_memory *m, uint32_t d, uint32_t v, uint32_t n)
{
    if (!in_range(d, n, m->size))
        return T_OOB;
    if (n > 0)
        memset(m->data + d, (int)v, n);
    return NULL;
}

const char *jit_memory_init(struct wasm_memory *m, uint32_t d, uint32_t s, uint32_t n,
                            struct wasm_dataseg *seg)
{
    if (!in_range(s, n, seg->len) || !in_range(d, n, m->size))
        return T_OOB;
    if (n > 0)
        memcpy(m->data + d, seg->bytes + s, n);
    return NULL;
}

uint64_t jit_memory_grow(struct wasm_memory *m, uint64_t delta)
{
    return (uint32_t)wasm_memory_grow(m, (uint32_t)delta);
}
