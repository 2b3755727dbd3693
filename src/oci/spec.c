#define _GNU_SOURCE
#include "oci/spec.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/util.h"
#include "oci/spec_json.h"

/* ---- small tables -------------------------------------------------------- */

static const struct {
    const char *spec_name, *proc_name;
    int flag;
} ns_table[NS_COUNT] = {
    [NS_PID] = {"pid", "pid", CLONE_NEWPID},
    [NS_NETWORK] = {"network", "net", CLONE_NEWNET},
    [NS_MOUNT] = {"mount", "mnt", CLONE_NEWNS},
    [NS_IPC] = {"ipc", "ipc", CLONE_NEWIPC},
    [NS_UTS] = {"uts", "uts", CLONE_NEWUTS},
    [NS_USER] = {"user", "user", CLONE_NEWUSER},
    [NS_CGROUP] = {"cgroup", "cgroup", CLONE_NEWCGROUP},
    [NS_TIME] = {"time", "time", 0x00000080 /* CLONE_NEWTIME */},
};

const char *ns_type_name(enum ns_type t)
{
    return ns_table[t].spec_name;
}
const char *ns_proc_name(enum ns_type t)
{
    return ns_table[t].proc_name;
}
int ns_clone_flag(enum ns_type t)
{
    return ns_table[t].flag;
}

static const char *hook_names[HOOK_COUNT] = {
    [HOOK_PRESTART] = "prestart",
    [HOOK_CREATE_RUNTIME] = "createRuntime",
    [HOOK_CREATE_CONTAINER] = "createContainer",
    [HOOK_START_CONTAINER] = "startContainer",
    [HOOK_POSTSTART] = "poststart",
    [HOOK_POSTSTOP] = "poststop",
};

const char *hook_kind_name(enum hook_kind k)
{
    return hook_names[k];
}

static const struct {
    const char *name;
    int res;
} rlimit_table[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

int rlimit_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof(rlimit_table) / sizeof(rlimit_table[0]); i++)
        if (strcmp(rlimit_table[i].name, name) == 0)
            return rlimit_table[i].res;
    return -1;
}

/* ---- lists ---------------------------------------------------------------- */

int str_list_push(struct str_list *l, const char *s)
{
    char **nv = realloc(l->v, (l->n + 2) * sizeof(char *));
    if (nv == NULL)
        return -1;
    l->v = nv;
    if (s != NULL) {
        l->v[l->n] = strdup(s);
        if (l->v[l->n] == NULL)
            return -1;
        l->n++;
    }
    l->v[l->n] = NULL;
    return 0;
}

void str_list_free(struct str_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static void kv_list_free(struct kv_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].key);
        free(l->v[i].value);
    }
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* Iterate an optional array field, calling fn for each element object. */
typedef int (*elem_fn)(json_t *elem, const char *path, size_t i, void *ctx, cerr_t *err);

static int each_object(json_t *obj, const char *key, const char *parent, size_t elem_size,
                       void **out, size_t *n, elem_fn fn, cerr_t *err)
{
    char p[JPATH_MAX], ip[JPATH_MAX];
    json_t *arr, *v;
    size_t i;
    if (jget_array(obj, key, parent, &arr, err) < 0)
        return -1;
    if (arr == NULL)
        return 0;
    jpath_key(p, parent, key);
    size_t count = json_array_size(arr);
    char *base = calloc(count ? count : 1, elem_size);
    if (base == NULL)
        return cerr_set(err, 0, "out of memory");
    *out = base;
    *n = 0;
    json_array_foreach(arr, i, v)
    {
        jpath_idx(ip, p, i);
        if (!json_is_object(v))
            return jtype_error(ip, "object", err);
        (*n)++; /* counted first so that a half-parsed element is freed too */
        if (fn(v, ip, i, base + i * elem_size, err) < 0)
            return -1;
    }
    return 0;
}

static int require(json_t *obj, const char *key, const char *path, cerr_t *err)
{
    char p[JPATH_MAX];
    if (jfield(obj, key) == NULL)
        return cerr_set(err, 0, "%s: required field is missing", jpath_key(p, path, key));
    return 0;
}

/* Record in OUT the JSON path of each of KEYS (NULL-terminated) that O sets:
 * runtime-spec fields cella does not implement, refused by the level. */
static int note_unsupported(json_t *o, const char *path, const char *const *keys,
                            struct str_list *out, cerr_t *err)
{
    char p[JPATH_MAX];
    for (; *keys != NULL; keys++) {
        json_t *v = jfield(o, *keys);
        if (v == NULL || (json_is_array(v) && json_array_size(v) == 0) ||
            (json_is_string(v) && json_string_length(v) == 0))
            continue; /* an empty list or label asks for nothing */
        if (str_list_push(out, jpath_key(p, path, *keys)) < 0)
            return cerr_set(err, 0, "out of memory");
    }
    return 0;
}

/* ---- process --------------------------------------------------------------- */

static int parse_rlimit(json_t *o, const char *path, size_t i, void *out, cerr_t *err)
{
    (void)i;
    struct spec_rlimit *r = out;
    char tp[JPATH_MAX];
    if (require(o, "type", path, err) < 0 || jget_string(o, "type", path, &r->type, err) < 0 ||
        jget_u64(o, "soft", path, UINT64_MAX, &r->soft, NULL, err) < 0 ||
        jget_u64(o, "hard", path, UINT64_MAX, &r->hard, NULL, err) < 0)
        return -1;
    r->resource = rlimit_from_name(r->type);
    if (r->resource < 0)
        return cerr_set(err, 0, "%s: unknown rlimit `%s`", jpath_key(tp, path, "type"), r->type);
    return 0;
}

static int parse_caps(json_t *o, const char *path, struct spec_caps *c, cerr_t *err)
{
    c->present = true;
    return jget_str_list(o, "bounding", path, &c->bounding, err) < 0 ||
                   jget_str_list(o, "effective", path, &c->effective, err) < 0 ||
                   jget_str_list(o, "inheritable", path, &c->inheritable, err) < 0 ||
                   jget_str_list(o, "permitted", path, &c->permitted, err) < 0 ||
                   jget_str_list(o, "ambient", path, &c->ambient, err) < 0
               ? -1
               : 0;
}

