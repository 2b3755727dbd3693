/* WASI preview1: the context, the fd table, the name table and resolver, and
 * the functions that touch no fd: args, environ, clocks, random, proc_*,
 * sched_yield. The fd, path, poll and socket families are in wasi_*.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "level/wasm/wasi_impl.h"

/* ---- errno ------------------------------------------------------------------------ */

/* Host errno -> wasi errno; 0 where there is none (EIO then). EWOULDBLOCK
 * and EOPNOTSUPP are EAGAIN and ENOTSUP on Linux. */
static const uint8_t errno_map[] = {
    [E2BIG] = WASI_E2BIG,
    [EACCES] = WASI_EACCES,
    [EADDRINUSE] = WASI_EADDRINUSE,
    [EADDRNOTAVAIL] = WASI_EADDRNOTAVAIL,
    [EAFNOSUPPORT] = WASI_EAFNOSUPPORT,
    [EAGAIN] = WASI_EAGAIN,
    [EALREADY] = WASI_EALREADY,
    [EBADF] = WASI_EBADF,
    [EBADMSG] = WASI_EBADMSG,
    [EBUSY] = WASI_EBUSY,
    [ECANCELED] = WASI_ECANCELED,
    [ECHILD] = WASI_ECHILD,
    [ECONNABORTED] = WASI_ECONNABORTED,
    [ECONNREFUSED] = WASI_ECONNREFUSED,
    [ECONNRESET] = WASI_ECONNRESET,
    [EDEADLK] = WASI_EDEADLK,
    [EDESTADDRREQ] = WASI_EDESTADDRREQ,
    [EDOM] = WASI_EDOM,
    [EDQUOT] = WASI_EDQUOT,
    [EEXIST] = WASI_EEXIST,
    [EFAULT] = WASI_EFAULT,
    [EFBIG] = WASI_EFBIG,
    [EHOSTUNREACH] = WASI_EHOSTUNREACH,
    [EIDRM] = WASI_EIDRM,
    [EILSEQ] = WASI_EILSEQ,
    [EINPROGRESS] = WASI_EINPROGRESS,
    [EINTR] = WASI_EINTR,
    [EINVAL] = WASI_EINVAL,
    [EIO] = WASI_EIO,
    [EISCONN] = WASI_EISCONN,
    [EISDIR] = WASI_EISDIR,
    [ELOOP] = WASI_ELOOP,
    [EMFILE] = WASI_EMFILE,
    [EMLINK] = WASI_EMLINK,
    [EMSGSIZE] = WASI_EMSGSIZE,
    [EMULTIHOP] = WASI_EMULTIHOP,
    [ENAMETOOLONG] = WASI_ENAMETOOLONG,
    [ENETDOWN] = WASI_ENETDOWN,
    [ENETRESET] = WASI_ENETRESET,
    [ENETUNREACH] = WASI_ENETUNREACH,
    [ENFILE] = WASI_ENFILE,
    [ENOBUFS] = WASI_ENOBUFS,
    [ENODEV] = WASI_ENODEV,
    [ENOENT] = WASI_ENOENT,
    [ENOEXEC] = WASI_ENOEXEC,
    [ENOLCK] = WASI_ENOLCK,
    [ENOLINK] = WASI_ENOLINK,
    [ENOMEM] = WASI_ENOMEM,
    [ENOMSG] = WASI_ENOMSG,
    [ENOPROTOOPT] = WASI_ENOPROTOOPT,
    [ENOSPC] = WASI_ENOSPC,
    [ENOSYS] = WASI_ENOSYS,
    [ENOTCONN] = WASI_ENOTCONN,
    [ENOTDIR] = WASI_ENOTDIR,
    [ENOTEMPTY] = WASI_ENOTEMPTY,
    [ENOTRECOVERABLE] = WASI_ENOTRECOVERABLE,
    [ENOTSOCK] = WASI_ENOTSOCK,
    [ENOTSUP] = WASI_ENOTSUP,
    [ENOTTY] = WASI_ENOTTY,
    [ENXIO] = WASI_ENXIO,
    [EOVERFLOW] = WASI_EOVERFLOW,
    [EOWNERDEAD] = WASI_EOWNERDEAD,
    [EPERM] = WASI_EPERM,
    [EPIPE] = WASI_EPIPE,
    [EPROTO] = WASI_EPROTO,
    [EPROTONOSUPPORT] = WASI_EPROTONOSUPPORT,
    [EPROTOTYPE] = WASI_EPROTOTYPE,
    [ERANGE] = WASI_ERANGE,
    [EROFS] = WASI_EROFS,
    [ESPIPE] = WASI_ESPIPE,
    [ESRCH] = WASI_ESRCH,
    [ESTALE] = WASI_ESTALE,
    [ETIMEDOUT] = WASI_ETIMEDOUT,
    [ETXTBSY] = WASI_ETXTBSY,
    [EXDEV] = WASI_EXDEV,
};

