#include "level/level.h"

#include <string.h>

#include "core/util.h"

#define ISOLATION_ANNOTATION "run.cella.isolation"

static const struct level_entry levels[] = {
    {"container", &container_level, NULL},
    {"sandbox", NULL, "the user-space kernel level is not built yet"},
    {"qemu", NULL, "the QEMU microVM level is not built yet"},
    {"vm", NULL, "cella's own VMM level is not built yet"},
    {"wasm", NULL, "the WebAssembly level is not built yet"},
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

const struct level_ops *level_for_spec(const struct spec *s, const struct globals *g, cerr_t *err)
{
    const char *a = s ? spec_annotation(s, ISOLATION_ANNOTATION) : NULL;
    if (a != NULL)
        return level_find(a, "annotation " ISOLATION_ANNOTATION, err);
    if (g->isolation != NULL)
        return level_find(g->isolation, g->isolation_origin, err);
    return level_find("container", "default", err);
}
