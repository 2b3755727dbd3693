/* Unit tests for the WASI preview1 host functions (src/level/wasm/wasi*.c).
 * Functions are resolved by name and called directly, as the interpreter
 * would, on a one-page memory; a mkdtemp directory holds the preopen
 * ("root", seen as "/sandbox") and a file outside it ("secret") that no
 * path may reach. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "level/wasm/runtime.h"
#include "level/wasm/wasi.h"
#include "unit.h"

static char tmp[64]; /* the mkdtemp directory of this run */
static char *root;   /* tmp/root: the preopened directory */
static char *secret; /* tmp/secret: outside the preopen */
static struct wasm_memory *mem;
static struct wasi_ctx *ctx; /* the context the CALL macro uses */

#define PRE 3 /* wasi fd of the preopen in ctx_new's contexts without sockets */

/* ---- helpers ---------------------------------------------------------------------- */

static const char *last_trap;

static uint32_t callv(const char *name, const wasm_val *args, uint32_t n)
{
    struct wasm_extern ext;
    if (wasi_resolve(ctx, WASI_MODULE, name, &ext) != 0 || ext.kind != WASM_EXTERN_FUNC) {
        printf("#   %s does not resolve\n", name);
        unit_failed_now = 1;
        return 0xffff;
    }
    if (ext.u.func->sig->nparams != n) {
        printf("#   %s takes %u params, called with %u\n", name, ext.u.func->sig->nparams, n);
        unit_failed_now = 1;
        return 0xffff;
    }
    wasm_val sp[16];
    memset(sp, 0xAB, sizeof(sp));
    if (n > 0)
        memcpy(sp, args, n * sizeof(wasm_val));
    last_trap = ext.u.func->host(ext.u.func->host_ctx, mem, sp);
    if (last_trap != NULL && last_trap != WASM_TRAP_EXIT) {
        printf("#   %s trapped: %s\n", name, last_trap);
        unit_failed_now = 1;
    }
    return sp[0].i32;
}

#define I(x) ((wasm_val){.i64 = (uint32_t)(x)})
#define L(x) ((wasm_val){.i64 = (uint64_t)(x)})
#define ARGS(...)                                                                                  \
    (wasm_val[]){__VA_ARGS__}, (uint32_t)(sizeof((wasm_val[]){__VA_ARGS__}) / sizeof(wasm_val))
#define CALL(name, ...) callv(name, ARGS(__VA_ARGS__))
#define CALL0(name)     callv(name, NULL, 0)

/* Expect a wasi errno; print both on a mismatch. */
#define EXPECT(call, want)                                                                         \
    do {                                                                                           \
        uint32_t got_ = (call), want_ = (want);                                                    \
        if (got_ != want_) {                                                                       \
            printf("#   %s:%d: %s = %u, want %u\n", __FILE__, __LINE__, #call, got_, want_);       \
            unit_failed_now = 1;                                                                   \
        }                                                                                          \
    } while (0)

static uint32_t rd32(uint32_t p)
{
    uint32_t v;
    memcpy(&v, mem->data + p, 4);
    return v;
}
static uint64_t rd64(uint32_t p)
{
    uint64_t v;
    memcpy(&v, mem->data + p, 8);
    return v;
}
static uint16_t rd16(uint32_t p)
{
    uint16_t v;
    memcpy(&v, mem->data + p, 2);
    return v;
}
static void wr32(uint32_t p, uint32_t v)
{
    memcpy(mem->data + p, &v, 4);
}
static void wr64(uint32_t p, uint64_t v)
{
    memcpy(mem->data + p, &v, 8);
}
static void wr16(uint32_t p, uint16_t v)
{
    memcpy(mem->data + p, &v, 2);
}

/* Guest addresses used by the tests. */
enum {
    A_PATH = 0x100,  /* a path string */
    A_PATH2 = 0x300, /* a second one */
    A_IOV = 0x500,   /* iovecs */
    A_RET = 0x600,   /* results */
    A_RET2 = 0x610,
    A_STAT = 0x700, /* fdstat, filestat, prestat */
    A_BUF = 0x1000, /* data */
    A_SUBS = 0x4000,
    A_EVENTS = 0x5000,
};

/* Put s at p (no NUL); its length. */
static uint32_t put_str(uint32_t p, const char *s)
{
    size_t n = strlen(s);
    memcpy(mem->data + p, s, n);
    return (uint32_t)n;
}

/* One iovec at A_IOV for [buf, buf+len). */
static void iov1(uint32_t buf, uint32_t len)
{
    wr32(A_IOV, buf);
    wr32(A_IOV + 4, len);
}

/* A context: the given stdio and listening fds, `root` as "/sandbox". */
static struct wasi_ctx *ctx_new(int in, int out, int errfd, const int *listen, size_t nlisten)
{
    static char *argv[] = {"prog", NULL};
    struct wasi_preopen_dir dir = {.host_path = root, .guest_path = "/sandbox"};
    struct wasi_config cfg = {
        .argc = 1,
        .argv = argv,
        .stdin_fd = in,
        .stdout_fd = out,
        .stderr_fd = errfd,
        .listen_fds = listen,
        .nlisten = nlisten,
        .dirs = &dir,
        .ndirs = 1,
    };
    cerr_t err = NULL;
    struct wasi_ctx *c = wasi_new(&cfg, &err);
    if (c == NULL) {
        printf("#   wasi_new: %s\n", cerr_msg(err));
        cerr_free(&err);
        unit_failed_now = 1;
    }
    return c;
}

/* path_open relative to dirfd; the errno, the new fd in *fd. */
static uint32_t open_at(uint32_t dirfd, uint32_t lookup, const char *path, uint32_t oflags,
                        uint64_t rights, uint32_t fdflags, uint32_t *fd)
{
    uint32_t n = put_str(A_PATH, path);
    wr32(A_RET, 0xdeadbeef);
    uint32_t r = CALL("path_open", I(dirfd), I(lookup), I(A_PATH), I(n), I(oflags), L(rights),
                      L(rights), I(fdflags), I(A_RET));
    *fd = rd32(A_RET);
    return r;
}

#define RW (WASI_RIGHT_FD_READ | WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_SEEK | WASI_RIGHT_FD_TELL)
#define RO (WASI_RIGHT_FD_READ | WASI_RIGHT_FD_SEEK)

/* Write s through wasi fd; the errno, bytes written in *n. */
static uint32_t wasi_write(uint32_t fd, const char *s, uint32_t *n)
{
    uint32_t len = put_str(A_BUF, s);
    iov1(A_BUF, len);
    uint32_t r = CALL("fd_write", I(fd), I(A_IOV), I(1), I(A_RET));
    *n = rd32(A_RET);
    return r;
}

/* Read up to cap bytes through wasi fd into a NUL-terminated static string. */
static const char *wasi_read(uint32_t fd, uint32_t cap, uint32_t *err)
{
    static char out[256];
    memset(mem->data + A_BUF, 0, cap);
    iov1(A_BUF, cap);
    *err = CALL("fd_read", I(fd), I(A_IOV), I(1), I(A_RET));
    uint32_t n = rd32(A_RET);
    if (*err != 0 || n > cap || n >= sizeof(out))
        n = 0;
    memcpy(out, mem->data + A_BUF, n);
    out[n] = '\0';
    return out;
}

static char *rpath(const char *name)
{
    return xasprintf("%s/%s", root, name);
}

static void host_write(const char *name, const char *data)
{
    autofree char *p = rpath(name);
    cerr_t err = NULL;
    if (write_file(p, data, strlen(data), 0644, &err) < 0) {
        printf("#   %s\n", cerr_msg(err));
        cerr_free(&err);
        unit_failed_now = 1;
    }
}

static bool host_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* ---- tests ------------------------------------------------------------------------ */

/* Every preview1 function resolves with the witx signature (core wasm types). */
static void test_resolve(void)
{
    static const struct {
        const char *name, *params, *results;
    } want[] = {
        {"args_get", "ii", "i"},
        {"args_sizes_get", "ii", "i"},
        {"environ_get", "ii", "i"},
        {"environ_sizes_get", "ii", "i"},
        {"clock_res_get", "ii", "i"},
        {"clock_time_get", "iIi", "i"},
        {"fd_advise", "iIIi", "i"},
        {"fd_allocate", "iII", "i"},
        {"fd_close", "i", "i"},
        {"fd_datasync", "i", "i"},
        {"fd_fdstat_get", "ii", "i"},
        {"fd_fdstat_set_flags", "ii", "i"},
        {"fd_fdstat_set_rights", "iII", "i"},
        {"fd_filestat_get", "ii", "i"},
        {"fd_filestat_set_size", "iI", "i"},
        {"fd_filestat_set_times", "iIIi", "i"},
        {"fd_pread", "iiiIi", "i"},
        {"fd_prestat_get", "ii", "i"},
        {"fd_prestat_dir_name", "iii", "i"},
        {"fd_pwrite", "iiiIi", "i"},
        {"fd_read", "iiii", "i"},
        {"fd_readdir", "iiiIi", "i"},
        {"fd_renumber", "ii", "i"},
        {"fd_seek", "iIii", "i"},
        {"fd_sync", "i", "i"},
        {"fd_tell", "ii", "i"},
        {"fd_write", "iiii", "i"},
        {"path_create_directory", "iii", "i"},
        {"path_filestat_get", "iiiii", "i"},
        {"path_filestat_set_times", "iiiiIIi", "i"},
        {"path_link", "iiiiiii", "i"},
        {"path_open", "iiiiiIIii", "i"},
        {"path_readlink", "iiiiii", "i"},
        {"path_remove_directory", "iii", "i"},
        {"path_rename", "iiiiii", "i"},
        {"path_symlink", "iiiii", "i"},
        {"path_unlink_file", "iii", "i"},
        {"poll_oneoff", "iiii", "i"},
        {"proc_exit", "i", ""},
        {"proc_raise", "i", "i"},
        {"random_get", "ii", "i"},
        {"sched_yield", "", "i"},
        {"sock_accept", "iii", "i"},
        {"sock_recv", "iiiiii", "i"},
        {"sock_send", "iiiii", "i"},
        {"sock_shutdown", "ii", "i"},
    };
    ctx = ctx_new(-1, -1, -1, NULL, 0);
    if (ctx == NULL)
        return;
    for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
        struct wasm_extern ext;
        memset(&ext, 0, sizeof(ext));
        if (wasi_resolve(ctx, "wasi_snapshot_preview1", want[i].name, &ext) != 0) {
            printf("#   %s: not found\n", want[i].name);
            unit_failed_now = 1;
            continue;
        }
        CHECK(ext.kind == WASM_EXTERN_FUNC && ext.u.func != NULL && ext.u.func->host != NULL);
        char sig[32];
        snprintf(sig, sizeof(sig), "%s:%s", want[i].params, want[i].results);
        if (ext.u.func->sig != wasm_sig_parse(sig)) {
            printf("#   %s: signature is not %s\n", want[i].name, sig);
            unit_failed_now = 1;
        }
    }
    struct wasm_extern ext;
    CHECK(wasi_resolve(ctx, "wasi_snapshot_preview1", "fd_nonesuch", &ext) == -1);
    CHECK(wasi_resolve(ctx, "env", "fd_write", &ext) == -1);
    CHECK(wasi_resolve(ctx, "wasi_snapshot_preview2", "fd_write", &ext) == -1);
    wasi_free(ctx);
}

