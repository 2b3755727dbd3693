/* The baseline JIT (jit.h): threaded code → x86-64.
 *
 * The compiler's output is already a register machine: every instruction
 * names the frame slots of its operands and result, constants are
 * immediates, branch targets are resolved. So translation is one template
 * per instruction, with no analysis: operands are loaded from
 * [rbx + 8*slot] (rbx = the frame), the operation is done in rax/rcx/xmm0,
 * the result is stored back. What the interpreter pays per instruction —
 * the indirect jump of dispatch and the reads of its operand cells — is
 * gone; the frame stays the frame, so interpreted and translated functions
 * call each other freely and a trap needs no unwinding.
 *
 * Registers kept for the whole function (callee-saved, so helper calls
 * keep them): rbx the frame, r12 the memory's size in bytes (reloaded after
 * anything that may grow memory: calls, memory.grow), r13 its base (never
 * moves, runtime.h); the function's most used slots are pinned in rbp,
 * r14, r15, rsi, rdi, r8-r11 (see struct jit). Memory accesses are bounds
 * checked against r12, as the interpreter does. A function returns NULL or
 * the trap's message in rax.
 *
 * Operations that take many instructions (float min/max/rounding, checked
 * float-to-int conversion, clz/ctz/popcnt, bulk memory) call C helpers
 * built from numeric.h, the interpreter's own definitions. A function
 * using something not translated here (table instructions) stays
 * interpreted. */
#define _GNU_SOURCE
#include "level/wasm/jit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "level/wasm/jit_helpers.h"
#include "level/wasm/numeric.h"
#include "level/wasm/x64.h"

#if defined(__x86_64__)

#define FP RBX
/* rbx points this far into the frame, so that slots 0..30 are reached with
 * a one-byte displacement (-128..127), as is the bias itself */
#define FP_BIAS 120
#define MSIZE   R12
#define MBASE   R13

/* Registers that hold a frequently used slot for the whole function
 * ("pins"): callee-saved ones first, which C helpers keep. */
static const int pin_regs[] = {RBP, R14, R15, RSI, RDI, R8, R9, R10, R11};
#define NPINS      (sizeof(pin_regs) / sizeof(pin_regs[0]))
#define MAX_PINNED 65536u /* frames larger than this many cells pin nothing */

/* Labels of the shared tails, as fix-up targets past the cells. */
enum { LBL_RET, LBL_OOB, LBL_DIV0, LBL_OVF, LBL_UNREACHABLE, NLBL };

struct fixup {
    size_t at;     /* rel32 to patch */
    size_t target; /* cell index, or ncells + LBL_* */
};

struct jit {
    struct x64 a;
    const union cell *code;
    size_t ncells;
    size_t *noff; /* native offset of each instruction's first cell */
    struct fixup *fix;
    size_t nfix, cfix;
    struct wasm_memory *mem;
    bool fail;
    /* Branch targets, found by a first pass: control can arrive there from
     * elsewhere, so nothing is known about the registers. */
    uint8_t *is_target;
    /* The result the previous instruction left in a register (write-through:
     * its slot holds it too): rax (kind 1) or xmm0 (2: f32, 3: f64). The
     * next instruction's first operand read takes it from there. */
    uint64_t pending_slot, live_slot;
    int pending_kind, live_kind;
    /* Pins: slot → register (NOREG), chosen after the first pass from how
     * often each slot is used (counts). A pinned slot is written through:
     * its frame cell is updated on every write, so memory is always right
     * and the register is what reads use. */
    int8_t *pin;
    uint32_t *counts;
    size_t nslots;
    uint64_t pinned[NPINS];
    size_t npinned;
    /* The cell of each loop head (OP_LOOP), for the OSR entries. */
    size_t *loop_cell;
    uint32_t nloops;
};

/* ---- the interpreter's handler addresses → OP_* ----
 * An open-addressing hash of the label addresses, built on the first
 * translation (the engine runs on one thread). */

#define OP_HASH 1024 /* a power of two, well above the ~330 handlers */

static struct {
    const void *label;
    int op;
} op_hash[OP_HASH];
static bool op_hash_built;

static size_t op_slot(const void *label)
{
    return (size_t)(((uintptr_t)label >> 3) * 0x9E3779B97F4A7C15ull >> 54) & (OP_HASH - 1);
}

static void build_op_index(void)
{
    if (op_hash_built)
        return;
    const void *const *labels = wasm_interp_labels();
    for (int op = 0; op < OP_COUNT; op++) {
        if (labels[op] == NULL)
            continue;
        size_t h = op_slot(labels[op]);
        while (op_hash[h].label != NULL)
            h = (h + 1) & (OP_HASH - 1);
        op_hash[h].label = labels[op];
        op_hash[h].op = op;
    }
    op_hash_built = true;
}

static int op_of(const void *label)
{
    for (size_t h = op_slot(label); op_hash[h].label != NULL; h = (h + 1) & (OP_HASH - 1))
        if (op_hash[h].label == label)
            return op_hash[h].op;
    return -1;
}

/* ---- emitting ---- */

static struct x64_mem slot(struct jit *j, uint64_t s)
{
    if (s > INT32_MAX / 8) {
        j->fail = true;
        s = 0;
    }
    if (j->counts != NULL && s < j->nslots && j->counts[s] < UINT32_MAX)
        j->counts[s]++;
    return x64_at(FP, (int32_t)(s * 8) - FP_BIAS);
}

static int pin_of(struct jit *j, uint64_t s)
{
    return j->pin != NULL && s < j->nslots ? j->pin[s] : NOREG;
}

/* An instruction "op reg, r/m" whose r/m is slot s: the pin register, or
 * the frame cell. For opcodes whose register form means the same (ALU,
 * cmp, imul, movsxd, mov). */
static void with_slot(struct jit *j, uint8_t pfx, bool w, uint32_t opcode, int reg, uint64_t s)
{
    int p = pin_of(j, s);
    if (p != NOREG)
        x64_reg_op(&j->a, pfx, w, opcode, reg, p);
    else
        x64_mem_op(&j->a, pfx, w, opcode, reg, slot(j, s));
}

/* The same for an SSE operation reading slot s as its r/m: a pinned value
 * goes through xmm1 first. */
static void with_fslot(struct jit *j, uint8_t pfx, uint32_t opcode, int xmm, uint64_t s)
{
    int p = pin_of(j, s);
    if (p != NOREG) {
        x64_reg_op(&j->a, 0x66, true, 0x0F6E, 1, p); /* movq xmm1, pin */
        x64_reg_op(&j->a, pfx, false, opcode, xmm, 1);
    } else {
        x64_mem_op(&j->a, pfx, false, opcode, xmm, slot(j, s));
    }
}

