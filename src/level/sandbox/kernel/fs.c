/* Files from the rootfs and the standard streams. Every path resolves beneath
 * the sandbox's root with openat2(RESOLVE_IN_ROOT): `..` and absolute
 * symlinks stop at the root. RESOLVE_NO_XDEV keeps resolution on the root's
 * own filesystem, so the host's /proc, /sys and /dev mounted in the kernel
 * process's view (a /proc/self/mem of the kernel's!) are never reached;
 * RESOLVE_NO_MAGICLINKS refuses /proc-style magic links. /proc and /dev
 * are the kernel's own (procfs.c), asked first. The spec's mounts come with
 * the kernel's own mount table (docs/sandbox.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/util.h"
#include "level/sandbox/kernel/sys.h"

#define MAX_IO     (1L << 30)
#define MAX_PIECES 64
#define OPEN_FLAGS                                                                                 \
    (O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | O_DIRECTORY |     \
     O_NOFOLLOW | O_PATH | O_TMPFILE | O_SYNC | O_DSYNC | O_NOATIME)

_Static_assert(sizeof(struct stat) == 144, "struct stat is the x86-64 kernel's");

static struct sb_file *file(struct sb_task *t, uint64_t fd)
{
    return sb_fd_get(t->files, fd);
}

int sb_open_path(struct sb_task *t, uint64_t dirfd, const char *path, int flags, int mode,
                 char **abs_out)
{
    const char *base = t->cwd;
    if (path[0] == '\0')
        return -ENOENT;
    if (path[0] != '/' && (int)dirfd != AT_FDCWD) {
        struct sb_file *d = file(t, dirfd);
        if (d == NULL)
            return -EBADF;
        if (d->path == NULL)
            return -ENOTDIR;
        base = d->path;
    }
    char *abs = path[0] == '/' ? strdup(path) : NULL;
    if (abs == NULL && (path[0] == '/' || asprintf(&abs, "%s/%s", base, path) < 0))
        return -ENOMEM;
    uint64_t cmode = flags & O_CREAT || (flags & O_TMPFILE) == O_TMPFILE
                         ? (uint64_t)(mode & 07777 & ~t->umask)
                         : 0;
    int fd = sb_mount_open(t->k, abs, (uint64_t)(flags & OPEN_FLAGS), cmode);
    if (fd < 0) {
        free(abs);
        return fd == -EXDEV ? -EACCES : fd;
    }
    if (abs_out != NULL)
        *abs_out = abs;
    else
        free(abs);
    return fd;
}

static long do_open(struct sb_task *t, uint64_t dirfd, uint64_t upath, uint64_t flags,
                    uint64_t mode)
{
    char path[SB_PATH_MAX];
    int r = sb_copy_str(t->mm, path, upath, sizeof(path));
    if (r < 0)
        return r;
    char real[SB_PATH_MAX];
    long v = sb_vfs_open(t, dirfd, path, (int)flags, real);
    if (v != 1)
        return v;
    if (real[0] != '\0')
        dirfd = (uint64_t)AT_FDCWD;
    char *abs = NULL;
    int host = sb_open_path(t, dirfd, real[0] ? real : path, (int)flags, (int)mode, &abs);
    if (host < 0)
        return host;
    /* Regular files, directories and (O_PATH) symlinks only: a device node
     * or FIFO in the rootfs would be the host's; the sandbox's /dev comes
     * from the kernel. */
    struct stat st;
    if (fstat(host, &st) < 0 ||
        !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode))) {
        close(host);
        free(abs);
        return -EACCES;
    }
    if (!S_ISDIR(st.st_mode)) {
        free(abs);
        abs = NULL;
    }
    return sb_fd_install(t->files, host, flags & O_CLOEXEC, abs, 0);
}

long sb_sys_open(struct sb_task *t, const uint64_t a[6])
{
    return do_open(t, (uint64_t)AT_FDCWD, a[0], a[1], a[2]);
}

long sb_sys_openat(struct sb_task *t, const uint64_t a[6])
{
    return do_open(t, a[0], a[1], a[2], a[3]);
}

