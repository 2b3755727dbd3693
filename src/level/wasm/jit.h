/* The baseline JIT: a function's register-style threaded code (compile.c)
 * translated to x86-64, one template per instruction. Private to the engine. */
#ifndef CELLA_WASM_JIT_H
#define CELLA_WASM_JIT_H

#include <stdbool.h>
#include <stddef.h>

#include "level/wasm/interp.h"

/* When functions are translated (environment CELLA_WASM_JIT):
 *  - tiered (default): a function starts interpreted and is translated
 *    once hot — wasm_jit_hot() interpreted calls and loop iterations
 *    together (CELLA_WASM_JIT_HOT, default 1000). A hot loop moves the
 *    running activation into the translation at the loop's head (on-stack
 *    replacement: both engines keep every value in the same frame slots, so
 *    the machine code simply starts there). Code that runs a few times, as a
 *    program's start-up, is never translated.
 *  - eager (CELLA_WASM_JIT=eager): every function at its first call;
 *  - off (CELLA_WASM_JIT=0, or not x86-64): everything is interpreted.
 * The spec suite runs eager, tiered with CELLA_WASM_JIT_HOT=2 (every loop
 * entered through its head) and off. */
enum wasm_jit_mode { WASM_JIT_OFF, WASM_JIT_TIERED, WASM_JIT_EAGER };
enum wasm_jit_mode wasm_jit_mode(void);
/* For tests: the mode and threshold, whatever the environment says. */
void wasm_jit_set_mode(enum wasm_jit_mode m, uint32_t hot);
bool wasm_jit_enabled(void);
extern uint32_t wasm_jit_hot_threshold; /* set with the mode */
static inline uint32_t wasm_jit_hot(void)
{
    return wasm_jit_hot_threshold;
}

/* fc was just compiled (its first call): translate it now when eager. */
void wasm_jit_compiled(struct wasm_instance *inst, struct wasm_fn_code *fc);

/* Translate fc (whose threaded code of ncells cells is compiled) and set
 * fc->jit and fc->osr, or leave them NULL: the function then stays
 * interpreted (an instruction the JIT does not translate, no memory for
 * code). Tried once per function. */
void wasm_jit(struct wasm_instance *inst, struct wasm_fn_code *fc, size_t ncells);

/* An interpreted call of fc (tiered): translate it once hot. */
static inline void wasm_jit_count_call(struct wasm_instance *inst, struct wasm_fn_code *fc)
{
    if (__builtin_expect(++fc->hot >= wasm_jit_hot(), 0) && !fc->jit_tried &&
        wasm_jit_mode() == WASM_JIT_TIERED)
        wasm_jit(inst, fc, fc->ncells);
}

/* The entry of fc's translation at its k-th loop head, translating fc
 * first if needed; NULL when it stays interpreted. Called with the frame. */
const char *(*wasm_jit_osr(struct wasm_instance *inst, struct wasm_fn_code *fc,
                           uint32_t k))(wasm_val *fp);

/* Functions translated, left to the interpreter, and bytes of code made
 * (for the spec runner, the unit tests and CELLA_WASM_JIT_DEBUG). */
struct wasm_jit_stats {
    size_t translated, interpreted, bytes;
    size_t osr; /* activations moved from the interpreter at a loop head */
};
void wasm_jit_get_stats(struct wasm_jit_stats *out);

/* Called by translated code (defined by the interpreter): a call to fn with
 * its arguments at nfp; results land at nfp. caller_mem is what a host
 * function sees. NULL or the trap. */
const char *wasm_jit_call(struct wasm_func *fn, wasm_val *nfp, struct wasm_memory *caller_mem);
const char *wasm_jit_call_indirect(struct wasm_table *t, const struct wasm_sig *sig, uint32_t i,
                                   wasm_val *nfp, struct wasm_memory *caller_mem);

#endif
