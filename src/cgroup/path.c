/* The name of a container's cgroup: linux.cgroupsPath, the systemd
 * slice:prefix:name form mapped to cgroupfs, or /ID as runc 1.1 and crun have it: a
 * common parent such as /cella would make every container share its one CPU weight. */
#define _GNU_SOURCE
#include "cgroup/cgroup.h"

#include <stdlib.h>
#include <string.h>

#include "cgroup/internal.h"
#include "core/util.h"

bool cg_bad_name(const char *s)
{
    return s[0] == '\0' || strchr(s, '/') != NULL || strcmp(s, ".") == 0 || strcmp(s, "..") == 0;
}

/* "a-b.slice" -> "/a.slice/a-b.slice", "-.slice" -> "" (the root slice), as systemd nests
 * slices. NULL when the name is not a valid slice name. */
static char *expand_slice(const char *slice)
{
    size_t n = strlen(slice);
    if (strcmp(slice, "-.slice") == 0)
        return xstrdup("");
    if (n <= 6 || strcmp(slice + n - 6, ".slice") != 0 || strchr(slice, '/') != NULL)
        return NULL;
    size_t bl = n - 6;
    if (slice[0] == '-' || slice[bl - 1] == '-' || strstr(slice, "--") != NULL)
        return NULL;
    char *out = xstrdup("");
    for (size_t i = 0; i <= bl; i++) {
        if (i < bl && slice[i] != '-')
            continue;
        char *next = xasprintf("%s/%.*s.slice", out, (int)i, slice);
        free(out);
        out = next;
    }
    return out;
}

static char *systemd_path(const char *cgroups_path, const char *id, cerr_t *err)
{
    const char *orig = cgroups_path ? cgroups_path : "";
    autofree char *slice = NULL, *prefix = NULL, *name = NULL;
    if (orig[0] == '\0') {
        slice = xstrdup("system.slice");
        prefix = xstrdup("cella");
        name = xstrdup(id);
    } else {
        const char *c1 = strchr(orig, ':');
        const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (c1 == NULL || c2 == NULL || strchr(c2 + 1, ':') != NULL) {
            cerr_set(err, 0,
                     "linux.cgroupsPath `%s`: with systemd cgroups it must be "
                     "`slice:prefix:name`",
                     orig);
            return NULL;
        }
        slice = c1 == orig ? xstrdup("system.slice") : strndup(orig, (size_t)(c1 - orig));
        prefix = strndup(c1 + 1, (size_t)(c2 - c1 - 1));
        name = xstrdup(c2 + 1);
        if (slice == NULL || prefix == NULL)
            abort();
    }
    if (cg_bad_name(name) || strchr(prefix, '/') != NULL || strcmp(prefix, "..") == 0) {
        cerr_set(err, 0, "linux.cgroupsPath `%s`: invalid unit name", orig);
        return NULL;
    }
    autofree char *sp = expand_slice(slice);
    if (sp == NULL) {
        cerr_set(err, 0, "linux.cgroupsPath `%s`: invalid slice name `%s`", orig, slice);
        return NULL;
    }
    size_t nl = strlen(name);
    if (nl > 6 && strcmp(name + nl - 6, ".slice") == 0)
        return xasprintf("%s/%s", sp, name);
    if (prefix[0] == '\0')
        return xasprintf("%s/%s.scope", sp, name);
    return xasprintf("%s/%s-%s.scope", sp, prefix, name);
}

char *cgroup_path_for(const char *cgroups_path, const char *id, bool systemd, cerr_t *err)
{
    bool given = cgroups_path != NULL && cgroups_path[0] != '\0';
    if (!given && (id == NULL || cg_bad_name(id))) {
        cerr_set(err, 0, "container id `%s` cannot name a cgroup", id ? id : "");
        return NULL;
    }
    if (systemd)
        return systemd_path(cgroups_path, id, err);
    if (!given)
        return xasprintf("/%s", id);
    /* Normalize: drop empty and "." components; ".." is refused. */
    size_t len = strlen(cgroups_path);
    char *out = malloc(len + 2), *w = out;
    if (out == NULL)
        abort();
    for (const char *p = cgroups_path; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            free(out);
            cerr_set(err, 0, "linux.cgroupsPath `%s`: `..` is not allowed", cgroups_path);
            return NULL;
        }
        if (n > 0 && !(n == 1 && p[0] == '.')) {
            *w++ = '/';
            memcpy(w, p, n);
            w += n;
        }
        p += n;
        if (*p == '/')
            p++;
    }
    *w = '\0';
    if (out[0] == '\0') {
        free(out);
        cerr_set(err, 0, "linux.cgroupsPath `%s` names the cgroup root", cgroups_path);
        return NULL;
    }
    return out;
}
