/* The compiler: a validated function body → threaded code (interp.h).
 *
 * One pass over the bytes with a stack of control frames, as the validator
 * does, but tracking only the operand stack height (every non-SIMD value is
 * one cell). Forward branches are patched when their block ends; a branch
 * whose results are not already where its target expects them carries the
 * copy (destination height, count) with it. Code after an unconditional
 * branch is unreachable and not emitted. The instance's objects (globals,
 * tables, functions, segments) are resolved to pointers now, so that the
 * interpreter never looks anything up. */
#include <stdlib.h>
#include <string.h>

#include "level/wasm/interp.h"
#include "level/wasm/reader.h"

#define NONE SIZE_MAX

struct ctrl {
    uint8_t kind;  /* 0 function, 0x02 block, 0x03 loop, 0x04 if */
    uint32_t base; /* operand height below the block's params */
    uint32_t nparams, nresults;
    size_t loop_start; /* loop: its first cell */
    size_t else_fix;   /* if: the BR_UNLESS target cell, until else/end */
    size_t *fix;       /* cells holding forward branch targets to this end */
    size_t nfix, cfix;
    bool dead_at_start;
};

struct comp {
    struct wasm_instance *inst;
    const struct wasm_module *m;
    const void *const *labels;
    struct rd r;
    union cell *code;
    size_t n, cap;
    size_t *relocs; /* cells holding a target index, to become pointers */
    size_t nrel, crel;
    struct ctrl *ctrls;
    size_t nctrl, cctrl;
    uint32_t h, maxh; /* operand height (cells above fp), and its maximum */
    bool dead;
    bool oom;
};

static bool grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    size_t c = *cap ? *cap * 2 : 64;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * size);
    if (q == NULL)
        return false;
    *p = q;
    *cap = c;
    return true;
}

/* Append a cell; NONE when unreachable (nothing is emitted) or out of memory. */
static size_t emit_cell(struct comp *c, union cell v)
{
    if (c->dead)
        return NONE;
    if (!grow((void **)&c->code, &c->cap, c->n + 1, sizeof(union cell))) {
        c->oom = true;
        return NONE;
    }
    c->code[c->n] = v;
    return c->n++;
}

static size_t emit_op(struct comp *c, int op)
{
    return emit_cell(c, (union cell){.op = c->labels[op]});
}

static size_t emit_u(struct comp *c, uint64_t u)
{
    return emit_cell(c, (union cell){.u = u});
}

static size_t emit_p(struct comp *c, const void *p)
{
    return emit_cell(c, (union cell){.p = (void *)p});
}

/* A cell that will hold the address of cell `target` (or NONE for now). */
static size_t emit_target(struct comp *c, size_t target)
{
    size_t at = emit_u(c, target);
    if (at == NONE)
        return NONE;
    if (!grow((void **)&c->relocs, &c->crel, c->nrel + 1, sizeof(size_t))) {
        c->oom = true;
        return NONE;
    }
    c->relocs[c->nrel++] = at;
    return at;
}

static void add_fix(struct comp *c, struct ctrl *f, size_t at)
{
    if (at == NONE)
        return;
    if (!grow((void **)&f->fix, &f->cfix, f->nfix + 1, sizeof(size_t))) {
        c->oom = true;
        return;
    }
    f->fix[f->nfix++] = at;
}

static void patch(struct comp *c, size_t at, size_t target)
{
    if (at != NONE)
        c->code[at].u = target;
}

static void set_height(struct comp *c, int64_t h)
{
    c->h = h < 0 ? 0 : (uint32_t)h; /* below zero only in unreachable code */
    if (c->h > c->maxh)
        c->maxh = c->h;
}

static void adjust(struct comp *c, int64_t delta)
{
    if (!c->dead)
        set_height(c, (int64_t)c->h + delta);
}