static int parse_user(json_t *o, const char *path, struct spec_user *u, cerr_t *err)
{
    uint64_t v = 0;
    bool set = false;
    json_t *gids;
    char p[JPATH_MAX], ip[JPATH_MAX];
    if (jget_u64(o, "uid", path, UINT32_MAX, &v, &set, err) < 0)
        return -1;
    if (set)
        u->uid = (uid_t)v;
    set = false;
    if (jget_u64(o, "gid", path, UINT32_MAX, &v, &set, err) < 0)
        return -1;
    if (set)
        u->gid = (gid_t)v;
    if (jget_u64(o, "umask", path, 07777, &v, &u->has_umask, err) < 0)
        return -1;
    u->umask = (mode_t)v;
    if (jget_string(o, "username", path, &u->username, err) < 0)
        return -1;
    if (jget_array(o, "additionalGids", path, &gids, err) < 0)
        return -1;
    if (gids != NULL) {
        size_t i;
        json_t *g;
        jpath_key(p, path, "additionalGids");
        u->additional_gids = calloc(json_array_size(gids) + 1, sizeof(gid_t));
        if (u->additional_gids == NULL)
            return cerr_set(err, 0, "out of memory");
        json_array_foreach(gids, i, g)
        {
            if (!json_is_integer(g) || json_integer_value(g) < 0 ||
                json_integer_value(g) > UINT32_MAX)
                return jtype_error(jpath_idx(ip, p, i), "unsigned integer", err);
            u->additional_gids[u->n_additional_gids++] = (gid_t)json_integer_value(g);
        }
    }
    return 0;
}

/* process.ioPriority: {"class": "IOPRIO_CLASS_RT|BE|IDLE", "priority": 0..7}. */
static int parse_ioprio(json_t *o, const char *path, struct spec_process *p, cerr_t *err)
{
    static const char *const classes[] = {"IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE",
                                          "IOPRIO_CLASS_IDLE"};
    char *cls = NULL;
    char fp[JPATH_MAX];
    int64_t prio = 0;
    if (require(o, "class", path, err) < 0 || jget_string(o, "class", path, &cls, err) < 0 ||
        jget_i64(o, "priority", path, &prio, NULL, err) < 0) {
        free(cls);
        return -1;
    }
    p->ioprio_class = 0;
    for (int i = 0; i < 3; i++)
        if (strcmp(cls, classes[i]) == 0)
            p->ioprio_class = i + 1;
    if (p->ioprio_class == 0) {
        cerr_set(err, 0, "%s: unknown class `%s`", jpath_key(fp, path, "class"), cls);
        free(cls);
        return -1;
    }
    free(cls);
    if (prio < 0 || prio > 7)
        return cerr_set(err, 0, "%s: must be between 0 and 7", jpath_key(fp, path, "priority"));
    p->ioprio_level = (int)prio;
    p->has_ioprio = true;
    return 0;
}

/* process.scheduler: the policy's name is its value for sched_setattr(2)
 * (its index here), each flag name its bit. */
static int parse_sched(json_t *o, const char *path, struct spec_process *p, cerr_t *err)
{
    static const char *const policies[] = {"SCHED_OTHER",   "SCHED_FIFO", "SCHED_RR",
                                           "SCHED_BATCH",   "SCHED_ISO",  "SCHED_IDLE",
                                           "SCHED_DEADLINE"};
    static const char *const flag_names[] = {
        "SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM",     "SCHED_FLAG_DL_OVERRUN",
        "SCHED_FLAG_KEEP_POLICY",   "SCHED_FLAG_KEEP_PARAMS", "SCHED_FLAG_UTIL_CLAMP_MIN",
        "SCHED_FLAG_UTIL_CLAMP_MAX"};
    char *pol = NULL;
    char fp[JPATH_MAX];
    struct str_list flags = {0};
    int64_t nice = 0, prio = 0;
    int rc = 0;
    if (require(o, "policy", path, err) < 0 || jget_string(o, "policy", path, &pol, err) < 0 ||
        jget_i64(o, "nice", path, &nice, NULL, err) < 0 ||
        jget_i64(o, "priority", path, &prio, NULL, err) < 0 ||
        jget_u64(o, "runtime", path, UINT64_MAX, &p->sched_runtime, NULL, err) < 0 ||
        jget_u64(o, "deadline", path, UINT64_MAX, &p->sched_deadline, NULL, err) < 0 ||
        jget_u64(o, "period", path, UINT64_MAX, &p->sched_period, NULL, err) < 0 ||
        jget_str_list(o, "flags", path, &flags, err) < 0) {
        rc = -1;
        goto out;
    }
    p->sched_policy = ARRAY_SIZE(policies);
    for (size_t i = 0; i < ARRAY_SIZE(policies); i++)
        if (strcmp(pol, policies[i]) == 0)
            p->sched_policy = (unsigned)i;
    if (p->sched_policy == ARRAY_SIZE(policies)) {
        rc = cerr_set(err, 0, "%s: unknown policy `%s`", jpath_key(fp, path, "policy"), pol);
        goto out;
    }
    if (nice < -20 || nice > 19) {
        rc = cerr_set(err, 0, "%s: must be between -20 and 19", jpath_key(fp, path, "nice"));
        goto out;
    }
    if (prio < 0 || prio > 99) {
        rc = cerr_set(err, 0, "%s: must be between 0 and 99", jpath_key(fp, path, "priority"));
        goto out;
    }
    for (size_t i = 0; i < flags.n; i++) {
        size_t b = 0;
        while (b < ARRAY_SIZE(flag_names) && strcmp(flags.v[i], flag_names[b]) != 0)
            b++;
        if (b == ARRAY_SIZE(flag_names)) {
            char ip[JPATH_MAX];
            rc = cerr_set(err, 0, "%s: unknown flag `%s`",
                          jpath_idx(ip, jpath_key(fp, path, "flags"), i), flags.v[i]);
            goto out;
        }
        p->sched_flags |= 1ULL << b;
    }
    p->sched_nice = (int)nice;
    p->sched_priority = (unsigned)prio;
    p->has_sched = true;
out:
    free(pol);
    str_list_free(&flags);
    return rc;
}

/* A CPU or NUMA node list as the kernel writes them ("0-3,7"): bits set in
 * mask (words of 64), or one line naming the field. */
static int parse_id_list(const char *text, const char *field, uint64_t *mask, size_t words,
                         cerr_t *err)
{
    memset(mask, 0, words * sizeof(uint64_t));
    const char *p = text;
    bool any = false;
    while (*p) {
        char *end;
        errno = 0;
        unsigned long lo = strtoul(p, &end, 10), hi = lo;
        if (end == p || *p == '-' || *p == '+' || errno)
            goto bad;
        p = end;
        if (*p == '-') {
            const char *q = p + 1;
            hi = strtoul(q, &end, 10);
            if (end == q || *q == '-' || *q == '+' || errno || hi < lo)
                goto bad;
            p = end;
        }
        if (hi >= words * 64)
            return cerr_set(err, 0, "%s: `%s`: %lu is beyond the %zu cella handles", field, text,
                            hi, words * 64);
        for (unsigned long i = lo; i <= hi; i++)
            mask[i / 64] |= 1ULL << (i % 64);
        any = true;
        if (*p == ',' && p[1] != '\0')
            p++;
        else if (*p != '\0')
            goto bad;
    }
    if (any)
        return 0;
bad:
    return cerr_set(err, 0, "%s: `%s` is not a list such as 0-3,7", field, text);
}

