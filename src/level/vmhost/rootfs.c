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

int vm_rootfs_image(const char *rootfs_dir, char **path, const char **fstype, cerr_t *err)
{
    char key[65];
    if (vm_rootfs_key(rootfs_dir, key, err) < 0)
        return -1;
    const char *cache = cache_dir();
    autofree char *entry = xasprintf("%s/%s.erofs", cache, key);
    if (!have_entry(entry)) {
        /* 0700: images hold the containers' files, secrets included. */
        if (mkdir_p(cache, 0700, err) < 0)
            return cerr_wrap(err, "rootfs `%s`: cache", rootfs_dir);
        if (build_once(rootfs_dir, cache, key, entry, err) < 0)
            return -1;
    }
    /* The access time says when an entry was last used, for cleaning the
     * cache (docs/rootfs-delivery.md); relatime would not keep it. */
    utimensat(AT_FDCWD, entry, (struct timespec[]){{.tv_nsec = UTIME_NOW}, {.tv_nsec = UTIME_OMIT}},
              0);
    *path = entry;
    entry = NULL;
    *fstype = "erofs";
    return 0;
}
