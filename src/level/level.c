#include "level/level.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define ISOLATION_ANNOTATION "run.cella.isolation"

static const struct level_entry levels[] = {
    {"container", &container_level, NULL}, {"sandbox", &sandbox_level, NULL},
    {"qemu", &qemu_level, NULL},           {"vm", NULL, "cella's own VMM level is not built yet"},
    {"wasm", &wasm_level, NULL},
};

const struct level_entry *level_table(size_t *n)
{
    *n = ARRAY_SIZE(levels);
    return levels;
}

const struct level_ops *level_find(const char *name, const char *origin, cerr_t *err)
{
    for (size_t i = 0; i < ARRAY_SIZE(levels); i++) {
        if (strcmp(levels[i].name, name) != 0)
            continue;
        if (levels[i].ops == NULL) {
            cerr_set(err, 0, "isolation level `%s` (from %s): %s", name, origin, levels[i].planned);
            return NULL;
        }
        return levels[i].ops;
    }
    cerr_set(err, 0,
             "unknown isolation level `%s` (from %s): expected container, sandbox, qemu, vm or "
             "wasm",
             name, origin);
    return NULL;
}

/* A bundle for the WebAssembly engine: process.args[0] is a .wasm file, or
 * crun's annotation says so. Returns where that came from, or NULL. */
static const char *wasm_bundle(const struct spec *s)
{
    const char *v = spec_annotation(s, "module.wasm.image/variant");
    if (v != NULL && (strcmp(v, "compat") == 0 || strcmp(v, "compat-smart") == 0))
        return "annotation module.wasm.image/variant";
    if (s->process.args.n > 0) {
        const char *a0 = s->process.args.v[0];
        size_t n = strlen(a0);
        if (n > 5 && strcmp(a0 + n - 5, ".wasm") == 0)
            return "process.args[0] (a .wasm module)";
    }
    return NULL;
}

const struct level_ops *level_for_spec(const struct spec *s, const struct globals *g, cerr_t *err)
{
    const char *a = s ? spec_annotation(s, ISOLATION_ANNOTATION) : NULL;
    if (a != NULL)
        return level_find(a, "annotation " ISOLATION_ANNOTATION, err);
    if (g->isolation != NULL)
        return level_find(g->isolation, g->isolation_origin, err);
    const char *wasm = s ? wasm_bundle(s) : NULL;
    if (wasm != NULL)
        return level_find("wasm", wasm, err);
    return level_find("container", "default", err);
}

int level_resolve_rootfs(struct container *c, const char *bundle, cerr_t *err)
{
    const char *rp = c->spec->root.path;
    if (rp == NULL)
        return cerr_set(err, 0, "root.path: required field is missing");
    autofree char *joined = rp[0] == '/' ? xstrdup(rp) : xasprintf("%s/%s", bundle, rp);
    char real[PATH_MAX];
    if (realpath(joined, real) == NULL)
        return cerr_set(err, errno, "root.path: `%s`", joined);
    free(c->st->rootfs);
    c->st->rootfs = xstrdup(real);
    return 0;
}
