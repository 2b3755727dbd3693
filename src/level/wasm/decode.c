/* The WebAssembly binary format decoder, written from the core spec 2.0,
 * chapter 5 (binary format). Reading is bounded by the whole buffer (as the
 * spec's reference decoder does); each section and function body is then
 * checked to end exactly where its size said. */
#include "level/wasm/decode.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define MSG_EOF      "unexpected end"
#define MSG_EOF_SECT "unexpected end of section or function"

struct rd {
    const uint8_t *buf;
    size_t pos, len;
    const char *eof_msg; /* MSG_EOF at top level, MSG_EOF_SECT inside sections */
    bool uses_data_idx;  /* memory.init or data.drop seen (data count required) */
    uint8_t *blocks;     /* open blocks of the instruction being scanned */
    size_t nblocks, cblocks;
    cerr_t *err;
};

static int fail(struct rd *r, const char *msg)
{
    cerr_set(r->err, 0, "%s", msg);
    return -1;
}

static int eof(struct rd *r)
{
    cerr_set(r->err, 0, "%s", r->eof_msg);
    return -1;
}

static int byte(struct rd *r, uint8_t *b)
{
    if (r->pos >= r->len)
        return eof(r);
    *b = r->buf[r->pos++];
    return 0;
}

static int skip(struct rd *r, size_t n)
{
    if (n > r->len - r->pos)
        return eof(r);
    r->pos += n;
    return 0;
}

/* LEB128 of `bits` bits (spec 5.2.2): at most ceil(bits/7) bytes, and the
 * unused bits of the last byte must be zero (unsigned) or copies of the sign
 * bit (signed). */
static int leb(struct rd *r, int bits, bool sign, uint64_t *out)
{
    uint64_t v = 0;
    unsigned shift = 0;
    int n = bits;
    uint8_t b = 0;
    for (;;) {
        if (n <= 0)
            return fail(r, "integer representation too long");
        if (byte(r, &b) < 0)
            return -1;
        if (n < 7) {
            if (sign) {
                uint8_t mask = (uint8_t)((0xFFu << (n - 1)) & 0x7F);
                if ((b & mask) != 0 && (b & mask) != mask)
                    return fail(r, "integer too large");
            } else if ((b & 0x7F) >= (1u << n)) {
                return fail(r, "integer too large");
            }
        }
        if (shift < 64)
            v |= (uint64_t)(b & 0x7F) << shift;
        shift += 7;
        n -= 7;
        if (!(b & 0x80))
            break;
    }
    if (sign && shift < 64 && (b & 0x40))
        v |= ~(uint64_t)0 << shift;
    *out = v;
    return 0;
}

static int u32(struct rd *r, uint32_t *out)
{
    uint64_t v;
    if (leb(r, 32, false, &v) < 0)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int s32(struct rd *r, int32_t *out)
{
    uint64_t v;
    if (leb(r, 32, true, &v) < 0)
        return -1;
    *out = (int32_t)(uint32_t)v;
    return 0;
}

static int s33(struct rd *r, int64_t *out)
{
    uint64_t v;
    if (leb(r, 33, true, &v) < 0)
        return -1;
    *out = (int64_t)v;
    return 0;
}

static int s64(struct rd *r, int64_t *out)
{
    uint64_t v;
    if (leb(r, 64, true, &v) < 0)
        return -1;
    *out = (int64_t)v;
    return 0;
}

/* A vector length or byte length: it cannot exceed the bytes left (each
 * element takes at least one byte), which also bounds our allocations. */
static int len32(struct rd *r, uint32_t *n)
{
    if (u32(r, n) < 0)
        return -1;
    if (*n > r->len - r->pos)
        return fail(r, "length out of bounds");
    return 0;
}

/* Room for a vector of n elements. n is not checked against the bytes left
 * (running out is "unexpected end" when it happens, as in the spec's
 * decoder), but each element takes at least one byte, so no more than the
 * bytes left + 1 can ever be filled: allocate that at most. */
static void *alloc_vec(const struct rd *r, uint32_t n, size_t size)
{
    size_t left = r->len - r->pos;
    size_t cap = n < left ? n : left;
    return calloc(cap + 1, size);
}

static bool utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        uint32_t cp;
        size_t k;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            cp = c & 0x1F;
            k = 1;
        } else if ((c & 0xF0) == 0xE0) {
            cp = c & 0x0F;
            k = 2;
        } else if ((c & 0xF8) == 0xF0) {
            cp = c & 0x07;
            k = 3;
        } else {
            return false;
        }
        if (k > n - i - 1)
            return false;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000))
            return false; /* overlong */
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += k + 1;
    }
    return true;
}

