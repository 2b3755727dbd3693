/* libFuzzer harness of the wasm load path: decode, validate, instantiate
 * (every import satisfied from the module's own import descriptions), then
 * compile (and translate, with the JIT on) every defined function. A malformed or invalid module
 * must fail with a message; a valid one must instantiate (or fail to link, trap in its segments, or
 * lack an interpreter feature: v128) and its functions must compile (v128 and SIMD aside).
 *
 * Code runs only where it cannot hang, as the interpreter has no fuel: an
 * exported function (or the start function) is called, with zero arguments,
 * when its body holds no byte 0x03 (loop), 0x10/0x11 (call) or 0xFC (bulk
 * memory and table operations, whose work is unbounded) anywhere, immediates
 * included; without loops and calls every branch goes forward, so a call
 * runs at most as many instructions as the body has. With FUZZ_RUN=1 in the
 * environment, the start function and every export are also run in a forked
 * child under alarm(1) (crashes there are found, but give no coverage).
 *
 *   make fuzz-wasm-instantiate
 *   build/fuzz_instantiate -max_total_time=600 -rss_limit_mb=4096 -timeout=10 CORPUS_DIR
 *   (seed: the spec tests' .wasm files) */
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/error.h"
#include "fuzz_input.h"
#include "level/wasm/decode.h"
#include "level/wasm/interp.h"
#include "level/wasm/validate.h"

/* Caps on what the resolver creates, to keep each input cheap. An import
 * asking for more fails to match, which is a fine outcome too. */
#define MEM_MIN_CAP   256u
#define TABLE_MIN_CAP 100000u

struct imports {
    const struct wasm_module *m;
    struct wasm_extern *ext; /* one per import, kind 0xFF when not created */
    struct wasm_globalvar *globals;
    uint32_t next; /* imports are resolved in module order */
};

static bool run_forked;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *e = getenv("FUZZ_RUN");
    run_forked = e != NULL && strcmp(e, "1") == 0;
    /* every compiled function also goes through the JIT (unless
     * CELLA_WASM_JIT says otherwise, e.g. tiered with CELLA_WASM_JIT_HOT=2
     * to fuzz the loop-head entries) */
    setenv("CELLA_WASM_JIT", "eager", 0);
    return 0;
}

static const char *zero_results(void *ctx, struct wasm_memory *mem, wasm_val *sp)
{
    const struct wasm_sig *s = ctx;
    (void)mem;
    memset(sp, 0, s->result_cells * sizeof(*sp));
    return NULL;
}

static char sig_char(uint8_t t)
{
    switch (t) {
    case WASM_I32:
        return 'i';
    case WASM_I64:
        return 'I';
    case WASM_F32:
        return 'f';
    case WASM_F64:
        return 'F';
    case WASM_V128:
        return 'v';
    case WASM_FUNCREF:
        return 'r';
    case WASM_EXTERNREF:
        return 'e';
    }
    abort(); /* the validator lets no other type through */
}

/* A host function of type x, or NULL when its signature is too long for
 * wasm_sig_parse. */
static struct wasm_func *host_func(const struct wasm_module *m, uint32_t x)
{
    const struct wasm_functype *ft = &m->types[x];
    char sig[80];
    size_t n = 0;
    if (ft->params.len + ft->results.len > 64)
        return NULL;
    for (size_t i = 0; i < ft->params.len; i++)
        sig[n++] = sig_char(m->buf[ft->params.off + i]);
    sig[n++] = ':';
    for (size_t i = 0; i < ft->results.len; i++)
        sig[n++] = sig_char(m->buf[ft->results.off + i]);
    sig[n] = '\0';
    const struct wasm_sig *s = wasm_sig_parse(sig);
    if (s == NULL)
        abort();
    struct wasm_func *f = wasm_host_func_new(sig, zero_results, (void *)s);
    if (f == NULL || f->sig != s)
        abort();
    return f;
}

