/* The calls that change the file tree or a file's attributes: mkdir,
 * unlink, rename, link, symlink, readlink, chmod, chown, truncate, sync,
 * utimes, statfs, statx, umask, sendfile, locks. A path never reaches the
 * host as such: a call on a name resolves its parent directory beneath the
 * root (openat2 RESOLVE_IN_ROOT, as every open) and hands the host only that
 * directory's descriptor and the last name, which the host looks up in it
 * without following a symlink there (mkdirat, unlinkat, renameat2, linkat,
 * symlinkat do not); a call that follows the last name (chmod, chown,
 * utimes, statx, truncate) opens the file itself beneath the root and
 * works on that descriptor. The host process is the spec's user: its
 * answers (EACCES, EPERM) are the workload's. /proc and /dev are the
 * kernel's and never changed (EACCES). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/util.h"
#include "level/sandbox/kernel/sys.h"

#define PROC_SUPER_MAGIC 0x9fa0
#define TMPFS_MAGIC      0x01021994

/* The workload's path string at upath. */
static long path_in(struct sb_task *t, uint64_t upath, char *out)
{
    return sb_copy_str(t->mm, out, upath, SB_PATH_MAX);
}

/* The parent directory of path (relative to dirfd) opened beneath the root,
 * its last name (with any trailing slashes, which the host checks) into
 * name. Returns the host fd or -errno. */
static int parent_at(struct sb_task *t, uint64_t dirfd, const char *path, char *name)
{
    if (path[0] == '\0')
        return -ENOENT;
    if (sb_vfs_owned(t, dirfd, path))
        return -EACCES;
    size_t len = strlen(path), end = len;
    while (end > 0 && path[end - 1] == '/')
        end--;
    if (end == 0) { /* "/" itself */
        strcpy(name, ".");
        return sb_open_path(t, (uint64_t)AT_FDCWD, "/", O_PATH | O_DIRECTORY, 0, NULL);
    }
    size_t start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    memcpy(name, path + start, len - start + 1);
    char dir[SB_PATH_MAX];
    if (start == 0) {
        strcpy(dir, ".");
    } else {
        memcpy(dir, path, start);
        dir[start] = '\0';
    }
    return sb_open_path(t, dirfd, dir, O_PATH | O_DIRECTORY, 0, NULL);
}

/* A path in /proc or /dev followed as Linux follows its magic links: a
 * /proc/PID/fd/N of a regular file or directory is that file (glibc's
 * fchmodat(AT_SYMLINK_NOFOLLOW) without fchmodat2 changes a file through
 * /proc/self/fd/N), cwd and exe the rootfs's; the kernel's own files and
 * devices are never changed (EACCES). */