static int parse_exec_cpu_affinity(json_t *o, const char *path, struct spec_process *p, cerr_t *err)
{
    char *initial = NULL, *final = NULL;
    char fp[JPATH_MAX];
    int rc = jget_string(o, "initial", path, &initial, err) < 0 ||
                     jget_string(o, "final", path, &final, err) < 0
                 ? -1
                 : 0;
    if (rc == 0 && initial != NULL)
        rc = parse_id_list(initial, jpath_key(fp, path, "initial"), p->cpu_initial, SPEC_CPU_WORDS,
                           err);
    if (rc == 0 && final != NULL)
        rc = parse_id_list(final, jpath_key(fp, path, "final"), p->cpu_final, SPEC_CPU_WORDS, err);
    p->has_cpu_initial = rc == 0 && initial != NULL;
    p->has_cpu_final = rc == 0 && final != NULL;
    free(initial);
    free(final);
    return rc;
}

static int parse_process_obj(json_t *o, const char *path, struct spec_process *p, cerr_t *err)
{
    /* (no LSM: the labels and the profile could only be dropped) */
    static const char *const not_yet[] = {"apparmorProfile", "selinuxLabel", NULL};
    json_t *sub;
    char sp[JPATH_MAX];
    int64_t i64;
    bool set = false;

    p->present = true;
    if (note_unsupported(o, path, not_yet, &p->unsupported, err) < 0)
        return -1;
    if (jget_bool(o, "terminal", path, &p->terminal, err) < 0)
        return -1;
    if (jget_object(o, "consoleSize", path, &sub, err) < 0)
        return -1;
    if (sub != NULL) {
        uint64_t h = 0, w = 0;
        jpath_key(sp, path, "consoleSize");
        if (jget_u64(sub, "height", sp, UINT16_MAX, &h, NULL, err) < 0 ||
            jget_u64(sub, "width", sp, UINT16_MAX, &w, NULL, err) < 0)
            return -1;
        p->console_height = (unsigned)h;
        p->console_width = (unsigned)w;
    }
    if (jget_object(o, "user", path, &sub, err) < 0)
        return -1;
    if (sub != NULL && parse_user(sub, jpath_key(sp, path, "user"), &p->user, err) < 0)
        return -1;
    if (jget_str_list(o, "args", path, &p->args, err) < 0 ||
        jget_str_list(o, "env", path, &p->env, err) < 0 ||
        jget_string(o, "cwd", path, &p->cwd, err) < 0)
        return -1;
    if (jget_object(o, "ioPriority", path, &sub, err) < 0)
        return -1;
    if (sub != NULL && parse_ioprio(sub, jpath_key(sp, path, "ioPriority"), p, err) < 0)
        return -1;
    if (jget_object(o, "scheduler", path, &sub, err) < 0)
        return -1;
    if (sub != NULL && parse_sched(sub, jpath_key(sp, path, "scheduler"), p, err) < 0)
        return -1;
    if (jget_object(o, "execCPUAffinity", path, &sub, err) < 0)
        return -1;
    if (sub != NULL &&
        parse_exec_cpu_affinity(sub, jpath_key(sp, path, "execCPUAffinity"), p, err) < 0)
        return -1;
    if (jget_object(o, "capabilities", path, &sub, err) < 0)
        return -1;
    if (sub != NULL && parse_caps(sub, jpath_key(sp, path, "capabilities"), &p->caps, err) < 0)
        return -1;
    if (each_object(o, "rlimits", path, sizeof(struct spec_rlimit), (void **)&p->rlimits,
                    &p->n_rlimits, parse_rlimit, err) < 0)
        return -1;
    if (jget_bool(o, "noNewPrivileges", path, &p->no_new_privileges, err) < 0 ||
        jget_string(o, "apparmorProfile", path, &p->apparmor_profile, err) < 0 ||
        jget_string(o, "selinuxLabel", path, &p->selinux_label, err) < 0)
        return -1;
    if (jget_i64(o, "oomScoreAdj", path, &i64, &set, err) < 0)
        return -1;
    if (set) {
        if (i64 < -1000 || i64 > 1000)
            return cerr_set(err, 0, "%s: must be between -1000 and 1000",
                            jpath_key(sp, path, "oomScoreAdj"));
        p->has_oom_score_adj = true;
        p->oom_score_adj = (int)i64;
    }
    if (p->cwd != NULL && p->cwd[0] != '/')
        return cerr_set(err, 0, "%s: must be an absolute path", jpath_key(sp, path, "cwd"));
    return 0;
}

/* ---- mounts, namespaces, devices ------------------------------------------- */

static int parse_idmap(json_t *o, const char *path, size_t i, void *out, cerr_t *err)
{
    (void)i;
    struct spec_idmap *m = out;
    uint64_t c = 0, h = 0, s = 0;
    if (jget_u64(o, "containerID", path, UINT32_MAX, &c, NULL, err) < 0 ||
        jget_u64(o, "hostID", path, UINT32_MAX, &h, NULL, err) < 0 ||
        jget_u64(o, "size", path, UINT32_MAX, &s, NULL, err) < 0)
        return -1;
    m->container_id = (uint32_t)c;
    m->host_id = (uint32_t)h;
    m->size = (uint32_t)s;
    return 0;
}

static int parse_mount(json_t *o, const char *path, size_t i, void *out, cerr_t *err)
{
    (void)i;
    struct spec_mount *m = out;
    if (require(o, "destination", path, err) < 0)
        return -1;

    if (jget_string(o, "destination", path, &m->destination, err) < 0 ||
        jget_string(o, "type", path, &m->type, err) < 0 ||
        jget_string(o, "source", path, &m->source, err) < 0 ||
        jget_str_list(o, "options", path, &m->options, err) < 0 ||
        each_object(o, "uidMappings", path, sizeof(struct spec_idmap), (void **)&m->uid_mappings,
                    &m->n_uid_mappings, parse_idmap, err) < 0 ||
        each_object(o, "gidMappings", path, sizeof(struct spec_idmap), (void **)&m->gid_mappings,
                    &m->n_gid_mappings, parse_idmap, err) < 0)
        return -1;
    /* One user namespace carries both maps: with one alone the other ids
     * would show as the overflow id. */
    if ((m->n_uid_mappings == 0) != (m->n_gid_mappings == 0))
        return cerr_set(err, 0, "%s: uidMappings and gidMappings go together (idmapped mount)",
                        path);
    return 0;
}

