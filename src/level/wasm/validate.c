/* The WebAssembly validator, written from the core spec 2.0, chapter 3
 * (validation) and the validation algorithm of its appendix: an operand
 * stack of value types (UNKNOWN being the bottom type that the polymorphic
 * stack of unreachable code yields) and a stack of control frames. The
 * module was decoded first, so its bytes are well-formed: reading them again
 * here needs no error reporting beyond a defensive bound check. The order of
 * the checks follows the spec's reference interpreter, so that a module with
 * several faults reports the one the spec tests expect. */
#include "level/wasm/validate.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "level/wasm/reader.h"

#define UNKNOWN 0 /* the bottom value type of unreachable code */

#define MSG_MISMATCH "type mismatch"

struct frame {
    uint8_t op; /* 0x02 block, 0x03 loop, 0x04 if, 0x05 else; 0 function */
    const uint8_t *in, *out;
    uint32_t nin, nout;
    size_t height; /* operand stack height at entry */
    bool unreachable;
};

struct fn_ctx {
    const uint8_t *p, *end; /* reading position in the body */
    const uint8_t *params;
    uint32_t nparams;
    const struct wasm_code *code;
};

struct val {
    const struct wasm_module *m;
    const uint8_t *buf;
    cerr_t *err;
    /* index spaces, imports first */
    uint32_t nfuncs, ntables, nmems, nglobals, nimp_globals;
    uint32_t *func_types;
    struct wasm_tabletype *tables;
    struct wasm_limits *mems;
    struct wasm_globaltype *globals;
    bool *refs; /* functions that ref.func may name (C.refs) */
    /* operand and control stacks */
    uint8_t *vals;
    size_t nvals, cvals;
    struct frame *ctrls;
    size_t nctrls, cctrls;
    struct fn_ctx fn;
};

static int fail(struct val *v, const char *msg)
{
    return cerr_set(v->err, 0, "%s", msg);
}

static int unknown(struct val *v, const char *what, uint32_t idx)
{
    return cerr_set(v->err, 0, "unknown %s %u", what, idx);
}

static const struct wasm_functype *functype(const struct val *v, uint32_t typeidx)
{
    return &v->m->types[typeidx];
}

static bool is_num(uint8_t t)
{
    return t == WASM_I32 || t == WASM_I64 || t == WASM_F32 || t == WASM_F64;
}

static bool is_ref(uint8_t t)
{
    return t == WASM_FUNCREF || t == WASM_EXTERNREF;
}

/* ---- limits and types ---- */

static int check_limits(struct val *v, const struct wasm_limits *l, uint64_t range,
                        const char *range_msg)
{
    if (l->min > range || (l->has_max && l->max > range))
        return fail(v, range_msg);
    if (l->has_max && l->min > l->max)
        return fail(v, "size minimum must not be greater than maximum");
    return 0;
}

static int check_memtype(struct val *v, const struct wasm_limits *l)
{
    return check_limits(v, l, 65536, "memory size must be at most 65536 pages (4GiB)");
}

static int check_tabletype(struct val *v, const struct wasm_tabletype *t)
{
    return check_limits(v, &t->limits, UINT32_MAX, "table size must be at most 2^32-1");
}

/* ---- constant expressions ---- */

/* A constant expression of type `want` (globals visible: the imported ones);
 * function indices it names join C.refs. */
static int const_expr(struct val *v, struct wasm_span sp, uint8_t want)
{
    struct rd r = {v->buf + sp.off, v->buf + sp.off + sp.len};
    uint8_t stack[2];
    size_t n = 0;
    for (;;) {
        uint8_t op = rd_byte(&r), t;
        uint32_t x;
        switch (op) {
        case 0x0B:
            if (n != 1 || stack[0] != want)
                return fail(v, MSG_MISMATCH);
            return 0;
        case 0x41:
            rd_leb(&r, true);
            t = WASM_I32;
            break;
        case 0x42:
            rd_leb(&r, true);
            t = WASM_I64;
            break;
        case 0x43:
            rd_skip(&r, 4);
            t = WASM_F32;
            break;
        case 0x44:
            rd_skip(&r, 8);
            t = WASM_F64;
            break;
        case 0xD0:
            t = rd_byte(&r);
            break;
        case 0xD2:
            x = rd_u32(&r);
            if (x >= v->nfuncs)
                return unknown(v, "function", x);
            v->refs[x] = true;
            t = WASM_FUNCREF;
            break;
        case 0x23:
            x = rd_u32(&r);
            if (x >= v->nimp_globals)
                return unknown(v, "global", x);
            if (v->globals[x].mut)
                return fail(v, "constant expression required");
            t = v->globals[x].valtype;
            break;
        case 0xFD:
            if (rd_u32(&r) != 0x0C) /* v128.const */
                return fail(v, "constant expression required");
            rd_skip(&r, 16);
            t = WASM_V128;
            break;
        default:
            return fail(v, "constant expression required");
        }
        /* only the count matters past one value: it is a mismatch anyway */
        if (n < ARRAY_SIZE(stack))
            stack[n] = t;
        n++;
    }
}

