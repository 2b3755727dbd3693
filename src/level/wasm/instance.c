/* Instantiation (core spec 2.0, 4.5.4): resolve and match the imports,
 * allocate functions, tables, memories and globals, apply the active
 * segments in order, run the start function. Functions are compiled on
 * their first call (interp.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "level/wasm/interp.h"
#include "level/wasm/reader.h"

static char *span_str(const struct wasm_module *m, struct wasm_span s)
{
    char *p = malloc(s.len + 1);
    if (p != NULL) {
        memcpy(p, m->buf + s.off, s.len);
        p[s.len] = '\0';
    }
    return p;
}

static const struct wasm_sig *type_sig(const struct wasm_module *m, uint32_t x)
{
    const struct wasm_functype *ft = &m->types[x];
    return wasm_sig_intern(m->buf + ft->params.off, (uint32_t)ft->params.len,
                           m->buf + ft->results.off, (uint32_t)ft->results.len);
}

int wasm_const_eval(const struct wasm_instance *inst, struct wasm_span expr, wasm_val *out,
                    cerr_t *err)
{
    const struct wasm_module *m = inst->m;
    struct rd r = {m->buf + expr.off, m->buf + expr.off + expr.len};
    out->bits = 0;
    uint8_t op = rd_byte(&r);
    switch (op) {
    case 0x41:
        out->bits = (uint32_t)rd_leb(&r, true);
        break;
    case 0x42:
        out->bits = rd_leb(&r, true);
        break;
    case 0x43:
    case 0x44:
        if ((size_t)(r.end - r.p) >= (op == 0x43 ? 4u : 8u))
            memcpy(&out->bits, r.p, op == 0x43 ? 4 : 8);
        break;
    case 0xD0:
        out->ref = NULL;
        break;
    case 0xD2:
        out->ref = inst->funcs[rd_u32(&r)];
        break;
    case 0x23:
        *out = inst->globals[rd_u32(&r)]->val[0];
        break;
    default:
        return cerr_set(err, 0, "unsupported constant expression 0x%02X", op);
    }
    return 0;
}

static bool limits_match(uint32_t have_min, uint32_t have_max, bool have_has_max,
                         const struct wasm_limits *want)
{
    if (have_min < want->min)
        return false;
    if (want->has_max && (!have_has_max || have_max > want->max))
        return false;
    return true;
}

/* Does the external value e match import im (spec 4.5.3, import matching)? */
static bool import_matches(const struct wasm_module *m, const struct wasm_import *im,
                           const struct wasm_extern *e)
{
    if (e->kind != im->kind)
        return false;
    switch (im->kind) {
    case WASM_EXTERN_FUNC:
        return e->u.func->sig == type_sig(m, im->desc.func_type);
    case WASM_EXTERN_TABLE:
        return e->u.table->reftype == im->desc.table.reftype &&
               limits_match(e->u.table->size, e->u.table->max, e->u.table->has_max,
                            &im->desc.table.limits);
    case WASM_EXTERN_MEMORY:
        return limits_match(e->u.memory->pages, e->u.memory->max, e->u.memory->has_max,
                            &im->desc.memory);
    case WASM_EXTERN_GLOBAL:
        return e->u.global->type == im->desc.global.valtype &&
               e->u.global->mut == im->desc.global.mut;
    }
    return false;
}

static int link_imports(struct wasm_instance *in, wasm_resolve_fn resolve, void *rctx, cerr_t *err)
{
    const struct wasm_module *m = in->m;
    for (uint32_t i = 0; i < m->nimports; i++) {
        const struct wasm_import *im = &m->imports[i];
        autofree char *mod = span_str(m, im->module);
        autofree char *name = span_str(m, im->name);
        struct wasm_extern e = {0};
        if (mod == NULL || name == NULL)
            return cerr_set(err, ENOMEM, "import");
        if (resolve == NULL || resolve(rctx, mod, name, &e) < 0) {
            cerr_set(err, 0, "unknown import \"%s\".\"%s\"", mod, name);
            (*err)->code = CERR_WASM_LINK;
            return -1;
        }
        if (!import_matches(m, im, &e)) {
            cerr_set(err, 0, "incompatible import type for \"%s\".\"%s\"", mod, name);
            (*err)->code = CERR_WASM_LINK;
            return -1;
        }
        switch (im->kind) {
        case WASM_EXTERN_FUNC:
            in->funcs[in->nfuncs_imported++] = e.u.func;
            break;
        case WASM_EXTERN_TABLE:
            in->tables[in->ntables_imported++] = e.u.table;
            break;
        case WASM_EXTERN_MEMORY:
            in->mems[in->nmems_imported++] = e.u.memory;
            break;
        case WASM_EXTERN_GLOBAL:
            in->globals[in->nglobals_imported++] = e.u.global;
            break;
        }
    }
    return 0;
}

static int count_imports(const struct wasm_module *m, uint8_t kind)
{
    int n = 0;
    for (uint32_t i = 0; i < m->nimports; i++)
        n += m->imports[i].kind == kind;
    return n;
}

