/* The executing half of the spec-suite runner: instantiates modules against
 * the `spectest` host module and the registered ones, and checks
 * assert_return, assert_trap, assert_exhaustion, assert_unlinkable and
 * assert_uninstantiable. */
#define _GNU_SOURCE
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "level/wasm/decode.h"
#include "level/wasm/runtime.h"
#include "level/wasm/validate.h"
#include "spec.h"

/* ---- spectest ---- */

static const char *print_fn(void *ctx, struct wasm_memory *mem, wasm_val *sp)
{
    (void)ctx, (void)mem, (void)sp;
    return NULL;
}

/* The host module, made afresh for every script, as the reference
 * interpreter does: its table and memory start empty. */
struct spectest {
    bool ready;
    struct wasm_func *print[7];
    struct wasm_globalvar g_i32, g_i64, g_f32, g_f64;
    struct wasm_table *table;
    struct wasm_memory *memory;
};

static const char *const print_names[7] = {
    "print", "print_i32", "print_i64", "print_f32", "print_f64", "print_i32_f32", "print_f64_f64"};
static const char *const print_sigs[7] = {":", "i:", "I:", "f:", "F:", "if:", "FF:"};

static void spectest_init(struct spectest *st)
{
#define spectest (*st)
    if (spectest.ready)
        return;
    cerr_t err = NULL;
    for (int i = 0; i < 7; i++)
        spectest.print[i] = wasm_host_func_new(print_sigs[i], print_fn, NULL);
    spectest.g_i32 = (struct wasm_globalvar){.val = {{.i32 = 666}}, .type = WASM_I32};
    spectest.g_i64 = (struct wasm_globalvar){.val = {{.i64 = 666}}, .type = WASM_I64};
    spectest.g_f32 = (struct wasm_globalvar){.val = {{.f32 = 666.6f}}, .type = WASM_F32};
    spectest.g_f64 = (struct wasm_globalvar){.val = {{.f64 = 666.6}}, .type = WASM_F64};
    spectest.table = wasm_table_new(WASM_FUNCREF, 10, 20, true, &err);
    spectest.memory = wasm_memory_new(1, 2, true, &err);
    cerr_free(&err);
    spectest.ready = true;
#undef spectest
}

static void spectest_free(struct spectest *st)
{
    for (int i = 0; i < 7; i++)
        wasm_host_func_free(st->print[i]);
    wasm_table_free(st->table);
    wasm_memory_free(st->memory);
}

static int spectest_resolve(struct spectest *st, const char *name, struct wasm_extern *out)
{
#define spectest (*st)
    spectest_init(st);
    for (int i = 0; i < 7; i++)
        if (strcmp(name, print_names[i]) == 0) {
            out->kind = WASM_EXTERN_FUNC;
            out->u.func = spectest.print[i];
            return 0;
        }
    struct {
        const char *name;
        struct wasm_globalvar *g;
    } globals[] = {{"global_i32", &spectest.g_i32},
                   {"global_i64", &spectest.g_i64},
                   {"global_f32", &spectest.g_f32},
                   {"global_f64", &spectest.g_f64}};
    for (size_t i = 0; i < 4; i++)
        if (strcmp(name, globals[i].name) == 0) {
            out->kind = WASM_EXTERN_GLOBAL;
            out->u.global = globals[i].g;
            return 0;
        }
    if (strcmp(name, "table") == 0) {
        out->kind = WASM_EXTERN_TABLE;
        out->u.table = spectest.table;
        return 0;
    }
    if (strcmp(name, "memory") == 0) {
        out->kind = WASM_EXTERN_MEMORY;
        out->u.memory = spectest.memory;
        return 0;
    }
    return -1;
#undef spectest
}

struct named {
    char *name;
    struct wasm_instance *inst;
};

struct loaded {
    struct wasm_module *m;
    char *bytes;
    struct wasm_instance *inst;
};

struct spec_exec {
    struct spectest spectest;
    struct loaded *mods; /* kept until the file is done: instances refer to each other */
    size_t nmods;
    struct wasm_instance *current; /* NULL: the last module failed */
    struct named *names, *registered;
    size_t nnames, nregistered;
};

static struct wasm_instance *find(struct named *v, size_t n, const char *name)
{
    for (size_t i = n; i > 0; i--)
        if (strcmp(v[i - 1].name, name) == 0)
            return v[i - 1].inst;
    return NULL;
}

static int resolve(void *ctx, const char *module, const char *name, struct wasm_extern *out)
{
    struct spec_exec *x = ctx;
    if (strcmp(module, "spectest") == 0)
        return spectest_resolve(&x->spectest, name, out);
    struct wasm_instance *in = find(x->registered, x->nregistered, module);
    const struct wasm_extern *e = in ? wasm_instance_export(in, name) : NULL;
    if (e == NULL)
        return -1;
    *out = *e;
    return 0;
}

/* ---- modules ---- */

struct spec_exec *spec_exec_new(void)
{
    return calloc(1, sizeof(struct spec_exec));
}

