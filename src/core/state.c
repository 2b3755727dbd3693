#define _GNU_SOURCE
#include "core/state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"

static const char *status_names[] = {"creating", "created", "running", "paused", "stopped"};

const char *cstatus_name(enum cstatus s)
{
    return status_names[s];
}

static int cstatus_parse(const char *s)
{
    for (size_t i = 0; i < ARRAY_SIZE(status_names); i++)
        if (strcmp(status_names[i], s) == 0)
            return (int)i;
    return -1;
}

#define ID_RULE "a letter or digit, then letters, digits and _.+-"

int state_check_id(const char *id, cerr_t *err)
{
    if (id == NULL || id[0] == '\0')
        return cerr_set(err, 0, "container id must not be empty");
    if (strlen(id) > 1024)
        return cerr_set(err, 0, "container id `%.32s...` is too long", id);
    if (!((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= 'A' && id[0] <= 'Z') ||
          (id[0] >= '0' && id[0] <= '9')))
        return cerr_set(err, 0, "invalid container id `%s`: " ID_RULE, id);
    for (const char *p = id; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-' || *p == '.' || *p == '+'))
            return cerr_set(err, 0, "invalid container id `%s`: " ID_RULE, id);
    return 0;
}

static int lock_dir(int fd, const char *id, cerr_t *err)
{
    while (flock(fd, LOCK_EX) < 0) {
        if (errno != EINTR)
            return cerr_set(err, errno, "lock container `%s`", id);
    }
    return 0;
}

int state_dir_create(const char *root, const char *id, cerr_t *err)
{
    if (state_check_id(id, err) < 0)
        return -1;
    if (mkdir_p(root, 0700, err) < 0)
        return -1;
    autofree char *path = xasprintf("%s/%s", root, id);
    if (mkdir(path, 0700) < 0) {
        if (errno == EEXIST)
            return cerr_set(err, 0, "container `%s` already exists", id);
        return cerr_set(err, errno, "mkdir `%s`", path);
    }
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        rmdir(path);
        return cerr_set(err, e, "open `%s`", path);
    }
    if (lock_dir(fd, id, err) < 0) {
        close(fd);
        rmdir(path);
        return -1;
    }
    return fd;
}

static int dir_open(const char *root, const char *id, bool lock, cerr_t *err)
{
    if (state_check_id(id, err) < 0)
        return -1;
    autofree char *path = xasprintf("%s/%s", root, id);
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            cerr_set(err, 0, "container `%s` does not exist", id);
            if (err && *err)
                (*err)->code = CERR_NOT_FOUND;
            return -1;
        }
        return cerr_set(err, errno, "open `%s`", path);
    }
    if (lock && lock_dir(fd, id, err) < 0) {
        close(fd);
        return -1;
    }
    /* A concurrent delete may have removed it while we waited for the lock. */
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_nlink == 0 || faccessat(fd, "state.json", F_OK, 0) < 0) {
        close(fd);
        cerr_set(err, 0, "container `%s` does not exist", id);
        if (err && *err)
            (*err)->code = CERR_NOT_FOUND;
        return -1;
    }
    return fd;
}

int state_dir_open(const char *root, const char *id, cerr_t *err)
{
    return dir_open(root, id, true, err);
}

int state_dir_peek(const char *root, const char *id, cerr_t *err)
{
    return dir_open(root, id, false, err);
}

void state_dir_unlock(int dirfd)
{
    flock(dirfd, LOCK_UN);
}

int state_dir_remove_unborn(const char *root, const char *id)
{
    if (state_check_id(id, NULL) < 0)
        return 0;
    autofree char *path = xasprintf("%s/%s", root, id);
    autoclose int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || lock_dir(fd, id, NULL) < 0)
        return 0;
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_nlink == 0 || faccessat(fd, "state.json", F_OK, 0) == 0)
        return 0;
    return rm_rf(path) < 0 ? 0 : 1;
}