/* args and environ: the sizes, then pointers into NUL-terminated strings. */
static void test_args_environ(void)
{
    char *argv[] = {"prog", "a b", "", NULL};
    char *envp[] = {"A=1", "LONG=xyz", NULL};
    struct wasi_config cfg = {.argc = 3, .argv = argv, .envp = envp};
    cfg.stdin_fd = cfg.stdout_fd = cfg.stderr_fd = -1;
    cerr_t err = NULL;
    ctx = wasi_new(&cfg, &err);
    CHECK(ctx != NULL);
    if (ctx == NULL)
        return;
    memset(mem->data, 0, 0x1000);
    EXPECT(CALL("args_sizes_get", I(A_RET), I(A_RET2)), 0);
    CHECK(rd32(A_RET) == 3);
    CHECK(rd32(A_RET2) == 5 + 4 + 1);
    EXPECT(CALL("args_get", I(A_RET), I(A_BUF)), 0);
    CHECK(rd32(A_RET) == A_BUF);
    CHECK(rd32(A_RET + 4) == A_BUF + 5);
    CHECK(rd32(A_RET + 8) == A_BUF + 9);
    CHECK(memcmp(mem->data + A_BUF, "prog\0a b\0\0", 10) == 0);
    CHECK_STR((char *)mem->data + rd32(A_RET + 4), "a b");

    EXPECT(CALL("environ_sizes_get", I(A_RET), I(A_RET2)), 0);
    CHECK(rd32(A_RET) == 2);
    CHECK(rd32(A_RET2) == 4 + 9);
    EXPECT(CALL("environ_get", I(A_RET), I(A_BUF)), 0);
    CHECK_STR((char *)mem->data + rd32(A_RET), "A=1");
    CHECK_STR((char *)mem->data + rd32(A_RET + 4), "LONG=xyz");
    CHECK(rd32(A_RET + 4) == A_BUF + 4);

    /* The string buffer or the pointer array past the end: EFAULT. */
    uint32_t end = (uint32_t)mem->size;
    EXPECT(CALL("args_get", I(A_RET), I(end - 4)), WASI_EFAULT);
    EXPECT(CALL("args_get", I(end - 8), I(A_BUF)), WASI_EFAULT);
    EXPECT(CALL("environ_sizes_get", I(A_RET), I(end - 2)), WASI_EFAULT);
    wasi_free(ctx);

    /* No environment at all. */
    cfg.envp = NULL;
    ctx = wasi_new(&cfg, &err);
    CHECK(ctx != NULL);
    if (ctx == NULL)
        return;
    EXPECT(CALL("environ_sizes_get", I(A_RET), I(A_RET2)), 0);
    CHECK(rd32(A_RET) == 0 && rd32(A_RET2) == 0);
    wasi_free(ctx);
}

/* fd_write with two iovecs to a pipe as stdout; what stdout's fdstat says. */
static void test_fd_write_pipe(void)
{
    int p[2];
    CHECK(pipe(p) == 0);
    ctx = ctx_new(-1, p[1], -1, NULL, 0);
    close(p[1]);
    if (ctx == NULL) {
        close(p[0]);
        return;
    }
    put_str(A_BUF, "hello ");
    put_str(A_BUF + 100, "world");
    wr32(A_IOV, A_BUF);
    wr32(A_IOV + 4, 6);
    wr32(A_IOV + 8, A_BUF + 100);
    wr32(A_IOV + 12, 5);
    EXPECT(CALL("fd_write", I(1), I(A_IOV), I(2), I(A_RET)), 0);
    CHECK(rd32(A_RET) == 11);
    char got[32] = {0};
    CHECK(read(p[0], got, sizeof(got)) == 11);
    CHECK_STR(got, "hello world");

    /* A pipe: unknown filetype, no seek or tell (wasi-libc's isatty says no). */
    EXPECT(CALL("fd_fdstat_get", I(1), I(A_STAT)), 0);
    CHECK(mem->data[A_STAT] == WASI_FILETYPE_UNKNOWN);
    CHECK((rd64(A_STAT + 8) & WASI_RIGHT_FD_WRITE) != 0);
    CHECK((rd64(A_STAT + 8) & (WASI_RIGHT_FD_SEEK | WASI_RIGHT_FD_TELL)) == 0);

    /* Closed stdin and stderr, and fds never opened. */
    uint32_t n;
    EXPECT(wasi_write(2, "x", &n), WASI_EBADF);
    EXPECT(wasi_write(0, "x", &n), WASI_EBADF);
    EXPECT(wasi_write(77, "x", &n), WASI_EBADF);
    EXPECT(wasi_write(0xffffffff, "x", &n), WASI_EBADF);
    wasi_free(ctx);

    /* After wasi_free the pipe has no writer left. */
    CHECK(read(p[0], got, sizeof(got)) == 0);
    close(p[0]);
}

/* fd_read from a pipe as stdin, scattered over two iovecs; EOF is 0 bytes. */
static void test_fd_read(void)
{
    int p[2];
    CHECK(pipe(p) == 0);
    ctx = ctx_new(p[0], -1, -1, NULL, 0);
    close(p[0]);
    if (ctx == NULL) {
        close(p[1]);
        return;
    }
    CHECK(write(p[1], "abcdef", 6) == 6);
    close(p[1]);
    memset(mem->data + A_BUF, 0, 16);
    wr32(A_IOV, A_BUF);
    wr32(A_IOV + 4, 2);
    wr32(A_IOV + 8, A_BUF + 8);
    wr32(A_IOV + 12, 8);
    EXPECT(CALL("fd_read", I(0), I(A_IOV), I(2), I(A_RET)), 0);
    CHECK(rd32(A_RET) == 6);
    CHECK(memcmp(mem->data + A_BUF, "ab", 2) == 0);
    CHECK(memcmp(mem->data + A_BUF + 8, "cdef", 4) == 0);
    uint32_t r;
    CHECK_STR(wasi_read(0, 8, &r), "");
    CHECK(r == 0 && rd32(A_RET) == 0);
    wasi_free(ctx);
}