static int name(struct rd *r, struct wasm_span *sp)
{
    uint32_t n;
    if (len32(r, &n) < 0)
        return -1;
    sp->off = r->pos;
    sp->len = n;
    r->pos += n;
    if (!utf8_valid(r->buf + sp->off, n))
        return fail(r, "malformed UTF-8 encoding");
    return 0;
}

static bool is_valtype(uint8_t b)
{
    return (b >= WASM_V128 && b <= WASM_I32) || b == WASM_FUNCREF || b == WASM_EXTERNREF;
}

static int valtype(struct rd *r, uint8_t *t)
{
    if (byte(r, t) < 0)
        return -1;
    if (*t & 0x80) /* a one-byte signed LEB128 in the spec's grammar */
        return fail(r, "integer representation too long");
    if (!is_valtype(*t))
        return fail(r, "malformed value type");
    return 0;
}

static int reftype(struct rd *r, uint8_t *t)
{
    if (byte(r, t) < 0)
        return -1;
    if (*t & 0x80)
        return fail(r, "integer representation too long");
    if (*t != WASM_FUNCREF && *t != WASM_EXTERNREF)
        return fail(r, "malformed reference type");
    return 0;
}

static int limits(struct rd *r, struct wasm_limits *l)
{
    uint64_t flag; /* a 1-bit unsigned LEB128 in the spec's grammar */
    if (leb(r, 1, false, &flag) < 0)
        return -1;
    l->has_max = flag == 1;
    if (u32(r, &l->min) < 0)
        return -1;
    if (l->has_max && u32(r, &l->max) < 0)
        return -1;
    return 0;
}

static int tabletype(struct rd *r, struct wasm_tabletype *t)
{
    if (reftype(r, &t->reftype) < 0)
        return -1;
    return limits(r, &t->limits);
}

static int globaltype(struct rd *r, struct wasm_globaltype *g)
{
    uint8_t m;
    if (valtype(r, &g->valtype) < 0 || byte(r, &m) < 0)
        return -1;
    if (m > 1)
        return fail(r, "malformed mutability");
    g->mut = m == 1;
    return 0;
}

static int zero_byte(struct rd *r)
{
    uint8_t b;
    if (byte(r, &b) < 0)
        return -1;
    if (b != 0)
        return fail(r, "zero byte expected");
    return 0;
}

static int memarg(struct rd *r)
{
    uint32_t align, offset;
    if (u32(r, &align) < 0 || u32(r, &offset) < 0)
        return -1;
    return 0;
}

static int illegal(struct rd *r, const char *prefix, uint32_t op)
{
    return cerr_set(r->err, 0, "illegal opcode %s%02x", prefix, op);
}

/* Block kinds on the scan stack. */
enum { BLK_PLAIN, BLK_IF, BLK_ELSE };

static int push_block(struct rd *r, uint8_t kind)
{
    if (r->nblocks == r->cblocks) {
        size_t c = r->cblocks ? r->cblocks * 2 : 16;
        uint8_t *nb = realloc(r->blocks, c);
        if (nb == NULL)
            return fail(r, "out of memory");
        r->blocks = nb;
        r->cblocks = c;
    }
    r->blocks[r->nblocks++] = kind;
    return 0;
}

