#define _GNU_SOURCE
#include "level/container/mounts.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "core/util.h"
#include "level/container/idmap.h"
#include "cgroup/cgroup.h"

/* ---- options --------------------------------------------------------------- */

static const struct {
    const char *name;
    bool clear;
    unsigned long flag;
} flag_opts[] = {
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},
    {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},
    {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},
    {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},
    {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},
    {"atime", true, MS_NOATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"diratime", true, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"silent", false, MS_SILENT},
    {"loud", true, MS_SILENT},
    {"lazytime", false, MS_LAZYTIME},
    {"nolazytime", true, MS_LAZYTIME},
    {"nosymfollow", false, 256 /* MS_NOSYMFOLLOW */},
    {"symfollow", true, 256},
};

static const struct {
    const char *name;
    unsigned long flag;
} prop_opts[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

static int append_data(char **data, const char *opt)
{
    char *n = *data ? xasprintf("%s,%s", *data, opt) : xstrdup(opt);
    free(*data);
    *data = n;
    return 0;
}

int mount_opts_parse(const struct str_list *options, struct mount_opts *out, cerr_t *err)
{
    (void)err;
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < options->n; i++) {
        const char *o = options->v[i];
        bool done = false;
        if (strcmp(o, "bind") == 0) {
            out->bind = true;
            continue;
        }
        if (strcmp(o, "rbind") == 0) {
            out->bind = out->recursive = true;
            continue;
        }
        /* crun's extensions that we accept and ignore, and the idmapped-mount
         * options, applied by mounts_open_sources. */
        if (strcmp(o, "rro") == 0 || strcmp(o, "rrw") == 0) {
            out->recursive_ro = strcmp(o, "rro") == 0;
            out->recursive_rw = !out->recursive_ro;
            continue;
        }
        if (strcmp(o, "defaults") == 0 || strcmp(o, "tmpcopyup") == 0 ||
            strcmp(o, "notmpcopyup") == 0 || strcmp(o, "copy-symlink") == 0 ||
            strcmp(o, "rro") == 0 || strcmp(o, "rrw") == 0 || strcmp(o, "idmap") == 0 ||
            strcmp(o, "ridmap") == 0)
            continue;
        for (size_t j = 0; j < ARRAY_SIZE(flag_opts) && !done; j++) {
            if (strcmp(o, flag_opts[j].name) != 0)
                continue;
            if (flag_opts[j].clear) {
                out->flags &= ~flag_opts[j].flag;
                out->clear |= flag_opts[j].flag;
            } else {
                out->flags |= flag_opts[j].flag;
                out->clear &= ~flag_opts[j].flag;
            }
            done = true;
        }
        for (size_t j = 0; j < ARRAY_SIZE(prop_opts) && !done; j++) {
            if (strcmp(o, prop_opts[j].name) == 0) {
                out->propagation = prop_opts[j].flag;
                done = true;
            }
        }
        if (!done)
            append_data(&out->data, o);
    }
    return 0;
}

/* ---- paths inside the rootfs ---------------------------------------------------- */

static int openat2_(int dirfd, const char *path, int flags, unsigned long long resolve)
{
    struct open_how how = {.flags = (unsigned long long)flags, .resolve = resolve};
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

/* Open `path` (absolute, in the container) under rootfd, never escaping it
 * through "..", absolute symlinks or relative ones. Creates missing
 * directories, and the last component as a file when `file` is true; a
 * dangling symlink on the way is followed and its target created, as runc
 * and crun do. */
static int open_in_root_depth(int rootfd, const char *path, bool create, bool file, int depth,
                              cerr_t *err)
{
    int cur = dup(rootfd);
    if (cur < 0)
        return cerr_set(err, errno, "dup");
    const char *p = path;
    size_t sofar_len = 0;
    autofree char *sofar = calloc(1, strlen(path) + 2);
    if (sofar == NULL)
        abort();
    for (;;) {
        while (*p == '/')
            p++;
        if (*p == '\0')
            return cur;
        size_t n = strcspn(p, "/");
        const char *rest = p + n;
        bool last = *rest == '\0' || rest[strspn(rest, "/")] == '\0';
        autofree char *comp = strndup(p, n);
        size_t parent_len = sofar_len;
        sofar[sofar_len++] = '/';
        memcpy(sofar + sofar_len, p, n);
        sofar_len += n;
        sofar[sofar_len] = '\0';
        p = rest;
        int fd = openat2_(rootfd, sofar, O_PATH | O_CLOEXEC, RESOLVE_IN_ROOT);
        if (fd < 0 && errno == ENOENT && create) {
            struct stat st;
            if (fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
                char target[PATH_MAX];
                ssize_t tl = readlinkat(cur, comp, target, sizeof(target) - 1);
                close(cur);
                if (tl < 0 || depth > 40)
                    return cerr_set(err, tl < 0 ? errno : ELOOP, "resolve symlink `%s`", sofar);
                target[tl] = '\0';
                sofar[parent_len] = '\0';
                autofree char *next = target[0] == '/' ? xasprintf("%s/%s", target, rest)
                                                       : xasprintf("%s/%s/%s", sofar, target, rest);
                return open_in_root_depth(rootfd, next, create, file, depth + 1, err);
            }
            if (last && file) {
                int f = openat(cur, comp, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
                if (f >= 0)
                    close(f);
            } else if (mkdirat(cur, comp, 0755) < 0 && errno != EEXIST) {
                int e = errno;
                close(cur);
                return cerr_set(err, e, "mkdir `%s` in the container", sofar);
            }
            fd = openat2_(rootfd, sofar, O_PATH | O_CLOEXEC, RESOLVE_IN_ROOT);
        }
        if (fd < 0) {
            int e = errno;
            close(cur);
            return cerr_set(err, e, "open `%s` in the container", sofar);
        }
        close(cur);
        cur = fd;
    }
}

static int open_in_root(int rootfd, const char *path, bool create, bool file, cerr_t *err)
{
    return open_in_root_depth(rootfd, path, create, file, 0, err);
}

static char *fd_path(int fd)
{
    return xasprintf("/proc/self/fd/%d", fd);
}

/* ---- single mounts -------------------------------------------------------------- */

static unsigned long locked_flags(const char *path)
{
    struct statvfs sv;
    unsigned long f = 0;
    if (statvfs(path, &sv) < 0)
        return 0;
    if (sv.f_flag & ST_NOSUID)
        f |= MS_NOSUID;
    if (sv.f_flag & ST_NODEV)
        f |= MS_NODEV;
    if (sv.f_flag & ST_NOEXEC)
        f |= MS_NOEXEC;
    if (sv.f_flag & ST_RDONLY)
        f |= MS_RDONLY;
    return f;
}

static int remount_bind(const char *target, unsigned long flags, const char *what, cerr_t *err)
{
    unsigned long keep = locked_flags(target) & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
    if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | flags | keep, NULL) < 0)
        return cerr_set(err, errno, "remount `%s`", what);
    return 0;
}

