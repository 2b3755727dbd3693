/* Runtime objects that live outside any instance: interned signatures, host
 * functions, memories and tables. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "level/wasm/runtime.h"

const char WASM_TRAP_EXIT[] = "exit";

/* Interned signatures: a process-wide list, never freed (types are few). */
struct sig_node {
    struct wasm_sig sig;
    struct sig_node *next;
};
static struct sig_node *sigs;

static uint32_t cells_of(uint8_t t)
{
    return t == WASM_V128 ? 2 : 1;
}

const struct wasm_sig *wasm_sig_intern(const uint8_t *params, uint32_t nparams,
                                       const uint8_t *results, uint32_t nresults)
{
    for (struct sig_node *n = sigs; n != NULL; n = n->next) {
        if (n->sig.nparams == nparams && n->sig.nresults == nresults &&
            memcmp(n->sig.types, params, nparams) == 0 &&
            memcmp(n->sig.types + nparams, results, nresults) == 0)
            return &n->sig;
    }
    struct sig_node *n = calloc(1, sizeof(*n));
    uint8_t *types = malloc(nparams + nresults + 1);
    if (n == NULL || types == NULL)
        abort();
    memcpy(types, params, nparams);
    memcpy(types + nparams, results, nresults);
    n->sig.nparams = nparams;
    n->sig.nresults = nresults;
    for (uint32_t i = 0; i < nparams; i++)
        n->sig.param_cells += cells_of(params[i]);
    for (uint32_t i = 0; i < nresults; i++)
        n->sig.result_cells += cells_of(results[i]);
    n->sig.types = types;
    n->next = sigs;
    sigs = n;
    return &n->sig;
}

static int type_of_char(char c)
{
    switch (c) {
    case 'i':
        return WASM_I32;
    case 'I':
        return WASM_I64;
    case 'f':
        return WASM_F32;
    case 'F':
        return WASM_F64;
    case 'v':
        return WASM_V128;
    case 'r':
        return WASM_FUNCREF;
    case 'e':
        return WASM_EXTERNREF;
    default:
        return -1;
    }
}

const struct wasm_sig *wasm_sig_parse(const char *text)
{
    uint8_t types[64];
    uint32_t n = 0, nparams = 0;
    bool colon = false;
    for (const char *p = text; *p != '\0'; p++) {
        if (*p == ':' && !colon) {
            colon = true;
            nparams = n;
            continue;
        }
        int t = type_of_char(*p);
        if (t < 0 || n == sizeof(types))
            return NULL;
        types[n++] = (uint8_t)t;
    }
    if (!colon)
        return NULL;
    return wasm_sig_intern(types, nparams, types + nparams, n - nparams);
}

struct wasm_func *wasm_host_func_new(const char *sig, wasm_host_fn fn, void *ctx)
{
    const struct wasm_sig *s = wasm_sig_parse(sig);
    if (s == NULL)
        return NULL;
    struct wasm_func *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return NULL;
    f->sig = s;
    f->host = fn;
    f->host_ctx = ctx;
    return f;
}

void wasm_host_func_free(struct wasm_func *f)
{
    free(f);
}

struct wasm_memory *wasm_memory_new(uint32_t min, uint32_t max, bool has_max, cerr_t *err)
{
    uint32_t cap = has_max ? max : WASM_MAX_PAGES;
    if (min > WASM_MAX_PAGES || cap > WASM_MAX_PAGES || min > cap) {
        cerr_set(err, 0, "memory size must be at most 65536 pages (4GiB)");
        return NULL;
    }
    struct wasm_memory *m = calloc(1, sizeof(*m));
    if (m == NULL) {
        cerr_set(err, errno, "memory");
        return NULL;
    }
    /* Reserve the maximum (at least one page, so that data is never NULL);
     * untouched pages cost no memory. */
    m->reserved = (size_t)(cap ? cap : 1) * WASM_PAGE;
    void *p =
        mmap(NULL, m->reserved, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        cerr_set(err, errno, "memory of %u pages: mmap", cap);
        free(m);
        return NULL;
    }
    m->data = p;
    m->max = cap;
    m->has_max = has_max;
    if (min > 0 && wasm_memory_grow(m, min) < 0) {
        cerr_set(err, ENOMEM, "memory of %u pages", min);
        wasm_memory_free(m);
        return NULL;
    }
    return m;
}

void wasm_memory_free(struct wasm_memory *m)
{
    if (m == NULL)
        return;
    munmap(m->data, m->reserved);
    free(m);
}

int64_t wasm_memory_grow(struct wasm_memory *m, uint32_t delta)
{
    uint32_t old = m->pages;
    if (delta == 0)
        return old;
    if ((uint64_t)old + delta > m->max)
        return -1;
    uint64_t size = (uint64_t)(old + delta) * WASM_PAGE;
    if (mprotect(m->data + m->size, size - m->size, PROT_READ | PROT_WRITE) < 0)
        return -1;
    m->pages = old + delta;
    m->size = size;
    return old;
}

/* Tables grow in the heap; a limit of 10 million elements keeps a hostile
 * module's table.grow from eating the host's memory (a failed grow is -1). */
#define TABLE_GROW_CAP 10000000u

struct wasm_table *wasm_table_new(uint8_t reftype, uint32_t min, uint32_t max, bool has_max,
                                  cerr_t *err)
{
    /* The same limit holds for a declared minimum: otherwise a module of a
     * few bytes, (table 0xFFFFFFFF funcref), has the host allocate 32 GiB
     * (found with tests/conformance/fuzz_instantiate.c). */
    if (min > TABLE_GROW_CAP) {
        cerr_set(err, ENOMEM, "table of %u elements (at most %u)", min, TABLE_GROW_CAP);
        return NULL;
    }
    struct wasm_table *t = calloc(1, sizeof(*t));
    if (t == NULL || (min > 0 && (t->elems = calloc(min, sizeof(void *))) == NULL)) {
        cerr_set(err, errno, "table of %u elements", min);
        free(t);
        return NULL;
    }
    t->size = min;
    t->max = has_max ? max : UINT32_MAX;
    t->has_max = has_max;
    t->reftype = reftype;
    return t;
}

void wasm_table_free(struct wasm_table *t)
{
    if (t == NULL)
        return;
    free(t->elems);
    free(t);
}

int64_t wasm_table_grow(struct wasm_table *t, uint32_t delta, void *init)
{
    uint32_t old = t->size;
    if ((uint64_t)old + delta > t->max || (uint64_t)old + delta > TABLE_GROW_CAP)
        return -1;
    if (delta == 0)
        return old;
    void **e = realloc(t->elems, (size_t)(old + delta) * sizeof(void *));
    if (e == NULL)
        return -1;
    for (uint32_t i = old; i < old + delta; i++)
        e[i] = init;
    t->elems = e;
    t->size = old + delta;
    return old;
}
