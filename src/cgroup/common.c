/* What cgroup v1, hybrid and v2 hosts share. See cgroup.h.
 *
 * The layout of the host is detected once: the hierarchies cella uses (v1
 * controllers, possibly co-mounted, name=systemd, and the v2 tree) each have a
 * mount point; a container's cgroup is the same path below each of them. */
#define _GNU_SOURCE
#include "cgroup/cgroup.h"

#include "cgroup/devices.h"
#include "cgroup/internal.h"

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

#include "core/log.h"
#include "core/util.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define CGROUP_ROOT      "/sys/fs/cgroup"
#define CGROUP_UNIFIED   "/sys/fs/cgroup/unified"
#define KILL_TIMEOUT_MS  2000
#define RMDIR_TIMEOUT_MS 1000

/* ---- layout ------------------------------------------------------------------ */

const char *const cg_ctrl_names[C_COUNT] = {
    "cpu",     "cpuacct", "cpuset",  "memory",  "pids",     "devices",
    "freezer", "blkio",   "hugetlb", "net_cls", "net_prio", "name=systemd",
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
            if (strcmp(o, cg_ctrl_names[c]) == 0)
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

const struct layout *cg_layout(void)
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
    return cg_layout()->mode;
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

const struct hier *cg_hier_v2(const struct layout *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->h[i].v2)
            return &l->h[i];
    return NULL;
}

const struct hier *cg_hier_v1(const struct layout *l, enum ctrl c)
{
    for (size_t i = 0; i < l->n; i++)
        if (!l->h[i].v2 && (l->h[i].mask & (1u << c)))
            return &l->h[i];
    return NULL;
}

/* ---- small helpers ------------------------------------------------------------- */

void cg_sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

unsigned long long cg_ms_since(unsigned long long start_ns)
{
    return (now_ns() - start_ns) / 1000000ULL;
}

/* Move the error E into *ERR (unless *ERR already holds one). Returns -1. */
int cg_take_err(cerr_t *err, cerr_t *e)
{
    if (err != NULL && *err == NULL) {
        *err = *e;
        *e = NULL;
    }
    cerr_free(e);
    return -1;
}

bool cg_exists(const char *dir, const char *file)
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
char *cg_get(const char *dir, const char *file, cerr_t *err)
{
    autofree char *p = xasprintf("%s/%s", dir, file);
    char *s = read_file(p, NULL, err);
    if (s != NULL)
        trim_end(s);
    return s;
}

/* Write VALUE to DIR/FILE; the error names the file and, when given, the spec field. */
int cg_put(const char *dir, const char *file, const char *value, const char *field, cerr_t *err)
{
    autofree char *p = xasprintf("%s/%s", dir, file);
    if (write_knob(p, value, err) < 0)
        return field ? cerr_wrap(err, "%s", field) : -1;
    return 0;
}

int cg_put_i64(const char *dir, const char *file, int64_t v, const char *field, cerr_t *err)
{
    char b[32];
    snprintf(b, sizeof(b), "%" PRId64, v);
    return cg_put(dir, file, b, field, err);
}

int cg_put_u64(const char *dir, const char *file, uint64_t v, const char *field, cerr_t *err)
{
    char b[32];
    snprintf(b, sizeof(b), "%" PRIu64, v);
    return cg_put(dir, file, b, field, err);
}

/* Whether the whitespace-separated LIST holds WORD. */
bool cg_has_word(const char *list, const char *word)
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
long long cg_keyed_value(const char *text, const char *key)
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
        if (errno != EBUSY || cg_ms_since(start) >= RMDIR_TIMEOUT_MS)
            return -1;
        cg_sleep_ms(5);
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
    autofree char *procs = cg_get(dir, "cgroup.procs", &e);
    if (procs == NULL) {
        if (top)
            return cg_take_err(err, &e);
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
    const struct layout *l = cg_layout();
    const struct hier *h = l->mode == CGROUP_V2 ? cg_hier_v2(l) : cg_hier_v1(l, C_PIDS);
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
            int r = cgv2_enable_controllers(slash == dir ? "/" : dir, err);
            *slash = '/';
            if (r < 0)
                return -1;
        }
        if (mkdir(dir, 0755) == 0)
            dirlist_push(made, dir);
        else if (errno != EEXIST)
            return cerr_set(err, errno, "create cgroup `%s`", dir);
        if (cpuset && cgv1_cpuset_inherit(dir, err) < 0)
            return -1;
        dir[i] = saved;
    }
    return 0;
}