static int parse_device(json_t *o, const char *path, size_t i, void *out, cerr_t *err)
{
    (void)i;
    struct spec_device *d = out;
    char *type = NULL;
    char tp[JPATH_MAX];
    uint64_t v = 0;
    if (require(o, "path", path, err) < 0 || require(o, "type", path, err) < 0)
        return -1;
    if (jget_string(o, "path", path, &d->path, err) < 0 ||
        jget_string(o, "type", path, &type, err) < 0)
        return -1;
    if (strlen(type) != 1 || strchr("cbup", type[0]) == NULL) {
        free(type);
        return cerr_set(err, 0, "%s: unknown device type", jpath_key(tp, path, "type"));
    }
    d->type = type[0];
    free(type);
    if (jget_i64(o, "major", path, &d->major, NULL, err) < 0 ||
        jget_i64(o, "minor", path, &d->minor, NULL, err) < 0)
        return -1;
    /* The permission bits: podman --privileged passes the host node's whole
     * st_mode, file type included (runc masks it off too). */
    if (jget_u64(o, "fileMode", path, UINT32_MAX, &v, &d->has_mode, err) < 0)
        return -1;
    d->file_mode = (mode_t)v & 07777;
    if (jget_u64(o, "uid", path, UINT32_MAX, &v, &d->has_uid, err) < 0)
        return -1;
    d->uid = (uid_t)v;
    if (jget_u64(o, "gid", path, UINT32_MAX, &v, &d->has_gid, err) < 0)
        return -1;
    d->gid = (gid_t)v;
    return 0;
}

static int parse_namespaces(json_t *lin, const char *path, struct spec_linux *l, cerr_t *err)
{
    char p[JPATH_MAX], ip[JPATH_MAX], fp[JPATH_MAX];
    json_t *arr, *v;
    size_t i;
    if (jget_array(lin, "namespaces", path, &arr, err) < 0)
        return -1;
    if (arr == NULL)
        return 0;
    jpath_key(p, path, "namespaces");
    json_array_foreach(arr, i, v)
    {
        char *type = NULL, *nspath = NULL;
        jpath_idx(ip, p, i);
        if (!json_is_object(v))
            return jtype_error(ip, "object", err);
        if (require(v, "type", ip, err) < 0 || jget_string(v, "type", ip, &type, err) < 0 ||
            jget_string(v, "path", ip, &nspath, err) < 0) {
            free(type);
            free(nspath);
            return -1;
        }
        int t;
        for (t = 0; t < NS_COUNT; t++)
            if (strcmp(type, ns_table[t].spec_name) == 0)
                break;
        if (t == NS_COUNT) {
            cerr_set(err, 0, "%s: unknown namespace type `%s`", jpath_key(fp, ip, "type"), type);
            free(type);
            free(nspath);
            return -1;
        }
        free(type);
        if (l->ns[t].present) {
            free(nspath);
            return cerr_set(err, 0, "%s: namespace `%s` listed twice", ip, ns_table[t].spec_name);
        }
        l->ns[t].present = true;
        l->ns[t].path = nspath;
    }
    return 0;
}

/* ---- resources --------------------------------------------------------------- */

/* As runc takes it: an empty access is an error; other letters than r, w, m
 * are ignored (runc's cgroup v1 rules drop them). Left as the r, w, m it
 * holds, in that order; none of them at all is refused, not read as "rwm". */
static int normalize_access(char *a, const char *path, cerr_t *err)
{
    char ap[JPATH_MAX];
    bool r = strchr(a, 'r') != NULL, w = strchr(a, 'w') != NULL, m = strchr(a, 'm') != NULL;
    if (!r && !w && !m)
        return cerr_set(err, 0, "%s: `%s` has none of r, w, m", jpath_key(ap, path, "access"), a);
    snprintf(a, strlen(a) + 1, "%s%s%s", r ? "r" : "", w ? "w" : "", m ? "m" : "");
    return 0;
}

static int parse_dev_cgroup(json_t *o, const char *path, size_t i, void *out, cerr_t *err)
{
    (void)i;
    struct spec_dev_cgroup *d = out;
    char *type = NULL;
    char tp[JPATH_MAX];
    d->major = d->minor = -1;
    d->type = 'a';
    if (require(o, "allow", path, err) < 0 || jget_bool(o, "allow", path, &d->allow, err) < 0 ||
        jget_string(o, "type", path, &type, err) < 0)
        return -1;
    if (type != NULL) {
        if (strlen(type) != 1 || strchr("acb", type[0]) == NULL) {
            free(type);
            return cerr_set(err, 0, "%s: must be one of a, c, b", jpath_key(tp, path, "type"));
        }
        d->type = type[0];
        free(type);
    }
    if (jget_i64(o, "major", path, &d->major, NULL, err) < 0 ||
        jget_i64(o, "minor", path, &d->minor, NULL, err) < 0 ||
        jget_string(o, "access", path, &d->access, err) < 0)
        return -1;
    return d->access != NULL ? normalize_access(d->access, path, err) : 0;
}

static int parse_hugepage(json_t *o, const char *path, size_t i, void *out, cerr_t *err)
{
    (void)i;
    struct spec_hugepage *h = out;
    return require(o, "pageSize", path, err) < 0 || require(o, "limit", path, err) < 0 ||
                   jget_string(o, "pageSize", path, &h->page_size, err) < 0 ||
                   jget_u64(o, "limit", path, UINT64_MAX, &h->limit, NULL, err) < 0
               ? -1
               : 0;
}

static int parse_ifprio(json_t *o, const char *path, size_t i, void *out, cerr_t *err)
{
    (void)i;
    struct spec_ifprio *p = out;
    uint64_t v = 0;
    if (require(o, "name", path, err) < 0 || require(o, "priority", path, err) < 0 ||
        jget_string(o, "name", path, &p->name, err) < 0 ||
        jget_u64(o, "priority", path, UINT32_MAX, &v, NULL, err) < 0)
        return -1;
    p->priority = (uint32_t)v;
    return 0;
}

static int parse_network(json_t *o, const char *path, struct spec_resources *r, cerr_t *err)
{
    uint64_t v = 0;
    if (jget_u64(o, "classID", path, UINT32_MAX, &v, &r->network.class_id.set, err) < 0)
        return -1;
    r->network.class_id.v = (uint32_t)v;
    return each_object(o, "priorities", path, sizeof(struct spec_ifprio),
                       (void **)&r->network.priorities, &r->network.n_priorities, parse_ifprio,
                       err);
}

#define GET_I64(obj, key, path, field) jget_i64(obj, key, path, &(field).v, &(field).set, err)
#define GET_U64(obj, key, path, max, field)                                                        \
    jget_u64(obj, key, path, max, &(field).v, &(field).set, err)