static int blocktype(struct rd *r)
{
    if (r->pos < r->len && (r->buf[r->pos] == 0x40 || is_valtype(r->buf[r->pos]))) {
        r->pos++;
        return 0;
    }
    int64_t x;
    if (s33(r, &x) < 0)
        return -1;
    if (x < 0)
        return fail(r, "malformed block type");
    return 0;
}

/* SIMD opcodes (0xFD prefix) of 2.0 with no immediate beyond the opcode:
 * 0x0E..0xFF less the lane, memory and const ones and the unassigned gaps. */
static bool simd_plain(uint32_t op)
{
    static const uint8_t gaps[] = {0x9A, 0xA2, 0xA5, 0xA6, 0xAF, 0xB0, 0xB2, 0xB3, 0xB4, 0xBB,
                                   0xC2, 0xC5, 0xC6, 0xCF, 0xD0, 0xD2, 0xD3, 0xD4, 0xE2, 0xEE};
    if (op < 0x0E || op > 0xFF)
        return false;
    if ((op >= 0x15 && op <= 0x22) || (op >= 0x54 && op <= 0x5D))
        return false;
    for (size_t i = 0; i < ARRAY_SIZE(gaps); i++)
        if (op == gaps[i])
            return false;
    return true;
}

static int simd_instr(struct rd *r)
{
    uint32_t op;
    uint8_t lane;
    if (u32(r, &op) < 0)
        return -1;
    if (op <= 0x0B || op == 0x5C || op == 0x5D)
        return memarg(r); /* v128.load*, v128.store, load*_zero */
    if (op == 0x0C || op == 0x0D)
        return skip(r, 16); /* v128.const, i8x16.shuffle */
    if (op >= 0x15 && op <= 0x22)
        return byte(r, &lane); /* extract/replace lane */
    if (op >= 0x54 && op <= 0x5B) {
        if (memarg(r) < 0)
            return -1;
        return byte(r, &lane); /* load/store lane */
    }
    if (simd_plain(op))
        return 0;
    return illegal(r, "0xfd ", op);
}

static int misc_instr(struct rd *r)
{
    uint32_t op, x, y;
    if (u32(r, &op) < 0)
        return -1;
    switch (op) {
    case 0:
    case 1:
    case 2:
    case 3:
    case 4:
    case 5:
    case 6:
    case 7:
        return 0; /* saturating truncations */
    case 8:       /* memory.init dataidx 0x00 */
        r->uses_data_idx = true;
        if (u32(r, &x) < 0)
            return -1;
        return zero_byte(r);
    case 9: /* data.drop */
        r->uses_data_idx = true;
        return u32(r, &x);
    case 10: /* memory.copy 0x00 0x00 */
        if (zero_byte(r) < 0)
            return -1;
        return zero_byte(r);
    case 11: /* memory.fill 0x00 */
        return zero_byte(r);
    case 12: /* table.init elemidx tableidx */
    case 14: /* table.copy tableidx tableidx */
        if (u32(r, &x) < 0)
            return -1;
        return u32(r, &y);
    case 13: /* elem.drop */
    case 15: /* table.grow */
    case 16: /* table.size */
    case 17: /* table.fill */
        return u32(r, &x);
    default:
        return illegal(r, "0xfc ", op);
    }
}

/* Scan an instruction sequence up to and including the END that closes it,
 * checking opcodes and immediates; the span covers it all. */
