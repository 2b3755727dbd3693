/* WASI preview1: the fd_* family. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "level/wasm/wasi_impl.h"

#define NS 1000000000u

static bool is_socket(const struct wasi_fd *e)
{
    return e->filetype == WASI_FILETYPE_SOCKET_STREAM || e->filetype == WASI_FILETYPE_SOCKET_DGRAM;
}

/* A readable fd of a directory entry (whose own fd may be O_PATH): -1 with errno. */
static int dir_open(const struct wasi_fd *e)
{
    return openat(e->host, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

WASI_FN(fd_advise)
{
    static const int advice[] = {POSIX_FADV_NORMAL,   POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                                 POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED,   POSIX_FADV_NOREUSE};
    (void)mem;
    struct wasi_fd *e = wasi_fd_get(ctx, a[0].i32);
    uint64_t off = a[1].i64, len = a[2].i64;
    if (e == NULL)
        return WASI_EBADF;
    if (a[3].i32 >= sizeof(advice) / sizeof(advice[0]) || off > INT64_MAX || len > INT64_MAX)
        return WASI_EINVAL;
    if (e->filetype == WASI_FILETYPE_DIRECTORY)
        return WASI_EBADF;
    return wasi_errno(posix_fadvise(e->host, (off_t)off, (off_t)len, advice[a[3].i32]));
}

WASI_FN(fd_allocate)
{
    (void)mem;
    struct wasi_fd *e = wasi_fd_get(ctx, a[0].i32);
    uint64_t off = a[1].i64, len = a[2].i64;
    if (e == NULL)
        return WASI_EBADF;
    if (off > INT64_MAX || len > INT64_MAX)
        return WASI_EINVAL;
    if (off + len > INT64_MAX)
        return WASI_EFBIG;
    if (e->filetype == WASI_FILETYPE_DIRECTORY)
        return WASI_EBADF;
    if (len == 0)
        return WASI_ESUCCESS;
    return wasi_errno(posix_fallocate(e->host, (off_t)off, (off_t)len));
}

WASI_FN(fd_close)
{
    (void)mem;
    struct wasi_fd *e = wasi_fd_get(ctx, a[0].i32);
    if (e == NULL)
        return WASI_EBADF;
    wasi_fd_release(e);
    return WASI_ESUCCESS;
}

static uint32_t sync_fd(struct wasi_ctx *ctx, uint32_t fd, bool data)
{
    struct wasi_fd *e = wasi_fd_get(ctx, fd);
    if (e == NULL)
        return WASI_EBADF;
    int own = -1, host = e->host;
    if (e->filetype == WASI_FILETYPE_DIRECTORY) {
        if ((own = dir_open(e)) < 0)
            return wasi_errno(errno);
        host = own;
    }
    int r = data ? fdatasync(host) : fsync(host);
    int saved = errno;
    if (own >= 0)
        close(own);
    return r < 0 ? wasi_errno(saved) : WASI_ESUCCESS;
}

WASI_FN(fd_datasync)
{
    (void)mem;
    return sync_fd(ctx, a[0].i32, true);
}

WASI_FN(fd_sync)
{
    (void)mem;
    return sync_fd(ctx, a[0].i32, false);
}

/* fdflags of host status flags; the sync class is reported as one flag. */
static uint16_t fdflags_of(int fl)
{
    uint16_t f = 0;
    if (fl & O_APPEND)
        f |= WASI_FDFLAGS_APPEND;
    if (fl & O_NONBLOCK)
        f |= WASI_FDFLAGS_NONBLOCK;
    if ((fl & O_SYNC) == O_SYNC)
        f |= WASI_FDFLAGS_SYNC;
    else if (fl & O_DSYNC)
        f |= WASI_FDFLAGS_DSYNC;
    return f;
}

static int sync_class(uint16_t f)
{
    if (f & (WASI_FDFLAGS_SYNC | WASI_FDFLAGS_RSYNC))
        return 2;
    return (f & WASI_FDFLAGS_DSYNC) ? 1 : 0;
}

WASI_FN(fd_fdstat_get)
{
    struct wasi_fd *e = wasi_fd_get(ctx, a[0].i32);
    uint32_t p = a[1].i32;
    if (e == NULL)
        return WASI_EBADF;
    if (!wasi_mem_ok(mem, p, WASI_SIZEOF_FDSTAT))
        return WASI_EFAULT;
    int fl = fcntl(e->host, F_GETFL);
    if (fl < 0)
        return wasi_errno(errno);
    memset(mem->data + p, 0, WASI_SIZEOF_FDSTAT);
    wasi_put8(mem, p, e->filetype);
    wasi_put16(mem, p + 2, fdflags_of(fl));
    wasi_put64(mem, p + 8, e->rights_base);
    wasi_put64(mem, p + 16, e->rights_inheriting);
    return WASI_ESUCCESS;
}

WASI_FN(fd_fdstat_set_flags)
{
    (void)mem;
    struct wasi_fd *e = wasi_fd_get(ctx, a[0].i32);
    uint32_t flags = a[1].i32;
    if (e == NULL)
        return WASI_EBADF;
    if (flags & ~0x1fu)
        return WASI_EINVAL;
    int fl = fcntl(e->host, F_GETFL);
    if (fl < 0)
        return wasi_errno(errno);
    /* Linux cannot change the sync flags of an open file: asking for the
     * ones it has is fine, others are not supported. */
    if (sync_class((uint16_t)flags) != sync_class(fdflags_of(fl)))
        return WASI_ENOTSUP;
    int nfl = fl & ~(O_APPEND | O_NONBLOCK);
    if (flags & WASI_FDFLAGS_APPEND)
        nfl |= O_APPEND;
    if (flags & WASI_FDFLAGS_NONBLOCK)
        nfl |= O_NONBLOCK;
    if (nfl != fl && fcntl(e->host, F_SETFL, nfl) < 0)
        return wasi_errno(errno);
    return WASI_ESUCCESS;
}

WASI_FN(fd_fdstat_set_rights)
{
    (void)mem;
    struct wasi_fd *e = wasi_fd_get(ctx, a[0].i32);
    uint64_t base = a[1].i64, inheriting = a[2].i64;
    if (e == NULL)
        return WASI_EBADF;
    if ((base & ~e->rights_base) != 0 || (inheriting & ~e->rights_inheriting) != 0)
        return WASI_ENOTCAPABLE;
    e->rights_base = base;
    e->rights_inheriting = inheriting;
    return WASI_ESUCCESS;
}

WASI_FN(fd_filestat_get)
{
    struct wasi_fd *e = wasi_fd_get(ctx, a[0].i32);
    uint32_t p = a[1].i32;
    struct stat st;
    if (e == NULL)
        return WASI_EBADF;
    if (!wasi_mem_ok(mem, p, WASI_SIZEOF_FILESTAT))
        return WASI_EFAULT;
    if (fstat(e->host, &st) < 0)
        return wasi_errno(errno);
    uint8_t ft = is_socket(e) ? e->filetype : wasi_filetype_of(e->host, &st);
    wasi_put_filestat(mem, p, &st, ft);
    return WASI_ESUCCESS;
}

WASI_FN(fd_filestat_set_size)
{
    (void)mem;
    struct wasi_fd *e = wasi_fd_get(ctx, a[0].i32);
    if (e == NULL)
        return WASI_EBADF;
    if (a[1].i64 > INT64_MAX)
        return WASI_EINVAL;
    if (ftruncate(e->host, (off_t)a[1].i64) < 0)
        return wasi_errno(errno);
    return WASI_ESUCCESS;
}

uint32_t wasi_times(uint64_t atim, uint64_t mtim, uint32_t fst, struct timespec ts[2])
{
    if ((fst & ~0xfu) != 0 ||
        (fst & (WASI_FSTFLAGS_ATIM | WASI_FSTFLAGS_ATIM_NOW)) ==
            (WASI_FSTFLAGS_ATIM | WASI_FSTFLAGS_ATIM_NOW) ||
        (fst & (WASI_FSTFLAGS_MTIM | WASI_FSTFLAGS_MTIM_NOW)) ==
            (WASI_FSTFLAGS_MTIM | WASI_FSTFLAGS_MTIM_NOW))
        return WASI_EINVAL;
    ts[0] = (struct timespec){.tv_sec = 0, .tv_nsec = UTIME_OMIT};
    ts[1] = ts[0];
    if (fst & WASI_FSTFLAGS_ATIM_NOW)
        ts[0].tv_nsec = UTIME_NOW;
    else if (fst & WASI_FSTFLAGS_ATIM)
        ts[0] = (struct timespec){.tv_sec = (time_t)(atim / NS), .tv_nsec = (long)(atim % NS)};
    if (fst & WASI_FSTFLAGS_MTIM_NOW)
        ts[1].tv_nsec = UTIME_NOW;
    else if (fst & WASI_FSTFLAGS_MTIM)
        ts[1] = (struct timespec){.tv_sec = (time_t)(mtim / NS), .tv_nsec = (long)(mtim % NS)};
    return WASI_ESUCCESS;
}

WASI_FN(fd_filestat_set_times)
{
    (void)mem;
    struct wasi_fd *e = wasi_fd_get(ctx, a[0].i32);
    struct timespec ts[2];
    if (e == NULL)
        return WASI_EBADF;
    uint32_t r = wasi_times(a[1].i64, a[2].i64, a[3].i32, ts);
    if (r != WASI_ESUCCESS)
        return r;
    /* A directory's fd may be O_PATH, which futimens refuses; "." is itself. */
    int rc = e->filetype == WASI_FILETYPE_DIRECTORY ? utimensat(e->host, ".", ts, 0)
                                                    : futimens(e->host, ts);
    return rc < 0 ? wasi_errno(errno) : WASI_ESUCCESS;
}

/* Reads and writes: fd_read, fd_write, fd_pread, fd_pwrite. */
enum io_op { IO_READ, IO_WRITE, IO_PREAD, IO_PWRITE };

static uint32_t do_io(struct wasi_ctx *ctx, struct wasm_memory *mem, uint32_t fd, uint32_t iovs,
                      uint32_t niovs, uint64_t off, uint32_t retp, enum io_op op)
{
    struct wasi_fd *e = wasi_fd_get(ctx, fd);
    struct iovec stack[WASI_IOV_STACK], *v;
    int n;
    if (e == NULL)
        return WASI_EBADF;
    if ((op == IO_PREAD || op == IO_PWRITE) && off > INT64_MAX)
        return WASI_EINVAL;
    if (!wasi_mem_ok(mem, retp, 4))
        return WASI_EFAULT;
    uint32_t r = wasi_iovecs(mem, iovs, niovs, stack, &v, &n);
    if (r != WASI_ESUCCESS)
        return r;
    ssize_t got;
    do {
        switch (op) {
        case IO_READ:
            got = readv(e->host, v, n);
            break;
        case IO_PREAD:
            got = preadv(e->host, v, n, (off_t)off);
            break;
        case IO_PWRITE:
            got = pwritev(e->host, v, n, (off_t)off);
            break;
        default:
            if (is_socket(e)) {
                struct msghdr msg = {.msg_iov = v, .msg_iovlen = (size_t)n};
                got = sendmsg(e->host, &msg, MSG_NOSIGNAL);
            } else {
                got = writev(e->host, v, n);
            }
        }
    } while (got < 0 && errno == EINTR);
    int saved = errno;
    if (v != stack)
        free(v);
    if (got < 0)
        return wasi_errno(saved);
    wasi_put32(mem, retp, (uint32_t)got);
    return WASI_ESUCCESS;
}

WASI_FN(fd_read)
{
    return do_io(ctx, mem, a[0].i32, a[1].i32, a[2].i32, 0, a[3].i32, IO_READ);
}

WASI_FN(fd_write)
{
    return do_io(ctx, mem, a[0].i32, a[1].i32, a[2].i32, 0, a[3].i32, IO_WRITE);
}

WASI_FN(fd_pread)
{
    return do_io(ctx, mem, a[0].i32, a[1].i32, a[2].i32, a[3].i64, a[4].i32, IO_PREAD);
}

WASI_FN(fd_pwrite)
{
    return do_io(ctx, mem, a[0].i32, a[1].i32, a[2].i32, a[3].i64, a[4].i32, IO_PWRITE);
}

WASI_FN(fd_prestat_get)
{
    struct wasi_fd *e = wasi_fd_get(ctx, a[0].i32);
    uint32_t p = a[1].i32;
    if (e == NULL || e->preopen == NULL)
        return WASI_EBADF;
    if (!wasi_mem_ok(mem, p, WASI_SIZEOF_PRESTAT))
        return WASI_EFAULT;
    memset(mem->data + p, 0, WASI_SIZEOF_PRESTAT);
    wasi_put8(mem, p, WASI_PREOPENTYPE_DIR);
    wasi_put32(mem, p + 4, (uint32_t)strlen(e->preopen));
    return WASI_ESUCCESS;
}

WASI_FN(fd_prestat_dir_name)
{
    struct wasi_fd *e = wasi_fd_get(ctx, a[0].i32);
    uint32_t p = a[1].i32, len = a[2].i32;
    if (e == NULL || e->preopen == NULL)
        return WASI_EBADF;
    size_t n = strlen(e->preopen);
    if (len < n)
        return WASI_ENAMETOOLONG;
    if (!wasi_mem_ok(mem, p, n))
        return WASI_EFAULT;
    memcpy(mem->data + p, e->preopen, n);
    return WASI_ESUCCESS;
}

static uint8_t dtype(DIR *d, const struct dirent *de)
{
    switch (de->d_type) {
    case DT_BLK:
        return WASI_FILETYPE_BLOCK_DEVICE;
    case DT_CHR:
        return WASI_FILETYPE_CHARACTER_DEVICE;
    case DT_DIR:
        return WASI_FILETYPE_DIRECTORY;
    case DT_REG:
        return WASI_FILETYPE_REGULAR_FILE;
    case DT_LNK:
        return WASI_FILETYPE_SYMBOLIC_LINK;
    case DT_SOCK:
        return WASI_FILETYPE_SOCKET_STREAM;
    case DT_UNKNOWN: {
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return WASI_FILETYPE_UNKNOWN;
        return wasi_filetype_of(-1, &st);
    }
    default:
        return WASI_FILETYPE_UNKNOWN;
    }
}

/* The cookie of an entry is its index in the listing plus one (0 is the
 * start). `dir` stays where the next call most likely continues: after the
 * last entry that fitted whole. */
WASI_FN(fd_readdir)
{
    struct wasi_fd *e = wasi_fd_get(ctx, a[0].i32);
    uint32_t buf = a[1].i32, len = a[2].i32, retp = a[4].i32;
    uint64_t cookie = a[3].i64;
    if (e == NULL)
        return WASI_EBADF;
    if (e->filetype != WASI_FILETYPE_DIRECTORY)
        return WASI_ENOTDIR;
    if (!wasi_mem_ok(mem, buf, len) || !wasi_mem_ok(mem, retp, 4))
        return WASI_EFAULT;
    if (e->dir == NULL) {
        int fd = dir_open(e);
        if (fd < 0)
            return wasi_errno(errno);
        if ((e->dir = fdopendir(fd)) == NULL) {
            int saved = errno;
            close(fd);
            return wasi_errno(saved);
        }
        e->dir_pos = 0;
    }
    if (cookie < e->dir_pos || cookie == 0) {
        rewinddir(e->dir);
        e->dir_pos = 0;
    }
    struct dirent *de;
    while (e->dir_pos < cookie) {
        errno = 0;
        if ((de = readdir(e->dir)) == NULL) {
            if (errno != 0)
                return wasi_errno(errno);
            return wasi_ret32(mem, retp, 0);
        }
        e->dir_pos++;
    }
    uint32_t used = 0;
    while (used < len) {
        long loc = telldir(e->dir);
        errno = 0;
        if ((de = readdir(e->dir)) == NULL) {
            if (errno != 0 && used == 0)
                return wasi_errno(errno);
            break;
        }
        uint8_t head[WASI_SIZEOF_DIRENT] = {0};
        uint32_t namlen = (uint32_t)strlen(de->d_name);
        uint64_t next = e->dir_pos + 1, ino = de->d_ino;
        for (int i = 0; i < 8; i++) {
            head[i] = (uint8_t)(next >> (8 * i));
            head[8 + i] = (uint8_t)(ino >> (8 * i));
        }
        for (int i = 0; i < 4; i++)
            head[16 + i] = (uint8_t)(namlen >> (8 * i));
        head[20] = dtype(e->dir, de);
        uint32_t room = len - used;
        if ((uint64_t)sizeof(head) + namlen <= room) {
            memcpy(mem->data + buf + used, head, sizeof(head));
            memcpy(mem->data + buf + used + sizeof(head), de->d_name, namlen);
            used += (uint32_t)sizeof(head) + namlen;
            e->dir_pos++;
            continue;
        }
        /* Cut: fill the buffer, the caller asks again from this entry's
         * cookie with a larger one. */
        uint32_t h = room < sizeof(head) ? room : (uint32_t)sizeof(head);
        memcpy(mem->data + buf + used, head, h);
        memcpy(mem->data + buf + used + h, de->d_name, room - h);
        used = len;
        seekdir(e->dir, loc);
        break;
    }
    wasi_put32(mem, retp, used);
    return WASI_ESUCCESS;
}

WASI_FN(fd_renumber)
{
    (void)mem;
    uint32_t from = a[0].i32, to = a[1].i32;
    struct wasi_fd *f = wasi_fd_get(ctx, from), *t = wasi_fd_get(ctx, to);
    if (f == NULL || t == NULL)
        return WASI_EBADF;
    if (from == to)
        return WASI_ESUCCESS;
    wasi_fd_release(t);
    *t = *f;
    memset(f, 0, sizeof(*f));
    f->host = -1;
    return WASI_ESUCCESS;
}

WASI_FN(fd_seek)
{
    struct wasi_fd *e = wasi_fd_get(ctx, a[0].i32);
    int64_t off = (int64_t)a[1].i64;
    uint32_t retp = a[3].i32;
    int whence;
    if (e == NULL)
        return WASI_EBADF;
    switch (a[2].i32) {
    case WASI_WHENCE_SET:
        whence = SEEK_SET;
        break;
    case WASI_WHENCE_CUR:
        whence = SEEK_CUR;
        break;
    case WASI_WHENCE_END:
        whence = SEEK_END;
        break;
    default:
        return WASI_EINVAL;
    }
    if (!wasi_mem_ok(mem, retp, 8))
        return WASI_EFAULT;
    if (e->filetype == WASI_FILETYPE_DIRECTORY)
        return WASI_EBADF;
    off_t r = lseek(e->host, off, whence);
    if (r < 0)
        return wasi_errno(errno);
    wasi_put64(mem, retp, (uint64_t)r);
    return WASI_ESUCCESS;
}

WASI_FN(fd_tell)
{
    struct wasi_fd *e = wasi_fd_get(ctx, a[0].i32);
    uint32_t retp = a[1].i32;
    if (e == NULL)
        return WASI_EBADF;
    if (!wasi_mem_ok(mem, retp, 8))
        return WASI_EFAULT;
    if (e->filetype == WASI_FILETYPE_DIRECTORY)
        return WASI_EBADF;
    off_t r = lseek(e->host, 0, SEEK_CUR);
    if (r < 0)
        return wasi_errno(errno);
    wasi_put64(mem, retp, (uint64_t)r);
    return WASI_ESUCCESS;
}