/* A register from the frame, never from a pin or the cache: for the
 * arguments of calls, which are set up in registers pins may live in. */
static void load_mem(struct jit *j, int reg, uint64_t s, bool w)
{
    x64_mem_op(&j->a, 0, w, 0x8B, reg, slot(j, s));
}

/* Pins back from the frame: after a call, which may have clobbered the
 * caller-saved ones and (a wasm callee) written the frame above its base. */
static void reload_pins(struct jit *j, bool all)
{
    for (size_t i = 0; i < j->npinned; i++) {
        int p = pin_of(j, j->pinned[i]);
        if (all || (p != RBP && p != R14 && p != R15))
            x64_mem_op(&j->a, 0, true, 0x8B, p, slot(j, j->pinned[i]));
    }
}

/* A call to a C function; the pins it may clobber are reloaded. */
static void call_c(struct jit *j, const void *fn, bool all_pins)
{
    x64_call_abs(&j->a, fn);
    reload_pins(j, all_pins);
}

/* Whether the first operand read of this instruction finds slot s in the
 * register of `kind`; only the first read may use it, as the instruction's
 * own code overwrites rax and xmm0 after that. */
static bool cached(struct jit *j, uint64_t s, int kind)
{
    bool hit = j->live_kind == kind && j->live_slot == s;
    j->live_kind = 0;
    return hit;
}

/* An operand into reg: 64 bits (w) or the low 32, zero-extended — except
 * that an i32 found in rax itself is left as it is (its upper half is
 * whatever the cell's was: only load_u32's users care). */
static void load(struct jit *j, int reg, uint64_t s, bool w)
{
    if (cached(j, s, 1)) {
        if (reg != RAX)
            x64_reg_op(&j->a, 0, w, 0x8B, reg, RAX);
        return;
    }
    with_slot(j, 0, w, 0x8B, reg, s);
}

/* An i32 operand zero-extended to 64 bits, for those that use the whole
 * register: addresses, unsigned conversions. (A cell written as an i32 by
 * the interpreter or a host function keeps its old upper half.) */
static void load_u32(struct jit *j, int reg, uint64_t s)
{
    bool in_rax = reg == RAX && j->live_kind == 1 && j->live_slot == s;
    load(j, reg, s, false);
    if (in_rax)
        x64_reg_op(&j->a, 0, false, 0x8B, RAX, RAX); /* mov eax, eax */
}

/* Results are stored as whole cells, also i32s (a 32-bit operation leaves
 * the upper half of the register zero): a later 64-bit read of the cell (a
 * copy) then forwards from the store, where a 4-byte store followed by an
 * 8-byte load would stall the pipeline until the store retires. */
static void store(struct jit *j, uint64_t s, int reg)
{
    x64_mem_op(&j->a, 0, true, 0x89, reg, slot(j, s));
    int p = pin_of(j, s);
    if (p != NOREG && p != reg)
        x64_reg_op(&j->a, 0, true, 0x8B, p, reg);
    j->pending_kind = reg == RAX ? 1 : 0;
    j->pending_slot = s;
}

/* movsd/movss xmm, [slot] and back (prefix F2: double, F3: single) */
static void fload(struct jit *j, int xmm, uint64_t s, uint8_t pfx)
{
    if (cached(j, s, pfx == 0xF2 ? 3 : 2)) {
        if (xmm != 0)
            x64_reg_op(&j->a, 0, false, 0x0F28, xmm, 0); /* movaps */
        return;
    }
    int p = pin_of(j, s);
    if (p != NOREG)
        x64_reg_op(&j->a, 0x66, true, 0x0F6E, xmm, p); /* movq xmm, pin */
    else
        x64_mem_op(&j->a, pfx, false, 0x0F10, xmm, slot(j, s));
}

/* An f32 too is stored as a whole cell (movsd; the upper half is don't-care),
 * for the same reason as store(). */
static void fstore(struct jit *j, uint64_t s, int xmm, uint8_t pfx)
{
    x64_mem_op(&j->a, 0xF2, false, 0x0F11, xmm, slot(j, s));
    int p = pin_of(j, s);
    if (p != NOREG)
        x64_reg_op(&j->a, 0x66, true, 0x0F7E, xmm, p); /* movq pin, xmm */
    j->pending_kind = xmm == 0 ? (pfx == 0xF2 ? 3 : 2) : 0;
    j->pending_slot = s;
}

static void add_fix(struct jit *j, size_t at, size_t target)
{
    if (j->nfix == j->cfix) {
        size_t c = j->cfix ? j->cfix * 2 : 64;
        struct fixup *f = realloc(j->fix, c * sizeof(*f));
        if (f == NULL) {
            j->fail = true;
            return;
        }
        j->fix = f;
        j->cfix = c;
    }
    j->fix[j->nfix++] = (struct fixup){at, target};
}

static void jump_to(struct jit *j, int cc, size_t target)
{
    add_fix(j, x64_jump(&j->a, cc), target);
    j->pending_kind = 0; /* where control goes on, a register may not hold it */
}

static void jump_lbl(struct jit *j, int cc, int lbl)
{
    jump_to(j, cc, j->ncells + (size_t)lbl);
}

/* The cell index a branch operand points at (an instruction's first cell). */
static size_t target_of(struct jit *j, const union cell *c)
{
    size_t t = (size_t)((const union cell *)c->p - j->code);
    if (t >= j->ncells) {
        j->fail = true;
        return 0;
    }
    j->is_target[t] = 1;
    return t;
}

/* rcx = the struct wasm_memory (a constant of the function). */
static void memory_object(struct jit *j, int reg)
{
    x64_mov_imm(&j->a, reg, (uint64_t)(uintptr_t)j->mem);
}

static void reload_size(struct jit *j)
{
    if (j->mem == NULL)
        return;
    memory_object(j, RCX);
    x64_mem_op(&j->a, 0, true, 0x8B, MSIZE,
               x64_at(RCX, (int32_t)offsetof(struct wasm_memory, size)));
}

/* Copy n cells from slot src to slot dst, first to last (as the
 * interpreter's copy_cells). */
static void copy_slots(struct jit *j, uint64_t dst, uint64_t src, uint64_t n)
{
    if (dst == src)
        return;
    for (uint64_t k = 0; k < n; k++) {
        load(j, RAX, src + k, true);
        store(j, dst + k, RAX);
    }
}

