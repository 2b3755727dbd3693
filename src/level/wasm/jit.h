/* The baseline JIT: a function's register-style threaded code (compile.c)
 * translated to x86-64, one template per instruction. Private to the engine. */
#ifndef CELLA_WASM_JIT_H
#define CELLA_WASM_JIT_H

#include <stdbool.h>
#include <stddef.h>

#include "level/wasm/interp.h"

/* Whether functions are translated: on x86-64 unless the environment says
 * CELLA_WASM_JIT=0 (then everything is interpreted). */
bool wasm_jit_enabled(void);

/* Translate fc (whose threaded code of ncells cells is compiled) and set
 * fc->jit, or leave it NULL: the function then stays interpreted (an
 * instruction the JIT does not translate, no memory for code). */
void wasm_jit(struct wasm_instance *inst, struct wasm_fn_code *fc, size_t ncells);

/* Functions translated, left to the interpreter, and bytes of code made
 * (for tests and `cella wasm run`'s diagnostics). */
struct wasm_jit_stats {
    size_t translated, interpreted, bytes;
};
void wasm_jit_get_stats(struct wasm_jit_stats *out);

/* Called by translated code (defined by the interpreter): a call to fn with
 * its arguments at nfp; results land at nfp. caller_mem is what a host
 * function sees. NULL or the trap. */
const char *wasm_jit_call(struct wasm_func *fn, wasm_val *nfp, struct wasm_memory *caller_mem);
const char *wasm_jit_call_indirect(struct wasm_table *t, const struct wasm_sig *sig, uint32_t i,
                                   wasm_val *nfp, struct wasm_memory *caller_mem);

#endif