/* ---- operand and control stacks ---- */

static int push(struct val *v, uint8_t t)
{
    if (v->nvals == v->cvals) {
        size_t c = v->cvals ? v->cvals * 2 : 64;
        uint8_t *nv = realloc(v->vals, c);
        if (nv == NULL)
            return fail(v, "out of memory");
        v->vals = nv;
        v->cvals = c;
    }
    v->vals[v->nvals++] = t;
    return 0;
}

static int push_n(struct val *v, const uint8_t *ts, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (push(v, ts[i]) < 0)
            return -1;
    return 0;
}

/* Pop any value into *t (UNKNOWN from the polymorphic stack). */
static int pop(struct val *v, uint8_t *t)
{
    struct frame *f = &v->ctrls[v->nctrls - 1];
    if (v->nvals == f->height) {
        if (f->unreachable) {
            *t = UNKNOWN;
            return 0;
        }
        return fail(v, MSG_MISMATCH);
    }
    *t = v->vals[--v->nvals];
    return 0;
}

static int pop_t(struct val *v, uint8_t want)
{
    uint8_t t = UNKNOWN;
    if (pop(v, &t) < 0)
        return -1;
    if (t != want && t != UNKNOWN && want != UNKNOWN)
        return fail(v, MSG_MISMATCH);
    return 0;
}

static int pop_n(struct val *v, const uint8_t *ts, uint32_t n)
{
    for (uint32_t i = n; i > 0; i--)
        if (pop_t(v, ts[i - 1]) < 0)
            return -1;
    return 0;
}

/* Check the top of the stack against ts without popping (br_table: what
 * the spec's pop-then-push-back leaves, UNKNOWNs staying UNKNOWN). */
static int peek_n(struct val *v, const uint8_t *ts, uint32_t n)
{
    const struct frame *f = &v->ctrls[v->nctrls - 1];
    size_t avail = v->nvals - f->height;
    for (uint32_t k = 0; k < n; k++) {
        uint8_t want = ts[n - 1 - k];
        if (k >= avail) {
            if (!f->unreachable)
                return fail(v, MSG_MISMATCH);
            continue;
        }
        uint8_t t = v->vals[v->nvals - 1 - k];
        if (t != want && t != UNKNOWN)
            return fail(v, MSG_MISMATCH);
    }
    return 0;
}

static int push_ctrl(struct val *v, uint8_t op, const uint8_t *in, uint32_t nin, const uint8_t *out,
                     uint32_t nout)
{
    if (v->nctrls == v->cctrls) {
        size_t c = v->cctrls ? v->cctrls * 2 : 16;
        struct frame *nc = realloc(v->ctrls, c * sizeof(*nc));
        if (nc == NULL)
            return fail(v, "out of memory");
        v->ctrls = nc;
        v->cctrls = c;
    }
    v->ctrls[v->nctrls++] = (struct frame){
        .op = op, .in = in, .nin = nin, .out = out, .nout = nout, .height = v->nvals};
    return push_n(v, in, nin);
}

static int pop_ctrl(struct val *v, struct frame *out)
{
    struct frame *f = &v->ctrls[v->nctrls - 1];
    if (pop_n(v, f->out, f->nout) < 0)
        return -1;
    if (v->nvals != f->height)
        return fail(v, MSG_MISMATCH);
    *out = *f;
    v->nctrls--;
    return 0;
}

static void label_types(const struct frame *f, const uint8_t **ts, uint32_t *n)
{
    if (f->op == 0x03) {
        *ts = f->in;
        *n = f->nin;
    } else {
        *ts = f->out;
        *n = f->nout;
    }
}

static void set_unreachable(struct val *v)
{
    struct frame *f = &v->ctrls[v->nctrls - 1];
    v->nvals = f->height;
    f->unreachable = true;
}

/* ---- function bodies ---- */

static int local_type(struct val *v, uint32_t x, uint8_t *t)
{
    if (x < v->fn.nparams) {
        *t = v->fn.params[x];
        return 0;
    }
    uint64_t i = x - v->fn.nparams;
    for (uint32_t k = 0; k < v->fn.code->nruns; k++) {
        if (i < v->fn.code->runs[k].count) {
            *t = v->fn.code->runs[k].type;
            return 0;
        }
        i -= v->fn.code->runs[k].count;
    }
    return unknown(v, "local", x);
}

static int label(struct val *v, uint32_t l, struct frame **f)
{
    if (l >= v->nctrls)
        return unknown(v, "label", l);
    *f = &v->ctrls[v->nctrls - 1 - l];
    return 0;
}

static int memory(struct val *v, uint32_t x)
{
    if (x >= v->nmems)
        return unknown(v, "memory", x);
    return 0;
}

static int table(struct val *v, uint32_t x, uint8_t *t)
{
    if (x >= v->ntables)
        return unknown(v, "table", x);
    *t = v->tables[x].reftype;
    return 0;
}