void spec_exec_free(struct spec_exec *x)
{
    if (x == NULL)
        return;
    /* Instances may hold functions of each other (tables): free them only
     * once nothing runs any more. */
    for (size_t i = 0; i < x->nmods; i++) {
        wasm_instance_free(x->mods[i].inst);
        wasm_module_free(x->mods[i].m);
        free(x->mods[i].bytes);
    }
    for (size_t i = 0; i < x->nnames; i++)
        free(x->names[i].name);
    for (size_t i = 0; i < x->nregistered; i++)
        free(x->registered[i].name);
    spectest_free(&x->spectest);
    free(x->mods);
    free(x->names);
    free(x->registered);
    free(x);
}

static void add_name(struct named **v, size_t *n, const char *name, struct wasm_instance *in)
{
    *v = realloc(*v, (*n + 1) * sizeof(**v));
    (*v)[*n].name = xstrdup(name);
    (*v)[(*n)++].inst = in;
}

int spec_exec_instantiate(struct spec_exec *x, const char *path, const char *name, cerr_t *err)
{
    size_t len = 0;
    char *bytes = read_file(path, &len, err);
    if (bytes == NULL)
        return SPEC_LOAD_ERROR;
    struct wasm_module *m = wasm_decode((const uint8_t *)bytes, len, err);
    if (m == NULL || wasm_validate(m, (const uint8_t *)bytes, err) < 0) {
        wasm_module_free(m);
        free(bytes);
        return SPEC_LOAD_ERROR;
    }
    struct wasm_instance *in = wasm_instantiate(m, resolve, x, err);
    x->mods = realloc(x->mods, (x->nmods + 1) * sizeof(*x->mods));
    x->mods[x->nmods++] = (struct loaded){m, bytes, in};
    if (in == NULL) {
        int code = cerr_code(*err);
        return code == CERR_WASM_LINK   ? SPEC_LINK_ERROR
               : code == CERR_WASM_TRAP ? SPEC_TRAP
                                        : SPEC_LOAD_ERROR;
    }
    if (name != NULL)
        add_name(&x->names, &x->nnames, name, in);
    return SPEC_OK;
}

void spec_exec_set_current(struct spec_exec *x, bool ok)
{
    x->current = ok && x->nmods > 0 ? x->mods[x->nmods - 1].inst : NULL;
}

int spec_exec_register(struct spec_exec *x, const char *as, const char *name)
{
    struct wasm_instance *in = name ? find(x->names, x->nnames, name) : x->current;
    if (in == NULL)
        return -1;
    add_name(&x->registered, &x->nregistered, as, in);
    return 0;
}

/* ---- values ---- */

static uint8_t type_code(const char *t)
{
    if (strcmp(t, "i32") == 0)
        return WASM_I32;
    if (strcmp(t, "i64") == 0)
        return WASM_I64;
    if (strcmp(t, "f32") == 0)
        return WASM_F32;
    if (strcmp(t, "f64") == 0)
        return WASM_F64;
    if (strcmp(t, "funcref") == 0)
        return WASM_FUNCREF;
    if (strcmp(t, "externref") == 0)
        return WASM_EXTERNREF;
    return 0;
}

/* An argument value; externref N is the pointer N+1 (ref.null: NULL). */
static int parse_value(json_t *v, wasm_val *out)
{
    const char *type = json_string_value(json_object_get(v, "type"));
    const char *val = json_string_value(json_object_get(v, "value"));
    uint8_t t = type ? type_code(type) : 0;
    if (t == 0 || val == NULL)
        return -1;
    out->bits = 0;
    if (t == WASM_FUNCREF || t == WASM_EXTERNREF) {
        if (strcmp(val, "null") == 0)
            out->ref = NULL;
        else
            out->ref = (void *)(uintptr_t)(strtoull(val, NULL, 10) + 1);
        return 0;
    }
    out->bits = strtoull(val, NULL, 10);
    return 0;
}

static bool nan_matches(const char *kind, uint64_t bits, bool f32)
{
    uint64_t exp = f32 ? 0x7F800000u : 0x7FF0000000000000ull;
    uint64_t quiet = f32 ? 0x00400000u : 0x0008000000000000ull;
    uint64_t frac = f32 ? 0x007FFFFFu : 0x000FFFFFFFFFFFFFull;
    if ((bits & exp) != exp || (bits & frac) == 0)
        return false;
    if (strcmp(kind, "nan:canonical") == 0)
        return (bits & frac) == quiet;
    return (bits & quiet) != 0; /* nan:arithmetic */
}

static bool value_matches(json_t *want, wasm_val got)
{
    const char *type = json_string_value(json_object_get(want, "type"));
    const char *val = json_string_value(json_object_get(want, "value"));
    uint8_t t = type ? type_code(type) : 0;
    switch (t) {
    case WASM_I32:
        return val && (uint32_t)strtoull(val, NULL, 10) == got.i32;
    case WASM_I64:
        return val && strtoull(val, NULL, 10) == got.i64;
    case WASM_F32:
        if (val && strncmp(val, "nan:", 4) == 0)
            return nan_matches(val, got.i32, true);
        return val && (uint32_t)strtoull(val, NULL, 10) == got.i32;
    case WASM_F64:
        if (val && strncmp(val, "nan:", 4) == 0)
            return nan_matches(val, got.i64, false);
        return val && strtoull(val, NULL, 10) == got.i64;
    case WASM_FUNCREF:
    case WASM_EXTERNREF:
        if (val == NULL)
            return got.ref != NULL; /* any non-null reference */
        if (strcmp(val, "null") == 0)
            return got.ref == NULL;
        return t == WASM_EXTERNREF && got.ref == (void *)(uintptr_t)(strtoull(val, NULL, 10) + 1);
    }
    return false;
}