/* path_open: create, write, read back, O_EXCL, O_TRUNC, O_APPEND, a directory. */
static void test_path_open(void)
{
    ctx = ctx_new(-1, -1, -1, NULL, 0);
    if (ctx == NULL)
        return;
    uint32_t fd, n, r;
    EXPECT(open_at(PRE, 0, "new.txt", 0, RW, 0, &fd), WASI_ENOENT);
    EXPECT(open_at(PRE, 0, "new.txt", WASI_OFLAGS_CREAT, RW, 0, &fd), 0);
    CHECK(fd > PRE);
    EXPECT(wasi_write(fd, "contents", &n), 0);
    CHECK(n == 8);
    EXPECT(CALL("fd_close", I(fd)), 0);
    EXPECT(CALL("fd_close", I(fd)), WASI_EBADF);
    autofree char *p = rpath("new.txt");
    char *s = read_file(p, NULL, NULL);
    CHECK_STR(s, "contents");
    free(s);

    EXPECT(open_at(PRE, 0, "new.txt", WASI_OFLAGS_CREAT | WASI_OFLAGS_EXCL, RW, 0, &fd),
           WASI_EEXIST);
    EXPECT(open_at(PRE, 0, "new.txt", 0, RO, 0, &fd), 0);
    CHECK_STR(wasi_read(fd, 100, &r), "contents");
    /* Read-only: a write fails. */
    CHECK(wasi_write(fd, "x", &n) == WASI_EBADF);
    EXPECT(CALL("fd_fdstat_get", I(fd), I(A_STAT)), 0);
    CHECK(mem->data[A_STAT] == WASI_FILETYPE_REGULAR_FILE);
    CHECK(rd64(A_STAT + 8) == RO);
    CALL("fd_close", I(fd));

    EXPECT(open_at(PRE, 0, "new.txt", 0, RW, WASI_FDFLAGS_APPEND, &fd), 0);
    EXPECT(wasi_write(fd, "+more", &n), 0);
    EXPECT(CALL("fd_fdstat_get", I(fd), I(A_STAT)), 0);
    CHECK(rd16(A_STAT + 2) == WASI_FDFLAGS_APPEND);
    CALL("fd_close", I(fd));
    s = read_file(p, NULL, NULL);
    CHECK_STR(s, "contents+more");
    free(s);

    EXPECT(open_at(PRE, 0, "new.txt", WASI_OFLAGS_TRUNC, RW, 0, &fd), 0);
    CALL("fd_close", I(fd));
    s = read_file(p, NULL, NULL);
    CHECK_STR(s, "");
    free(s);

    /* Directories: O_DIRECTORY, or all rights asked of one; not a file. */
    autofree char *subp = rpath("sub"), *innerp = rpath("sub/inner");
    CHECK(mkdir(subp, 0755) == 0);
    EXPECT(open_at(PRE, 0, "sub", WASI_OFLAGS_DIRECTORY, WASI_RIGHTS_ALL, 0, &fd), 0);
    EXPECT(CALL("fd_fdstat_get", I(fd), I(A_STAT)), 0);
    CHECK(mem->data[A_STAT] == WASI_FILETYPE_DIRECTORY);
    uint32_t sub = fd;
    EXPECT(open_at(sub, 0, "inner", WASI_OFLAGS_CREAT, RW, 0, &fd), 0);
    CALL("fd_close", I(fd));
    CHECK(host_exists(innerp));
    EXPECT(open_at(PRE, 0, "sub", 0, WASI_RIGHTS_ALL, 0, &fd), 0);
    CALL("fd_close", I(fd));
    EXPECT(open_at(PRE, 0, "new.txt", WASI_OFLAGS_DIRECTORY, RO, 0, &fd), WASI_ENOTDIR);
    EXPECT(open_at(PRE, 0, "sub/inner/", 0, RO, 0, &fd), WASI_ENOTDIR);
    /* path_* on something that is not a directory. */
    EXPECT(open_at(PRE, 0, "new.txt", 0, RO, 0, &fd), 0);
    EXPECT(open_at(fd, 0, "x", WASI_OFLAGS_CREAT, RW, 0, &r), WASI_ENOTDIR);
    CALL("fd_close", I(fd));
    /* Bad flags; the empty path. */
    EXPECT(open_at(PRE, 0, "new.txt", 0x10, RW, 0, &fd), WASI_EINVAL);
    EXPECT(open_at(PRE, 0, "new.txt", 0, RW, 0x20, &fd), WASI_EINVAL);
    EXPECT(open_at(PRE, 0, "", 0, RW, 0, &fd), WASI_ENOENT);
    CALL("fd_close", I(sub));
    wasi_free(ctx);
}

/* Nothing outside the preopen is reachable: "..", absolute paths, symlinks
 * (absolute, climbing, chained, in the middle or at the end of a path). */
static void test_escapes(void)
{
    ctx = ctx_new(-1, -1, -1, NULL, 0);
    if (ctx == NULL)
        return;
    autofree char *up = rpath("up"), *abs = rpath("abs"), *c1 = rpath("c1"), *c2 = rpath("c2");
    autofree char *d = rpath("d"), *inner = rpath("d/in"), *ok = rpath("ok");
    CHECK(symlink("../..", up) == 0);
    CHECK(symlink("/", abs) == 0);
    CHECK(symlink("c2", c1) == 0);
    CHECK(symlink("d/../../secret", c2) == 0);
    CHECK(mkdir(d, 0755) == 0);
    CHECK(symlink("../../secret", inner) == 0);
    CHECK(symlink("d", ok) == 0); /* a symlink that stays inside */
    host_write("d/file", "inside");

    uint32_t fd, r;
    const uint32_t F = WASI_LOOKUPFLAGS_SYMLINK_FOLLOW;
    static const char *const bad[] = {
        "../secret",
        "/etc/passwd",
        "/",
        "..",
        "d/../../secret",
        "up/secret",
        "up/",
        "abs/etc/passwd",
        "abs",
        "abs/",
        "c1",
        "d/in",
        "ok/in",
        "ok/../../secret",
        "d/../..",
        "./../secret",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        r = open_at(PRE, F, bad[i], 0, RO, 0, &fd);
        if (r != WASI_ENOTCAPABLE) {
            printf("#   path_open(%s) = %u\n", bad[i], r);
            unit_failed_now = 1;
            if (r == 0)
                CALL("fd_close", I(fd));
        }
        uint32_t n = put_str(A_PATH, bad[i]);
        r = CALL("path_filestat_get", I(PRE), I(F), I(A_PATH), I(n), I(A_STAT));
        if (r != WASI_ENOTCAPABLE) {
            printf("#   path_filestat_get(%s) = %u\n", bad[i], r);
            unit_failed_now = 1;
        }
    }
    /* Creating through an escaping symlink is refused too, and makes nothing. */
    EXPECT(open_at(PRE, F, "c1", WASI_OFLAGS_CREAT, RW, 0, &fd), WASI_ENOTCAPABLE);
    EXPECT(open_at(PRE, F, "up/created", WASI_OFLAGS_CREAT, RW, 0, &fd), WASI_ENOTCAPABLE);
    autofree char *created = xasprintf("%s/created", tmp);
    CHECK(!host_exists(created));
    /* Not following: the last symlink itself is refused (ELOOP) or stat'ed. */
    EXPECT(open_at(PRE, 0, "c1", 0, RO, 0, &fd), WASI_ELOOP);
    uint32_t n = put_str(A_PATH, "c1");
    EXPECT(CALL("path_filestat_get", I(PRE), I(0), I(A_PATH), I(n), I(A_STAT)), 0);
    CHECK(mem->data[A_STAT + 16] == WASI_FILETYPE_SYMBOLIC_LINK);
    /* A trailing slash follows, even without SYMLINK_FOLLOW. */
    n = put_str(A_PATH, "abs/");
    EXPECT(CALL("path_filestat_get", I(PRE), I(0), I(A_PATH), I(n), I(A_STAT)), WASI_ENOTCAPABLE);
    n = put_str(A_PATH, "c1");
    EXPECT(CALL("path_filestat_set_times", I(PRE), I(F), I(A_PATH), I(n), L(0), L(0),
                I(WASI_FSTFLAGS_MTIM_NOW)),
           WASI_ENOTCAPABLE);
    /* Symlinks that stay inside work. */
    EXPECT(open_at(PRE, F, "ok/file", 0, RO, 0, &fd), 0);
    CHECK_STR(wasi_read(fd, 64, &r), "inside");
    CALL("fd_close", I(fd));
    EXPECT(open_at(PRE, F, "d/../ok/./file", 0, RO, 0, &fd), 0);
    CALL("fd_close", I(fd));

    /* The other path functions. */
    n = put_str(A_PATH, "../secret");
    EXPECT(CALL("path_unlink_file", I(PRE), I(A_PATH), I(n)), WASI_ENOTCAPABLE);
    CHECK(host_exists(secret));
    n = put_str(A_PATH, "up/secret");
    EXPECT(CALL("path_unlink_file", I(PRE), I(A_PATH), I(n)), WASI_ENOTCAPABLE);
    CHECK(host_exists(secret));
    n = put_str(A_PATH, "../newdir");
    EXPECT(CALL("path_create_directory", I(PRE), I(A_PATH), I(n)), WASI_ENOTCAPABLE);
    n = put_str(A_PATH, "/tmp");
    EXPECT(CALL("path_remove_directory", I(PRE), I(A_PATH), I(n)), WASI_ENOTCAPABLE);
    uint32_t n1 = put_str(A_PATH, "d/file"), n2 = put_str(A_PATH2, "../moved");
    EXPECT(CALL("path_rename", I(PRE), I(A_PATH), I(n1), I(PRE), I(A_PATH2), I(n2)),
           WASI_ENOTCAPABLE);
    n1 = put_str(A_PATH, "up/secret");
    n2 = put_str(A_PATH2, "stolen");
    EXPECT(CALL("path_rename", I(PRE), I(A_PATH), I(n1), I(PRE), I(A_PATH2), I(n2)),
           WASI_ENOTCAPABLE);
    EXPECT(CALL("path_link", I(PRE), I(0), I(A_PATH), I(n1), I(PRE), I(A_PATH2), I(n2)),
           WASI_ENOTCAPABLE);
    n1 = put_str(A_PATH, "c1");
    EXPECT(CALL("path_link", I(PRE), I(F), I(A_PATH), I(n1), I(PRE), I(A_PATH2), I(n2)),
           WASI_ENOTCAPABLE);
    n1 = put_str(A_PATH, "/etc/passwd");
    n2 = put_str(A_PATH2, "pw");
    EXPECT(CALL("path_symlink", I(A_PATH), I(n1), I(PRE), I(A_PATH2), I(n2)), WASI_ENOTCAPABLE);
    n1 = put_str(A_PATH, "x");
    n2 = put_str(A_PATH2, "../pw");
    EXPECT(CALL("path_symlink", I(A_PATH), I(n1), I(PRE), I(A_PATH2), I(n2)), WASI_ENOTCAPABLE);
    autofree char *stolen = rpath("stolen"), *pw = xasprintf("%s/pw", tmp);
    CHECK(!host_exists(stolen) && !host_exists(pw));
    /* Reading a link's text is fine, also of one that points out. */
    n = put_str(A_PATH, "up");
    EXPECT(CALL("path_readlink", I(PRE), I(A_PATH), I(n), I(A_BUF), I(64), I(A_RET)), 0);
    CHECK(rd32(A_RET) == 5 && memcmp(mem->data + A_BUF, "../..", 5) == 0);
    /* A NUL inside a path. */
    memcpy(mem->data + A_PATH, "d\0x", 3);
    EXPECT(CALL("path_create_directory", I(PRE), I(A_PATH), I(3)), WASI_EINVAL);
    wasi_free(ctx);

    /* A symlink loop. */
    ctx = ctx_new(-1, -1, -1, NULL, 0);
    if (ctx == NULL)
        return;
    autofree char *l1 = rpath("l1"), *l2 = rpath("l2");
    CHECK(symlink("l2", l1) == 0 && symlink("l1", l2) == 0);
    EXPECT(open_at(PRE, F, "l1", 0, RO, 0, &fd), WASI_ELOOP);
    n = put_str(A_PATH, "l1");
    EXPECT(CALL("path_filestat_get", I(PRE), I(F), I(A_PATH), I(n), I(A_STAT)), WASI_ELOOP);
    wasi_free(ctx);
}