/* Remount the mount now on top of `dest` (reopened: an fd taken before the
 * mount names what is underneath). */
static int remount_dest(int rootfd, const char *dest, unsigned long flags, cerr_t *err)
{
    int top = open_in_root(rootfd, dest, false, false, err);
    if (top < 0)
        return -1;
    autofree char *mp = fd_path(top);
    int r = remount_bind(mp, flags, dest, err);
    close(top);
    return r;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int mount_cgroup(const struct mount_ctx *m, int rootfd, int target,
                        const struct spec_mount *sm, const struct mount_opts *o, cerr_t *err);

static bool is_cgroup_mount(const struct spec_mount *sm)
{
    return sm->type != NULL &&
           (strcmp(sm->type, "cgroup") == 0 || strcmp(sm->type, "cgroup2") == 0);
}

static bool is_bind(const struct spec_mount *sm)
{
    if (sm->type != NULL && strcmp(sm->type, "bind") == 0)
        return true;
    for (size_t i = 0; i < sm->options.n; i++)
        if (strcmp(sm->options.v[i], "bind") == 0 || strcmp(sm->options.v[i], "rbind") == 0)
            return true;
    return false;
}

/* The file system type of the mount PATH is on (mountinfo's, by mount id),
 * for the line that says it cannot be idmapped. */
static char *fs_type_of(const char *path)
{
    struct statx stx;
    if (statx(AT_FDCWD, path, 0, STATX_MNT_ID, &stx) < 0 || !(stx.stx_mask & STATX_MNT_ID))
        return xstrdup("unknown");
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (f == NULL)
        return xstrdup("unknown");
    char *line = NULL, *type = NULL;
    size_t cap = 0;
    while (type == NULL && getline(&line, &cap, f) > 0) {
        char *sep = strstr(line, " - ");
        if (strtoull(line, NULL, 10) != stx.stx_mnt_id || sep == NULL)
            continue;
        type = xstrdup(strtok(sep + 3, " \n") ? sep + 3 : "unknown");
    }
    free(line);
    fclose(f);
    return type ? type : xstrdup("unknown");
}

static bool has_option(const struct spec_mount *sm, const char *name)
{
    for (size_t i = 0; i < sm->options.n; i++)
        if (strcmp(sm->options.v[i], name) == 0)
            return true;
    return false;
}

/* mounts[].uidMappings, or the idmap / ridmap option (runtime-spec 1.2) whose
 * empty maps mean the container's own (linux.uidMappings). */
static bool is_idmapped(const struct spec_mount *sm)
{
    return sm->n_uid_mappings > 0 || has_option(sm, "idmap") || has_option(sm, "ridmap");
}

/* The detached tree gets MOUNT_ATTR_IDMAP with a user namespace carrying the
 * maps; recursively with rbind or ridmap. */
static int idmap_tree(int tree, const struct spec *s, size_t idx, bool rec, cerr_t *err)
{
    const struct spec_mount *sm = &s->mounts[idx];
    char field[48];
    snprintf(field, sizeof(field), "mounts[%zu]", idx);
    const struct spec_linux *l = &s->linux_;
    bool own = sm->n_uid_mappings > 0;
    if (!own && !(l->ns[NS_USER].present && l->ns[NS_USER].path == NULL && l->n_uid_mappings > 0 &&
                  l->n_gid_mappings > 0))
        return cerr_set(err, 0,
                        "%s: idmap without uidMappings takes the container's maps: it needs a new "
                        "user namespace with linux.uidMappings and gidMappings",
                        field);
    int ns = own ? idmap_userns(sm->uid_mappings, sm->n_uid_mappings, sm->gid_mappings,
                                sm->n_gid_mappings, field, err)
                 : idmap_userns(l->uid_mappings, l->n_uid_mappings, l->gid_mappings,
                                l->n_gid_mappings, field, err);
    if (ns < 0)
        return -1;
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)ns};
    int r = mount_setattr(tree, "",
                          AT_EMPTY_PATH | (rec || has_option(sm, "ridmap") ? AT_RECURSIVE : 0),
                          &attr, sizeof(attr));
    int e = errno;
    close(ns);
    if (r == 0)
        return 0;
    if (e == EINVAL || e == EOPNOTSUPP) {
        autofree char *type = fs_type_of(sm->source);
        return cerr_set(err, e,
                        "%s: idmapped mount of `%s` on `%s`: the kernel or the file system (%s) "
                        "cannot idmap it",
                        field, sm->source, sm->destination, type);
    }
    return cerr_set(err, e, "%s: mount_setattr MOUNT_ATTR_IDMAP on `%s`", field, sm->source);
}