static int elem_seg(struct val *v, uint32_t x, uint8_t *t)
{
    if (x >= v->m->nelems)
        return unknown(v, "elem segment", x);
    *t = v->m->elems[x].elemtype;
    return 0;
}

static int data_seg(struct val *v, uint32_t x)
{
    if (!v->m->has_data_count || x >= v->m->data_count)
        return unknown(v, "data segment", x);
    return 0;
}

static int block_type(struct val *v, struct rd *r, const uint8_t **in, uint32_t *nin,
                      const uint8_t **out, uint32_t *nout)
{
    uint8_t b = r->p < r->end ? *r->p : 0x40;
    *in = *out = NULL;
    *nin = *nout = 0;
    if (b == 0x40) {
        r->p++;
        return 0;
    }
    if (is_num(b) || is_ref(b) || b == WASM_V128) {
        *out = r->p++; /* the type byte itself: a one-type result */
        *nout = 1;
        return 0;
    }
    int64_t x = (int64_t)rd_leb(r, true);
    if (x < 0 || (uint64_t)x >= v->m->ntypes)
        return unknown(v, "type", (uint32_t)x);
    const struct wasm_functype *ft = functype(v, (uint32_t)x);
    *in = v->buf + ft->params.off;
    *nin = (uint32_t)ft->params.len;
    *out = v->buf + ft->results.off;
    *nout = (uint32_t)ft->results.len;
    return 0;
}

/* [a...] -> [res] with up to two operands; UNKNOWN res: none. */
static int op_sig(struct val *v, uint8_t a, uint8_t b, uint8_t res)
{
    if (b != UNKNOWN && pop_t(v, b) < 0)
        return -1;
    if (a != UNKNOWN && pop_t(v, a) < 0)
        return -1;
    return res != UNKNOWN ? push(v, res) : 0;
}

/* Numeric instructions 0x45..0xC4: operand types and result. */
static int numeric(struct val *v, uint8_t op)
{
    const uint8_t I = WASM_I32, L = WASM_I64, F = WASM_F32, D = WASM_F64;
    if (op == 0x45)
        return op_sig(v, I, 0, I);
    if (op <= 0x4F)
        return op_sig(v, I, I, I);
    if (op == 0x50)
        return op_sig(v, L, 0, I);
    if (op <= 0x5A)
        return op_sig(v, L, L, I);
    if (op <= 0x60)
        return op_sig(v, F, F, I);
    if (op <= 0x66)
        return op_sig(v, D, D, I);
    if (op <= 0x69)
        return op_sig(v, I, 0, I);
    if (op <= 0x78)
        return op_sig(v, I, I, I);
    if (op <= 0x7B)
        return op_sig(v, L, 0, L);
    if (op <= 0x8A)
        return op_sig(v, L, L, L);
    if (op <= 0x91)
        return op_sig(v, F, 0, F);
    if (op <= 0x98)
        return op_sig(v, F, F, F);
    if (op <= 0x9F)
        return op_sig(v, D, 0, D);
    if (op <= 0xA6)
        return op_sig(v, D, D, D);
    /* conversions, 0xA7..0xBF: operand and result of each */
    static const char conv[][2] = {{'L', 'I'}, {'F', 'I'}, {'F', 'I'}, {'D', 'I'}, {'D', 'I'},
                                   {'I', 'L'}, {'I', 'L'}, {'F', 'L'}, {'F', 'L'}, {'D', 'L'},
                                   {'D', 'L'}, {'I', 'F'}, {'I', 'F'}, {'L', 'F'}, {'L', 'F'},
                                   {'D', 'F'}, {'I', 'D'}, {'I', 'D'}, {'L', 'D'}, {'L', 'D'},
                                   {'F', 'D'}, {'F', 'I'}, {'D', 'L'}, {'I', 'F'}, {'L', 'D'}};
    if (op <= 0xBF) {
        uint8_t t[2];
        for (int k = 0; k < 2; k++) {
            char c = conv[op - 0xA7][k];
            t[k] = c == 'I' ? I : c == 'L' ? L : c == 'F' ? F : D;
        }
        return op_sig(v, t[0], 0, t[1]);
    }
    if (op <= 0xC1)
        return op_sig(v, I, 0, I); /* i32.extend8_s, extend16_s */
    return op_sig(v, L, 0, L);     /* i64.extend8_s, 16_s, 32_s */
}

/* Loads 0x28..0x35 and stores 0x36..0x3E: memarg, natural alignment. */
static int mem_access(struct val *v, struct rd *r, uint8_t op)
{
    static const uint8_t natural[] = {2, 3, 2, 3, 0, 0, 1, 1, 0, 0, 1, 1,
                                      2, 2, 2, 3, 2, 3, 0, 1, 0, 1, 2};
    static const uint8_t vtype[] = {WASM_I32, WASM_I64, WASM_F32, WASM_F64, WASM_I32, WASM_I32,
                                    WASM_I32, WASM_I32, WASM_I64, WASM_I64, WASM_I64, WASM_I64,
                                    WASM_I64, WASM_I64, WASM_I32, WASM_I64, WASM_F32, WASM_F64,
                                    WASM_I32, WASM_I32, WASM_I64, WASM_I64, WASM_I64};
    uint32_t align = rd_u32(r);
    rd_u32(r); /* offset */
    if (memory(v, 0) < 0)
        return -1;
    if (align > natural[op - 0x28])
        return fail(v, "alignment must not be larger than natural");
    uint8_t t = vtype[op - 0x28];
    if (op <= 0x35)
        return op_sig(v, WASM_I32, 0, t);
    return op_sig(v, WASM_I32, t, UNKNOWN);
}