static int push_ctrl(struct comp *c, uint8_t kind, uint32_t nparams, uint32_t nresults)
{
    if (!grow((void **)&c->ctrls, &c->cctrl, c->nctrl + 1, sizeof(struct ctrl))) {
        c->oom = true;
        return -1;
    }
    struct ctrl *f = &c->ctrls[c->nctrl++];
    memset(f, 0, sizeof(*f));
    f->kind = kind;
    f->base = c->h >= nparams ? c->h - nparams : 0;
    f->nparams = nparams;
    f->nresults = nresults;
    f->loop_start = c->n;
    f->else_fix = NONE;
    f->dead_at_start = c->dead;
    return 0;
}

static void block_type(struct comp *c, uint32_t *nparams, uint32_t *nresults)
{
    uint8_t b = c->r.p < c->r.end ? *c->r.p : 0x40;
    if (b == 0x40) {
        c->r.p++;
        *nparams = *nresults = 0;
    } else if (b >= 0x6F && b <= 0x7F) {
        c->r.p++;
        *nparams = 0;
        *nresults = 1;
    } else {
        uint32_t x = (uint32_t)rd_leb(&c->r, true);
        const struct wasm_functype *ft = &c->m->types[x];
        *nparams = (uint32_t)ft->params.len;
        *nresults = (uint32_t)ft->results.len;
    }
}

/* A branch to label l; `cond`: br_if (the condition already popped). */
static void branch(struct comp *c, uint32_t l, bool cond)
{
    if (c->dead)
        return;
    struct ctrl *f = &c->ctrls[c->nctrl - 1 - l];
    if (f->kind == 0) { /* to the function: a return */
        size_t skip = NONE;
        if (cond) {
            emit_op(c, OP_BR_UNLESS);
            skip = emit_target(c, NONE);
        }
        emit_op(c, OP_RETURN);
        emit_u(c, f->nresults);
        patch(c, skip, c->n);
        return;
    }
    uint32_t n = f->kind == 0x03 ? f->nparams : f->nresults;
    bool copy = c->h - n != f->base;
    emit_op(c, cond ? (copy ? OP_BR_IF_COPY : OP_BR_IF) : (copy ? OP_BR_COPY : OP_BR));
    size_t at = emit_target(c, f->kind == 0x03 ? f->loop_start : NONE);
    if (f->kind != 0x03)
        add_fix(c, f, at);
    if (copy) {
        emit_u(c, f->base);
        emit_u(c, n);
    }
}

static void br_table(struct comp *c)
{
    uint32_t count = rd_u32(&c->r);
    adjust(c, -1);
    struct rd labels = c->r;
    for (uint32_t i = 0; i <= count; i++)
        rd_u32(&c->r);
    if (c->dead)
        return;
    uint32_t ldef = 0;
    {
        struct rd t = labels;
        for (uint32_t i = 0; i <= count; i++)
            ldef = rd_u32(&t);
    }
    struct ctrl *fd = &c->ctrls[c->nctrl - 1 - ldef];
    uint32_t arity = fd->kind == 0x03 ? fd->nparams : fd->nresults;
    emit_op(c, OP_BR_TABLE);
    emit_u(c, count);
    emit_u(c, arity);
    size_t *ret_fix = NULL; /* entries that return: they jump to a stub */
    size_t nret = 0;
    if ((ret_fix = malloc(((size_t)count + 1) * sizeof(size_t))) == NULL) {
        c->oom = true;
        return;
    }
    for (uint32_t i = 0; i <= count; i++) {
        struct ctrl *f = &c->ctrls[c->nctrl - 1 - rd_u32(&labels)];
        if (f->kind == 0) {
            ret_fix[nret++] = emit_target(c, NONE);
            emit_u(c, c->h - arity); /* results stay put; the stub moves them */
        } else if (f->kind == 0x03) {
            emit_target(c, f->loop_start);
            emit_u(c, f->base);
        } else {
            add_fix(c, f, emit_target(c, NONE));
            emit_u(c, f->base);
        }
    }
    if (nret > 0) {
        size_t stub = c->n;
        emit_op(c, OP_RETURN);
        emit_u(c, arity);
        for (size_t i = 0; i < nret; i++)
            patch(c, ret_fix[i], stub);
    }
    free(ret_fix);
    c->dead = true;
}