static int parse_resources(json_t *o, const char *path, struct spec_resources *r, cerr_t *err)
{
    static const char *const not_yet[] = {"rdma", NULL};
    static const char *const cpu_not_yet[] = {"burst", NULL};
    static const char *const blkio_not_yet[] = {"leafWeight",
                                                "weightDevice",
                                                "throttleReadBpsDevice",
                                                "throttleWriteBpsDevice",
                                                "throttleReadIOPSDevice",
                                                "throttleWriteIOPSDevice",
                                                NULL};
    json_t *sub;
    char sp[JPATH_MAX];
    r->present = true;
    if (note_unsupported(o, path, not_yet, &r->unsupported, err) < 0)
        return -1;

    if (jget_object(o, "memory", path, &sub, err) < 0)
        return -1;
    if (sub != NULL) {
        jpath_key(sp, path, "memory");
        if (GET_I64(sub, "limit", sp, r->memory.limit) < 0 ||
            GET_I64(sub, "reservation", sp, r->memory.reservation) < 0 ||
            GET_I64(sub, "swap", sp, r->memory.swap) < 0 ||
            GET_I64(sub, "kernel", sp, r->memory.kernel) < 0 ||
            GET_I64(sub, "kernelTCP", sp, r->memory.kernel_tcp) < 0 ||
            GET_U64(sub, "swappiness", sp, UINT64_MAX, r->memory.swappiness) < 0)
            return -1;
        r->memory.disable_oom_killer.set = jfield(sub, "disableOOMKiller") != NULL;
        r->memory.use_hierarchy.set = jfield(sub, "useHierarchy") != NULL;
        r->memory.check_before_update.set = jfield(sub, "checkBeforeUpdate") != NULL;
        if (jget_bool(sub, "disableOOMKiller", sp, &r->memory.disable_oom_killer.v, err) < 0 ||
            jget_bool(sub, "useHierarchy", sp, &r->memory.use_hierarchy.v, err) < 0 ||
            jget_bool(sub, "checkBeforeUpdate", sp, &r->memory.check_before_update.v, err) < 0)
            return -1;
    }
    if (jget_object(o, "cpu", path, &sub, err) < 0)
        return -1;
    if (sub != NULL) {
        jpath_key(sp, path, "cpu");
        if (note_unsupported(sub, sp, cpu_not_yet, &r->unsupported, err) < 0)
            return -1;
        if (GET_U64(sub, "shares", sp, UINT64_MAX, r->cpu.shares) < 0 ||
            GET_I64(sub, "quota", sp, r->cpu.quota) < 0 ||
            GET_U64(sub, "period", sp, UINT64_MAX, r->cpu.period) < 0 ||
            GET_I64(sub, "realtimeRuntime", sp, r->cpu.realtime_runtime) < 0 ||
            GET_U64(sub, "realtimePeriod", sp, UINT64_MAX, r->cpu.realtime_period) < 0 ||
            GET_I64(sub, "idle", sp, r->cpu.idle) < 0 ||
            jget_string(sub, "cpus", sp, &r->cpu.cpus, err) < 0 ||
            jget_string(sub, "mems", sp, &r->cpu.mems, err) < 0)
            return -1;
    }
    if (jget_object(o, "pids", path, &sub, err) < 0)
        return -1;
    if (sub != NULL && GET_I64(sub, "limit", jpath_key(sp, path, "pids"), r->pids.limit) < 0)
        return -1;
    if (jget_object(o, "blockIO", path, &sub, err) < 0)
        return -1;
    if (sub != NULL) {
        uint64_t w = 0;
        bool set = false;
        if (jget_u64(sub, "weight", jpath_key(sp, path, "blockIO"), UINT16_MAX, &w, &set, err) <
                0 ||
            note_unsupported(sub, sp, blkio_not_yet, &r->unsupported, err) < 0)
            return -1;
        r->blkio.weight.set = set;
        r->blkio.weight.v = (uint16_t)w;
    }
    if (each_object(o, "devices", path, sizeof(struct spec_dev_cgroup), (void **)&r->devices,
                    &r->n_devices, parse_dev_cgroup, err) < 0 ||
        each_object(o, "hugepageLimits", path, sizeof(struct spec_hugepage), (void **)&r->hugepages,
                    &r->n_hugepages, parse_hugepage, err) < 0)
        return -1;
    if (jget_object(o, "network", path, &sub, err) < 0)
        return -1;
    if (sub != NULL && parse_network(sub, jpath_key(sp, path, "network"), r, err) < 0)
        return -1;
    return jget_str_map(o, "unified", path, &r->unified, err);
}

/* ---- seccomp ----------------------------------------------------------------- */

static int parse_seccomp_arg(json_t *o, const char *path, size_t i, void *out, cerr_t *err)
{
    (void)i;
    struct spec_seccomp_arg *a = out;
    uint64_t idx = 0;
    if (require(o, "index", path, err) < 0 || require(o, "value", path, err) < 0 ||
        require(o, "op", path, err) < 0)
        return -1;
    if (jget_u64(o, "index", path, 5, &idx, NULL, err) < 0 ||
        jget_u64(o, "value", path, UINT64_MAX, &a->value, NULL, err) < 0 ||
        jget_u64(o, "valueTwo", path, UINT64_MAX, &a->value_two, NULL, err) < 0 ||
        jget_string(o, "op", path, &a->op, err) < 0)
        return -1;
    a->index = (unsigned)idx;
    return 0;
}

static int parse_seccomp_rule(json_t *o, const char *path, size_t i, void *out, cerr_t *err)
{
    (void)i;
    struct spec_seccomp_rule *r = out;
    uint64_t e = 0;
    if (require(o, "names", path, err) < 0 || require(o, "action", path, err) < 0)
        return -1;
    if (jget_str_list(o, "names", path, &r->names, err) < 0 ||
        jget_string(o, "action", path, &r->action, err) < 0 ||
        jget_u64(o, "errnoRet", path, UINT32_MAX, &e, &r->has_errno_ret, err) < 0)
        return -1;
    r->errno_ret = (unsigned)e;
    return each_object(o, "args", path, sizeof(struct spec_seccomp_arg), (void **)&r->args,
                       &r->n_args, parse_seccomp_arg, err);
}

static int parse_seccomp(json_t *o, const char *path, struct spec_seccomp *s, cerr_t *err)
{
    uint64_t e = 0;
    s->present = true;
    if (require(o, "defaultAction", path, err) < 0 ||
        jget_string(o, "defaultAction", path, &s->default_action, err) < 0 ||
        jget_u64(o, "defaultErrnoRet", path, UINT32_MAX, &e, &s->has_default_errno_ret, err) < 0 ||
        jget_str_list(o, "architectures", path, &s->architectures, err) < 0 ||
        jget_str_list(o, "flags", path, &s->flags, err) < 0 ||
        jget_string(o, "listenerPath", path, &s->listener_path, err) < 0 ||
        jget_string(o, "listenerMetadata", path, &s->listener_metadata, err) < 0)
        return -1;
    s->default_errno_ret = (unsigned)e;
    return each_object(o, "syscalls", path, sizeof(struct spec_seccomp_rule), (void **)&s->syscalls,
                       &s->n_syscalls, parse_seccomp_rule, err);
}

