/* cgroups for the container level. See cgroup.h.
 *
 * The layout of the host is detected once: the hierarchies cella uses (v1
 * controllers, possibly co-mounted, name=systemd, and the v2 tree) each have a
 * mount point; a container's cgroup is the same path below each of them. */
#define _GNU_SOURCE
#include "cgroup/cgroup.h"
#include "cgroup/devices.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define CGROUP_ROOT       "/sys/fs/cgroup"
#define CGROUP_UNIFIED    "/sys/fs/cgroup/unified"
#define KILL_TIMEOUT_MS   2000
#define FREEZE_TIMEOUT_MS 5000
#define RMDIR_TIMEOUT_MS  1000

/* ---- layout ------------------------------------------------------------------ */

enum ctrl {
    C_CPU,
    C_CPUACCT,
    C_CPUSET,
    C_MEMORY,
    C_PIDS,
    C_DEVICES,
    C_FREEZER,
    C_BLKIO,
    C_SYSTEMD,
    C_COUNT
};

static const char *const ctrl_names[C_COUNT] = {
    "cpu", "cpuacct", "cpuset", "memory", "pids", "devices", "freezer", "blkio", "name=systemd",
};

struct hier {
    char mnt[PATH_MAX]; /* mount point, no trailing slash */
    unsigned mask;      /* v1: bits (1 << enum ctrl) bound to this hierarchy */
    bool v2;
};

struct layout {
    enum cgroup_mode mode;
    size_t n;
    struct hier h[C_COUNT + 1];
};

static struct layout the_layout;
static bool layout_ready;

static bool is_cgroup2(const char *path)
{
    struct statfs sf;
    return statfs(path, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

/* Mount points in mountinfo escape space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
    char *w = s;
    for (const char *r = s; *r;) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
            r[3] >= '0' && r[3] <= '7') {
            *w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
            r += 4;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
}

/* One mountinfo line: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE
 * SUPEROPTS". A v1 hierarchy is added when it binds a controller cella uses that no earlier
 * mount already provides. */
static void add_v1_mount(struct layout *l, char *line, unsigned *covered)
{
    char *save = NULL, *f[6];
    char *tok = strtok_r(line, " \n", &save);
    for (int i = 0; i < 6; i++) {
        if (tok == NULL)
            return;
        f[i] = tok;
        tok = strtok_r(NULL, " \n", &save);
    }
    while (tok != NULL && strcmp(tok, "-") != 0)
        tok = strtok_r(NULL, " \n", &save);
    char *fstype = strtok_r(NULL, " \n", &save);
    char *source = strtok_r(NULL, " \n", &save);
    char *opts = strtok_r(NULL, " \n", &save);
    if (tok == NULL || fstype == NULL || source == NULL || opts == NULL ||
        strcmp(fstype, "cgroup") != 0)
        return;
    unsigned mask = 0;
    char *osave = NULL;
    for (char *o = strtok_r(opts, ",", &osave); o; o = strtok_r(NULL, ",", &osave))
        for (int c = 0; c < C_COUNT; c++)
            if (strcmp(o, ctrl_names[c]) == 0)
                mask |= 1u << c;
    if (mask == 0 || (mask & *covered) != 0 || l->n >= ARRAY_SIZE(l->h))
        return;
    unescape_octal(f[4]);
    if (strlen(f[4]) >= sizeof(l->h[0].mnt))
        return;
    struct hier *h = &l->h[l->n++];
    strcpy(h->mnt, f[4]);
    h->mask = mask;
    h->v2 = false;
    *covered |= mask;
}

static void add_v2(struct layout *l, const char *mnt)
{
    struct hier *h = &l->h[l->n++];
    snprintf(h->mnt, sizeof(h->mnt), "%s", mnt);
    h->mask = 0;
    h->v2 = true;
}

static void layout_detect(struct layout *l)
{
    memset(l, 0, sizeof(*l));
    if (is_cgroup2(CGROUP_ROOT)) {
        l->mode = CGROUP_V2;
        add_v2(l, CGROUP_ROOT);
        return;
    }
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (f != NULL) {
        char *line = NULL;
        size_t cap = 0;
        unsigned covered = 0;
        while (getline(&line, &cap, f) > 0)
            add_v1_mount(l, line, &covered);
        free(line);
        fclose(f);
    }
    bool unified = is_cgroup2(CGROUP_UNIFIED);
    if (unified && l->n > 0) {
        l->mode = CGROUP_HYBRID;
        add_v2(l, CGROUP_UNIFIED);
    } else if (unified) {
        l->mode = CGROUP_V2;
        add_v2(l, CGROUP_UNIFIED);
    } else {
        l->mode = CGROUP_V1;
    }
}

static const struct layout *layout_get(void)
{
    if (!layout_ready) {
        layout_detect(&the_layout);
        layout_ready = true;
    }
    return &the_layout;
}

/* For tests only: behave as if the host were pure cgroup v2 mounted at `mnt`
 * (e.g. the hybrid /sys/fs/cgroup/unified); NULL detects the host again. */
void cgroup__force_v2(const char *mnt);
void cgroup__force_v2(const char *mnt)
{
    if (mnt == NULL) {
        layout_ready = false;
        return;
    }
    memset(&the_layout, 0, sizeof(the_layout));
    the_layout.mode = CGROUP_V2;
    add_v2(&the_layout, mnt);
    layout_ready = true;
}

enum cgroup_mode cgroup_mode(void)
{
    return layout_get()->mode;
}

const char *cgroup_mode_name(enum cgroup_mode m)
{
    switch (m) {
    case CGROUP_V1:
        return "v1";
    case CGROUP_HYBRID:
        return "hybrid";
    case CGROUP_V2:
        return "v2";
    }
    return "unknown";
}

static const struct hier *hier_v2(const struct layout *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->h[i].v2)
            return &l->h[i];
    return NULL;
}

static const struct hier *hier_v1(const struct layout *l, enum ctrl c)
{
    for (size_t i = 0; i < l->n; i++)
        if (!l->h[i].v2 && (l->h[i].mask & (1u << c)))
            return &l->h[i];
    return NULL;
}

/* ---- small helpers ------------------------------------------------------------- */

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static unsigned long long ms_since(unsigned long long start_ns)
{
    return (now_ns() - start_ns) / 1000000ULL;
}

/* Move the error E into *ERR (unless *ERR already holds one). Returns -1. */
static int take_err(cerr_t *err, cerr_t *e)
{
    if (err != NULL && *err == NULL) {
        *err = *e;
        *e = NULL;
    }
    cerr_free(e);
    return -1;
}

static bool exists(const char *dir, const char *file)
{
    autofree char *p = xasprintf("%s/%s", dir, file);
    return access(p, F_OK) == 0;
}

static void trim_end(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
}

/* DIR/FILE without trailing whitespace, NULL with *err set on failure. */
static char *get(const char *dir, const char *file, cerr_t *err)
{
    autofree char *p = xasprintf("%s/%s", dir, file);
    char *s = read_file(p, NULL, err);
    if (s != NULL)
        trim_end(s);
    return s;
}

/* Write VALUE to DIR/FILE; the error names the file and, when given, the spec field. */
static int put(const char *dir, const char *file, const char *value, const char *field, cerr_t *err)
{
    autofree char *p = xasprintf("%s/%s", dir, file);
    if (write_knob(p, value, err) < 0)
        return field ? cerr_wrap(err, "%s", field) : -1;
    return 0;
}

static int put_i64(const char *dir, const char *file, int64_t v, const char *field, cerr_t *err)
{
    char b[32];
    snprintf(b, sizeof(b), "%" PRId64, v);
    return put(dir, file, b, field, err);
}

static int put_u64(const char *dir, const char *file, uint64_t v, const char *field, cerr_t *err)
{
    char b[32];
    snprintf(b, sizeof(b), "%" PRIu64, v);
    return put(dir, file, b, field, err);
}

/* Whether the whitespace-separated LIST holds WORD. */
static bool has_word(const char *list, const char *word)
{
    size_t wl = strlen(word);
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == '\n' || *p == '\t')
            p++;
        size_t n = strcspn(p, " \n\t");
        if (n == wl && strncmp(p, word, wl) == 0)
            return true;
        p += n;
    }
    return false;
}