static void end_block(struct comp *c)
{
    struct ctrl *f = &c->ctrls[c->nctrl - 1];
    if (f->kind == 0) {
        emit_op(c, OP_RETURN);
        emit_u(c, f->nresults);
        c->nctrl--;
        return;
    }
    patch(c, f->else_fix, c->n);
    for (size_t i = 0; i < f->nfix; i++)
        patch(c, f->fix[i], c->n);
    c->dead = f->dead_at_start;
    set_height(c, (int64_t)f->base + f->nresults);
    free(f->fix);
    c->nctrl--;
}

static void else_block(struct comp *c)
{
    struct ctrl *f = &c->ctrls[c->nctrl - 1];
    emit_op(c, OP_BR);
    add_fix(c, f, emit_target(c, NONE));
    patch(c, f->else_fix, c->n);
    f->else_fix = NONE;
    c->dead = f->dead_at_start;
    set_height(c, (int64_t)f->base + f->nparams);
}

static void call(struct comp *c, struct wasm_func *fn)
{
    emit_op(c, OP_CALL);
    emit_p(c, fn);
    adjust(c, -(int64_t)fn->sig->param_cells + fn->sig->result_cells);
}

static const struct wasm_sig *type_sig(const struct wasm_module *m, uint32_t x)
{
    const struct wasm_functype *ft = &m->types[x];
    return wasm_sig_intern(m->buf + ft->params.off, (uint32_t)ft->params.len,
                           m->buf + ft->results.off, (uint32_t)ft->results.len);
}

static void mem_op(struct comp *c, uint8_t op)
{
    rd_u32(&c->r); /* alignment: a hint */
    uint32_t offset = rd_u32(&c->r);
    emit_op(c, op);
    emit_u(c, offset);
    adjust(c, op <= 0x35 ? 0 : -2);
}

/* Numeric 0x45..0xC4: -1 for binary operators and comparisons, 0 otherwise. */
static int numeric_delta(uint8_t op)
{
    if (op == 0x45 || op == 0x50)
        return 0; /* eqz */
    if (op <= 0x66)
        return -1; /* comparisons */
    if ((op >= 0x6A && op <= 0x78) || (op >= 0x7C && op <= 0x8A) || (op >= 0x92 && op <= 0x98) ||
        (op >= 0xA0 && op <= 0xA6))
        return -1;
    return 0;
}

static int misc(struct comp *c, cerr_t *err)
{
    struct wasm_instance *in = c->inst;
    uint32_t sub = rd_u32(&c->r);
    if (sub <= 7) {
        emit_op(c, OP_FC + (int)sub);
        return 0;
    }
    emit_op(c, OP_FC + (int)sub);
    switch (sub) {
    case 8: /* memory.init */
        emit_p(c, &in->datas[rd_u32(&c->r)]);
        rd_byte(&c->r);
        adjust(c, -3);
        break;
    case 9: /* data.drop */
        emit_p(c, &in->datas[rd_u32(&c->r)]);
        break;
    case 10: /* memory.copy */
        rd_byte(&c->r);
        rd_byte(&c->r);
        adjust(c, -3);
        break;
    case 11: /* memory.fill */
        rd_byte(&c->r);
        adjust(c, -3);
        break;
    case 12: { /* table.init */
        uint32_t e = rd_u32(&c->r);
        emit_p(c, in->tables[rd_u32(&c->r)]);
        emit_p(c, &in->elems[e]);
        adjust(c, -3);
        break;
    }
    case 13: /* elem.drop */
        emit_p(c, &in->elems[rd_u32(&c->r)]);
        break;
    case 14: /* table.copy */
        emit_p(c, in->tables[rd_u32(&c->r)]);
        emit_p(c, in->tables[rd_u32(&c->r)]);
        adjust(c, -3);
        break;
    case 15: /* table.grow */
        emit_p(c, in->tables[rd_u32(&c->r)]);
        adjust(c, -1);
        break;
    case 16: /* table.size */
        emit_p(c, in->tables[rd_u32(&c->r)]);
        adjust(c, 1);
        break;
    case 17: /* table.fill */
        emit_p(c, in->tables[rd_u32(&c->r)]);
        adjust(c, -3);
        break;
    default:
        return cerr_set(err, 0, "unsupported instruction 0xFC %u", sub);
    }
    return 0;
}

