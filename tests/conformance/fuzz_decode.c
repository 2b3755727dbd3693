/* libFuzzer harness of the wasm decoder: any input must decode or fail
 * cleanly, and a decoded module's spans must lie inside the input.
 *
 *   clang -std=gnu11 -g -fsanitize=fuzzer,address,undefined -Isrc -o /tmp/fuzz_decode \
 *       tests/conformance/fuzz_decode.c src/level/wasm/decode.c src/core/error.c \
 *       src/core/util.c
 *   /tmp/fuzz_decode -max_total_time=180 CORPUS_DIR   (seed: the spec tests' .wasm files) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "fuzz_input.h"
#include "level/wasm/decode.h"

static void check_span(struct wasm_span s, size_t len)
{
    if (s.off > len || s.len > len - s.off)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf;
    struct wasm_module *m = fuzz_decode_input(data, size, &buf);
    if (m != NULL) {
        for (uint32_t i = 0; i < m->ntypes; i++) {
            check_span(m->types[i].params, size);
            check_span(m->types[i].results, size);
        }
        for (uint32_t i = 0; i < m->nglobals; i++)
            check_span(m->globals[i].init, size);
        for (uint32_t i = 0; i < m->nelems; i++)
            for (uint32_t j = 0; m->elems[i].uses_exprs && j < m->elems[i].count; j++)
                check_span(m->elems[i].exprs[j], size);
        for (uint32_t i = 0; i < m->ncodes; i++) {
            check_span(m->codes[i].body, size);
            if (m->codes[i].body.len == 0 ||
                buf[m->codes[i].body.off + m->codes[i].body.len - 1] != 0x0B)
                abort(); /* a body ends with END */
        }
        for (uint32_t i = 0; i < m->ndatas; i++)
            check_span(m->datas[i].bytes, size);
        if (m->nfuncs != m->ncodes)
            abort();
        wasm_module_free(m);
    }
    free(buf);
    return 0;
}