static int misc(struct val *v, struct rd *r)
{
    uint32_t op = rd_u32(r), x, y;
    uint8_t t1 = UNKNOWN, t2 = UNKNOWN;
    static const uint8_t trunc_sat[][2] = {
        {WASM_F32, WASM_I32}, {WASM_F32, WASM_I32}, {WASM_F64, WASM_I32}, {WASM_F64, WASM_I32},
        {WASM_F32, WASM_I64}, {WASM_F32, WASM_I64}, {WASM_F64, WASM_I64}, {WASM_F64, WASM_I64}};
    if (op <= 7)
        return op_sig(v, trunc_sat[op][0], 0, trunc_sat[op][1]);
    switch (op) {
    case 8: /* memory.init x 0 */
        x = rd_u32(r);
        rd_byte(r);
        if (memory(v, 0) < 0 || data_seg(v, x) < 0)
            return -1;
        return pop_n(v, (const uint8_t[]){WASM_I32, WASM_I32, WASM_I32}, 3);
    case 9: /* data.drop */
        return data_seg(v, rd_u32(r));
    case 10: /* memory.copy */
    case 11: /* memory.fill */
        rd_skip(r, op == 10 ? 2 : 1);
        if (memory(v, 0) < 0)
            return -1;
        return pop_n(v, (const uint8_t[]){WASM_I32, WASM_I32, WASM_I32}, 3);
    case 12: /* table.init elemidx tableidx */
        y = rd_u32(r);
        x = rd_u32(r);
        if (table(v, x, &t1) < 0 || elem_seg(v, y, &t2) < 0)
            return -1;
        if (t1 != t2)
            return fail(v, MSG_MISMATCH);
        return pop_n(v, (const uint8_t[]){WASM_I32, WASM_I32, WASM_I32}, 3);
    case 13: /* elem.drop */
        return elem_seg(v, rd_u32(r), &t1);
    case 14: /* table.copy dst src */
        x = rd_u32(r);
        y = rd_u32(r);
        if (table(v, x, &t1) < 0 || table(v, y, &t2) < 0)
            return -1;
        if (t1 != t2)
            return fail(v, MSG_MISMATCH);
        return pop_n(v, (const uint8_t[]){WASM_I32, WASM_I32, WASM_I32}, 3);
    case 15: /* table.grow */
        if (table(v, rd_u32(r), &t1) < 0)
            return -1;
        return op_sig(v, t1, WASM_I32, WASM_I32);
    case 16: /* table.size */
        if (table(v, rd_u32(r), &t1) < 0)
            return -1;
        return push(v, WASM_I32);
    case 17: /* table.fill */
        if (table(v, rd_u32(r), &t1) < 0)
            return -1;
        return pop_n(v, (const uint8_t[]){WASM_I32, t1, WASM_I32}, 3);
    default:
        return cerr_set(v->err, 0, "illegal opcode 0xfc %02x", op);
    }
}

/* The one-operand v128 -> v128 SIMD opcodes (0xFD prefix). */
static bool simd_unary(uint32_t op)
{
    static const uint8_t ops[] = {0x4D, 0x5E, 0x5F, 0x60, 0x61, 0x62, 0x67, 0x68, 0x69, 0x6A, 0x74,
                                  0x75, 0x7A, 0x7C, 0x7D, 0x7E, 0x7F, 0x80, 0x81, 0x87, 0x88, 0x89,
                                  0x8A, 0x94, 0xA0, 0xA1, 0xA7, 0xA8, 0xA9, 0xAA, 0xC0, 0xC1, 0xC7,
                                  0xC8, 0xC9, 0xCA, 0xE0, 0xE1, 0xE3, 0xEC, 0xED, 0xEF};
    if (op >= 0xF8)
        return true; /* the conversions */
    for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
        if (op == ops[i])
            return true;
    return false;
}

/* The v128 -> i32 tests: any_true, all_true and bitmask. */
static bool simd_test(uint32_t op)
{
    static const uint8_t ops[] = {0x53, 0x63, 0x64, 0x83, 0x84, 0xA3, 0xA4, 0xC3, 0xC4};
    for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
        if (op == ops[i])
            return true;
    return false;
}

/* A SIMD memory access' memarg: memory 0 and alignment at most 2^a. */
static int simd_memarg(struct val *v, struct rd *r, uint32_t a)
{
    uint32_t align = rd_u32(r);
    rd_u32(r); /* offset */
    if (memory(v, 0) < 0)
        return -1;
    if (align > a)
        return fail(v, "alignment must not be larger than natural");
    return 0;
}

