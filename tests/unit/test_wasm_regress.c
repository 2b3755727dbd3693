/* Regression tests of the wasm engine: modules that once crashed it or made
 * it allocate without bound (found with tests/conformance/fuzz_instantiate.c),
 * each decoded, validated, instantiated, compiled and called as the fuzzer
 * does. */
#include <stdint.h>

#include "level/wasm/decode.h"
#include "level/wasm/interp.h"
#include "level/wasm/validate.h"
#include "unit.h"

/* Load `bytes`, compile every function and call export "f" with zero
 * arguments: its trap, "" when it returned, or NULL (and a failed check)
 * when loading failed. */
static const char *load_and_call(const uint8_t *bytes, size_t len)
{
    static char trap[128];
    const char *ret = NULL;
    cerr_t err = NULL;
    struct wasm_instance *inst = NULL;
    struct wasm_module *m = wasm_decode(bytes, len, &err);
    if (m == NULL || wasm_validate(m, bytes, &err) < 0 ||
        (inst = wasm_instantiate(m, NULL, NULL, &err)) == NULL)
        goto out;
    for (uint32_t i = inst->nfuncs_imported; i < inst->nfuncs; i++)
        if (wasm_compile(inst, i, &err) < 0)
            goto out;
    const struct wasm_extern *f = wasm_instance_export(inst, "f");
    if (f == NULL || f->kind != WASM_EXTERN_FUNC) {
        cerr_set(&err, 0, "no function export \"f\"");
        goto out;
    }
    wasm_val args[4] = {{0}}, results[4];
    const char *t = wasm_call(f->u.func, args, results);
    snprintf(trap, sizeof(trap), "%s", t != NULL ? t : "");
    ret = trap;
out:
    if (err != NULL) {
        printf("#   %s\n", cerr_msg(err));
        unit_failed_now = 1;
    }
    cerr_free(&err);
    wasm_instance_free(inst);
    wasm_module_free(m);
    return ret;
}

/* (func (export "f") (param i32) (local 0xFFFFFFFF i32)
 *   i32.const 7  local.set 0xFFFFFFFF)
 * 1 + 0xFFFFFFFF locals wrapped the compiler's 32-bit slot count to 0:
 * local.set wrote 32 GiB past the frame. Such a frame cannot fit the value
 * stack: the call must trap. */
static void locals_past_2_32_trap(void)
{
    static const uint8_t wasm[] = {
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,                   /* header */
        0x01, 0x05, 0x01, 0x60, 0x01, 0x7f, 0x00,                         /* type (i32) -> () */
        0x03, 0x02, 0x01, 0x00,                                           /* func 0: type 0 */
        0x07, 0x05, 0x01, 0x01, 'f',  0x00, 0x00,                         /* export "f" */
        0x0a, 0x12, 0x01, 0x10, 0x01, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x7f, /* 2^32-1 i32 */
        0x41, 0x07, 0x21, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x0b,             /* body */
    };
    CHECK_STR(load_and_call(wasm, sizeof(wasm)), "call stack exhausted");
}

/* (func (export "f") (local 1000000000 i32) i32.const 0 drop)
 * Compiling it took 12 GB for the virtual operand stack. */
static void many_locals_compile_cheaply(void)
{
    static const uint8_t wasm[] = {
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,                   /* header */
        0x01, 0x04, 0x01, 0x60, 0x00, 0x00,                               /* type () -> () */
        0x03, 0x02, 0x01, 0x00,                                           /* func 0: type 0 */
        0x07, 0x05, 0x01, 0x01, 'f',  0x00, 0x00,                         /* export "f" */
        0x0a, 0x0d, 0x01, 0x0b, 0x01, 0x80, 0x94, 0xeb, 0xdc, 0x03, 0x7f, /* 10^9 i32 */
        0x41, 0x00, 0x1a, 0x0b,                                           /* body */
    };
    CHECK_STR(load_and_call(wasm, sizeof(wasm)), "call stack exhausted");
}

/* The limit itself: 2^20 - 1 locals and one param still compile as code
 * (and trap on the stack), the same function is fine with few locals. */
static void locals_at_the_limit(void)
{
    static const uint8_t wasm[] = {
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,       /* header */
        0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f,       /* (i32) -> i32 */
        0x03, 0x02, 0x01, 0x00,                               /* func 0: type 0 */
        0x07, 0x05, 0x01, 0x01, 'f',  0x00, 0x00,             /* export "f" */
        0x0a, 0x0c, 0x01, 0x0a, 0x01, 0xff, 0xff, 0x3f, 0x7f, /* 2^20-1 i32 */
        0x20, 0xfe, 0xff, 0x3f, 0x0b,                         /* local.get 2^20-2 */
    };
    CHECK_STR(load_and_call(wasm, sizeof(wasm)), "call stack exhausted");
}

/* (table 600000000 funcref): instantiating it allocated 4.8 GB; a table
 * is limited to 10^7 elements, as table.grow is. */
static void huge_table_fails_cleanly(void)
{
    static const uint8_t wasm[] = {
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,             /* header */
        0x04, 0x08, 0x01, 0x70, 0x00, 0x80, 0x8c, 0x8d, 0x9e, 0x02, /* table */
    };
    cerr_t err = NULL;
    struct wasm_module *m = wasm_decode(wasm, sizeof(wasm), &err);
    CHECK(m != NULL && wasm_validate(m, wasm, &err) == 0);
    struct wasm_instance *inst = m != NULL ? wasm_instantiate(m, NULL, NULL, &err) : NULL;
    CHECK(inst == NULL);
    CHECK(err != NULL && strstr(cerr_msg(err), "table of 600000000 elements") != NULL);
    cerr_free(&err);
    wasm_instance_free(inst);
    wasm_module_free(m);
}

int main(void)
{
    RUN(locals_past_2_32_trap);
    RUN(many_locals_compile_cheaply);
    RUN(locals_at_the_limit);
    RUN(huge_table_fails_cleanly);
    return UNIT_DONE();
}