/* Value of KEY in a flat keyed file ("key value" lines), -1 if absent. */
static long long keyed_value(const char *text, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, key, kl) == 0 && p[kl] == ' ')
            return strtoll(p + kl + 1, NULL, 10);
    return -1;
}

/* A cgroup path from state.json: absolute, not the root, no empty, "." or ".." components. */
static int check_path(const char *path, cerr_t *err)
{
    if (path == NULL || path[0] != '/' || path[1] == '\0')
        return cerr_set(err, 0, "invalid cgroup path `%s`: must be absolute and not the root",
                        path ? path : "");
    for (const char *p = path + 1;;) {
        size_t n = strcspn(p, "/");
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return cerr_set(err, 0, "invalid cgroup path `%s`: bad component", path);
        if (p[n] == '\0')
            return 0;
        p += n + 1;
    }
}

static int no_hierarchy(cerr_t *err)
{
    return cerr_set(err, 0, "no cgroup hierarchy is mounted under " CGROUP_ROOT);
}

/* rmdir, retrying while the kernel still reports the cgroup busy. ENOENT is success. */
static int rmdir_retry(const char *dir)
{
    unsigned long long start = now_ns();
    for (;;) {
        if (rmdir(dir) == 0 || errno == ENOENT)
            return 0;
        if (errno != EBUSY || ms_since(start) >= RMDIR_TIMEOUT_MS)
            return -1;
        sleep_ms(5);
    }
}

/* Remove a cgroup and the sub-cgroups the container made below it, deepest first. */
static int rmdir_tree(const char *dir, cerr_t *err)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return errno == ENOENT ? 0 : cerr_set(err, errno, "open `%s`", dir);
    struct dirent *de;
    int r = 0;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        bool isdir = de->d_type == DT_DIR;
        if (de->d_type == DT_UNKNOWN) {
            struct stat st;
            isdir =
                fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
        }
        if (!isdir)
            continue;
        autofree char *sub = xasprintf("%s/%s", dir, de->d_name);
        if (rmdir_tree(sub, err) < 0)
            r = -1;
    }
    closedir(d);
    if (rmdir_retry(dir) < 0)
        return cerr_set(err, errno, "remove cgroup `%s`", dir);
    return r;
}

/* ---- pids ------------------------------------------------------------------------ */

struct pidv {
    pid_t *v;
    size_t n, cap;
};

static void pidv_push(struct pidv *p, pid_t pid)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        pid_t *nv = realloc(p->v, p->cap * sizeof(*nv));
        if (nv == NULL)
            abort();
        p->v = nv;
    }
    p->v[p->n++] = pid;
}

/* Append the pids of DIR and, recursively, of its sub-cgroups. Only a failure to read DIR's
 * own cgroup.procs at the top (`top`) is an error: sub-cgroups may vanish meanwhile, and
 * threaded ones refuse cgroup.procs. */
static int collect_pids(const char *dir, bool top, struct pidv *out, cerr_t *err)
{
    cerr_t e = NULL;
    autofree char *procs = get(dir, "cgroup.procs", &e);
    if (procs == NULL) {
        if (top)
            return take_err(err, &e);
        cerr_free(&e);
        return 0;
    }
    for (char *p = procs; *p;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p)
            break;
        if (v > 0)
            pidv_push(out, (pid_t)v);
        p = end;
    }
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
            continue;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        autofree char *sub = xasprintf("%s/%s", dir, de->d_name);
        collect_pids(sub, false, out, NULL);
    }
    closedir(d);
    return 0;
}

static int cmp_pid(const void *a, const void *b)
{
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
    return (x > y) - (x < y);
}

