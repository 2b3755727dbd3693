/* The compiler: a validated function body → register-style threaded code
 * (interp.h).
 *
 * One pass over the bytes with a stack of control frames, as the validator
 * does. Every non-SIMD value is one cell and stack heights are static, so
 * the operand at height p lives in frame slot p. The compiler keeps a
 * virtual stack saying, for each height, which slot holds the value now:
 * local.get pushes a reference to the local's own slot and emits nothing;
 * the reference is copied into its stack slot ("materialized") only when it
 * must be: before that local is written, and where control flow joins
 * (block entries, branches, ends), which expect values in their stack slots.
 * A result that a local.set stores is written straight into the local.
 * Forward branches are patched when their block ends; a branch whose
 * results are not where its target wants them copies them. Code after an
 * unconditional branch is unreachable and not emitted. The instance's
 * objects (globals, tables, functions, segments) are resolved to pointers
 * now, so the interpreter never looks anything up. */
#include <stdlib.h>
#include <string.h>

#include "level/wasm/interp.h"
#include "level/wasm/jit.h"
#include "level/wasm/reader.h"

#define NONE SIZE_MAX
/* The most params + locals a frame can have and still fit the interpreter's
 * value stack (STACK_CELLS in interp.c). */
#define MAX_FRAME_LOCALS (1u << 20)
#define CONST_SLOT       UINT32_MAX /* vs[p]: a constant not yet in any slot (cv[p]) */

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
    struct wasm_fn_code *fc;
    bool loop_heads; /* emit OP_LOOP (the JIT is on: it counts iterations) */
    uint32_t nloops;
    const struct wasm_module *m;
    const void *const *labels;
    struct rd r;
    union cell *code;
    size_t n, cap;
    size_t *relocs; /* cells holding a target index, to become pointers */
    size_t nrel, crel;
    struct ctrl *ctrls;
    size_t nctrl, cctrl;
    uint32_t *vs; /* vs[p]: the slot holding the value at height p */
    uint64_t *cv; /* cv[p]: its bits when vs[p] is CONST_SLOT */
    size_t cvs, ccv;
    uint32_t nlocals; /* params + locals: the first operand height */
    uint32_t h, maxh; /* operand height, and its maximum */
    size_t last_dst;  /* cell of the last result written to slot h-1, or NONE */
    size_t last_op;   /* cell of that instruction's handler */
    int last_opcode;  /* and its OP_* */
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

/* ---- emitting ---- */

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
    c->last_dst = NONE;
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

/* ---- the virtual operand stack ---- */

static void set_height(struct comp *c, uint32_t h)
{
    if (!grow((void **)&c->vs, &c->cvs, (size_t)h + 1, sizeof(uint32_t)) ||
        !grow((void **)&c->cv, &c->ccv, (size_t)h + 1, sizeof(uint64_t))) {
        c->oom = true;
        return;
    }
    for (uint32_t p = c->h; p < h; p++)
        c->vs[p] = p; /* values that appear (block results) are in place */
    c->h = h;
    if (h > c->maxh)
        c->maxh = h;
}

static void mov(struct comp *c, uint32_t dst, uint32_t src);
static void emit_const(struct comp *c, uint32_t dst, uint64_t bits);

/* Pop the top value: true when it is a constant (*bits), else its slot in
 * *slot (0 in unreachable code). */
static bool pop_operand(struct comp *c, uint32_t *slot, uint64_t *bits)
{
    *slot = 0;
    if (c->dead || c->h <= c->nlocals)
        return false;
    c->h--;
    if (c->vs[c->h] == CONST_SLOT) {
        *bits = c->cv[c->h];
        return true;
    }
    *slot = c->vs[c->h];
    return false;
}

/* The slot of the popped top value; a constant is put in its stack slot. */
static uint32_t pop(struct comp *c)
{
    uint32_t slot;
    uint64_t bits;
    if (pop_operand(c, &slot, &bits)) {
        emit_const(c, c->h, bits);
        return c->h;
    }
    return slot;
}

/* A new value at the top, in its own slot: that slot. */
static uint32_t push(struct comp *c)
{
    if (c->dead)
        return 0;
    uint32_t p = c->h;
    set_height(c, p + 1);
    return p;
}