static int expr(struct rd *r, struct wasm_span *sp)
{
    uint32_t x, n;
    int32_t i32;
    int64_t i64;
    uint8_t op, t;
    sp->off = r->pos;
    r->nblocks = 0;
    if (push_block(r, BLK_PLAIN) < 0)
        return -1;
    while (r->nblocks > 0) {
        if (byte(r, &op) < 0)
            return -1;
        switch (op) {
        case 0x00: /* unreachable */
        case 0x01: /* nop */
        case 0x0F: /* return */
        case 0x1A: /* drop */
        case 0x1B: /* select */
        case 0xD1: /* ref.is_null */
            break;
        case 0x02: /* block */
        case 0x03: /* loop */
        case 0x04: /* if */
            if (blocktype(r) < 0 || push_block(r, op == 0x04 ? BLK_IF : BLK_PLAIN) < 0)
                return -1;
            break;
        case 0x05: /* else */
            if (r->blocks[r->nblocks - 1] != BLK_IF)
                return fail(r, "END opcode expected");
            r->blocks[r->nblocks - 1] = BLK_ELSE;
            break;
        case 0x0B: /* end */
            r->nblocks--;
            break;
        case 0x0C: /* br */
        case 0x0D: /* br_if */
        case 0x10: /* call */
        case 0x20: /* local.get */
        case 0x21: /* local.set */
        case 0x22: /* local.tee */
        case 0x23: /* global.get */
        case 0x24: /* global.set */
        case 0x25: /* table.get */
        case 0x26: /* table.set */
        case 0xD2: /* ref.func */
            if (u32(r, &x) < 0)
                return -1;
            break;
        case 0x0E: /* br_table */
            if (u32(r, &n) < 0)
                return -1;
            for (uint32_t i = 0; i <= n; i++)
                if (u32(r, &x) < 0)
                    return -1;
            break;
        case 0x11: /* call_indirect typeidx tableidx */
            if (u32(r, &x) < 0 || u32(r, &x) < 0)
                return -1;
            break;
        case 0x1C: /* select t* */
            if (u32(r, &n) < 0)
                return -1;
            for (uint32_t i = 0; i < n; i++)
                if (valtype(r, &t) < 0)
                    return -1;
            break;
        case 0x3F: /* memory.size */
        case 0x40: /* memory.grow */
            if (zero_byte(r) < 0)
                return -1;
            break;
        case 0x41:
            if (s32(r, &i32) < 0)
                return -1;
            break;
        case 0x42:
            if (s64(r, &i64) < 0)
                return -1;
            break;
        case 0x43:
            if (skip(r, 4) < 0)
                return -1;
            break;
        case 0x44:
            if (skip(r, 8) < 0)
                return -1;
            break;
        case 0xD0: /* ref.null t */
            if (reftype(r, &t) < 0)
                return -1;
            break;
        case 0xFC:
            if (misc_instr(r) < 0)
                return -1;
            break;
        case 0xFD:
            if (simd_instr(r) < 0)
                return -1;
            break;
        default:
            if (op >= 0x28 && op <= 0x3E) { /* loads and stores */
                if (memarg(r) < 0)
                    return -1;
            } else if (op >= 0x45 && op <= 0xC4) { /* numeric, sign extension */
                break;
            } else {
                return illegal(r, "", op);
            }
        }
    }
    sp->len = r->pos - sp->off;
    return 0;
}

/* ---- sections ---- */

static int sec_type(struct rd *r, struct wasm_module *m)
{
    uint32_t n;
    if (u32(r, &n) < 0)
        return -1;
    m->types = alloc_vec(r, n, sizeof(*m->types));
    if (m->types == NULL)
        return fail(r, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        struct wasm_functype *ft = &m->types[i];
        uint8_t b, t;
        uint32_t k;
        if (byte(r, &b) < 0)
            return -1;
        if (b & 0x80)
            return fail(r, "integer representation too long");
        if (b != 0x60)
            return fail(r, "malformed function type");
        struct wasm_span *sides[2] = {&ft->params, &ft->results};
        for (int s = 0; s < 2; s++) {
            if (u32(r, &k) < 0)
                return -1;
            sides[s]->off = r->pos;
            sides[s]->len = k;
            for (uint32_t j = 0; j < k; j++)
                if (valtype(r, &t) < 0)
                    return -1;
        }
        m->ntypes = i + 1;
    }
    return 0;
}