/* SIMD instructions (0xFD prefix): the opcode set the decoder accepts. */
static int simd(struct val *v, struct rd *r)
{
    const uint8_t I = WASM_I32, V = WASM_V128;
    uint32_t op = rd_u32(r);
    if (op <= 0x0A || op == 0x5C || op == 0x5D) { /* loads: [i32] -> [v128] */
        static const uint8_t natural[] = {4, 3, 3, 3, 3, 3, 3, 0, 1, 2, 3};
        if (simd_memarg(v, r, op <= 0x0A ? natural[op] : op == 0x5C ? 2 : 3) < 0)
            return -1;
        return op_sig(v, I, 0, V);
    }
    if (op == 0x0B) /* v128.store */
        return simd_memarg(v, r, 4) < 0 ? -1 : op_sig(v, I, V, UNKNOWN);
    if (op == 0x0C) { /* v128.const */
        rd_skip(r, 16);
        return push(v, V);
    }
    if (op == 0x0D) { /* i8x16.shuffle */
        for (int i = 0; i < 16; i++)
            if (rd_byte(r) >= 32)
                return fail(v, "invalid lane index");
        return op_sig(v, V, V, V);
    }
    if (op >= 0x0F && op <= 0x14) { /* splats */
        static const uint8_t from[] = {WASM_I32, WASM_I32, WASM_I32, WASM_I64, WASM_F32, WASM_F64};
        return op_sig(v, from[op - 0x0F], 0, V);
    }
    if (op >= 0x15 && op <= 0x22) { /* extract/replace lane */
        /* per opcode: lane count and scalar type */
        static const uint8_t lanes[] = {16, 16, 16, 8, 8, 8, 4, 4, 2, 2, 4, 4, 2, 2};
        static const uint8_t scalar[] = {WASM_I32, WASM_I32, WASM_I32, WASM_I32, WASM_I32,
                                         WASM_I32, WASM_I32, WASM_I32, WASM_I64, WASM_I64,
                                         WASM_F32, WASM_F32, WASM_F64, WASM_F64};
        static const bool replace[] = {false, false, true, false, false, true,  false,
                                       true,  false, true, false, true,  false, true};
        size_t k = op - 0x15;
        if (rd_byte(r) >= lanes[k])
            return fail(v, "invalid lane index");
        if (replace[k])
            return op_sig(v, V, scalar[k], V);
        return op_sig(v, V, 0, scalar[k]);
    }
    if (op >= 0x54 && op <= 0x5B) { /* load/store lane: [i32 v128] */
        uint32_t a = (op - 0x54) % 4;
        if (simd_memarg(v, r, a) < 0)
            return -1;
        if (rd_byte(r) >= 16u >> a)
            return fail(v, "invalid lane index");
        return op_sig(v, I, V, op <= 0x57 ? V : UNKNOWN);
    }
    if (op == 0x52) /* v128.bitselect */
        return pop_t(v, V) < 0 ? -1 : op_sig(v, V, V, V);
    if (simd_test(op))
        return op_sig(v, V, 0, I);
    if ((op >= 0x6B && op <= 0x6D) || (op >= 0x8B && op <= 0x8D) || (op >= 0xAB && op <= 0xAD) ||
        (op >= 0xCB && op <= 0xCD))
        return op_sig(v, V, I, V); /* shifts */
    if (simd_unary(op))
        return op_sig(v, V, 0, V);
    return op_sig(v, V, V, V); /* the binary rest */
}