/* ---- reading and checking values -------------------------------------------------- */

int cg_read_u64(const char *dir, const char *file, unsigned long long *v, cerr_t *err)
{
    autofree char *s = cg_get(dir, file, err);
    if (s == NULL)
        return -1;
    *v = strtoull(s, NULL, 10);
    return 0;
}

int cg_check_usage(const char *dir, const char *file, int64_t limit, cerr_t *err)
{
    unsigned long long usage;
    if (cg_read_u64(dir, file, &usage, err) < 0)
        return -1;
    if (usage > (unsigned long long)limit)
        return cerr_set(err, 0,
                        F_MEM ".limit: %" PRId64 " is below the current usage %llu "
                              "(checkBeforeUpdate)",
                        limit, usage);
    return 0;
}

/* Hybrid: the v2 tree's controllers are off until enabled; turn CTRL on in
 * every ancestor of PATH, from the root down. */
static int v2_enable_along(const struct hier *h, const char *path, const char *ctrl,
                           const char *field, cerr_t *err)
{
    autofree char *dir = xasprintf("%s%s", h->mnt, path);
    autofree char *plus = xasprintf("+%s", ctrl);
    for (char *s = dir + strlen(h->mnt); s != NULL; s = strchr(s + 1, '/')) {
        char saved = *s;
        *s = '\0';
        autofree char *on = cg_get(dir, "cgroup.subtree_control", err);
        int r = on == NULL || (!cg_has_word(on, ctrl) &&
                               cg_put(dir, "cgroup.subtree_control", plus, field, err) < 0)
                    ? -1
                    : 0;
        *s = saved;
        if (r < 0)
            return -1;
    }
    return 0;
}

/* Apply R to PATH. `creating`: also install the device rules when R has none. */
static int apply(const struct layout *l, const char *path, const struct spec_resources *r,
                 bool creating, cerr_t *err)
{
    bool have = r != NULL && r->present;
    const struct hier *v2 = cg_hier_v2(l);
    if (l->mode == CGROUP_V2) {
        autofree char *dir = xasprintf("%s%s", v2->mnt, path);
        /* Device rules on v2: an eBPF program attached to the cgroup. */
        if (creating &&
            devices_bpf_attach(dir, have ? r->devices : NULL, have ? r->n_devices : 0, err) < 0)
            return -1;
        if (!have)
            return 0;
        return cgv2_apply(dir, r, err);
    }
    if (have && cgv1_apply(l, path, r, err) < 0)
        return -1;
    /* A hybrid host may offer hugetlb on the v2 tree only (not mounted as v1). */
    if (have && r->n_hugepages > 0 && cg_hier_v1(l, C_HUGETLB) == NULL && v2 != NULL) {
        if (v2_enable_along(v2, path, "hugetlb", "linux.resources.hugepageLimits", err) < 0)
            return -1;
        autofree char *dir = xasprintf("%s%s", v2->mnt, path);
        if (cgv2_hugetlb(dir, r, err) < 0)
            return -1;
    }
    if ((creating || (have && r->n_devices > 0)) && cgv1_devices(l, path, have ? r : NULL, err) < 0)
        return -1;
    return 0;
}

/* What no host of this kind can apply, refused before anything is made. */
static int check_resources(const struct layout *l, const struct spec_resources *r, cerr_t *err)
{
    return r != NULL && r->present ? cg_check_resources(l, r, err) : 0;
}