/* Parse the dirents of buf[0, used): names (complete entries only) appended
 * to `names`, the d_next of the last complete one in *next. */
static int parse_dirents(uint32_t used, char *names, size_t cap, uint64_t *next, int *bad)
{
    uint32_t off = 0;
    int count = 0;
    while (off + WASI_SIZEOF_DIRENT <= used) {
        uint64_t d_next = rd64(A_BUF + off);
        uint32_t namlen = rd32(A_BUF + off + 16);
        uint8_t type = mem->data[A_BUF + off + 20];
        if (off + WASI_SIZEOF_DIRENT + namlen > used)
            break;
        char name[256] = {0};
        memcpy(name, mem->data + A_BUF + off + WASI_SIZEOF_DIRENT, namlen);
        if (d_next != *next + 1)
            *bad = 1;
        *next = d_next;
        bool is_dir = strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
        if (type != (is_dir ? WASI_FILETYPE_DIRECTORY : WASI_FILETYPE_REGULAR_FILE))
            *bad = 1;
        if (strlen(names) + namlen + 2 < cap) {
            strcat(names, name);
            strcat(names, "/");
        }
        off += WASI_SIZEOF_DIRENT + namlen;
        count++;
    }
    return count;
}

/* Sorted "a/b/c/" of the names in s. */
static char *sorted(const char *s)
{
    char *parts[64];
    int n = 0;
    char *copy = xstrdup(s), *save = NULL;
    for (char *t = strtok_r(copy, "/", &save); t && n < 64; t = strtok_r(NULL, "/", &save))
        parts[n++] = t;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (strcmp(parts[i], parts[j]) > 0) {
                char *x = parts[i];
                parts[i] = parts[j];
                parts[j] = x;
            }
    char *out = calloc(1, strlen(s) + 2);
    for (int i = 0; i < n; i++) {
        strcat(out, parts[i]);
        strcat(out, "/");
    }
    free(copy);
    return out;
}

/* fd_readdir: the whole listing at once; then in small buffers, each filled
 * to the last byte, continued from the cookie of the last whole entry. */
static void test_readdir(void)
{
    autofree char *d = rpath("list");
    CHECK(mkdir(d, 0755) == 0);
    host_write("list/a", "");
    host_write("list/bb", "");
    host_write("list/ccccccccccccccccccccc", "");
    ctx = ctx_new(-1, -1, -1, NULL, 0);
    if (ctx == NULL)
        return;
    uint32_t fd;
    EXPECT(open_at(PRE, 0, "list", WASI_OFLAGS_DIRECTORY, WASI_RIGHT_FD_READDIR, 0, &fd), 0);
    const char *want = "./../a/bb/ccccccccccccccccccccc/";

    EXPECT(CALL("fd_readdir", I(fd), I(A_BUF), I(4096), L(0), I(A_RET)), 0);
    uint32_t used = rd32(A_RET);
    CHECK(used == 5 * 24 + strlen(want) - 5);
    char names[512] = {0};
    uint64_t next = 0;
    int bad = 0;
    CHECK(parse_dirents(used, names, sizeof(names), &next, &bad) == 5);
    CHECK(!bad);
    autofree char *s1 = sorted(names);
    CHECK_STR(s1, want);
    /* At the end: nothing more. */
    EXPECT(CALL("fd_readdir", I(fd), I(A_BUF), I(4096), L(next), I(A_RET)), 0);
    CHECK(rd32(A_RET) == 0);
    /* Back to an earlier cookie: the entries from there on. */
    EXPECT(CALL("fd_readdir", I(fd), I(A_BUF), I(4096), L(2), I(A_RET)), 0);
    memset(names, 0, sizeof(names));
    next = 2;
    CHECK(parse_dirents(rd32(A_RET), names, sizeof(names), &next, &bad) == 3);
    CHECK(!bad);

    /* 48 bytes at a time: one whole entry and the start of the next. */
    memset(names, 0, sizeof(names));
    next = 0;
    int calls = 0, total = 0;
    for (;;) {
        memset(mem->data + A_BUF, 0xee, 64);
        EXPECT(CALL("fd_readdir", I(fd), I(A_BUF), I(48), L(next), I(A_RET)), 0);
        used = rd32(A_RET);
        CHECK(mem->data[A_BUF + 48] == 0xee); /* nothing past the buffer */
        int got = parse_dirents(used, names, sizeof(names), &next, &bad);
        CHECK(got == 1 || used < 48);
        total += got;
        if (++calls > 20 || used < 48)
            break;
    }
    CHECK(total == 5 && !bad);
    autofree char *s2 = sorted(names);
    CHECK_STR(s2, want);

    /* A buffer smaller than a header: filled with the header's start. */
    EXPECT(CALL("fd_readdir", I(fd), I(A_BUF), I(10), L(0), I(A_RET)), 0);
    CHECK(rd32(A_RET) == 10 && rd64(A_BUF) == 1);
    /* A cookie from the middle gives the rest. */
    EXPECT(CALL("fd_readdir", I(fd), I(A_BUF), I(4096), L(3), I(A_RET)), 0);
    memset(names, 0, sizeof(names));
    next = 3;
    CHECK(parse_dirents(rd32(A_RET), names, sizeof(names), &next, &bad) == 2);
    /* The preopen itself (an O_PATH fd) can be listed; a file cannot. */
    EXPECT(CALL("fd_readdir", I(PRE), I(A_BUF), I(4096), L(0), I(A_RET)), 0);
    CHECK(rd32(A_RET) > 0);
    uint32_t f;
    EXPECT(open_at(fd, 0, "a", 0, RO, 0, &f), 0);
    EXPECT(CALL("fd_readdir", I(f), I(A_BUF), I(4096), L(0), I(A_RET)), WASI_ENOTDIR);
    EXPECT(CALL("fd_readdir", I(fd), I((uint32_t)mem->size - 8), I(16), L(0), I(A_RET)),
           WASI_EFAULT);
    wasi_free(ctx);
}

/* fd_prestat_get / fd_prestat_dir_name; the dirs come first, then the sockets. */
static void test_prestat(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(s >= 0);
    ctx = ctx_new(-1, -1, -1, &s, 1);
    close(s);
    if (ctx == NULL)
        return;
    EXPECT(CALL("fd_prestat_get", I(4), I(A_STAT)), WASI_EBADF); /* the socket */
    memset(mem->data + A_STAT, 0xff, 8);
    EXPECT(CALL("fd_prestat_get", I(3), I(A_STAT)), 0);
    CHECK(mem->data[A_STAT] == WASI_PREOPENTYPE_DIR);
    CHECK(rd32(A_STAT + 4) == strlen("/sandbox"));
    memset(mem->data + A_BUF, 0, 16);
    EXPECT(CALL("fd_prestat_dir_name", I(3), I(A_BUF), I(8)), 0);
    CHECK(memcmp(mem->data + A_BUF, "/sandbox", 8) == 0 && mem->data[A_BUF + 8] == 0);
    EXPECT(CALL("fd_prestat_dir_name", I(3), I(A_BUF), I(3)), WASI_ENAMETOOLONG);
    EXPECT(CALL("fd_prestat_get", I(0), I(A_STAT)), WASI_EBADF);
    EXPECT(CALL("fd_prestat_get", I(5), I(A_STAT)), WASI_EBADF);
    EXPECT(CALL("fd_prestat_get", I(3), I((uint32_t)mem->size - 4)), WASI_EFAULT);
    EXPECT(CALL("fd_prestat_dir_name", I(3), I((uint32_t)mem->size - 4), I(8)), WASI_EFAULT);
    /* The preopen's fdstat: a directory that can open files. */
    EXPECT(CALL("fd_fdstat_get", I(3), I(A_STAT)), 0);
    CHECK(mem->data[A_STAT] == WASI_FILETYPE_DIRECTORY);
    CHECK((rd64(A_STAT + 8) & WASI_RIGHT_PATH_OPEN) != 0);
    CHECK((rd64(A_STAT + 16) & WASI_RIGHT_FD_READ) != 0);
    /* Closing a preopen is allowed; afterwards it is gone. */
    EXPECT(CALL("fd_close", I(3)), 0);
    EXPECT(CALL("fd_prestat_get", I(3), I(A_STAT)), WASI_EBADF);
    wasi_free(ctx);
}