/* cmp dword/qword [slot], 0 */
static void test_slot(struct jit *j, uint64_t s, bool w)
{
    int p = pin_of(j, s);
    if (p != NOREG) {
        x64_reg_op(&j->a, 0, w, 0x85, p, p); /* test pin, pin */
        return;
    }
    x64_mem_op(&j->a, 0, w, 0x83, 7, slot(j, s));
    x64_byte(&j->a, 0);
}

/* rax = (zero-extended) the value of eax as an address + offset, checked
 * for an access of n bytes; the access is then [r13 + rax]. */
static void effective_address(struct jit *j, uint64_t offset, unsigned n)
{
    struct x64 *a = &j->a;
    uint64_t end = offset + n;
    if (end <= INT32_MAX) {
        x64_mem_op(a, 0, true, 0x8D, RCX, x64_at(RAX, (int32_t)end)); /* lea rcx, [rax+end] */
    } else {
        x64_mov_imm(a, RCX, end);
        x64_reg_op(a, 0, true, 0x03, RCX, RAX); /* add rcx, rax */
    }
    x64_reg_op(a, 0, true, 0x3B, RCX, MSIZE); /* cmp rcx, r12 */
    jump_lbl(j, CC_A, LBL_OOB);
    if (offset == 0)
        return;
    if (offset <= INT32_MAX) {
        x64_mem_op(a, 0, true, 0x8D, RAX, x64_at(RAX, (int32_t)offset));
    } else {
        x64_mov_imm(a, RCX, offset);
        x64_reg_op(a, 0, true, 0x03, RAX, RCX);
    }
}

static struct x64_mem heap(void)
{
    return (struct x64_mem){MBASE, RAX, 1, 0};
}

/* ---- loads and stores ---- */

struct access {
    uint32_t opcode; /* the load instruction into eax/rax, or the store from ecx/rcx */
    uint8_t prefix;
    bool w;        /* REX.W on the access */
    unsigned size; /* bytes */
};

static const struct access loads[14] = {
    {0x8B, 0, false, 4},   /* i32.load */
    {0x8B, 0, true, 8},    /* i64.load */
    {0x8B, 0, false, 4},   /* f32.load */
    {0x8B, 0, true, 8},    /* f64.load */
    {0x0FBE, 0, false, 1}, /* i32.load8_s: movsx */
    {0x0FB6, 0, false, 1}, /* i32.load8_u: movzx */
    {0x0FBF, 0, false, 2}, /* i32.load16_s */
    {0x0FB7, 0, false, 2}, /* i32.load16_u */
    {0x0FBE, 0, true, 1},  /* i64.load8_s */
    {0x0FB6, 0, false, 1}, /* i64.load8_u */
    {0x0FBF, 0, true, 2},  /* i64.load16_s */
    {0x0FB7, 0, false, 2}, /* i64.load16_u */
    {0x63, 0, true, 4},    /* i64.load32_s: movsxd */
    {0x8B, 0, false, 4},   /* i64.load32_u */
};

static const struct access stores[9] = {
    {0x89, 0, false, 4},    /* i32.store */
    {0x89, 0, true, 8},     /* i64.store */
    {0x89, 0, false, 4},    /* f32.store */
    {0x89, 0, true, 8},     /* f64.store */
    {0x88, 0, false, 1},    /* i32.store8 */
    {0x89, 0x66, false, 2}, /* i32.store16 */
    {0x88, 0, false, 1},    /* i64.store8 */
    {0x89, 0x66, false, 2}, /* i64.store16 */
    {0x89, 0, false, 4},    /* i64.store32 */
};

/* The address operand into eax, plus imm (an i32.add folded in) when addi. */
static void address(struct jit *j, uint64_t s, bool addi, uint64_t imm)
{
    load_u32(j, RAX, s);
    if (addi) {
        x64_reg_op(&j->a, 0, false, 0x81, 0, RAX); /* add eax, imm32: wraps */
        x64_u32(&j->a, (uint32_t)imm);
    }
}

/* [dst][addr][offset] or, addi, [dst][x][imm][offset] */
static void emit_load(struct jit *j, int op, const union cell *ip, bool addi)
{
    const struct access *l = &loads[op - 0x28];
    address(j, ip[1].u, addi, addi ? ip[2].u : 0);
    effective_address(j, ip[addi ? 3 : 2].u, l->size);
    x64_mem_op(&j->a, l->prefix, l->w, l->opcode, RAX, heap());
    store(j, ip[0].u, RAX);
}

/* [addr][value][offset] or, addi, [x][value][imm][offset] */
static void emit_store(struct jit *j, int op, const union cell *ip, bool addi)
{
    const struct access *s = &stores[op - 0x36];
    address(j, ip[0].u, addi, addi ? ip[2].u : 0);
    effective_address(j, ip[addi ? 3 : 2].u, s->size);
    load(j, RCX, ip[1].u, s->size == 8);
    x64_mem_op(&j->a, s->prefix, s->w, s->opcode, RCX, heap());
}

/* ---- integer arithmetic ---- */

/* For add sub mul and or xor shl shr_s shr_u rotl rotr (index k from the
 * i32/i64 opcode's position): the r, r/m opcode, or the /digit of the shift
 * group (0xD3 by cl, 0xC1 by imm8). */
struct intop {
    uint32_t rm;   /* 0: a shift */
    int digit;     /* 0x81 /digit with imm32, or the shift's */
    bool commutes; /* a op b == b op a */
};

static bool int_op(int op, bool *w, struct intop *o)
{
    static const struct intop tab[15] = {
        {0x03, 0, true}, {0x2B, 5, false}, {0x0FAF, -1, true}, {0, -2, false},  {0, -2, false},
        {0, -2, false},  {0, -2, false},   {0x23, 4, true},    {0x0B, 1, true}, {0x33, 6, true},
        {0, 4, false},   {0, 7, false},    {0, 5, false},      {0, 0, false},   {0, 1, false},
    };
    int k;
    if (op >= 0x6A && op <= 0x78) {
        *w = false;
        k = op - 0x6A;
    } else if (op >= 0x7C && op <= 0x8A) {
        *w = true;
        k = op - 0x7C;
    } else {
        return false;
    }
    *o = tab[k];
    return o->digit != -2; /* div and rem are apart */
}