/* ---- linux ------------------------------------------------------------------- */

/* linux.timeOffsets: {"monotonic"|"boottime": {"secs": s64, "nanosecs": u32}}; the
 * kernel offsets no other clock, so another name is refused. */
static int parse_time_offsets(json_t *o, const char *path, struct spec_linux *l, cerr_t *err)
{
    static const char *const clocks[] = {"monotonic", "boottime"};
    const char *k;
    json_t *v;
    char kp[JPATH_MAX];
    json_object_foreach(o, k, v)
    {
        size_t i = 0;
        while (i < ARRAY_SIZE(clocks) && strcmp(k, clocks[i]) != 0)
            i++;
        jpath_key(kp, path, k);
        if (i == ARRAY_SIZE(clocks))
            return cerr_set(err, 0, "%s: unknown clock (monotonic or boottime)", kp);
        if (!json_is_object(v))
            return jtype_error(kp, "object", err);
        uint64_t ns = 0;
        if (jget_i64(v, "secs", kp, &l->time_offsets[i].secs, NULL, err) < 0 ||
            jget_u64(v, "nanosecs", kp, 999999999, &ns, NULL, err) < 0)
            return -1;
        l->time_offsets[i].nanosecs = (uint32_t)ns;
        l->time_offsets[i].set = true;
    }
    return 0;
}

/* linux.personality: {"domain": "LINUX|LINUX32", "flags": [...]}. The spec
 * names no flag, so any flag is refused rather than dropped. */
static int parse_personality(json_t *o, const char *path, struct spec_linux *l, cerr_t *err)
{
    char *dom = NULL;
    char fp[JPATH_MAX];
    struct str_list flags = {0};
    if (require(o, "domain", path, err) < 0 || jget_string(o, "domain", path, &dom, err) < 0 ||
        jget_str_list(o, "flags", path, &flags, err) < 0) {
        free(dom);
        str_list_free(&flags);
        return -1;
    }
    int rc = 0;
    if (strcmp(dom, "LINUX") == 0)
        l->personality = 0x0000; /* PER_LINUX */
    else if (strcmp(dom, "LINUX32") == 0)
        l->personality = 0x0008; /* PER_LINUX32 */
    else
        rc = cerr_set(err, 0, "%s: unknown domain `%s` (LINUX or LINUX32)",
                      jpath_key(fp, path, "domain"), dom);
    if (rc == 0 && flags.n > 0)
        rc = cerr_set(err, 0, "%s: `%s` is not supported (no flag is)",
                      jpath_key(fp, path, "flags"), flags.v[0]);
    free(dom);
    str_list_free(&flags);
    l->has_personality = rc == 0;
    return rc;
}

/* linux.memoryPolicy: the names of set_mempolicy(2)'s modes and flags. */
static int parse_memory_policy(json_t *o, const char *path, struct spec_linux *l, cerr_t *err)
{
    static const char *const modes[] = {"MPOL_DEFAULT",
                                        "MPOL_PREFERRED",
                                        "MPOL_BIND",
                                        "MPOL_INTERLEAVE",
                                        "MPOL_LOCAL",
                                        "MPOL_PREFERRED_MANY",
                                        "MPOL_WEIGHTED_INTERLEAVE"};
    static const struct {
        const char *name;
        int bit;
    } flag_names[] = {{"MPOL_F_NUMA_BALANCING", 1 << 13},
                      {"MPOL_F_RELATIVE_NODES", 1 << 14},
                      {"MPOL_F_STATIC_NODES", 1 << 15}};
    char *mode = NULL, *nodes = NULL;
    char fp[JPATH_MAX];
    struct str_list flags = {0};
    int rc = require(o, "mode", path, err) < 0 || jget_string(o, "mode", path, &mode, err) < 0 ||
                     jget_string(o, "nodes", path, &nodes, err) < 0 ||
                     jget_str_list(o, "flags", path, &flags, err) < 0
                 ? -1
                 : 0;
    size_t m = 0;
    while (rc == 0 && m < ARRAY_SIZE(modes) && strcmp(modes[m], mode) != 0)
        m++;
    if (rc == 0 && m == ARRAY_SIZE(modes))
        rc = cerr_set(err, 0, "%s: unknown mode `%s`", jpath_key(fp, path, "mode"), mode);
    l->mempolicy_mode = (int)m;
    for (size_t i = 0; rc == 0 && i < flags.n; i++) {
        size_t f = 0;
        while (f < ARRAY_SIZE(flag_names) && strcmp(flag_names[f].name, flags.v[i]) != 0)
            f++;
        if (f == ARRAY_SIZE(flag_names))
            rc =
                cerr_set(err, 0, "%s: unknown flag `%s`", jpath_key(fp, path, "flags"), flags.v[i]);
        else
            l->mempolicy_mode |= flag_names[f].bit;
    }
    if (rc == 0 && nodes != NULL && nodes[0] != '\0')
        rc = parse_id_list(nodes, jpath_key(fp, path, "nodes"), l->mempolicy_nodes, SPEC_NODE_WORDS,
                           err);
    l->has_mempolicy = rc == 0;
    free(mode);
    free(nodes);
    str_list_free(&flags);
    return rc;
}

