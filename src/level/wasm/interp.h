/* Private to the engine: the threaded code the compiler writes and the
 * interpreter runs, and the instance layout both use.
 *
 * Code is an array of cells. An instruction is the address of its handler
 * in the interpreter (a computed-goto label) followed by its immediates;
 * branch targets are cell pointers, resolved at compile time. Operands live
 * on the value stack: a frame is [params | locals | operands], addressed
 * from fp; stack heights are known at compile time, so a branch knows
 * where its results go. */
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
    union cell *code;
    uint32_t nparams;   /* cells */
    uint32_t nlocals;   /* cells of declared locals, zeroed at entry */
    uint32_t nresults;  /* cells */
    uint32_t max_cells; /* frame size: params + locals + deepest operand stack */
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
 * sub-opcode; the rest are the interpreter's own. */
enum {
    OP_FC = 0xE0,
    OP_UNREACHABLE = 0x100,
    OP_BR,
    OP_BR_COPY,       /* target, dst, n */
    OP_BR_IF,         /* target */
    OP_BR_IF_COPY,    /* target, dst, n */
    OP_BR_UNLESS,     /* target */
    OP_BR_TABLE,      /* count, arity, then count+1 (target, dst) */
    OP_RETURN,        /* n */
    OP_CALL,          /* struct wasm_func * */
    OP_CALL_INDIRECT, /* struct wasm_table *, const struct wasm_sig * */
    OP_DROP,
    OP_SELECT,
    OP_LOCAL_GET, /* index */
    OP_LOCAL_SET,
    OP_LOCAL_TEE,
    OP_GLOBAL_GET, /* wasm_val * */
    OP_GLOBAL_SET,
    OP_TABLE_GET, /* struct wasm_table * */
    OP_TABLE_SET,
    OP_CONST, /* bits */
    OP_REF_IS_NULL,
    OP_EXIT, /* ends wasm_call */
    OP_COUNT
};

/* The interpreter's handler addresses, indexed by OP_* (NULL: none). */
const void *const *wasm_interp_labels(void);

/* Compile defined function `idx` (of the function index space) of inst. */
int wasm_compile(struct wasm_instance *inst, uint32_t idx, cerr_t *err);

/* Evaluate a constant expression (global, offset and element inits). */
int wasm_const_eval(const struct wasm_instance *inst, struct wasm_span expr, wasm_val *out,
                    cerr_t *err);

#endif
