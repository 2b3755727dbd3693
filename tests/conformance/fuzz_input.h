/* The fuzzers' common start (fuzz_decode.c, fuzz_instantiate.c). */
#ifndef CELLA_TESTS_FUZZ_INPUT_H
#define CELLA_TESTS_FUZZ_INPUT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "level/wasm/decode.h"

/* A copy of exactly `size` bytes in *buf (so that ASan sees any overread),
 * decoded: the module, or NULL when malformed — a failure must say why. */
static inline struct wasm_module *fuzz_decode_input(const uint8_t *data, size_t size, uint8_t **buf)
{
    *buf = malloc(size ? size : 1);
    if (*buf == NULL)
        abort();
    if (size > 0)
        memcpy(*buf, data, size);
    cerr_t err = NULL;
    struct wasm_module *m = wasm_decode(*buf, size, &err);
    if (m == NULL && (err == NULL || cerr_msg(err) == NULL))
        abort();
    cerr_free(&err);
    return m;
}

#endif