/* fd_seek (set, cur, end), fd_tell, fd_pread / fd_pwrite leave the offset. */
static void test_seek_tell(void)
{
    int p[2];
    CHECK(pipe(p) == 0);
    ctx = ctx_new(p[0], -1, -1, NULL, 0);
    close(p[0]);
    close(p[1]);
    if (ctx == NULL)
        return;
    uint32_t fd, n, r;
    EXPECT(open_at(PRE, 0, "seek", WASI_OFLAGS_CREAT, RW, 0, &fd), 0);
    EXPECT(wasi_write(fd, "0123456789", &n), 0);
    EXPECT(CALL("fd_tell", I(fd), I(A_RET)), 0);
    CHECK(rd64(A_RET) == 10);
    EXPECT(CALL("fd_seek", I(fd), L(2), I(WASI_WHENCE_SET), I(A_RET)), 0);
    CHECK(rd64(A_RET) == 2);
    EXPECT(CALL("fd_seek", I(fd), L(3), I(WASI_WHENCE_CUR), I(A_RET)), 0);
    CHECK(rd64(A_RET) == 5);
    EXPECT(CALL("fd_seek", I(fd), L(-1), I(WASI_WHENCE_END), I(A_RET)), 0);
    CHECK(rd64(A_RET) == 9);
    CHECK_STR(wasi_read(fd, 5, &r), "9");
    EXPECT(CALL("fd_seek", I(fd), L(-100), I(WASI_WHENCE_CUR), I(A_RET)), WASI_EINVAL);
    EXPECT(CALL("fd_seek", I(fd), L(0), I(3), I(A_RET)), WASI_EINVAL);
    EXPECT(CALL("fd_seek", I(0), L(0), I(WASI_WHENCE_CUR), I(A_RET)), WASI_ESPIPE);
    EXPECT(CALL("fd_seek", I(fd), L(0), I(0), I((uint32_t)mem->size - 4)), WASI_EFAULT);

    /* pread / pwrite at an offset; the position stays at 10. */
    put_str(A_BUF, "AB");
    iov1(A_BUF, 2);
    EXPECT(CALL("fd_pwrite", I(fd), I(A_IOV), I(1), L(4), I(A_RET)), 0);
    CHECK(rd32(A_RET) == 2);
    iov1(A_BUF, 6);
    EXPECT(CALL("fd_pread", I(fd), I(A_IOV), I(1), L(2), I(A_RET)), 0);
    CHECK(rd32(A_RET) == 6 && memcmp(mem->data + A_BUF, "23AB67", 6) == 0);
    EXPECT(CALL("fd_tell", I(fd), I(A_RET)), 0);
    CHECK(rd64(A_RET) == 10);
    EXPECT(CALL("fd_pread", I(fd), I(A_IOV), I(1), L(UINT64_MAX), I(A_RET)), WASI_EINVAL);
    /* Advice and allocation. */
    EXPECT(CALL("fd_advise", I(fd), L(0), L(10), I(WASI_ADVICE_SEQUENTIAL)), 0);
    EXPECT(CALL("fd_advise", I(fd), L(0), L(10), I(6)), WASI_EINVAL);
    EXPECT(CALL("fd_allocate", I(fd), L(0), L(100)), 0);
    EXPECT(CALL("fd_filestat_get", I(fd), I(A_STAT)), 0);
    CHECK(rd64(A_STAT + 32) == 100);
    EXPECT(CALL("fd_sync", I(fd)), 0);
    EXPECT(CALL("fd_datasync", I(fd)), 0);
    EXPECT(CALL("fd_sync", I(PRE)), 0);
    wasi_free(ctx);
}

/* fd_filestat_get / path_filestat_get and setting sizes and times. */
static void test_filestat(void)
{
    ctx = ctx_new(-1, -1, -1, NULL, 0);
    if (ctx == NULL)
        return;
    host_write("st", "12345");
    uint32_t fd;
    EXPECT(open_at(PRE, 0, "st", 0, RW, 0, &fd), 0);
    memset(mem->data + A_STAT, 0xff, 64);
    EXPECT(CALL("fd_filestat_get", I(fd), I(A_STAT)), 0);
    autofree char *p = rpath("st");
    struct stat st;
    CHECK(stat(p, &st) == 0);
    CHECK(rd64(A_STAT) == st.st_dev);
    CHECK(rd64(A_STAT + 8) == st.st_ino);
    CHECK(mem->data[A_STAT + 16] == WASI_FILETYPE_REGULAR_FILE);
    CHECK(mem->data[A_STAT + 17] == 0); /* padding cleared */
    CHECK(rd64(A_STAT + 24) == 1);
    CHECK(rd64(A_STAT + 32) == 5);
    CHECK(rd64(A_STAT + 48) == (uint64_t)st.st_mtim.tv_sec * 1000000000u + st.st_mtim.tv_nsec);

    EXPECT(CALL("fd_filestat_set_size", I(fd), L(2)), 0);
    CHECK(stat(p, &st) == 0 && st.st_size == 2);
    EXPECT(CALL("fd_filestat_set_times", I(fd), L(1000000000ull * 1000 + 5), L(2000000000ull),
                I(WASI_FSTFLAGS_ATIM | WASI_FSTFLAGS_MTIM)),
           0);
    CHECK(stat(p, &st) == 0);
    CHECK(st.st_atim.tv_sec == 1000 && st.st_atim.tv_nsec == 5);
    CHECK(st.st_mtim.tv_sec == 2);
    EXPECT(CALL("fd_filestat_set_times", I(fd), L(0), L(0),
                I(WASI_FSTFLAGS_ATIM | WASI_FSTFLAGS_ATIM_NOW)),
           WASI_EINVAL);
    /* Only mtime: atime stays. */
    EXPECT(CALL("fd_filestat_set_times", I(fd), L(0), L(7000000000ull), I(WASI_FSTFLAGS_MTIM)), 0);
    CHECK(stat(p, &st) == 0 && st.st_atim.tv_sec == 1000 && st.st_mtim.tv_sec == 7);
    CALL("fd_close", I(fd));

    uint32_t n = put_str(A_PATH, "st");
    EXPECT(CALL("path_filestat_set_times", I(PRE), I(0), I(A_PATH), I(n), L(0), L(3000000000ull),
                I(WASI_FSTFLAGS_MTIM)),
           0);
    CHECK(stat(p, &st) == 0 && st.st_mtim.tv_sec == 3);
    EXPECT(CALL("path_filestat_get", I(PRE), I(0), I(A_PATH), I(n), I(A_STAT)), 0);
    CHECK(rd64(A_STAT + 32) == 2 && rd64(A_STAT + 48) == 3000000000ull);
    n = put_str(A_PATH, "st/");
    EXPECT(CALL("path_filestat_get", I(PRE), I(0), I(A_PATH), I(n), I(A_STAT)), WASI_ENOTDIR);
    n = put_str(A_PATH, ".");
    EXPECT(CALL("path_filestat_get", I(PRE), I(0), I(A_PATH), I(n), I(A_STAT)), 0);
    CHECK(mem->data[A_STAT + 16] == WASI_FILETYPE_DIRECTORY);
    EXPECT(CALL("fd_filestat_get", I(PRE), I(A_STAT)), 0);
    CHECK(mem->data[A_STAT + 16] == WASI_FILETYPE_DIRECTORY);
    n = put_str(A_PATH, "nothing");
    EXPECT(CALL("path_filestat_get", I(PRE), I(0), I(A_PATH), I(n), I(A_STAT)), WASI_ENOENT);
    /* The preopen's own times ("." of an O_PATH fd). */
    EXPECT(CALL("fd_filestat_set_times", I(PRE), L(0), L(4000000000ull), I(WASI_FSTFLAGS_MTIM)), 0);
    CHECK(stat(root, &st) == 0 && st.st_mtim.tv_sec == 4);
    wasi_free(ctx);
}

