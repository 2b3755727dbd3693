/* The JIT's contract with the rest of the engine: translated and
 * interpreted functions call each other, see each other's memory.grow, and
 * runaway recursion in translated code (which recurses on the C stack) ends
 * in the "call stack exhausted" trap, also on a thread with a small stack.
 * Instruction semantics are the spec suite's job (tests/conformance, run
 * with and without the JIT). */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "level/wasm/decode.h"
#include "level/wasm/interp.h"
#include "level/wasm/jit.h"
#include "level/wasm/validate.h"
#include "unit.h"

struct loaded {
    struct wasm_module *m;
    struct wasm_instance *inst;
};

static bool load(struct loaded *l, const uint8_t *bytes, size_t len)
{
    cerr_t err = NULL;
    l->inst = NULL;
    l->m = wasm_decode(bytes, len, &err);
    if (l->m == NULL || wasm_validate(l->m, bytes, &err) < 0 ||
        (l->inst = wasm_instantiate(l->m, NULL, NULL, &err)) == NULL) {
        printf("#   %s\n", cerr_msg(err));
        cerr_free(&err);
        return false;
    }
    for (uint32_t i = l->inst->nfuncs_imported; i < l->inst->nfuncs; i++) {
        if (wasm_compile(l->inst, i, &err) < 0) {
            printf("#   %s\n", cerr_msg(err));
            cerr_free(&err);
            return false;
        }
    }
    return true;
}

static void unload(struct loaded *l)
{
    wasm_instance_free(l->inst);
    wasm_module_free(l->m);
}

/* Call export "f": its trap or NULL, its first result in *out. */
static const char *call_f(struct loaded *l, wasm_val *out)
{
    const struct wasm_extern *f = wasm_instance_export(l->inst, "f");
    if (f == NULL || f->kind != WASM_EXTERN_FUNC)
        return "no export f";
    wasm_val args[1] = {{0}}, results[1] = {{0}};
    const char *t = wasm_call(f->u.func, args, results);
    *out = results[0];
    return t;
}

/* (memory 1) (table 0 funcref)
 * (func $g (result i32) table.size 0 drop i32.const 1 memory.grow)
 * (func (export "f") (result i32)
 *   call $g drop
 *   i32.const 70000 i32.const 42 i32.store
 *   i32.const 70000 i32.load)
 * $g uses a table instruction, which the JIT leaves to the interpreter; f is
 * translated and must see the second page $g made: 42, not a trap. */
static const uint8_t grow_in_callee[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,                   /* header */
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f,                         /* type () -> i32 */
    0x03, 0x03, 0x02, 0x00, 0x00,                                     /* funcs $g, f */
    0x04, 0x04, 0x01, 0x70, 0x00, 0x00,                               /* table 0 funcref */
    0x05, 0x03, 0x01, 0x00, 0x01,                                     /* memory 1 */
    0x07, 0x05, 0x01, 0x01, 'f',  0x00, 0x01,                         /* export "f" = func 1 */
    0x0a, 0x22, 0x02,                                                 /* code */
    0x0a, 0x00, 0xfc, 0x10, 0x00, 0x1a, 0x41, 0x01, 0x40, 0x00, 0x0b, /* $g */
    0x15, 0x00, 0x10, 0x00, 0x1a, 0x41, 0xf0, 0xa2, 0x04, 0x41, 0x2a, /* f */
    0x36, 0x02, 0x00, 0x41, 0xf0, 0xa2, 0x04, 0x28, 0x02, 0x00, 0x0b,
};

static void translated_caller_sees_callee_growth(void)
{
    struct loaded l;
    CHECK(load(&l, grow_in_callee, sizeof(grow_in_callee)));
    if (l.inst == NULL)
        return;
    if (wasm_jit_enabled()) {
        CHECK(l.inst->codes[0].jit == NULL); /* $g: interpreted */
        CHECK(l.inst->codes[1].jit != NULL); /* f: translated */
    }
    wasm_val r;
    const char *t = call_f(&l, &r);
    CHECK_STR(t ? t : "", "");
    CHECK(r.i32 == 42);
    unload(&l);
}

/* (func $f (export "f") call $f): endless recursion. */
static const uint8_t recurse[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, /* header */
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00,             /* type () -> () */
    0x03, 0x02, 0x01, 0x00,                         /* func 0 */
    0x07, 0x05, 0x01, 0x01, 'f',  0x00, 0x00,       /* export "f" */
    0x0a, 0x06, 0x01, 0x04, 0x00, 0x10, 0x00, 0x0b, /* call 0 */
};

static void *recurse_thread(void *arg)
{
    struct loaded *l = arg;
    wasm_val r;
    const char *t = call_f(l, &r);
    return (void *)(t ? t : "returned");
}

/* On a thread of 1 MiB of stack (glibc's default is 8 MiB), so that the
 * floor is found from the thread's own bounds, not assumed. */
static void runaway_recursion_traps_on_a_small_stack(void)
{
    struct loaded l;
    CHECK(load(&l, recurse, sizeof(recurse)));
    if (l.inst == NULL)
        return;
    if (wasm_jit_enabled())
        CHECK(l.inst->codes[0].jit != NULL);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 1u << 20);
    pthread_t th;
    void *ret = NULL;
    CHECK(pthread_create(&th, &attr, recurse_thread, &l) == 0);
    pthread_join(th, &ret);
    pthread_attr_destroy(&attr);
    CHECK_STR((const char *)ret, "call stack exhausted");
    /* and again on this thread, whose stack is the process's */
    wasm_val r;
    CHECK_STR(call_f(&l, &r), "call stack exhausted");
    unload(&l);
}

int main(void)
{
    printf("# JIT %s\n", wasm_jit_enabled() ? "on" : "off (CELLA_WASM_JIT=0 or not x86-64)");
    RUN(translated_caller_sees_callee_growth);
    RUN(runaway_recursion_traps_on_a_small_stack);
    return UNIT_DONE();
}
