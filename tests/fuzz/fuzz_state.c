/* libFuzzer harness of state.json's parser (state_parse, under state_load):
 * the file is on disk, any input loads or fails with one message (make fuzz). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    if (text == NULL)
        abort();
    memcpy(text, data, size);
    cerr_t err = NULL;
    struct cstate *st = state_parse(text, size, "fuzz", &err);
    if (st == NULL && (err == NULL || cerr_msg(err) == NULL))
        abort();
    if (st != NULL) {
        /* what `cella state` and the hooks print of it */
        free(state_to_oci_json(st, st->status, true));
        free(state_hook_json(st, st->status));
    }
    state_free(st);
    cerr_free(&err);
    free(text);
    return 0;
}