int cgroup_pids(const char *path, pid_t **pids, size_t *n, cerr_t *err)
{
    *pids = NULL;
    *n = 0;
    if (check_path(path, err) < 0)
        return -1;
    const struct layout *l = layout_get();
    const struct hier *h = l->mode == CGROUP_V2 ? hier_v2(l) : hier_v1(l, C_PIDS);
    if (h == NULL && l->n > 0)
        h = &l->h[0];
    if (h == NULL)
        return no_hierarchy(err);
    autofree char *dir = xasprintf("%s%s", h->mnt, path);
    struct pidv pv = {0};
    if (collect_pids(dir, true, &pv, err) < 0) {
        free(pv.v);
        return -1;
    }
    /* v1 cgroup.procs may repeat a pid. */
    if (pv.n > 1) {
        qsort(pv.v, pv.n, sizeof(pid_t), cmp_pid);
        size_t w = 1;
        for (size_t i = 1; i < pv.n; i++)
            if (pv.v[i] != pv.v[w - 1])
                pv.v[w++] = pv.v[i];
        pv.n = w;
    }
    *pids = pv.v;
    *n = pv.n;
    return 0;
}

/* ---- cgroup_path_for ------------------------------------------------------------------ */

static bool bad_name(const char *s)
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
    if (bad_name(name) || strchr(prefix, '/') != NULL || strcmp(prefix, "..") == 0) {
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
    if (!given && (id == NULL || bad_name(id))) {
        cerr_set(err, 0, "container id `%s` cannot name a cgroup", id ? id : "");
        return NULL;
    }
    if (systemd)
        return systemd_path(cgroups_path, id, err);
    if (!given)
        return xasprintf("/cella/%s", id);
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

/* ---- creation ------------------------------------------------------------------------ */

struct dirlist {
    char **v;
    size_t n, cap;
};

static void dirlist_push(struct dirlist *d, const char *s)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 8;
        char **nv = realloc(d->v, d->cap * sizeof(*nv));
        if (nv == NULL)
            abort();
        d->v = nv;
    }
    d->v[d->n++] = xstrdup(s);
}

/* Remove the directories created so far (undo == true), newest first, and free the list. */
static void dirlist_done(struct dirlist *d, bool undo)
{
    for (size_t i = d->n; i-- > 0;) {
        if (undo)
            rmdir_retry(d->v[i]);
        free(d->v[i]);
    }
    free(d->v);
    d->v = NULL;
    d->n = d->cap = 0;
}

/* v2: enable in DIR's cgroup.subtree_control every controller DIR has. A controller that
 * cannot be enabled (e.g. DIR holds processes) is left out: applying a resource that needs it
 * then fails naming the controller. */
static int v2_enable_controllers(const char *dir, cerr_t *err)
{
    autofree char *avail = get(dir, "cgroup.controllers", err);
    if (avail == NULL)
        return -1;
    autofree char *on = get(dir, "cgroup.subtree_control", err);
    if (on == NULL)
        return -1;
    for (char *save = NULL, *c = strtok_r(avail, " \n", &save); c;
         c = strtok_r(NULL, " \n", &save)) {
        if (has_word(on, c))
            continue;
        autofree char *v = xasprintf("+%s", c);
        cerr_t ignored = NULL;
        put(dir, "cgroup.subtree_control", v, NULL, &ignored);
        cerr_free(&ignored);
    }
    return 0;
}

/* v1 cpuset: a new cpuset has empty cpus and mems, and no task can join it until they are
 * set; copy them from the parent. */
static int cpuset_inherit(const char *dir, cerr_t *err)
{
    static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
    autofree char *parent = xstrdup(dir);
    *strrchr(parent, '/') = '\0';
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        autofree char *cur = get(dir, files[i], err);
        if (cur == NULL)
            return -1;
        if (cur[0] != '\0')
            continue;
        autofree char *pv = get(parent, files[i], err);
        if (pv == NULL || put(dir, files[i], pv, NULL, err) < 0)
            return -1;
    }
    return 0;
}

/* Create PATH below hierarchy H, with its missing parents (recorded in *made). */
static int make_in(const struct layout *l, const struct hier *h, const char *path,
                   struct dirlist *made, cerr_t *err)
{
    autofree char *dir = xasprintf("%s%s", h->mnt, path);
    size_t mlen = strlen(h->mnt), len = strlen(dir);
    bool enable = h->v2 && l->mode == CGROUP_V2; /* hybrid: no controllers in the v2 tree */
    bool cpuset = !h->v2 && (h->mask & (1u << C_CPUSET));
    for (size_t i = mlen + 1; i <= len; i++) {
        if (dir[i] != '/' && dir[i] != '\0')
            continue;
        char saved = dir[i];
        dir[i] = '\0';
        if (enable) {
            char *slash = strrchr(dir, '/');
            *slash = '\0';
            int r = v2_enable_controllers(slash == dir ? "/" : dir, err);
            *slash = '/';
            if (r < 0)
                return -1;
        }
        if (mkdir(dir, 0755) == 0)
            dirlist_push(made, dir);
        else if (errno != EEXIST)
            return cerr_set(err, errno, "create cgroup `%s`", dir);
        if (cpuset && cpuset_inherit(dir, err) < 0)
            return -1;
        dir[i] = saved;
    }
    return 0;
}

/* ---- resources: v1 ------------------------------------------------------------------- */

#define F_MEM "linux.resources.memory"
#define F_CPU "linux.resources.cpu"

static char *v1_dir(const struct layout *l, enum ctrl c, const char *path, const char *field,
                    cerr_t *err)
{
    const struct hier *h = hier_v1(l, c);
    if (h == NULL) {
        cerr_set(err, 0, "%s: the cgroup v1 `%s` controller is not mounted", field, ctrl_names[c]);
        return NULL;
    }
    return xasprintf("%s%s", h->mnt, path);
}

static int read_u64(const char *dir, const char *file, unsigned long long *v, cerr_t *err)
{
    autofree char *s = get(dir, file, err);
    if (s == NULL)
        return -1;
    *v = strtoull(s, NULL, 10);
    return 0;
}

static int check_usage(const char *dir, const char *file, int64_t limit, cerr_t *err)
{
    unsigned long long usage;
    if (read_u64(dir, file, &usage, err) < 0)
        return -1;
    if (usage > (unsigned long long)limit)
        return cerr_set(err, 0,
                        F_MEM ".limit: %" PRId64 " is below the current usage %llu "
                              "(checkBeforeUpdate)",
                        limit, usage);
    return 0;
}