static int proc_target(struct sb_task *t, uint64_t dirfd, const char *path)
{
    char real[SB_PATH_MAX];
    long v = sb_vfs_open(t, dirfd, path, O_PATH | O_CLOEXEC, real);
    if (v < 0)
        return (int)v;
    if (v == 1 && real[0] != '\0')
        return sb_open_path(t, (uint64_t)AT_FDCWD, real, O_PATH, 0, NULL);
    struct sb_file *f = sb_fd_get(t->files, (uint64_t)v);
    struct stat st;
    int h = -EACCES;
    if (f != NULL && !f->synth && fstat(f->host, &st) == 0 &&
        (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
        h = fcntl(f->host, F_DUPFD_CLOEXEC, 3);
        if (h < 0)
            h = -errno;
    }
    sb_fd_close(t->files, (uint64_t)v);
    return h;
}

/* The file path names opened beneath the root (O_PATH, following the last
 * symlink unless nofollow); AT_EMPTY_PATH with "" names dirfd itself. */
static int target_at(struct sb_task *t, uint64_t dirfd, const char *path, bool nofollow,
                     bool empty_ok)
{
    if (path[0] == '\0' && empty_ok) {
        if ((int)dirfd == AT_FDCWD)
            return sb_open_path(t, dirfd, ".", O_PATH, 0, NULL);
        struct sb_file *f = sb_fd_get(t->files, dirfd);
        if (f == NULL)
            return -EBADF;
        if (f->synth) /* /proc and /dev are the kernel's: never changed */
            return -EACCES;
        int h = fcntl(f->host, F_DUPFD_CLOEXEC, 3);
        return h < 0 ? -errno : h;
    }
    if (sb_vfs_owned(t, dirfd, path))
        return nofollow ? -EACCES : proc_target(t, dirfd, path);
    return sb_open_path(t, dirfd, path, O_PATH | (nofollow ? O_NOFOLLOW : 0), 0, NULL);
}

/* A descriptor whose inode is not the sandbox's to change: the stdio and
 * devices from outside (a host terminal or file, the container's
 * /dev/null), or an anonymous inode (eventfd, timerfd, epoll: one inode the
 * whole host shares). The sandbox's files, pipes and sockets are not. */
static bool foreign(const struct sb_file *f)
{
    struct stat st;
    if (f->outer || fstat(f->host, &st) < 0)
        return true;
    switch (st.st_mode & S_IFMT) {
    case S_IFREG:
    case S_IFDIR:
    case S_IFLNK:
    case S_IFIFO:
    case S_IFSOCK:
        return false;
    default:
        return true;
    }
}

/* target_at for a call that changes the file (its mode, owner, times,
 * links): never a foreign descriptor's (EPERM). */
static int change_at(struct sb_task *t, uint64_t dirfd, const char *path, bool nofollow,
                     bool empty_ok)
{
    if (path[0] == '\0' && empty_ok && (int)dirfd != AT_FDCWD) {
        struct sb_file *f = sb_fd_get(t->files, dirfd);
        if (f != NULL && !f->synth && foreign(f))
            return -EPERM;
    }
    return target_at(t, dirfd, path, nofollow, empty_ok);
}

static long done(int fd, long r)
{
    if (fd >= 0)
        close(fd);
    return r;
}

/* ---- names ------------------------------------------------------------- */

static long mkdir_at(struct sb_task *t, uint64_t dirfd, uint64_t upath, uint64_t mode)
{
    char path[SB_PATH_MAX], name[SB_PATH_MAX];
    long r = path_in(t, upath, path);
    if (r < 0)
        return r;
    int pfd = parent_at(t, dirfd, path, name);
    if (pfd < 0)
        return pfd;
    r = mkdirat(pfd, name, (mode_t)(mode & 01777 & ~t->umask)) < 0 ? -errno : 0;
    return done(pfd, r);
}

long sb_sys_mkdir(struct sb_task *t, const uint64_t a[6])
{
    return mkdir_at(t, (uint64_t)AT_FDCWD, a[0], a[1]);
}

long sb_sys_mkdirat(struct sb_task *t, const uint64_t a[6])
{
    return mkdir_at(t, a[0], a[1], a[2]);
}

static long unlink_at(struct sb_task *t, uint64_t dirfd, uint64_t upath, uint64_t flags)
{
    if (flags & ~(uint64_t)AT_REMOVEDIR)
        return -EINVAL;
    char path[SB_PATH_MAX], name[SB_PATH_MAX];
    long r = path_in(t, upath, path);
    if (r < 0)
        return r;
    int pfd = parent_at(t, dirfd, path, name);
    if (pfd < 0)
        return pfd;
    if (path[strspn(path, "/")] == '\0')
        r = flags ? -EBUSY : -EISDIR; /* the root */
    else
        r = unlinkat(pfd, name, (int)flags) < 0 ? -errno : 0;
    return done(pfd, r);
}

long sb_sys_unlink(struct sb_task *t, const uint64_t a[6])
{
    return unlink_at(t, (uint64_t)AT_FDCWD, a[0], 0);
}

long sb_sys_rmdir(struct sb_task *t, const uint64_t a[6])
{
    return unlink_at(t, (uint64_t)AT_FDCWD, a[0], AT_REMOVEDIR);
}

long sb_sys_unlinkat(struct sb_task *t, const uint64_t a[6])
{
    return unlink_at(t, a[0], a[1], a[2]);
}

static long rename_at(struct sb_task *t, uint64_t olddir, uint64_t uold, uint64_t newdir,
                      uint64_t unew, uint64_t flags)
{
    if (flags & ~(uint64_t)(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
        return -EINVAL;
    char old[SB_PATH_MAX], new[SB_PATH_MAX], oname[SB_PATH_MAX], nname[SB_PATH_MAX];
    long r = path_in(t, uold, old);
    if (r == 0)
        r = path_in(t, unew, new);
    if (r < 0)
        return r;
    int opfd = parent_at(t, olddir, old, oname);
    if (opfd < 0)
        return opfd;
    int npfd = parent_at(t, newdir, new, nname);
    if (npfd < 0)
        return done(opfd, npfd);
    r = syscall(SYS_renameat2, opfd, oname, npfd, nname, (unsigned)flags) < 0 ? -errno : 0;
    close(npfd);
    return done(opfd, r);
}

long sb_sys_rename(struct sb_task *t, const uint64_t a[6])
{
    return rename_at(t, (uint64_t)AT_FDCWD, a[0], (uint64_t)AT_FDCWD, a[1], 0);
}

long sb_sys_renameat(struct sb_task *t, const uint64_t a[6])
{
    return rename_at(t, a[0], a[1], a[2], a[3], 0);
}

long sb_sys_renameat2(struct sb_task *t, const uint64_t a[6])
{
    return rename_at(t, a[0], a[1], a[2], a[3], a[4]);
}

static long link_at(struct sb_task *t, uint64_t olddir, uint64_t uold, uint64_t newdir,
                    uint64_t unew, uint64_t flags)
{
    if (flags & ~(uint64_t)(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    char old[SB_PATH_MAX], new[SB_PATH_MAX], oname[SB_PATH_MAX], nname[SB_PATH_MAX];
    long r = path_in(t, uold, old);
    if (r == 0)
        r = path_in(t, unew, new);
    if (r < 0)
        return r;
    int npfd = parent_at(t, newdir, new, nname);
    if (npfd < 0)
        return npfd;
    if ((old[0] == '\0' && flags & AT_EMPTY_PATH) || flags & AT_SYMLINK_FOLLOW) {
        /* The file itself, resolved beneath the root; the host decides
         * whether the caller may link a descriptor (CAP_DAC_READ_SEARCH). */
        int fd = change_at(t, olddir, old, false, flags & AT_EMPTY_PATH);
        if (fd < 0)
            return done(npfd, fd);
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
            r = -EPERM;
        else
            r = linkat(fd, "", npfd, nname, AT_EMPTY_PATH) < 0 ? -errno : 0;
        close(fd);
        return done(npfd, r);
    }
    int opfd = parent_at(t, olddir, old, oname);
    if (opfd < 0)
        return done(npfd, opfd);
    r = linkat(opfd, oname, npfd, nname, 0) < 0 ? -errno : 0;
    close(opfd);
    return done(npfd, r);
}

long sb_sys_link(struct sb_task *t, const uint64_t a[6])
{
    return link_at(t, (uint64_t)AT_FDCWD, a[0], (uint64_t)AT_FDCWD, a[1], 0);
}

long sb_sys_linkat(struct sb_task *t, const uint64_t a[6])
{
    return link_at(t, a[0], a[1], a[2], a[3], a[4]);
}

/* The target is stored as written: every later resolution of it is the
 * kernel's, beneath the root. */
static long symlink_at(struct sb_task *t, uint64_t utarget, uint64_t dirfd, uint64_t upath)
{
    char target[SB_PATH_MAX], path[SB_PATH_MAX], name[SB_PATH_MAX];
    long r = path_in(t, utarget, target);
    if (r == 0)
        r = path_in(t, upath, path);
    if (r < 0)
        return r;
    if (target[0] == '\0')
        return -ENOENT;
    int pfd = parent_at(t, dirfd, path, name);
    if (pfd < 0)
        return pfd;
    return done(pfd, symlinkat(target, pfd, name) < 0 ? -errno : 0);
}

long sb_sys_symlink(struct sb_task *t, const uint64_t a[6])
{
    return symlink_at(t, a[0], (uint64_t)AT_FDCWD, a[1]);
}

long sb_sys_symlinkat(struct sb_task *t, const uint64_t a[6])
{
    return symlink_at(t, a[0], a[1], a[2]);
}

static long readlink_at(struct sb_task *t, uint64_t dirfd, uint64_t upath, uint64_t ubuf,
                        uint64_t size)
{
    if ((int64_t)size <= 0 || size > INT_MAX)
        return -EINVAL;
    char path[SB_PATH_MAX], buf[SB_PATH_MAX], real[SB_PATH_MAX];
    long r = path_in(t, upath, path);
    if (r < 0)
        return r;
    size_t max = size < sizeof(buf) ? size : sizeof(buf);
    size_t len = 0;
    r = sb_vfs_readlink(t, dirfd, path, buf, max, &len, real);
    if (r == 0)
        r = (long)len;
    else if (r == 1) {
        int fd = real[0] ? target_at(t, (uint64_t)AT_FDCWD, real, true, false)
                         : target_at(t, dirfd, path, true, true);
        if (fd < 0)
            return fd;
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISLNK(st.st_mode))
            return done(fd, -EINVAL);
        ssize_t n = readlinkat(fd, "", buf, max);
        r = done(fd, n < 0 ? -errno : n);
    }
    if (r < 0)
        return r;
    long c = sb_copy_out(t->mm, ubuf, buf, (size_t)r);
    return c < 0 ? c : r;
}

long sb_sys_readlink(struct sb_task *t, const uint64_t a[6])
{
    return readlink_at(t, (uint64_t)AT_FDCWD, a[0], a[1], a[2]);
}

long sb_sys_readlinkat(struct sb_task *t, const uint64_t a[6])
{
    return readlink_at(t, a[0], a[1], a[2], a[3]);
}

/* ---- attributes -------------------------------------------------------- */

static long chmod_at(struct sb_task *t, uint64_t dirfd, uint64_t upath, uint64_t mode,
                     uint64_t flags)
{
    if (flags & ~(uint64_t)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    char path[SB_PATH_MAX];
    long r = path_in(t, upath, path);
    if (r < 0)
        return r;
    int fd = change_at(t, dirfd, path, flags & AT_SYMLINK_NOFOLLOW, flags & AT_EMPTY_PATH);
    if (fd < 0)
        return fd;
    /* On a symlink the host answers EOPNOTSUPP, as Linux. */
    r = syscall(SYS_fchmodat2, fd, "", (unsigned)(mode & 07777), AT_EMPTY_PATH) < 0 ? -errno : 0;
    return done(fd, r);
}

long sb_sys_chmod(struct sb_task *t, const uint64_t a[6])
{
    return chmod_at(t, (uint64_t)AT_FDCWD, a[0], a[1], 0);
}

long sb_sys_fchmodat(struct sb_task *t, const uint64_t a[6])
{
    return chmod_at(t, a[0], a[1], a[2], 0);
}

long sb_sys_fchmodat2(struct sb_task *t, const uint64_t a[6])
{
    return chmod_at(t, a[0], a[1], a[2], a[3]);
}

long sb_sys_fchmod(struct sb_task *t, const uint64_t a[6])
{
    struct sb_file *f = sb_fd_get(t->files, a[0]);
    if (f == NULL)
        return -EBADF;
    if (f->synth || foreign(f))
        return -EPERM;
    return fchmod(f->host, (mode_t)(a[1] & 07777)) < 0 ? -errno : 0;
}

static long chown_at(struct sb_task *t, uint64_t dirfd, uint64_t upath, uint64_t uid, uint64_t gid,
                     uint64_t flags)
{
    if (flags & ~(uint64_t)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    char path[SB_PATH_MAX];
    long r = path_in(t, upath, path);
    if (r < 0)
        return r;
    int fd = change_at(t, dirfd, path, flags & AT_SYMLINK_NOFOLLOW, flags & AT_EMPTY_PATH);
    if (fd < 0)
        return fd;
    return done(fd, fchownat(fd, "", (uid_t)uid, (gid_t)gid, AT_EMPTY_PATH) < 0 ? -errno : 0);
}

long sb_sys_chown(struct sb_task *t, const uint64_t a[6])
{
    return chown_at(t, (uint64_t)AT_FDCWD, a[0], a[1], a[2], 0);
}

long sb_sys_lchown(struct sb_task *t, const uint64_t a[6])
{
    return chown_at(t, (uint64_t)AT_FDCWD, a[0], a[1], a[2], AT_SYMLINK_NOFOLLOW);
}

long sb_sys_fchownat(struct sb_task *t, const uint64_t a[6])
{
    return chown_at(t, a[0], a[1], a[2], a[3], a[4]);
}

long sb_sys_fchown(struct sb_task *t, const uint64_t a[6])
{
    struct sb_file *f = sb_fd_get(t->files, a[0]);
    if (f == NULL)
        return -EBADF;
    if (f->synth || foreign(f))
        return -EPERM;
    return fchown(f->host, (uid_t)a[1], (gid_t)a[2]) < 0 ? -errno : 0;
}

long sb_sys_umask(struct sb_task *t, const uint64_t a[6])
{
    mode_t old = t->umask;
    t->umask = (mode_t)(a[0] & 0777);
    return old;
}

long sb_sys_truncate(struct sb_task *t, const uint64_t a[6])
{
    if ((int64_t)a[1] < 0)
        return -EINVAL;
    char path[SB_PATH_MAX];
    long r = path_in(t, a[0], path);
    if (r < 0)
        return r;
    if (sb_vfs_owned(t, (uint64_t)AT_FDCWD, path))
        return -EACCES;
    int fd = sb_open_path(t, (uint64_t)AT_FDCWD, path, O_WRONLY | O_NONBLOCK, 0, NULL);
    if (fd < 0)
        return fd;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        return done(fd, -EINVAL);
    return done(fd, ftruncate(fd, (off_t)a[1]) < 0 ? -errno : 0);
}

long sb_sys_ftruncate(struct sb_task *t, const uint64_t a[6])
{
    struct sb_file *f = sb_fd_get(t->files, a[0]);
    if (f == NULL)
        return -EBADF;
    if ((int64_t)a[1] < 0)
        return -EINVAL;
    if (f->synth)
        return -EINVAL;
    return ftruncate(f->host, (off_t)a[1]) < 0 ? -errno : 0;
}

static long sync_fd(struct sb_task *t, uint64_t fd, bool data)
{
    struct sb_file *f = sb_fd_get(t->files, fd);
    if (f == NULL)
        return -EBADF;
    if (f->synth)
        return -EINVAL;
    return (data ? fdatasync(f->host) : fsync(f->host)) < 0 ? -errno : 0;
}

long sb_sys_fsync(struct sb_task *t, const uint64_t a[6])
{
    return sync_fd(t, a[0], false);
}

long sb_sys_fdatasync(struct sb_task *t, const uint64_t a[6])
{
    return sync_fd(t, a[0], true);
}

long sb_sys_sync(struct sb_task *t, const uint64_t a[6])
{
    (void)a;
    syncfs(t->k->rootfd);
    return 0;
}

long sb_sys_syncfs(struct sb_task *t, const uint64_t a[6])
{
    struct sb_file *f = sb_fd_get(t->files, a[0]);
    if (f == NULL)
        return -EBADF;
    return syncfs(f->synth ? t->k->rootfd : f->host) < 0 ? -errno : 0;
}

/* utimensat's times (NULL: now); the checks are the host's. */
static long utimens_at(struct sb_task *t, uint64_t dirfd, uint64_t upath, const struct timespec *ts,
                       uint64_t flags)
{
    if (flags & ~(uint64_t)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    if (upath == 0) { /* the descriptor itself (futimens) */
        if (flags & AT_SYMLINK_NOFOLLOW)
            return -EINVAL;
        if ((int)dirfd == AT_FDCWD)
            return -EFAULT;
        struct sb_file *f = sb_fd_get(t->files, dirfd);
        if (f == NULL)
            return -EBADF;
        if (f->synth || foreign(f))
            return -EPERM;
        return syscall(SYS_utimensat, f->host, NULL, ts, 0) < 0 ? -errno : 0;
    }
    char path[SB_PATH_MAX];
    long r = path_in(t, upath, path);
    if (r < 0)
        return r;
    int fd = change_at(t, dirfd, path, flags & AT_SYMLINK_NOFOLLOW, flags & AT_EMPTY_PATH);
    if (fd < 0)
        return fd;
    return done(fd, syscall(SYS_utimensat, fd, "", ts, AT_EMPTY_PATH) < 0 ? -errno : 0);
}

long sb_sys_utimensat(struct sb_task *t, const uint64_t a[6])
{
    struct timespec ts[2];
    if (a[2] != 0) {
        long r = sb_copy_in(t->mm, ts, a[2], sizeof(ts));
        if (r < 0)
            return r;
        for (int i = 0; i < 2; i++)
            if (ts[i].tv_nsec != UTIME_NOW && ts[i].tv_nsec != UTIME_OMIT &&
                (ts[i].tv_nsec < 0 || ts[i].tv_nsec >= 1000000000L))
                return -EINVAL;
    }
    return utimens_at(t, a[0], a[1], a[2] ? ts : NULL, a[3]);
}

/* utimes/futimesat: microseconds. */
static long utimes_at(struct sb_task *t, uint64_t dirfd, uint64_t upath, uint64_t utv)
{
    struct timespec ts[2];
    if (utv != 0) {
        struct timeval tv[2];
        long r = sb_copy_in(t->mm, tv, utv, sizeof(tv));
        if (r < 0)
            return r;
        for (int i = 0; i < 2; i++) {
            if (tv[i].tv_usec < 0 || tv[i].tv_usec >= 1000000)
                return -EINVAL;
            ts[i] = (struct timespec){.tv_sec = tv[i].tv_sec, .tv_nsec = tv[i].tv_usec * 1000};
        }
    }
    if (upath == 0)
        return -EFAULT;
    return utimens_at(t, dirfd, upath, utv ? ts : NULL, 0);
}

long sb_sys_utimes(struct sb_task *t, const uint64_t a[6])
{
    return utimes_at(t, (uint64_t)AT_FDCWD, a[0], a[1]);
}

long sb_sys_futimesat(struct sb_task *t, const uint64_t a[6])
{
    return utimes_at(t, a[0], a[1], a[2]);
}

long sb_sys_utime(struct sb_task *t, const uint64_t a[6])
{
    struct timespec ts[2];
    if (a[1] != 0) {
        int64_t tb[2]; /* struct utimbuf: actime, modtime */
        long r = sb_copy_in(t->mm, tb, a[1], sizeof(tb));
        if (r < 0)
            return r;
        ts[0] = (struct timespec){.tv_sec = tb[0]};
        ts[1] = (struct timespec){.tv_sec = tb[1]};
    }
    return utimens_at(t, (uint64_t)AT_FDCWD, a[0], a[1] ? ts : NULL, 0);
}

/* ---- whole-file queries ------------------------------------------------ */

static long statfs_out(struct sb_task *t, int host, const char *kpath, uint64_t ubuf)
{
    struct statfs sf;
    if (kpath != NULL) { /* /proc and /dev: the kernel's */
        memset(&sf, 0, sizeof(sf));
        sf.f_type = strncmp(kpath, "/proc", 5) == 0 ? PROC_SUPER_MAGIC : TMPFS_MAGIC;
        sf.f_bsize = sf.f_frsize = 4096;
        sf.f_namelen = 255;
        sf.f_flags = ST_RDONLY | ST_NOSUID | ST_NOEXEC;
    } else if (fstatfs(host, &sf) < 0) {
        return -errno;
    }
    return sb_copy_out(t->mm, ubuf, &sf, sizeof(sf));
}

long sb_sys_statfs(struct sb_task *t, const uint64_t a[6])
{
    char path[SB_PATH_MAX], abs[SB_PATH_MAX];
    long r = path_in(t, a[0], path);
    if (r < 0)
        return r;
    if (sb_vfs_owned(t, (uint64_t)AT_FDCWD, path) &&
        sb_path_abs(t, (uint64_t)AT_FDCWD, path, abs) == 0) {
        struct stat st;
        char real[SB_PATH_MAX];
        r = sb_vfs_stat(t, (uint64_t)AT_FDCWD, path, true, &st, real);
        return r < 0 ? r : statfs_out(t, -1, abs, a[1]);
    }
    int fd = sb_open_path(t, (uint64_t)AT_FDCWD, path, O_PATH, 0, NULL);
    if (fd < 0)
        return fd;
    return done(fd, statfs_out(t, fd, NULL, a[1]));
}

long sb_sys_fstatfs(struct sb_task *t, const uint64_t a[6])
{
    struct sb_file *f = sb_fd_get(t->files, a[0]);
    if (f == NULL)
        return -EBADF;
    return statfs_out(t, f->host, f->synth ? f->path : NULL, a[1]);
}

/* statx of a struct stat (the kernel's own files). */
static void statx_of(const struct stat *st, struct statx *sx)
{
    memset(sx, 0, sizeof(*sx));
    sx->stx_mask = STATX_BASIC_STATS;
    sx->stx_blksize = (uint32_t)st->st_blksize;
    sx->stx_nlink = (uint32_t)st->st_nlink;
    sx->stx_uid = st->st_uid;
    sx->stx_gid = st->st_gid;
    sx->stx_mode = (uint16_t)st->st_mode;
    sx->stx_ino = st->st_ino;
    sx->stx_size = (uint64_t)st->st_size;
    sx->stx_blocks = (uint64_t)st->st_blocks;
    sx->stx_atime = (struct statx_timestamp){st->st_atim.tv_sec, (uint32_t)st->st_atim.tv_nsec, 0};
    sx->stx_mtime = (struct statx_timestamp){st->st_mtim.tv_sec, (uint32_t)st->st_mtim.tv_nsec, 0};
    sx->stx_ctime = (struct statx_timestamp){st->st_ctim.tv_sec, (uint32_t)st->st_ctim.tv_nsec, 0};
    sx->stx_rdev_major = major(st->st_rdev);
    sx->stx_rdev_minor = minor(st->st_rdev);
    sx->stx_dev_major = major(st->st_dev);
    sx->stx_dev_minor = minor(st->st_dev);
}

long sb_sys_statx(struct sb_task *t, const uint64_t a[6])
{
    uint64_t dirfd = a[0], flags = a[2];
    if (flags & ~(uint64_t)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT |
                            AT_STATX_SYNC_TYPE) ||
        (flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE)
        return -EINVAL;
    if (a[3] & STATX__RESERVED)
        return -EINVAL;
    char path[SB_PATH_MAX], real[SB_PATH_MAX];
    long r = path_in(t, a[1], path);
    if (r < 0)
        return r;
    struct statx sx;
    struct stat st;
    int fd = -1;
    struct sb_file *f = NULL;
    if (path[0] == '\0' && flags & AT_EMPTY_PATH && (int)dirfd != AT_FDCWD) {
        f = sb_fd_get(t->files, dirfd);
        if (f == NULL)
            return -EBADF;
        if (f->synth) {
            r = sb_vfs_fstat(t, f, &st);
            if (r < 0)
                return r;
            statx_of(&st, &sx);
            return sb_copy_out(t->mm, a[4], &sx, sizeof(sx));
        }
        fd = f->host;
    } else {
        if (path[0] == '\0' && !(flags & AT_EMPTY_PATH))
            return -ENOENT;
        r = sb_vfs_stat(t, dirfd, path[0] ? path : ".", !(flags & AT_SYMLINK_NOFOLLOW), &st, real);
        if (r < 0)
            return r;
        if (r == 0) {
            statx_of(&st, &sx);
            return sb_copy_out(t->mm, a[4], &sx, sizeof(sx));
        }
        fd = real[0]
                 ? sb_open_path(t, (uint64_t)AT_FDCWD, real,
                                O_PATH | (flags & AT_SYMLINK_NOFOLLOW ? O_NOFOLLOW : 0), 0, NULL)
                 : sb_open_path(t, dirfd, path[0] ? path : ".",
                                O_PATH | (flags & AT_SYMLINK_NOFOLLOW ? O_NOFOLLOW : 0), 0, NULL);
        if (fd < 0)
            return fd;
    }
    r = statx(fd, "", AT_EMPTY_PATH | (int)(flags & AT_STATX_SYNC_TYPE), (unsigned)a[3], &sx) < 0
            ? -errno
            : 0;
    if (f == NULL)
        close(fd);
    if (r == 0) {
        sx.stx_mnt_id = 0; /* the host's mount ids are not the sandbox's */
        sx.stx_mask &= ~(uint32_t)(STATX_MNT_ID | 0x4000U /* STATX_MNT_ID_UNIQUE */);
    }
    return r < 0 ? r : sb_copy_out(t->mm, a[4], &sx, sizeof(sx));
}

long sb_sys_creat(struct sb_task *t, const uint64_t a[6])
{
    const uint64_t o[6] = {(uint64_t)AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC, a[1]};
    return sb_sys_openat(t, o);
}

long sb_sys_fallocate(struct sb_task *t, const uint64_t a[6])
{
    struct sb_file *f = sb_fd_get(t->files, a[0]);
    if (f == NULL)
        return -EBADF;
    if (f->synth)
        return -EBADF;
    return fallocate(f->host, (int)a[1], (off_t)a[2], (off_t)a[3]) < 0 ? -errno : 0;
}

/* ---- copies between descriptors ---------------------------------------- */

/* sendfile and copy_file_range on the kernel's own descriptors; a kernel
 * pipe that is full (or empty) parks as a write (read) would. */
long sb_sys_sendfile(struct sb_task *t, const uint64_t a[6])
{
    struct sb_file *out = sb_fd_get(t->files, a[0]), *in = sb_fd_get(t->files, a[1]);
    if (out == NULL || in == NULL)
        return -EBADF;
    if (out->synth)
        return -EBADF;
    off_t off, *poff = NULL;
    if (a[2] != 0) {
        long r = sb_copy_in(t->mm, &off, a[2], sizeof(off));
        if (r < 0)
            return r;
        poff = &off;
    }
    size_t count = a[3] > (1UL << 30) ? (1UL << 30) : a[3];
    ssize_t n = sendfile(out->host, in->host, poff, count);
    if (n < 0 && errno == EPIPE)
        return sb_epipe(t);
    if (n < 0)
        return sb_would_block(t, errno == EAGAIN && in->kpipe ? in : out, -errno,
                              errno == EAGAIN && in->kpipe ? POLLIN : POLLOUT);
    if (poff != NULL) {
        long r = sb_copy_out(t->mm, a[2], &off, sizeof(off));
        if (r < 0)
            return r;
    }
    return n;
}

long sb_sys_copy_file_range(struct sb_task *t, const uint64_t a[6])
{
    struct sb_file *in = sb_fd_get(t->files, a[0]), *out = sb_fd_get(t->files, a[2]);
    if (out == NULL || in == NULL)
        return -EBADF;
    if (out->synth)
        return -EBADF;
    if (a[5] != 0)
        return -EINVAL;
    loff_t offs[2], *po[2] = {NULL, NULL};
    for (int i = 0; i < 2; i++)
        if (a[1 + 2 * i] != 0) {
            long r = sb_copy_in(t->mm, &offs[i], a[1 + 2 * i], sizeof(loff_t));
            if (r < 0)
                return r;
            po[i] = &offs[i];
        }
    size_t count = a[4] > (1UL << 30) ? (1UL << 30) : a[4];
    ssize_t n = copy_file_range(in->host, po[0], out->host, po[1], count, 0);
    if (n < 0)
        return -errno;
    for (int i = 0; i < 2; i++)
        if (po[i] != NULL) {
            long r = sb_copy_out(t->mm, a[1 + 2 * i], po[i], sizeof(loff_t));
            if (r < 0)
                return r;
        }
    return n;
}

/* ---- locks ------------------------------------------------------------- */

/* A lock that is held elsewhere: the call is tried again after every other
 * call, and every 10 ms when nothing else happens (a holder outside the
 * sandbox tells no one when it lets go). */
static long lock_wait(struct sb_task *t)
{
    t->wake_at = now_ns() + 10000000ULL;
    return SB_PARK;
}

long sb_sys_flock(struct sb_task *t, const uint64_t a[6])
{
    struct sb_file *f = sb_fd_get(t->files, a[0]);
    if (f == NULL)
        return -EBADF;
    int op = (int)a[1];
    if ((op & ~(LOCK_SH | LOCK_EX | LOCK_UN | LOCK_NB)) != 0)
        return -EINVAL;
    if (flock(f->host, op | LOCK_NB) == 0)
        return 0;
    if (errno == EWOULDBLOCK && !(op & LOCK_NB))
        return lock_wait(t);
    return -errno;
}

/* The workload's record locks are the host's open file description locks
 * (F_OFD_*) on the kernel's descriptor: every host descriptor is the
 * kernel process's, so the host's per-process POSIX locks would never
 * conflict between two sandbox processes. What differs from Linux's POSIX
 * locks: a lock belongs to the open file (shared with dup and fork, not
 * dropped by closing another descriptor of the file), and F_GETLK reports
 * l_pid -1. */
long sb_fcntl_lock(struct sb_task *t, struct sb_file *f, int cmd, uint64_t arg)
{
    struct flock fl;
    long r = sb_copy_in(t->mm, &fl, arg, sizeof(fl));
    if (r < 0)
        return r;
    bool ofd = cmd == F_OFD_GETLK || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW;
    if (ofd && fl.l_pid != 0)
        return -EINVAL;
    fl.l_pid = 0;
    if (f->synth && fl.l_type == F_WRLCK)
        return -EBADF;
    if (cmd == F_GETLK || cmd == F_OFD_GETLK) {
        if (fcntl(f->host, F_OFD_GETLK, &fl) < 0)
            return -errno;
        return sb_copy_out(t->mm, arg, &fl, sizeof(fl));
    }
    bool wait = cmd == F_SETLKW || cmd == F_OFD_SETLKW;
    if (fcntl(f->host, F_OFD_SETLK, &fl) == 0)
        return 0;
    if ((errno == EAGAIN || errno == EACCES) && wait)
        return lock_wait(t);
    return errno == EACCES ? -EAGAIN : -errno;
}
