/* C functions that translated code calls (jit.c): the operations whose
 * WebAssembly meaning takes many instructions, and bulk memory. Private to
 * the engine. Values travel as their bits (a cell's uint64_t). */
#ifndef CELLA_WASM_JIT_HELPERS_H
#define CELLA_WASM_JIT_HELPERS_H

#include <stdint.h>

#include "level/wasm/interp.h"

typedef uint64_t (*jit_unary_fn)(uint64_t);
typedef uint64_t (*jit_binary_fn)(uint64_t, uint64_t);
/* NULL and *out, or the trap */
typedef const char *(*jit_trapping_fn)(uint64_t, wasm_val *out);

/* The helper for opcode op (an OP_* of interp.h), or NULL when the JIT does
 * the operation inline or not at all. */
jit_unary_fn jit_unary_helper(int op);
jit_binary_fn jit_binary_helper(int op);
jit_trapping_fn jit_trapping_helper(int op);

/* Bulk memory with the interpreter's bounds checks: NULL or the trap. */
const char *jit_memory_copy(struct wasm_memory *m, uint32_t d, uint32_t s, uint32_t n);
const char *jit_memory_fill(struct wasm_memory *m, uint32_t d, uint32_t v, uint32_t n);
const char *jit_memory_init(struct wasm_memory *m, uint32_t d, uint32_t s, uint32_t n,
                            struct wasm_dataseg *seg);
/* memory.grow: the old size in pages, or 0xFFFFFFFF */
uint64_t jit_memory_grow(struct wasm_memory *m, uint64_t delta);

/* Executable memory (jit_mem.c): copy n bytes of code where it can run;
 * NULL when no memory can be mapped. Never writable and executable at once. */
void *jit_place(const uint8_t *p, size_t n);

#endif