bool mounts_idmapped(const struct spec *s)
{
    for (size_t i = 0; i < s->n_mounts; i++)
        if (is_idmapped(&s->mounts[i]))
            return true;
    return false;
}

void mounts_unlink_devices(const struct spec *s, int statefd)
{
    for (size_t i = 0; i < s->linux_.n_devices; i++) {
        char name[32];
        snprintf(name, sizeof(name), "device.%zu", i);
        unlinkat(statefd, name, 0);
    }
}

size_t mounts_n_sources(const struct spec *s)
{
    return s->n_mounts + s->linux_.n_devices;
}

static long host_id(const struct spec_idmap *m, size_t n, uint32_t id)
{
    for (size_t i = 0; i < n; i++)
        if (id >= m[i].container_id && id - m[i].container_id < m[i].size)
            return (long)m[i].host_id + (id - m[i].container_id);
    return -1;
}

/* A linux.devices node the host has not, for a user namespace, where mknod
 * is refused and the host's node would be bound: made on the host in the
 * container's state directory, cloned as a detached mount that may hold
 * devices (that directory's file system may be nodev); the container binds
 * the clone, whose node must still be linked then (move_mount says ENOENT
 * for an unlinked one): mounts_unlink_devices once create is done. -2: the
 * host has the node, bind it. */
static int host_made_device(int statefd, const struct spec *s, size_t i, cerr_t *err)
{
    const struct spec_device *d = &s->linux_.devices[i];
    mode_t type = d->type == 'b' ? S_IFBLK : S_IFCHR;
    dev_t rdev = makedev(d->major, d->minor);
    struct stat st;
    if (d->type == 'p' ||
        (stat(d->path, &st) == 0 && (st.st_mode & S_IFMT) == type && st.st_rdev == rdev))
        return -2;
    char name[32];
    snprintf(name, sizeof(name), "device.%zu", i);
    unlinkat(statefd, name, 0);
    mode_t mode = (d->has_mode ? d->file_mode : 0666) & 07777;
    long uid = host_id(s->linux_.uid_mappings, s->linux_.n_uid_mappings, d->has_uid ? d->uid : 0);
    long gid = host_id(s->linux_.gid_mappings, s->linux_.n_gid_mappings, d->has_gid ? d->gid : 0);
    int fd = -1;
    if (mknodat(statefd, name, type | mode, rdev) < 0)
        return cerr_set(err, errno, "linux.devices: mknod `%s` on the host", d->path);
    if (fchmodat(statefd, name, mode, 0) < 0 ||
        fchownat(statefd, name, (uid_t)uid, (gid_t)gid, AT_SYMLINK_NOFOLLOW) < 0)
        cerr_set(err, errno, "linux.devices: mode or owner of `%s`", d->path);
    else if ((fd = open_tree(statefd, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)) < 0)
        cerr_set(err, errno, "linux.devices: open_tree of the node for `%s`", d->path);
    else {
        struct mount_attr attr = {.attr_clr = MOUNT_ATTR_NODEV};
        if (mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0) {
            cerr_set(err, errno, "linux.devices: allow the device `%s` (mount_setattr)", d->path);
            close(fd);
            fd = -1;
        }
    }
    return fd;
}