static int parse_linux(json_t *o, const char *path, struct spec_linux *l, struct str_list *unsup,
                       cerr_t *err)
{
    static const char *const not_yet[] = {"netDevices", "intelRdt", "mountLabel", NULL};
    json_t *sub;
    char sp[JPATH_MAX];
    if (note_unsupported(o, path, not_yet, unsup, err) < 0 || parse_namespaces(o, path, l, err) < 0)
        return -1;
    if (each_object(o, "uidMappings", path, sizeof(struct spec_idmap), (void **)&l->uid_mappings,
                    &l->n_uid_mappings, parse_idmap, err) < 0 ||
        each_object(o, "gidMappings", path, sizeof(struct spec_idmap), (void **)&l->gid_mappings,
                    &l->n_gid_mappings, parse_idmap, err) < 0 ||
        each_object(o, "devices", path, sizeof(struct spec_device), (void **)&l->devices,
                    &l->n_devices, parse_device, err) < 0)
        return -1;
    if (jget_string(o, "cgroupsPath", path, &l->cgroups_path, err) < 0)
        return -1;
    if (jget_object(o, "timeOffsets", path, &sub, err) < 0)
        return -1;
    if (sub != NULL && parse_time_offsets(sub, jpath_key(sp, path, "timeOffsets"), l, err) < 0)
        return -1;
    if (jget_object(o, "personality", path, &sub, err) < 0)
        return -1;
    if (sub != NULL && parse_personality(sub, jpath_key(sp, path, "personality"), l, err) < 0)
        return -1;
    if (jget_object(o, "memoryPolicy", path, &sub, err) < 0)
        return -1;
    if (sub != NULL && parse_memory_policy(sub, jpath_key(sp, path, "memoryPolicy"), l, err) < 0)
        return -1;
    if (jget_object(o, "resources", path, &sub, err) < 0)
        return -1;
    if (sub != NULL &&
        parse_resources(sub, jpath_key(sp, path, "resources"), &l->resources, err) < 0)
        return -1;
    if (jget_str_map(o, "sysctl", path, &l->sysctl, err) < 0)
        return -1;
    if (jget_object(o, "seccomp", path, &sub, err) < 0)
        return -1;
    if (sub != NULL && parse_seccomp(sub, jpath_key(sp, path, "seccomp"), &l->seccomp, err) < 0)
        return -1;
    if (jget_string(o, "rootfsPropagation", path, &l->rootfs_propagation, err) < 0 ||
        jget_str_list(o, "maskedPaths", path, &l->masked_paths, err) < 0 ||
        jget_str_list(o, "readonlyPaths", path, &l->readonly_paths, err) < 0 ||
        jget_string(o, "mountLabel", path, &l->mount_label, err) < 0)
        return -1;
    return 0;
}

/* ---- hooks ------------------------------------------------------------------- */

static int parse_hook(json_t *o, const char *path, size_t i, void *out, cerr_t *err)
{
    (void)i;
    struct spec_hook *h = out;
    int64_t t = 0;
    char tp[JPATH_MAX];
    if (require(o, "path", path, err) < 0 || jget_string(o, "path", path, &h->path, err) < 0 ||
        jget_str_list(o, "args", path, &h->args, err) < 0 ||
        jget_str_list(o, "env", path, &h->env, err) < 0 ||
        jget_i64(o, "timeout", path, &t, &h->has_timeout, err) < 0)
        return -1;
    if (h->has_timeout && (t <= 0 || t > SPEC_HOOK_TIMEOUT_MAX))
        return cerr_set(err, 0, "%s: must be between 1 and %d", jpath_key(tp, path, "timeout"),
                        SPEC_HOOK_TIMEOUT_MAX);
    h->timeout = (int)t;
    return 0;
}

static int parse_hooks(json_t *o, const char *path, struct spec_hooks *hooks, cerr_t *err)
{
    for (int k = 0; k < HOOK_COUNT; k++)
        if (each_object(o, hook_names[k], path, sizeof(struct spec_hook), (void **)&hooks[k].v,
                        &hooks[k].n, parse_hook, err) < 0)
            return -1;
    return 0;
}

/* ---- top level ------------------------------------------------------------------ */

static json_t *load_json(const char *text, size_t len, const char *origin, cerr_t *err)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je);
    /* jansson refuses integers above INT64_MAX, such as RLIM_INFINITY
     * (18446744073709551615) that runc and podman write: read those
     * documents with integers as reals (exact below 2^53, and the typed
     * readers accept whole reals and clamp 2^64 to UINT64_MAX). */
    jset_ints_as_reals(false);
    if (root == NULL && json_error_code(&je) == json_error_numeric_overflow) {
        root = json_loadb(text, len, JSON_DECODE_INT_AS_REAL, &je);
        jset_ints_as_reals(root != NULL);
    }
    if (root == NULL) {
        cerr_set(err, 0, "%s: invalid JSON at line %d column %d: %s", origin, je.line, je.column,
                 je.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        cerr_set(err, 0, "%s: expected a JSON object", origin);
        return NULL;
    }
    return root;
}

/* SemVer 2.0.0: MAJOR.MINOR.PATCH, numbers without leading zeros, then an
 * optional -pre-release and +build of [0-9A-Za-z-.] identifiers. */
static bool semver_number(const char **p)
{
    const char *s = *p;
    if (*s < '0' || *s > '9')
        return false;
    if (*s == '0' && s[1] >= '0' && s[1] <= '9')
        return false;
    while (*s >= '0' && *s <= '9')
        s++;
    *p = s;
    return true;
}

static bool semver_idents(const char **p)
{
    const char *s = *p;
    for (;;) {
        size_t n = strspn(s, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-");
        if (n == 0)
            return false;
        s += n;
        if (*s != '.')
            break;
        s++;
    }
    *p = s;
    return true;
}

bool spec_semver_valid(const char *v)
{
    const char *p = v;
    if (!semver_number(&p) || *p++ != '.' || !semver_number(&p) || *p++ != '.' ||
        !semver_number(&p))
        return false;
    if (*p == '-' && (p++, !semver_idents(&p)))
        return false;
    if (*p == '+' && (p++, !semver_idents(&p)))
        return false;
    return *p == '\0';
}

/* The spec's versioning: a major version cella does not implement is a
 * different format, not one to read as best it can. */
static int check_oci_version(const char *v, cerr_t *err)
{
    if (!spec_semver_valid(v))
        return cerr_set(err, 0, "ociVersion: `%s` is not a SemVer 2.0.0 version", v);
    if (strncmp(v, SPEC_OCI_MAJOR ".", strlen(SPEC_OCI_MAJOR ".")) != 0)
        return cerr_set(err, 0, "ociVersion: `%s`: cella implements runtime-spec %s.x only", v,
                        SPEC_OCI_MAJOR);
    return 0;
}

static int parse_spec_obj(json_t *root, struct spec *s, cerr_t *err)
{
    json_t *sub;
    if (require(root, "ociVersion", "", err) < 0 ||
        jget_string(root, "ociVersion", "", &s->oci_version, err) < 0 ||
        check_oci_version(s->oci_version, err) < 0)
        return -1;
    if (jget_object(root, "root", "", &sub, err) < 0)
        return -1;
    if (sub != NULL && (jget_string(sub, "path", "root", &s->root.path, err) < 0 ||
                        jget_bool(sub, "readonly", "root", &s->root.readonly, err) < 0))
        return -1;
    if (jget_string(root, "hostname", "", &s->hostname, err) < 0 ||
        jget_string(root, "domainname", "", &s->domainname, err) < 0)
        return -1;
    if (each_object(root, "mounts", "", sizeof(struct spec_mount), (void **)&s->mounts,
                    &s->n_mounts, parse_mount, err) < 0)
        return -1;
    if (jget_object(root, "process", "", &sub, err) < 0)
        return -1;
    if (sub != NULL && parse_process_obj(sub, "process", &s->process, err) < 0)
        return -1;
    if (jget_object(root, "linux", "", &sub, err) < 0)
        return -1;
    if (sub != NULL && parse_linux(sub, "linux", &s->linux_, &s->unsupported, err) < 0)
        return -1;
    if (jget_object(root, "hooks", "", &sub, err) < 0)
        return -1;
    if (sub != NULL && parse_hooks(sub, "hooks", s->hooks, err) < 0)
        return -1;
    return jget_str_map(root, "annotations", "", &s->annotations, err);
}

struct spec *spec_parse(const char *text, size_t len, const char *origin, cerr_t *err)
{
    json_t *root = load_json(text, len, origin, err);
    if (root == NULL)
        return NULL;
    struct spec *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        json_decref(root);
        cerr_set(err, 0, "out of memory");
        return NULL;
    }
    int r = parse_spec_obj(root, s, err);
    json_decref(root);
    if (r < 0) {
        cerr_wrap(err, "%s", origin);
        spec_free(s);
        return NULL;
    }
    return s;
}