uint32_t wasi_errno(int e)
{
    if (e == 0)
        return WASI_ESUCCESS;
    if (e > 0 && (size_t)e < ARRAY_SIZE(errno_map) && errno_map[e] != 0)
        return errno_map[e];
    return WASI_EIO;
}

/* ---- guest memory ---------------------------------------------------------------- */

uint32_t wasi_ret32(struct wasm_memory *mem, uint32_t p, uint32_t v)
{
    if (!wasi_mem_ok(mem, p, 4))
        return WASI_EFAULT;
    wasi_put32(mem, p, v);
    return WASI_ESUCCESS;
}

uint32_t wasi_ret64(struct wasm_memory *mem, uint32_t p, uint64_t v)
{
    if (!wasi_mem_ok(mem, p, 8))
        return WASI_EFAULT;
    wasi_put64(mem, p, v);
    return WASI_ESUCCESS;
}

uint32_t wasi_iovecs(struct wasm_memory *mem, uint32_t iovs, uint32_t n, struct iovec *stack,
                     struct iovec **out, int *count)
{
    *out = stack;
    *count = 0;
    if (!wasi_mem_ok(mem, iovs, (uint64_t)n * WASI_SIZEOF_IOVEC))
        return WASI_EFAULT;
    uint32_t use = n > IOV_MAX ? IOV_MAX : n;
    /* Every buffer is checked, also those past IOV_MAX: a bad one is EFAULT. */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t p = iovs + i * WASI_SIZEOF_IOVEC;
        if (!wasi_mem_ok(mem, wasi_get32(mem, p), wasi_get32(mem, p + 4)))
            return WASI_EFAULT;
    }
    if (use > WASI_IOV_STACK) {
        *out = calloc(use, sizeof(struct iovec));
        if (*out == NULL) {
            *out = stack;
            return WASI_ENOMEM;
        }
    }
    for (uint32_t i = 0; i < use; i++) {
        uint32_t p = iovs + i * WASI_SIZEOF_IOVEC;
        (*out)[i].iov_base = mem->data + wasi_get32(mem, p);
        (*out)[i].iov_len = wasi_get32(mem, p + 4);
    }
    *count = (int)use;
    return WASI_ESUCCESS;
}

uint32_t wasi_guest_path(struct wasm_memory *mem, uint32_t ptr, uint32_t len, char **out)
{
    *out = NULL;
    if (!wasi_mem_ok(mem, ptr, len))
        return WASI_EFAULT;
    if (len >= PATH_MAX)
        return WASI_ENAMETOOLONG;
    if (memchr(mem->data + ptr, '\0', len) != NULL)
        return WASI_EINVAL;
    char *s = malloc((size_t)len + 1);
    if (s == NULL)
        return WASI_ENOMEM;
    memcpy(s, mem->data + ptr, len);
    s[len] = '\0';
    *out = s;
    return WASI_ESUCCESS;
}

void wasi_put_filestat(struct wasm_memory *mem, uint32_t p, const struct stat *st, uint8_t filetype)
{
    memset(mem->data + p, 0, WASI_SIZEOF_FILESTAT);
    wasi_put64(mem, p + 0, st->st_dev);
    wasi_put64(mem, p + 8, st->st_ino);
    wasi_put8(mem, p + 16, filetype);
    wasi_put64(mem, p + 24, st->st_nlink);
    wasi_put64(mem, p + 32, (uint64_t)st->st_size);
    wasi_put64(mem, p + 40, (uint64_t)st->st_atim.tv_sec * 1000000000u + st->st_atim.tv_nsec);
    wasi_put64(mem, p + 48, (uint64_t)st->st_mtim.tv_sec * 1000000000u + st->st_mtim.tv_nsec);
    wasi_put64(mem, p + 56, (uint64_t)st->st_ctim.tv_sec * 1000000000u + st->st_ctim.tv_nsec);
}