int state_dir_remove(const char *root, const char *id, int dirfd)
{
    (void)dirfd;
    autofree char *path = xasprintf("%s/%s", root, id);
    return rm_rf(path);
}

static json_t *strv_to_obj(char **kv)
{
    json_t *o = json_object();
    for (size_t i = 0; kv && kv[i] && kv[i + 1]; i += 2)
        json_object_set_new(o, kv[i], json_string(kv[i + 1]));
    return o;
}

static char **obj_to_strv(json_t *o)
{
    size_t n = json_is_object(o) ? json_object_size(o) : 0, i = 0;
    char **v = calloc(2 * n + 1, sizeof(char *));
    const char *k;
    json_t *val;
    if (v == NULL)
        abort();
    if (n)
        json_object_foreach(o, k, val)
        {
            if (!json_is_string(val))
                continue;
            v[i++] = xstrdup(k);
            v[i++] = xstrdup(json_string_value(val));
        }
    return v;
}

static void strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

int state_save(int dirfd, const struct cstate *st, cerr_t *err)
{
    json_t *o = json_pack("{s:s, s:s, s:s?, s:s, s:s, s:I, s:I, s:s?, s:s?, s:s?, s:b}", "id",
                          st->id, "bundle", st->bundle, "rootfs", st->rootfs, "level", st->level,
                          "status", cstatus_name(st->status), "pid", (json_int_t)st->pid,
                          "startTime", (json_int_t)st->start_time, "created", st->created, "owner",
                          st->owner, "cgroup", st->cgroup, "systemdCgroup", st->systemd_cgroup);
    if (o == NULL)
        return cerr_set(err, 0, "cannot encode state of `%s`", st->id);
    if (st->notify_socket)
        json_object_set_new(o, "notifySocket", json_string(st->notify_socket));
    if (st->cgroup_shared)
        json_object_set_new(o, "cgroupShared", json_true());
    json_object_set_new(o, "annotations", strv_to_obj(st->annotations));
    json_object_set_new(o, "extra", strv_to_obj(st->extra));
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (text == NULL)
        return cerr_set(err, 0, "cannot encode state of `%s`", st->id);
    autofree char *path = xasprintf("/proc/self/fd/%d/state.json", dirfd);
    int r = write_file_atomic(path, text, strlen(text), err);
    free(text);
    return r;
}

static char *dup_field(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? xstrdup(json_string_value(v)) : NULL;
}

struct cstate *state_load(int dirfd, const char *id, cerr_t *err)
{
    size_t len;
    char *text = read_file_at(dirfd, "state.json", &len, err);
    if (text == NULL)
        return NULL;
    struct cstate *st = state_parse(text, len, id, err);
    free(text);
    return st;
}

struct cstate *state_parse(const char *text, size_t len, const char *id, cerr_t *err)
{
    json_error_t je;
    json_t *o = json_loadb(text, len, 0, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        cerr_set(err, 0, "state of container `%s` is corrupt", id);
        return NULL;
    }
    struct cstate *st = calloc(1, sizeof(*st));
    if (st == NULL)
        abort();
    st->id = dup_field(o, "id");
    st->bundle = dup_field(o, "bundle");
    st->rootfs = dup_field(o, "rootfs");
    st->level = dup_field(o, "level");
    st->created = dup_field(o, "created");
    st->owner = dup_field(o, "owner");
    st->cgroup = dup_field(o, "cgroup");
    st->notify_socket = dup_field(o, "notifySocket");
    st->systemd_cgroup = json_is_true(json_object_get(o, "systemdCgroup"));
    st->cgroup_shared = json_is_true(json_object_get(o, "cgroupShared"));
    st->pid = (pid_t)json_integer_value(json_object_get(o, "pid"));
    st->start_time = (unsigned long long)json_integer_value(json_object_get(o, "startTime"));
    json_t *s = json_object_get(o, "status");
    int status = json_is_string(s) ? cstatus_parse(json_string_value(s)) : -1;
    st->annotations = obj_to_strv(json_object_get(o, "annotations"));
    st->extra = obj_to_strv(json_object_get(o, "extra"));
    json_decref(o);
    if (st->id == NULL || st->bundle == NULL || st->level == NULL || status < 0) {
        state_free(st);
        cerr_set(err, 0, "state of container `%s` is corrupt", id);
        return NULL;
    }
    st->status = (enum cstatus)status;
    return st;
}