/* Validate one instruction; *done when the function's final END was seen. */
static int instr(struct val *v, struct rd *r, bool *done)
{
    uint8_t op = rd_byte(r), t = UNKNOWN, t1 = UNKNOWN, t2 = UNKNOWN;
    uint32_t x, n;
    struct frame *f = NULL, fr;
    const uint8_t *in = NULL, *out = NULL, *ts = NULL;
    uint32_t nin = 0, nout = 0, nts = 0;
    switch (op) {
    case 0x00: /* unreachable */
        set_unreachable(v);
        return 0;
    case 0x01: /* nop */
        return 0;
    case 0x02: /* block */
    case 0x03: /* loop */
        if (block_type(v, r, &in, &nin, &out, &nout) < 0 || pop_n(v, in, nin) < 0)
            return -1;
        return push_ctrl(v, op, in, nin, out, nout);
    case 0x04: /* if */
        if (block_type(v, r, &in, &nin, &out, &nout) < 0 || pop_t(v, WASM_I32) < 0 ||
            pop_n(v, in, nin) < 0)
            return -1;
        return push_ctrl(v, op, in, nin, out, nout);
    case 0x05: /* else */
        if (pop_ctrl(v, &fr) < 0)
            return -1;
        return push_ctrl(v, 0x05, fr.in, fr.nin, fr.out, fr.nout);
    case 0x0B: /* end */
        if (pop_ctrl(v, &fr) < 0)
            return -1;
        /* an if without else passes its parameters through */
        if (fr.op == 0x04 &&
            (fr.nin != fr.nout || (fr.nin > 0 && memcmp(fr.in, fr.out, fr.nin) != 0)))
            return fail(v, MSG_MISMATCH);
        if (v->nctrls == 0) {
            *done = true;
            return 0;
        }
        return push_n(v, fr.out, fr.nout);
    case 0x0C: /* br */
        if (label(v, rd_u32(r), &f) < 0)
            return -1;
        label_types(f, &ts, &nts);
        if (pop_n(v, ts, nts) < 0)
            return -1;
        set_unreachable(v);
        return 0;
    case 0x0D: /* br_if */
        if (label(v, rd_u32(r), &f) < 0)
            return -1;
        label_types(f, &ts, &nts);
        if (pop_t(v, WASM_I32) < 0 || pop_n(v, ts, nts) < 0)
            return -1;
        return push_n(v, ts, nts);
    case 0x0E: { /* br_table */
        n = rd_u32(r);
        struct rd targets = *r;
        for (uint32_t i = 0; i < n; i++)
            rd_u32(r);
        uint32_t dflt = rd_u32(r);
        if (pop_t(v, WASM_I32) < 0 || label(v, dflt, &f) < 0)
            return -1;
        uint32_t arity;
        label_types(f, &ts, &arity);
        for (uint32_t i = 0; i < n; i++) {
            if (label(v, rd_u32(&targets), &f) < 0)
                return -1;
            label_types(f, &ts, &nts);
            if (nts != arity)
                return fail(v, MSG_MISMATCH);
            if (peek_n(v, ts, nts) < 0)
                return -1;
        }
        if (label(v, dflt, &f) < 0)
            return -1;
        label_types(f, &ts, &nts);
        if (pop_n(v, ts, nts) < 0)
            return -1;
        set_unreachable(v);
        return 0;
    }
    case 0x0F: /* return */
        f = &v->ctrls[0];
        if (pop_n(v, f->out, f->nout) < 0)
            return -1;
        set_unreachable(v);
        return 0;
    case 0x10: { /* call */
        x = rd_u32(r);
        if (x >= v->nfuncs)
            return unknown(v, "function", x);
        const struct wasm_functype *ft = functype(v, v->func_types[x]);
        if (pop_n(v, v->buf + ft->params.off, (uint32_t)ft->params.len) < 0)
            return -1;
        return push_n(v, v->buf + ft->results.off, (uint32_t)ft->results.len);
    }
    case 0x11: { /* call_indirect typeidx tableidx */
        x = rd_u32(r);
        uint32_t tab = rd_u32(r);
        if (table(v, tab, &t) < 0)
            return -1;
        if (x >= v->m->ntypes)
            return unknown(v, "type", x);
        if (t != WASM_FUNCREF)
            return fail(v, MSG_MISMATCH);
        const struct wasm_functype *ft = functype(v, x);
        if (pop_t(v, WASM_I32) < 0 ||
            pop_n(v, v->buf + ft->params.off, (uint32_t)ft->params.len) < 0)
            return -1;
        return push_n(v, v->buf + ft->results.off, (uint32_t)ft->results.len);
    }
    case 0x1A: /* drop */
        return pop(v, &t);
    case 0x1B: /* select */
        if (pop_t(v, WASM_I32) < 0 || pop(v, &t1) < 0 || pop(v, &t2) < 0)
            return -1;
        if ((t1 != UNKNOWN && !is_num(t1) && t1 != WASM_V128) ||
            (t2 != UNKNOWN && !is_num(t2) && t2 != WASM_V128))
            return fail(v, MSG_MISMATCH);
        if (t1 != UNKNOWN && t2 != UNKNOWN && t1 != t2)
            return fail(v, MSG_MISMATCH);
        return push(v, t1 == UNKNOWN ? t2 : t1);
    case 0x1C: /* select t* */
        n = rd_u32(r);
        if (n != 1)
            return fail(v, "invalid result arity");
        t = rd_byte(r);
        return pop_n(v, (const uint8_t[]){t, t, WASM_I32}, 3) < 0 ? -1 : push(v, t);
    case 0x20: /* local.get */
        if (local_type(v, rd_u32(r), &t) < 0)
            return -1;
        return push(v, t);
    case 0x21: /* local.set */
        if (local_type(v, rd_u32(r), &t) < 0)
            return -1;
        return pop_t(v, t);
    case 0x22: /* local.tee */
        if (local_type(v, rd_u32(r), &t) < 0)
            return -1;
        return pop_t(v, t) < 0 ? -1 : push(v, t);
    case 0x23: /* global.get */
        x = rd_u32(r);
        if (x >= v->nglobals)
            return unknown(v, "global", x);
        return push(v, v->globals[x].valtype);
    case 0x24: /* global.set */
        x = rd_u32(r);
        if (x >= v->nglobals)
            return unknown(v, "global", x);
        if (!v->globals[x].mut)
            return fail(v, "global is immutable");
        return pop_t(v, v->globals[x].valtype);
    case 0x25: /* table.get */
        if (table(v, rd_u32(r), &t) < 0)
            return -1;
        return op_sig(v, WASM_I32, 0, t);
    case 0x26: /* table.set */
        if (table(v, rd_u32(r), &t) < 0)
            return -1;
        return op_sig(v, WASM_I32, t, UNKNOWN);
    case 0x3F: /* memory.size */
        rd_byte(r);
        if (memory(v, 0) < 0)
            return -1;
        return push(v, WASM_I32);
    case 0x40: /* memory.grow */
        rd_byte(r);
        if (memory(v, 0) < 0)
            return -1;
        return op_sig(v, WASM_I32, 0, WASM_I32);
    case 0x41:
        rd_leb(r, true);
        return push(v, WASM_I32);
    case 0x42:
        rd_leb(r, true);
        return push(v, WASM_I64);
    case 0x43:
        rd_skip(r, 4);
        return push(v, WASM_F32);
    case 0x44:
        rd_skip(r, 8);
        return push(v, WASM_F64);
    case 0xD0: /* ref.null t */
        return push(v, rd_byte(r));
    case 0xD1: /* ref.is_null */
        if (pop(v, &t) < 0)
            return -1;
        if (t != UNKNOWN && !is_ref(t))
            return fail(v, MSG_MISMATCH);
        return push(v, WASM_I32);
    case 0xD2: /* ref.func */
        x = rd_u32(r);
        if (x >= v->nfuncs)
            return unknown(v, "function", x);
        if (!v->refs[x])
            return fail(v, "undeclared function reference");
        return push(v, WASM_FUNCREF);
    case 0xFC:
        return misc(v, r);
    case 0xFD:
        return simd(v, r);
    default:
        if (op >= 0x28 && op <= 0x3E)
            return mem_access(v, r, op);
        if (op >= 0x45 && op <= 0xC4)
            return numeric(v, op);
        return cerr_set(v->err, 0, "illegal opcode %02x", op);
    }
}