/* [dst][a][b], or [dst][a][imm] */
static void emit_int_binary(struct jit *j, const struct intop *o, bool w, const union cell *ip,
                            bool imm)
{
    struct x64 *a = &j->a;
    uint64_t x = ip[1].u, y = imm ? 0 : ip[2].u;
    /* a commutative operation whose second operand is the value in rax:
     * take the first from memory instead, off the dependency chain */
    if (!imm && o->commutes && j->live_kind == 1 && j->live_slot == y && x != y) {
        x = y;
        y = ip[1].u;
    }
    load(j, RAX, x, w);
    if (o->rm == 0) { /* shifts and rotations: the hardware masks the count */
        if (imm) {
            x64_reg_op(a, 0, w, 0xC1, o->digit, RAX);
            x64_byte(a, (uint8_t)(ip[2].u & (w ? 63 : 31)));
        } else {
            load(j, RCX, ip[2].u, false);
            x64_reg_op(a, 0, w, 0xD3, o->digit, RAX);
        }
    } else if (!imm) {
        with_slot(j, 0, w, o->rm, RAX, y);
    } else if (!w || (int64_t)ip[2].u == (int32_t)ip[2].u) {
        if (o->digit < 0) { /* imul rax, rax, imm32 */
            x64_reg_op(a, 0, w, 0x69, RAX, RAX);
        } else {
            x64_reg_op(a, 0, w, 0x81, o->digit, RAX);
        }
        x64_u32(a, (uint32_t)ip[2].u);
    } else {
        x64_mov_imm(a, RCX, ip[2].u);
        x64_reg_op(a, 0, w, o->rm, RAX, RCX);
    }
    store(j, ip[0].u, RAX);
}

/* div_s div_u rem_s rem_u: [dst][a][b] with the spec's traps. */
static void emit_divide(struct jit *j, int k, bool w, const union cell *ip)
{
    struct x64 *a = &j->a;
    bool is_signed = k == 0 || k == 2, rem = k >= 2;
    load(j, RAX, ip[1].u, w);
    load(j, RCX, ip[2].u, w);
    x64_reg_op(a, 0, w, 0x85, RCX, RCX); /* test rcx, rcx */
    jump_lbl(j, CC_E, LBL_DIV0);
    size_t done = SIZE_MAX;
    if (is_signed) {
        x64_reg_op(a, 0, w, 0x83, 7, RCX); /* cmp rcx, -1 */
        x64_byte(a, 0xFF);
        size_t normal = x64_jump(a, CC_NE);
        if (rem) { /* INT_MIN % -1 is 0 */
            x64_reg_op(a, 0, false, 0x33, RDX, RDX);
            done = x64_jump(a, -1);
        } else {
            x64_mov_imm(a, RDX, w ? (uint64_t)INT64_MIN : (uint64_t)(uint32_t)INT32_MIN);
            x64_reg_op(a, 0, w, 0x3B, RAX, RDX);
            jump_lbl(j, CC_E, LBL_OVF);
        }
        x64_patch_rel32(a, normal, a->n);
        if (w)
            x64_byte(a, 0x48);
        x64_byte(a, 0x99);                 /* cdq / cqo */
        x64_reg_op(a, 0, w, 0xF7, 7, RCX); /* idiv rcx */
    } else {
        x64_reg_op(a, 0, false, 0x33, RDX, RDX);
        x64_reg_op(a, 0, w, 0xF7, 6, RCX); /* div rcx */
    }
    if (done != SIZE_MAX)
        x64_patch_rel32(a, done, a->n);
    store(j, ip[0].u, rem ? RDX : RAX);
}

/* eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u */
static const int int_cc[10] = {CC_E, CC_NE, CC_L, CC_B, CC_G, CC_A, CC_LE, CC_BE, CC_GE, CC_AE};

/* cmp rax, operand b (a slot, or an immediate) */
static void int_compare(struct jit *j, bool w, uint64_t as, uint64_t b, bool imm)
{
    struct x64 *a = &j->a;
    load(j, RAX, as, w);
    if (!imm) {
        with_slot(j, 0, w, 0x3B, RAX, b);
    } else if (!w || (int64_t)b == (int32_t)b) {
        x64_reg_op(a, 0, w, 0x81, 7, RAX);
        x64_u32(a, (uint32_t)b);
    } else {
        x64_mov_imm(a, RCX, b);
        x64_reg_op(a, 0, w, 0x3B, RAX, RCX);
    }
}

/* setcc al; movzx eax, al; store the i32 */
static void store_flag(struct jit *j, int cc, uint64_t dst)
{
    x64_reg_op(&j->a, 0, false, 0x0F90 + (uint32_t)cc, 0, RAX);
    x64_reg_op(&j->a, 0, false, 0x0FB6, RAX, RAX);
    store(j, dst, RAX);
}

/* ---- floats ---- */

/* ucomis[sd] of a and b, then the i32 result of eq ne lt gt le ge (k). */
static void emit_float_compare(struct jit *j, int k, bool dbl, const union cell *ip)
{
    struct x64 *a = &j->a;
    uint8_t pfx = dbl ? 0xF2 : 0xF3;
    /* lt and le compare b with a, so that an unordered result (CF=1) is false */
    bool swap = k == 2 || k == 4;
    fload(j, 0, ip[swap ? 2 : 1].u, pfx);
    with_fslot(j, dbl ? 0x66 : 0, 0x0F2E, 0, ip[swap ? 1 : 2].u);
    switch (k) {
    case 0: /* eq: ZF and not PF */
    case 1: /* ne: not ZF or PF */
        x64_reg_op(a, 0, false, 0x0F90 + (uint32_t)(k == 0 ? CC_E : CC_NE), 0, RAX);
        x64_reg_op(a, 0, false, 0x0F90 + (uint32_t)(k == 0 ? CC_NP : CC_P), 0, RCX);
        x64_reg_op(a, 0, false, k == 0 ? 0x22 : 0x0A, RAX, RCX); /* and/or al, cl */
        x64_reg_op(a, 0, false, 0x0FB6, RAX, RAX);
        store(j, ip[0].u, RAX);
        break;
    default: /* lt gt: above; le ge: above or equal */
        store_flag(j, k == 2 || k == 3 ? CC_A : CC_AE, ip[0].u);
    }
}

/* add sub mul div: [dst][a][b] or [dst][a][imm] */
static void emit_float_binary(struct jit *j, int k, bool dbl, const union cell *ip, bool imm)
{
    static const uint32_t opc[4] = {0x0F58, 0x0F5C, 0x0F59, 0x0F5E};
    struct x64 *a = &j->a;
    uint8_t pfx = dbl ? 0xF2 : 0xF3;
    uint64_t x = ip[1].u, y = imm ? 0 : ip[2].u;
    if (!imm && (k == 0 || k == 2) && j->live_kind == (dbl ? 3 : 2) && j->live_slot == y) {
        x = y; /* add and mul commute (NaN payloads aside, which wasm leaves open) */
        y = ip[1].u;
    }
    fload(j, 0, x, pfx);
    if (imm) {
        x64_mov_imm(a, RAX, ip[2].u);
        x64_reg_op(a, 0x66, true, 0x0F6E, 1, RAX); /* movq xmm1, rax */
        x64_reg_op(a, pfx, false, opc[k], 0, 1);
    } else {
        with_fslot(j, pfx, opc[k], 0, y);
    }
    fstore(j, ip[0].u, 0, pfx);
}