void state_free(struct cstate *st)
{
    if (st == NULL)
        return;
    free(st->id);
    free(st->bundle);
    free(st->rootfs);
    free(st->level);
    free(st->created);
    free(st->owner);
    free(st->cgroup);
    free(st->notify_socket);
    strv_free(st->annotations);
    strv_free(st->extra);
    free(st);
}

enum cstatus state_live_status(const struct cstate *st)
{
    if (st->status == ST_STOPPED || st->status == ST_CREATING)
        return st->status;
    if (!proc_alive(st->pid, st->start_time))
        return ST_STOPPED;
    return st->status;
}

char *state_to_oci_json(const struct cstate *st, enum cstatus status, bool pretty)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "ociVersion", "1.1.0", "id", st->id, "status",
                          cstatus_name(status), "bundle", st->bundle);
    if (status != ST_STOPPED && st->pid > 0)
        json_object_set_new(o, "pid", json_integer(st->pid));
    else
        json_object_set_new(o, "pid", json_integer(0));
    if (st->rootfs)
        json_object_set_new(o, "rootfs", json_string(st->rootfs));
    if (st->created)
        json_object_set_new(o, "created", json_string(st->created));
    if (st->owner)
        json_object_set_new(o, "owner", json_string(st->owner));
    json_t *ann = strv_to_obj(st->annotations);
    for (size_t i = 0; st->extra && st->extra[i] && st->extra[i + 1]; i += 2)
        json_object_set_new(ann, st->extra[i], json_string(st->extra[i + 1]));
    json_object_set_new(o, "annotations", ann);
    char *text = json_dumps(o, pretty ? JSON_INDENT(2) : JSON_COMPACT);
    json_decref(o);
    return text;
}

char *state_hook_json(const struct cstate *st, enum cstatus status)
{
    json_t *o = json_pack("{s:s, s:s, s:s}", "ociVersion", "1.1.0", "id", st->id, "status",
                          cstatus_name(status));
    /* Go's omitempty in runc: no pid once stopped. */
    if (status != ST_STOPPED && st->pid > 0)
        json_object_set_new(o, "pid", json_integer(st->pid));
    json_object_set_new(o, "bundle", json_string(st->bundle));
    json_t *ann = strv_to_obj(st->annotations);
    for (size_t i = 0; st->extra && st->extra[i] && st->extra[i + 1]; i += 2)
        json_object_set_new(ann, st->extra[i], json_string(st->extra[i + 1]));
    json_object_set_new(o, "annotations", ann);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

/* By ID, as runc lists them (directory order means nothing to a reader). */
static int cmp_ids(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **state_list_ids(const char *root, cerr_t *err)
{
    DIR *d = opendir(root);
    size_t n = 0;
    char **ids = calloc(1, sizeof(char *));
    if (ids == NULL)
        abort();
    if (d == NULL) {
        if (errno == ENOENT)
            return ids;
        free(ids);
        cerr_set(err, errno, "open `%s`", root);
        return NULL;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char sp[1100];
        snprintf(sp, sizeof(sp), "%s/state.json", de->d_name);
        if (faccessat(dirfd(d), sp, F_OK, 0) < 0)
            continue;
        char **nv = realloc(ids, (n + 2) * sizeof(char *));
        if (nv == NULL)
            abort();
        ids = nv;
        ids[n++] = xstrdup(de->d_name);
        ids[n] = NULL;
    }
    closedir(d);
    qsort(ids, n, sizeof(char *), cmp_ids);
    return ids;
}
