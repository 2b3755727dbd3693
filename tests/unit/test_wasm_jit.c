/* The JIT's contract with the rest of the engine: translated and
 * interpreted functions call each other, see each other's memory.grow, and
 * runaway recursion in translated code (which recurses on the C stack) ends
 * in the "call stack exhausted" trap, also on a thread with a small stack;
 * in the default (tiered) mode a function is translated once hot, and a hot
 * loop carries its running activation into the translation (OSR).
 * Instruction semantics are the spec suite's job (tests/conformance, run
 * eager, tiered and without the JIT). */
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

/* Decode, validate, instantiate; compile every function when compile_all
 * (otherwise each compiles at its first call, as in a real run). */
static bool load(struct loaded *l, const uint8_t *bytes, size_t len, bool compile_all)
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
    for (uint32_t i = l->inst->nfuncs_imported; compile_all && i < l->inst->nfuncs; i++) {
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
    CHECK(load(&l, grow_in_callee, sizeof(grow_in_callee), true));
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
    CHECK(load(&l, recurse, sizeof(recurse), true));
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

/* (func (export "f") (result i32) i32.const 5)
 * (func (export "g") (result i32) (local i32)
 *   loop local.get 0 i32.const 1 i32.add local.tee 0 i32.const 3 i32.lt_u br_if 0 end
 *   local.get 0)
 * (func (export "s") (result i32) (local $i i32) (local $sum i32)
 *   loop local.get $sum local.get $i i32.add local.set $sum
 *        local.get $i i32.const 1 i32.add local.tee $i i32.const 100 i32.lt_u br_if 0 end
 *   local.get $sum) */
static const uint8_t loops[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, /* header */
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f,       /* type () -> i32 */
    0x03, 0x04, 0x03, 0x00, 0x00, 0x00,             /* funcs f, g, s */
    0x07, 0x0d, 0x03, 0x01, 'f',  0x00, 0x00, 0x01, 'g',  0x00, 0x01, 0x01, 's',
    0x00, 0x02, 0x0a, 0x3a, 0x03,                                                 /* code */
    0x04, 0x00, 0x41, 0x05, 0x0b,                                                 /* f */
    0x15, 0x01, 0x01, 0x7f, 0x03, 0x40, 0x20, 0x00, 0x41, 0x01, 0x6a, 0x22, 0x00, /* g */
    0x41, 0x03, 0x49, 0x0d, 0x00, 0x0b, 0x20, 0x00, 0x0b, 0x1d, 0x01, 0x02, 0x7f,
    0x03, 0x40, 0x20, 0x01, 0x20, 0x00, 0x6a, 0x21, 0x01, /* s */
    0x20, 0x00, 0x41, 0x01, 0x6a, 0x22, 0x00, 0x41, 0xe4, 0x00, 0x49, 0x0d, 0x00,
    0x0b, 0x20, 0x01, 0x0b,
};

static const char *call_export(struct loaded *l, const char *name, wasm_val *out)
{
    const struct wasm_extern *f = wasm_instance_export(l->inst, name);
    if (f == NULL || f->kind != WASM_EXTERN_FUNC)
        return "no such export";
    wasm_val args[1] = {{0}}, results[1] = {{0}};
    const char *t = wasm_call(f->u.func, args, results);
    *out = results[0];
    return t;
}

static void tiered_translation(void)
{
    if (!wasm_jit_enabled())
        SKIP("the JIT is off (CELLA_WASM_JIT=0 or not x86-64)");
    wasm_jit_set_mode(WASM_JIT_TIERED, 2);
    struct loaded l;
    CHECK(load(&l, loops, sizeof(loops), false));
    if (l.inst == NULL)
        return;
    wasm_val r;
    CHECK(call_export(&l, "f", &r) == NULL && r.i32 == 5);
    CHECK(l.inst->codes[0].jit == NULL); /* called once: interpreted */
    CHECK(call_export(&l, "f", &r) == NULL && r.i32 == 5);
    CHECK(l.inst->codes[0].jit != NULL); /* hot at its second call */
    CHECK(call_export(&l, "f", &r) == NULL && r.i32 == 5);
    /* g's first iteration makes it hot: the rest of the call runs translated */
    CHECK(call_export(&l, "g", &r) == NULL && r.i32 == 3);
    CHECK(l.inst->codes[1].jit != NULL && l.inst->codes[1].osr != NULL);
    CHECK(call_export(&l, "g", &r) == NULL && r.i32 == 3);
    unload(&l);

    /* s moves to machine code in the middle of its loop (iteration 50 of
     * 100), with its locals as the interpreter left them */
    wasm_jit_set_mode(WASM_JIT_TIERED, 50);
    CHECK(load(&l, loops, sizeof(loops), false));
    if (l.inst == NULL)
        return;
    CHECK(call_export(&l, "s", &r) == NULL && r.i32 == 4950);
    CHECK(l.inst->codes[2].jit != NULL);
    CHECK(call_export(&l, "s", &r) == NULL && r.i32 == 4950);
    unload(&l);
    wasm_jit_set_mode(WASM_JIT_EAGER, 1000);
}

int main(void)
{
    printf("# JIT %s\n", wasm_jit_enabled() ? "on" : "off (CELLA_WASM_JIT=0 or not x86-64)");
    if (wasm_jit_enabled())
        wasm_jit_set_mode(WASM_JIT_EAGER, 1000); /* every function below is translated */
    RUN(translated_caller_sees_callee_growth);
    RUN(runaway_recursion_traps_on_a_small_stack);
    RUN(tiered_translation);
    return UNIT_DONE();
}