static int alloc_objects(struct wasm_instance *in, cerr_t *err)
{
    const struct wasm_module *m = in->m;
    for (uint32_t i = 0; i < m->nfuncs; i++) {
        struct wasm_func *f = &in->own_funcs[i];
        f->sig = type_sig(m, m->funcs[i]);
        f->inst = in;
        f->code = &in->codes[i];
        in->codes[i].index = in->nfuncs_imported + i;
        in->funcs[in->nfuncs_imported + i] = f;
    }
    for (uint32_t i = 0; i < m->ntables; i++) {
        const struct wasm_tabletype *t = &m->tables[i];
        in->tables[in->ntables_imported + i] =
            wasm_table_new(t->reftype, t->limits.min, t->limits.max, t->limits.has_max, err);
        if (in->tables[in->ntables_imported + i] == NULL)
            return -1;
    }
    for (uint32_t i = 0; i < m->nmemories; i++) {
        const struct wasm_limits *l = &m->memories[i];
        in->mems[in->nmems_imported + i] = wasm_memory_new(l->min, l->max, l->has_max, err);
        if (in->mems[in->nmems_imported + i] == NULL)
            return -1;
    }
    in->mem0 = (in->nmems_imported + m->nmemories) > 0 ? in->mems[0] : NULL;
    for (uint32_t i = 0; i < m->nglobals; i++) {
        struct wasm_globalvar *g = &in->own_globals[i];
        g->type = m->globals[i].type.valtype;
        g->mut = m->globals[i].type.mut;
        if (g->type == WASM_V128)
            return cerr_set(err, 0, "global %u: v128 is not supported by the interpreter yet", i);
        if (wasm_const_eval(in, m->globals[i].init, &g->val[0], err) < 0)
            return -1;
        in->globals[in->nglobals_imported + i] = g;
    }
    for (uint32_t i = 0; i < m->ndatas; i++) {
        in->datas[i].bytes = m->buf + m->datas[i].bytes.off;
        in->datas[i].len = (uint32_t)m->datas[i].bytes.len;
    }
    for (uint32_t i = 0; i < m->nelems; i++) {
        const struct wasm_elem *e = &m->elems[i];
        in->elems[i].len = e->count;
        if (e->count == 0)
            continue;
        in->elems[i].refs = calloc(e->count, sizeof(void *));
        if (in->elems[i].refs == NULL)
            return cerr_set(err, ENOMEM, "element segment %u", i);
        for (uint32_t k = 0; k < e->count; k++) {
            wasm_val v;
            if (e->uses_exprs) {
                if (wasm_const_eval(in, e->exprs[k], &v, err) < 0)
                    return -1;
            } else {
                v.ref = in->funcs[e->funcs[k]];
            }
            in->elems[i].refs[k] = v.ref;
        }
    }
    return 0;
}

static int make_exports(struct wasm_instance *in, cerr_t *err)
{
    const struct wasm_module *m = in->m;
    for (uint32_t i = 0; i < m->nexports; i++) {
        const struct wasm_export *x = &m->exports[i];
        struct wasm_extern *e = &in->exports[i];
        in->export_names[i] = span_str(m, x->name);
        if (in->export_names[i] == NULL)
            return cerr_set(err, ENOMEM, "export");
        e->kind = x->kind;
        switch (x->kind) {
        case WASM_EXTERN_FUNC:
            e->u.func = in->funcs[x->index];
            break;
        case WASM_EXTERN_TABLE:
            e->u.table = in->tables[x->index];
            break;
        case WASM_EXTERN_MEMORY:
            e->u.memory = in->mems[x->index];
            break;
        case WASM_EXTERN_GLOBAL:
            e->u.global = in->globals[x->index];
            break;
        }
    }
    return 0;
}

static int trap_error(cerr_t *err, const char *trap)
{
    cerr_set(err, 0, "%s", trap);
    (*err)->code = CERR_WASM_TRAP;
    return -1;
}

/* Active segments in module order (elements, then data), each dropped
 * after use; declarative element segments are dropped too. */
static int init_segments(struct wasm_instance *in, cerr_t *err)
{
    const struct wasm_module *m = in->m;
    for (uint32_t i = 0; i < m->nelems; i++) {
        const struct wasm_elem *e = &m->elems[i];
        if (e->mode == WASM_SEG_ACTIVE) {
            wasm_val off;
            if (wasm_const_eval(in, e->offset, &off, err) < 0)
                return -1;
            struct wasm_table *t = in->tables[e->table];
            uint64_t d = off.i32;
            if (d > t->size || e->count > t->size - d)
                return trap_error(err, "out of bounds table access");
            if (e->count > 0)
                memcpy(t->elems + d, in->elems[i].refs, e->count * sizeof(void *));
        }
        if (e->mode != WASM_SEG_PASSIVE)
            in->elems[i].len = 0;
    }
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const struct wasm_data *d = &m->datas[i];
        if (d->mode != WASM_SEG_ACTIVE)
            continue;
        wasm_val off;
        if (wasm_const_eval(in, d->offset, &off, err) < 0)
            return -1;
        struct wasm_memory *mem = in->mems[d->memory];
        uint64_t at = off.i32;
        if (at > mem->size || d->bytes.len > mem->size - at)
            return trap_error(err, "out of bounds memory access");
        memcpy(mem->data + at, m->buf + d->bytes.off, d->bytes.len);
        in->datas[i].len = 0;
    }
    return 0;
}