static int v1_memory(const struct layout *l, const char *path, const struct spec_resources *r,
                     cerr_t *err)
{
    bool has_limit = r->memory.limit.set && r->memory.limit.v != 0;
    bool has_swap = r->memory.swap.set && r->memory.swap.v != 0;
    bool has_res = r->memory.reservation.set && r->memory.reservation.v != 0;
    bool has_tcp = r->memory.kernel_tcp.set && r->memory.kernel_tcp.v != 0;
    int64_t limit = r->memory.limit.v < 0 ? -1 : r->memory.limit.v;
    int64_t swap = r->memory.swap.v < 0 ? -1 : r->memory.swap.v;
    /* memory.kernel is deprecated and gone from recent kernels; useHierarchy is always on
     * since Linux 5.16: both are ignored. */
    if (!has_limit && !has_swap && !has_res && !has_tcp && !r->memory.swappiness.set &&
        !r->memory.disable_oom_killer.set)
        return 0;
    autofree char *dir = v1_dir(l, C_MEMORY, path, F_MEM, err);
    if (dir == NULL)
        return -1;
    if (has_limit && limit == -1 && !has_swap) { /* unlimited memory: unlimited swap too */
        has_swap = true;
        swap = -1;
    }
    if (has_swap && !exists(dir, "memory.memsw.limit_in_bytes")) {
        if (swap != -1 && !(has_limit && swap == limit))
            return cerr_set(err, 0,
                            F_MEM ".swap: `%s/memory.memsw.limit_in_bytes` does not exist "
                                  "(swap accounting is disabled)",
                            dir);
        has_swap = false;
    }
    if (has_swap && has_limit && swap != -1 && (limit == -1 || swap < limit))
        return cerr_set(err, 0,
                        F_MEM ".swap (%" PRId64 ") must be at least " F_MEM ".limit (%" PRId64 ")",
                        swap, limit);
    if (has_limit && limit > 0 && r->memory.check_before_update.set &&
        r->memory.check_before_update.v &&
        check_usage(dir, "memory.usage_in_bytes", limit, err) < 0)
        return -1;
    if (has_swap) {
        /* memsw must stay >= limit at every step: raise memsw first when growing, lower the
         * limit first when shrinking. */
        unsigned long long cur;
        if (read_u64(dir, "memory.limit_in_bytes", &cur, err) < 0)
            return -1;
        bool swap_first = swap == -1 || cur < (unsigned long long)swap;
        if (swap_first && put_i64(dir, "memory.memsw.limit_in_bytes", swap, F_MEM ".swap", err) < 0)
            return -1;
        if (has_limit && put_i64(dir, "memory.limit_in_bytes", limit, F_MEM ".limit", err) < 0)
            return -1;
        if (!swap_first &&
            put_i64(dir, "memory.memsw.limit_in_bytes", swap, F_MEM ".swap", err) < 0)
            return -1;
    } else if (has_limit && put_i64(dir, "memory.limit_in_bytes", limit, F_MEM ".limit", err) < 0) {
        return -1;
    }
    if (has_res && put_i64(dir, "memory.soft_limit_in_bytes",
                           r->memory.reservation.v < 0 ? -1 : r->memory.reservation.v,
                           F_MEM ".reservation", err) < 0)
        return -1;
    if (r->memory.swappiness.set) {
        if (r->memory.swappiness.v > 100)
            return cerr_set(err, 0, F_MEM ".swappiness: %" PRIu64 " is not in 0..100",
                            r->memory.swappiness.v);
        if (put_u64(dir, "memory.swappiness", r->memory.swappiness.v, F_MEM ".swappiness", err) < 0)
            return -1;
    }
    if (r->memory.disable_oom_killer.set &&
        put(dir, "memory.oom_control", r->memory.disable_oom_killer.v ? "1" : "0",
            F_MEM ".disableOOMKiller", err) < 0)
        return -1;
    if (has_tcp && put_i64(dir, "memory.kmem.tcp.limit_in_bytes",
                           r->memory.kernel_tcp.v < 0 ? -1 : r->memory.kernel_tcp.v,
                           F_MEM ".kernelTCP", err) < 0)
        return -1;
    return 0;
}

static int v1_cpu(const struct layout *l, const char *path, const struct spec_resources *r,
                  cerr_t *err)
{
    bool has_shares = r->cpu.shares.set && r->cpu.shares.v != 0;
    bool has_period = r->cpu.period.set && r->cpu.period.v != 0;
    bool has_quota = r->cpu.quota.set && r->cpu.quota.v != 0;
    bool has_rtp = r->cpu.realtime_period.set && r->cpu.realtime_period.v != 0;
    bool has_rtr = r->cpu.realtime_runtime.set && r->cpu.realtime_runtime.v != 0;
    if (has_shares || has_period || has_quota || has_rtp || has_rtr || r->cpu.idle.set) {
        autofree char *dir = v1_dir(l, C_CPU, path, F_CPU, err);
        if (dir == NULL)
            return -1;
        int64_t quota = r->cpu.quota.v < 0 ? -1 : r->cpu.quota.v;
        if (has_shares && put_u64(dir, "cpu.shares", r->cpu.shares.v, F_CPU ".shares", err) < 0)
            return -1;
        if (has_period) {
            /* Period first; a smaller period can be refused (EINVAL) while the old quota
             * would then exceed the parent's: set the quota first and retry. */
            cerr_t e = NULL;
            if (put_u64(dir, "cpu.cfs_period_us", r->cpu.period.v, F_CPU ".period", &e) < 0) {
                bool retry = has_quota && e->errnum == EINVAL;
                if (!retry)
                    return take_err(err, &e);
                cerr_free(&e);
                if (put_i64(dir, "cpu.cfs_quota_us", quota, F_CPU ".quota", err) < 0 ||
                    put_u64(dir, "cpu.cfs_period_us", r->cpu.period.v, F_CPU ".period", err) < 0)
                    return -1;
            }
        }
        if (has_quota && put_i64(dir, "cpu.cfs_quota_us", quota, F_CPU ".quota", err) < 0)
            return -1;
        if (has_rtp && put_u64(dir, "cpu.rt_period_us", r->cpu.realtime_period.v,
                               F_CPU ".realtimePeriod", err) < 0)
            return -1;
        if (has_rtr && put_i64(dir, "cpu.rt_runtime_us", r->cpu.realtime_runtime.v,
                               F_CPU ".realtimeRuntime", err) < 0)
            return -1;
        if (r->cpu.idle.set && put_i64(dir, "cpu.idle", r->cpu.idle.v, F_CPU ".idle", err) < 0)
            return -1;
    }
    bool has_cpus = r->cpu.cpus && r->cpu.cpus[0], has_mems = r->cpu.mems && r->cpu.mems[0];
    if (has_cpus || has_mems) {
        autofree char *dir = v1_dir(l, C_CPUSET, path, F_CPU, err);
        if (dir == NULL)
            return -1;
        if (has_cpus && put(dir, "cpuset.cpus", r->cpu.cpus, F_CPU ".cpus", err) < 0)
            return -1;
        if (has_mems && put(dir, "cpuset.mems", r->cpu.mems, F_CPU ".mems", err) < 0)
            return -1;
    }
    return 0;
}

