/* The bundle's rootfs as a read-only erofs image, cached by a key over the
 * tree's metadata (docs/rootfs-delivery.md). */
#define _GNU_SOURCE
#include "level/vmhost/rootfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/sha256.h"
#include "core/util.h"

extern char **environ;

#define MKFS "mkfs.erofs"
/* Hashed into every key: a change to how images are built must not reuse the
 * images built the old way. No -T or SOURCE_DATE_EPOCH: in erofs-utils 1.5
 * both also overwrite every file's mtime, and the container should see its
 * files' times (Python's .pyc checks, make). The images are therefore not
 * byte-reproducible (the superblock holds the build time and a random UUID);
 * nothing needs them to be, since the key is computed from the tree. */
#define RECIPE "cella-rootfs-1 " MKFS " --quiet"

/* ---- the key ---------------------------------------------------------------------------- */

/* What is hashed for each entry besides its path and symlink target. The
 * ctime and inode number stand for the contents: every write, chmod, chown,
 * link or xattr change moves the ctime, and no system call sets it back, so a
 * different tree cannot impersonate this one (an mtime can be forged with
 * utimensat, and images of public base images have well-known mtimes). */
struct entry_meta {
    uint64_t mode, uid, gid, size, rdev, ino;
    int64_t mtime_s, mtime_ns, ctime_s, ctime_ns;
};

struct walker {
    struct sha256 h;
    const char *top; /* rootfs_dir, for errors */
};

static void hash_meta(struct walker *w, const char *rel, const struct stat *st)
{
    struct entry_meta m = {
        .mode = st->st_mode,
        .uid = st->st_uid,
        .gid = st->st_gid,
        .size = (uint64_t)st->st_size,
        .rdev = st->st_rdev,
        .ino = st->st_ino,
        .mtime_s = st->st_mtim.tv_sec,
        .mtime_ns = st->st_mtim.tv_nsec,
        .ctime_s = st->st_ctim.tv_sec,
        .ctime_ns = st->st_ctim.tv_nsec,
    };
    /* The NUL ends the path: "a/b" + x and "a" + "/bx" hash differently. */
    sha256_update(&w->h, rel, strlen(rel) + 1);
    sha256_update(&w->h, &m, sizeof(m));
}

/* A symlink's target (at most PATH_MAX bytes on Linux): mkfs.erofs copies it. */
static int hash_link(struct walker *w, int dirfd, const char *name)
{
    char target[PATH_MAX];
    ssize_t n = readlinkat(dirfd, name, target, sizeof(target));
    if (n < 0)
        return -1;
    sha256_update(&w->h, target, (size_t)n);
    sha256_update(&w->h, "", 1);
    return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int not_dots(const struct dirent *d)
{
    return strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0;
}

static int walk_dir(struct walker *w, int dirfd, const char *rel, cerr_t *err);

/* One entry of the directory dirfd, whose path under the rootfs is rel. */
static int walk_entry(struct walker *w, int dirfd, const char *name, const char *rel, cerr_t *err)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return cerr_set(err, errno, "rootfs `%s`: %s", w->top, rel);
    hash_meta(w, rel, &st);
    if (S_ISLNK(st.st_mode) && hash_link(w, dirfd, name) < 0)
        return cerr_set(err, errno, "rootfs `%s`: readlink %s", w->top, rel);
    if (!S_ISDIR(st.st_mode))
        return 0;
    autoclose int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0)
        return cerr_set(err, errno, "rootfs `%s`: %s", w->top, rel);
    return walk_dir(w, sub, rel, err);
}

/* The entries of dirfd in name order, so that the key does not depend on the
 * order the file system lists them in. */