/* mov rdi, rsi, rdx, rcx from slots (i32 each) */
static const int arg_regs[] = {RDI, RSI, RDX, RCX, R8, R9};

/* A call that returns a trap or NULL: leave on a trap. */
static void call_checked(struct jit *j, const void *fn, bool all_pins)
{
    call_c(j, fn, all_pins);
    x64_reg_op(&j->a, 0, true, 0x85, RAX, RAX);
    jump_lbl(j, CC_NE, LBL_RET);
}

/* ---- one instruction ---- */

/* Translate the instruction at cell `at`: the cells it takes (0: the JIT
 * does not translate it). */
static size_t translate(struct jit *j, size_t at)
{
    struct x64 *a = &j->a;
    int op = op_of(j->code[at].op);
    const union cell *ip = &j->code[at + 1];
    bool w;
    struct intop io;

    if (op < 0)
        return 0;
    if (op >= 0x28 && op <= 0x35) {
        emit_load(j, op, ip, false);
        return 4;
    }
    if (op >= 0x36 && op <= 0x3E) {
        emit_store(j, op, ip, false);
        return 4;
    }
    if (op >= OP_LOAD_ADDI && op < OP_LOAD_ADDI + 14) {
        emit_load(j, 0x28 + op - OP_LOAD_ADDI, ip, true);
        return 5;
    }
    if (op >= OP_STORE_ADDI && op < OP_STORE_ADDI + 9) {
        emit_store(j, 0x36 + op - OP_STORE_ADDI, ip, true);
        return 5;
    }
    if (int_op(op, &w, &io)) {
        emit_int_binary(j, &io, w, ip, false);
        return 4;
    }
    if (op >= OP_IMM && op < OP_BRC) {
        int base = 0x46 + op - OP_IMM;
        if (int_op(base, &w, &io))
            emit_int_binary(j, &io, w, ip, true);
        else if (base >= 0x46 && base <= 0x4F)
            int_compare(j, false, ip[1].u, (uint32_t)ip[2].u, true),
                store_flag(j, int_cc[base - 0x46], ip[0].u);
        else if (base >= 0x51 && base <= 0x5A)
            int_compare(j, true, ip[1].u, ip[2].u, true),
                store_flag(j, int_cc[base - 0x51], ip[0].u);
        else if (base >= 0x92 && base <= 0x95)
            emit_float_binary(j, base - 0x92, false, ip, true);
        else if (base >= 0xA0 && base <= 0xA3)
            emit_float_binary(j, base - 0xA0, true, ip, true);
        else
            return 0;
        return 4;
    }
    if (op >= OP_BRC && op < OP_LOAD_ADDI) { /* [a][b or imm][target] */
        int k = (op - OP_BRC) % 20;
        bool imm = op >= OP_BRCI;
        w = k >= 10;
        int_compare(j, w, ip[0].u, w || !imm ? ip[1].u : (uint32_t)ip[1].u, imm);
        jump_to(j, int_cc[k % 10], target_of(j, &ip[2]));
        return 4;
    }
    if ((op >= 0x46 && op <= 0x4F) || (op >= 0x51 && op <= 0x5A)) {
        w = op >= 0x51;
        int_compare(j, w, ip[1].u, ip[2].u, false);
        store_flag(j, int_cc[op - (w ? 0x51 : 0x46)], ip[0].u);
        return 4;
    }
    if ((op >= 0x6D && op <= 0x70) || (op >= 0x7F && op <= 0x82)) {
        w = op >= 0x7F;
        emit_divide(j, op - (w ? 0x7F : 0x6D), w, ip);
        return 4;
    }
    if (op >= 0x5B && op <= 0x66) {
        bool dbl = op >= 0x61;
        emit_float_compare(j, op - (dbl ? 0x61 : 0x5B), dbl, ip);
        return 4;
    }
    if ((op >= 0x92 && op <= 0x95) || (op >= 0xA0 && op <= 0xA3)) {
        bool dbl = op >= 0xA0;
        emit_float_binary(j, op - (dbl ? 0xA0 : 0x92), dbl, ip, false);
        return 4;
    }
    jit_unary_fn uf = jit_unary_helper(op);
    if (uf != NULL) {
        load_mem(j, RDI, ip[1].u, true);
        call_c(j, (const void *)uf, false);
        store(j, ip[0].u, RAX);
        return 3;
    }
    jit_binary_fn bf = jit_binary_helper(op);
    if (bf != NULL) {
        load_mem(j, RDI, ip[1].u, true);
        load_mem(j, RSI, ip[2].u, true);
        call_c(j, (const void *)bf, false);
        store(j, ip[0].u, RAX);
        return 4;
    }
    jit_trapping_fn tf = jit_trapping_helper(op);
    if (tf != NULL) {
        load_mem(j, RDI, ip[1].u, true);
        x64_mem_op(a, 0, true, 0x8D, RSI, slot(j, ip[0].u));
        call_checked(j, (const void *)tf, true); /* it wrote the result's cell */
        return 3;
    }
    switch (op) {
    case 0x45: /* eqz */
    case 0x50:
        test_slot(j, ip[1].u, op == 0x50);
        store_flag(j, CC_E, ip[0].u);
        return 3;
    case 0x8B: /* f32.abs, f32.neg on the bits */
    case 0x8C:
        load(j, RAX, ip[1].u, false);
        x64_reg_op(a, 0, false, 0x81, op == 0x8B ? 4 : 6, RAX);
        x64_u32(a, op == 0x8B ? 0x7FFFFFFFu : 0x80000000u);
        store(j, ip[0].u, RAX);
        return 3;
    case 0x99: /* f64.abs, f64.neg: btr/btc rax, 63 */
    case 0x9A:
        load(j, RAX, ip[1].u, true);
        x64_reg_op(a, 0, true, 0x0FBA, op == 0x99 ? 6 : 7, RAX);
        x64_byte(a, 63);
        store(j, ip[0].u, RAX);
        return 3;
    case 0x91: /* sqrt */
    case 0x9F: {
        uint8_t pfx = op == 0x9F ? 0xF2 : 0xF3;
        with_fslot(j, pfx, 0x0F51, 0, ip[1].u);
        fstore(j, ip[0].u, 0, pfx);
        return 3;
    }
    case 0xB2: /* f32.convert_i32_s */
    case 0xB4: /* f32.convert_i64_s */
    case 0xB7: /* f64.convert_i32_s */
    case 0xB9: /* f64.convert_i64_s */ {
        uint8_t pfx = op >= 0xB7 ? 0xF2 : 0xF3;
        with_slot(j, pfx, op == 0xB4 || op == 0xB9, 0x0F2A, 0, ip[1].u);
        fstore(j, ip[0].u, 0, pfx);
        return 3;
    }
    case 0xB3: /* f32.convert_i32_u, f64.convert_i32_u: exact from 64 bits */
    case 0xB8: {
        uint8_t pfx = op == 0xB8 ? 0xF2 : 0xF3;
        load_u32(j, RAX, ip[1].u);
        x64_reg_op(a, pfx, true, 0x0F2A, 0, RAX);
        fstore(j, ip[0].u, 0, pfx);
        return 3;
    }
    case 0xB6: /* f32.demote_f64: cvtsd2ss; f64.promote_f32: cvtss2sd */
    case 0xBB:
        with_fslot(j, op == 0xB6 ? 0xF2 : 0xF3, 0x0F5A, 0, ip[1].u);
        fstore(j, ip[0].u, 0, op == 0xB6 ? 0xF3 : 0xF2);
        return 3;
    case 0xAC: /* i64.extend_i32_s, i64.extend32_s: movsxd */
    case 0xC4:
        with_slot(j, 0, true, 0x63, RAX, ip[1].u);
        store(j, ip[0].u, RAX);
        return 3;
    case 0xAD: /* i64.extend_i32_u */
        load_u32(j, RAX, ip[1].u);
        store(j, ip[0].u, RAX);
        return 3;
    case 0xC0: /* extend8_s, extend16_s */
    case 0xC1:
    case 0xC2:
    case 0xC3:
        w = op >= 0xC2;
        if (pin_of(j, ip[1].u) != NOREG) { /* from al/ax: a pin's low byte may need a REX */
            load(j, RAX, ip[1].u, true);
            x64_reg_op(a, 0, w, (op & 1) ? 0x0FBF : 0x0FBE, RAX, RAX);
        } else {
            x64_mem_op(a, 0, w, (op & 1) ? 0x0FBF : 0x0FBE, RAX, slot(j, ip[1].u));
        }
        store(j, ip[0].u, RAX);
        return 3;
    case 0x3F: /* memory.size */
        memory_object(j, RCX);
        x64_mem_op(a, 0, false, 0x8B, RAX,
                   x64_at(RCX, (int32_t)offsetof(struct wasm_memory, pages)));
        store(j, ip[0].u, RAX);
        return 2;
    case 0x40: /* memory.grow */
        memory_object(j, RDI);
        load_mem(j, RSI, ip[1].u, false);
        call_c(j, (const void *)jit_memory_grow, false);
        store(j, ip[0].u, RAX);
        reload_size(j);
        return 3;
    case OP_FC + 8:  /* memory.init: d s n seg */
    case OP_FC + 10: /* memory.copy: d s n */
    case OP_FC + 11: /* memory.fill: d v n */
        memory_object(j, RDI);
        for (int k = 0; k < 3; k++)
            load_mem(j, arg_regs[k + 1], ip[k].u, false);
        if (op == OP_FC + 8)
            x64_mov_imm(a, R8, ip[3].u);
        call_checked(j,
                     op == OP_FC + 8    ? (const void *)jit_memory_init
                     : op == OP_FC + 10 ? (const void *)jit_memory_copy
                                        : (const void *)jit_memory_fill,
                     false);
        return op == OP_FC + 8 ? 5 : 4;
    case OP_FC + 9: /* data.drop: a dropped segment is an empty one */
        x64_mov_imm(a, RAX, ip[0].u);
        x64_mem_op(a, 0, false, 0xC7, 0, x64_at(RAX, (int32_t)offsetof(struct wasm_dataseg, len)));
        x64_u32(a, 0);
        return 2;
    case OP_UNREACHABLE:
        jump_lbl(j, -1, LBL_UNREACHABLE);
        return 1;
    case OP_BR:
        jump_to(j, -1, target_of(j, &ip[0]));
        return 2;
    case OP_BR_COPY: /* target dst src n */
        copy_slots(j, ip[1].u, ip[2].u, ip[3].u);
        jump_to(j, -1, target_of(j, &ip[0]));
        return 5;
    case OP_BR_IF: /* cond target */
    case OP_BR_UNLESS:
        test_slot(j, ip[0].u, false);
        jump_to(j, op == OP_BR_IF ? CC_NE : CC_E, target_of(j, &ip[1]));
        return 3;
    case OP_BR_IF_COPY: { /* cond target dst src n */
        test_slot(j, ip[0].u, false);
        size_t skip = x64_jump(a, CC_E);
        copy_slots(j, ip[2].u, ip[3].u, ip[4].u);
        jump_to(j, -1, target_of(j, &ip[1]));
        x64_patch_rel32(a, skip, a->n);
        return 6;
    }
    case OP_BR_TABLE: { /* index count arity src, then count+1 (target, dst) */
        uint64_t count = ip[1].u, arity = ip[2].u, src = ip[3].u;
        if (count >= (1u << 24))
            return 0;
        load(j, RAX, ip[0].u, false);
        x64_mov_imm(a, RCX, count);
        x64_reg_op(a, 0, false, 0x3B, RAX, RCX);
        x64_reg_op(a, 0, false, 0x0F47, RAX, RCX); /* cmova eax, ecx */
        size_t lea = x64_lea_rip(a, RCX);
        x64_mem_op(a, 0, true, 0x63, RAX, (struct x64_mem){RCX, RAX, 4, 0});
        x64_reg_op(a, 0, true, 0x03, RAX, RCX);
        x64_reg_op(a, 0, false, 0xFF, 4, RAX); /* jmp rax */
        size_t *stub = malloc((count + 1) * sizeof(size_t));
        if (stub == NULL)
            return 0;
        for (uint64_t i = 0; i <= count; i++) {
            stub[i] = a->n;
            copy_slots(j, ip[5 + 2 * i].u, src, arity);
            jump_to(j, -1, target_of(j, &ip[4 + 2 * i]));
        }
        size_t table = a->n;
        x64_patch_rel32(a, lea, table);
        for (uint64_t i = 0; i <= count; i++)
            x64_u32(a, (uint32_t)(stub[i] - table));
        free(stub);
        return 5 + 2 * (count + 1);
    }
    case OP_RETURN: /* src n */
        copy_slots(j, 0, ip[0].u, ip[1].u);
        x64_reg_op(a, 0, false, 0x33, RAX, RAX);
        jump_lbl(j, -1, LBL_RET);
        return 3;
    case OP_CALL: /* func base */
        x64_mov_imm(a, RDI, ip[0].u);
        x64_mem_op(a, 0, true, 0x8D, RSI, slot(j, ip[1].u));
        x64_mov_imm(a, RDX, (uint64_t)(uintptr_t)j->mem);
        call_checked(j, (const void *)wasm_jit_call, true);
        reload_size(j);
        return 3;
    case OP_CALL_INDIRECT: /* table sig index base */
        x64_mov_imm(a, RDI, ip[0].u);
        x64_mov_imm(a, RSI, ip[1].u);
        load_mem(j, RDX, ip[2].u, false);
        x64_mem_op(a, 0, true, 0x8D, RCX, slot(j, ip[3].u));
        x64_mov_imm(a, R8, (uint64_t)(uintptr_t)j->mem);
        call_checked(j, (const void *)wasm_jit_call_indirect, true);
        reload_size(j);
        return 5;
    case OP_SELECT: /* dst a b cond */
        load(j, RAX, ip[1].u, true);
        load(j, RCX, ip[2].u, true);
        test_slot(j, ip[3].u, false);
        x64_reg_op(a, 0, true, 0x0F44, RAX, RCX); /* cmove rax, rcx */
        store(j, ip[0].u, RAX);
        return 5;
    case OP_MOV:
        load(j, RAX, ip[1].u, true);
        store(j, ip[0].u, RAX);
        return 3;
    case OP_GLOBAL_GET: /* dst ptr */
        x64_mov_imm(a, RAX, ip[1].u);
        x64_mem_op(a, 0, true, 0x8B, RAX, x64_at(RAX, 0));
        store(j, ip[0].u, RAX);
        return 3;
    case OP_GLOBAL_SET: /* src ptr */
        load(j, RCX, ip[0].u, true);
        x64_mov_imm(a, RAX, ip[1].u);
        x64_mem_op(a, 0, true, 0x89, RCX, x64_at(RAX, 0));
        return 3;
    case OP_CONST: /* dst bits */
        if ((int64_t)ip[1].u == (int32_t)ip[1].u && pin_of(j, ip[0].u) == NOREG) {
            x64_mem_op(a, 0, true, 0xC7, 0, slot(j, ip[0].u)); /* mov qword [], simm32 */
            x64_u32(a, (uint32_t)ip[1].u);
        } else {
            x64_mov_imm(a, RAX, ip[1].u);
            store(j, ip[0].u, RAX);
        }
        return 3;
    case OP_LOOP: /* fc k: nothing to do in machine code but mark the head */
        if (ip[1].u >= j->nloops)
            return 0;
        j->loop_cell[ip[1].u] = at;
        return 3;
    case OP_REF_IS_NULL:
        test_slot(j, ip[1].u, true);
        store_flag(j, CC_E, ip[0].u);
        return 3;
    default:
        return 0;
    }
}