static int check_func(struct val *v, uint32_t i)
{
    const struct wasm_code *c = &v->m->codes[i];
    const struct wasm_functype *ft = functype(v, v->m->funcs[i]);
    v->fn = (struct fn_ctx){.p = v->buf + c->body.off,
                            .end = v->buf + c->body.off + c->body.len,
                            .params = v->buf + ft->params.off,
                            .nparams = (uint32_t)ft->params.len,
                            .code = c};
    v->nvals = v->nctrls = 0;
    if (push_ctrl(v, 0, NULL, 0, v->buf + ft->results.off, (uint32_t)ft->results.len) < 0)
        return -1;
    struct rd r = {v->fn.p, v->fn.end};
    bool done = false;
    while (!done) {
        if (r.p >= r.end)
            return fail(v, "unexpected end"); /* cannot happen after decoding */
        if (instr(v, &r, &done) < 0)
            return -1;
    }
    return 0;
}

/* ---- module ---- */

struct name_ref {
    const uint8_t *p;
    size_t len;
};

static int cmp_name(const void *a, const void *b)
{
    const struct name_ref *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->p, y->p, n);
    if (c != 0)
        return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

static int check_exports(struct val *v)
{
    const struct wasm_module *m = v->m;
    for (uint32_t i = 0; i < m->nexports; i++) {
        const struct wasm_export *e = &m->exports[i];
        static const char *const what[] = {"function", "table", "memory", "global"};
        uint32_t lim[] = {v->nfuncs, v->ntables, v->nmems, v->nglobals};
        if (e->index >= lim[e->kind])
            return unknown(v, what[e->kind], e->index);
    }
    if (m->nexports < 2)
        return 0;
    struct name_ref *names = calloc(m->nexports, sizeof(*names));
    if (names == NULL)
        return fail(v, "out of memory");
    for (uint32_t i = 0; i < m->nexports; i++)
        names[i] = (struct name_ref){v->buf + m->exports[i].name.off, m->exports[i].name.len};
    qsort(names, m->nexports, sizeof(*names), cmp_name);
    int rc = 0;
    for (uint32_t i = 1; i < m->nexports && rc == 0; i++)
        if (cmp_name(&names[i - 1], &names[i]) == 0)
            rc = fail(v, "duplicate export name");
    free(names);
    return rc;
}

static int check_elems(struct val *v)
{
    const struct wasm_module *m = v->m;
    for (uint32_t i = 0; i < m->nelems; i++) {
        const struct wasm_elem *e = &m->elems[i];
        if (e->mode == WASM_SEG_ACTIVE) {
            uint8_t t = UNKNOWN;
            if (table(v, e->table, &t) < 0)
                return -1;
            if (t != e->elemtype)
                return fail(v, MSG_MISMATCH);
            if (const_expr(v, e->offset, WASM_I32) < 0)
                return -1;
        }
        for (uint32_t k = 0; k < e->count; k++) {
            if (e->uses_exprs) {
                if (const_expr(v, e->exprs[k], e->elemtype) < 0)
                    return -1;
            } else {
                if (e->funcs[k] >= v->nfuncs)
                    return unknown(v, "function", e->funcs[k]);
                v->refs[e->funcs[k]] = true;
            }
        }
    }
    return 0;
}