static int v1_pids_blkio(const struct layout *l, const char *path, const struct spec_resources *r,
                         cerr_t *err)
{
    if (r->pids.limit.set) {
        autofree char *dir = v1_dir(l, C_PIDS, path, "linux.resources.pids", err);
        if (dir == NULL)
            return -1;
        /* limit <= 0 means unlimited, as with runc. */
        int rc = r->pids.limit.v > 0
                     ? put_i64(dir, "pids.max", r->pids.limit.v, "linux.resources.pids.limit", err)
                     : put(dir, "pids.max", "max", "linux.resources.pids.limit", err);
        if (rc < 0)
            return -1;
    }
    if (r->blkio.weight.set && r->blkio.weight.v != 0) {
        autofree char *dir = v1_dir(l, C_BLKIO, path, "linux.resources.blockIO", err);
        if (dir == NULL)
            return -1;
        /* BFQ's knob when present, else CFQ's: a weight that cannot be applied is an error. */
        const char *file = exists(dir, "blkio.bfq.weight") ? "blkio.bfq.weight" : "blkio.weight";
        if (put_u64(dir, file, r->blkio.weight.v, "linux.resources.blockIO.weight", err) < 0)
            return -1;
    }
    return 0;
}

static void dev_num(char *b, size_t n, int64_t v)
{
    if (v < 0)
        snprintf(b, n, "*");
    else
        snprintf(b, n, "%" PRId64, v);
}

static int v1_devices(const struct layout *l, const char *path, const struct spec_resources *r,
                      cerr_t *err)
{
    size_t nrules = r ? r->n_devices : 0;
    if (hier_v1(l, C_DEVICES) == NULL && nrules == 0)
        return 0;
    autofree char *dir = v1_dir(l, C_DEVICES, path, "linux.resources.devices", err);
    if (dir == NULL)
        return -1;
    if (put(dir, "devices.deny", "a", "linux.resources.devices", err) < 0)
        return -1;
    /* The spec's rules, then the defaults every container gets. */
    for (size_t i = 0; i < nrules + n_device_defaults; i++) {
        const struct spec_dev_cgroup *d =
            i < nrules ? &r->devices[i] : &device_defaults[i - nrules];
        char field[64], maj[24], min[24];
        if (i < nrules)
            snprintf(field, sizeof(field), "linux.resources.devices[%zu]", i);
        else
            snprintf(field, sizeof(field), "default device rules");
        const char *access = d->access && d->access[0] ? d->access : "rwm";
        if (strspn(access, "rwm") != strlen(access))
            return cerr_set(err, 0, "%s.access: `%s` is not made of r, w, m", field, access);
        autofree char *rule = NULL;
        if (d->type == 'a') {
            rule = xstrdup("a");
        } else if (d->type == 'b' || d->type == 'c') {
            dev_num(maj, sizeof(maj), d->major);
            dev_num(min, sizeof(min), d->minor);
            rule = xasprintf("%c %s:%s %s", d->type, maj, min, access);
        } else {
            return cerr_set(err, 0, "%s.type: `%c` is not a, b or c", field, d->type);
        }
        if (put(dir, d->allow ? "devices.allow" : "devices.deny", rule, field, err) < 0)
            return -1;
    }
    return 0;
}

/* ---- resources: v2 ----------------------------------------------------------------- */

/* The controller must be enabled for DIR (listed in its cgroup.controllers). */
static int v2_need(const char *dir, const char *ctrl, const char *field, cerr_t *err)
{
    autofree char *list = get(dir, "cgroup.controllers", err);
    if (list == NULL)
        return -1;
    if (!has_word(list, ctrl))
        return cerr_set(err, 0, "%s: the cgroup v2 `%s` controller is not available in `%s`", field,
                        ctrl, dir);
    return 0;
}

static int put_max(const char *dir, const char *file, int64_t v, const char *field, cerr_t *err)
{
    return v < 0 ? put(dir, file, "max", field, err) : put_i64(dir, file, v, field, err);
}

static int v2_memory(const char *dir, const struct spec_resources *r, cerr_t *err)
{
    bool has_limit = r->memory.limit.set && r->memory.limit.v != 0;
    bool has_swap = r->memory.swap.set && r->memory.swap.v != 0;
    bool has_res = r->memory.reservation.set && r->memory.reservation.v != 0;
    /* swappiness, disableOOMKiller, kernel, kernelTCP and useHierarchy have no v2 knob:
     * ignored, as with runc and crun. */
    if (!has_limit && !has_swap && !has_res)
        return 0;
    if (v2_need(dir, "memory", F_MEM, err) < 0)
        return -1;
    int64_t limit = r->memory.limit.v < 0 ? -1 : r->memory.limit.v;
    if (has_limit && limit > 0 && r->memory.check_before_update.set &&
        r->memory.check_before_update.v && check_usage(dir, "memory.current", limit, err) < 0)
        return -1;
    if (has_limit && put_max(dir, "memory.max", limit, F_MEM ".limit", err) < 0)
        return -1;
    if (has_res &&
        put_max(dir, "memory.low", r->memory.reservation.v, F_MEM ".reservation", err) < 0)
        return -1;
    if (has_swap) {
        /* OCI swap is memory+swap; v2 memory.swap.max is swap alone. */
        int64_t swap = r->memory.swap.v < 0 ? -1 : r->memory.swap.v, v2 = -1;
        if (swap != -1) {
            int64_t lim = limit;
            if (!has_limit) {
                autofree char *cur = get(dir, "memory.max", err);
                if (cur == NULL)
                    return -1;
                lim = strcmp(cur, "max") == 0 ? -1 : strtoll(cur, NULL, 10);
            }
            if (lim <= 0)
                return cerr_set(err, 0, F_MEM ".swap: a swap limit needs a memory limit");
            if (swap < lim)
                return cerr_set(err, 0,
                                F_MEM ".swap (%" PRId64 ") must be at least " F_MEM
                                      ".limit (%" PRId64 ")",
                                swap, lim);
            v2 = swap - lim;
        }
        if (!exists(dir, "memory.swap.max")) {
            if (v2 != -1 && v2 != 0)
                return cerr_set(err, 0,
                                F_MEM ".swap: `%s/memory.swap.max` does not exist (swap "
                                      "accounting is disabled)",
                                dir);
        } else if (put_max(dir, "memory.swap.max", v2, F_MEM ".swap", err) < 0) {
            return -1;
        }
    }
    return 0;
}