/* ---- the function ---- */

/* Six pushes and 8 bytes more keep rsp 16-aligned at calls. */
static const int saved[] = {RBX, RBP, R12, R13, R14, R15};

static void prologue(struct jit *j)
{
    struct x64 *a = &j->a;
    for (size_t i = 0; i < sizeof(saved) / sizeof(saved[0]); i++)
        x64_push(a, saved[i]);
    x64_reg_op(a, 0, true, 0x81, 5, RSP); /* sub rsp, 8 */
    x64_u32(a, 8);
    x64_mem_op(a, 0, true, 0x8D, FP, x64_at(RDI, FP_BIAS)); /* lea rbx, [rdi+bias] */
    if (j->mem != NULL) {
        memory_object(j, RCX);
        x64_mem_op(a, 0, true, 0x8B, MBASE,
                   x64_at(RCX, (int32_t)offsetof(struct wasm_memory, data)));
        reload_size(j);
    }
    reload_pins(j, true);
}

/* The shared tails: return rax; or a trap's message. */
static void tails(struct jit *j, size_t *lbl)
{
    static const char *const msg[NLBL] = {
        [LBL_OOB] = T_OOB,
        [LBL_DIV0] = T_DIV0,
        [LBL_OVF] = T_OVERFLOW,
        [LBL_UNREACHABLE] = "unreachable",
    };
    struct x64 *a = &j->a;
    for (int l = LBL_OOB; l < NLBL; l++) {
        lbl[l] = a->n;
        x64_mov_imm(a, RAX, (uint64_t)(uintptr_t)msg[l]);
        jump_lbl(j, -1, LBL_RET);
    }
    lbl[LBL_RET] = a->n;
    x64_reg_op(a, 0, true, 0x81, 0, RSP); /* add rsp, 8 */
    x64_u32(a, 8);
    for (size_t i = sizeof(saved) / sizeof(saved[0]); i-- > 0;)
        x64_pop(a, saved[i]);
    x64_byte(a, 0xC3);
}

