/* The WebAssembly validator (core spec 2.0, chapter 3, with the algorithm of
 * its appendix for function bodies). Its error messages are the spec's
 * reasons for an invalid module ("type mismatch", "unknown local 2", ...), as
 * the spec tests' assert_invalid expect them (the reference interpreter's
 * wording, index included). */
#ifndef CELLA_WASM_VALIDATE_H
#define CELLA_WASM_VALIDATE_H

#include <stdint.h>

#include "core/error.h"
#include "level/wasm/module.h"

/* Validate a decoded module (WebAssembly 2.0, SIMD included); buf is the
 * buffer it was decoded from. 0 when valid, -1 with *err set when invalid. */
int wasm_validate(const struct wasm_module *m, const uint8_t *buf, cerr_t *err);

#endif
