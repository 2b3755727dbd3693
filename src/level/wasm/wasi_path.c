/* WASI preview1: the path_* family and the sandboxed path resolution.
 *
 * A path is relative to a directory fd and must stay beneath it. Opening is
 * openat2(RESOLVE_BENEATH): the kernel refuses "..", absolute paths and
 * symlinks (absolute, or relative ones that climb out) that would leave the
 * tree, with EXDEV, reported as ENOTCAPABLE. The other operations open the
 * parent directory that way, then act on the last component with an *at()
 * call that does not follow it; when a symlink in the last component is to
 * be followed (SYMLINK_FOLLOW, or a trailing slash), it is read and its
 * target resolved again from the start, beneath the same directory. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/util.h"
#include "level/wasm/wasi_impl.h"

#define MAX_SYMLINKS 40

/* openat2 beneath dirfd: the fd, or -1 with errno. */
static int open_beneath(int dirfd, const char *path, uint64_t flags, uint64_t mode)
{
    struct open_how how = {
        .flags = flags | O_CLOEXEC,
        .mode = (flags & O_CREAT) ? mode : 0,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    for (int i = 0;; i++) {
        long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
        if (fd >= 0)
            return (int)fd;
        /* EAGAIN: a concurrent rename or mount raced the lookup. */
        if ((errno != EAGAIN && errno != EINTR) || i == 16)
            return -1;
    }
}

/* Escapes (EXDEV from RESOLVE_BENEATH) are a missing capability. */
static uint32_t path_errno(int e)
{
    return e == EXDEV ? WASI_ENOTCAPABLE : wasi_errno(e);
}

/* A resolved path: act on `last` in `dirfd` (which lies beneath the root). */
struct at {
    int dirfd;
    const char *last; /* never ".." and without '/'; "." for the directory itself */
    bool slash;       /* the path ended in '/' */
    char *buf;
};

static void at_free(struct at *at)
{
    if (at->dirfd >= 0)
        close(at->dirfd);
    free(at->buf);
    at->dirfd = -1;
    at->buf = NULL;
}

enum follow { NOFOLLOW, FOLLOW, FOLLOW_IF_SLASH };

/* Resolve `path` (malloc'd, taken) beneath root. */
static uint32_t resolve_in(int root, char *path, enum follow follow, struct at *at)
{
    at->dirfd = -1;
    at->buf = path;
    at->slash = false;
    for (int hops = 0;; hops++) {
        char *p = at->buf;
        if (*p == '\0')
            return WASI_ENOENT;
        if (*p == '/')
            return WASI_ENOTCAPABLE;
        size_t n = strlen(p);
        while (n > 1 && p[n - 1] == '/') {
            p[--n] = '\0';
            at->slash = true;
        }
        char *s = strrchr(p, '/');
        const char *dir = ".";
        char *last = p;
        if (s != NULL) {
            *s = '\0';
            dir = p;
            last = s + 1;
        }
        if (strcmp(last, ".") == 0 || strcmp(last, "..") == 0) {
            /* The directory itself: open all of it. */
            if (s != NULL)
                *s = '/';
            if ((at->dirfd = open_beneath(root, p, O_PATH | O_DIRECTORY, 0)) < 0)
                return path_errno(errno);
            at->last = ".";
            return WASI_ESUCCESS;
        }
        if ((at->dirfd = open_beneath(root, dir, O_PATH | O_DIRECTORY, 0)) < 0)
            return path_errno(errno);
        at->last = last;
        if (follow == NOFOLLOW || (follow == FOLLOW_IF_SLASH && !at->slash))
            return WASI_ESUCCESS;
        char target[PATH_MAX];
        ssize_t t = readlinkat(at->dirfd, last, target, sizeof(target));
        if (t < 0) {
            if (errno == EINVAL || errno == ENOENT) /* not a symlink, or nothing there */
                return WASI_ESUCCESS;
            return path_errno(errno);
        }
        close(at->dirfd);
        at->dirfd = -1;
        if (hops == MAX_SYMLINKS)
            return WASI_ELOOP;
        if (t == (ssize_t)sizeof(target))
            return WASI_ENAMETOOLONG;
        if (t == 0)
            return WASI_ENOENT;
        if (target[0] == '/')
            return WASI_ENOTCAPABLE;
        target[t] = '\0';
        char *np = s != NULL ? xasprintf("%s/%s", dir, target) : xstrdup(target);
        free(at->buf);
        at->buf = np;
    }
}

/* Resolve the guest path (ptr, len) relative to directory fd. */
static uint32_t resolve(struct wasi_ctx *ctx, struct wasm_memory *mem, uint32_t fd, uint32_t ptr,
                        uint32_t len, enum follow follow, struct at *at)
{
    at->dirfd = -1;
    at->buf = NULL;
    struct wasi_fd *e = wasi_fd_get(ctx, fd);
    if (e == NULL)
        return WASI_EBADF;
    if (e->filetype != WASI_FILETYPE_DIRECTORY)
        return WASI_ENOTDIR;
    char *path;
    uint32_t r = wasi_guest_path(mem, ptr, len, &path);
    if (r != WASI_ESUCCESS)
        return r;
    return resolve_in(e->host, path, follow, at);
}

static enum follow lookup_follow(uint32_t lookupflags)
{
    return (lookupflags & WASI_LOOKUPFLAGS_SYMLINK_FOLLOW) ? FOLLOW : FOLLOW_IF_SLASH;
}

static uint32_t result(int rc)
{
    return rc < 0 ? path_errno(errno) : WASI_ESUCCESS;
}

/* A trailing slash names a directory: ENOTDIR when at does not. */
static uint32_t slash_check(const struct at *at)
{
    struct stat st;
    if (!at->slash)
        return WASI_ESUCCESS;
    if (fstatat(at->dirfd, at->last, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return path_errno(errno);
    return S_ISDIR(st.st_mode) ? WASI_ESUCCESS : WASI_ENOTDIR;
}

WASI_FN(path_create_directory)
{
    struct at at;
    uint32_t r = resolve(ctx, mem, a[0].i32, a[1].i32, a[2].i32, NOFOLLOW, &at);
    if (r == WASI_ESUCCESS)
        r = result(mkdirat(at.dirfd, at.last, 0777));
    at_free(&at);
    return r;
}

WASI_FN(path_filestat_get)
{
    struct at at;
    struct stat st;
    uint32_t buf = a[4].i32;
    if (!wasi_mem_ok(mem, buf, WASI_SIZEOF_FILESTAT))
        return WASI_EFAULT;
    uint32_t r = resolve(ctx, mem, a[0].i32, a[2].i32, a[3].i32, lookup_follow(a[1].i32), &at);
    if (r == WASI_ESUCCESS)
        r = result(fstatat(at.dirfd, at.last, &st, AT_SYMLINK_NOFOLLOW));
    if (r == WASI_ESUCCESS && at.slash && !S_ISDIR(st.st_mode))
        r = WASI_ENOTDIR;
    if (r == WASI_ESUCCESS)
        wasi_put_filestat(mem, buf, &st, wasi_filetype_of(-1, &st));
    at_free(&at);
    return r;
}

WASI_FN(path_filestat_set_times)
{
    struct at at;
    struct timespec ts[2];
    uint32_t r = wasi_times(a[4].i64, a[5].i64, a[6].i32, ts);
    if (r != WASI_ESUCCESS)
        return r;
    r = resolve(ctx, mem, a[0].i32, a[2].i32, a[3].i32, lookup_follow(a[1].i32), &at);
    if (r == WASI_ESUCCESS)
        r = slash_check(&at);
    if (r == WASI_ESUCCESS)
        r = result(utimensat(at.dirfd, at.last, ts, AT_SYMLINK_NOFOLLOW));
    at_free(&at);
    return r;
}

WASI_FN(path_link)
{
    struct at from, to;
    uint32_t r = resolve(ctx, mem, a[0].i32, a[2].i32, a[3].i32, lookup_follow(a[1].i32), &from);
    if (r != WASI_ESUCCESS) {
        at_free(&from);
        return r;
    }
    r = resolve(ctx, mem, a[4].i32, a[5].i32, a[6].i32, NOFOLLOW, &to);
    if (r == WASI_ESUCCESS && (from.slash || to.slash)) {
        /* Only a directory takes a trailing slash, and it cannot be linked. */
        from.slash = true;
        r = slash_check(&from);
        if (r == WASI_ESUCCESS)
            r = WASI_EPERM;
    }
    if (r == WASI_ESUCCESS)
        r = result(linkat(from.dirfd, from.last, to.dirfd, to.last, 0));
    at_free(&from);
    at_free(&to);
    return r;
}

WASI_FN(path_open)
{
    uint32_t dirfd = a[0].i32, dirflags = a[1].i32, oflags = a[4].i32, fdflags = a[7].i32;
    uint64_t base = a[5].i64, inheriting = a[6].i64;
    uint32_t retp = a[8].i32;
    struct wasi_fd *e = wasi_fd_get(ctx, dirfd);
    if (e == NULL)
        return WASI_EBADF;
    if (e->filetype != WASI_FILETYPE_DIRECTORY)
        return WASI_ENOTDIR;
    if ((oflags & ~0xfu) != 0 || (fdflags & ~0x1fu) != 0)
        return WASI_EINVAL;
    if (!wasi_mem_ok(mem, retp, 4))
        return WASI_EFAULT;
    autofree char *path = NULL;
    uint32_t r = wasi_guest_path(mem, a[2].i32, a[3].i32, &path);
    if (r != WASI_ESUCCESS)
        return r;
    if (path[0] == '/')
        return WASI_ENOTCAPABLE;

    bool rd = base & (WASI_RIGHT_FD_READ | WASI_RIGHT_FD_READDIR);
    bool wr = (base & (WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_DATASYNC | WASI_RIGHT_FD_ALLOCATE |
                       WASI_RIGHT_FD_FILESTAT_SET_SIZE)) ||
              (oflags & WASI_OFLAGS_TRUNC) || (fdflags & WASI_FDFLAGS_APPEND);
    int acc = wr ? (rd ? O_RDWR : O_WRONLY) : O_RDONLY;
    int flags = O_NOCTTY;
    if (oflags & WASI_OFLAGS_CREAT)
        flags |= O_CREAT;
    if (oflags & WASI_OFLAGS_DIRECTORY) {
        flags |= O_DIRECTORY;
        acc = O_RDONLY;
    }
    if (oflags & WASI_OFLAGS_EXCL)
        flags |= O_EXCL;
    if (oflags & WASI_OFLAGS_TRUNC)
        flags |= O_TRUNC;
    if (fdflags & WASI_FDFLAGS_APPEND)
        flags |= O_APPEND;
    if (fdflags & WASI_FDFLAGS_NONBLOCK)
        flags |= O_NONBLOCK;
    if (fdflags & (WASI_FDFLAGS_SYNC | WASI_FDFLAGS_RSYNC))
        flags |= O_SYNC;
    else if (fdflags & WASI_FDFLAGS_DSYNC)
        flags |= O_DSYNC;
    if (!(dirflags & WASI_LOOKUPFLAGS_SYMLINK_FOLLOW))
        flags |= O_NOFOLLOW;

    int host = open_beneath(e->host, path, (uint64_t)(flags | acc), 0666);
    /* Write rights asked of a directory (some programs ask for all rights):
     * open it for reading when nothing else needs writing. */
    if (host < 0 && errno == EISDIR && acc != O_RDONLY &&
        !(oflags & (WASI_OFLAGS_CREAT | WASI_OFLAGS_TRUNC)) && !(fdflags & WASI_FDFLAGS_APPEND))
        host = open_beneath(e->host, path, (uint64_t)(flags | O_RDONLY), 0);
    if (host < 0)
        return path_errno(errno);
    struct stat st;
    if (fstat(host, &st) < 0) {
        int saved = errno;
        close(host);
        return wasi_errno(saved);
    }
    uint8_t ft = wasi_filetype_of(host, &st);
    uint8_t kind = ft == WASI_FILETYPE_DIRECTORY ? WASI_KIND_DIR : WASI_KIND_FILE;
    uint64_t inh = e->rights_inheriting; /* e is not used after wasi_fd_add */
    int64_t fd = wasi_fd_add(ctx, host, kind, ft, base & inh, inheriting & inh, &r);
    if (fd < 0)
        return r;
    wasi_put32(mem, retp, (uint32_t)fd);
    return WASI_ESUCCESS;
}

WASI_FN(path_readlink)
{
    struct at at;
    uint32_t buf = a[3].i32, len = a[4].i32, retp = a[5].i32;
    if (!wasi_mem_ok(mem, buf, len) || !wasi_mem_ok(mem, retp, 4))
        return WASI_EFAULT;
    uint32_t r = resolve(ctx, mem, a[0].i32, a[1].i32, a[2].i32, FOLLOW_IF_SLASH, &at);
    if (r == WASI_ESUCCESS) {
        char target[PATH_MAX];
        ssize_t n = readlinkat(at.dirfd, at.last, target, sizeof(target));
        if (n < 0) {
            r = path_errno(errno);
        } else {
            /* Truncated to the buffer, as readlink(2). */
            uint32_t m = (uint64_t)n < len ? (uint32_t)n : len;
            memcpy(mem->data + buf, target, m);
            wasi_put32(mem, retp, m);
        }
    }
    at_free(&at);
    return r;
}

WASI_FN(path_remove_directory)
{
    struct at at;
    uint32_t r = resolve(ctx, mem, a[0].i32, a[1].i32, a[2].i32, NOFOLLOW, &at);
    if (r == WASI_ESUCCESS)
        r = result(unlinkat(at.dirfd, at.last, AT_REMOVEDIR));
    at_free(&at);
    return r;
}

WASI_FN(path_rename)
{
    struct at from, to;
    uint32_t r = resolve(ctx, mem, a[0].i32, a[1].i32, a[2].i32, NOFOLLOW, &from);
    if (r != WASI_ESUCCESS) {
        at_free(&from);
        return r;
    }
    r = resolve(ctx, mem, a[3].i32, a[4].i32, a[5].i32, NOFOLLOW, &to);
    if (r == WASI_ESUCCESS && to.slash) {
        from.slash = true;
    }
    if (r == WASI_ESUCCESS)
        r = slash_check(&from);
    if (r == WASI_ESUCCESS)
        r = result(renameat(from.dirfd, from.last, to.dirfd, to.last));
    at_free(&from);
    at_free(&to);
    return r;
}

WASI_FN(path_symlink)
{
    struct at at;
    autofree char *target = NULL;
    uint32_t r = wasi_guest_path(mem, a[0].i32, a[1].i32, &target);
    if (r != WASI_ESUCCESS)
        return r;
    if (target[0] == '\0')
        return WASI_ENOENT;
    /* An absolute target could never be followed inside the sandbox. */
    if (target[0] == '/')
        return WASI_ENOTCAPABLE;
    r = resolve(ctx, mem, a[2].i32, a[3].i32, a[4].i32, NOFOLLOW, &at);
    if (r == WASI_ESUCCESS && at.slash) {
        struct stat st;
        r = fstatat(at.dirfd, at.last, &st, AT_SYMLINK_NOFOLLOW) == 0 ? WASI_EEXIST : WASI_ENOENT;
    }
    if (r == WASI_ESUCCESS)
        r = result(symlinkat(target, at.dirfd, at.last));
    at_free(&at);
    return r;
}

WASI_FN(path_unlink_file)
{
    struct at at;
    uint32_t r = resolve(ctx, mem, a[0].i32, a[1].i32, a[2].i32, NOFOLLOW, &at);
    if (r == WASI_ESUCCESS && at.slash) {
        r = slash_check(&at);
        if (r == WASI_ESUCCESS) /* a directory */
            r = WASI_EISDIR;
    }
    if (r == WASI_ESUCCESS)
        r = result(unlinkat(at.dirfd, at.last, 0));
    at_free(&at);
    return r;
}