/* mkdir, rmdir, rename, unlink, link, symlink, readlink: results and errors. */
static void test_dirops(void)
{
    ctx = ctx_new(-1, -1, -1, NULL, 0);
    if (ctx == NULL)
        return;
    uint32_t n, n2;
#define P1(s) I(A_PATH), I(n = put_str(A_PATH, s))
#define P2(s) I(A_PATH2), I(n2 = put_str(A_PATH2, s))
    autofree char *m = rpath("m"), *mf = rpath("m/f"), *g = rpath("g"), *h = rpath("h");
    EXPECT(CALL("path_create_directory", I(PRE), P1("m")), 0);
    struct stat st;
    CHECK(stat(m, &st) == 0 && S_ISDIR(st.st_mode));
    EXPECT(CALL("path_create_directory", I(PRE), P1("m")), WASI_EEXIST);
    EXPECT(CALL("path_create_directory", I(PRE), P1("m/x/")), 0);
    EXPECT(CALL("path_remove_directory", I(PRE), P1("m/x/")), 0);
    host_write("m/f", "data");
    EXPECT(CALL("path_remove_directory", I(PRE), P1("m")), WASI_ENOTEMPTY);
    EXPECT(CALL("path_remove_directory", I(PRE), P1("m/f")), WASI_ENOTDIR);
    EXPECT(CALL("path_unlink_file", I(PRE), P1("m")), WASI_EISDIR);
    EXPECT(CALL("path_unlink_file", I(PRE), P1("m/f/")), WASI_ENOTDIR);
    EXPECT(CALL("path_remove_directory", I(PRE), P1(".")), WASI_EINVAL);

    EXPECT(CALL("path_rename", I(PRE), P1("m/f"), I(PRE), P2("g")), 0);
    CHECK(!host_exists(mf) && host_exists(g));
    EXPECT(CALL("path_rename", I(PRE), P1("g"), I(PRE), P2("h/")), WASI_ENOTDIR);
    EXPECT(CALL("path_rename", I(PRE), P1("nothing"), I(PRE), P2("h")), WASI_ENOENT);
    EXPECT(CALL("path_link", I(PRE), I(0), P1("g"), I(PRE), P2("h")), 0);
    CHECK(stat(g, &st) == 0 && st.st_nlink == 2);
    EXPECT(CALL("path_link", I(PRE), I(0), P1("g"), I(PRE), P2("h")), WASI_EEXIST);
    EXPECT(CALL("path_unlink_file", I(PRE), P1("h")), 0);
    CHECK(!host_exists(h));
    EXPECT(CALL("path_unlink_file", I(PRE), P1("h")), WASI_ENOENT);
    EXPECT(CALL("path_remove_directory", I(PRE), P1("m")), 0);
    CHECK(!host_exists(m));

    /* symlink + readlink (truncated to the buffer); link through SYMLINK_FOLLOW. */
    EXPECT(CALL("path_symlink", P1("g"), I(PRE), P2("sl")), 0);
    EXPECT(CALL("path_symlink", P1("g"), I(PRE), P2("sl")), WASI_EEXIST);
    EXPECT(CALL("path_readlink", I(PRE), P2("sl"), I(A_BUF), I(64), I(A_RET)), 0);
    CHECK(rd32(A_RET) == 1 && mem->data[A_BUF] == 'g');
    EXPECT(CALL("path_readlink", I(PRE), P2("g"), I(A_BUF), I(64), I(A_RET)), WASI_EINVAL);
    EXPECT(CALL("path_symlink", P1("longer-target"), I(PRE), P2("sl2")), 0);
    EXPECT(CALL("path_readlink", I(PRE), P2("sl2"), I(A_BUF), I(4), I(A_RET)), 0);
    CHECK(rd32(A_RET) == 4 && memcmp(mem->data + A_BUF, "long", 4) == 0);
    EXPECT(CALL("path_link", I(PRE), I(WASI_LOOKUPFLAGS_SYMLINK_FOLLOW), P1("sl"), I(PRE), P2("h")),
           0);
    CHECK(lstat(h, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 2);
    EXPECT(CALL("path_unlink_file", I(PRE), P1("sl")), 0); /* the link, not g */
    CHECK(host_exists(g));
    EXPECT(CALL("path_unlink_file", I(PRE), P1("h")), 0);
    EXPECT(CALL("path_unlink_file", I(PRE), P1("sl2")), 0);
    EXPECT(CALL("path_unlink_file", I(PRE), P1("g")), 0);
    /* A path longer than PATH_MAX; a path outside memory. */
    EXPECT(CALL("path_create_directory", I(PRE), I(0), I(5000)), WASI_ENAMETOOLONG);
    EXPECT(CALL("path_create_directory", I(PRE), I((uint32_t)mem->size - 2), I(3)), WASI_EFAULT);
#undef P1
#undef P2
    wasi_free(ctx);
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A clock subscription i at A_SUBS. */
static void sub_clock(uint32_t i, uint64_t userdata, uint32_t clock, uint64_t timeout,
                      uint16_t flags)
{
    uint32_t p = A_SUBS + i * WASI_SIZEOF_SUBSCRIPTION;
    memset(mem->data + p, 0, WASI_SIZEOF_SUBSCRIPTION);
    wr64(p, userdata);
    mem->data[p + 8] = WASI_EVENTTYPE_CLOCK;
    wr32(p + 16, clock);
    wr64(p + 24, timeout);
    wr16(p + 40, flags);
}

static void sub_fd(uint32_t i, uint64_t userdata, uint8_t type, uint32_t fd)
{
    uint32_t p = A_SUBS + i * WASI_SIZEOF_SUBSCRIPTION;
    memset(mem->data + p, 0, WASI_SIZEOF_SUBSCRIPTION);
    wr64(p, userdata);
    mem->data[p + 8] = type;
    wr32(p + 16, fd);
}

/* poll_oneoff with clocks: relative and absolute timeouts, the nearest wins. */
static void test_poll_clock(void)
{
    ctx = ctx_new(-1, -1, -1, NULL, 0);
    if (ctx == NULL)
        return;
    EXPECT(CALL("poll_oneoff", I(A_SUBS), I(A_EVENTS), I(0), I(A_RET)), WASI_EINVAL);

    sub_clock(0, 0x1111, WASI_CLOCK_MONOTONIC, 20000000, 0);
    uint64_t t0 = mono_ns();
    EXPECT(CALL("poll_oneoff", I(A_SUBS), I(A_EVENTS), I(1), I(A_RET)), 0);
    uint64_t dt = mono_ns() - t0;
    CHECK(dt >= 20000000 && dt < 2000000000);
    CHECK(rd32(A_RET) == 1);
    CHECK(rd64(A_EVENTS) == 0x1111);
    CHECK(rd16(A_EVENTS + 8) == 0);
    CHECK(mem->data[A_EVENTS + 10] == WASI_EVENTTYPE_CLOCK);

    /* Absolute on the realtime clock (10ms from now) beats a 5s relative one. */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t abs = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec + 10000000;
    sub_clock(0, 1, WASI_CLOCK_MONOTONIC, 5000000000ull, 0);
    sub_clock(1, 2, WASI_CLOCK_REALTIME, abs, WASI_SUBSCRIPTION_CLOCK_ABSTIME);
    t0 = mono_ns();
    EXPECT(CALL("poll_oneoff", I(A_SUBS), I(A_EVENTS), I(2), I(A_RET)), 0);
    dt = mono_ns() - t0;
    CHECK(dt < 2000000000);
    CHECK(rd32(A_RET) == 1 && rd64(A_EVENTS) == 2);
    /* An absolute time in the past fires at once; an unknown clock is an error event. */
    sub_clock(0, 3, WASI_CLOCK_MONOTONIC, 1, WASI_SUBSCRIPTION_CLOCK_ABSTIME);
    sub_clock(1, 4, 99, 1, 0);
    EXPECT(CALL("poll_oneoff", I(A_SUBS), I(A_EVENTS), I(2), I(A_RET)), 0);
    CHECK(rd32(A_RET) == 2);
    CHECK(rd64(A_EVENTS) == 3 && rd16(A_EVENTS + 8) == 0);
    CHECK(rd64(A_EVENTS + 32) == 4 && rd16(A_EVENTS + 40) == WASI_EINVAL);
    /* Out of memory ranges. */
    EXPECT(CALL("poll_oneoff", I((uint32_t)mem->size - 40), I(A_EVENTS), I(1), I(A_RET)),
           WASI_EFAULT);
    EXPECT(CALL("poll_oneoff", I(A_SUBS), I(A_EVENTS), I(0x10000000), I(A_RET)), WASI_EFAULT);
    wasi_free(ctx);
}

/* poll_oneoff with fds: a pipe with data is ready at once (nbytes), one
 * without times out; a writable pipe; a bad fd; a regular file. */
static void test_poll_pipe(void)
{
    int in[2], out[2];
    CHECK(pipe(in) == 0 && pipe(out) == 0);
    ctx = ctx_new(in[0], out[1], -1, NULL, 0);
    close(in[0]);
    close(out[1]);
    if (ctx == NULL) {
        close(in[1]);
        close(out[0]);
        return;
    }
    /* Nothing to read: the 10ms clock fires, not the fd. */
    sub_fd(0, 10, WASI_EVENTTYPE_FD_READ, 0);
    sub_clock(1, 11, WASI_CLOCK_MONOTONIC, 10000000, 0);
    EXPECT(CALL("poll_oneoff", I(A_SUBS), I(A_EVENTS), I(2), I(A_RET)), 0);
    CHECK(rd32(A_RET) == 1 && rd64(A_EVENTS) == 11);

    CHECK(write(in[1], "12345", 5) == 5);
    sub_clock(1, 11, WASI_CLOCK_MONOTONIC, 5000000000ull, 0);
    uint64_t t0 = mono_ns();
    EXPECT(CALL("poll_oneoff", I(A_SUBS), I(A_EVENTS), I(2), I(A_RET)), 0);
    CHECK(mono_ns() - t0 < 2000000000ull);
    CHECK(rd32(A_RET) == 1);
    CHECK(rd64(A_EVENTS) == 10 && rd16(A_EVENTS + 8) == 0);
    CHECK(mem->data[A_EVENTS + 10] == WASI_EVENTTYPE_FD_READ);
    CHECK(rd64(A_EVENTS + 16) == 5);
    CHECK(rd16(A_EVENTS + 24) == 0);

    /* Writable stdout, a bad fd, a regular file: all at once. */
    uint32_t fd;
    EXPECT(open_at(PRE, 0, "pollfile", WASI_OFLAGS_CREAT, RW, 0, &fd), 0);
    sub_fd(0, 20, WASI_EVENTTYPE_FD_WRITE, 1);
    sub_fd(1, 21, WASI_EVENTTYPE_FD_READ, 99);
    sub_fd(2, 22, WASI_EVENTTYPE_FD_READ, fd);
    EXPECT(CALL("poll_oneoff", I(A_SUBS), I(A_EVENTS), I(3), I(A_RET)), 0);
    CHECK(rd32(A_RET) == 3);
    int seen = 0;
    for (uint32_t i = 0; i < rd32(A_RET) && i < 3; i++) {
        uint32_t e = A_EVENTS + i * WASI_SIZEOF_EVENT;
        uint64_t u = rd64(e);
        if (u == 20 && rd16(e + 8) == 0 && mem->data[e + 10] == WASI_EVENTTYPE_FD_WRITE)
            seen |= 1;
        if (u == 21 && rd16(e + 8) == WASI_EBADF)
            seen |= 2;
        if (u == 22 && rd16(e + 8) == 0)
            seen |= 4;
    }
    CHECK(seen == 7);

    /* The writer gone: readable with HANGUP. */
    close(in[1]);
    uint32_t r;
    CHECK_STR(wasi_read(0, 16, &r), "12345");
    sub_fd(0, 30, WASI_EVENTTYPE_FD_READ, 0);
    EXPECT(CALL("poll_oneoff", I(A_SUBS), I(A_EVENTS), I(1), I(A_RET)), 0);
    CHECK(rd32(A_RET) == 1 && rd64(A_EVENTS) == 30);
    CHECK(rd16(A_EVENTS + 24) == WASI_EVENT_FD_READWRITE_HANGUP);
    close(out[0]);
    wasi_free(ctx);
}

/* A listening TCP socket on 127.0.0.1 as fd 4 (after the preopen): fdstat says SOCKET_STREAM,
 * sock_accept gives a connection, data both ways (sock_* and fd_*). */
static void test_sock(void)
{
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t salen = sizeof(sa);
    if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 4) < 0 ||
        getsockname(l, (struct sockaddr *)&sa, &salen) < 0) {
        if (l >= 0)
            close(l);
        SKIP("no TCP on 127.0.0.1");
    }
    ctx = ctx_new(-1, -1, -1, &l, 1);
    close(l); /* the context holds its own */
    if (ctx == NULL)
        return;
    EXPECT(CALL("fd_fdstat_get", I(4), I(A_STAT)), 0);
    CHECK(mem->data[A_STAT] == WASI_FILETYPE_SOCKET_STREAM);
    CHECK((rd64(A_STAT + 8) & WASI_RIGHT_SOCK_ACCEPT) != 0);
    EXPECT(CALL("fd_filestat_get", I(4), I(A_STAT)), 0);
    CHECK(mem->data[A_STAT + 16] == WASI_FILETYPE_SOCKET_STREAM);

    /* Nothing pending: accept on a non-blocking listener says EAGAIN. */
    EXPECT(CALL("fd_fdstat_set_flags", I(4), I(WASI_FDFLAGS_NONBLOCK)), 0);
    EXPECT(CALL("sock_accept", I(4), I(0), I(A_RET)), WASI_EAGAIN);
    EXPECT(CALL("fd_fdstat_set_flags", I(4), I(0)), 0);
    EXPECT(CALL("sock_accept", I(4), I(1), I(A_RET)), WASI_EINVAL);
    EXPECT(CALL("sock_accept", I(3), I(0), I(A_RET)), WASI_ENOTSOCK); /* the preopen */
    EXPECT(CALL("sock_accept", I(4), I(0), I((uint32_t)mem->size)), WASI_EFAULT);

    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(c >= 0 && connect(c, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    /* A second connection, accepted non-blocking (the new fd's flag). */
    int c2 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(c2 >= 0 && connect(c2, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    /* The listener polls readable when a connection waits. */
    sub_fd(0, 1, WASI_EVENTTYPE_FD_READ, 4);
    sub_clock(1, 2, WASI_CLOCK_MONOTONIC, 5000000000ull, 0);
    EXPECT(CALL("poll_oneoff", I(A_SUBS), I(A_EVENTS), I(2), I(A_RET)), 0);
    CHECK(rd32(A_RET) == 1 && rd64(A_EVENTS) == 1);
    wr32(A_RET, 0);
    EXPECT(CALL("sock_accept", I(4), I(0), I(A_RET)), 0);
    uint32_t conn = rd32(A_RET);
    CHECK(conn == 5);
    EXPECT(CALL("fd_fdstat_get", I(conn), I(A_STAT)), 0);
    CHECK(mem->data[A_STAT] == WASI_FILETYPE_SOCKET_STREAM);
    CHECK(rd16(A_STAT + 2) == 0);
    EXPECT(CALL("sock_accept", I(4), I(WASI_FDFLAGS_NONBLOCK), I(A_RET)), 0);
    uint32_t conn2 = rd32(A_RET);
    CHECK(conn2 == 6);
    EXPECT(CALL("fd_fdstat_get", I(conn2), I(A_STAT)), 0);
    CHECK(rd16(A_STAT + 2) == WASI_FDFLAGS_NONBLOCK);
    EXPECT(CALL("fd_close", I(conn2)), 0);
    close(c2);

    CHECK(write(c, "ping", 4) == 4);
    memset(mem->data + A_BUF, 0, 16);
    iov1(A_BUF, 16);
    EXPECT(
        CALL("sock_recv", I(conn), I(A_IOV), I(1), I(WASI_RIFLAGS_RECV_PEEK), I(A_RET), I(A_RET2)),
        0);
    CHECK(rd32(A_RET) == 4 && memcmp(mem->data + A_BUF, "ping", 4) == 0);
    CHECK(rd16(A_RET2) == 0);
    iov1(A_BUF, 4);
    EXPECT(CALL("sock_recv", I(conn), I(A_IOV), I(1), I(WASI_RIFLAGS_RECV_WAITALL), I(A_RET),
                I(A_RET2)),
           0);
    CHECK(rd32(A_RET) == 4 && memcmp(mem->data + A_BUF, "ping", 4) == 0);
    EXPECT(CALL("sock_recv", I(conn), I(A_IOV), I(1), I(4), I(A_RET), I(A_RET2)), WASI_EINVAL);

    put_str(A_BUF, "pong");
    iov1(A_BUF, 4);
    EXPECT(CALL("sock_send", I(conn), I(A_IOV), I(1), I(0), I(A_RET)), 0);
    CHECK(rd32(A_RET) == 4);
    char got[16] = {0};
    CHECK(read(c, got, sizeof(got)) == 4 && strcmp(got, "pong") == 0);

    /* fd_read / fd_write work on sockets too. */
    uint32_t n, r;
    EXPECT(wasi_write(conn, "via fd", &n), 0);
    memset(got, 0, sizeof(got));
    CHECK(read(c, got, sizeof(got)) == 6 && strcmp(got, "via fd") == 0);
    CHECK(write(c, "back", 4) == 4);
    CHECK_STR(wasi_read(conn, 16, &r), "back");

    /* Non-blocking via fd_fdstat_set_flags: an empty socket says EAGAIN. */
    EXPECT(CALL("fd_fdstat_set_flags", I(conn), I(WASI_FDFLAGS_NONBLOCK)), 0);
    EXPECT(CALL("fd_fdstat_get", I(conn), I(A_STAT)), 0);
    CHECK(rd16(A_STAT + 2) == WASI_FDFLAGS_NONBLOCK);
    wasi_read(conn, 16, &r);
    CHECK(r == WASI_EAGAIN);

    /* shutdown(WR): the peer reads EOF. */
    EXPECT(CALL("sock_shutdown", I(conn), I(WASI_SDFLAGS_WR)), 0);
    CHECK(read(c, got, sizeof(got)) == 0);
    EXPECT(CALL("sock_shutdown", I(conn), I(0)), WASI_EINVAL);
    EXPECT(CALL("sock_shutdown", I(PRE), I(WASI_SDFLAGS_WR)), WASI_ENOTSOCK);
    /* The peer gone: a send is EPIPE, not SIGPIPE. */
    EXPECT(CALL("sock_shutdown", I(conn), I(WASI_SDFLAGS_RD)), 0);
    close(c);
    EXPECT(CALL("sock_send", I(conn), I(A_IOV), I(1), I(0), I(A_RET)), WASI_EPIPE);
    EXPECT(CALL("fd_close", I(conn)), 0);
    wasi_free(ctx);
}

/* Guest pointers outside memory give EFAULT, never a trap or a host fault. */
static void test_efault(void)
{
    int p[2];
    CHECK(pipe(p) == 0);
    ctx = ctx_new(p[0], p[1], -1, NULL, 0);
    close(p[0]);
    close(p[1]);
    if (ctx == NULL)
        return;
    uint32_t end = (uint32_t)mem->size;
    /* The iovec array, a buffer, the result. */
    EXPECT(CALL("fd_write", I(1), I(end - 4), I(1), I(A_RET)), WASI_EFAULT);
    EXPECT(CALL("fd_write", I(1), I(A_IOV), I(0x20000000), I(A_RET)), WASI_EFAULT);
    iov1(end - 2, 4);
    EXPECT(CALL("fd_write", I(1), I(A_IOV), I(1), I(A_RET)), WASI_EFAULT);
    iov1(0xfffffff0u, 0x20);
    EXPECT(CALL("fd_write", I(1), I(A_IOV), I(1), I(A_RET)), WASI_EFAULT);
    iov1(A_BUF, 0xffffffffu);
    EXPECT(CALL("fd_read", I(0), I(A_IOV), I(1), I(A_RET)), WASI_EFAULT);
    iov1(A_BUF, 1);
    EXPECT(CALL("fd_write", I(1), I(A_IOV), I(1), I(end)), WASI_EFAULT);
    /* A zero-length buffer at the very end is fine. */
    iov1(end, 0);
    EXPECT(CALL("fd_write", I(1), I(A_IOV), I(1), I(A_RET)), 0);
    CHECK(rd32(A_RET) == 0);
    EXPECT(CALL("fd_fdstat_get", I(1), I(end - 23)), WASI_EFAULT);
    EXPECT(CALL("fd_filestat_get", I(PRE), I(end - 63)), WASI_EFAULT);
    EXPECT(CALL("clock_time_get", I(WASI_CLOCK_MONOTONIC), L(0), I(end - 4)), WASI_EFAULT);
    EXPECT(CALL("clock_res_get", I(WASI_CLOCK_MONOTONIC), I(0xffffffffu)), WASI_EFAULT);
    EXPECT(CALL("random_get", I(end - 10), I(20)), WASI_EFAULT);
    EXPECT(CALL("args_sizes_get", I(end), I(A_RET)), WASI_EFAULT);
    uint32_t n = put_str(A_PATH, "x");
    EXPECT(CALL("path_open", I(PRE), I(0), I(A_PATH), I(n), I(WASI_OFLAGS_CREAT), L(RW), L(RW),
                I(0), I(end - 3)),
           WASI_EFAULT);
    autofree char *x = rpath("x");
    CHECK(!host_exists(x)); /* checked before anything was made */
    EXPECT(CALL("path_open", I(PRE), I(0), I(end - 1), I(2), I(0), L(RW), L(RW), I(0), I(A_RET)),
           WASI_EFAULT);
    EXPECT(CALL("path_filestat_get", I(PRE), I(0), I(A_PATH), I(n), I(end - 8)), WASI_EFAULT);
    EXPECT(CALL("path_readlink", I(PRE), I(A_PATH), I(n), I(end - 1), I(2), I(A_RET)), WASI_EFAULT);
    EXPECT(CALL("fd_readdir", I(PRE), I(A_BUF), I(16), L(0), I(end - 1)), WASI_EFAULT);
    EXPECT(CALL("poll_oneoff", I(A_SUBS), I(end - 16), I(1), I(A_RET)), WASI_EFAULT);

    /* No memory at all. */
    struct wasm_memory *saved = mem;
    mem = NULL;
    EXPECT(CALL("fd_write", I(1), I(A_IOV), I(1), I(A_RET)), WASI_EFAULT);
    EXPECT(CALL("args_sizes_get", I(A_RET), I(A_RET2)), WASI_EFAULT);
    EXPECT(CALL("fd_close", I(0)), 0);
    EXPECT(CALL0("sched_yield"), 0);
    mem = saved;
    wasi_free(ctx);
}

/* proc_exit ends the call with WASM_TRAP_EXIT and keeps the code; proc_raise
 * is not supported; sched_yield works. */
static void test_proc(void)
{
    ctx = ctx_new(-1, -1, -1, NULL, 0);
    if (ctx == NULL)
        return;
    CHECK(wasi_exit_code(ctx) == 0 && !wasi_exited(ctx));
    CALL("proc_exit", I(42));
    CHECK(last_trap == WASM_TRAP_EXIT);
    CHECK(wasi_exit_code(ctx) == 42 && wasi_exited(ctx));
    EXPECT(CALL("proc_raise", I(15)), WASI_ENOSYS);
    EXPECT(CALL0("sched_yield"), 0);
    wasi_free(ctx);
}

/* Clocks (four ids, monotonic does not go back) and random bytes. */
static void test_clock_random(void)
{
    ctx = ctx_new(-1, -1, -1, NULL, 0);
    if (ctx == NULL)
        return;
    for (uint32_t id = 0; id < 4; id++) {
        wr64(A_RET, 0);
        EXPECT(CALL("clock_time_get", I(id), L(1), I(A_RET)), 0);
        CHECK(rd64(A_RET) != 0);
        EXPECT(CALL("clock_res_get", I(id), I(A_RET)), 0);
        CHECK(rd64(A_RET) > 0 && rd64(A_RET) <= 1000000000u);
    }
    EXPECT(CALL("clock_time_get", I(WASI_CLOCK_MONOTONIC), L(0), I(A_RET)), 0);
    uint64_t t1 = rd64(A_RET);
    EXPECT(CALL("clock_time_get", I(WASI_CLOCK_MONOTONIC), L(0), I(A_RET)), 0);
    CHECK(rd64(A_RET) >= t1);
    EXPECT(CALL("clock_time_get", I(WASI_CLOCK_REALTIME), L(0), I(A_RET)), 0);
    CHECK(rd64(A_RET) / 1000000000u - (uint64_t)time(NULL) + 2 <= 4);
    EXPECT(CALL("clock_time_get", I(4), L(0), I(A_RET)), WASI_EINVAL);
    EXPECT(CALL("clock_res_get", I(4), I(A_RET)), WASI_EINVAL);

    memset(mem->data + A_BUF, 0, 300);
    EXPECT(CALL("random_get", I(A_BUF), I(256)), 0);
    int zeros = 0;
    for (int i = 0; i < 256; i++)
        zeros += mem->data[A_BUF + i] == 0;
    CHECK(zeros < 32);
    CHECK(mem->data[A_BUF + 256] == 0);
    EXPECT(CALL("random_get", I(A_BUF), I(0)), 0);
    wasi_free(ctx);
}

/* fdstat flags (non-blocking on a pipe), rights that only narrow,
 * fd_renumber and fd_close. */
static void test_fdstat_renumber(void)
{
    int p[2];
    CHECK(pipe(p) == 0);
    ctx = ctx_new(p[0], p[1], -1, NULL, 0);
    if (ctx == NULL) {
        close(p[0]);
        close(p[1]);
        return;
    }
    EXPECT(CALL("fd_fdstat_set_flags", I(0), I(WASI_FDFLAGS_NONBLOCK)), 0);
    CHECK((fcntl(p[0], F_GETFL) & O_NONBLOCK) != 0); /* the same open file */
    uint32_t r = 0;
    if ((fcntl(p[0], F_GETFL) & O_NONBLOCK) != 0) /* else the read would block */
        wasi_read(0, 8, &r);
    CHECK(r == WASI_EAGAIN);
    EXPECT(CALL("fd_fdstat_set_flags", I(0), I(0)), 0);
    CHECK((fcntl(p[0], F_GETFL) & O_NONBLOCK) == 0);
    EXPECT(CALL("fd_fdstat_set_flags", I(0), I(WASI_FDFLAGS_SYNC)), WASI_ENOTSUP);
    EXPECT(CALL("fd_fdstat_set_flags", I(0), I(0x100)), WASI_EINVAL);
    close(p[0]);
    close(p[1]);

    uint32_t fd, n;
    EXPECT(open_at(PRE, 0, "ren", WASI_OFLAGS_CREAT, RW, 0, &fd), 0);
    EXPECT(CALL("fd_fdstat_set_rights", I(fd), L(WASI_RIGHT_FD_READ), L(0)), 0);
    EXPECT(CALL("fd_fdstat_get", I(fd), I(A_STAT)), 0);
    CHECK(rd64(A_STAT + 8) == WASI_RIGHT_FD_READ && rd64(A_STAT + 16) == 0);
    EXPECT(CALL("fd_fdstat_set_rights", I(fd), L(RW), L(0)), WASI_ENOTCAPABLE);

    /* Renumber onto stdout: writes to 1 go to the file; fd is closed. */
    EXPECT(CALL("fd_renumber", I(fd), I(1)), 0);
    EXPECT(wasi_write(1, "renumbered", &n), 0);
    EXPECT(CALL("fd_close", I(fd)), WASI_EBADF);
    autofree char *path = rpath("ren");
    char *s = read_file(path, NULL, NULL);
    CHECK_STR(s, "renumbered");
    free(s);
    EXPECT(CALL("fd_renumber", I(1), I(1)), 0);
    EXPECT(CALL("fd_renumber", I(1), I(40)), WASI_EBADF);
    EXPECT(CALL("fd_renumber", I(40), I(1)), WASI_EBADF);
    /* fd numbers are reused lowest first, from 3 on (not stdio's). */
    EXPECT(CALL("fd_close", I(0)), 0);
    EXPECT(open_at(PRE, 0, "ren", 0, RO, 0, &fd), 0);
    CHECK(fd == PRE + 1);
    uint32_t fd2;
    EXPECT(open_at(PRE, 0, "ren", 0, RO, 0, &fd2), 0);
    CHECK(fd2 == PRE + 2);
    EXPECT(CALL("fd_close", I(fd)), 0);
    EXPECT(open_at(PRE, 0, "ren", 0, RO, 0, &fd2), 0);
    CHECK(fd2 == fd);
    wasi_free(ctx);
}

/* wasi_new's errors name what failed. */
static void test_new_errors(void)
{
    cerr_t err = NULL;
    struct wasi_preopen_dir dir = {.host_path = "/nonexistent/cella-wasi", .guest_path = "/x"};
    struct wasi_config cfg = {.dirs = &dir, .ndirs = 1};
    cfg.stdin_fd = cfg.stdout_fd = cfg.stderr_fd = -1;
    CHECK(wasi_new(&cfg, &err) == NULL);
    CHECK_STR(cerr_msg(err), "wasi: preopen `/nonexistent/cella-wasi`: No such file or directory");
    cerr_free(&err);

    int p[2];
    CHECK(pipe(p) == 0);
    cfg.ndirs = 0;
    cfg.listen_fds = &p[0];
    cfg.nlisten = 1;
    CHECK(wasi_new(&cfg, &err) == NULL);
    char want[64];
    snprintf(want, sizeof(want), "wasi: listening socket fd %d: not a socket", p[0]);
    CHECK_STR(cerr_msg(err), want);
    cerr_free(&err);
    close(p[0]);
    close(p[1]);

    /* A file is not a directory. */
    dir.host_path = secret;
    cfg.nlisten = 0;
    cfg.ndirs = 1;
    CHECK(wasi_new(&cfg, &err) == NULL);
    CHECK(err != NULL && strstr(cerr_msg(err), "Not a directory") != NULL);
    cerr_free(&err);
}

int main(void)
{
    umask(022);
    snprintf(tmp, sizeof(tmp), "/tmp/cella-test-wasi-XXXXXX");
    if (mkdtemp(tmp) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    root = xasprintf("%s/root", tmp);
    secret = xasprintf("%s/secret", tmp);
    cerr_t err = NULL;
    if (mkdir(root, 0755) < 0 || write_file(secret, "secret", 6, 0644, &err) < 0 ||
        (mem = wasm_memory_new(1, 1, true, &err)) == NULL) {
        printf("# setup: %s\n", err ? cerr_msg(err) : strerror(errno));
        return 1;
    }
    /* A broken poll, non-blocking mode or peek would block a test: the
     * alarm ends the run (no plan line, a failure) instead of hanging. */
    alarm(120);
    RUN(test_resolve);
    RUN(test_args_environ);
    RUN(test_fd_write_pipe);
    RUN(test_fd_read);
    RUN(test_path_open);
    RUN(test_escapes);
    RUN(test_readdir);
    RUN(test_prestat);
    RUN(test_seek_tell);
    RUN(test_filestat);
    RUN(test_dirops);
    RUN(test_poll_clock);
    RUN(test_poll_pipe);
    RUN(test_sock);
    RUN(test_efault);
    RUN(test_proc);
    RUN(test_clock_random);
    RUN(test_fdstat_renumber);
    RUN(test_new_errors);
    wasm_memory_free(mem);
    rm_rf(tmp);
    free(root);
    free(secret);
    return UNIT_DONE();
}
