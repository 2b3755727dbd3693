#include "level/level.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

#define ISOLATION_ANNOTATION "run.cella.isolation"

static const struct level_entry levels[] = {
    {"container", &container_level, NULL}, {"sandbox", &sandbox_level, NULL},
    {"qemu", &qemu_level, NULL},           {"vm", &vm_level, NULL},
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

const struct level_ops *level_for_spec(const struct spec *s, const struct globals *g, cerr_t *err)
{
    const char *a = s ? spec_annotation(s, ISOLATION_ANNOTATION) : NULL;
    if (a != NULL)
        return level_find(a, "annotation " ISOLATION_ANNOTATION, err);
    if (g->isolation != NULL)
        return level_find(g->isolation, g->isolation_origin, err);
    for (size_t i = 0; s != NULL && i < ARRAY_SIZE(levels); i++) {
        const char *origin =
            levels[i].ops && levels[i].ops->detect ? levels[i].ops->detect(s) : NULL;
        if (origin != NULL) {
            log_debug("isolation level `%s` (from %s)", levels[i].name, origin);
            return levels[i].ops;
        }
    }
    return level_find("container", "default", err);
}

char *level_rootfs_path(const struct spec *s, const char *bundle, cerr_t *err)
{
    const char *rp = s->root.path;
    if (rp == NULL)
        return cerr_set(err, 0, "root.path: required field is missing"), NULL;
    autofree char *joined = rp[0] == '/' ? xstrdup(rp) : xasprintf("%s/%s", bundle, rp);
    char *real = realpath(joined, NULL);
    if (real == NULL)
        cerr_set(err, errno, "root.path: `%s`", joined);
    return real;
}

int level_resolve_rootfs(struct container *c, const char *bundle, cerr_t *err)
{
    char *real = level_rootfs_path(c->spec, bundle, err);
    if (real == NULL)
        return -1;
    free(c->st->rootfs);
    c->st->rootfs = real;
    return 0;
}