/* An instance whose segment initialisation or start function trapped may
 * already be referenced from imported tables (its functions were written
 * there): it must stay alive, so it is kept here rather than freed. */
static struct wasm_instance **kept;
static size_t nkept;

static void keep(struct wasm_instance *in)
{
    struct wasm_instance **k = realloc(kept, (nkept + 1) * sizeof(*k));
    if (k == NULL) {
        return; /* leaked rather than freed: still safe */
    }
    kept = k;
    kept[nkept++] = in;
}

struct wasm_instance *wasm_instantiate(const struct wasm_module *m, wasm_resolve_fn resolve,
                                       void *resolve_ctx, cerr_t *err)
{
    struct wasm_instance *in = calloc(1, sizeof(*in));
    if (in == NULL) {
        cerr_set(err, ENOMEM, "instance");
        return NULL;
    }
    in->m = m;
    uint32_t nfuncs = (uint32_t)count_imports(m, WASM_EXTERN_FUNC) + m->nfuncs;
    uint32_t ntables = (uint32_t)count_imports(m, WASM_EXTERN_TABLE) + m->ntables;
    uint32_t nmems = (uint32_t)count_imports(m, WASM_EXTERN_MEMORY) + m->nmemories;
    uint32_t nglobals = (uint32_t)count_imports(m, WASM_EXTERN_GLOBAL) + m->nglobals;
    in->nfuncs = nfuncs;
    in->funcs = calloc(nfuncs + 1, sizeof(*in->funcs));
    in->tables = calloc(ntables + 1, sizeof(*in->tables));
    in->mems = calloc(nmems + 1, sizeof(*in->mems));
    in->globals = calloc(nglobals + 1, sizeof(*in->globals));
    in->datas = calloc(m->ndatas + 1, sizeof(*in->datas));
    in->elems = calloc(m->nelems + 1, sizeof(*in->elems));
    in->exports = calloc(m->nexports + 1, sizeof(*in->exports));
    in->export_names = calloc(m->nexports + 1, sizeof(*in->export_names));
    in->own_funcs = calloc(m->nfuncs + 1, sizeof(*in->own_funcs));
    in->codes = calloc(m->nfuncs + 1, sizeof(*in->codes));
    in->own_globals = calloc(m->nglobals + 1, sizeof(*in->own_globals));
    if (!in->funcs || !in->tables || !in->mems || !in->globals || !in->datas || !in->elems ||
        !in->exports || !in->export_names || !in->own_funcs || !in->codes || !in->own_globals) {
        cerr_set(err, ENOMEM, "instance");
        goto fail;
    }
    if (link_imports(in, resolve, resolve_ctx, err) < 0 || alloc_objects(in, err) < 0 ||
        make_exports(in, err) < 0)
        goto fail;
    if (init_segments(in, err) < 0)
        goto trapped;
    if (m->has_start) {
        const char *trap = wasm_call(in->funcs[m->start], NULL, NULL);
        if (trap != NULL) {
            trap_error(err, trap);
            goto trapped;
        }
    }
    return in;
trapped:
    keep(in);
    return NULL;
fail:
    wasm_instance_free(in);
    return NULL;
}

void wasm_instance_free(struct wasm_instance *in)
{
    if (in == NULL)
        return;
    const struct wasm_module *m = in->m;
    if (in->tables != NULL)
        for (uint32_t i = 0; i < m->ntables; i++)
            wasm_table_free(in->tables[in->ntables_imported + i]);
    if (in->mems != NULL)
        for (uint32_t i = 0; i < m->nmemories; i++)
            wasm_memory_free(in->mems[in->nmems_imported + i]);
    if (in->codes != NULL)
        for (uint32_t i = 0; i < m->nfuncs; i++) {
            free(in->codes[i].code);
            free(in->codes[i].osr);
        }
    if (in->elems != NULL)
        for (uint32_t i = 0; i < m->nelems; i++)
            free(in->elems[i].refs);
    if (in->export_names != NULL)
        for (uint32_t i = 0; i < m->nexports; i++)
            free(in->export_names[i]);
    free(in->funcs);
    free(in->tables);
    free(in->mems);
    free(in->globals);
    free(in->datas);
    free(in->elems);
    free(in->exports);
    free(in->export_names);
    free(in->own_funcs);
    free(in->codes);
    free(in->own_globals);
    free(in);
}

const struct wasm_extern *wasm_instance_export_n(const struct wasm_instance *in, const char *name,
                                                 size_t len)
{
    const struct wasm_module *m = in->m;
    for (uint32_t i = 0; i < m->nexports; i++) {
        struct wasm_span s = m->exports[i].name;
        if (s.len == len && memcmp(m->buf + s.off, name, len) == 0)
            return &in->exports[i];
    }
    return NULL;
}

const struct wasm_extern *wasm_instance_export(const struct wasm_instance *in, const char *name)
{
    return wasm_instance_export_n(in, name, strlen(name));
}
