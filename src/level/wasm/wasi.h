/* WASI preview1 (`wasi_snapshot_preview1`) for the WebAssembly engine: the
 * host functions a module imports, bound to one context (arguments,
 * environment, an fd table of stdio, listening sockets and preopened
 * directories).
 *
 * Paths are resolved beneath the directory fd they are relative to
 * (openat2 RESOLVE_BENEATH): "..", absolute paths and symlinks that leave
 * the tree give ENOTCAPABLE. Rights are stored and reported, fd_fdstat_set_rights
 * can only narrow them, but they are advisory, as in wasmtime.
 *
 * The constants below are the preview1 ABI (witx typenames), not the host's. */
#ifndef CELLA_WASM_WASI_H
#define CELLA_WASM_WASI_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "level/wasm/runtime.h"

#define WASI_MODULE "wasi_snapshot_preview1"

struct wasi_preopen_dir {
    const char *host_path;  /* opened by wasi_new */
    const char *guest_path; /* the name the module sees (fd_prestat_dir_name) */
};

struct wasi_config {
    int argc;
    char *const *argv; /* argv[0] is the program name as the module sees it */
    char *const *envp; /* NAME=VALUE, NULL-terminated; NULL for none */
    int stdin_fd;      /* host fds for wasi fds 0, 1, 2; -1 leaves that fd closed */
    int stdout_fd;
    int stderr_fd;
    const struct wasi_preopen_dir *dirs; /* preopens: wasi fds 3, 4, ... in order */
    size_t ndirs;
    const int *listen_fds; /* listening sockets: the fds after the directories */
    size_t nlisten;
};

struct wasi_ctx;

/* A context: copies argv and envp, duplicates the stdio and listening fds
 * (close-on-exec; the caller keeps and closes its own) and opens the
 * directories (O_PATH | O_DIRECTORY). The error names the failing path or fd. */
struct wasi_ctx *wasi_new(const struct wasi_config *cfg, cerr_t *err);
/* Closes every fd of the table and frees the host function objects. */
void wasi_free(struct wasi_ctx *ctx);
/* A wasm_resolve_fn (ctx is the struct wasi_ctx): functions of
 * "wasi_snapshot_preview1" by name; -1 for anything else. */
int wasi_resolve(void *ctx, const char *module, const char *name, struct wasm_extern *out);
/* The code given to proc_exit (after a call ended with WASM_TRAP_EXIT); 0 before. */
int wasi_exit_code(const struct wasi_ctx *ctx);
/* True once proc_exit was called. */
int wasi_exited(const struct wasi_ctx *ctx);