static int v2_cpu(const char *dir, const struct spec_resources *r, cerr_t *err)
{
    bool has_shares = r->cpu.shares.set && r->cpu.shares.v != 0;
    bool has_period = r->cpu.period.set && r->cpu.period.v != 0;
    bool has_quota = r->cpu.quota.set && r->cpu.quota.v != 0;
    if ((r->cpu.realtime_period.set && r->cpu.realtime_period.v != 0) ||
        (r->cpu.realtime_runtime.set && r->cpu.realtime_runtime.v != 0))
        return cerr_set(err, 0,
                        F_CPU ".realtimePeriod/realtimeRuntime: not supported with cgroup v2");
    if (has_shares || has_period || has_quota || r->cpu.idle.set) {
        if (v2_need(dir, "cpu", F_CPU, err) < 0)
            return -1;
        if (has_shares) {
            uint64_t s = r->cpu.shares.v;
            s = s < 2 ? 2 : s > 262144 ? 262144 : s;
            uint64_t weight = 1 + ((s - 2) * 9999) / 262142;
            if (put_u64(dir, "cpu.weight", weight, F_CPU ".shares", err) < 0)
                return -1;
        }
        if (has_period || has_quota) {
            /* cpu.max is "QUOTA PERIOD"; keep the current quota when only the period changes
             * (a lone quota keeps the current period). */
            autofree char *q = NULL;
            if (has_quota) {
                q = r->cpu.quota.v < 0 ? xstrdup("max") : xasprintf("%" PRId64, r->cpu.quota.v);
            } else {
                q = get(dir, "cpu.max", err);
                if (q == NULL)
                    return -1;
                q[strcspn(q, " ")] = '\0';
            }
            autofree char *v =
                has_period ? xasprintf("%s %" PRIu64, q, r->cpu.period.v) : xstrdup(q);
            if (put(dir, "cpu.max", v, has_quota ? F_CPU ".quota" : F_CPU ".period", err) < 0)
                return -1;
        }
        if (r->cpu.idle.set && put_i64(dir, "cpu.idle", r->cpu.idle.v, F_CPU ".idle", err) < 0)
            return -1;
    }
    bool has_cpus = r->cpu.cpus && r->cpu.cpus[0], has_mems = r->cpu.mems && r->cpu.mems[0];
    if (has_cpus || has_mems) {
        if (v2_need(dir, "cpuset", F_CPU, err) < 0)
            return -1;
        if (has_cpus && put(dir, "cpuset.cpus", r->cpu.cpus, F_CPU ".cpus", err) < 0)
            return -1;
        if (has_mems && put(dir, "cpuset.mems", r->cpu.mems, F_CPU ".mems", err) < 0)
            return -1;
    }
    return 0;
}

static int v2_pids_io(const char *dir, const struct spec_resources *r, cerr_t *err)
{
    if (r->pids.limit.set) {
        if (v2_need(dir, "pids", "linux.resources.pids", err) < 0)
            return -1;
        int64_t v = r->pids.limit.v > 0 ? r->pids.limit.v : -1;
        if (put_max(dir, "pids.max", v, "linux.resources.pids.limit", err) < 0)
            return -1;
    }
    if (r->blkio.weight.set && r->blkio.weight.v != 0) {
        const char *field = "linux.resources.blockIO.weight";
        if (v2_need(dir, "io", "linux.resources.blockIO", err) < 0)
            return -1;
        uint64_t w = r->blkio.weight.v;
        /* BFQ takes the blkio range (1..1000) as is; io.weight is 1..10000. */
        if (exists(dir, "io.bfq.weight"))
            return put_u64(dir, "io.bfq.weight", w, field, err);
        w = w < 10 ? 10 : w > 1000 ? 1000 : w;
        if (put_u64(dir, "io.weight", 1 + (w - 10) * 9999 / 990, field, err) < 0)
            return -1;
    }
    return 0;
}

/* linux.resources.unified: file name -> value, written as given, after everything else. */
static int v2_unified(const char *dir, const struct spec_resources *r, cerr_t *err)
{
    for (size_t i = 0; i < r->unified.n; i++) {
        const struct kv *kv = &r->unified.v[i];
        if (bad_name(kv->key) || kv->key[0] == '.')
            return cerr_set(err, 0, "linux.resources.unified: invalid file name `%s`", kv->key);
        autofree char *field = xasprintf("linux.resources.unified.%s", kv->key);
        if (put(dir, kv->key, kv->value ? kv->value : "", field, err) < 0)
            return -1;
    }
    return 0;
}