static int sec_import(struct rd *r, struct wasm_module *m)
{
    uint32_t n;
    if (u32(r, &n) < 0)
        return -1;
    m->imports = alloc_vec(r, n, sizeof(*m->imports));
    if (m->imports == NULL)
        return fail(r, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        struct wasm_import *im = &m->imports[i];
        if (name(r, &im->module) < 0 || name(r, &im->name) < 0 || byte(r, &im->kind) < 0)
            return -1;
        int rc;
        switch (im->kind) {
        case WASM_EXTERN_FUNC:
            rc = u32(r, &im->desc.func_type);
            break;
        case WASM_EXTERN_TABLE:
            rc = tabletype(r, &im->desc.table);
            break;
        case WASM_EXTERN_MEMORY:
            rc = limits(r, &im->desc.memory);
            break;
        case WASM_EXTERN_GLOBAL:
            rc = globaltype(r, &im->desc.global);
            break;
        default:
            return fail(r, "malformed import kind");
        }
        if (rc < 0)
            return -1;
        m->nimports = i + 1;
    }
    return 0;
}

static int sec_func(struct rd *r, struct wasm_module *m)
{
    uint32_t n;
    if (u32(r, &n) < 0)
        return -1;
    m->funcs = alloc_vec(r, n, sizeof(*m->funcs));
    if (m->funcs == NULL)
        return fail(r, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        if (u32(r, &m->funcs[i]) < 0)
            return -1;
        m->nfuncs = i + 1;
    }
    return 0;
}

static int sec_table(struct rd *r, struct wasm_module *m)
{
    uint32_t n;
    if (u32(r, &n) < 0)
        return -1;
    m->tables = alloc_vec(r, n, sizeof(*m->tables));
    if (m->tables == NULL)
        return fail(r, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        if (tabletype(r, &m->tables[i]) < 0)
            return -1;
        m->ntables = i + 1;
    }
    return 0;
}

static int sec_memory(struct rd *r, struct wasm_module *m)
{
    uint32_t n;
    if (u32(r, &n) < 0)
        return -1;
    m->memories = alloc_vec(r, n, sizeof(*m->memories));
    if (m->memories == NULL)
        return fail(r, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        if (limits(r, &m->memories[i]) < 0)
            return -1;
        m->nmemories = i + 1;
    }
    return 0;
}

static int sec_global(struct rd *r, struct wasm_module *m)
{
    uint32_t n;
    if (u32(r, &n) < 0)
        return -1;
    m->globals = alloc_vec(r, n, sizeof(*m->globals));
    if (m->globals == NULL)
        return fail(r, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        if (globaltype(r, &m->globals[i].type) < 0 || expr(r, &m->globals[i].init) < 0)
            return -1;
        m->nglobals = i + 1;
    }
    return 0;
}

static int sec_export(struct rd *r, struct wasm_module *m)
{
    uint32_t n;
    if (u32(r, &n) < 0)
        return -1;
    m->exports = alloc_vec(r, n, sizeof(*m->exports));
    if (m->exports == NULL)
        return fail(r, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        struct wasm_export *ex = &m->exports[i];
        if (name(r, &ex->name) < 0 || byte(r, &ex->kind) < 0)
            return -1;
        if (ex->kind > WASM_EXTERN_GLOBAL)
            return fail(r, "malformed export kind");
        if (u32(r, &ex->index) < 0)
            return -1;
        m->nexports = i + 1;
    }
    return 0;
}

static int sec_start(struct rd *r, struct wasm_module *m)
{
    if (u32(r, &m->start) < 0)
        return -1;
    m->has_start = true;
    return 0;
}

static int elem_kind(struct rd *r, uint8_t *t)
{
    uint8_t b;
    if (byte(r, &b) < 0)
        return -1;
    if (b != 0x00)
        return fail(r, "malformed elements segment kind");
    *t = WASM_FUNCREF;
    return 0;
}

/* The 8 encodings (5.5.12): bit 0 passive/declarative, bit 1 explicit table
 * (active) or declarative (not active), bit 2 expressions instead of
 * function indices. */