static void push_ref(struct comp *c, uint32_t slot)
{
    if (c->dead)
        return;
    uint32_t p = c->h;
    set_height(c, p + 1);
    if (!c->oom)
        c->vs[p] = slot;
}

static void mov(struct comp *c, uint32_t dst, uint32_t src)
{
    emit_op(c, OP_MOV);
    emit_u(c, dst);
    emit_u(c, src);
}

static void emit_const(struct comp *c, uint32_t dst, uint64_t bits)
{
    emit_op(c, OP_CONST);
    emit_u(c, dst);
    emit_u(c, bits);
}

static void push_const(struct comp *c, uint64_t bits)
{
    if (c->dead)
        return;
    uint32_t p = c->h;
    set_height(c, p + 1);
    if (!c->oom) {
        c->vs[p] = CONST_SLOT;
        c->cv[p] = bits;
    }
}

/* Put every value from height `from` up into its own slot. */
static void materialize_from(struct comp *c, uint32_t from)
{
    if (c->dead)
        return;
    for (uint32_t p = from; p < c->h; p++) {
        if (c->vs[p] == CONST_SLOT)
            emit_const(c, p, c->cv[p]);
        else if (c->vs[p] != p)
            mov(c, p, c->vs[p]);
        c->vs[p] = p;
    }
}

static void materialize_all(struct comp *c)
{
    materialize_from(c, c->nlocals);
}

/* Before local `slot` is written: values still referring to it are copied. */
static void materialize_local(struct comp *c, uint32_t slot)
{
    if (c->dead)
        return;
    for (uint32_t p = c->nlocals; p < c->h; p++)
        if (c->vs[p] == slot) {
            mov(c, p, slot);
            c->vs[p] = p;
        }
}

/* Emit `op dst operands...` for an instruction with one result. */
static void emit_result_op(struct comp *c, int op, const uint32_t *in, int nin)
{
    if (c->dead)
        return;
    size_t op_at = emit_op(c, op);
    uint32_t dst = push(c);
    size_t at = emit_u(c, dst);
    for (int i = 0; i < nin; i++)
        emit_u(c, in[i]);
    c->last_dst = at;
    c->last_op = op_at;
    c->last_opcode = op;
}

static void unary(struct comp *c, int op)
{
    uint32_t a = pop(c);
    emit_result_op(c, op, &a, 1);
}

static void binary(struct comp *c, int op)
{
    uint32_t in[2];
    uint64_t bits = 0;
    bool imm = pop_operand(c, &in[1], &bits);
    if (imm && !wasm_has_imm((uint8_t)op)) {
        emit_const(c, c->h, bits); /* into its stack slot */
        in[1] = c->h;
        imm = false;
    }
    in[0] = pop(c);
    emit_result_op(c, imm ? OP_IMM + op - 0x46 : op, in, imm ? 1 : 2);
    if (imm)
        emit_u(c, bits);
}

static void local_set(struct comp *c, uint32_t x, bool tee)
{
    if (c->dead)
        return;
    uint32_t top = c->h - 1;
    uint32_t v = c->vs[top];
    if (v == CONST_SLOT) {
        materialize_local(c, x);
        emit_const(c, x, c->cv[top]);
        c->last_dst = NONE;
        if (tee)
            c->vs[top] = x;
        else
            c->h--;
        return;
    }
    if (v == x) { /* local.get x; local.set x */
        if (!tee)
            c->h--;
        return;
    }
    /* Other values still referring to x keep its old value. */
    c->vs[top] = top;
    materialize_local(c, x);
    c->vs[top] = v;
    if (v == top && c->last_dst != NONE && c->code[c->last_dst].u == top)
        c->code[c->last_dst].u = x; /* the producer writes x itself */
    else
        mov(c, x, v);
    c->last_dst = NONE;
    if (tee)
        c->vs[top] = x;
    else
        c->h--;
}

/* ---- control ---- */

