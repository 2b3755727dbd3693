/* Private to the WASI files (wasi*.c): the context, the fd table, guest
 * memory access and the function implementations. */
#ifndef CELLA_WASM_WASI_IMPL_H
#define CELLA_WASM_WASI_IMPL_H

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>

#include "level/wasm/runtime.h"
#include "level/wasm/wasi.h"

enum wasi_kind {
    WASI_KIND_FREE = 0,
    WASI_KIND_STDIO,
    WASI_KIND_FILE,
    WASI_KIND_DIR,
    WASI_KIND_SOCKET,
};

/* One wasi fd. The table owns `host` (and `dir`). */
struct wasi_fd {
    int host;         /* -1 when the slot is free */
    uint8_t kind;     /* enum wasi_kind */
    uint8_t filetype; /* enum wasi_filetype */
    uint64_t rights_base, rights_inheriting;
    char *preopen;    /* guest path of a preopened directory, else NULL */
    DIR *dir;         /* fd_readdir's stream (its own fd), NULL until used */
    uint64_t dir_pos; /* index of the entry `dir` reads next */
};

/* Function implementations: arguments at a[0..), returning a wasi errno. */
typedef uint32_t (*wasi_impl_fn)(struct wasi_ctx *ctx, struct wasm_memory *mem, const wasm_val *a);

struct wasi_binding {
    struct wasi_ctx *ctx;
    wasi_impl_fn fn;
};

struct wasi_ctx {
    /* argv and environ as the module sees them: strings back to back (each
     * NUL-terminated) and their count. */
    char *args, *env;
    uint32_t nargs, nenv;
    uint32_t args_size, env_size;

    struct wasi_fd *fds;
    uint32_t nfds; /* slots allocated */

    int exit_code;
    bool exited;

    struct wasm_func **funcs; /* one per entry of the name table */
    struct wasi_binding *bindings;
};

/* Rights a new fd of a kind gets. */
#define WASI_RIGHTS_FILE                                                                           \
    (WASI_RIGHT_FD_DATASYNC | WASI_RIGHT_FD_READ | WASI_RIGHT_FD_SEEK |                            \
     WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WASI_RIGHT_FD_SYNC | WASI_RIGHT_FD_TELL |                    \
     WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_ADVISE | WASI_RIGHT_FD_ALLOCATE |                         \
     WASI_RIGHT_FD_FILESTAT_GET | WASI_RIGHT_FD_FILESTAT_SET_SIZE |                                \
     WASI_RIGHT_FD_FILESTAT_SET_TIMES | WASI_RIGHT_POLL_FD_READWRITE)
/* A tty or pipe: no seek or tell (wasi-libc's isatty looks for that). */
#define WASI_RIGHTS_STREAM                                                                         \
    (WASI_RIGHTS_FILE & ~(WASI_RIGHT_FD_SEEK | WASI_RIGHT_FD_TELL | WASI_RIGHT_FD_ADVISE |         \
                          WASI_RIGHT_FD_ALLOCATE | WASI_RIGHT_FD_FILESTAT_SET_SIZE))
#define WASI_RIGHTS_DIR                                                                            \
    (WASI_RIGHT_FD_DATASYNC | WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WASI_RIGHT_FD_SYNC |                \
     WASI_RIGHT_PATH_CREATE_DIRECTORY | WASI_RIGHT_PATH_CREATE_FILE |                              \
     WASI_RIGHT_PATH_LINK_SOURCE | WASI_RIGHT_PATH_LINK_TARGET | WASI_RIGHT_PATH_OPEN |            \
     WASI_RIGHT_FD_READDIR | WASI_RIGHT_PATH_READLINK | WASI_RIGHT_PATH_RENAME_SOURCE |            \
     WASI_RIGHT_PATH_RENAME_TARGET | WASI_RIGHT_PATH_FILESTAT_GET |                                \
     WASI_RIGHT_PATH_FILESTAT_SET_SIZE | WASI_RIGHT_PATH_FILESTAT_SET_TIMES |                      \
     WASI_RIGHT_FD_FILESTAT_GET | WASI_RIGHT_FD_FILESTAT_SET_TIMES | WASI_RIGHT_PATH_SYMLINK |     \
     WASI_RIGHT_PATH_REMOVE_DIRECTORY | WASI_RIGHT_PATH_UNLINK_FILE |                              \
     WASI_RIGHT_POLL_FD_READWRITE)
#define WASI_RIGHTS_SOCKET                                                                         \
    (WASI_RIGHT_FD_READ | WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_FDSTAT_SET_FLAGS |                   \
     WASI_RIGHT_FD_FILESTAT_GET | WASI_RIGHT_POLL_FD_READWRITE | WASI_RIGHT_SOCK_SHUTDOWN |        \
     WASI_RIGHT_SOCK_ACCEPT)

/* ---- guest memory ---------------------------------------------------------------- */

/* True when [ptr, ptr+len) lies inside memory (len may be up to 2^40: no overflow). */
static inline bool wasi_mem_ok(const struct wasm_memory *mem, uint32_t ptr, uint64_t len)
{
    return mem != NULL && (uint64_t)ptr + len <= mem->size;
}