struct spec *spec_load(const char *bundle, cerr_t *err)
{
    char *path = NULL;
    size_t len = 0;
    if (asprintf(&path, "%s/config.json", bundle) < 0) {
        cerr_set(err, 0, "out of memory");
        return NULL;
    }
    char *text = read_file(path, &len, err);
    if (text == NULL) {
        free(path);
        return NULL;
    }
    struct spec *s = spec_parse(text, len, path, err);
    free(text);
    free(path);
    return s;
}

struct spec_process *spec_parse_process(const char *text, size_t len, const char *origin,
                                        cerr_t *err)
{
    json_t *root = load_json(text, len, origin, err);
    if (root == NULL)
        return NULL;
    struct spec_process *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        json_decref(root);
        cerr_set(err, 0, "out of memory");
        return NULL;
    }
    int r = parse_process_obj(root, "process", p, err);
    json_decref(root);
    if (r < 0) {
        cerr_wrap(err, "%s", origin);
        spec_process_free(p);
        return NULL;
    }
    return p;
}

int spec_parse_resources(const char *text, size_t len, const char *origin,
                         struct spec_resources *out, cerr_t *err)
{
    json_t *root = load_json(text, len, origin, err);
    if (root == NULL)
        return -1;
    int r = parse_resources(root, "", out, err);
    json_decref(root);
    if (r < 0) {
        cerr_wrap(err, "%s", origin);
        spec_resources_clear(out);
    }
    return r;
}

int spec_refuse_unsupported(const struct str_list *l, cerr_t *err)
{
    if (l->n == 0)
        return 0;
    const char *why = "";
    if (strcmp(l->v[0], "linux.intelRdt") == 0 && access("/sys/fs/resctrl", F_OK) < 0)
        why = " (and this host has no resctrl filesystem)";
    return cerr_set(err, 0, "%s: not supported by cella yet%s: refused rather than ignored",
                    l->v[0], why);
}

const char *spec_annotation(const struct spec *s, const char *key)
{
    for (size_t i = 0; i < s->annotations.n; i++)
        if (strcmp(s->annotations.v[i].key, key) == 0)
            return s->annotations.v[i].value;
    return NULL;
}

/* ---- freeing ------------------------------------------------------------------- */

void spec_process_clear(struct spec_process *p)
{
    free(p->user.additional_gids);
    free(p->user.username);
    str_list_free(&p->args);
    str_list_free(&p->env);
    free(p->cwd);
    str_list_free(&p->caps.bounding);
    str_list_free(&p->caps.effective);
    str_list_free(&p->caps.inheritable);
    str_list_free(&p->caps.permitted);
    str_list_free(&p->caps.ambient);
    for (size_t i = 0; i < p->n_rlimits; i++)
        free(p->rlimits[i].type);
    free(p->rlimits);
    free(p->apparmor_profile);
    free(p->selinux_label);
    str_list_free(&p->unsupported);
    memset(p, 0, sizeof(*p));
}

void spec_process_free(struct spec_process *p)
{
    if (p == NULL)
        return;
    spec_process_clear(p);
    free(p);
}

void spec_resources_clear(struct spec_resources *r)
{
    free(r->cpu.cpus);
    free(r->cpu.mems);
    for (size_t i = 0; i < r->n_devices; i++)
        free(r->devices[i].access);
    free(r->devices);
    for (size_t i = 0; i < r->n_hugepages; i++)
        free(r->hugepages[i].page_size);
    free(r->hugepages);
    for (size_t i = 0; i < r->network.n_priorities; i++)
        free(r->network.priorities[i].name);
    free(r->network.priorities);
    kv_list_free(&r->unified);
    str_list_free(&r->unsupported);
    memset(r, 0, sizeof(*r));
}

static void linux_free(struct spec_linux *l)
{
    for (int i = 0; i < NS_COUNT; i++)
        free(l->ns[i].path);
    free(l->uid_mappings);
    free(l->gid_mappings);
    for (size_t i = 0; i < l->n_devices; i++)
        free(l->devices[i].path);
    free(l->devices);
    free(l->cgroups_path);
    spec_resources_clear(&l->resources);
    kv_list_free(&l->sysctl);
    struct spec_seccomp *s = &l->seccomp;
    free(s->default_action);
    str_list_free(&s->architectures);
    str_list_free(&s->flags);
    free(s->listener_path);
    free(s->listener_metadata);
    for (size_t i = 0; i < s->n_syscalls; i++) {
        str_list_free(&s->syscalls[i].names);
        free(s->syscalls[i].action);
        for (size_t j = 0; j < s->syscalls[i].n_args; j++)
            free(s->syscalls[i].args[j].op);
        free(s->syscalls[i].args);
    }
    free(s->syscalls);
    free(l->rootfs_propagation);
    str_list_free(&l->masked_paths);
    str_list_free(&l->readonly_paths);
    free(l->mount_label);
}

void spec_free(struct spec *s)
{
    if (s == NULL)
        return;
    free(s->oci_version);
    free(s->root.path);
    free(s->hostname);
    free(s->domainname);
    for (size_t i = 0; i < s->n_mounts; i++) {
        free(s->mounts[i].destination);
        free(s->mounts[i].type);
        free(s->mounts[i].source);
        str_list_free(&s->mounts[i].options);
        free(s->mounts[i].uid_mappings);
        free(s->mounts[i].gid_mappings);
    }
    free(s->mounts);
    spec_process_clear(&s->process);
    linux_free(&s->linux_);
    for (int k = 0; k < HOOK_COUNT; k++) {
        for (size_t i = 0; i < s->hooks[k].n; i++) {
            free(s->hooks[k].v[i].path);
            str_list_free(&s->hooks[k].v[i].args);
            str_list_free(&s->hooks[k].v[i].env);
        }
        free(s->hooks[k].v);
    }
    kv_list_free(&s->annotations);
    str_list_free(&s->unsupported);
    free(s);
}