static int walk_dir(struct walker *w, int dirfd, const char *rel, cerr_t *err)
{
    struct dirent **names = NULL;
    int n = scandirat(dirfd, ".", &names, not_dots, by_name);
    if (n < 0)
        return cerr_set(err, errno, "rootfs `%s`: %s", w->top, rel);
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (rc == 0) {
            autofree char *sub = xasprintf("%s/%s", rel, names[i]->d_name);
            rc = walk_entry(w, dirfd, names[i]->d_name, sub, err);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int vm_rootfs_key(const char *rootfs_dir, char key[65], cerr_t *err)
{
    struct walker w = {.top = rootfs_dir};
    sha256_init(&w.h);
    sha256_update(&w.h, RECIPE, sizeof(RECIPE));
    /* The top may be a symlink (mkfs.erofs follows it too); below it, none is. */
    autoclose int fd = open(rootfs_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        return cerr_set(err, errno, "rootfs `%s`", rootfs_dir);
    /* Of the top, only what the image's root gets: its inode and times are
     * those of whatever is mounted there (an overlay's root is its upper
     * directory, one per container); what changes in it, its entries say. */
    struct stat top = {.st_mode = st.st_mode, .st_uid = st.st_uid, .st_gid = st.st_gid};
    hash_meta(&w, ".", &top);
    if (walk_dir(&w, fd, ".", err) < 0)
        return -1;
    sha256_final_hex(&w.h, key);
    return 0;
}

/* ---- building an image ------------------------------------------------------------------ */

static const char *cache_dir(void)
{
    const char *dir = getenv(ROOTFS_CACHE_ENV);
    return dir && dir[0] ? dir : ROOTFS_CACHE_DEFAULT;
}

/* The tool's stderr as one line: its non-empty lines, trimmed, joined by "; ";
 * other control characters become spaces. */
static void one_line(const char *in, char *out, size_t cap)
{
    size_t len = 0;
    while (*in) {
        size_t n = strcspn(in, "\r\n"), end = n;
        while (end > 0 && (unsigned char)in[end - 1] <= ' ')
            end--;
        for (size_t i = 0; end > 0 && len > 0 && i < 2 && len + 1 < cap; i++)
            out[len++] = "; "[i];
        for (size_t i = 0; i < end && len + 1 < cap; i++)
            out[len++] = (unsigned char)in[i] < ' ' ? ' ' : in[i];
        in += n + strspn(in + n, "\r\n");
    }
    out[len] = '\0';
}

/* Reads fd to its end, keeping the first cap - 1 bytes (NUL-terminated). */
static void read_capped(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    char sink[512];
    for (;;) {
        char *to = len + 1 < cap ? buf + len : sink;
        size_t room = len + 1 < cap ? cap - 1 - len : sizeof(sink);
        ssize_t n = read(fd, to, room);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (to == buf + len)
            len += (size_t)n;
    }
    buf[len] = '\0';
}

static int wait_child(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return status;
}

/* mkfs.erofs IMAGE DIR, no shell: stdin and stdout /dev/null, stderr into the
 * error message, none of cella's other fds. */
static int run_mkfs(const char *rootfs_dir, const char *image, cerr_t *err)
{
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return cerr_set(err, errno, "rootfs `%s`: pipe", rootfs_dir);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    char *argv[] = {MKFS, "--quiet", (char *)image, (char *)rootfs_dir, NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, MKFS, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    if (rc != 0) {
        close(pipefd[0]);
        if (rc == ENOENT)
            return cerr_set(err, 0, "rootfs `%s`: " MKFS ": not found (install erofs-utils)",
                            rootfs_dir);
        return cerr_set(err, rc, "rootfs `%s`: run " MKFS, rootfs_dir);
    }
    char raw[1024], msg[1024];
    read_capped(pipefd[0], raw, sizeof(raw));
    close(pipefd[0]);
    int status = wait_child(pid);
    if (status == 0)
        return 0;
    one_line(raw, msg, sizeof(msg));
    if (status > 0 && WIFSIGNALED(status))
        return cerr_set(err, 0, "rootfs `%s`: " MKFS " killed by signal %d%s%s", rootfs_dir,
                        WTERMSIG(status), msg[0] ? ": " : "", msg);
    return cerr_set(err, 0, "rootfs `%s`: " MKFS " failed (exit status %d)%s%s", rootfs_dir,
                    status > 0 ? WEXITSTATUS(status) : -1, msg[0] ? ": " : "", msg);
}

/* Build into a temporary file next to the entry and rename it into place:
 * readers see no entry or a whole one. Synced first, so that a crash cannot
 * leave a cache entry with holes in it. */
static int build_image(const char *rootfs_dir, const char *cache, const char *key,
                       const char *entry, cerr_t *err)
{
    autofree char *tmp = xasprintf("%s/.%s.erofs.XXXXXX", cache, key);
    autoclose int fd = mkstemp(tmp); /* 0600: the image holds the container's files */
    if (fd < 0)
        return cerr_set(err, errno, "rootfs `%s`: create a file in `%s`", rootfs_dir, cache);
    if (run_mkfs(rootfs_dir, tmp, err) < 0) {
        unlink(tmp);
        return -1;
    }
    if (fsync(fd) < 0 || rename(tmp, entry) < 0) {
        int e = errno;
        unlink(tmp);
        return cerr_set(err, e, "rootfs `%s`: store `%s`", rootfs_dir, entry);
    }
    return 0;
}

static bool have_entry(const char *entry)
{
    struct stat st;
    return stat(entry, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

/* One build per key at a time: the others wait, then find the entry. The lock
 * file is removed after the build; a waiter still holding the removed file's
 * lock finds the entry too, and if the build failed and two callers then
 * build at once, each renames a whole image of the same tree into place. */
static int build_once(const char *rootfs_dir, const char *cache, const char *key, const char *entry,
                      cerr_t *err)
{
    autofree char *lock = xasprintf("%s/.%s.lock", cache, key);
    autoclose int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return cerr_set(err, errno, "rootfs `%s`: open `%s`", rootfs_dir, lock);
    while (flock(fd, LOCK_EX) < 0)
        if (errno != EINTR)
            return cerr_set(err, errno, "rootfs `%s`: lock `%s`", rootfs_dir, lock);
    int rc = have_entry(entry) ? 0 : build_image(rootfs_dir, cache, key, entry, err);
    unlink(lock);
    return rc;
}

/* $CELLA_ROOTFS_CACHE_MAX in bytes (0: no limit). */
static int cache_limit(unsigned long long *out, cerr_t *err)
{
    const char *v = getenv(ROOTFS_CACHE_MAX_ENV);
    if (v == NULL || *v == '\0')
        v = ROOTFS_CACHE_MAX_DEFAULT;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    const char *units = "KMGT", *u = *end ? strchr(units, *end) : NULL;
    if (errno || end == v || *v == '-' || (*end && (u == NULL || end[1] != '\0')))
        return cerr_set(
            err, 0,
            "$" ROOTFS_CACHE_MAX_ENV ": `%s`: expected bytes, or a number with K, M, G or T", v);
    for (const char *k = units; u != NULL && k <= u; k++) {
        if (n > ULLONG_MAX / 1024)
            return cerr_set(err, 0, "$" ROOTFS_CACHE_MAX_ENV ": `%s`: too large", v);
        n *= 1024;
    }
    *out = n;
    return 0;
}

struct cached {
    char *name;
    unsigned long long size;
    struct timespec used;
};

static int by_use(const void *a, const void *b)
{
    const struct cached *x = a, *y = b;
    if (x->used.tv_sec != y->used.tv_sec)
        return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
    if (x->used.tv_nsec != y->used.tv_nsec)
        return x->used.tv_nsec < y->used.tv_nsec ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Remove cache/name unless a VM holds it (LOCK_SH) or it was replaced
 * meanwhile; true when it went. */
static bool evict(int dirfd, const char *name)
{
    autoclose int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat held, now;
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0 || fstat(fd, &held) < 0 ||
        fstatat(dirfd, name, &now, AT_SYMLINK_NOFOLLOW) < 0 || held.st_ino != now.st_ino ||
        held.st_dev != now.st_dev)
        return false;
    return unlinkat(dirfd, name, 0) == 0;
}

/* Down to the limit, least recently used first; keep (the entry just used)
 * stays. Best effort: the cache is only ever too large, never wrong. */
static void trim(const char *cache, const char *keep, unsigned long long limit)
{
    if (limit == 0)
        return;
    autoclose int dirfd = open(cache, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dirfd >= 0 ? fdopendir(dup(dirfd)) : NULL;
    if (d == NULL)
        return;
    struct cached *v = NULL;
    size_t n = 0, cap = 0;
    unsigned long long total = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t len = strlen(e->d_name);
        struct stat st;
        if (e->d_name[0] == '.' || len < 7 || strcmp(e->d_name + len - 6, ".erofs") != 0 ||
            fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            v = realloc(v, cap * sizeof(*v));
            if (v == NULL)
                abort();
        }
        v[n++] = (struct cached){xstrdup(e->d_name), (unsigned long long)st.st_size, st.st_atim};
        total += (unsigned long long)st.st_size;
    }
    closedir(d);
    qsort(v, n, sizeof(*v), by_use);
    for (size_t i = 0; i < n && total > limit; i++)
        if (strcmp(v[i].name, keep) != 0 && evict(dirfd, v[i].name))
            total -= v[i].size;
    for (size_t i = 0; i < n; i++)
        free(v[i].name);
    free(v);
}

/* The entry open and held (LOCK_SH), built first when missing; an entry
 * evicted between the open and the lock is built again. */
static int hold_entry(const char *rootfs_dir, const char *cache, const char *key, const char *entry,
                      cerr_t *err)
{
    for (int tries = 0;; tries++) {
        if (!have_entry(entry)) {
            /* 0700: images hold the containers' files, secrets included. */
            if (mkdir_p(cache, 0700, err) < 0)
                return cerr_wrap(err, "rootfs `%s`: cache", rootfs_dir);
            if (build_once(rootfs_dir, cache, key, entry, err) < 0)
                return -1;
        }
        int fd = open(entry, O_RDONLY | O_CLOEXEC);
        struct stat held, now;
        if (fd >= 0 && flock(fd, LOCK_SH) == 0 && fstat(fd, &held) == 0 && stat(entry, &now) == 0 &&
            held.st_ino == now.st_ino && held.st_dev == now.st_dev)
            return fd;
        int e = errno;
        if (fd >= 0)
            close(fd);
        if (tries == 3)
            return cerr_set(err, e, "rootfs `%s`: hold `%s`", rootfs_dir, entry);
    }
}

int vm_rootfs_image_held(const char *rootfs_dir, char **path, const char **fstype, int *hold,
                         cerr_t *err)
{
    char key[65];
    unsigned long long limit = 0;
    if (cache_limit(&limit, err) < 0 || vm_rootfs_key(rootfs_dir, key, err) < 0)
        return -1;
    const char *cache = cache_dir();
    autofree char *entry = xasprintf("%s/%s.erofs", cache, key);
    int fd = hold_entry(rootfs_dir, cache, key, entry, err);
    if (fd < 0)
        return -1;
    /* The access time says when an entry was last used, for the trim below
     * and for cleaning by hand (docs/rootfs-delivery.md); relatime would
     * not keep it. */
    futimens(fd, (struct timespec[]){{.tv_nsec = UTIME_NOW}, {.tv_nsec = UTIME_OMIT}});
    trim(cache, strrchr(entry, '/') + 1, limit);
    *hold = fd;
    *path = entry;
    entry = NULL;
    *fstype = "erofs";
    return 0;
}

int vm_rootfs_image(const char *rootfs_dir, char **path, const char **fstype, cerr_t *err)
{
    int hold;
    if (vm_rootfs_image_held(rootfs_dir, path, fstype, &hold, err) < 0)
        return -1;
    close(hold);
    return 0;
}
