/* A decoded WebAssembly 2.0 module, as the binary format gives it (no
 * validation yet: index bounds, types of expressions and constness of init
 * expressions are the validator's business). Nothing of the caller's buffer
 * is copied: every byte sequence is a span (offset, length) into the buffer
 * that was passed to wasm_decode, which must outlive the module. */
#ifndef CELLA_WASM_MODULE_H
#define CELLA_WASM_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Value and reference types, by their binary encoding. */
enum wasm_valtype {
    WASM_I32 = 0x7F,
    WASM_I64 = 0x7E,
    WASM_F32 = 0x7D,
    WASM_F64 = 0x7C,
    WASM_V128 = 0x7B,
    WASM_FUNCREF = 0x70,
    WASM_EXTERNREF = 0x6F,
};

/* External kinds (imports and exports). */
enum wasm_extern_kind {
    WASM_EXTERN_FUNC = 0,
    WASM_EXTERN_TABLE = 1,
    WASM_EXTERN_MEMORY = 2,
    WASM_EXTERN_GLOBAL = 3,
};

/* Segment modes (element and data segments; data has no declarative). */
enum wasm_seg_mode {
    WASM_SEG_ACTIVE = 0,
    WASM_SEG_PASSIVE = 1,
    WASM_SEG_DECLARATIVE = 2,
};

/* Bytes buf[off .. off+len) of the decoded buffer. */
struct wasm_span {
    size_t off;
    size_t len;
};

struct wasm_limits {
    uint32_t min;
    uint32_t max; /* meaningful when has_max */
    bool has_max;
};

/* A function type: params and results are spans of value type bytes. */
struct wasm_functype {
    struct wasm_span params;
    struct wasm_span results;
};

struct wasm_tabletype {
    uint8_t reftype; /* WASM_FUNCREF or WASM_EXTERNREF */
    struct wasm_limits limits;
};

struct wasm_globaltype {
    uint8_t valtype;
    bool mut;
};

struct wasm_import {
    struct wasm_span module; /* UTF-8 names, checked */
    struct wasm_span name;
    uint8_t kind; /* enum wasm_extern_kind */
    union {
        uint32_t func_type; /* type index */
        struct wasm_tabletype table;
        struct wasm_limits memory;
        struct wasm_globaltype global;
    } desc;
};

struct wasm_global {
    struct wasm_globaltype type;
    struct wasm_span init; /* constant expression, final END (0x0B) included */
};

struct wasm_export {
    struct wasm_span name;
    uint8_t kind; /* enum wasm_extern_kind */
    uint32_t index;
};

/* One element segment, whichever of the 8 encodings it came in. */
struct wasm_elem {
    uint8_t mode;            /* enum wasm_seg_mode */
    uint32_t table;          /* active only */
    struct wasm_span offset; /* active only: expression, END included */
    uint8_t elemtype;        /* WASM_FUNCREF or WASM_EXTERNREF */
    bool uses_exprs;         /* init is exprs (encodings 4..7), else funcs */
    uint32_t count;
    uint32_t *funcs;         /* count function indices, when !uses_exprs */
    struct wasm_span *exprs; /* count expressions (END included), when uses_exprs */
};

/* A run of locals: count locals of one type. */
struct wasm_local_run {
    uint32_t count;
    uint8_t type;
};

struct wasm_code {
    uint32_t nruns;
    struct wasm_local_run *runs;
    uint64_t nlocals;      /* sum of the runs' counts (< 2^32) */
    struct wasm_span body; /* instructions, final END included */
};

struct wasm_data {
    uint8_t mode;            /* WASM_SEG_ACTIVE or WASM_SEG_PASSIVE */
    uint32_t memory;         /* active only */
    struct wasm_span offset; /* active only: expression, END included */
    struct wasm_span bytes;
};

struct wasm_module {
    const uint8_t *buf; /* the caller's buffer, spans are into it */
    size_t len;

    uint32_t ntypes;
    struct wasm_functype *types;
    uint32_t nimports;
    struct wasm_import *imports;
    uint32_t nfuncs; /* defined functions (function section) */
    uint32_t *funcs; /* their type indices */
    uint32_t ntables;
    struct wasm_tabletype *tables;
    uint32_t nmemories;
    struct wasm_limits *memories;
    uint32_t nglobals;
    struct wasm_global *globals;
    uint32_t nexports;
    struct wasm_export *exports;
    bool has_start;
    uint32_t start;
    uint32_t nelems;
    struct wasm_elem *elems;
    bool has_data_count;
    uint32_t data_count;
    uint32_t ncodes; /* == nfuncs */
    struct wasm_code *codes;
    uint32_t ndatas;
    struct wasm_data *datas;
};

#endif