long sb_sys_close(struct sb_task *t, const uint64_t a[6])
{
    return sb_fd_close(t->files, a[0]);
}

/* A descriptor from outside (a pipe or terminal on stdin) that is not ready
 * would block the host call and with it every process: park on it instead.
 * 0: go ahead. Its blocking mode is the host's, shared with outside. */
static long outside_wait(struct sb_task *t, const struct sb_file *f, bool out)
{
    if (!f->outside)
        return 0;
    struct pollfd p = {.fd = f->host, .events = out ? POLLOUT : POLLIN};
    if (poll(&p, 1, 0) != 0)
        return 0;
    int fl = fcntl(f->host, F_GETFL);
    return fl >= 0 && (fl & O_NONBLOCK) ? 0 : sb_park_on(t, f->host, p.events);
}

/* read/write-like calls: the workload buffer as the kernel's own pointers. */
static long io(struct sb_task *t, uint64_t fd, uint64_t buf, uint64_t len, bool out, long off)
{
    struct sb_file *f = file(t, fd);
    if (f == NULL)
        return -EBADF;
    if (f->synth && out)
        return -EBADF;
    if (f->signalfd)
        return sb_signalfd_read(t, f, buf, len, out);
    long wait = outside_wait(t, f, out);
    if (wait != 0)
        return wait;
    if (len > MAX_IO)
        len = MAX_IO;
    int prot = out ? PROT_READ : PROT_WRITE;
    /* As Linux: up to the first unmapped byte, EFAULT only when that is the first. */
    uint64_t reach = sb_mm_accessible(t->mm, buf, len, prot);
    if (reach == 0 && len > 0)
        return -EFAULT;
    struct iovec iov[MAX_PIECES];
    int n = sb_mm_iov(t->mm, buf, reach, prot, iov, MAX_PIECES);
    if (n < 0)
        return n;
    ssize_t r;
    if (off >= 0)
        r = out ? pwritev(f->host, iov, n, off) : preadv(f->host, iov, n, off);
    else
        r = out ? writev(f->host, iov, n) : readv(f->host, iov, n);
    if (r < 0 && errno == EPIPE)
        return sb_epipe(t);
    if (r < 0)
        return sb_would_block(t, f, -errno, out ? POLLOUT : POLLIN);
    if (!out && off < 0)
        sb_net_hint_empty(t, f, fd, r, len);
    return r;
}

long sb_sys_read(struct sb_task *t, const uint64_t a[6])
{
    return io(t, a[0], a[1], a[2], false, -1);
}

long sb_sys_write(struct sb_task *t, const uint64_t a[6])
{
    return io(t, a[0], a[1], a[2], true, -1);
}

long sb_sys_pread64(struct sb_task *t, const uint64_t a[6])
{
    if ((int64_t)a[3] < 0)
        return -EINVAL;
    return io(t, a[0], a[1], a[2], false, (long)a[3]);
}

long sb_sys_pwrite64(struct sb_task *t, const uint64_t a[6])
{
    if ((int64_t)a[3] < 0)
        return -EINVAL;
    return io(t, a[0], a[1], a[2], true, (long)a[3]);
}

/* Advice about a file's use: nothing is cached by the kernel to act on, so
 * only Linux's checks (a pipe or FIFO: ESPIPE; a socket takes any). */
long sb_sys_fadvise64(struct sb_task *t, const uint64_t a[6])
{
    struct sb_file *f = file(t, a[0]);
    if (f == NULL)
        return -EBADF;
    struct stat st;
    if ((f->kpipe && !f->sock) || (fstat(f->host, &st) == 0 && S_ISFIFO(st.st_mode)))
        return -ESPIPE;
    if ((int64_t)a[2] < 0 || a[3] > POSIX_FADV_NOREUSE)
        return -EINVAL;
    return 0;
}