static void make_imports(struct imports *im)
{
    const struct wasm_module *m = im->m;
    for (uint32_t i = 0; i < m->nimports; i++) {
        const struct wasm_import *x = &m->imports[i];
        struct wasm_extern *e = &im->ext[i];
        cerr_t err = NULL;
        e->kind = 0xFF;
        switch (x->kind) {
        case WASM_EXTERN_FUNC:
            e->u.func = host_func(m, x->desc.func_type);
            break;
        case WASM_EXTERN_TABLE: {
            const struct wasm_limits *l = &x->desc.table.limits;
            uint32_t min = l->min < TABLE_MIN_CAP ? l->min : TABLE_MIN_CAP;
            e->u.table = wasm_table_new(x->desc.table.reftype, min, l->max, l->has_max, &err);
            break;
        }
        case WASM_EXTERN_MEMORY: {
            const struct wasm_limits *l = &x->desc.memory;
            uint32_t min = l->min < MEM_MIN_CAP ? l->min : MEM_MIN_CAP;
            e->u.memory = wasm_memory_new(min, l->max, l->has_max, &err);
            break;
        }
        case WASM_EXTERN_GLOBAL:
            e->u.global = &im->globals[i];
            e->u.global->type = x->desc.global.valtype;
            e->u.global->mut = x->desc.global.mut;
            break;
        default:
            abort();
        }
        cerr_free(&err);
        if (e->u.func != NULL) /* any member: they share the pointer */
            e->kind = x->kind;
    }
}

static void free_imports(struct imports *im)
{
    for (uint32_t i = 0; i < im->m->nimports; i++) {
        struct wasm_extern *e = &im->ext[i];
        switch (e->kind) {
        case WASM_EXTERN_FUNC:
            wasm_host_func_free(e->u.func);
            break;
        case WASM_EXTERN_TABLE:
            wasm_table_free(e->u.table);
            break;
        case WASM_EXTERN_MEMORY:
            wasm_memory_free(e->u.memory);
            break;
        }
    }
}

static bool span_is(const struct wasm_module *m, struct wasm_span s, const char *str)
{
    return s.len == strlen(str) && memcmp(m->buf + s.off, str, s.len) == 0;
}

static int resolve(void *ctx, const char *module, const char *name, struct wasm_extern *out)
{
    struct imports *im = ctx;
    if (im->next >= im->m->nimports)
        abort(); /* asked for more imports than the module has */
    uint32_t i = im->next++;
    const struct wasm_import *x = &im->m->imports[i];
    /* Names may hold NUL bytes: the strings passed stop at the first. */
    if (!span_is(im->m, x->module, module) &&
        memchr(im->m->buf + x->module.off, 0, x->module.len) == NULL)
        abort();
    if (!span_is(im->m, x->name, name) && memchr(im->m->buf + x->name.off, 0, x->name.len) == NULL)
        abort();
    if (im->ext[i].kind == 0xFF)
        return -1;
    *out = im->ext[i];
    return 0;
}

/* Whether calling f cannot run for long: see the top of the file. */
static bool bounded(const struct wasm_func *f)
{
    if (f->inst == NULL)
        return true; /* ours: writes zeros */
    const struct wasm_module *m = f->inst->m;
    struct wasm_span b = m->codes[f->code->index - f->inst->nfuncs_imported].body;
    const uint8_t *p = m->buf + b.off;
    for (size_t i = 0; i < b.len; i++)
        if (p[i] == 0x03 || p[i] == 0x10 || p[i] == 0x11 || p[i] == 0xFC)
            return false;
    return true;
}

static void call_zero(struct wasm_func *f)
{
    static wasm_val args[1024], results[1024]; /* a type has < 1000 params/results */
    if (f->sig->param_cells > 1024 || f->sig->result_cells > 1024)
        return;
    memset(args, 0, f->sig->param_cells * sizeof(wasm_val));
    (void)wasm_call(f, args, results);
}