static int elem(struct rd *r, struct wasm_elem *e)
{
    uint32_t flags, n;
    if (u32(r, &flags) < 0)
        return -1;
    if (flags > 7)
        return fail(r, "malformed elements segment kind");
    bool passive_or_decl = flags & 1, bit1 = flags & 2;
    e->uses_exprs = flags & 4;
    e->elemtype = WASM_FUNCREF;
    if (!passive_or_decl) {
        e->mode = WASM_SEG_ACTIVE;
        if (bit1 && u32(r, &e->table) < 0)
            return -1;
        if (expr(r, &e->offset) < 0)
            return -1;
    } else {
        e->mode = bit1 ? WASM_SEG_DECLARATIVE : WASM_SEG_PASSIVE;
    }
    if (passive_or_decl || bit1) {
        if (e->uses_exprs ? reftype(r, &e->elemtype) < 0 : elem_kind(r, &e->elemtype) < 0)
            return -1;
    }
    if (u32(r, &n) < 0)
        return -1;
    if (e->uses_exprs) {
        e->exprs = alloc_vec(r, n, sizeof(*e->exprs));
        if (e->exprs == NULL)
            return fail(r, "out of memory");
        for (uint32_t i = 0; i < n; i++) {
            if (expr(r, &e->exprs[i]) < 0)
                return -1;
            e->count = i + 1;
        }
    } else {
        e->funcs = alloc_vec(r, n, sizeof(*e->funcs));
        if (e->funcs == NULL)
            return fail(r, "out of memory");
        for (uint32_t i = 0; i < n; i++) {
            if (u32(r, &e->funcs[i]) < 0)
                return -1;
            e->count = i + 1;
        }
    }
    return 0;
}

static int sec_elem(struct rd *r, struct wasm_module *m)
{
    uint32_t n;
    if (u32(r, &n) < 0)
        return -1;
    m->elems = alloc_vec(r, n, sizeof(*m->elems));
    if (m->elems == NULL)
        return fail(r, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        m->nelems = i + 1;
        if (elem(r, &m->elems[i]) < 0)
            return -1;
    }
    return 0;
}

static int sec_datacount(struct rd *r, struct wasm_module *m)
{
    if (u32(r, &m->data_count) < 0)
        return -1;
    m->has_data_count = true;
    return 0;
}

static int code(struct rd *r, struct wasm_code *c)
{
    uint32_t size, n;
    if (len32(r, &size) < 0)
        return -1;
    size_t end = r->pos + size;
    if (u32(r, &n) < 0)
        return -1;
    c->runs = alloc_vec(r, n, sizeof(*c->runs));
    if (c->runs == NULL)
        return fail(r, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        if (u32(r, &c->runs[i].count) < 0 || valtype(r, &c->runs[i].type) < 0)
            return -1;
        c->nruns = i + 1;
        c->nlocals += c->runs[i].count;
    }
    if (c->nlocals > UINT32_MAX)
        return fail(r, "too many locals");
    if (expr(r, &c->body) < 0)
        return -1;
    if (r->pos != end)
        return fail(r, "section size mismatch");
    return 0;
}

static int sec_code(struct rd *r, struct wasm_module *m)
{
    uint32_t n;
    if (u32(r, &n) < 0)
        return -1;
    m->codes = alloc_vec(r, n, sizeof(*m->codes));
    if (m->codes == NULL)
        return fail(r, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        m->ncodes = i + 1;
        if (code(r, &m->codes[i]) < 0)
            return -1;
    }
    return 0;
}

static int sec_data(struct rd *r, struct wasm_module *m)
{
    uint32_t n, flags, k;
    if (u32(r, &n) < 0)
        return -1;
    m->datas = alloc_vec(r, n, sizeof(*m->datas));
    if (m->datas == NULL)
        return fail(r, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        struct wasm_data *d = &m->datas[i];
        if (u32(r, &flags) < 0)
            return -1;
        if (flags > 2)
            return fail(r, "malformed data segment kind");
        d->mode = flags == 1 ? WASM_SEG_PASSIVE : WASM_SEG_ACTIVE;
        if (flags == 2 && u32(r, &d->memory) < 0)
            return -1;
        if (flags != 1 && expr(r, &d->offset) < 0)
            return -1;
        if (u32(r, &k) < 0)
            return -1;
        d->bytes.off = r->pos;
        d->bytes.len = k;
        if (skip(r, k) < 0)
            return -1;
        m->ndatas = i + 1;
    }
    return 0;
}