int sb_iov_in(struct sb_task *t, uint64_t uvec, uint64_t count, int prot, struct iovec *iov,
              int max)
{
    if (count > 1024)
        return -EINVAL;
    struct iovec uv[count ? count : 1];
    int r = sb_copy_in(t->mm, uv, uvec, count * sizeof(struct iovec));
    if (r < 0)
        return r;
    int n = 0;
    uint64_t total = 0;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t len = uv[i].iov_len;
        if (len > MAX_IO - total)
            len = MAX_IO - total;
        int got = sb_mm_iov(t->mm, (uint64_t)uv[i].iov_base, len, prot, iov + n, max - n);
        if (got < 0)
            return got;
        n += got;
        total += len;
    }
    return n;
}

/* readv/writev: the workload's iovec array, each turned into kernel pointers. */
static long iov_io(struct sb_task *t, const uint64_t a[6], bool out)
{
    struct sb_file *f = file(t, a[0]);
    if (f == NULL)
        return -EBADF;
    if (f->synth && out)
        return -EBADF;
    if (f->signalfd)
        return f->nonblock ? -EAGAIN : SB_PARK;
    long wait = outside_wait(t, f, out);
    if (wait != 0)
        return wait;
    struct iovec iov[MAX_PIECES];
    int n = sb_iov_in(t, a[1], a[2], out ? PROT_READ : PROT_WRITE, iov, MAX_PIECES);
    if (n < 0)
        return n;
    ssize_t w = out ? writev(f->host, iov, n) : readv(f->host, iov, n);
    if (w < 0 && errno == EPIPE)
        return sb_epipe(t);
    return w < 0 ? sb_would_block(t, f, -errno, out ? POLLOUT : POLLIN) : w;
}

long sb_sys_readv(struct sb_task *t, const uint64_t a[6])
{
    return iov_io(t, a, false);
}

long sb_sys_writev(struct sb_task *t, const uint64_t a[6])
{
    return iov_io(t, a, true);
}

long sb_sys_lseek(struct sb_task *t, const uint64_t a[6])
{
    struct sb_file *f = file(t, a[0]);
    if (f == NULL)
        return -EBADF;
    off_t r = lseek(f->host, (off_t)a[1], (int)a[2]);
    return r < 0 ? -errno : r;
}

static long stat_out(struct sb_task *t, int host, uint64_t ubuf)
{
    struct stat st;
    if (fstat(host, &st) < 0)
        return -errno;
    return sb_copy_out(t->mm, ubuf, &st, sizeof(st));
}

long sb_sys_fstat(struct sb_task *t, const uint64_t a[6])
{
    struct sb_file *f = file(t, a[0]);
    if (f == NULL)
        return -EBADF;
    if (f->synth) {
        struct stat st;
        long r = sb_vfs_fstat(t, f, &st);
        return r < 0 ? r : sb_copy_out(t->mm, a[1], &st, sizeof(st));
    }
    return stat_out(t, f->host, a[1]);
}

static long stat_path(struct sb_task *t, uint64_t dirfd, uint64_t upath, uint64_t ubuf,
                      uint64_t flags)
{
    if (flags & ~(uint64_t)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT))
        return -EINVAL;
    char path[SB_PATH_MAX];
    int r = sb_copy_str(t->mm, path, upath, sizeof(path));
    if (r < 0)
        return r;
    if (path[0] == '\0' && (flags & AT_EMPTY_PATH)) {
        if ((int)dirfd != AT_FDCWD) {
            const uint64_t fa[6] = {dirfd, ubuf};
            return sb_sys_fstat(t, fa);
        }
        strcpy(path, ".");
    }
    struct stat st;
    char real[SB_PATH_MAX];
    long v = sb_vfs_stat(t, dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW), &st, real);
    if (v != 1)
        return v < 0 ? v : sb_copy_out(t->mm, ubuf, &st, sizeof(st));
    if (real[0] != '\0') {
        dirfd = (uint64_t)AT_FDCWD;
        strcpy(path, real);
    }
    int nofollow = flags & AT_SYMLINK_NOFOLLOW ? O_NOFOLLOW : 0;
    int host = sb_open_path(t, dirfd, path, O_PATH | nofollow, 0, NULL);
    if (host < 0)
        return host;
    long s = stat_out(t, host, ubuf);
    close(host);
    return s;
}