/* One instruction; *done at the function's final end. */
static int instr(struct comp *c, bool *done, cerr_t *err)
{
    struct wasm_instance *in = c->inst;
    uint8_t op = rd_byte(&c->r);
    uint32_t np, nr, x;
    switch (op) {
    case 0x00:
        emit_op(c, OP_UNREACHABLE);
        c->dead = true;
        break;
    case 0x01:
        break;
    case 0x02:
    case 0x03:
        block_type(c, &np, &nr);
        return push_ctrl(c, op, np, nr);
    case 0x04: {
        block_type(c, &np, &nr);
        adjust(c, -1);
        emit_op(c, OP_BR_UNLESS);
        size_t at = emit_target(c, NONE);
        if (push_ctrl(c, op, np, nr) < 0)
            return -1;
        c->ctrls[c->nctrl - 1].else_fix = at;
        break;
    }
    case 0x05:
        else_block(c);
        break;
    case 0x0B:
        *done = c->nctrl == 1;
        end_block(c);
        break;
    case 0x0C:
        branch(c, rd_u32(&c->r), false);
        c->dead = true;
        break;
    case 0x0D:
        adjust(c, -1);
        branch(c, rd_u32(&c->r), true);
        break;
    case 0x0E:
        br_table(c);
        break;
    case 0x0F:
        emit_op(c, OP_RETURN);
        emit_u(c, c->ctrls[0].nresults);
        c->dead = true;
        break;
    case 0x10:
        call(c, in->funcs[rd_u32(&c->r)]);
        break;
    case 0x11: {
        const struct wasm_sig *sig = type_sig(c->m, rd_u32(&c->r));
        emit_op(c, OP_CALL_INDIRECT);
        emit_p(c, in->tables[rd_u32(&c->r)]);
        emit_p(c, sig);
        adjust(c, -1 - (int64_t)sig->param_cells + sig->result_cells);
        break;
    }
    case 0x1A:
        emit_op(c, OP_DROP);
        adjust(c, -1);
        break;
    case 0x1C:
        for (uint32_t n = rd_u32(&c->r); n > 0; n--)
            rd_byte(&c->r);
        /* fall through */
    case 0x1B:
        emit_op(c, OP_SELECT);
        adjust(c, -2);
        break;
    case 0x20:
    case 0x21:
    case 0x22:
        emit_op(c, OP_LOCAL_GET + (op - 0x20));
        emit_u(c, rd_u32(&c->r));
        adjust(c, op == 0x20 ? 1 : op == 0x21 ? -1 : 0);
        break;
    case 0x23:
    case 0x24:
        emit_op(c, op == 0x23 ? OP_GLOBAL_GET : OP_GLOBAL_SET);
        emit_p(c, in->globals[rd_u32(&c->r)]->val);
        adjust(c, op == 0x23 ? 1 : -1);
        break;
    case 0x25:
    case 0x26:
        emit_op(c, op == 0x25 ? OP_TABLE_GET : OP_TABLE_SET);
        emit_p(c, in->tables[rd_u32(&c->r)]);
        adjust(c, op == 0x25 ? 0 : -2);
        break;
    case 0x3F:
    case 0x40:
        rd_byte(&c->r);
        emit_op(c, op);
        adjust(c, op == 0x3F ? 1 : 0);
        break;
    case 0x41:
        emit_op(c, OP_CONST);
        emit_u(c, (uint32_t)rd_leb(&c->r, true));
        adjust(c, 1);
        break;
    case 0x42:
        emit_op(c, OP_CONST);
        emit_u(c, rd_leb(&c->r, true));
        adjust(c, 1);
        break;
    case 0x43:
    case 0x44: {
        uint64_t bits = 0;
        size_t len = op == 0x43 ? 4 : 8;
        if ((size_t)(c->r.end - c->r.p) >= len)
            memcpy(&bits, c->r.p, len);
        rd_skip(&c->r, len);
        emit_op(c, OP_CONST);
        emit_u(c, bits);
        adjust(c, 1);
        break;
    }
    case 0xD0:
        rd_byte(&c->r);
        emit_op(c, OP_CONST);
        emit_u(c, 0);
        adjust(c, 1);
        break;
    case 0xD1:
        emit_op(c, OP_REF_IS_NULL);
        break;
    case 0xD2:
        x = rd_u32(&c->r);
        emit_op(c, OP_CONST);
        emit_p(c, in->funcs[x]);
        adjust(c, 1);
        break;
    case 0xFC:
        return misc(c, err);
    default:
        if (op >= 0x28 && op <= 0x3E) {
            mem_op(c, op);
        } else if (op == 0xA7 || (op >= 0xBC && op <= 0xBF)) {
            /* i32.wrap_i64 and the reinterpretations: the cell's low bits
             * already are the result */
        } else if (op >= 0x45 && op <= 0xC4) {
            emit_op(c, op);
            adjust(c, numeric_delta(op));
        } else {
            return cerr_set(err, 0, "unsupported instruction 0x%02X%s", op,
                            op == 0xFD ? " (SIMD is not supported by the interpreter yet)" : "");
        }
    }
    return 0;
}