/* Apply R to PATH. `creating`: also install the device rules when R has none. */
static int apply(const struct layout *l, const char *path, const struct spec_resources *r,
                 bool creating, cerr_t *err)
{
    bool have = r != NULL && r->present;
    const struct hier *v2 = hier_v2(l);
    if (l->mode == CGROUP_V2) {
        autofree char *dir = xasprintf("%s%s", v2->mnt, path);
        /* Device rules on v2: an eBPF program attached to the cgroup. */
        if (creating &&
            devices_bpf_attach(dir, have ? r->devices : NULL, have ? r->n_devices : 0, err) < 0)
            return -1;
        if (!have)
            return 0;
        if (v2_memory(dir, r, err) < 0 || v2_cpu(dir, r, err) < 0 || v2_pids_io(dir, r, err) < 0)
            return -1;
        return v2_unified(dir, r, err);
    }
    if (have && (v1_memory(l, path, r, err) < 0 || v1_cpu(l, path, r, err) < 0 ||
                 v1_pids_blkio(l, path, r, err) < 0))
        return -1;
    if ((creating || (have && r->n_devices > 0)) && v1_devices(l, path, have ? r : NULL, err) < 0)
        return -1;
    if (have && r->unified.n > 0) {
        if (v2 == NULL)
            return cerr_set(err, 0, "linux.resources.unified: needs cgroup v2, the host has v1");
        /* Hybrid: the v2 tree has no controllers, only the cgroup.* files. */
        autofree char *dir = xasprintf("%s%s", v2->mnt, path);
        return v2_unified(dir, r, err);
    }
    return 0;
}

/* ---- entering ------------------------------------------------------------------------ */

/* The cgroup of PID in hierarchy H, from /proc/PID/cgroup TEXT ("ID:CONTROLLERS:PATH"). */
static char *proc_cgroup_of(const char *text, const struct hier *h)
{
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        const char *c1 = strchr(p, ':');
        const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        const char *eol = strchrnul(p, '\n');
        if (c2 == NULL || c2 > eol)
            continue;
        bool match = false;
        if (h->v2) {
            match = c2 == c1 + 1;
        } else {
            autofree char *ctrls = strndup(c1 + 1, (size_t)(c2 - c1 - 1));
            char *save = NULL;
            for (char *c = strtok_r(ctrls, ",", &save); c && !match; c = strtok_r(NULL, ",", &save))
                for (int i = 0; i < C_COUNT && !match; i++)
                    match = (h->mask & (1u << i)) && strcmp(c, ctrl_names[i]) == 0;
        }
        if (match)
            return strndup(c2 + 1, (size_t)(eol - c2 - 1));
    }
    return NULL;
}

/* Write PID to PATH/cgroup.procs in every hierarchy. On failure the hierarchies already
 * joined are undone (PID goes back where it was). */
static int enter_all(const struct layout *l, const char *path, pid_t pid, cerr_t *err)
{
    char b[24];
    snprintf(b, sizeof(b), "%d", (int)pid);
    autofree char *procpath = xasprintf("/proc/%d/cgroup", (int)pid);
    autofree char *orig = read_file(procpath, NULL, NULL);
    for (size_t i = 0; i < l->n; i++) {
        autofree char *dir = xasprintf("%s%s", l->h[i].mnt, path);
        if (put(dir, "cgroup.procs", b, NULL, err) == 0)
            continue;
        for (size_t j = 0; orig && j < i; j++) {
            autofree char *back = proc_cgroup_of(orig, &l->h[j]);
            if (back == NULL)
                continue;
            autofree char *bdir = xasprintf("%s%s", l->h[j].mnt, strcmp(back, "/") ? back : "");
            cerr_t ignored = NULL;
            put(bdir, "cgroup.procs", b, NULL, &ignored);
            cerr_free(&ignored);
        }
        return -1;
    }
    return 0;
}

int cgroup_enter(const char *path, pid_t pid, cerr_t *err)
{
    if (check_path(path, err) < 0)
        return -1;
    const struct layout *l = layout_get();
    if (l->n == 0)
        return no_hierarchy(err);
    return enter_all(l, path, pid, err);
}

int cgroup_create(const char *path, const struct spec_resources *r, pid_t pid, cerr_t *err)
{
    if (check_path(path, err) < 0)
        return -1;
    const struct layout *l = layout_get();
    if (l->n == 0)
        return no_hierarchy(err);
    struct dirlist made = {0};
    for (size_t i = 0; i < l->n; i++)
        if (make_in(l, &l->h[i], path, &made, err) < 0)
            goto fail;
    if (apply(l, path, r, true, err) < 0)
        goto fail;
    if (pid > 0 && enter_all(l, path, pid, err) < 0)
        goto fail;
    dirlist_done(&made, false);
    return 0;
fail:
    dirlist_done(&made, true);
    return -1;
}

static int check_exists(const struct layout *l, const char *path, cerr_t *err)
{
    for (size_t i = 0; i < l->n; i++) {
        autofree char *dir = xasprintf("%s%s", l->h[i].mnt, path);
        struct stat st;
        if (stat(dir, &st) < 0)
            return cerr_set(err, errno, "cgroup `%s`", dir);
    }
    return 0;
}

int cgroup_apply(const char *path, const struct spec_resources *r, cerr_t *err)
{
    if (check_path(path, err) < 0)
        return -1;
    if (r == NULL || !r->present)
        return 0;
    const struct layout *l = layout_get();
    if (l->n == 0)
        return no_hierarchy(err);
    if (check_exists(l, path, err) < 0)
        return -1;
    return apply(l, path, r, false, err);
}

/* ---- signals, destruction ------------------------------------------------------------- */

/* SIGKILL through v2 cgroup.kill (Linux 5.14) when the cgroup has it: no pid races. */
static bool kill_via_v2(const struct layout *l, const char *path)
{
    const struct hier *h = hier_v2(l);
    if (h == NULL)
        return false;
    autofree char *dir = xasprintf("%s%s", h->mnt, path);
    if (!exists(dir, "cgroup.kill"))
        return false;
    cerr_t e = NULL;
    int r = put(dir, "cgroup.kill", "1", NULL, &e);
    cerr_free(&e);
    return r == 0;
}

int cgroup_kill_all(const char *path, int sig, cerr_t *err)
{
    if (check_path(path, err) < 0)
        return -1;
    if (sig == SIGKILL && kill_via_v2(layout_get(), path))
        return 0;
    pid_t *pids;
    size_t n;
    if (cgroup_pids(path, &pids, &n, err) < 0)
        return -1;
    int r = 0;
    for (size_t i = 0; i < n; i++)
        if (kill(pids[i], sig) < 0 && errno != ESRCH)
            r = cerr_set(err, errno, "kill pid %d of cgroup `%s`", (int)pids[i], path);
    free(pids);
    return r;
}