/* Little-endian stores and loads; the caller checked the range. */
static inline void wasi_put8(struct wasm_memory *mem, uint32_t p, uint8_t v)
{
    mem->data[p] = v;
}
static inline void wasi_put16(struct wasm_memory *mem, uint32_t p, uint16_t v)
{
    mem->data[p] = (uint8_t)v;
    mem->data[p + 1] = (uint8_t)(v >> 8);
}
static inline void wasi_put32(struct wasm_memory *mem, uint32_t p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        mem->data[p + i] = (uint8_t)(v >> (8 * i));
}
static inline void wasi_put64(struct wasm_memory *mem, uint32_t p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        mem->data[p + i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t wasi_get16(const struct wasm_memory *mem, uint32_t p)
{
    return (uint16_t)(mem->data[p] | mem->data[p + 1] << 8);
}
static inline uint32_t wasi_get32(const struct wasm_memory *mem, uint32_t p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = v << 8 | mem->data[p + i];
    return v;
}
static inline uint64_t wasi_get64(const struct wasm_memory *mem, uint32_t p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | mem->data[p + i];
    return v;
}

/* Store a u32 / u64 result: EFAULT when outside memory. */
uint32_t wasi_ret32(struct wasm_memory *mem, uint32_t p, uint32_t v);
uint32_t wasi_ret64(struct wasm_memory *mem, uint32_t p, uint64_t v);

/* An (c)iovec array of the guest as host iovecs pointing into memory, at
 * most IOV_MAX of them (a shorter transfer is allowed). *out is `stack` or
 * malloc'd (free it when it is not `stack`). */
#define WASI_IOV_STACK 16
uint32_t wasi_iovecs(struct wasm_memory *mem, uint32_t iovs, uint32_t n, struct iovec *stack,
                     struct iovec **out, int *count);

/* ---- fd table, errno ------------------------------------------------------------- */

/* The open entry of fd, or NULL. The pointer is good until the next wasi_fd_add. */
struct wasi_fd *wasi_fd_get(struct wasi_ctx *ctx, uint32_t fd);
/* Put host fd in the lowest free slot from 3 on (taking ownership: closed on failure);
 * the slot number, or -1 (wasi errno in *werr). */
int64_t wasi_fd_add(struct wasi_ctx *ctx, int host, uint8_t kind, uint8_t filetype, uint64_t base,
                    uint64_t inheriting, uint32_t *werr);
void wasi_fd_release(struct wasi_fd *e);
/* Filetype of a host fd (fstat; sockets by SO_TYPE). */
uint8_t wasi_filetype_of(int host, const struct stat *st);
/* The wasi errno for a host errno. */
uint32_t wasi_errno(int host_errno);
/* The filestat record (64 bytes) at p. */
void wasi_put_filestat(struct wasm_memory *mem, uint32_t p, const struct stat *st,
                       uint8_t filetype);
/* A guest string (ptr, len) as a NUL-terminated malloc'd copy: 0, or EFAULT,
 * EILSEQ (a NUL inside), ENAMETOOLONG. */
uint32_t wasi_guest_path(struct wasm_memory *mem, uint32_t ptr, uint32_t len, char **out);
/* Read a clock of the ABI into *ns: 0 or EINVAL. */
uint32_t wasi_clock_now(uint32_t id, uint64_t *ns);

/* ---- functions (wasi_fd.c, wasi_path.c, wasi_poll.c, wasi_sock.c) ------------------ */

#define WASI_FN(name)                                                                              \
    uint32_t wasi_##name(struct wasi_ctx *ctx, struct wasm_memory *mem, const wasm_val *a)
WASI_FN(fd_advise);
WASI_FN(fd_allocate);
WASI_FN(fd_close);
WASI_FN(fd_datasync);
WASI_FN(fd_fdstat_get);
WASI_FN(fd_fdstat_set_flags);
WASI_FN(fd_fdstat_set_rights);
WASI_FN(fd_filestat_get);
WASI_FN(fd_filestat_set_size);
WASI_FN(fd_filestat_set_times);
WASI_FN(fd_pread);
WASI_FN(fd_prestat_get);
WASI_FN(fd_prestat_dir_name);
WASI_FN(fd_pwrite);
WASI_FN(fd_read);
WASI_FN(fd_readdir);
WASI_FN(fd_renumber);
WASI_FN(fd_seek);
WASI_FN(fd_sync);
WASI_FN(fd_tell);
WASI_FN(fd_write);
WASI_FN(path_create_directory);
WASI_FN(path_filestat_get);
WASI_FN(path_filestat_set_times);
WASI_FN(path_link);
WASI_FN(path_open);
WASI_FN(path_readlink);
WASI_FN(path_remove_directory);
WASI_FN(path_rename);
WASI_FN(path_symlink);
WASI_FN(path_unlink_file);
WASI_FN(poll_oneoff);
WASI_FN(sock_accept);
WASI_FN(sock_recv);
WASI_FN(sock_send);
WASI_FN(sock_shutdown);

/* Timestamps of fd_filestat_set_times / path_filestat_set_times: 0 or EINVAL. */
uint32_t wasi_times(uint64_t atim, uint64_t mtim, uint32_t fst, struct timespec ts[2]);

#endif
