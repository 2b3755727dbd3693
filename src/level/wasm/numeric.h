/* Numeric semantics the interpreter and the JIT share: the trap messages
 * (the spec's wording), and the operations whose IEEE or integer meaning in
 * WebAssembly needs more than one machine instruction (min/max with signed
 * zeros and NaN, rounding, float-to-int conversions, rotations). */
#ifndef CELLA_WASM_NUMERIC_H
#define CELLA_WASM_NUMERIC_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static const char T_OOB[] = "out of bounds memory access";
static const char T_TABLE[] = "out of bounds table access";
static const char T_DIV0[] = "integer divide by zero";
static const char T_OVERFLOW[] = "integer overflow";
static const char T_CONV[] = "invalid conversion to integer";
static const char T_EXHAUSTED[] = "call stack exhausted";

/* ---- float helpers ---- */

static inline uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static inline float bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline uint64_t f64_bits(double f)
{
    uint64_t u;
    memcpy(&u, &f, 8);
    return u;
}

static inline double bits_f64(uint64_t u)
{
    double f;
    memcpy(&f, &u, 8);
    return f;
}

static inline float f32_min(float a, float b)
{
    if (isnan(a) || isnan(b))
        return a + b;
    if (a == b)
        return bits_f32(f32_bits(a) | f32_bits(b)); /* -0 < +0 */
    return a < b ? a : b;
}

static inline float f32_max(float a, float b)
{
    if (isnan(a) || isnan(b))
        return a + b;
    if (a == b)
        return bits_f32(f32_bits(a) & f32_bits(b));
    return a > b ? a : b;
}

static inline double f64_min(double a, double b)
{
    if (isnan(a) || isnan(b))
        return a + b;
    if (a == b)
        return bits_f64(f64_bits(a) | f64_bits(b));
    return a < b ? a : b;
}

static inline double f64_max(double a, double b)
{
    if (isnan(a) || isnan(b))
        return a + b;
    if (a == b)
        return bits_f64(f64_bits(a) & f64_bits(b));
    return a > b ? a : b;
}

/* Float to integer: NULL and *out, or the trap. x is exact in a double for
 * both f32 and f64 inputs; lo and hi are the exclusive bounds of values
 * whose truncation fits. */
static inline const char *trunc_check(double x, double lo, double hi)
{
    if (isnan(x))
        return T_CONV;
    if (!(x > lo && x < hi))
        return T_OVERFLOW;
    return NULL;
}

#define I32_LO (-2147483649.0)
#define I32_HI 2147483648.0
#define U32_HI 4294967296.0
#define I64_LO (-9223372036854777856.0) /* the double below -2^63 */
#define I64_HI 9223372036854775808.0
#define U64_HI 18446744073709551616.0

static inline uint32_t sat_i32(double x)
{
    if (isnan(x))
        return 0;
    if (x <= I32_LO)
        return (uint32_t)INT32_MIN;
    if (x >= I32_HI)
        return (uint32_t)INT32_MAX;
    return (uint32_t)(int32_t)x;
}

static inline uint32_t sat_u32(double x)
{
    if (isnan(x) || x <= -1.0)
        return 0;
    if (x >= U32_HI)
        return UINT32_MAX;
    return (uint32_t)x;
}

static inline uint64_t sat_i64(double x)
{
    if (isnan(x))
        return 0;
    if (x < -I64_HI)
        return (uint64_t)INT64_MIN;
    if (x >= I64_HI)
        return (uint64_t)INT64_MAX;
    return (uint64_t)(int64_t)x;
}

static inline uint64_t sat_u64(double x)
{
    if (isnan(x) || x <= -1.0)
        return 0;
    if (x >= U64_HI)
        return UINT64_MAX;
    return (uint64_t)x;
}

/* ceil, floor, trunc, nearest: a NaN operand gives a quiet NaN (libm may
 * return a signalling one unchanged). */
#define ROUNDING(name, T, fn)                                                                      \
    static inline T name(T a)                                                                      \
    {                                                                                              \
        return isnan(a) ? a + a : fn(a);                                                           \
    }
ROUNDING(f32_ceil, float, ceilf)
ROUNDING(f32_floor, float, floorf)
ROUNDING(f32_trunc, float, truncf)
ROUNDING(f32_nearest, float, nearbyintf)
ROUNDING(f64_ceil, double, ceil)
ROUNDING(f64_floor, double, floor)
ROUNDING(f64_trunc, double, trunc)
ROUNDING(f64_nearest, double, nearbyint)

static inline uint32_t rotl32(uint32_t a, uint32_t b)
{
    b &= 31;
    return b ? (a << b) | (a >> (32 - b)) : a;
}

static inline uint32_t rotr32(uint32_t a, uint32_t b)
{
    b &= 31;
    return b ? (a >> b) | (a << (32 - b)) : a;
}

static inline uint64_t rotl64(uint64_t a, uint64_t b)
{
    b &= 63;
    return b ? (a << b) | (a >> (64 - b)) : a;
}

static inline uint64_t rotr64(uint64_t a, uint64_t b)
{
    b &= 63;
    return b ? (a >> b) | (a << (64 - b)) : a;
}

#endif