static int sec_custom(struct rd *r, size_t end)
{
    struct wasm_span nm;
    if (name(r, &nm) < 0)
        return -1;
    if (r->pos > end)
        return fail(r, MSG_EOF_SECT);
    r->pos = end;
    return 0;
}

/* Position of each known section id in the required order (data count, 12,
 * comes between element and code). */
static const uint8_t section_rank[13] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10};

static int decode_sections(struct rd *r, struct wasm_module *m)
{
    static const uint8_t magic[4] = {0x00, 0x61, 0x73, 0x6D};
    static const uint8_t version[4] = {0x01, 0x00, 0x00, 0x00};
    if (r->len < 4)
        return eof(r);
    if (memcmp(r->buf, magic, 4) != 0)
        return fail(r, "magic header not detected");
    if (r->len < 8)
        return eof(r);
    if (memcmp(r->buf + 4, version, 4) != 0)
        return fail(r, "unknown binary version");
    r->pos = 8;
    int last = 0;
    while (r->pos < r->len) {
        uint8_t id;
        uint32_t size;
        r->eof_msg = MSG_EOF;
        if (byte(r, &id) < 0)
            return -1;
        if (id > 12)
            return fail(r, "malformed section id");
        if (len32(r, &size) < 0)
            return -1;
        size_t end = r->pos + size;
        r->eof_msg = MSG_EOF_SECT;
        if (id != 0) {
            if (section_rank[id] <= last)
                return fail(r, "unexpected content after last section");
            last = section_rank[id];
        }
        int rc;
        switch (id) {
        case 0:
            rc = sec_custom(r, end);
            break;
        case 1:
            rc = sec_type(r, m);
            break;
        case 2:
            rc = sec_import(r, m);
            break;
        case 3:
            rc = sec_func(r, m);
            break;
        case 4:
            rc = sec_table(r, m);
            break;
        case 5:
            rc = sec_memory(r, m);
            break;
        case 6:
            rc = sec_global(r, m);
            break;
        case 7:
            rc = sec_export(r, m);
            break;
        case 8:
            rc = sec_start(r, m);
            break;
        case 9:
            rc = sec_elem(r, m);
            break;
        case 10:
            rc = sec_code(r, m);
            break;
        case 11:
            rc = sec_data(r, m);
            break;
        default:
            rc = sec_datacount(r, m);
            break;
        }
        if (rc < 0)
            return -1;
        if (r->pos != end)
            return fail(r, "section size mismatch");
    }
    if (m->nfuncs != m->ncodes)
        return fail(r, "function and code section have inconsistent lengths");
    if (m->has_data_count && m->data_count != m->ndatas)
        return fail(r, "data count and data section have inconsistent lengths");
    if (!m->has_data_count && r->uses_data_idx)
        return fail(r, "data count section required");
    return 0;
}

struct wasm_module *wasm_decode(const uint8_t *buf, size_t len, cerr_t *err)
{
    struct wasm_module *m = calloc(1, sizeof(*m));
    if (m == NULL) {
        cerr_set(err, 0, "out of memory");
        return NULL;
    }
    m->buf = buf;
    m->len = len;
    struct rd r = {.buf = buf, .len = len, .eof_msg = MSG_EOF, .err = err};
    int rc = decode_sections(&r, m);
    free(r.blocks);
    if (rc < 0) {
        wasm_module_free(m);
        return NULL;
    }
    return m;
}

void wasm_module_free(struct wasm_module *m)
{
    if (m == NULL)
        return;
    free(m->types);
    free(m->imports);
    free(m->funcs);
    free(m->tables);
    free(m->memories);
    free(m->globals);
    free(m->exports);
    for (uint32_t i = 0; i < m->nelems; i++) {
        free(m->elems[i].funcs);
        free(m->elems[i].exprs);
    }
    free(m->elems);
    for (uint32_t i = 0; i < m->ncodes; i++)
        free(m->codes[i].runs);
    free(m->codes);
    free(m->datas);
    free(m);
}