uint8_t wasi_filetype_of(int host, const struct stat *st)
{
    switch (st->st_mode & S_IFMT) {
    case S_IFBLK:
        return WASI_FILETYPE_BLOCK_DEVICE;
    case S_IFCHR:
        return WASI_FILETYPE_CHARACTER_DEVICE;
    case S_IFDIR:
        return WASI_FILETYPE_DIRECTORY;
    case S_IFREG:
        return WASI_FILETYPE_REGULAR_FILE;
    case S_IFLNK:
        return WASI_FILETYPE_SYMBOLIC_LINK;
    case S_IFSOCK: {
        int type = 0;
        socklen_t len = sizeof(type);
        if (host >= 0 && getsockopt(host, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
            type == SOCK_DGRAM)
            return WASI_FILETYPE_SOCKET_DGRAM;
        return WASI_FILETYPE_SOCKET_STREAM;
    }
    default:
        return WASI_FILETYPE_UNKNOWN; /* FIFOs */
    }
}

/* ---- the fd table ---------------------------------------------------------------- */

#define WASI_MAX_FDS (1u << 20)

struct wasi_fd *wasi_fd_get(struct wasi_ctx *ctx, uint32_t fd)
{
    if (fd >= ctx->nfds || ctx->fds[fd].host < 0)
        return NULL;
    return &ctx->fds[fd];
}

/* Make slot `fd` exist (free slots have host -1). */
static int fd_slot(struct wasi_ctx *ctx, uint32_t fd)
{
    if (fd < ctx->nfds)
        return 0;
    if (fd >= WASI_MAX_FDS)
        return -1;
    uint32_t n = ctx->nfds ? ctx->nfds : 8;
    while (n <= fd)
        n *= 2;
    struct wasi_fd *f = realloc(ctx->fds, n * sizeof(*f));
    if (f == NULL)
        return -1;
    memset(f + ctx->nfds, 0, (n - ctx->nfds) * sizeof(*f));
    for (uint32_t i = ctx->nfds; i < n; i++)
        f[i].host = -1;
    ctx->fds = f;
    ctx->nfds = n;
    return 0;
}

static void fd_fill(struct wasi_fd *e, int host, uint8_t kind, uint8_t filetype, uint64_t base,
                    uint64_t inheriting)
{
    memset(e, 0, sizeof(*e));
    e->host = host;
    e->kind = kind;
    e->filetype = filetype;
    e->rights_base = base;
    e->rights_inheriting = inheriting;
}

int64_t wasi_fd_add(struct wasi_ctx *ctx, int host, uint8_t kind, uint8_t filetype, uint64_t base,
                    uint64_t inheriting, uint32_t *werr)
{
    uint32_t fd = 3; /* 0, 1 and 2 are stdio's, even when closed */
    while (fd < ctx->nfds && ctx->fds[fd].host >= 0)
        fd++;
    if (fd_slot(ctx, fd) < 0) {
        close(host);
        *werr = fd >= WASI_MAX_FDS ? WASI_EMFILE : WASI_ENOMEM;
        return -1;
    }
    fd_fill(&ctx->fds[fd], host, kind, filetype, base, inheriting);
    return fd;
}

void wasi_fd_release(struct wasi_fd *e)
{
    if (e->dir != NULL)
        closedir(e->dir);
    if (e->host >= 0)
        close(e->host);
    free(e->preopen);
    memset(e, 0, sizeof(*e));
    e->host = -1;
}

/* ---- context ---------------------------------------------------------------------- */

/* Strings back to back, each with its NUL; the count and the total size. */
static int flatten(char *const *v, size_t n, char **out, uint32_t *count, uint32_t *size)
{
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += strlen(v[i]) + 1;
    if (n > UINT32_MAX / 4 || total > UINT32_MAX)
        return -1;
    char *buf = malloc(total ? total : 1);
    if (buf == NULL)
        return -1;
    char *p = buf;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(v[i]) + 1;
        memcpy(p, v[i], l);
        p += l;
    }
    *out = buf;
    *count = (uint32_t)n;
    *size = (uint32_t)total;
    return 0;
}

