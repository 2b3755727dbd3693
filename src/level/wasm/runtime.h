/* The WebAssembly runtime: instances, memories, tables, globals, functions
 * (wasm or host) and calls into them (core spec 2.0, chapter 4).
 *
 * A module is decoded and validated, then compiled once into threaded code
 * (compile.c) that the interpreter (interp.c) runs without re-reading bytes.
 * Host functions (WASI, the spec tests' `spectest`) are plain C functions
 * that read their arguments from, and write their results to, the value stack. */
#ifndef CELLA_WASM_RUNTIME_H
#define CELLA_WASM_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "level/wasm/module.h"

/* One value stack cell. A v128 takes two cells (low half first). References
 * are pointers: a funcref is a struct wasm_func *, NULL is ref.null. */
typedef union wasm_val {
    uint32_t i32;
    uint64_t i64;
    float f32;
    double f64;
    void *ref;
    uint64_t bits;
} wasm_val;

#define WASM_PAGE      65536u
#define WASM_MAX_PAGES 65536u

/* A linear memory. Its whole maximum is reserved (PROT_NONE) at creation, so
 * `data` never moves; growing makes more of it accessible. */
struct wasm_memory {
    uint8_t *data;
    uint64_t size; /* accessible bytes: pages * WASM_PAGE */
    uint32_t pages;
    uint32_t max; /* max pages (WASM_MAX_PAGES or the cap when none declared) */
    bool has_max; /* declared max, as import matching needs it */
    size_t reserved;
};

struct wasm_table {
    void **elems;
    uint32_t size;
    uint32_t max;
    bool has_max;
    uint8_t reftype; /* WASM_FUNCREF or WASM_EXTERNREF */
};

struct wasm_globalvar {
    wasm_val val[2]; /* two cells for v128 */
    uint8_t type;
    bool mut;
};

/* A function type, interned: equal types are the same pointer. */
struct wasm_sig {
    uint32_t nparams, nresults;
    uint32_t param_cells, result_cells; /* value stack cells (v128 = 2) */
    const uint8_t *types;               /* params then results, value type bytes */
};

/* A host function reads its nparams arguments at sp[0..) and writes its
 * results at sp[0..) (cells as described by its signature). `mem` is memory 0
 * of the calling instance, NULL when it has none. Returns NULL, or a trap
 * message; WASM_TRAP_EXIT ends the whole call (WASI proc_exit: the exit code
 * is the host context's business). */
typedef const char *(*wasm_host_fn)(void *ctx, struct wasm_memory *mem, wasm_val *sp);

extern const char WASM_TRAP_EXIT[];

struct wasm_fn_code; /* compiled body, private to compile.c / interp.c */
struct wasm_instance;

struct wasm_func {
    const struct wasm_sig *sig;
    struct wasm_instance *inst; /* NULL for host functions */
    struct wasm_fn_code *code;  /* wasm functions */
    wasm_host_fn host;          /* host functions */
    void *host_ctx;
};

struct wasm_extern {
    uint8_t kind; /* enum wasm_extern_kind */
    union {
        struct wasm_func *func;
        struct wasm_table *table;
        struct wasm_memory *memory;
        struct wasm_globalvar *global;
    } u;
};

/* Interned signature of a type written as "PARAMS:RESULTS" with i I f F v r e
 * for i32 i64 f32 f64 v128 funcref externref, e.g. "iiii:i". */
const struct wasm_sig *wasm_sig_parse(const char *text);
const struct wasm_sig *wasm_sig_intern(const uint8_t *params, uint32_t nparams,
                                       const uint8_t *results, uint32_t nresults);

/* A host function object, alive until wasm_host_func_free. */
struct wasm_func *wasm_host_func_new(const char *sig, wasm_host_fn fn, void *ctx);
void wasm_host_func_free(struct wasm_func *f);

/* Stand-alone objects (the spec tests' host module, embedders). */
struct wasm_memory *wasm_memory_new(uint32_t min, uint32_t max, bool has_max, cerr_t *err);
void wasm_memory_free(struct wasm_memory *m);
/* Grow by delta pages: the old size in pages, or -1 when it cannot. */
int64_t wasm_memory_grow(struct wasm_memory *m, uint32_t delta);
struct wasm_table *wasm_table_new(uint8_t reftype, uint32_t min, uint32_t max, bool has_max,
                                  cerr_t *err);
void wasm_table_free(struct wasm_table *t);
int64_t wasm_table_grow(struct wasm_table *t, uint32_t delta, void *init);

/* Finds an import: 0 and *out filled, or -1 when there is no such name. */
typedef int (*wasm_resolve_fn)(void *ctx, const char *module, const char *name,
                               struct wasm_extern *out);

enum { CERR_WASM_LINK = 100, CERR_WASM_TRAP = 101 };

/* Compile and instantiate a validated module: resolve imports (errors with
 * code CERR_WASM_LINK: "unknown import", "incompatible import type"),
 * allocate, initialise tables and memories, run the start function (a trap
 * there: code CERR_WASM_TRAP, message the trap's). The module and its buffer
 * must outlive the instance. */
struct wasm_instance *wasm_instantiate(const struct wasm_module *m, wasm_resolve_fn resolve,
                                       void *resolve_ctx, cerr_t *err);
void wasm_instance_free(struct wasm_instance *inst);

/* An export by name, or NULL. The pointer lives as long as the instance. */
const struct wasm_extern *wasm_instance_export(const struct wasm_instance *inst, const char *name);
/* The same for a name that may hold NUL bytes. */
const struct wasm_extern *wasm_instance_export_n(const struct wasm_instance *inst, const char *name,
                                                 size_t len);

/* Call f with its arguments in args (param_cells cells); results go to
 * results (result_cells cells). NULL, or the trap message ("integer divide
 * by zero", "call stack exhausted", WASM_TRAP_EXIT, ...). */
const char *wasm_call(struct wasm_func *f, const wasm_val *args, wasm_val *results);

#endif
