/* Private to the engine: the threaded code the compiler writes and the
 * interpreter runs, and the instance layout both use.
 *
 * Code is an array of cells. An instruction is the address of its handler
 * in the interpreter (a computed-goto label) followed by its immediates;
 * branch targets are cell pointers, resolved at compile time. A frame is
 * [params | locals | operand stack] on the value stack, addressed from fp.
 * Operand stack heights are known at compile time, so every operand is a
 * fixed slot of the frame: instructions name their operand and result
 * slots (a register machine), local.get costs nothing (its slot is used in
 * place) and a result is written straight into the local that a following
 * local.set names. */
#ifndef CELLA_WASM_INTERP_H
#define CELLA_WASM_INTERP_H

#include "level/wasm/runtime.h"

union cell {
    const void *op;
    uint64_t u;
    int64_t s;
    void *p;
};

struct wasm_fn_code {
    union cell *code;   /* NULL until the first call compiles it */
    uint32_t index;     /* in the function index space */
    uint32_t nparams;   /* cells */
    uint32_t nlocals;   /* cells of declared locals, zeroed at entry */
    uint32_t nresults;  /* cells */
    uint32_t max_cells; /* frame size: params + locals + deepest operand stack */
    /* The JIT's translation (jit.h), or NULL: interpreted. Called with the
     * frame (params then zeroed locals); NULL or the trap. */
    const char *(*jit)(wasm_val *fp);
    size_t ncells; /* of code */
    /* Tiering (jit.h): interpreted calls and loop iterations so far, and
     * the translation's entries at each loop (OP_LOOP's k), through which
     * a running interpreted activation moves to machine code. */
    uint32_t hot;
    bool jit_tried;
    uint32_t nloops;
    const void **osr;
};

struct wasm_dataseg {
    const uint8_t *bytes;
    uint32_t len; /* 0 once dropped */
};

struct wasm_elemseg {
    void **refs;
    uint32_t len; /* 0 once dropped */
};

struct wasm_instance {
    const struct wasm_module *m;
    /* index spaces, imports first */
    struct wasm_func **funcs;
    uint32_t nfuncs;
    struct wasm_table **tables;
    struct wasm_memory **mems;
    struct wasm_memory *mem0; /* mems[0] or NULL: what the interpreter uses */
    struct wasm_globalvar **globals;
    struct wasm_dataseg *datas;
    struct wasm_elemseg *elems;
    struct wasm_extern *exports;
    char **export_names;
    /* owned: the defined ones */
    struct wasm_func *own_funcs;
    struct wasm_fn_code *codes;
    struct wasm_globalvar *own_globals;
    uint32_t nfuncs_imported, nglobals_imported, ntables_imported, nmems_imported;
};

/* Handler indices. Loads, stores, memory.size/grow and the numeric
 * instructions use their one-byte opcode; 0xFC-prefixed ones 0xE0 + their
 * sub-opcode; the rest are the interpreter's own. Operands are frame slots
 * (fp-relative cell indices), results first: a binary operator is
 * [op][dst][a][b]. */
enum {
    OP_FC = 0xE0,
    OP_UNREACHABLE = 0x100,
    OP_BR,            /* target */
    OP_BR_COPY,       /* target, dst, src, n */
    OP_BR_IF,         /* cond, target */
    OP_BR_IF_COPY,    /* cond, target, dst, src, n */
    OP_BR_UNLESS,     /* cond, target */
    OP_BR_TABLE,      /* index, count, arity, src, then count+1 (target, dst) */
    OP_RETURN,        /* src, n */
    OP_CALL,          /* struct wasm_func *, base */
    OP_CALL_INDIRECT, /* struct wasm_table *, const struct wasm_sig *, index, base */
    OP_SELECT,        /* dst, a, b, cond */
    OP_MOV,           /* dst, src */
    OP_GLOBAL_GET,    /* dst, wasm_val * */
    OP_GLOBAL_SET,    /* src, wasm_val * */
    OP_TABLE_GET,     /* dst, index, struct wasm_table * */
    OP_TABLE_SET,     /* index, value, struct wasm_table * */
    OP_CONST,         /* dst, bits */
    OP_REF_IS_NULL,   /* dst, a */
    OP_LOOP,          /* struct wasm_fn_code *, k: the k-th loop's head (with the JIT on) */
    OP_EXIT,          /* ends wasm_call */
    /* Operators with a constant second operand: [dst][a][imm] (the
     * constant's bits), for opcodes 0x46..0xA6 where wasm_has_imm. */
    OP_IMM,
    /* Compare-and-branch, i32 then i64 (eq ne lt_s lt_u gt_s gt_u le_s le_u
     * ge_s ge_u): [a][b][target], and with a constant b: [a][imm][target]. */
    OP_BRC = OP_IMM + (0xA6 - 0x46 + 1),
    OP_BRCI = OP_BRC + 20,
    /* Loads 0x28..0x35 whose address is i32.add(x, imm): [dst][x][imm][offset]. */
    OP_LOAD_ADDI = OP_BRCI + 20,
    /* Stores 0x36..0x3E to i32.add(x, imm): [x][value][imm][offset]. */
    OP_STORE_ADDI = OP_LOAD_ADDI + 14,
    OP_COUNT = OP_STORE_ADDI + 9
};

/* Whether opcode op has an OP_IMM form: integer comparisons and
 * operators but division, and float add, sub, mul, div. */
static inline bool wasm_has_imm(uint8_t op)
{
    return (op >= 0x46 && op <= 0x4F) || (op >= 0x51 && op <= 0x5A) || (op >= 0x6A && op <= 0x6C) ||
           (op >= 0x71 && op <= 0x78) || (op >= 0x7C && op <= 0x7E) || (op >= 0x83 && op <= 0x8A) ||
           (op >= 0x92 && op <= 0x95) || (op >= 0xA0 && op <= 0xA3);
}

/* The interpreter's handler addresses, indexed by OP_* (NULL: none). */
const void *const *wasm_interp_labels(void);

/* Compile defined function `idx` (of the function index space) of inst.
 * Functions are compiled on their first call: a module's start-up pays only
 * for the code it runs. */
int wasm_compile(struct wasm_instance *inst, uint32_t idx, cerr_t *err);

/* Evaluate a constant expression (global, offset and element inits). */
int wasm_const_eval(const struct wasm_instance *inst, struct wasm_span expr, wasm_val *out,
                    cerr_t *err);

#endif