/* ---- actions ---- */

static bool uses_v128(json_t *list)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        const char *t = json_string_value(json_object_get(v, "type"));
        if (t != NULL && strcmp(t, "v128") == 0)
            return true;
    }
    return false;
}

/* Run an action: SPEC_OK with results, SPEC_TRAP with *trap, SPEC_SKIP or
 * SPEC_LOAD_ERROR (*trap then says why). */
static int run_action(struct spec_exec *x, json_t *action, wasm_val *results, size_t *nresults,
                      const char **trap)
{
    const char *type = json_string_value(json_object_get(action, "type"));
    const char *modname = json_string_value(json_object_get(action, "module"));
    const char *field = json_string_value(json_object_get(action, "field"));
    json_t *args = json_object_get(action, "args");
    if (type == NULL || field == NULL)
        return SPEC_SKIP;
    if (uses_v128(args)) {
        *trap = "v128 arguments";
        return SPEC_SKIP;
    }
    struct wasm_instance *in = modname ? find(x->names, x->nnames, modname) : x->current;
    if (in == NULL) {
        *trap = "no module instance (it failed to load)";
        return SPEC_LOAD_ERROR;
    }
    const struct wasm_extern *e =
        wasm_instance_export_n(in, field, json_string_length(json_object_get(action, "field")));
    if (e == NULL) {
        *trap = "no such export";
        return SPEC_LOAD_ERROR;
    }
    if (strcmp(type, "get") == 0) {
        if (e->kind != WASM_EXTERN_GLOBAL)
            return SPEC_LOAD_ERROR;
        results[0] = e->u.global->val[0];
        *nresults = 1;
        return SPEC_OK;
    }
    if (e->kind != WASM_EXTERN_FUNC || json_array_size(args) > 64)
        return SPEC_LOAD_ERROR;
    wasm_val argv[64];
    size_t i;
    json_t *a;
    json_array_foreach(args, i, a)
    {
        if (parse_value(a, &argv[i]) < 0)
            return SPEC_SKIP;
    }
    const struct wasm_sig *sig = e->u.func->sig;
    if (sig->result_cells > 64)
        return SPEC_SKIP;
    *trap = wasm_call(e->u.func, argv, results);
    *nresults = sig->result_cells;
    /* Functions compile on their first call: what the interpreter lacks
     * (SIMD) shows up as a trap, and is skipped, not failed. */
    if (*trap != NULL && strstr(*trap, "not supported by the interpreter") != NULL)
        return SPEC_SKIP;
    return *trap ? SPEC_TRAP : SPEC_OK;
}

int spec_exec_assert(struct spec_exec *x, json_t *cmd, const char **why)
{
    const char *type = json_string_value(json_object_get(cmd, "type"));
    json_t *action = json_object_get(cmd, "action");
    json_t *expected = json_object_get(cmd, "expected");
    const char *text = json_string_value(json_object_get(cmd, "text"));
    if (uses_v128(expected)) {
        *why = "v128 results";
        return SPEC_SKIP;
    }
    wasm_val results[64];
    size_t n = 0;
    const char *trap = NULL;
    int rc = run_action(x, action, results, &n, &trap);
    if (rc == SPEC_SKIP || rc == SPEC_LOAD_ERROR) {
        *why = trap ? trap : "unsupported action";
        return rc;
    }
    if (strcmp(type, "action") == 0) {
        *why = trap;
        return rc == SPEC_OK ? SPEC_OK : SPEC_FAIL;
    }
    if (strcmp(type, "assert_return") == 0) {
        if (rc != SPEC_OK) {
            *why = trap;
            return SPEC_FAIL;
        }
        if (json_array_size(expected) != n) {
            *why = "wrong number of results";
            return SPEC_FAIL;
        }
        size_t i;
        json_t *want;
        json_array_foreach(expected, i, want)
        {
            if (!value_matches(want, results[i])) {
                static char buf[128];
                snprintf(buf, sizeof(buf), "result %zu: got 0x%llx", i,
                         (unsigned long long)results[i].bits);
                *why = buf;
                return SPEC_FAIL;
            }
        }
        return SPEC_OK;
    }
    /* assert_trap, assert_exhaustion */
    if (rc != SPEC_TRAP) {
        *why = "returned, a trap was expected";
        return SPEC_FAIL;
    }
    if (text != NULL && strncmp(trap, text, strlen(text)) != 0) {
        *why = trap;
        return SPEC_FAIL;
    }
    return SPEC_OK;
}