static int push_ctrl(struct comp *c, uint8_t kind, uint32_t nparams, uint32_t nresults)
{
    if (!grow((void **)&c->ctrls, &c->cctrl, c->nctrl + 1, sizeof(struct ctrl))) {
        c->oom = true;
        return -1;
    }
    struct ctrl *f = &c->ctrls[c->nctrl++];
    memset(f, 0, sizeof(*f));
    f->kind = kind;
    f->base = c->h >= c->nlocals + nparams ? c->h - nparams : c->nlocals;
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

/* Compare-and-branch: when the condition is the result of the comparison
 * (or i32.eqz) just emitted, that instruction is taken back and the branch
 * compares itself. `negate`: branch when the condition is false (if).
 * Emits the branch up to its target cell (excluded); false when it cannot. */
static bool fused_branch(struct comp *c, uint32_t cond, bool negate)
{
    static const uint8_t neg[10] = {1, 0, 8, 9, 6, 7, 4, 5, 2, 3};
    if (c->dead || c->last_dst == NONE || c->code[c->last_dst].u != cond)
        return false;
    int op = c->last_opcode;
    size_t at = c->last_op;
    uint64_t a = c->code[at + 2].u, b = 0;
    int fop, k;
    if (op == 0x45 && c->n == at + 3) {
        fop = negate ? OP_BR_IF : OP_BR_UNLESS;
        k = -1;
    } else if (c->n == at + 4 && ((op >= 0x46 && op <= 0x4F) || (op >= 0x51 && op <= 0x5A))) {
        fop = OP_BRC;
        k = op <= 0x4F ? op - 0x46 : 10 + op - 0x51;
    } else if (c->n == at + 4 && op >= OP_IMM && op < OP_BRC &&
               ((op - OP_IMM + 0x46 >= 0x46 && op - OP_IMM + 0x46 <= 0x4F) ||
                (op - OP_IMM + 0x46 >= 0x51 && op - OP_IMM + 0x46 <= 0x5A))) {
        int cmp = op - OP_IMM + 0x46;
        fop = OP_BRCI;
        k = cmp <= 0x4F ? cmp - 0x46 : 10 + cmp - 0x51;
    } else {
        return false;
    }
    if (k >= 0) {
        b = c->code[at + 3].u;
        if (negate)
            k = k < 10 ? neg[k] : 10 + neg[k - 10];
        fop += k;
    }
    c->n = at; /* the comparison is taken back */
    emit_op(c, fop);
    emit_u(c, a);
    if (k >= 0)
        emit_u(c, b);
    return true;
}

static void emit_return(struct comp *c, uint32_t n)
{
    materialize_from(c, c->h - n);
    emit_op(c, OP_RETURN);
    emit_u(c, c->h - n);
    emit_u(c, n);
}

/* A branch to label l; cond: the condition's slot for br_if, else NONE. */
static void branch(struct comp *c, uint32_t l, size_t cond)
{
    if (c->dead)
        return;
    struct ctrl *f = &c->ctrls[c->nctrl - 1 - l];
    uint32_t n = f->kind == 0x03 ? f->nparams : f->nresults;
    materialize_from(c, c->h - n);
    if (f->kind == 0) { /* to the function: a return */
        size_t skip = NONE;
        if (cond != NONE) {
            emit_op(c, OP_BR_UNLESS);
            emit_u(c, cond);
            skip = emit_target(c, NONE);
        }
        emit_return(c, n);
        patch(c, skip, c->n);
        return;
    }
    uint32_t src = c->h - n;
    bool copy = src != f->base;
    if (cond != NONE && !copy && fused_branch(c, (uint32_t)cond, false)) {
        /* the compare-and-branch is emitted, up to its target */
    } else if (cond != NONE) {
        emit_op(c, copy ? OP_BR_IF_COPY : OP_BR_IF);
        emit_u(c, cond);
    } else {
        emit_op(c, copy ? OP_BR_COPY : OP_BR);
    }
    size_t at = emit_target(c, f->kind == 0x03 ? f->loop_start : NONE);
    if (f->kind != 0x03)
        add_fix(c, f, at);
    if (copy) {
        emit_u(c, f->base);
        emit_u(c, src);
        emit_u(c, n);
    }
}

static void br_table(struct comp *c)
{
    uint32_t count = rd_u32(&c->r);
    struct rd labels = c->r;
    uint32_t ldef = 0;
    for (uint32_t i = 0; i <= count; i++)
        ldef = rd_u32(&c->r);
    uint32_t index = pop(c);
    if (c->dead)
        return;
    struct ctrl *fd = &c->ctrls[c->nctrl - 1 - ldef];
    uint32_t arity = fd->kind == 0x03 ? fd->nparams : fd->nresults;
    materialize_from(c, c->h - arity);
    uint32_t src = c->h - arity;
    emit_op(c, OP_BR_TABLE);
    emit_u(c, index);
    emit_u(c, count);
    emit_u(c, arity);
    emit_u(c, src);
    size_t *ret_fix = malloc(((size_t)count + 1) * sizeof(size_t));
    size_t nret = 0;
    if (ret_fix == NULL) {
        c->oom = true;
        return;
    }
    for (uint32_t i = 0; i <= count; i++) {
        struct ctrl *f = &c->ctrls[c->nctrl - 1 - rd_u32(&labels)];
        if (f->kind == 0) { /* results stay put; a return stub moves them */
            ret_fix[nret++] = emit_target(c, NONE);
            emit_u(c, src);
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
        emit_return(c, arity);
        for (size_t i = 0; i < nret; i++)
            patch(c, ret_fix[i], stub);
    }
    free(ret_fix);
    c->dead = true;
}

/* Where control flow joins, values must be in their own slots. */
static void block_start(struct comp *c, uint8_t kind)
{
    uint32_t np, nr;
    block_type(c, &np, &nr);
    size_t cond = NONE;
    if (kind == 0x04)
        cond = pop(c);
    materialize_all(c);
    size_t at = NONE;
    if (kind == 0x04) {
        if (!fused_branch(c, (uint32_t)cond, true)) {
            emit_op(c, OP_BR_UNLESS);
            emit_u(c, cond);
        }
        at = emit_target(c, NONE);
    }
    /* A loop's head counts its iterations for the JIT (and is where a
     * running activation enters the translation); backward branches go
     * to it. */
    size_t head = c->n;
    if (kind == 0x03 && c->loop_heads && !c->dead) {
        emit_op(c, OP_LOOP);
        emit_p(c, c->fc);
        emit_u(c, c->nloops++);
    }
    c->last_dst = NONE;
    if (push_ctrl(c, kind, np, nr) == 0) {
        c->ctrls[c->nctrl - 1].else_fix = at;
        c->ctrls[c->nctrl - 1].loop_start = head;
    }
}

static void end_block(struct comp *c)
{
    struct ctrl *f = &c->ctrls[c->nctrl - 1];
    if (f->kind == 0) {
        if (!c->dead)
            emit_return(c, f->nresults);
        c->nctrl--;
        return;
    }
    materialize_from(c, f->base);
    patch(c, f->else_fix, c->n);
    for (size_t i = 0; i < f->nfix; i++)
        patch(c, f->fix[i], c->n);
    c->dead = f->dead_at_start;
    c->last_dst = NONE;
    if (c->h > f->base)
        c->h = f->base;
    set_height(c, f->base + f->nresults);
    free(f->fix);
    c->nctrl--;
}

static void else_block(struct comp *c)
{
    struct ctrl *f = &c->ctrls[c->nctrl - 1];
    materialize_from(c, f->base);
    emit_op(c, OP_BR);
    add_fix(c, f, emit_target(c, NONE));
    patch(c, f->else_fix, c->n);
    f->else_fix = NONE;
    c->dead = f->dead_at_start;
    c->last_dst = NONE;
    if (c->h > f->base)
        c->h = f->base;
    set_height(c, f->base + f->nparams);
}

/* ---- calls ---- */

static void call_args(struct comp *c, const struct wasm_sig *sig, uint32_t *base)
{
    materialize_from(c, c->h - sig->param_cells);
    *base = c->h - sig->param_cells;
}

static void call_results(struct comp *c, const struct wasm_sig *sig, uint32_t base)
{
    if (c->dead)
        return;
    c->h = base;
    set_height(c, base + sig->result_cells);
}

static void call(struct comp *c, struct wasm_func *fn)
{
    if (c->dead)
        return;
    uint32_t base;
    call_args(c, fn->sig, &base);
    emit_op(c, OP_CALL);
    emit_p(c, fn);
    emit_u(c, base);
    call_results(c, fn->sig, base);
}

static void call_indirect(struct comp *c, const struct wasm_sig *sig, struct wasm_table *t)
{
    uint32_t index = pop(c);
    if (c->dead)
        return;
    uint32_t base;
    call_args(c, sig, &base);
    emit_op(c, OP_CALL_INDIRECT);
    emit_p(c, t);
    emit_p(c, sig);
    emit_u(c, index);
    emit_u(c, base);
    call_results(c, sig, base);
}

static const struct wasm_sig *type_sig(const struct wasm_module *m, uint32_t x)
{
    const struct wasm_functype *ft = &m->types[x];
    return wasm_sig_intern(m->buf + ft->params.off, (uint32_t)ft->params.len,
                           m->buf + ft->results.off, (uint32_t)ft->results.len);
}

/* ---- memory, tables ---- */

static void mem_op(struct comp *c, uint8_t op)
{
    rd_u32(&c->r); /* alignment: a hint */
    uint32_t offset = rd_u32(&c->r);
    if (op <= 0x35) { /* load: [dst][addr][offset] */
        uint32_t a = pop(c);
        /* An address just computed by i32.add(x, imm): one instruction. */
        size_t at = c->last_op;
        if (!c->dead && c->last_dst != NONE && c->code[c->last_dst].u == a && a == c->h &&
            c->last_opcode == OP_IMM + 0x6A - 0x46 && c->n == at + 4) {
            uint32_t x = (uint32_t)c->code[at + 2].u;
            uint64_t k = c->code[at + 3].u;
            c->n = at;
            emit_result_op(c, OP_LOAD_ADDI + op - 0x28, &x, 1);
            emit_u(c, k);
            emit_u(c, offset);
            return;
        }
        emit_result_op(c, op, &a, 1);
        emit_u(c, offset);
    } else { /* store: [addr][value][offset] */
        uint32_t v;
        uint64_t bits;
        bool vconst = pop_operand(c, &v, &bits);
        uint32_t ap = c->h - 1; /* the address's height */
        size_t at = c->last_op;
        if (!c->dead && !vconst && c->last_dst != NONE && c->h > c->nlocals && c->vs[ap] == ap &&
            c->code[c->last_dst].u == ap && c->last_opcode == OP_IMM + 0x6A - 0x46 &&
            c->n == at + 4) {
            /* The address was just computed by i32.add(x, imm). */
            uint32_t x = (uint32_t)c->code[at + 2].u;
            uint64_t k = c->code[at + 3].u;
            pop(c);
            c->n = at;
            emit_op(c, OP_STORE_ADDI + op - 0x36);
            emit_u(c, x);
            emit_u(c, v);
            emit_u(c, k);
            emit_u(c, offset);
            return;
        }
        if (vconst) {
            emit_const(c, c->h, bits); /* into its stack slot */
            v = c->h;
        }
        uint32_t a = pop(c);
        emit_op(c, op);
        emit_u(c, a);
        emit_u(c, v);
        emit_u(c, offset);
    }
}

/* An instruction with three operands and no result: [op][a][b][c][extra...]. */
static void three(struct comp *c, int op, const void *p1, const void *p2)
{
    uint32_t z = pop(c), y = pop(c), x = pop(c);
    emit_op(c, op);
    emit_u(c, x);
    emit_u(c, y);
    emit_u(c, z);
    if (p1 != NULL)
        emit_p(c, p1);
    if (p2 != NULL)
        emit_p(c, p2);
}

static int misc(struct comp *c, cerr_t *err)
{
    struct wasm_instance *in = c->inst;
    uint32_t sub = rd_u32(&c->r);
    int op = OP_FC + (int)sub;
    if (sub <= 7) {
        unary(c, op);
        return 0;
    }
    switch (sub) {
    case 8: { /* memory.init: d s n seg */
        struct wasm_dataseg *seg = &in->datas[rd_u32(&c->r)];
        rd_byte(&c->r);
        three(c, op, seg, NULL);
        break;
    }
    case 9: /* data.drop */
        emit_op(c, op);
        emit_p(c, &in->datas[rd_u32(&c->r)]);
        break;
    case 10: /* memory.copy: d s n */
        rd_byte(&c->r);
        rd_byte(&c->r);
        three(c, op, NULL, NULL);
        break;
    case 11: /* memory.fill: d v n */
        rd_byte(&c->r);
        three(c, op, NULL, NULL);
        break;
    case 12: { /* table.init: d s n table seg */
        struct wasm_elemseg *e = &in->elems[rd_u32(&c->r)];
        three(c, op, in->tables[rd_u32(&c->r)], e);
        break;
    }
    case 13: /* elem.drop */
        emit_op(c, op);
        emit_p(c, &in->elems[rd_u32(&c->r)]);
        break;
    case 14: { /* table.copy: d s n dst-table src-table */
        struct wasm_table *dt = in->tables[rd_u32(&c->r)];
        three(c, op, dt, in->tables[rd_u32(&c->r)]);
        break;
    }
    case 15: { /* table.grow: [dst][init][n][table] */
        struct wasm_table *t = in->tables[rd_u32(&c->r)];
        uint32_t in2[2];
        in2[1] = pop(c);
        in2[0] = pop(c);
        emit_result_op(c, op, in2, 2);
        emit_p(c, t);
        break;
    }
    case 16: /* table.size: [dst][table] */
        emit_result_op(c, op, NULL, 0);
        emit_p(c, in->tables[rd_u32(&c->r)]);
        break;
    case 17: /* table.fill: i v n table */
        three(c, op, in->tables[rd_u32(&c->r)], NULL);
        break;
    default:
        return cerr_set(err, 0, "unsupported instruction 0xFC %u", sub);
    }
    return 0;
}

static void constant(struct comp *c, uint64_t bits)
{
    push_const(c, bits);
}

/* Numeric 0x45..0xC4: binary operators and comparisons take two operands. */
static bool is_binary(uint8_t op)
{
    if (op == 0x45 || op == 0x50)
        return false; /* eqz */
    if (op <= 0x66)
        return true; /* comparisons */
    return (op >= 0x6A && op <= 0x78) || (op >= 0x7C && op <= 0x8A) || (op >= 0x92 && op <= 0x98) ||
           (op >= 0xA0 && op <= 0xA6);
}

/* One instruction; *done at the function's final end. */
static int instr(struct comp *c, bool *done, cerr_t *err)
{
    struct wasm_instance *in = c->inst;
    uint8_t op = rd_byte(&c->r);
    switch (op) {
    case 0x00:
        emit_op(c, OP_UNREACHABLE);
        c->dead = true;
        break;
    case 0x01:
        break;
    case 0x02:
    case 0x03:
    case 0x04:
        block_start(c, op);
        break;
    case 0x05:
        else_block(c);
        break;
    case 0x0B:
        *done = c->nctrl == 1;
        end_block(c);
        break;
    case 0x0C:
        branch(c, rd_u32(&c->r), NONE);
        c->dead = true;
        break;
    case 0x0D: {
        uint32_t l = rd_u32(&c->r);
        uint32_t cond = pop(c);
        branch(c, l, cond);
        break;
    }
    case 0x0E:
        br_table(c);
        break;
    case 0x0F:
        if (!c->dead)
            emit_return(c, c->ctrls[0].nresults);
        c->dead = true;
        break;
    case 0x10:
        call(c, in->funcs[rd_u32(&c->r)]);
        break;
    case 0x11: {
        const struct wasm_sig *sig = type_sig(c->m, rd_u32(&c->r));
        call_indirect(c, sig, in->tables[rd_u32(&c->r)]);
        break;
    }
    case 0x1A:
        pop(c);
        break;
    case 0x1C:
        for (uint32_t n = rd_u32(&c->r); n > 0; n--)
            rd_byte(&c->r);
        /* fall through */
    case 0x1B: {
        uint32_t v[3];
        v[2] = pop(c);
        v[1] = pop(c);
        v[0] = pop(c);
        emit_result_op(c, OP_SELECT, v, 3);
        break;
    }
    case 0x20:
        push_ref(c, rd_u32(&c->r));
        break;
    case 0x21:
    case 0x22:
        local_set(c, rd_u32(&c->r), op == 0x22);
        break;
    case 0x23: {
        wasm_val *g = in->globals[rd_u32(&c->r)]->val;
        emit_result_op(c, OP_GLOBAL_GET, NULL, 0);
        emit_p(c, g);
        break;
    }
    case 0x24: {
        wasm_val *g = in->globals[rd_u32(&c->r)]->val;
        uint32_t v = pop(c);
        emit_op(c, OP_GLOBAL_SET);
        emit_u(c, v);
        emit_p(c, g);
        break;
    }
    case 0x25: {
        struct wasm_table *t = in->tables[rd_u32(&c->r)];
        unary(c, OP_TABLE_GET);
        emit_p(c, t);
        break;
    }
    case 0x26: {
        struct wasm_table *t = in->tables[rd_u32(&c->r)];
        uint32_t v = pop(c), i = pop(c);
        emit_op(c, OP_TABLE_SET);
        emit_u(c, i);
        emit_u(c, v);
        emit_p(c, t);
        break;
    }
    case 0x3F:
        rd_byte(&c->r);
        emit_result_op(c, op, NULL, 0);
        break;
    case 0x40:
        rd_byte(&c->r);
        unary(c, op);
        break;
    case 0x41:
        constant(c, (uint32_t)rd_leb(&c->r, true));
        break;
    case 0x42:
        constant(c, rd_leb(&c->r, true));
        break;
    case 0x43:
    case 0x44: {
        uint64_t bits = 0;
        size_t len = op == 0x43 ? 4 : 8;
        if ((size_t)(c->r.end - c->r.p) >= len)
            memcpy(&bits, c->r.p, len);
        rd_skip(&c->r, len);
        constant(c, bits);
        break;
    }
    case 0xD0:
        rd_byte(&c->r);
        constant(c, 0);
        break;
    case 0xD1:
        unary(c, OP_REF_IS_NULL);
        break;
    case 0xD2:
        constant(c, (uintptr_t)in->funcs[rd_u32(&c->r)]);
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
            if (is_binary(op))
                binary(c, op);
            else
                unary(c, op);
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
    free(c->vs);
    free(c->cv);
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
    struct comp c = {.inst = inst,
                     .fc = &inst->codes[def],
                     .loop_heads = wasm_jit_mode() == WASM_JIT_TIERED,
                     .m = m,
                     .labels = wasm_interp_labels(),
                     .last_dst = NONE};
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
    /* A frame with more locals than the value stack holds can never be
     * entered: calls trap "call stack exhausted" on max_cells. Its body is
     * not compiled, because slot numbers (32-bit) would wrap past 2^32
     * params + locals, letting local.get/set reach outside the stack, and the
     * virtual stack would take memory in proportion to the locals (12 bytes
     * each: 50 GB for 2^32 - 1). Found by tests/conformance/fuzz_instantiate.c. */
    if ((uint64_t)fc->nparams + fc->nlocals > MAX_FRAME_LOCALS) {
        union cell *code = malloc(sizeof(*code));
        if (code == NULL)
            goto oom;
        code[0].op = c.labels[OP_UNREACHABLE];
        fc->max_cells = UINT32_MAX;
        fc->code = code;
        return 0;
    }
    c.nlocals = fc->nparams + fc->nlocals;
    c.h = c.maxh = c.nlocals;
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
    /* A callee's results land at the arguments' place, within maxh. */
    fc->max_cells = c.maxh + 1;
    union cell *code = realloc(c.code, (c.n ? c.n : 1) * sizeof(union cell));
    if (code == NULL)
        goto oom;
    c.code = NULL;
    for (size_t i = 0; i < c.nrel; i++)
        code[c.relocs[i]].p = &code[code[c.relocs[i]].u];
    fc->code = code;
    fc->ncells = c.n;
    fc->nloops = c.nloops;
    wasm_jit_compiled(inst, fc);
    comp_free(&c);
    return 0;
oom:
    comp_free(&c);
    return cerr_set(err, 12, "function %u: out of memory compiling", idx);
}