/* errno (u16) */
enum wasi_errno {
    WASI_ESUCCESS = 0,
    WASI_E2BIG = 1,
    WASI_EACCES = 2,
    WASI_EADDRINUSE = 3,
    WASI_EADDRNOTAVAIL = 4,
    WASI_EAFNOSUPPORT = 5,
    WASI_EAGAIN = 6,
    WASI_EALREADY = 7,
    WASI_EBADF = 8,
    WASI_EBADMSG = 9,
    WASI_EBUSY = 10,
    WASI_ECANCELED = 11,
    WASI_ECHILD = 12,
    WASI_ECONNABORTED = 13,
    WASI_ECONNREFUSED = 14,
    WASI_ECONNRESET = 15,
    WASI_EDEADLK = 16,
    WASI_EDESTADDRREQ = 17,
    WASI_EDOM = 18,
    WASI_EDQUOT = 19,
    WASI_EEXIST = 20,
    WASI_EFAULT = 21,
    WASI_EFBIG = 22,
    WASI_EHOSTUNREACH = 23,
    WASI_EIDRM = 24,
    WASI_EILSEQ = 25,
    WASI_EINPROGRESS = 26,
    WASI_EINTR = 27,
    WASI_EINVAL = 28,
    WASI_EIO = 29,
    WASI_EISCONN = 30,
    WASI_EISDIR = 31,
    WASI_ELOOP = 32,
    WASI_EMFILE = 33,
    WASI_EMLINK = 34,
    WASI_EMSGSIZE = 35,
    WASI_EMULTIHOP = 36,
    WASI_ENAMETOOLONG = 37,
    WASI_ENETDOWN = 38,
    WASI_ENETRESET = 39,
    WASI_ENETUNREACH = 40,
    WASI_ENFILE = 41,
    WASI_ENOBUFS = 42,
    WASI_ENODEV = 43,
    WASI_ENOENT = 44,
    WASI_ENOEXEC = 45,
    WASI_ENOLCK = 46,
    WASI_ENOLINK = 47,
    WASI_ENOMEM = 48,
    WASI_ENOMSG = 49,
    WASI_ENOPROTOOPT = 50,
    WASI_ENOSPC = 51,
    WASI_ENOSYS = 52,
    WASI_ENOTCONN = 53,
    WASI_ENOTDIR = 54,
    WASI_ENOTEMPTY = 55,
    WASI_ENOTRECOVERABLE = 56,
    WASI_ENOTSOCK = 57,
    WASI_ENOTSUP = 58,
    WASI_ENOTTY = 59,
    WASI_ENXIO = 60,
    WASI_EOVERFLOW = 61,
    WASI_EOWNERDEAD = 62,
    WASI_EPERM = 63,
    WASI_EPIPE = 64,
    WASI_EPROTO = 65,
    WASI_EPROTONOSUPPORT = 66,
    WASI_EPROTOTYPE = 67,
    WASI_ERANGE = 68,
    WASI_EROFS = 69,
    WASI_ESPIPE = 70,
    WASI_ESRCH = 71,
    WASI_ESTALE = 72,
    WASI_ETIMEDOUT = 73,
    WASI_ETXTBSY = 74,
    WASI_EXDEV = 75,
    WASI_ENOTCAPABLE = 76,
};

/* filetype (u8) */
enum wasi_filetype {
    WASI_FILETYPE_UNKNOWN = 0,
    WASI_FILETYPE_BLOCK_DEVICE = 1,
    WASI_FILETYPE_CHARACTER_DEVICE = 2,
    WASI_FILETYPE_DIRECTORY = 3,
    WASI_FILETYPE_REGULAR_FILE = 4,
    WASI_FILETYPE_SOCKET_DGRAM = 5,
    WASI_FILETYPE_SOCKET_STREAM = 6,
    WASI_FILETYPE_SYMBOLIC_LINK = 7,
};

/* clockid (u32) */
enum {
    WASI_CLOCK_REALTIME = 0,
    WASI_CLOCK_MONOTONIC = 1,
    WASI_CLOCK_PROCESS_CPUTIME_ID = 2,
    WASI_CLOCK_THREAD_CPUTIME_ID = 3,
};

/* whence (u8) */
enum { WASI_WHENCE_SET = 0, WASI_WHENCE_CUR = 1, WASI_WHENCE_END = 2 };

/* advice (u8) */
enum {
    WASI_ADVICE_NORMAL = 0,
    WASI_ADVICE_SEQUENTIAL = 1,
    WASI_ADVICE_RANDOM = 2,
    WASI_ADVICE_WILLNEED = 3,
    WASI_ADVICE_DONTNEED = 4,
    WASI_ADVICE_NOREUSE = 5,
};

/* fdflags (u16) */
#define WASI_FDFLAGS_APPEND   0x01
#define WASI_FDFLAGS_DSYNC    0x02
#define WASI_FDFLAGS_NONBLOCK 0x04
#define WASI_FDFLAGS_RSYNC    0x08
#define WASI_FDFLAGS_SYNC     0x10

/* oflags (u16) */
#define WASI_OFLAGS_CREAT     0x1
#define WASI_OFLAGS_DIRECTORY 0x2
#define WASI_OFLAGS_EXCL      0x4
#define WASI_OFLAGS_TRUNC     0x8

/* lookupflags (u32) */
#define WASI_LOOKUPFLAGS_SYMLINK_FOLLOW 0x1

/* fstflags (u16) */
#define WASI_FSTFLAGS_ATIM     0x1
#define WASI_FSTFLAGS_ATIM_NOW 0x2
#define WASI_FSTFLAGS_MTIM     0x4
#define WASI_FSTFLAGS_MTIM_NOW 0x8