/* SIGKILL everything in PATH (every hierarchy) until nothing is left; false on timeout. */
static bool kill_until_empty(const struct layout *l, const char *path)
{
    unsigned long long start = now_ns();
    for (unsigned round = 0;; round++) {
        struct pidv pv = {0};
        for (size_t i = 0; i < l->n; i++) {
            autofree char *dir = xasprintf("%s%s", l->h[i].mnt, path);
            cerr_t e = NULL;
            collect_pids(dir, true, &pv, &e);
            cerr_free(&e);
        }
        if (pv.n == 0)
            return true;
        /* In hybrid mode cgroup.kill covers the unified tree only: signal the pids the v1
         * hierarchies list as well. */
        if (!kill_via_v2(l, path) || l->mode != CGROUP_V2)
            for (size_t j = 0; j < pv.n; j++)
                kill(pv.v[j], SIGKILL);
        free(pv.v);
        if (ms_since(start) >= KILL_TIMEOUT_MS)
            return false;
        sleep_ms(round < 10 ? 1 : 10);
    }
}

int cgroup_destroy(const char *path, cerr_t *err)
{
    if (check_path(path, err) < 0)
        return -1;
    const struct layout *l = layout_get();
    int r = 0;
    if (!kill_until_empty(l, path))
        r = cerr_set(err, 0, "cgroup `%s`: processes still running %d ms after SIGKILL", path,
                     KILL_TIMEOUT_MS);
    /* Only the container's own cgroup (and what it made below it) goes: parents such as
     * /cella may be shared. */
    for (size_t i = 0; i < l->n; i++) {
        autofree char *dir = xasprintf("%s%s", l->h[i].mnt, path);
        if (rmdir_tree(dir, err) < 0)
            r = -1;
    }
    return r;
}

/* ---- freezing ------------------------------------------------------------------------ */

/* The v1 freezer when mounted (v1, hybrid), else the v2 tree. */
static const struct hier *freeze_hier(const struct layout *l)
{
    const struct hier *h = hier_v1(l, C_FREEZER);
    return h ? h : hier_v2(l);
}

static int v1_freeze(const char *dir, bool freeze, cerr_t *err)
{
    const char *want = freeze ? "FROZEN" : "THAWED";
    if (put(dir, "freezer.state", want, NULL, err) < 0)
        return -1;
    unsigned long long start = now_ns();
    for (unsigned round = 1;; round++) {
        autofree char *state = get(dir, "freezer.state", err);
        if (state == NULL)
            return -1;
        if (strcmp(state, want) == 0)
            return 0;
        if (ms_since(start) >= FREEZE_TIMEOUT_MS) {
            if (freeze) {
                cerr_t ignored = NULL;
                put(dir, "freezer.state", "THAWED", NULL, &ignored);
                cerr_free(&ignored);
            }
            return cerr_set(err, 0, "%s `%s`: still %s after %d ms", freeze ? "freeze" : "thaw",
                            dir, state, FREEZE_TIMEOUT_MS);
        }
        /* A task stuck in FREEZING may need the request again. */
        if (round % 50 == 0 && put(dir, "freezer.state", want, NULL, err) < 0)
            return -1;
        sleep_ms(round < 10 ? 1 : 10);
    }
}

static int v2_frozen(const char *dir, cerr_t *err)
{
    autofree char *ev = get(dir, "cgroup.events", err);
    if (ev == NULL)
        return -1;
    return keyed_value(ev, "frozen") == 1;
}

static int v2_freeze(const char *dir, bool freeze, cerr_t *err)
{
    if (put(dir, "cgroup.freeze", freeze ? "1" : "0", NULL, err) < 0)
        return -1;
    /* cgroup.events reports "frozen 1" once every task stopped, and signals changes as
     * POLLPRI: wait on it, re-reading in case a notification was missed. */
    autofree char *evpath = xasprintf("%s/cgroup.events", dir);
    autoclose int fd = open(evpath, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cerr_set(err, errno, "open `%s`", evpath);
    unsigned long long start = now_ns();
    for (;;) {
        char buf[512];
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        if (n < 0)
            return cerr_set(err, errno, "read `%s`", evpath);
        buf[n] = '\0';
        if ((keyed_value(buf, "frozen") == 1) == freeze)
            return 0;
        if (ms_since(start) >= FREEZE_TIMEOUT_MS) {
            if (freeze) {
                cerr_t ignored = NULL;
                put(dir, "cgroup.freeze", "0", NULL, &ignored);
                cerr_free(&ignored);
            }
            return cerr_set(err, 0, "%s `%s`: not done after %d ms", freeze ? "freeze" : "thaw",
                            dir, FREEZE_TIMEOUT_MS);
        }
        struct pollfd p = {.fd = fd, .events = POLLPRI};
        poll(&p, 1, 10);
    }
}

int cgroup_freeze(const char *path, bool freeze, cerr_t *err)
{
    if (check_path(path, err) < 0)
        return -1;
    const struct hier *h = freeze_hier(layout_get());
    if (h == NULL)
        return cerr_set(err, 0, "no freezer: neither the v1 freezer nor cgroup v2 is mounted");
    autofree char *dir = xasprintf("%s%s", h->mnt, path);
    return h->v2 ? v2_freeze(dir, freeze, err) : v1_freeze(dir, freeze, err);
}

bool cgroup_is_frozen(const char *path)
{
    if (check_path(path, NULL) < 0)
        return false;
    const struct hier *h = freeze_hier(layout_get());
    if (h == NULL)
        return false;
    autofree char *dir = xasprintf("%s%s", h->mnt, path);
    if (h->v2)
        return v2_frozen(dir, NULL) == 1;
    autofree char *state = get(dir, "freezer.state", NULL);
    return state != NULL && strcmp(state, "FROZEN") == 0;
}

int cgroup_check_unused(const char *path, cerr_t *err)
{
    pid_t *pids = NULL;
    size_t n = 0;
    cerr_t ignore = NULL;
    /* A missing cgroup reads as empty; any other error is found by create. */
    if (cgroup_pids(path, &pids, &n, &ignore) < 0)
        n = 0;
    cerr_free(&ignore);
    free(pids);
    if (n > 0)
        return cerr_set(err, 0, "the cgroup `%s` already holds %zu process%s", path, n,
                        n == 1 ? "" : "es");
    return 0;
}
