/* libFuzzer harness of config.json's parser (spec_parse): any input parses or
 * fails with one message; a parsed spec frees cleanly (make fuzz). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "oci/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1); /* exactly size bytes: ASan sees an overread */
    if (text == NULL)
        abort();
    memcpy(text, data, size);
    cerr_t err = NULL;
    struct spec *s = spec_parse(text, size, "config.json", &err);
    if (s == NULL && (err == NULL || cerr_msg(err) == NULL || strchr(cerr_msg(err), '\n')))
        abort(); /* a failure says why, in one line */
    spec_free(s);
    cerr_free(&err);
    free(text);
    return 0;
}