/* eventtype (u8), eventrwflags (u16), subclockflags (u16) */
enum { WASI_EVENTTYPE_CLOCK = 0, WASI_EVENTTYPE_FD_READ = 1, WASI_EVENTTYPE_FD_WRITE = 2 };
#define WASI_EVENT_FD_READWRITE_HANGUP  0x1
#define WASI_SUBSCRIPTION_CLOCK_ABSTIME 0x1

/* riflags, roflags (u16), sdflags (u8) */
#define WASI_RIFLAGS_RECV_PEEK           0x1
#define WASI_RIFLAGS_RECV_WAITALL        0x2
#define WASI_ROFLAGS_RECV_DATA_TRUNCATED 0x1
#define WASI_SDFLAGS_RD                  0x1
#define WASI_SDFLAGS_WR                  0x2

/* preopentype (u8) */
#define WASI_PREOPENTYPE_DIR 0

/* rights (u64) */
#define WASI_RIGHT_FD_DATASYNC             (1ull << 0)
#define WASI_RIGHT_FD_READ                 (1ull << 1)
#define WASI_RIGHT_FD_SEEK                 (1ull << 2)
#define WASI_RIGHT_FD_FDSTAT_SET_FLAGS     (1ull << 3)
#define WASI_RIGHT_FD_SYNC                 (1ull << 4)
#define WASI_RIGHT_FD_TELL                 (1ull << 5)
#define WASI_RIGHT_FD_WRITE                (1ull << 6)
#define WASI_RIGHT_FD_ADVISE               (1ull << 7)
#define WASI_RIGHT_FD_ALLOCATE             (1ull << 8)
#define WASI_RIGHT_PATH_CREATE_DIRECTORY   (1ull << 9)
#define WASI_RIGHT_PATH_CREATE_FILE        (1ull << 10)
#define WASI_RIGHT_PATH_LINK_SOURCE        (1ull << 11)
#define WASI_RIGHT_PATH_LINK_TARGET        (1ull << 12)
#define WASI_RIGHT_PATH_OPEN               (1ull << 13)
#define WASI_RIGHT_FD_READDIR              (1ull << 14)
#define WASI_RIGHT_PATH_READLINK           (1ull << 15)
#define WASI_RIGHT_PATH_RENAME_SOURCE      (1ull << 16)
#define WASI_RIGHT_PATH_RENAME_TARGET      (1ull << 17)
#define WASI_RIGHT_PATH_FILESTAT_GET       (1ull << 18)
#define WASI_RIGHT_PATH_FILESTAT_SET_SIZE  (1ull << 19)
#define WASI_RIGHT_PATH_FILESTAT_SET_TIMES (1ull << 20)
#define WASI_RIGHT_FD_FILESTAT_GET         (1ull << 21)
#define WASI_RIGHT_FD_FILESTAT_SET_SIZE    (1ull << 22)
#define WASI_RIGHT_FD_FILESTAT_SET_TIMES   (1ull << 23)
#define WASI_RIGHT_PATH_SYMLINK            (1ull << 24)
#define WASI_RIGHT_PATH_REMOVE_DIRECTORY   (1ull << 25)
#define WASI_RIGHT_PATH_UNLINK_FILE        (1ull << 26)
#define WASI_RIGHT_POLL_FD_READWRITE       (1ull << 27)
#define WASI_RIGHT_SOCK_SHUTDOWN           (1ull << 28)
#define WASI_RIGHT_SOCK_ACCEPT             (1ull << 29)
#define WASI_RIGHTS_ALL                    ((1ull << 30) - 1)

/* Sizes of the ABI's records in guest memory (little-endian, natural alignment). */
enum {
    WASI_SIZEOF_IOVEC = 8,
    WASI_SIZEOF_FDSTAT = 24,
    WASI_SIZEOF_FILESTAT = 64,
    WASI_SIZEOF_PRESTAT = 8,
    WASI_SIZEOF_DIRENT = 24,
    WASI_SIZEOF_SUBSCRIPTION = 48,
    WASI_SIZEOF_EVENT = 32,
};

#endif