static struct wasm_jit_stats stats;

void wasm_jit_get_stats(struct wasm_jit_stats *out)
{
    *out = stats;
}

static int mode = -1;
uint32_t wasm_jit_hot_threshold = 1000;

void wasm_jit_set_mode(enum wasm_jit_mode m, uint32_t hot)
{
    mode = (int)m;
    wasm_jit_hot_threshold = hot > 0 ? hot : 1;
}

enum wasm_jit_mode wasm_jit_mode(void)
{
    if (mode < 0) {
        const char *e = getenv("CELLA_WASM_JIT");
        mode = e == NULL                 ? WASM_JIT_TIERED
               : strcmp(e, "0") == 0     ? WASM_JIT_OFF
               : strcmp(e, "eager") == 0 ? WASM_JIT_EAGER
                                         : WASM_JIT_TIERED;
        const char *h = getenv("CELLA_WASM_JIT_HOT");
        if (h != NULL && atol(h) > 0)
            wasm_jit_hot_threshold = (uint32_t)atol(h);
    }
    return (enum wasm_jit_mode)mode;
}

bool wasm_jit_enabled(void)
{
    return wasm_jit_mode() != WASM_JIT_OFF;
}

void wasm_jit_compiled(struct wasm_instance *inst, struct wasm_fn_code *fc)
{
    fc->hot = 1; /* compiled at its first call */
    if (wasm_jit_mode() == WASM_JIT_EAGER)
        wasm_jit(inst, fc, fc->ncells);
}