static int add_stdio(struct wasi_ctx *ctx, uint32_t slot, int fd, cerr_t *err)
{
    if (fd < 0)
        return 0;
    struct stat st;
    int host = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (host < 0)
        return cerr_set(err, errno, "wasi: stdio fd %d", fd);
    if (fstat(host, &st) < 0) {
        int e = errno;
        close(host);
        return cerr_set(err, e, "wasi: stdio fd %d", fd);
    }
    uint8_t ft = wasi_filetype_of(host, &st);
    uint64_t rights = WASI_RIGHTS_FILE;
    if (ft == WASI_FILETYPE_SOCKET_STREAM || ft == WASI_FILETYPE_SOCKET_DGRAM)
        rights = WASI_RIGHTS_SOCKET;
    else if (ft == WASI_FILETYPE_UNKNOWN || (ft == WASI_FILETYPE_CHARACTER_DEVICE && isatty(host)))
        rights = WASI_RIGHTS_STREAM;
    else if (ft == WASI_FILETYPE_DIRECTORY)
        rights = WASI_RIGHTS_DIR;
    if (fd_slot(ctx, slot) < 0) {
        close(host);
        return cerr_set(err, ENOMEM, "wasi: fd table");
    }
    fd_fill(&ctx->fds[slot], host, WASI_KIND_STDIO, ft, rights, 0);
    return 0;
}

static int add_listener(struct wasi_ctx *ctx, uint32_t slot, int fd, cerr_t *err)
{
    struct stat st;
    int host = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (host < 0)
        return cerr_set(err, errno, "wasi: listening socket fd %d", fd);
    if (fstat(host, &st) < 0 || !S_ISSOCK(st.st_mode)) {
        close(host);
        return cerr_set(err, 0, "wasi: listening socket fd %d: not a socket", fd);
    }
    if (fd_slot(ctx, slot) < 0) {
        close(host);
        return cerr_set(err, ENOMEM, "wasi: fd table");
    }
    fd_fill(&ctx->fds[slot], host, WASI_KIND_SOCKET, wasi_filetype_of(host, &st),
            WASI_RIGHTS_SOCKET, 0);
    return 0;
}