static int check_module(struct val *v)
{
    const struct wasm_module *m = v->m;
    /* the index spaces: imports first */
    size_t nf = m->nfuncs, nt = m->ntables, nm = m->nmemories, ng = m->nglobals;
    for (uint32_t i = 0; i < m->nimports; i++) {
        uint8_t k = m->imports[i].kind;
        nf += k == WASM_EXTERN_FUNC;
        nt += k == WASM_EXTERN_TABLE;
        nm += k == WASM_EXTERN_MEMORY;
        ng += k == WASM_EXTERN_GLOBAL;
    }
    v->func_types = calloc(nf + 1, sizeof(*v->func_types));
    v->refs = calloc(nf + 1, sizeof(*v->refs));
    v->tables = calloc(nt + 1, sizeof(*v->tables));
    v->mems = calloc(nm + 1, sizeof(*v->mems));
    v->globals = calloc(ng + 1, sizeof(*v->globals));
    if (!v->func_types || !v->refs || !v->tables || !v->mems || !v->globals)
        return fail(v, "out of memory");
    for (uint32_t i = 0; i < m->nimports; i++) {
        const struct wasm_import *im = &m->imports[i];
        switch (im->kind) {
        case WASM_EXTERN_FUNC:
            if (im->desc.func_type >= m->ntypes)
                return unknown(v, "type", im->desc.func_type);
            v->func_types[v->nfuncs++] = im->desc.func_type;
            break;
        case WASM_EXTERN_TABLE:
            if (check_tabletype(v, &im->desc.table) < 0)
                return -1;
            v->tables[v->ntables++] = im->desc.table;
            break;
        case WASM_EXTERN_MEMORY:
            if (check_memtype(v, &im->desc.memory) < 0)
                return -1;
            v->mems[v->nmems++] = im->desc.memory;
            break;
        default:
            v->globals[v->nglobals++] = im->desc.global;
            break;
        }
    }
    v->nimp_globals = v->nglobals;
    for (uint32_t i = 0; i < m->nfuncs; i++) {
        if (m->funcs[i] >= m->ntypes)
            return unknown(v, "type", m->funcs[i]);
        v->func_types[v->nfuncs++] = m->funcs[i];
    }
    for (uint32_t i = 0; i < m->ntables; i++)
        v->tables[v->ntables++] = m->tables[i];
    for (uint32_t i = 0; i < m->nmemories; i++)
        v->mems[v->nmems++] = m->memories[i];
    /* globals (their initializers see the imported globals only) */
    for (uint32_t i = 0; i < m->nglobals; i++)
        if (const_expr(v, m->globals[i].init, m->globals[i].type.valtype) < 0)
            return -1;
    for (uint32_t i = 0; i < m->nglobals; i++)
        v->globals[v->nglobals++] = m->globals[i].type;
    for (uint32_t i = 0; i < m->ntables; i++)
        if (check_tabletype(v, &m->tables[i]) < 0)
            return -1;
    for (uint32_t i = 0; i < m->nmemories; i++)
        if (check_memtype(v, &m->memories[i]) < 0)
            return -1;
    /* segments' expressions see the imported globals only too (as globals') */
    uint32_t all_globals = v->nglobals;
    v->nglobals = v->nimp_globals;
    if (check_elems(v) < 0)
        return -1;
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const struct wasm_data *d = &m->datas[i];
        if (d->mode == WASM_SEG_ACTIVE &&
            (memory(v, d->memory) < 0 || const_expr(v, d->offset, WASM_I32) < 0))
            return -1;
    }
    v->nglobals = all_globals;
    /* exported functions are declared references too */
    for (uint32_t i = 0; i < m->nexports; i++)
        if (m->exports[i].kind == WASM_EXTERN_FUNC && m->exports[i].index < v->nfuncs)
            v->refs[m->exports[i].index] = true;
    for (uint32_t i = 0; i < m->ncodes; i++)
        if (check_func(v, i) < 0)
            return -1;
    if (m->has_start) {
        if (m->start >= v->nfuncs)
            return unknown(v, "function", m->start);
        const struct wasm_functype *ft = functype(v, v->func_types[m->start]);
        if (ft->params.len != 0 || ft->results.len != 0)
            return fail(v, "start function");
    }
    if (check_exports(v) < 0)
        return -1;
    if (v->nmems > 1)
        return fail(v, "multiple memories");
    return 0;
}

int wasm_validate(const struct wasm_module *m, const uint8_t *buf, cerr_t *err)
{
    struct val v = {.m = m, .buf = buf, .err = err};
    int rc = check_module(&v);
    free(v.func_types);
    free(v.refs);
    free(v.tables);
    free(v.mems);
    free(v.globals);
    free(v.vals);
    free(v.ctrls);
    return rc < 0 ? -1 : 0;
}