const char *(*wasm_jit_osr(struct wasm_instance *inst, struct wasm_fn_code *fc,
                           uint32_t k))(wasm_val *fp)
{
    if (!fc->jit_tried)
        wasm_jit(inst, fc, fc->ncells);
    if (fc->osr == NULL || k >= fc->nloops)
        return NULL;
    const char *(*entry)(wasm_val *);
    memcpy(&entry, &fc->osr[k], sizeof(entry));
    stats.osr++;
    return entry;
}

/* The slots used most often in the first pass get the pin registers (a
 * slot used once or twice is not worth a register's loads at entry and
 * after calls). */
static void choose_pins(struct jit *j)
{
    if (j->counts == NULL || (j->pin = malloc(j->nslots)) == NULL)
        return;
    memset(j->pin, NOREG, j->nslots);
    for (j->npinned = 0; j->npinned < NPINS; j->npinned++) {
        uint64_t best = 0;
        uint32_t most = 2;
        for (uint64_t s = 0; s < j->nslots; s++) {
            if (j->counts[s] > most && j->pin[s] == NOREG) {
                most = j->counts[s];
                best = s;
            }
        }
        if (most == 2)
            break;
        j->pin[best] = (int8_t)pin_regs[j->npinned];
        j->pinned[j->npinned] = best;
    }
    free(j->counts);
    j->counts = NULL;
}

/* One pass over the code: false when an instruction is not translated. */
static bool translate_all(struct jit *j, struct wasm_fn_code *fc)
{
    prologue(j);
    for (size_t at = 0; at < j->ncells && !j->fail;) {
        j->noff[at] = j->a.n;
        bool arrive = j->is_target[at] != 0;
        j->live_kind = arrive ? 0 : j->pending_kind;
        j->live_slot = j->pending_slot;
        j->pending_kind = 0;
        size_t n = translate(j, at);
        if (n == 0) {
            j->fail = true;
            if (getenv("CELLA_WASM_JIT_DEBUG") != NULL)
                fprintf(stderr, "jit: function %u interpreted: instruction %d at cell %zu\n",
                        fc->index, op_of(fc->code[at].op), at);
        }
        at += n;
    }
    return !j->fail;
}

static void print_stats(void)
{
    fprintf(stderr, "jit: %zu functions translated (%zu bytes of code), %zu interpreted\n",
            stats.translated, stats.bytes, stats.interpreted);
}

/* One entry per loop head, for a running interpreted activation (OSR):
 * the function's own prologue, then a jump to the head. Their offsets go
 * to loop_off. */
static void osr_entries(struct jit *j, size_t *loop_off)
{
    for (uint32_t k = 0; k < j->nloops; k++) {
        loop_off[k] = j->a.n;
        prologue(j);
        jump_to(j, -1, j->loop_cell[k]);
    }
}

void wasm_jit(struct wasm_instance *inst, struct wasm_fn_code *fc, size_t ncells)
{
    if (fc->jit_tried)
        return;
    fc->jit_tried = true;
    if (!op_hash_built && getenv("CELLA_WASM_JIT_DEBUG") != NULL)
        atexit(print_stats);
    build_op_index();
    struct jit j = {.code = fc->code, .ncells = ncells, .mem = inst->mem0, .nloops = fc->nloops};
    size_t *loop_off = NULL;
    j.noff = malloc((ncells + NLBL) * sizeof(size_t));
    j.is_target = calloc(ncells + 1, 1);
    j.loop_cell = calloc(fc->nloops + 1, sizeof(size_t));
    loop_off = calloc(fc->nloops + 1, sizeof(size_t));
    if (j.noff == NULL || j.is_target == NULL || j.loop_cell == NULL || loop_off == NULL)
        goto out;
    for (size_t i = 0; i < ncells + NLBL; i++)
        j.noff[i] = SIZE_MAX; /* not an instruction's start */
    /* The first pass finds the branch targets and counts slot uses; the
     * second emits the code, with the most used slots pinned. */
    if (fc->max_cells <= MAX_PINNED) {
        j.nslots = fc->max_cells;
        j.counts = calloc(j.nslots, sizeof(*j.counts));
    }
    if (!translate_all(&j, fc))
        goto out;
    choose_pins(&j);
    j.a.n = 0; /* the buffer, now large enough, is reused */
    j.nfix = 0;
    if (!translate_all(&j, fc))
        goto out;
    tails(&j, j.noff + ncells);
    osr_entries(&j, loop_off);
    for (size_t i = 0; i < j.nfix && !j.fail; i++) {
        size_t to = j.noff[j.fix[i].target];
        j.fail = to == SIZE_MAX;
        x64_patch_rel32(&j.a, j.fix[i].at, to);
    }
    if (!j.fail && !j.a.oom) {
        void *code = jit_place(j.a.p, j.a.n);
        /* a data pointer to a function pointer: POSIX guarantees it works */
        if (code != NULL && fc->nloops > 0 &&
            (fc->osr = malloc(fc->nloops * sizeof(*fc->osr))) == NULL)
            code = NULL;
        if (code != NULL) {
            for (uint32_t k = 0; k < fc->nloops; k++)
                fc->osr[k] = (const uint8_t *)code + loop_off[k];
            memcpy(&fc->jit, &code, sizeof(code));
            stats.translated++;
            stats.bytes += j.a.n;
        }
    }
out:
    if (fc->jit == NULL)
        stats.interpreted++;
    free(j.a.p);
    free(j.noff);
    free(j.fix);
    free(j.is_target);
    free(j.counts);
    free(j.pin);
    free(j.loop_cell);
    free(loop_off);
}

#else /* not x86-64: everything is interpreted */

void wasm_jit_get_stats(struct wasm_jit_stats *out)
{
    *out = (struct wasm_jit_stats){0};
}

uint32_t wasm_jit_hot_threshold = 1000;

void wasm_jit_set_mode(enum wasm_jit_mode m, uint32_t hot)
{
    (void)m;
    (void)hot;
}

enum wasm_jit_mode wasm_jit_mode(void)
{
    return WASM_JIT_OFF;
}

const char *(*wasm_jit_osr(struct wasm_instance *inst, struct wasm_fn_code *fc,
                           uint32_t k))(wasm_val *fp)
{
    (void)inst;
    (void)fc;
    (void)k;
    return NULL;
}

bool wasm_jit_enabled(void)
{
    return false;
}

void wasm_jit_compiled(struct wasm_instance *inst, struct wasm_fn_code *fc)
{
    (void)inst;
    (void)fc;
}

void wasm_jit(struct wasm_instance *inst, struct wasm_fn_code *fc, size_t ncells)
{
    (void)inst;
    (void)fc;
    (void)ncells;
}

#endif
