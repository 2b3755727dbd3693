/* The sandbox's mount table: the spec's mounts other than /proc, /dev and
 * /sys (which are the kernel's own, procfs.c, or not served) and other
 * than a proc, sysfs, cgroup... anywhere (host_only), as the
 * container level mounted them in the kernel process's mount namespace.
 * Each is opened (O_PATH) before the kernel confines itself; a path crosses
 * into one only where the table says a mount is, never into another mount
 * of the kernel's view (RESOLVE_NO_XDEV everywhere else).
 *
 * Resolution: a path beneath a mount, without "..", is opened beneath the
 * mount's root refusing symlinks (RESOLVE_NO_SYMLINKS); a path of the
 * rootfs is opened beneath the root as before. Either falls back to a walk
 * of its own when it meets a symlink or a mount (ELOOP, EXDEV): one
 * component at a time, a symlink's target read and resolved from the
 * sandbox's root (absolute) or its directory, ".." going to the parent of
 * the path walked so far — so `..` at a mount's root is the mount point's
 * parent, and a symlink in a mount pointing at /etc is the sandbox's /etc. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "level/sandbox/kernel/kernel.h"
#include "oci/spec.h"

#define MAX_HOPS 40
#define RESOLVE  (RESOLVE_IN_ROOT | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS)

/* A destination the kernel serves itself (or not at all). */
static bool kernels(const char *path)
{
    static const char *const own[] = {"/proc", "/dev", "/sys"};
    for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
        size_t n = strlen(own[i]);
        if (strncmp(path, own[i], n) == 0 && (path[n] == '\0' || path[n] == '/'))
            return true;
    }
    return strcmp(path, "/") == 0;
}

/* A file system of the kernel's view the workload must never reach,
 * wherever the spec mounts or binds it: /proc (the kernel process's own
 * /proc/PID/mem...), /sys, cgroups, ptys, tracing. */
static bool host_only(int fd)
{
    static const unsigned long types[] = {
        0x9fa0,     /* proc */
        0x62656572, /* sysfs */
        0x27e0eb,   /* cgroup */
        0x63677270, /* cgroup2 */
        0x1cd1,     /* devpts */
        0x64626720, /* debugfs */
        0x74726163, /* tracefs */
        0x73636673, /* securityfs */
        0xcafe4a11, /* bpf */
        0x19800202, /* mqueue */
        0x6e736673, /* nsfs */
        0x50494446, /* pidfs */
    };
    struct statfs sf;
    if (fstatfs(fd, &sf) < 0)
        return true;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if ((unsigned long)sf.f_type == types[i])
            return true;
    return false;
}

void sb_mounts_init(struct sb_kernel *k, const struct spec *s)
{
    k->mounts = NULL;
    k->nmounts = 0;
    if (s == NULL || s->n_mounts == 0)
        return;
    k->mounts = calloc(s->n_mounts, sizeof(*k->mounts));
    if (k->mounts == NULL)
        return;
    for (size_t i = 0; i < s->n_mounts; i++) {
        const struct spec_mount *m = &s->mounts[i];
        char path[SB_PATH_MAX];
        if (m->destination == NULL || m->destination[0] != '/' ||
            sb_path_normalize(m->destination, path, sizeof(path)) < 0 || kernels(path))
            continue;
        int fd = open(path, O_PATH | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0 || host_only(fd)) {
            if (fd >= 0)
                close(fd);
            continue;
        }
        struct sb_mount *e = &k->mounts[k->nmounts];
        *e = (struct sb_mount){
            .fd = fd, .dev = st.st_dev, .ino = st.st_ino, .dir = S_ISDIR(st.st_mode)};
        e->path = strdup(path);
        e->type = strdup(m->type ? m->type : "none");
        e->source = strdup(m->source ? m->source : "none");
        if (e->path == NULL || e->type == NULL || e->source == NULL) {
            free(e->path);
            free(e->type);
            free(e->source);
            close(fd);
            continue;
        }
        for (size_t j = 0; j < m->options.n; j++)
            if (strcmp(m->options.v[j], "ro") == 0)
                e->ro = true;
            else if (strcmp(m->options.v[j], "rw") == 0)
                e->ro = false;
        /* A later mount on the same place hides the earlier one. */
        for (int j = 0; j < k->nmounts; j++)
            if (strcmp(k->mounts[j].path, e->path) == 0)
                k->mounts[j].hidden = true;
        k->nmounts++;
    }
}