int mounts_open_sources(const struct spec *s, bool all_binds, int statefd, int **fds_out,
                        cerr_t *err)
{
    size_t n = mounts_n_sources(s);
    int *fds = malloc((n ? n : 1) * sizeof(int));
    if (fds == NULL)
        abort();
    for (size_t i = 0; i < n; i++)
        fds[i] = -1;
    for (size_t i = 0; all_binds && i < s->linux_.n_devices; i++) {
        int fd = host_made_device(statefd, s, i, err);
        if (fd == -1) {
            mounts_close_sources(fds, n);
            return -1;
        }
        fds[s->n_mounts + i] = fd < 0 ? -1 : fd;
    }
    for (size_t i = 0; i < s->n_mounts; i++) {
        const struct spec_mount *sm = &s->mounts[i];
        bool idmapped = is_idmapped(sm);
        if (idmapped && (!is_bind(sm) || sm->source == NULL)) {
            mounts_close_sources(fds, s->n_mounts);
            return cerr_set(err, 0,
                            "mounts[%zu]: uidMappings: idmapped mounts are bind mounts only "
                            "in cella (`%s`)",
                            i, sm->destination);
        }
        if (!is_bind(sm) || sm->source == NULL || !(all_binds || idmapped))
            continue;
        bool rec = false;
        for (size_t j = 0; j < sm->options.n; j++)
            rec = rec || strcmp(sm->options.v[j], "rbind") == 0;
        fds[i] = open_tree(AT_FDCWD, sm->source,
                           OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (rec ? AT_RECURSIVE : 0));
        if (fds[i] < 0) {
            int e = errno;
            mounts_close_sources(fds, n);
            return cerr_set(err, e, "mount `%s`: source `%s`", sm->destination, sm->source);
        }
        if (idmapped && idmap_tree(fds[i], s, i, rec, err) < 0) {
            mounts_close_sources(fds, n);
            return -1;
        }
    }
    *fds_out = fds;
    return 0;
}