long sb_sys_newfstatat(struct sb_task *t, const uint64_t a[6])
{
    return stat_path(t, a[0], a[1], a[2], a[3]);
}

long sb_sys_stat(struct sb_task *t, const uint64_t a[6])
{
    return stat_path(t, (uint64_t)AT_FDCWD, a[0], a[1], 0);
}

long sb_sys_lstat(struct sb_task *t, const uint64_t a[6])
{
    return stat_path(t, (uint64_t)AT_FDCWD, a[0], a[1], AT_SYMLINK_NOFOLLOW);
}

/* Only the two terminal queries the C libraries make; nothing that changes
 * the host terminal (TIOCSTI would type into it) is passed on. */
long sb_sys_ioctl(struct sb_task *t, const uint64_t a[6])
{
    struct sb_file *f = file(t, a[0]);
    if (f == NULL)
        return -EBADF;
    if (a[1] == TCGETS) {
        uint8_t tio[36]; /* the kernel's struct termios, not the C library's */
        if (ioctl(f->host, TCGETS, &tio) < 0)
            return -errno;
        return sb_copy_out(t->mm, a[2], &tio, sizeof(tio));
    }
    if (a[1] == TIOCGWINSZ) {
        struct winsize ws;
        if (ioctl(f->host, TIOCGWINSZ, &ws) < 0)
            return -errno;
        return sb_copy_out(t->mm, a[2], &ws, sizeof(ws));
    }
    if (a[1] == FIOCLEX || a[1] == FIONCLEX) {
        f->cloexec = a[1] == FIOCLEX;
        return 0;
    }
    if (a[1] == FIONBIO) { /* as F_SETFL's O_NONBLOCK (fd.c), for any file */
        int on;
        long r = sb_copy_in(t->mm, &on, a[2], sizeof(on));
        if (r < 0)
            return r;
        if (f->kpipe) {
            f->nonblock = on != 0;
            return 0;
        }
        int fl = fcntl(f->host, F_GETFL);
        fl = fl < 0 ? fl : fcntl(f->host, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
        return fl < 0 ? -errno : 0;
    }
    return -ENOTTY;
}

/* struct linux_dirent64 is the same for the host and the workload. */
long sb_sys_getdents64(struct sb_task *t, const uint64_t a[6])
{
    struct sb_file *f = file(t, a[0]);
    if (f == NULL)
        return -EBADF;
    if (f->synth)
        return sb_vfs_getdents(t, f, a[1], a[2]);
    char buf[32768];
    size_t len = a[2] < sizeof(buf) ? a[2] : sizeof(buf);
    if (sb_mm_accessible(t->mm, a[1], len, PROT_WRITE) < len)
        return -EFAULT;
    long n = syscall(SYS_getdents64, f->host, buf, len);
    if (n < 0)
        return -errno;
    int r = sb_copy_out(t->mm, a[1], buf, (size_t)n);
    return r < 0 ? r : n;
}

int sb_path_normalize(const char *path, char *out, size_t size)
{
    size_t n = 0;
    out[0] = '\0';
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        size_t len = strcspn(p, "/");
        if (len == 0 || (len == 1 && p[0] == '.')) {
            p += len;
            continue;
        }
        if (len == 2 && p[0] == '.' && p[1] == '.') {
            while (n > 0 && out[n - 1] != '/')
                n--;
            if (n > 0)
                n--; /* the slash; at the root ".." stays there */
            out[n] = '\0';
            p += len;
            continue;
        }
        if (n + 1 + len + 1 > size)
            return -ENAMETOOLONG;
        out[n++] = '/';
        memcpy(out + n, p, len);
        n += len;
        out[n] = '\0';
        p += len;
    }
    if (n == 0)
        strcpy(out, "/");
    return 0;
}

/* The cwd becomes a directory's path as the workload named it (lexically
 * normalized: a symlink in it is resolved again at each use). */