/* The start function and every exported function, in a child that a
 * second ends. The child's crash is reported as the parent's. */
static void run_all_forked(struct wasm_instance *inst, const struct wasm_module *m, bool has_start,
                           uint32_t start)
{
    pid_t pid = fork();
    if (pid < 0)
        return;
    if (pid == 0) {
        signal(SIGALRM, SIG_DFL); /* not libFuzzer's timeout handler */
        alarm(1);
        const char *trap = has_start ? wasm_call(inst->funcs[start], NULL, NULL) : NULL;
        for (uint32_t i = 0; trap == NULL && i < m->nexports; i++)
            if (inst->exports[i].kind == WASM_EXTERN_FUNC)
                call_zero(inst->exports[i].u.func);
        _exit(0);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        ;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return;
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
        return; /* a loop, most likely */
    fprintf(stderr, "fuzz_instantiate: the forked run failed (status 0x%x)\n", status);
    abort();
}

static bool allowed_compile_error(const char *msg)
{
    return msg != NULL && (strstr(msg, "v128") != NULL || strstr(msg, "SIMD") != NULL);
}

static void instantiate(struct wasm_module *m)
{
    struct imports im = {.m = m};
    im.ext = calloc(m->nimports + 1, sizeof(*im.ext));
    im.globals = calloc(m->nimports + 1, sizeof(*im.globals));
    if (im.ext == NULL || im.globals == NULL)
        abort();
    make_imports(&im);

    /* The start function is the harness's to run (or not), see the top. */
    bool has_start = m->has_start;
    uint32_t start = m->start;
    m->has_start = false;

    cerr_t err = NULL;
    struct wasm_instance *inst = wasm_instantiate(m, resolve, &im, &err);
    if (inst == NULL) {
        const char *msg = cerr_msg(err);
        if (msg == NULL)
            abort(); /* a failure must say why */
        int code = cerr_code(err);
        /* Linking may fail on the caps above, segments may trap, memory
         * may run out; anything else is a bug for a valid module. */
        if (code != CERR_WASM_LINK && code != CERR_WASM_TRAP && err->errnum == 0 &&
            strstr(msg, "v128") == NULL) {
            fprintf(stderr, "fuzz_instantiate: instantiation failed: %s\n", msg);
            abort();
        }
        cerr_free(&err);
        goto out;
    }
    if (im.next != m->nimports)
        abort();

    for (uint32_t i = inst->nfuncs_imported; i < inst->nfuncs; i++) {
        if (inst->codes[i - inst->nfuncs_imported].code != NULL)
            continue;
        if (wasm_compile(inst, i, &err) < 0) {
            if (!allowed_compile_error(cerr_msg(err)) && err->errnum == 0) {
                fprintf(stderr, "fuzz_instantiate: function %u does not compile: %s\n", i,
                        cerr_msg(err));
                abort();
            }
            cerr_free(&err);
        }
    }

    if (has_start && bounded(inst->funcs[start]))
        (void)wasm_call(inst->funcs[start], NULL, NULL);
    for (uint32_t i = 0; i < m->nexports; i++)
        if (inst->exports[i].kind == WASM_EXTERN_FUNC && bounded(inst->exports[i].u.func))
            call_zero(inst->exports[i].u.func);
    if (run_forked)
        run_all_forked(inst, m, has_start, start);

    wasm_instance_free(inst);
out:
    free_imports(&im);
    free(im.ext);
    free(im.globals);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf;
    struct wasm_module *m = fuzz_decode_input(data, size, &buf);
    cerr_t err = NULL;
    if (m == NULL) {
        /* malformed: fuzz_decode_input checked the message */
    } else if (wasm_validate(m, buf, &err) < 0) {
        if (err == NULL || cerr_msg(err) == NULL)
            abort();
        wasm_module_free(m);
    } else {
        instantiate(m);
        wasm_module_free(m);
    }
    cerr_free(&err);
    free(buf);
    return 0;
}