static void comp_free(struct comp *c)
{
    for (size_t i = 0; i < c->nctrl; i++)
        free(c->ctrls[i].fix);
    free(c->ctrls);
    free(c->relocs);
    free(c->code);
}

static bool has_v128(const uint8_t *types, size_t n)
{
    return memchr(types, WASM_V128, n) != NULL;
}

int wasm_compile(struct wasm_instance *inst, uint32_t idx, cerr_t *err)
{
    const struct wasm_module *m = inst->m;
    uint32_t def = idx - inst->nfuncs_imported;
    const struct wasm_code *body = &m->codes[def];
    const struct wasm_functype *ft = &m->types[m->funcs[def]];
    struct wasm_fn_code *fc = &inst->codes[def];
    struct comp c = {.inst = inst, .m = m, .labels = wasm_interp_labels()};
    c.r.p = m->buf + body->body.off;
    c.r.end = c.r.p + body->body.len;

    bool v128 = has_v128(m->buf + ft->params.off, ft->params.len) ||
                has_v128(m->buf + ft->results.off, ft->results.len);
    for (uint32_t i = 0; i < body->nruns; i++)
        v128 = v128 || body->runs[i].type == WASM_V128;
    if (v128)
        return cerr_set(err, 0, "function %u: v128 values are not supported by the interpreter yet",
                        idx);

    fc->nparams = (uint32_t)ft->params.len;
    fc->nlocals = (uint32_t)body->nlocals;
    fc->nresults = (uint32_t)ft->results.len;
    set_height(&c, (int64_t)fc->nparams + fc->nlocals);
    if (push_ctrl(&c, 0, 0, fc->nresults) < 0)
        goto oom;
    bool done = false;
    while (!done && c.r.p < c.r.end) {
        if (instr(&c, &done, err) < 0) {
            comp_free(&c);
            return cerr_wrap(err, "function %u", idx);
        }
        if (c.oom)
            goto oom;
    }
    /* The frame holds locals and operands; a call's results may need
     * room above the arguments too, counted in the caller's maximum. */
    fc->max_cells = c.maxh + 1;
    union cell *code = realloc(c.code, (c.n ? c.n : 1) * sizeof(union cell));
    if (code == NULL)
        goto oom;
    c.code = NULL;
    for (size_t i = 0; i < c.nrel; i++)
        code[c.relocs[i]].p = &code[code[c.relocs[i]].u];
    fc->code = code;
    comp_free(&c);
    return 0;
oom:
    comp_free(&c);
    return cerr_set(err, 12, "function %u: out of memory compiling", idx);
}