void mounts_close_sources(int *fds, size_t n)
{
    for (size_t i = 0; fds && i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    free(fds);
}

/* A filesystem mount (proc, tmpfs, sysfs, ...) on the target. */
static int mount_filesystem(int rootfd, const struct spec_mount *sm, const char *tp,
                            const struct mount_opts *o, cerr_t *err)
{
    const char *type = sm->type ? sm->type : "";
    if (mount(sm->source ? sm->source : type, tp, type, o->flags & ~MS_REMOUNT, o->data) == 0)
        return 0;
    int e = errno;
    /* Without a new network namespace sysfs cannot be mounted in a user
     * namespace: bind the host's, read-only, as runc does. */
    if (strcmp(type, "sysfs") == 0 && (e == EPERM || e == EBUSY)) {
        if (mount("/sys", tp, NULL, MS_BIND | MS_REC, NULL) < 0)
            return cerr_set(err, errno, "mount sysfs on `%s`", sm->destination);
        return remount_dest(rootfd, sm->destination, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                            err);
    }
    if (strcmp(type, "mqueue") == 0 && e == EPERM) {
        if (mount("/dev/mqueue", tp, NULL, MS_BIND | MS_REC, NULL) < 0)
            return cerr_set(err, errno, "mount mqueue on `%s`", sm->destination);
        return 0;
    }
    return cerr_set(err, e, "mount `%s` (type %s) on `%s`", sm->source ? sm->source : "", type,
                    sm->destination);
}

/* After the mount: rro/rrw, the flags of a bind (a remount) and the
 * propagation. The fd opened before mounting names the directory under the
 * new mount: the destination is reopened to reach the mount itself. */
static int mount_attributes(int rootfd, const struct spec_mount *sm, const struct mount_opts *o,
                            bool bind, cerr_t *err)
{
    bool remount = bind && (o->flags & ~MS_REMOUNT) != 0;
    if (!o->recursive_ro && !o->recursive_rw && !remount && o->propagation == 0)
        return 0;
    int top = open_in_root(rootfd, sm->destination, false, false, err);
    if (top < 0)
        return -1;
    autofree char *mp = fd_path(top);
    int r = 0;
    if (o->recursive_ro || o->recursive_rw) {
        struct mount_attr attr = {.attr_set = o->recursive_ro ? MOUNT_ATTR_RDONLY : 0,
                                  .attr_clr = o->recursive_rw ? MOUNT_ATTR_RDONLY : 0};
        if (mount_setattr(top, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
            r = cerr_set(err, errno, "mount `%s`: %s", sm->destination,
                         o->recursive_ro ? "rro" : "rrw");
    }
    if (r == 0 && remount)
        r = remount_bind(mp, o->flags & ~MS_REMOUNT, sm->destination, err);
    if (r == 0 && o->propagation != 0 && mount(NULL, mp, NULL, o->propagation, NULL) < 0)
        r = cerr_set(err, errno, "set propagation of `%s`", sm->destination);
    close(top);
    return r;
}

/* As runc: /dev and tmpfs mounts are made writable and turned read-only
 * once everything under them is in place (devices, /dev/pts, ...). */
static bool read_only_later(const struct spec_mount *sm, const struct mount_opts *o, bool bind)
{
    const char *d = sm->destination;
    while (d[0] == '/' && d[1] == '/')
        d++;
    bool dev = strncmp(d, "/dev", 4) == 0 && strspn(d + 4, "/") == strlen(d + 4);
    return !bind && (o->flags & MS_RDONLY) &&
           (dev || (sm->type != NULL && strcmp(sm->type, "tmpfs") == 0));
}

static int remount_read_only(const struct mount_ctx *m, int rootfd, cerr_t *err)
{
    for (size_t i = 0; i < m->spec->n_mounts; i++) {
        const struct spec_mount *sm = &m->spec->mounts[i];
        struct mount_opts o;
        if (is_cgroup_mount(sm) || mount_opts_parse(&sm->options, &o, err) < 0)
            continue;
        bool bind = o.bind || (sm->type != NULL && strcmp(sm->type, "bind") == 0);
        int r = read_only_later(sm, &o, bind)
                    ? remount_dest(rootfd, sm->destination, o.flags & ~MS_REMOUNT, err)
                    : 0;
        free(o.data);
        if (r < 0)
            return -1;
    }
    return 0;
}

/* As runc: procfs and sysfs go on a directory of the rootfs, never through
 * a symlink (or onto a file) the image planted there. */
static int pseudo_fs_target_check(int rootfd, const struct spec_mount *sm, const char *type,
                                  cerr_t *err)
{
    if (strcmp(type, "proc") != 0 && strcmp(type, "sysfs") != 0)
        return 0;
    const char *rel = sm->destination;
    while (*rel == '/')
        rel++;
    struct stat st;
    if (*rel == '\0' || fstatat(rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(st.st_mode))
        return 0; /* missing: made as a directory */
    return cerr_set(err, 0, "mount `%s`: filesystem \"%s\" must be mounted on ordinary directory",
                    sm->destination, type);
}

static int do_mount(const struct mount_ctx *m, int rootfd, size_t idx, cerr_t *err)
{
    const struct spec_mount *sm = &m->spec->mounts[idx];
    int tree = m->source_fds ? m->source_fds[idx] : -1;
    const char *type = sm->type ? sm->type : "";
    struct mount_opts o;
    if (mount_opts_parse(&sm->options, &o, err) < 0)
        return -1;
    bool bind = o.bind || strcmp(type, "bind") == 0;
    bool src_dir = true;
    int r = -1, target = -1;
    if (bind) {
        struct stat st;
        if (sm->source == NULL) {
            cerr_set(err, 0, "mount `%s`: bind mount without a source", sm->destination);
            goto out;
        }
        if ((tree >= 0 ? fstat(tree, &st) : stat(sm->source, &st)) < 0) {
            cerr_set(err, errno, "mount `%s`: source `%s`", sm->destination, sm->source);
            goto out;
        }
        src_dir = S_ISDIR(st.st_mode);
    }
    if (pseudo_fs_target_check(rootfd, sm, type, err) < 0)
        goto out;
    target = open_in_root(rootfd, sm->destination, true, !src_dir, err);
    if (target < 0)
        goto out;
    char tp[32];
    snprintf(tp, sizeof(tp), "/proc/self/fd/%d", target);
    if (strcmp(type, "cgroup") == 0 || strcmp(type, "cgroup2") == 0)
        r = mount_cgroup(m, rootfd, target, sm, &o, err);
    else if (bind && tree >= 0) /* opened on the host side: a user namespace may not reach it */
        r = move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0
                ? cerr_set(err, errno, "bind mount `%s` on `%s`", sm->source, sm->destination)
                : 0;
    else if (bind)
        r = mount(sm->source, tp, NULL, MS_BIND | (o.recursive ? MS_REC : 0), NULL) < 0
                ? cerr_set(err, errno, "bind mount `%s` on `%s`", sm->source, sm->destination)
                : 0;
    else {
        struct mount_opts now = o;
        if (read_only_later(sm, &o, bind))
            now.flags &= ~MS_RDONLY;
        r = mount_filesystem(rootfd, sm, tp, &now, err);
    }
    if (r == 0)
        r = mount_attributes(rootfd, sm, &o, bind, err);
out:
    if (target >= 0)
        close(target);
    free(o.data);
    return r;
}

/* cgroup mounts: cgroup2 when the host is v2; otherwise a tmpfs holding a
 * bind of the container's own cgroup in each v1 hierarchy. */
static int mount_cgroup(const struct mount_ctx *m, int rootfd, int target,
                        const struct spec_mount *sm, const struct mount_opts *o, cerr_t *err)
{
    autofree char *tp = fd_path(target);
    unsigned long ro = o->flags & MS_RDONLY;
    unsigned long base = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    if (cgroup_mode() == CGROUP_V2) {
        autofree char *src = xasprintf("/sys/fs/cgroup%s", m->cgroup ? m->cgroup : "");
        if (m->spec->linux_.ns[NS_CGROUP].present) {
            if (mount("cgroup2", tp, "cgroup2", base | ro, NULL) == 0)
                return 0;
        }
        if (mount(src, tp, NULL, MS_BIND | MS_REC, NULL) < 0)
            return cerr_set(err, errno, "bind `%s` on `%s`", src, sm->destination);
        return remount_dest(rootfd, sm->destination, base | ro, err);
    }
    if (mount("tmpfs", tp, "tmpfs", base, "mode=755") < 0)
        return cerr_set(err, errno, "mount tmpfs on `%s`", sm->destination);
    int top = open_in_root(rootfd, sm->destination, false, false, err);
    if (top < 0)
        return -1;
    free(tp);
    tp = fd_path(top);
    DIR *d = opendir("/sys/fs/cgroup");
    if (d == NULL) {
        close(top);
        return cerr_set(err, errno, "open /sys/fs/cgroup");
    }
    struct dirent *de;
    int r = 0;
    while (r == 0 && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        autofree char *host = xasprintf("/sys/fs/cgroup/%s", de->d_name);
        autofree char *dst = xasprintf("%s/%s", tp, de->d_name);
        struct stat st;
        if (lstat(host, &st) < 0)
            continue;
        if (S_ISLNK(st.st_mode)) {
            char link[256];
            ssize_t n = readlink(host, link, sizeof(link) - 1);
            if (n > 0) {
                link[n] = '\0';
                symlink(link, dst);
            }
            continue;
        }
        if (!S_ISDIR(st.st_mode))
            continue;
        autofree char *src = xasprintf("%s%s", host, m->cgroup ? m->cgroup : "");
        if (!is_dir(src))
            continue;
        if (mkdir(dst, 0755) < 0 && errno != EEXIST) {
            r = cerr_set(err, errno, "mkdir `%s/%s`", sm->destination, de->d_name);
            break;
        }
        if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0) {
            r = cerr_set(err, errno, "bind `%s` on `%s/%s`", src, sm->destination, de->d_name);
            break;
        }
        r = remount_bind(dst, base | ro, sm->destination, err);
    }
    closedir(d);
    if (r == 0 && ro)
        r = remount_bind(tp, MS_RDONLY | base, sm->destination, err);
    close(top);
    return r;
}

/* ---- /dev ------------------------------------------------------------------- */

static const struct spec_device default_devices[] = {
    {"/dev/null", 'c', 1, 3, true, 0666, true, true, 0, 0},
    {"/dev/zero", 'c', 1, 5, true, 0666, true, true, 0, 0},
    {"/dev/full", 'c', 1, 7, true, 0666, true, true, 0, 0},
    {"/dev/random", 'c', 1, 8, true, 0666, true, true, 0, 0},
    {"/dev/urandom", 'c', 1, 9, true, 0666, true, true, 0, 0},
    {"/dev/tty", 'c', 5, 0, true, 0666, true, true, 0, 0},
};

/* made: the node made on the host (host_made_device), or -1. */
static int make_device(int rootfd, const struct spec_device *d, bool bind_only, int made,
                       cerr_t *err)
{
    const char *rel = d->path;
    while (*rel == '/')
        rel++;
    autofree char *parent = xstrdup(d->path);
    char *slash = strrchr(parent, '/');
    if (slash != NULL)
        *slash = '\0';
    int pfd = open_in_root(rootfd, parent[0] ? parent : "/", true, false, err);
    if (pfd < 0)
        return -1;
    const char *name = strrchr(d->path, '/') ? strrchr(d->path, '/') + 1 : d->path;
    int r = 0;
    unlinkat(pfd, name, 0);
    mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
    mode_t mode = (d->has_mode ? d->file_mode : 0666) & 07777;
    if (!bind_only && mknodat(pfd, name, type | mode, makedev(d->major, d->minor)) == 0) {
        if (fchownat(pfd, name, d->has_uid ? d->uid : 0, d->has_gid ? d->gid : 0,
                     AT_SYMLINK_NOFOLLOW) < 0)
            r = cerr_set(err, errno, "chown device `%s`", d->path);
        else if (fchmodat(pfd, name, mode, 0) < 0)
            r = cerr_set(err, errno, "chmod device `%s`", d->path);
    } else if (!bind_only && errno != EPERM) {
        r = cerr_set(err, errno, "mknod `%s`", d->path);
    } else {
        /* In a user namespace: bind the host's node instead. */
        int f = openat(pfd, name, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        if (f >= 0)
            close(f);
        int t = openat(pfd, name, O_PATH | O_CLOEXEC | O_NOFOLLOW);
        autofree char *tp = t >= 0 ? fd_path(t) : NULL;
        if (t >= 0 && made >= 0)
            r = move_mount(made, "", t, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0
                    ? cerr_set(err, errno, "bind the node made for device `%s`", d->path)
                    : 0;
        else if (t < 0 || mount(d->path, tp, NULL, MS_BIND, NULL) < 0)
            r = cerr_set(err, errno, "bind device `%s`", d->path);
        if (t >= 0)
            close(t);
    }
    close(pfd);
    return r;
}

static bool spec_mounts(const struct spec *s, const char *dest)
{
    for (size_t i = 0; i < s->n_mounts; i++)
        if (strcmp(s->mounts[i].destination, dest) == 0)
            return true;
    return false;
}

/* /dev is a bind mount (the host's /dev, as crun's test_devices does, or a
 * directory of the user's): what is there is the source's, and making the
 * default nodes would unlink and re-create the source's own — the host's
 * /dev/null. runc makes no device, link or ptmx then (needsSetupDev). */
static bool dev_is_bound(const struct spec *s)
{
    for (size_t i = 0; i < s->n_mounts; i++) {
        const char *d = s->mounts[i].destination;
        size_t n = d ? strlen(d) : 0;
        while (n > 1 && d[n - 1] == '/')
            n--;
        if (n == 4 && strncmp(d, "/dev", 4) == 0 && is_bind(&s->mounts[i]))
            return true;
    }
    return false;
}

static int setup_dev(const struct mount_ctx *m, int rootfd, cerr_t *err)
{
    const struct spec *s = m->spec;
    if (dev_is_bound(s))
        return 0;
    if (spec_mounts(s, "/dev")) {
        for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++)
            if (make_device(rootfd, &default_devices[i], m->userns, -1, err) < 0)
                return -1;
        static const char *const links[][2] = {
            {"/proc/self/fd", "fd"},
            {"/proc/self/fd/0", "stdin"},
            {"/proc/self/fd/1", "stdout"},
            {"/proc/self/fd/2", "stderr"},
        };
        int dev = open_in_root(rootfd, "/dev", false, false, err);
        if (dev < 0)
            return -1;
        for (size_t i = 0; i < ARRAY_SIZE(links); i++)
            if (symlinkat(links[i][0], dev, links[i][1]) < 0 && errno != EEXIST) {
                close(dev);
                return cerr_set(err, errno, "symlink /dev/%s", links[i][1]);
            }
        if (spec_mounts(s, "/dev/pts")) {
            unlinkat(dev, "ptmx", 0);
            if (symlinkat("pts/ptmx", dev, "ptmx") < 0) {
                close(dev);
                return cerr_set(err, errno, "symlink /dev/ptmx");
            }
        }
        close(dev);
    }
    for (size_t i = 0; i < s->linux_.n_devices; i++)
        if (make_device(rootfd, &s->linux_.devices[i], m->userns,
                        m->source_fds ? m->source_fds[s->n_mounts + i] : -1, err) < 0)
            return -1;
    return 0;
}

/* ---- the whole sequence ------------------------------------------------------------ */

int mounts_prepare(const struct mount_ctx *m, cerr_t *err)
{
    /* Nothing we mount may propagate back to the host. In the host's own
     * namespace (no mount namespace) neither / nor the rootfs is changed, as
     * crun does. */
    if (!m->host_ns && mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
        return cerr_set(err, errno, "make / a slave mount");
    if (!m->host_ns && mount(m->rootfs, m->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
        return cerr_set(err, errno, "bind mount rootfs `%s`", m->rootfs);
    int rootfd = open(m->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return cerr_set(err, errno, "open rootfs `%s`", m->rootfs);
    int r = 0;
    for (size_t i = 0; i < m->spec->n_mounts && r == 0; i++)
        if (!is_cgroup_mount(&m->spec->mounts[i]))
            r = do_mount(m, rootfd, i, err);
    if (r == 0)
        r = setup_dev(m, rootfd, err);
    /* sd_notify: the directory holding cella's notify socket goes where the
     * host's NOTIFY_SOCKET is; the container gets NOTIFY_SOCKET=PATH/notify. */
    if (r == 0 && m->notify_fd >= 0) {
        int t = open_in_root(rootfd, m->notify_path, true, false, err);
        if (t < 0)
            r = cerr_wrap(err, "NOTIFY_SOCKET");
        else if (move_mount(m->notify_fd, "", t, "",
                            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
            r = cerr_set(err, errno, "mount the notify socket on `%s`", m->notify_path);
        if (t >= 0)
            close(t);
    }
    /* The working directory is made now, while the root is still writable. */
    if (r == 0 && m->spec->process.cwd != NULL) {
        int cwd = open_in_root(rootfd, m->spec->process.cwd, true, false, err);
        if (cwd < 0)
            r = cerr_wrap(err, "process.cwd");
        else
            close(cwd);
    }
    if (r == 0)
        r = remount_read_only(m, rootfd, err);
    close(rootfd);
    return r;
}

int mounts_cgroup(const struct mount_ctx *m, cerr_t *err)
{
    int rootfd = -1, r = 0;
    for (size_t i = 0; i < m->spec->n_mounts && r == 0; i++) {
        if (!is_cgroup_mount(&m->spec->mounts[i]))
            continue;
        if (rootfd < 0 && (rootfd = open(m->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
            return cerr_set(err, errno, "open rootfs `%s`", m->rootfs);
        r = do_mount(m, rootfd, i, err);
    }
    if (rootfd >= 0)
        close(rootfd);
    return r;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
    char *out = s;
    for (; *s; s++) {
        if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7' &&
            s[3] >= '0' && s[3] <= '7') {
            *out++ = (char)(((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0'));
            s += 3;
        } else {
            *out++ = *s;
        }
    }
    *out = '\0';
}

static bool under(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* With chroot the host's procfs and sysfs stay in the mount namespace, and
 * the kernel lets a new user namespace mount a fresh procfs or sysfs when a
 * full one without locked overmounts is there: so every full procfs and
 * sysfs mount outside the rootfs goes first (or is covered), as runc does. */
static int hide_host_pseudo_fs(const char *rootfs, cerr_t *err)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (f == NULL)
        return cerr_set(err, errno, "--no-pivot: open /proc/self/mountinfo");
    char **points = NULL;
    size_t n = 0;
    char line[4096];
    while (fgets(line, sizeof(line), f) != NULL) {
        char root[1024], point[1024], fstype[64];
        char *sep = strstr(line, " - ");
        if (sep == NULL || sscanf(line, "%*s %*s %*s %1023s %1023s", root, point) != 2 ||
            sscanf(sep + 3, "%63s", fstype) != 1)
            continue;
        unescape_octal(point);
        if (strcmp(root, "/") != 0 ||
            (strcmp(fstype, "proc") != 0 && strcmp(fstype, "sysfs") != 0) || under(point, rootfs))
            continue;
        char **nv = realloc(points, (n + 1) * sizeof(*points));
        if (nv == NULL)
            abort();
        points = nv;
        points[n++] = xstrdup(point);
    }
    fclose(f);
    int r = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = points[i];
        /* ENOENT: under a mount detached before it. */
        if (r < 0 || (mount(NULL, p, NULL, MS_SLAVE | MS_REC, NULL) < 0 && errno == ENOENT))
            continue;
        if (umount2(p, MNT_DETACH) == 0 || errno == ENOENT)
            continue;
        if (errno != EINVAL && errno != EPERM)
            r = cerr_set(err, errno, "--no-pivot: detach the host's `%s`", p);
        else if (mount("tmpfs", p, "tmpfs", 0, NULL) < 0)
            r = cerr_set(err, errno, "--no-pivot: cover the host's `%s`", p);
    }
    for (size_t i = 0; i < n; i++)
        free(points[i]);
    free(points);
    return r;
}

static int pivot(const struct mount_ctx *m, cerr_t *err)
{
    if (chdir(m->rootfs) < 0)
        return cerr_set(err, errno, "chdir to rootfs `%s`", m->rootfs);
    if (m->host_ns) /* the host's root must stay where it is */
        return chroot(".") < 0 || chdir("/") < 0 ? cerr_set(err, errno, "chroot to rootfs") : 0;
    if (m->no_pivot) {
        if (hide_host_pseudo_fs(m->rootfs, err) < 0)
            return -1;
        if (mount(m->rootfs, "/", NULL, MS_MOVE, NULL) < 0)
            return cerr_set(err, errno, "move rootfs to /");
        if (chroot(".") < 0)
            return cerr_set(err, errno, "chroot to rootfs");
        return chdir("/") < 0 ? cerr_set(err, errno, "chdir /") : 0;
    }
    /* pivot_root(".", "."): the old root ends up on top of the new one and
     * is detached right away; no directory for it is needed in the rootfs. */
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        return cerr_set(err, errno, "pivot_root to `%s`", m->rootfs);
    if (mount(NULL, ".", NULL, MS_REC | MS_SLAVE, NULL) < 0)
        return cerr_set(err, errno, "make old root a slave");
    if (umount2(".", MNT_DETACH) < 0)
        return cerr_set(err, errno, "detach old root");
    return chdir("/") < 0 ? cerr_set(err, errno, "chdir /") : 0;
}

static unsigned long propagation_flag(const char *p)
{
    for (size_t i = 0; i < ARRAY_SIZE(prop_opts); i++)
        if (strcmp(prop_opts[i].name, p) == 0)
            return prop_opts[i].flag;
    return 0;
}

static int mask_path(const char *path, cerr_t *err)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return errno == ENOENT ? 0 : cerr_set(err, errno, "maskedPaths: `%s`", path);
    if (S_ISDIR(st.st_mode)) {
        if (mount("tmpfs", path, "tmpfs", MS_RDONLY, "size=0k,mode=755") < 0)
            return cerr_set(err, errno, "maskedPaths: mount tmpfs on `%s`", path);
    } else if (mount("/dev/null", path, NULL, MS_BIND, NULL) < 0) {
        return cerr_set(err, errno, "maskedPaths: bind /dev/null on `%s`", path);
    }
    return 0;
}

static int readonly_path(const char *path, cerr_t *err)
{
    if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
        return errno == ENOENT ? 0 : cerr_set(err, errno, "readonlyPaths: bind `%s`", path);
    return remount_bind(path, MS_RDONLY, path, err);
}

int mounts_pivot(const struct mount_ctx *m, cerr_t *err)
{
    const struct spec_linux *l = &m->spec->linux_;
    if (pivot(m, err) < 0)
        return -1;
    if (l->rootfs_propagation != NULL) {
        unsigned long f = propagation_flag(l->rootfs_propagation);
        if (f == 0)
            return cerr_set(err, 0, "linux.rootfsPropagation: unknown value `%s`",
                            l->rootfs_propagation);
        if (mount(NULL, "/", NULL, f, NULL) < 0)
            return cerr_set(err, errno, "set rootfs propagation `%s`", l->rootfs_propagation);
    }
    return 0;
}

int mounts_protect(const struct mount_ctx *m, cerr_t *err)
{
    const struct spec_linux *l = &m->spec->linux_;
    for (size_t i = 0; i < l->masked_paths.n; i++)
        if (mask_path(l->masked_paths.v[i], err) < 0)
            return -1;
    for (size_t i = 0; i < l->readonly_paths.n; i++)
        if (readonly_path(l->readonly_paths.v[i], err) < 0)
            return -1;
    if (m->spec->root.readonly && remount_bind("/", MS_RDONLY, "/ (root.readonly)", err) < 0)
        return -1;
    return 0;
}