int cgroup_check_resources(const struct spec_resources *r, cerr_t *err)
{
    return check_resources(cg_layout(), r, err);
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
                    match = (h->mask & (1u << i)) && strcmp(c, cg_ctrl_names[i]) == 0;
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
        if (cg_put(dir, "cgroup.procs", b, NULL, err) == 0)
            continue;
        for (size_t j = 0; orig && j < i; j++) {
            autofree char *back = proc_cgroup_of(orig, &l->h[j]);
            if (back == NULL)
                continue;
            autofree char *bdir = xasprintf("%s%s", l->h[j].mnt, strcmp(back, "/") ? back : "");
            cerr_t ignored = NULL;
            cg_put(bdir, "cgroup.procs", b, NULL, &ignored);
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
    const struct layout *l = cg_layout();
    if (l->n == 0)
        return no_hierarchy(err);
    return enter_all(l, path, pid, err);
}

/* A thread that moves itself (`0` written to a v1 `tasks` file) takes no
 * global lock; a write to cgroup.procs takes cgroup_threadgroup_rwsem for
 * writing, which waits for an RCU grace period: 5-15 ms on this machine,
 * the largest part of a container's create. The caller is single-threaded
 * (a container's process before exec), so its thread is all of it. */
int cgroup_enter_self_v1(const char *path, cerr_t *err)
{
    if (check_path(path, err) < 0)
        return -1;
    const struct layout *l = cg_layout();
    for (size_t i = 0; i < l->n; i++) {
        if (l->h[i].v2)
            continue;
        autofree char *dir = xasprintf("%s%s", l->h[i].mnt, path);
        if (cg_put(dir, "tasks", "0", NULL, err) < 0)
            return -1;
    }
    return 0;
}

int cgroup_open_v2(const char *path)
{
    const struct hier *h = cg_hier_v2(cg_layout());
    cerr_t ignore = NULL;
    if (h == NULL || check_path(path, &ignore) < 0) {
        cerr_free(&ignore);
        return -1;
    }
    autofree char *dir = xasprintf("%s%s", h->mnt, path);
    return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int cgroup_enter_v2(const char *path, pid_t pid, cerr_t *err)
{
    if (check_path(path, err) < 0)
        return -1;
    const struct hier *h = cg_hier_v2(cg_layout());
    if (h == NULL)
        return 0;
    char b[24];
    snprintf(b, sizeof(b), "%d", (int)pid);
    autofree char *dir = xasprintf("%s%s", h->mnt, path);
    return cg_put(dir, "cgroup.procs", b, NULL, err);
}

int cgroup_create(const char *path, const struct spec_resources *r, pid_t pid, cerr_t *err)
{
    if (check_path(path, err) < 0)
        return -1;
    const struct layout *l = cg_layout();
    if (l->n == 0)
        return no_hierarchy(err);
    if (check_resources(l, r, err) < 0)
        return -1;
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
    const struct layout *l = cg_layout();
    if (l->n == 0)
        return no_hierarchy(err);
    if (check_resources(l, r, err) < 0 || check_exists(l, path, err) < 0)
        return -1;
    return apply(l, path, r, false, err);
}

/* ---- signals, destruction ------------------------------------------------------------- */

/* SIGKILL through v2 cgroup.kill (Linux 5.14) when the cgroup has it: no pid races. */
static bool kill_via_v2(const struct layout *l, const char *path)
{
    const struct hier *h = cg_hier_v2(l);
    if (h == NULL)
        return false;
    autofree char *dir = xasprintf("%s%s", h->mnt, path);
    if (!cg_exists(dir, "cgroup.kill"))
        return false;
    cerr_t e = NULL;
    int r = cg_put(dir, "cgroup.kill", "1", NULL, &e);
    cerr_free(&e);
    return r == 0;
}

int cgroup_kill_all(const char *path, int sig, cerr_t *err)
{
    if (check_path(path, err) < 0)
        return -1;
    if (sig == SIGKILL && kill_via_v2(cg_layout(), path))
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
        if (cg_ms_since(start) >= KILL_TIMEOUT_MS)
            return false;
        cg_sleep_ms(round < 10 ? 1 : 10);
    }
}

int cgroup_destroy(const char *path, cerr_t *err)
{
    if (check_path(path, err) < 0)
        return -1;
    const struct layout *l = cg_layout();
    int r = 0;
    if (!kill_until_empty(l, path))
        r = cerr_set(err, 0, "cgroup `%s`: processes still running %d ms after SIGKILL", path,
                     KILL_TIMEOUT_MS);
    /* Only the container's own cgroup (and what it made below it) goes: parents such as
     * a slice may be shared. */
    for (size_t i = 0; i < l->n; i++) {
        autofree char *dir = xasprintf("%s%s", l->h[i].mnt, path);
        if (rmdir_tree(dir, err) < 0)
            r = -1;
    }
    return r;
}

int cgroup_release_shared(const char *path, cerr_t *err)
{
    if (check_path(path, err) < 0)
        return -1;
    const struct layout *l = cg_layout();
    int r = 0;
    for (size_t i = 0; i < l->n; i++) {
        autofree char *dir = xasprintf("%s%s", l->h[i].mnt, path);
        struct pidv pv = {0};
        cerr_t e = NULL;
        collect_pids(dir, true, &pv, &e);
        cerr_free(&e);
        free(pv.v);
        if (pv.n == 0 && rmdir_tree(dir, err) < 0)
            r = -1;
    }
    return r;
}

/* ---- freezing ------------------------------------------------------------------------ */

/* The v1 freezer when mounted (v1, hybrid), else the v2 tree. */
static const struct hier *freeze_hier(const struct layout *l)
{
    const struct hier *h = cg_hier_v1(l, C_FREEZER);
    return h ? h : cg_hier_v2(l);
}

int cgroup_freeze(const char *path, bool freeze, cerr_t *err)
{
    if (check_path(path, err) < 0)
        return -1;
    const struct hier *h = freeze_hier(cg_layout());
    if (h == NULL)
        return cerr_set(err, 0, "no freezer: neither the v1 freezer nor cgroup v2 is mounted");
    autofree char *dir = xasprintf("%s%s", h->mnt, path);
    return h->v2 ? cgv2_freeze(dir, freeze, err) : cgv1_freeze(dir, freeze, err);
}

bool cgroup_is_frozen(const char *path)
{
    if (check_path(path, NULL) < 0)
        return false;
    const struct hier *h = freeze_hier(cg_layout());
    if (h == NULL)
        return false;
    autofree char *dir = xasprintf("%s%s", h->mnt, path);
    if (h->v2)
        return cgv2_frozen(dir, NULL) == 1;
    autofree char *state = cg_get(dir, "freezer.state", NULL);
    return state != NULL && strcmp(state, "FROZEN") == 0;
}

/* Whether PATH is frozen in any hierarchy: a process moved into it would stop
 * at once. In hybrid mode the v2 tree has its own cgroup.freeze. */
static bool frozen_anywhere(const struct layout *l, const char *path)
{
    for (size_t i = 0; i < l->n; i++) {
        const struct hier *h = &l->h[i];
        if (!h->v2 && !(h->mask & (1u << C_FREEZER)))
            continue;
        autofree char *dir = xasprintf("%s%s", h->mnt, path);
        if (h->v2) {
            if (cgv2_frozen(dir, NULL) == 1)
                return true;
            continue;
        }
        autofree char *state = cg_get(dir, "freezer.state", NULL);
        if (state != NULL && strcmp(state, "THAWED") != 0)
            return true;
    }
    return false;
}

int cgroup_check_existing(const char *path, cerr_t *err)
{
    if (check_path(path, err) < 0)
        return -1;
    if (frozen_anywhere(cg_layout(), path))
        return cerr_set(err, 0, "container's cgroup `%s` unexpectedly frozen (as runc refuses it)",
                        path);
    pid_t *pids = NULL;
    size_t n = 0;
    cerr_t ignore = NULL;
    /* A missing cgroup reads as empty; any other error is found by create. */
    if (cgroup_pids(path, &pids, &n, &ignore) < 0)
        n = 0;
    cerr_free(&ignore);
    free(pids);
    /* runc 1.1 warns and goes on (1.2 refuses). */
    if (n > 0)
        log_warn("the cgroup `%s` is not empty: %zu process%s found", path, n, n == 1 ? "" : "es");
    return n > 0 ? 1 : 0;
}