static int add_preopen(struct wasi_ctx *ctx, uint32_t slot, const struct wasi_preopen_dir *d,
                       cerr_t *err)
{
    if (d->host_path == NULL)
        return cerr_set(err, 0, "wasi: preopen %u: no host path", slot);
    int host = open(d->host_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (host < 0)
        return cerr_set(err, errno, "wasi: preopen `%s`", d->host_path);
    if (fd_slot(ctx, slot) < 0) {
        close(host);
        return cerr_set(err, ENOMEM, "wasi: fd table");
    }
    struct wasi_fd *e = &ctx->fds[slot];
    fd_fill(e, host, WASI_KIND_DIR, WASI_FILETYPE_DIRECTORY, WASI_RIGHTS_DIR,
            WASI_RIGHTS_DIR | WASI_RIGHTS_FILE);
    e->preopen = xstrdup(d->guest_path ? d->guest_path : d->host_path);
    return 0;
}

/* ---- args, environ, clocks, random, proc, sched -------------------------------- */

/* Pointers then strings, as args_get and environ_get give them. */
static uint32_t put_strings(struct wasm_memory *mem, uint32_t ptrs, uint32_t buf, const char *strs,
                            uint32_t count, uint32_t size)
{
    if (!wasi_mem_ok(mem, ptrs, (uint64_t)count * 4) || !wasi_mem_ok(mem, buf, size))
        return WASI_EFAULT;
    memcpy(mem->data + buf, strs, size);
    uint32_t off = 0;
    for (uint32_t i = 0; i < count; i++) {
        wasi_put32(mem, ptrs + 4 * i, buf + off);
        off += (uint32_t)strlen(strs + off) + 1;
    }
    return WASI_ESUCCESS;
}

static uint32_t put_sizes(struct wasm_memory *mem, uint32_t pcount, uint32_t psize, uint32_t count,
                          uint32_t size)
{
    if (!wasi_mem_ok(mem, pcount, 4) || !wasi_mem_ok(mem, psize, 4))
        return WASI_EFAULT;
    wasi_put32(mem, pcount, count);
    wasi_put32(mem, psize, size);
    return WASI_ESUCCESS;
}

static WASI_FN(args_get)
{
    return put_strings(mem, a[0].i32, a[1].i32, ctx->args, ctx->nargs, ctx->args_size);
}

static WASI_FN(args_sizes_get)
{
    return put_sizes(mem, a[0].i32, a[1].i32, ctx->nargs, ctx->args_size);
}

static WASI_FN(environ_get)
{
    return put_strings(mem, a[0].i32, a[1].i32, ctx->env, ctx->nenv, ctx->env_size);
}

static WASI_FN(environ_sizes_get)
{
    return put_sizes(mem, a[0].i32, a[1].i32, ctx->nenv, ctx->env_size);
}

static int host_clock(uint32_t id, clockid_t *out)
{
    switch (id) {
    case WASI_CLOCK_REALTIME:
        *out = CLOCK_REALTIME;
        return 0;
    case WASI_CLOCK_MONOTONIC:
        *out = CLOCK_MONOTONIC;
        return 0;
    case WASI_CLOCK_PROCESS_CPUTIME_ID:
        *out = CLOCK_PROCESS_CPUTIME_ID;
        return 0;
    case WASI_CLOCK_THREAD_CPUTIME_ID:
        *out = CLOCK_THREAD_CPUTIME_ID;
        return 0;
    default:
        return -1;
    }
}

uint32_t wasi_clock_now(uint32_t id, uint64_t *ns)
{
    clockid_t c;
    struct timespec ts;
    if (host_clock(id, &c) < 0)
        return WASI_EINVAL;
    if (clock_gettime(c, &ts) < 0)
        return wasi_errno(errno);
    *ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    return WASI_ESUCCESS;
}

static WASI_FN(clock_res_get)
{
    (void)ctx;
    clockid_t c;
    struct timespec ts;
    if (host_clock(a[0].i32, &c) < 0)
        return WASI_EINVAL;
    if (clock_getres(c, &ts) < 0)
        return wasi_errno(errno);
    return wasi_ret64(mem, a[1].i32, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

static WASI_FN(clock_time_get)
{
    (void)ctx;
    uint64_t ns;
    if (!wasi_mem_ok(mem, a[2].i32, 8))
        return WASI_EFAULT;
    uint32_t r = wasi_clock_now(a[0].i32, &ns); /* a[1] (precision) is a hint */
    if (r != WASI_ESUCCESS)
        return r;
    return wasi_ret64(mem, a[2].i32, ns);
}

static WASI_FN(random_get)
{
    (void)ctx;
    uint32_t p = a[0].i32, len = a[1].i32;
    if (!wasi_mem_ok(mem, p, len))
        return WASI_EFAULT;
    while (len > 0) {
        ssize_t n = getrandom(mem->data + p, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return wasi_errno(errno);
        }
        p += (uint32_t)n;
        len -= (uint32_t)n;
    }
    return WASI_ESUCCESS;
}

static WASI_FN(proc_raise)
{
    (void)ctx, (void)mem, (void)a;
    return WASI_ENOSYS;
}

static WASI_FN(sched_yield)
{
    (void)ctx, (void)mem, (void)a;
    sched_yield();
    return WASI_ESUCCESS;
}

/* ---- the name table ---------------------------------------------------------------- */

static const char *trampoline(void *b, struct wasm_memory *mem, wasm_val *sp)
{
    const struct wasi_binding *bd = b;
    uint32_t r = bd->fn(bd->ctx, mem, sp);
    sp[0].bits = 0;
    sp[0].i32 = r;
    return NULL;
}

static const char *proc_exit(void *c, struct wasm_memory *mem, wasm_val *sp)
{
    (void)mem;
    struct wasi_ctx *ctx = c;
    ctx->exit_code = (int)sp[0].i32;
    ctx->exited = true;
    return WASM_TRAP_EXIT;
}

static const struct {
    const char *name;
    const char *sig;
    wasi_impl_fn fn; /* NULL: proc_exit */
} funcs[] = {
    {"args_get", "ii:i", wasi_args_get},
    {"args_sizes_get", "ii:i", wasi_args_sizes_get},
    {"environ_get", "ii:i", wasi_environ_get},
    {"environ_sizes_get", "ii:i", wasi_environ_sizes_get},
    {"clock_res_get", "ii:i", wasi_clock_res_get},
    {"clock_time_get", "iIi:i", wasi_clock_time_get},
    {"fd_advise", "iIIi:i", wasi_fd_advise},
    {"fd_allocate", "iII:i", wasi_fd_allocate},
    {"fd_close", "i:i", wasi_fd_close},
    {"fd_datasync", "i:i", wasi_fd_datasync},
    {"fd_fdstat_get", "ii:i", wasi_fd_fdstat_get},
    {"fd_fdstat_set_flags", "ii:i", wasi_fd_fdstat_set_flags},
    {"fd_fdstat_set_rights", "iII:i", wasi_fd_fdstat_set_rights},
    {"fd_filestat_get", "ii:i", wasi_fd_filestat_get},
    {"fd_filestat_set_size", "iI:i", wasi_fd_filestat_set_size},
    {"fd_filestat_set_times", "iIIi:i", wasi_fd_filestat_set_times},
    {"fd_pread", "iiiIi:i", wasi_fd_pread},
    {"fd_prestat_get", "ii:i", wasi_fd_prestat_get},
    {"fd_prestat_dir_name", "iii:i", wasi_fd_prestat_dir_name},
    {"fd_pwrite", "iiiIi:i", wasi_fd_pwrite},
    {"fd_read", "iiii:i", wasi_fd_read},
    {"fd_readdir", "iiiIi:i", wasi_fd_readdir},
    {"fd_renumber", "ii:i", wasi_fd_renumber},
    {"fd_seek", "iIii:i", wasi_fd_seek},
    {"fd_sync", "i:i", wasi_fd_sync},
    {"fd_tell", "ii:i", wasi_fd_tell},
    {"fd_write", "iiii:i", wasi_fd_write},
    {"path_create_directory", "iii:i", wasi_path_create_directory},
    {"path_filestat_get", "iiiii:i", wasi_path_filestat_get},
    {"path_filestat_set_times", "iiiiIIi:i", wasi_path_filestat_set_times},
    {"path_link", "iiiiiii:i", wasi_path_link},
    {"path_open", "iiiiiIIii:i", wasi_path_open},
    {"path_readlink", "iiiiii:i", wasi_path_readlink},
    {"path_remove_directory", "iii:i", wasi_path_remove_directory},
    {"path_rename", "iiiiii:i", wasi_path_rename},
    {"path_symlink", "iiiii:i", wasi_path_symlink},
    {"path_unlink_file", "iii:i", wasi_path_unlink_file},
    {"poll_oneoff", "iiii:i", wasi_poll_oneoff},
    {"proc_exit", "i:", NULL},
    {"proc_raise", "i:i", wasi_proc_raise},
    {"random_get", "ii:i", wasi_random_get},
    {"sched_yield", ":i", wasi_sched_yield},
    {"sock_accept", "iii:i", wasi_sock_accept},
    {"sock_recv", "iiiiii:i", wasi_sock_recv},
    {"sock_send", "iiiii:i", wasi_sock_send},
    {"sock_shutdown", "ii:i", wasi_sock_shutdown},
};

#define NFUNCS ARRAY_SIZE(funcs)

static int make_funcs(struct wasi_ctx *ctx, cerr_t *err)
{
    ctx->funcs = calloc(NFUNCS, sizeof(*ctx->funcs));
    ctx->bindings = calloc(NFUNCS, sizeof(*ctx->bindings));
    if (ctx->funcs == NULL || ctx->bindings == NULL)
        return cerr_set(err, ENOMEM, "wasi: host functions");
    for (size_t i = 0; i < NFUNCS; i++) {
        ctx->bindings[i].ctx = ctx;
        ctx->bindings[i].fn = funcs[i].fn;
        if (funcs[i].fn == NULL)
            ctx->funcs[i] = wasm_host_func_new(funcs[i].sig, proc_exit, ctx);
        else
            ctx->funcs[i] = wasm_host_func_new(funcs[i].sig, trampoline, &ctx->bindings[i]);
        if (ctx->funcs[i] == NULL)
            return cerr_set(err, ENOMEM, "wasi: host function %s", funcs[i].name);
    }
    return 0;
}

int wasi_resolve(void *c, const char *module, const char *name, struct wasm_extern *out)
{
    struct wasi_ctx *ctx = c;
    if (ctx == NULL || module == NULL || name == NULL || strcmp(module, WASI_MODULE) != 0)
        return -1;
    for (size_t i = 0; i < NFUNCS; i++) {
        if (strcmp(funcs[i].name, name) == 0) {
            memset(out, 0, sizeof(*out));
            out->kind = WASM_EXTERN_FUNC;
            out->u.func = ctx->funcs[i];
            return 0;
        }
    }
    return -1;
}

struct wasi_ctx *wasi_new(const struct wasi_config *cfg, cerr_t *err)
{
    struct wasi_ctx *ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL) {
        cerr_set(err, ENOMEM, "wasi: context");
        return NULL;
    }
    size_t nenv = 0;
    while (cfg->envp != NULL && cfg->envp[nenv] != NULL)
        nenv++;
    if (cfg->argc < 0 || (cfg->argc > 0 && cfg->argv == NULL)) {
        cerr_set(err, 0, "wasi: bad argument count %d", cfg->argc);
        goto fail;
    }
    for (int i = 0; i < cfg->argc; i++) {
        if (cfg->argv[i] == NULL) {
            cerr_set(err, 0, "wasi: argument %d is NULL", i);
            goto fail;
        }
    }
    if (flatten(cfg->argv, (size_t)cfg->argc, &ctx->args, &ctx->nargs, &ctx->args_size) < 0 ||
        flatten(cfg->envp, nenv, &ctx->env, &ctx->nenv, &ctx->env_size) < 0) {
        cerr_set(err, E2BIG, "wasi: arguments and environment");
        goto fail;
    }
    if (fd_slot(ctx, 2) < 0) {
        cerr_set(err, ENOMEM, "wasi: fd table");
        goto fail;
    }
    if (add_stdio(ctx, 0, cfg->stdin_fd, err) < 0 || add_stdio(ctx, 1, cfg->stdout_fd, err) < 0 ||
        add_stdio(ctx, 2, cfg->stderr_fd, err) < 0)
        goto fail;
    /* Directories first: wasi-libc registers preopens by asking
     * fd_prestat_get from fd 3 up and stops at the first fd that is not
     * one (a socket would hide the directories after it). */
    uint32_t slot = 3;
    for (size_t i = 0; i < cfg->ndirs; i++)
        if (add_preopen(ctx, slot++, &cfg->dirs[i], err) < 0)
            goto fail;
    for (size_t i = 0; i < cfg->nlisten; i++)
        if (add_listener(ctx, slot++, cfg->listen_fds[i], err) < 0)
            goto fail;
    if (make_funcs(ctx, err) < 0)
        goto fail;
    return ctx;
fail:
    wasi_free(ctx);
    return NULL;
}

void wasi_free(struct wasi_ctx *ctx)
{
    if (ctx == NULL)
        return;
    for (uint32_t i = 0; i < ctx->nfds; i++)
        if (ctx->fds[i].host >= 0)
            wasi_fd_release(&ctx->fds[i]);
    free(ctx->fds);
    if (ctx->funcs != NULL)
        for (size_t i = 0; i < NFUNCS; i++)
            wasm_host_func_free(ctx->funcs[i]);
    free(ctx->funcs);
    free(ctx->bindings);
    free(ctx->args);
    free(ctx->env);
    free(ctx);
}

int wasi_exit_code(const struct wasi_ctx *ctx)
{
    return ctx->exit_code;
}

int wasi_exited(const struct wasi_ctx *ctx)
{
    return ctx->exited;
}