/* The deepest mount path is in (NULL: the rootfs), and path's rest in it
 * ("" for the mount's root). path is absolute and normalized. */
static const struct sb_mount *mount_of(const struct sb_kernel *k, const char *path,
                                       const char **rel)
{
    const struct sb_mount *best = NULL;
    size_t best_len = 0;
    for (int i = 0; i < k->nmounts; i++) {
        const struct sb_mount *m = &k->mounts[i];
        size_t n = strlen(m->path);
        if (!m->hidden && n > best_len && strncmp(path, m->path, n) == 0 &&
            (path[n] == '\0' || path[n] == '/')) {
            best = m;
            best_len = n;
        }
    }
    const char *r = path + best_len;
    while (*r == '/')
        r++;
    *rel = r;
    return best;
}

static int openat2_in(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve)
{
    struct open_how how = {.flags = flags | O_CLOEXEC, .mode = mode, .resolve = resolve};
    int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
    return fd < 0 ? -errno : fd;
}

/* Open path (absolute, normalized, with no symlink but perhaps the last)
 * in the mount it is in. */
static int open_in(const struct sb_kernel *k, const char *path, uint64_t flags, uint64_t mode,
                   uint64_t extra)
{
    const char *rel;
    const struct sb_mount *m = mount_of(k, path, &rel);
    if (m != NULL && !m->dir && rel[0] == '\0') {
        /* A file bound over a name: the name in its parent, where crossing
         * into that one mount is allowed. */
        char parent[SB_PATH_MAX];
        const char *slash = strrchr(path, '/');
        snprintf(parent, sizeof(parent), "%.*s", (int)(slash - path), path);
        int pfd = open_in(k, parent[0] ? parent : "/", O_PATH | O_DIRECTORY, 0, 0);
        if (pfd < 0)
            return pfd;
        int fd = openat2_in(pfd, slash + 1, flags, mode,
                            RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
        close(pfd);
        /* The workload may have moved a directory holding another mount to
         * where the name is (rename of its parent): only this one is crossed into. */
        struct stat st;
        if (fd >= 0 && (fstat(fd, &st) < 0 || st.st_dev != m->dev || st.st_ino != m->ino)) {
            close(fd);
            return -EXDEV;
        }
        return fd;
    }
    return openat2_in(m ? m->fd : k->rootfd, rel[0] ? rel : ".", flags, mode, RESOLVE | extra);
}

/* The walk: path (absolute, as the workload named it, joined to its base). */
static int walk(const struct sb_kernel *k, const char *path, uint64_t flags, uint64_t mode)
{
    char cur[SB_PATH_MAX] = "", rest[SB_PATH_MAX * 2], target[SB_PATH_MAX];
    if (snprintf(rest, sizeof(rest), "%s", path) >= (int)sizeof(rest))
        return -ENAMETOOLONG;
    bool nofollow = flags & O_NOFOLLOW || ((flags & O_CREAT) && (flags & O_EXCL));
    bool trailing = false;
    size_t at = 0;
    for (int hops = 0;;) {
        while (rest[at] == '/')
            at++;
        if (rest[at] == '\0')
            break;
        size_t len = strcspn(rest + at, "/");
        size_t next = at + len;
        while (rest[next] == '/')
            next++;
        bool last = rest[next] == '\0';
        trailing = last && next > at + len;
        const char *comp = rest + at;
        if (len == 1 && comp[0] == '.') {
            at = next;
            continue;
        }
        if (len == 2 && comp[0] == '.' && comp[1] == '.') {
            char *slash = strrchr(cur, '/');
            if (slash != NULL)
                *slash = '\0'; /* at the root it stays there */
            at = next;
            continue;
        }
        size_t clen = strlen(cur);
        if (clen + 1 + len + 1 > sizeof(cur))
            return -ENAMETOOLONG;
        char cand[SB_PATH_MAX];
        memcpy(cand, cur, clen);
        cand[clen] = '/';
        memcpy(cand + clen + 1, comp, len);
        cand[clen + 1 + len] = '\0';
        if (last && nofollow && !trailing) {
            strcpy(cur, cand);
            break;
        }
        int fd = open_in(k, cand, O_PATH | O_NOFOLLOW, 0, 0);
        if (fd == -ENOENT && last) { /* a new name: the open decides */
            strcpy(cur, cand);
            break;
        }
        if (fd < 0)
            return fd;
        struct stat st;
        if (fstat(fd, &st) < 0) {
            close(fd);
            return -errno;
        }
        if (S_ISLNK(st.st_mode)) {
            ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
            close(fd);
            if (n < 0)
                return -errno;
            if (++hops > MAX_HOPS)
                return -ELOOP;
            target[n] = '\0';
            /* The target, then what followed the link. */
            char joined[SB_PATH_MAX * 2];
            /* (a trailing slash of the link's name stays: it asks for a directory) */
            if (snprintf(joined, sizeof(joined), "%s%s%s", target, last && !trailing ? "" : "/",
                         rest + next) >= (int)sizeof(joined))
                return -ENAMETOOLONG;
            strcpy(rest, joined);
            at = 0;
            if (target[0] == '/')
                cur[0] = '\0';
            continue;
        }
        close(fd);
        if (!last && !S_ISDIR(st.st_mode))
            return -ENOTDIR;
        strcpy(cur, cand);
        at = next;
    }
    if (cur[0] == '\0')
        strcpy(cur, "/");
    if (trailing && strlen(cur) + 2 <= sizeof(cur) && strcmp(cur, "/") != 0)
        strcat(cur, "/");
    return open_in(k, cur, flags, mode, 0);
}

/* Whether path has a ".." component. */
static bool dotdot(const char *path)
{
    for (const char *p = path; (p = strstr(p, "..")) != NULL; p += 2)
        if ((p == path || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
            return true;
    return false;
}

int sb_mount_open(const struct sb_kernel *k, const char *abs, uint64_t flags, uint64_t mode)
{
    char norm[SB_PATH_MAX];
    const char *rel;
    const struct sb_mount *m = NULL;
    if (!dotdot(abs) && sb_path_normalize(abs, norm, sizeof(norm)) == 0)
        m = mount_of(k, norm, &rel);
    int fd;
    if (m != NULL && m->dir) /* beneath a mount, no symlink on the way */
        fd = openat2_in(m->fd, rel[0] ? rel : ".", flags, mode, RESOLVE | RESOLVE_NO_SYMLINKS);
    else if (m == NULL)
        fd = openat2_in(k->rootfd, abs, flags, mode, RESOLVE);
    else
        fd = -EXDEV;
    if (fd == -ELOOP || fd == -EXDEV)
        fd = walk(k, abs, flags, mode);
    return fd;
}

int sb_mount_open_exe(const struct sb_kernel *k, const char *path, cerr_t *err)
{
    int fd = sb_mount_open(k, path, O_RDONLY, 0);
    if (fd < 0)
        return cerr_set(err, fd == -EXDEV ? EACCES : -fd, "`%s`", path);
    if (sb_elf_check(fd, path, err) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* A source that is a path (a bind mount's: the host's directory, absolute
 * or relative to the bundle) shows as "none": no host path in /proc/mounts. */
void sb_mounts_list(const struct sb_kernel *k, FILE *f)
{
    for (int i = 0; i < k->nmounts; i++) {
        const struct sb_mount *m = &k->mounts[i];
        const char *source = strchr(m->source, '/') ? "none" : m->source;
        fprintf(f, "%s %s %s %s 0 0\n", source, m->path, m->type, m->ro ? "ro" : "rw");
    }
}