static long set_cwd(struct sb_task *t, uint64_t dirfd, const char *path)
{
    char real[SB_PATH_MAX];
    long v = sb_vfs_chdir(t, dirfd, path, real);
    if (v != 1)
        return v;
    if (real[0] != '\0') {
        dirfd = (uint64_t)AT_FDCWD;
        path = real;
    }
    char *abs = NULL;
    int fd = sb_open_path(t, dirfd, path, O_PATH | O_DIRECTORY, 0, &abs);
    if (fd < 0)
        return fd;
    close(fd);
    char norm[SB_PATH_MAX];
    int r = sb_path_normalize(abs, norm, sizeof(norm));
    free(abs);
    if (r < 0)
        return r;
    strcpy(t->cwd, norm);
    return 0;
}

long sb_sys_chdir(struct sb_task *t, const uint64_t a[6])
{
    char path[SB_PATH_MAX];
    int r = sb_copy_str(t->mm, path, a[0], sizeof(path));
    return r < 0 ? r : set_cwd(t, (uint64_t)AT_FDCWD, path);
}

long sb_sys_fchdir(struct sb_task *t, const uint64_t a[6])
{
    struct sb_file *f = file(t, a[0]);
    if (f == NULL)
        return -EBADF;
    if (f->path == NULL)
        return -ENOTDIR;
    char path[SB_PATH_MAX];
    snprintf(path, sizeof(path), "%s", f->path);
    return set_cwd(t, (uint64_t)AT_FDCWD, path);
}

static long access_at(struct sb_task *t, uint64_t dirfd, uint64_t upath, uint64_t mode,
                      uint64_t flags)
{
    if (mode & ~(uint64_t)(R_OK | W_OK | X_OK) ||
        flags & ~(uint64_t)(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    char path[SB_PATH_MAX];
    int r = sb_copy_str(t->mm, path, upath, sizeof(path));
    if (r < 0)
        return r;
    struct stat st;
    char real[SB_PATH_MAX];
    long v = sb_vfs_stat(t, dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW), &st, real);
    if (v < 0)
        return v;
    if (v == 0) /* the kernel's files are never written; a device or descriptor may be */
        return mode & W_OK && (S_ISDIR(st.st_mode) || !(st.st_mode & 0222)) ? -EACCES : 0;
    if (real[0] != '\0') {
        dirfd = (uint64_t)AT_FDCWD;
        strcpy(path, real);
    }
    int host = sb_open_path(t, dirfd, path, O_PATH | (flags & AT_SYMLINK_NOFOLLOW ? O_NOFOLLOW : 0),
                            0, NULL);
    if (host < 0)
        return host;
    /* The kernel process has the workload's user: the host's answer is its. */
    long a =
        syscall(SYS_faccessat2, host, "", (int)mode, AT_EMPTY_PATH | AT_EACCESS) < 0 ? -errno : 0;
    close(host);
    return a;
}

long sb_sys_access(struct sb_task *t, const uint64_t a[6])
{
    return access_at(t, (uint64_t)AT_FDCWD, a[0], a[1], 0);
}

long sb_sys_faccessat(struct sb_task *t, const uint64_t a[6])
{
    return access_at(t, a[0], a[1], a[2], 0);
}

long sb_sys_faccessat2(struct sb_task *t, const uint64_t a[6])
{
    return access_at(t, a[0], a[1], a[2], a[3]);
}

long sb_sys_getcwd(struct sb_task *t, const uint64_t a[6])
{
    size_t len = strlen(t->cwd) + 1;
    if (a[1] < len)
        return -ERANGE;
    int r = sb_copy_out(t->mm, a[0], t->cwd, len);
    return r < 0 ? r : (long)len;
}

int sb_path_abs(struct sb_task *t, uint64_t dirfd, const char *path, char *out)
{
    const char *base = t->cwd;
    if (path[0] != '/' && (int)dirfd != AT_FDCWD) {
        struct sb_file *d = file(t, dirfd);
        if (d == NULL)
            return -EBADF;
        if (d->path == NULL)
            return -ENOTDIR;
        base = d->path;
    }
    char joined[SB_PATH_MAX * 2 + 2];
    snprintf(joined, sizeof(joined), "%s/%s", path[0] == '/' ? "" : base, path);
    return sb_path_normalize(joined, out, SB_PATH_MAX);
}
