/* The WebAssembly binary format decoder (core spec 2.0, chapter 5). It checks
 * everything the binary format itself requires; its error messages are the
 * spec's reasons for a malformed module ("unexpected end", "integer too
 * large", ...), as the spec tests' assert_malformed expect them. */
#ifndef CELLA_WASM_DECODE_H
#define CELLA_WASM_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "level/wasm/module.h"

/* Decode buf[0..len). The module keeps spans into buf (not copies): buf must
 * outlive it. NULL with *err set when the module is malformed. */
struct wasm_module *wasm_decode(const uint8_t *buf, size_t len, cerr_t *err);
void wasm_module_free(struct wasm_module *m);

#endif
