/* Unit tests for src/core (error, util, state) and the pure helpers of the
 * container level and CLI: mount_opts_parse, caps_parse, cgroup_path_for and
 * cli_signal. Everything runs unprivileged, in a mkdtemp directory. */
#define _GNU_SOURCE
/* cli_signal lives in src/cli/, which the unit tests do not link. */
#include "../../src/cli/common.c"

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/error.h"
#include "core/state.h"
#include "core/util.h"
#include "level/container/caps.h"
#include "cgroup/cgroup.h"
#include "level/container/mounts.h"
#include "unit.h"

static char tmp[64]; /* the mkdtemp directory of this run */

/* Check that err holds exactly `want`, then free it. */
static void expect_msg_(int line, cerr_t *err, const char *want)
{
    if (*err == NULL || strcmp(cerr_msg(*err), want) != 0) {
        printf("#   line %d: got `%s`\n#   want `%s`\n", line, *err ? cerr_msg(*err) : "(no error)",
               want);
        unit_failed_now = 1;
    }
    cerr_free(err);
}
#define EXPECT_MSG(err, want) expect_msg_(__LINE__, &(err), want)

static char *tpath(const char *name)
{
    return xasprintf("%s/%s", tmp, name);
}

/* ---- error ------------------------------------------------------------------------ */

static void test_cerr_set(void)
{
    cerr_t err = NULL;
    CHECK(cerr_set(&err, 0, "bad %s %d", "thing", 42) == -1);
    CHECK(err != NULL);
    CHECK_STR(cerr_msg(err), "bad thing 42");
    CHECK(err->errnum == 0);
    cerr_free(&err);
    CHECK(err == NULL);

    CHECK(cerr_set(&err, ENOENT, "open `%s`", "/x") == -1);
    CHECK_STR(cerr_msg(err), "open `/x`: No such file or directory");
    CHECK(err->errnum == ENOENT);
    cerr_free(&err);

    CHECK(cerr_set(&err, EACCES, "write") == -1);
    CHECK_STR(cerr_msg(err), "write: Permission denied");
    cerr_free(&err);

    /* The first error wins. */
    cerr_set(&err, 0, "first");
    CHECK(cerr_set(&err, EIO, "second") == -1);
    CHECK_STR(cerr_msg(err), "first");
    CHECK(err->errnum == 0);
    cerr_free(&err);

    /* A NULL err is allowed everywhere. */
    CHECK(cerr_set(NULL, 0, "ignored") == -1);
    CHECK(cerr_wrap(NULL, "ignored") == -1);
    cerr_free(NULL);
    cerr_free(&err); /* already NULL */
    CHECK(err == NULL);
    CHECK_STR(cerr_msg(NULL), "unknown error");
}

static void vset_helper(cerr_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void vset_helper(cerr_t *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    CHECK(cerr_vset(err, EINVAL, fmt, ap) == -1);
    va_end(ap);
}

static void test_cerr_wrap(void)
{
    cerr_t err = NULL;
    /* Wrapping nothing does nothing. */
    CHECK(cerr_wrap(&err, "context") == -1);
    CHECK(err == NULL);

    cerr_set(&err, ENOENT, "open `%s`", "config.json");
    CHECK(cerr_wrap(&err, "bundle `%s`", "/b") == -1);
    CHECK_STR(cerr_msg(err), "bundle `/b`: open `config.json`: No such file or directory");
    CHECK(err->errnum == ENOENT);
    cerr_wrap(&err, "create");
    CHECK_STR(cerr_msg(err), "create: bundle `/b`: open `config.json`: No such file or directory");
    cerr_free(&err);

    vset_helper(&err, "value %d of %s", 3, "x");
    CHECK_STR(cerr_msg(err), "value 3 of x: Invalid argument");
    cerr_free(&err);

    /* Long messages are not truncated. */
    char big[5000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    cerr_set(&err, 0, "%s", big);
    cerr_wrap(&err, "%s", big);
    CHECK(strlen(cerr_msg(err)) == 2 * strlen(big) + 2);
    cerr_free(&err);
}

/* ---- util: files --------------------------------------------------------------------- */

static void test_read_write_file(void)
{
    cerr_t err = NULL;
    autofree char *p = tpath("file");
    CHECK(write_file(p, "hello\nworld", 11, 0640, &err) == 0);
    CHECK(err == NULL);
    struct stat st;
    CHECK(stat(p, &st) == 0 && (st.st_mode & 07777) == 0640);
    size_t len = 99;
    char *s = read_file(p, &len, &err);
    CHECK_STR(s, "hello\nworld");
    CHECK(len == 11);
    free(s);

    /* Truncates; embedded NULs and the length survive; len may be NULL. */
    CHECK(write_file(p, "a\0b", 3, 0640, &err) == 0);
    s = read_file(p, &len, &err);
    CHECK(s != NULL && len == 3 && memcmp(s, "a\0b", 4) == 0);
    free(s);
    s = read_file(p, NULL, &err);
    CHECK_STR(s, "a");
    free(s);

    /* Empty file. */
    CHECK(write_file(p, "", 0, 0640, &err) == 0);
    s = read_file(p, &len, &err);
    CHECK(s != NULL && len == 0 && s[0] == '\0');
    free(s);

    /* Larger than the initial buffer: grows. */
    size_t n = 100000;
    char *big = malloc(n);
    CHECK(big != NULL);
    if (big != NULL) {
        for (size_t i = 0; i < n; i++)
            big[i] = (char)('a' + i % 26);
        CHECK(write_file(p, big, n, 0600, &err) == 0);
        s = read_file(p, &len, &err);
        CHECK(s != NULL && len == n && memcmp(s, big, n) == 0 && s[n] == '\0');
        free(s);
        free(big);
    }

    /* read_file_at, relative to a directory fd. */
    int dfd = open(tmp, O_RDONLY | O_DIRECTORY);
    CHECK(write_file(p, "at", 2, 0600, &err) == 0);
    s = read_file_at(dfd, "file", &len, &err);
    CHECK_STR(s, "at");
    free(s);
    CHECK(read_file_at(dfd, "nope", &len, &err) == NULL);
    EXPECT_MSG(err, "open `nope`: No such file or directory");
    close(dfd);

    /* Errors name the path and carry errno. */
    autofree char *missing = tpath("missing");
    CHECK(read_file(missing, &len, &err) == NULL);
    CHECK(err != NULL && err->errnum == ENOENT);
    autofree char *want = xasprintf("open `%s`: No such file or directory", missing);
    EXPECT_MSG(err, want);

    autofree char *deep = tpath("no/such/dir/f");
    CHECK(write_file(deep, "x", 1, 0644, &err) == -1);
    autofree char *want2 = xasprintf("open `%s`: No such file or directory", deep);
    EXPECT_MSG(err, want2);

    CHECK(read_file(tmp, &len, &err) == NULL); /* a directory */
    autofree char *want3 = xasprintf("read `%s`: Is a directory", tmp);
    EXPECT_MSG(err, want3);
    unlink(p);
}

static void test_write_file_atomic(void)
{
    cerr_t err = NULL;
    autofree char *p = tpath("atomic");
    autofree char *ptmp = tpath("atomic.tmp");
    CHECK(write_file_atomic(p, "one", 3, &err) == 0);
    char *s = read_file(p, NULL, &err);
    CHECK_STR(s, "one");
    free(s);
    /* Replaces, leaves no temporary file, mode 0600. */
    CHECK(write_file_atomic(p, "second", 6, &err) == 0);
    s = read_file(p, NULL, &err);
    CHECK_STR(s, "second");
    free(s);
    CHECK(access(ptmp, F_OK) == -1 && errno == ENOENT);
    struct stat st;
    CHECK(stat(p, &st) == 0 && (st.st_mode & 07777) == 0600);

    /* An open reader keeps the old content (rename, not rewrite). */
    int fd = open(p, O_RDONLY);
    CHECK(write_file_atomic(p, "third", 5, &err) == 0);
    char buf[16] = {0};
    CHECK(read(fd, buf, sizeof(buf) - 1) == 6 && strcmp(buf, "second") == 0);
    close(fd);

    /* rename onto a directory fails and removes the temporary file. */
    autofree char *d = tpath("atomicdir");
    autofree char *dtmp = tpath("atomicdir.tmp");
    CHECK(mkdir(d, 0700) == 0);
    autofree char *inner = tpath("atomicdir/x");
    CHECK(write_file(inner, "x", 1, 0600, &err) == 0);
    CHECK(write_file_atomic(d, "x", 1, &err) == -1);
    CHECK(err != NULL && (err->errnum == EISDIR || err->errnum == ENOTEMPTY));
    autofree char *want = xasprintf("rename `%s`: %s", d, strerror(err ? err->errnum : 0));
    EXPECT_MSG(err, want);
    CHECK(access(dtmp, F_OK) == -1);

    autofree char *nodir = tpath("nodir/f");
    CHECK(write_file_atomic(nodir, "x", 1, &err) == -1);
    autofree char *want2 = xasprintf("open `%s.tmp`: No such file or directory", nodir);
    EXPECT_MSG(err, want2);

    /* write_pid_file */
    autofree char *pf = tpath("pidfile");
    CHECK(write_pid_file(pf, 12345, &err) == 0);
    s = read_file(pf, NULL, &err);
    CHECK_STR(s, "12345");
    free(s);
    CHECK(write_pid_file(nodir, 1, &err) == -1);
    autofree char *want3 = xasprintf("--pid-file: open `%s.tmp`: No such file or directory", nodir);
    EXPECT_MSG(err, want3);
    rm_rf(d);
    unlink(p);
    unlink(pf);
}

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void test_mkdir_p(void)
{
    cerr_t err = NULL;
    autofree char *p = tpath("m/a/b/c");
    CHECK(mkdir_p(p, 0755, &err) == 0);
    CHECK(is_dir(p));
    /* Again: existing is fine. */
    CHECK(mkdir_p(p, 0755, &err) == 0);
    /* Trailing and doubled slashes. */
    autofree char *q = tpath("m//x/y/");
    CHECK(mkdir_p(q, 0700, &err) == 0);
    autofree char *qq = tpath("m/x/y");
    CHECK(is_dir(qq));
    struct stat st;
    CHECK(stat(qq, &st) == 0 && (st.st_mode & 0777) == (0700 & ~(mode_t)022));
    CHECK(mkdir_p("/", 0755, &err) == 0);
    CHECK(err == NULL);

    /* A file in the way. */
    autofree char *f = tpath("m/file");
    CHECK(write_file(f, "", 0, 0600, &err) == 0);
    autofree char *under = tpath("m/file/sub/dir");
    CHECK(mkdir_p(under, 0755, &err) == -1);
    autofree char *want = xasprintf("mkdir `%s/m/file/sub`: Not a directory", tmp);
    EXPECT_MSG(err, want);
    autofree char *m = tpath("m");
    CHECK(rm_rf(m) == 0);
}

/* mkdir_p of an existing non-directory must fail (the caller then opens it as a directory). */
static void test_mkdir_p_file(void)
{
    cerr_t err = NULL;
    autofree char *f = tpath("plainfile");
    CHECK(write_file(f, "", 0, 0600, &err) == 0);
    CHECK(mkdir_p(f, 0755, &err) == -1);
    unlink(f);
    autofree char *want = xasprintf("mkdir `%s`: Not a directory", f);
    EXPECT_MSG(err, want);
}

static void test_rm_rf(void)
{
    cerr_t err = NULL;
    autofree char *root = tpath("rm");
    autofree char *outside = tpath("outside");
    autofree char *keep = tpath("outside/keep");
    autofree char *deep = tpath("rm/a/b/c/d");
    CHECK(mkdir_p(deep, 0755, &err) == 0);
    CHECK(mkdir_p(outside, 0755, &err) == 0);
    CHECK(write_file(keep, "k", 1, 0600, &err) == 0);
    for (int i = 0; i < 20; i++) {
        char *fp = xasprintf("%s/rm/a/f%d", tmp, i);
        CHECK(write_file(fp, "x", 1, 0600, &err) == 0);
        free(fp);
    }
    autofree char *deepf = tpath("rm/a/b/c/d/file");
    CHECK(write_file(deepf, "x", 1, 0400, &err) == 0);
    /* Symlinks are removed, not followed. */
    autofree char *link1 = tpath("rm/a/link");
    autofree char *link2 = tpath("rm/a/b/dangling");
    CHECK(symlink(outside, link1) == 0);
    CHECK(symlink("/nonexistent/x", link2) == 0);
    /* A read-only (but owned) directory inside: its entries can still go. */
    autofree char *ro = tpath("rm/ro");
    autofree char *rof = tpath("rm/ro/f");
    CHECK(mkdir(ro, 0755) == 0);
    CHECK(write_file(rof, "", 0, 0600, &err) == 0);
    CHECK(chmod(ro, 0555) == 0);

    int r = rm_rf(root);
    if (geteuid() != 0 && access(root, F_OK) == 0) {
        /* Without root, the entries of a 0555 directory cannot be unlinked. */
        CHECK(r == -1);
        chmod(ro, 0755);
        r = rm_rf(root);
    }
    CHECK(r == 0);
    CHECK(access(root, F_OK) == -1 && errno == ENOENT);
    CHECK(access(keep, F_OK) == 0);
    /* Missing: fine. A plain file: removed. */
    CHECK(rm_rf(root) == 0);
    CHECK(rm_rf(keep) == 0);
    CHECK(access(keep, F_OK) == -1);
    /* A symlink to a directory: the link goes, the directory stays. */
    autofree char *lk = tpath("lk");
    CHECK(symlink(outside, lk) == 0);
    CHECK(rm_rf(lk) == 0);
    CHECK(access(lk, F_OK) == -1 && is_dir(outside));
    CHECK(rm_rf(outside) == 0);
    CHECK(!is_dir(outside));
}

/* ---- util: parsing, processes ------------------------------------------------------------ */

static void test_parse_long(void)
{
    static const struct {
        const char *s;
        long v;
    } good[] = {
        {"0", 0},
        {"7", 7},
        {"-1", -1},
        {"00042", 42},
        {"9223372036854775807", LONG_MAX},
        {"-9223372036854775808", LONG_MIN},
    };
    for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
        long v = 12345;
        CHECK(parse_long(good[i].s, &v) == 0);
        if (v != good[i].v) {
            printf("#   `%s` -> %ld\n", good[i].s, v);
            unit_failed_now = 1;
        }
    }
    static const char *const bad[] = {"",
                                      "abc",
                                      "12x",
                                      "1.5",
                                      "0x10",
                                      "9223372036854775808",
                                      "-9223372036854775809",
                                      "5 ",
                                      "-",
                                      "1e3",
                                      "99999999999999999999"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        long v = 12345;
        if (parse_long(bad[i], &v) != -1) {
            printf("#   `%s` accepted\n", bad[i]);
            unit_failed_now = 1;
        }
        CHECK(v == 12345); /* untouched on error */
    }
    long v = 1;
    CHECK(parse_long(NULL, &v) == -1 && v == 1);
}

static void test_xhelpers(void)
{
    autofree char *a = xasprintf("%s-%d", "x", 5);
    CHECK_STR(a, "x-5");
    autofree char *b = xstrdup("dup");
    CHECK_STR(b, "dup");
    CHECK(xstrdup(NULL) == NULL);
    unsigned long long t1 = now_ns(), t2 = now_ns();
    CHECK(t1 > 0 && t2 >= t1);

    int fds[2];
    CHECK(pipe(fds) == 0);
    CHECK(write_all(fds[1], "abcdef", 6) == 6);
    close(fds[1]);
    char buf[16] = {0};
    CHECK(read_all(fds[0], buf, sizeof(buf)) == 6); /* stops at EOF */
    CHECK_STR(buf, "abcdef");
    close(fds[0]);

    cerr_t err = NULL;
    CHECK(unix_connect("/nonexistent/cella.sock", &err) == -1);
    EXPECT_MSG(err, "connect to `/nonexistent/cella.sock`: No such file or directory");
    char longp[200];
    memset(longp, 'x', sizeof(longp) - 1);
    longp[0] = '/';
    longp[sizeof(longp) - 1] = '\0';
    CHECK(unix_connect(longp, &err) == -1);
    autofree char *want = xasprintf("socket path `%s` is too long", longp);
    EXPECT_MSG(err, want);
}

static void test_proc_self(void)
{
    unsigned long long st = proc_start_time(getpid());
    CHECK(st > 0);
    CHECK(proc_start_time(getpid()) == st);
    CHECK(proc_alive(getpid(), st));
    CHECK(proc_alive(getpid(), 0));
    CHECK(!proc_alive(getpid(), st + 1));
    /* pid 0 and negative pids are never alive. */
    CHECK(proc_start_time(0) == 0);
    CHECK(!proc_alive(0, 0));
    CHECK(!proc_alive(-1, 0));
    CHECK(!proc_alive(-getpid(), 0));
    /* A pid that cannot exist. */
    CHECK(proc_start_time(0x7ffffff0) == 0);
    CHECK(!proc_alive(0x7ffffff0, 0));
    /* The parent started no later than we did. */
    unsigned long long pst = proc_start_time(getppid());
    CHECK(pst > 0 && pst <= st);
}

static void test_proc_child(void)
{
    int go[2], ready[2];
    CHECK(pipe(go) == 0 && pipe(ready) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        close(go[1]);
        close(ready[0]);
        /* A command name with spaces and parentheses must not confuse the parser. */
        if (read(go[0], &c, 1) != 1)
            _exit(1);
        prctl(PR_SET_NAME, "a) b (c) d");
        if (write(ready[1], "r", 1) != 1)
            _exit(1);
        if (read(go[0], &c, 1) < 0)
            _exit(1);
        _exit(0);
    }
    CHECK(pid > 0);
    if (pid < 0)
        return;
    close(go[0]);
    close(ready[1]);
    unsigned long long st = proc_start_time(pid);
    CHECK(st > 0);
    CHECK(st >= proc_start_time(getpid()));
    CHECK(proc_alive(pid, st));
    char c = 'g';
    CHECK(write(go[1], &c, 1) == 1);
    CHECK(read(ready[0], &c, 1) == 1);
    char *cp = xasprintf("/proc/%d/comm", pid);
    cerr_t err = NULL;
    char *name = read_file(cp, NULL, &err);
    CHECK_STR(name, "a) b (c) d\n");
    free(name);
    free(cp);
    CHECK(proc_start_time(pid) == st);
    CHECK(proc_alive(pid, st));

    /* Let it exit; a zombie counts as dead. */
    close(go[1]);
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    CHECK(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == 0);
    CHECK(si.si_pid == pid);
    CHECK(proc_start_time(pid) == 0);
    CHECK(!proc_alive(pid, st));
    CHECK(!proc_alive(pid, 0));
    /* Reaped: gone altogether. */
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(proc_start_time(pid) == 0);
    CHECK(!proc_alive(pid, st));
    close(ready[0]);
}

/* ---- state ----------------------------------------------------------------------------- */

static void test_state_check_id(void)
{
    static const char *const good[] = {"a",         "abc",
                                       "A1",        "0",
                                       "a-b_c.d+e", "my.container_1",
                                       "x..y",      "0123456789abcdef0123456789abcdef"};
    cerr_t err = NULL;
    for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
        if (state_check_id(good[i], &err) != 0) {
            printf("#   `%s`: %s\n", good[i], cerr_msg(err));
            unit_failed_now = 1;
        }
        cerr_free(&err);
    }
    char id[1026];
    memset(id, 'i', sizeof(id) - 1);
    id[1024] = '\0';
    CHECK(state_check_id(id, &err) == 0);
    id[1024] = 'i';
    id[1025] = '\0';
    CHECK(state_check_id(id, &err) == -1);
    EXPECT_MSG(err, "container id `iiiiiiiiiiiiiiiiiiiiiiiiiiiiiiii...` is too long");

    CHECK(state_check_id("", &err) == -1);
    EXPECT_MSG(err, "container id must not be empty");
    CHECK(state_check_id(NULL, &err) == -1);
    EXPECT_MSG(err, "container id must not be empty");
    CHECK(state_check_id(".", &err) == -1);
    EXPECT_MSG(err, "invalid container id `.`: a letter or digit, then letters, digits and _.+-");
    CHECK(state_check_id("..", &err) == -1);
    EXPECT_MSG(err, "invalid container id `..`: a letter or digit, then letters, digits and _.+-");
    static const char *const bad[] = {"a/b", "/abs", "a b",  "a\tb", "tab\n", "a:b",
                                      "x*",  "é",    "a\\b", "$(x)", "a;b"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        CHECK(state_check_id(bad[i], &err) == -1);
        autofree char *want = xasprintf(
            "invalid container id `%s`: a letter or digit, then letters, digits and _.+-", bad[i]);
        EXPECT_MSG(err, want);
    }
}

/* state.h: ids match [A-Za-z0-9][A-Za-z0-9_.+-]*, stricter than runc's [\w+-.]+ on purpose:
 * an id starting with - reads as an option in `cella delete -rf`. */
static void test_state_check_id_first_char(void)
{
    static const char *const bad[] = {"-rf", ".hidden", "_x", "+x"};
    cerr_t err = NULL;
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        CHECK(state_check_id(bad[i], &err) == -1);
        autofree char *want = xasprintf(
            "invalid container id `%s`: a letter or digit, then letters, digits and _.+-", bad[i]);
        EXPECT_MSG(err, want);
    }
    static const char *const good[] = {"a-rf", "0.hidden", "x_", "Z+x"};
    for (size_t i = 0; i < ARRAY_SIZE(good); i++)
        CHECK(state_check_id(good[i], &err) == 0 && err == NULL);
}

static void test_state_dirs(void)
{
    cerr_t err = NULL;
    autofree char *root = tpath("state/run/cella"); /* created on demand */
    int fd = state_dir_create(root, "x", &err);
    CHECK(fd >= 0 && err == NULL);
    autofree char *xdir = tpath("state/run/cella/x");
    CHECK(is_dir(xdir));
    struct stat st;
    CHECK(stat(xdir, &st) == 0 && (st.st_mode & 0777) == 0700);

    /* The directory is locked: another open file description cannot lock it. */
    int other = open(xdir, O_RDONLY | O_DIRECTORY);
    CHECK(other >= 0);
    CHECK(flock(other, LOCK_EX | LOCK_NB) == -1 && errno == EWOULDBLOCK);

    CHECK(state_dir_create(root, "x", &err) == -1);
    EXPECT_MSG(err, "container `x` already exists");
    CHECK(state_dir_create(root, "a/b", &err) == -1);
    EXPECT_MSG(err, "invalid container id `a/b`: a letter or digit, then letters, digits and _.+-");
    CHECK(state_dir_create(root, "", &err) == -1);
    EXPECT_MSG(err, "container id must not be empty");

    /* Without state.json the container does not exist yet (still being created). */
    close(fd);
    CHECK(state_dir_open(root, "x", &err) == -1);
    EXPECT_MSG(err, "container `x` does not exist");
    CHECK(state_dir_open(root, "nope", &err) == -1);
    EXPECT_MSG(err, "container `nope` does not exist");
    CHECK(state_dir_open(root, "../x", &err) == -1);
    EXPECT_MSG(err,
               "invalid container id `../x`: a letter or digit, then letters, digits and _.+-");
    autofree char *noroot = tpath("no-such-root");
    CHECK(state_dir_open(noroot, "x", &err) == -1);
    EXPECT_MSG(err, "container `x` does not exist");

    /* With state.json it opens, locked. */
    autofree char *sj = tpath("state/run/cella/x/state.json");
    CHECK(write_file(sj, "{}", 2, 0600, &err) == 0);
    fd = state_dir_open(root, "x", &err);
    CHECK(fd >= 0 && err == NULL);
    cerr_free(&err);
    CHECK(flock(other, LOCK_EX | LOCK_NB) == -1 && errno == EWOULDBLOCK);
    CHECK(state_dir_remove(root, "x", fd) == 0);
    CHECK(!is_dir(xdir));
    close(fd);
    close(other);

    /* A file where the root should be. */
    autofree char *froot = tpath("state/file");
    CHECK(write_file(froot, "", 0, 0600, &err) == 0);
    CHECK(state_dir_create(froot, "y", &err) == -1);
    CHECK(err != NULL);
    cerr_free(&err);

    autofree char *top = tpath("state");
    rm_rf(top);
}

static const char *strv_get(char **kv, const char *key)
{
    for (size_t i = 0; kv && kv[i] && kv[i + 1]; i += 2)
        if (strcmp(kv[i], key) == 0)
            return kv[i + 1];
    return NULL;
}

static size_t strv_len(char **v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

static void test_state_save_load(void)
{
    cerr_t err = NULL;
    autofree char *root = tpath("sl");
    int fd = state_dir_create(root, "c1", &err);
    CHECK(fd >= 0);
    if (fd < 0) {
        cerr_free(&err);
        return;
    }
    struct cstate in = {
        .id = "c1",
        .bundle = "/bundles/c1",
        .rootfs = "/bundles/c1/rootfs",
        .level = "container",
        .status = ST_RUNNING,
        .pid = 4242,
        .start_time = 123456789012ULL,
        .created = "2024-01-02T03:04:05.000000006Z",
        .owner = "root",
        .cgroup = "/cella/c1",
        .systemd_cgroup = true,
        .annotations = (char *[]){"org.opencontainers.image.os", "linux", "com.example/k",
                                  "v with spaces \"and quotes\"", "empty", "", NULL},
        .extra = (char *[]){"cella.level", "container", NULL},
    };
    CHECK(state_save(fd, &in, &err) == 0);
    CHECK(err == NULL);
    autofree char *sj = tpath("sl/c1/state.json");
    autofree char *stmp = tpath("sl/c1/state.json.tmp");
    CHECK(access(sj, F_OK) == 0 && access(stmp, F_OK) == -1);

    struct cstate *out = state_load(fd, "c1", &err);
    CHECK(out != NULL && err == NULL);
    if (out != NULL) {
        CHECK_STR(out->id, "c1");
        CHECK_STR(out->bundle, "/bundles/c1");
        CHECK_STR(out->rootfs, "/bundles/c1/rootfs");
        CHECK_STR(out->level, "container");
        CHECK(out->status == ST_RUNNING);
        CHECK(out->pid == 4242);
        CHECK(out->start_time == 123456789012ULL);
        CHECK_STR(out->created, "2024-01-02T03:04:05.000000006Z");
        CHECK_STR(out->owner, "root");
        CHECK_STR(out->cgroup, "/cella/c1");
        CHECK(out->systemd_cgroup);
        CHECK(strv_len(out->annotations) == 6);
        CHECK_STR(strv_get(out->annotations, "org.opencontainers.image.os"), "linux");
        CHECK_STR(strv_get(out->annotations, "com.example/k"), "v with spaces \"and quotes\"");
        CHECK_STR(strv_get(out->annotations, "empty"), "");
        CHECK(strv_len(out->extra) == 2);
        CHECK_STR(strv_get(out->extra, "cella.level"), "container");
    }
    state_free(out);
    state_free(NULL);

    /* Optional fields absent, every status. */
    for (int s = ST_CREATING; s <= ST_STOPPED; s++) {
        struct cstate min = {.id = "c1", .bundle = "/b", .level = "vm", .status = s};
        CHECK(state_save(fd, &min, &err) == 0);
        out = state_load(fd, "c1", &err);
        CHECK(out != NULL);
        if (out != NULL) {
            CHECK((int)out->status == s);
            CHECK(out->rootfs == NULL && out->created == NULL && out->owner == NULL &&
                  out->cgroup == NULL && !out->systemd_cgroup && out->pid == 0);
            CHECK(out->annotations != NULL && out->annotations[0] == NULL);
            CHECK(out->extra != NULL && out->extra[0] == NULL);
        }
        state_free(out);
    }

    /* Corrupt or incomplete state. */
    static const char *const corrupt[] = {
        "garbage",
        "[]",
        "{}",
        "{\"id\": \"c1\", \"bundle\": \"/b\", \"level\": \"container\"}",
        "{\"id\": \"c1\", \"bundle\": \"/b\", \"level\": \"container\", \"status\": \"weird\"}",
        "{\"id\": \"c1\", \"bundle\": 5, \"level\": \"container\", \"status\": \"created\"}",
        "{\"bundle\": \"/b\", \"level\": \"container\", \"status\": \"created\"}",
    };
    for (size_t i = 0; i < ARRAY_SIZE(corrupt); i++) {
        CHECK(write_file(sj, corrupt[i], strlen(corrupt[i]), 0600, &err) == 0);
        CHECK(state_load(fd, "c1", &err) == NULL);
        EXPECT_MSG(err, "state of container `c1` is corrupt");
    }
    unlink(sj);
    CHECK(state_load(fd, "c1", &err) == NULL);
    EXPECT_MSG(err, "open `state.json`: No such file or directory");

    /* A state without a bundle cannot be encoded. */
    struct cstate nob = {.id = "c1", .level = "container"};
    CHECK(state_save(fd, &nob, &err) == -1);
    EXPECT_MSG(err, "cannot encode state of `c1`");

    CHECK(state_dir_remove(root, "c1", fd) == 0);
    close(fd);
    rm_rf(root);
}

static void test_state_oci_json(void)
{
    struct cstate st = {
        .id = "web",
        .bundle = "/srv/web",
        .rootfs = "/srv/web/rootfs",
        .level = "container",
        .status = ST_RUNNING,
        .pid = 777,
        .created = "2024-05-06T07:08:09Z",
        .owner = "alice",
        .annotations = (char *[]){"a", "1", "b", "2", NULL},
        .extra = (char *[]){"cella.isolation", "container", NULL},
    };
    for (int pretty = 0; pretty <= 1; pretty++) {
        char *text = state_to_oci_json(&st, ST_RUNNING, pretty);
        CHECK(text != NULL);
        if (text == NULL)
            continue;
        CHECK((strchr(text, '\n') != NULL) == (pretty == 1));
        json_error_t je;
        json_t *o = json_loads(text, 0, &je);
        free(text);
        CHECK(json_is_object(o));
        CHECK_STR(json_string_value(json_object_get(o, "ociVersion")), "1.1.0");
        CHECK_STR(json_string_value(json_object_get(o, "id")), "web");
        CHECK_STR(json_string_value(json_object_get(o, "status")), "running");
        CHECK(json_integer_value(json_object_get(o, "pid")) == 777);
        CHECK_STR(json_string_value(json_object_get(o, "bundle")), "/srv/web");
        CHECK_STR(json_string_value(json_object_get(o, "rootfs")), "/srv/web/rootfs");
        CHECK_STR(json_string_value(json_object_get(o, "created")), "2024-05-06T07:08:09Z");
        CHECK_STR(json_string_value(json_object_get(o, "owner")), "alice");
        json_t *ann = json_object_get(o, "annotations");
        CHECK(json_is_object(ann) && json_object_size(ann) == 3);
        CHECK_STR(json_string_value(json_object_get(ann, "a")), "1");
        CHECK_STR(json_string_value(json_object_get(ann, "b")), "2");
        CHECK_STR(json_string_value(json_object_get(ann, "cella.isolation")), "container");
        /* Internal fields stay internal. */
        CHECK(json_object_get(o, "level") == NULL && json_object_get(o, "startTime") == NULL);
        json_decref(o);
    }

    /* Stopped: pid 0; no optional fields; annotations still an object. */
    struct cstate bare = {.id = "b", .bundle = "/b", .level = "container", .pid = 99};
    char *text = state_to_oci_json(&bare, ST_STOPPED, false);
    json_t *o = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    CHECK(json_is_object(o));
    CHECK_STR(json_string_value(json_object_get(o, "status")), "stopped");
    CHECK(json_is_integer(json_object_get(o, "pid")) &&
          json_integer_value(json_object_get(o, "pid")) == 0);
    CHECK(json_object_get(o, "rootfs") == NULL && json_object_get(o, "created") == NULL &&
          json_object_get(o, "owner") == NULL);
    CHECK(json_is_object(json_object_get(o, "annotations")) &&
          json_object_size(json_object_get(o, "annotations")) == 0);
    json_decref(o);

    static const char *const names[] = {"creating", "created", "running", "paused", "stopped"};
    for (int s = ST_CREATING; s <= ST_STOPPED; s++)
        CHECK_STR(cstatus_name(s), names[s]);
}

static void test_state_live_status(void)
{
    struct cstate st = {.id = "l", .bundle = "/b", .level = "container"};
    st.pid = getpid();
    st.start_time = proc_start_time(getpid());
    st.status = ST_RUNNING;
    CHECK(state_live_status(&st) == ST_RUNNING);
    st.status = ST_CREATED;
    CHECK(state_live_status(&st) == ST_CREATED);
    st.status = ST_PAUSED;
    CHECK(state_live_status(&st) == ST_PAUSED);
    /* Pid reused by another process: stopped. */
    st.start_time += 1;
    st.status = ST_RUNNING;
    CHECK(state_live_status(&st) == ST_STOPPED);
    /* No pid: stopped; recorded stopped/creating are kept. */
    st.pid = 0;
    CHECK(state_live_status(&st) == ST_STOPPED);
    st.status = ST_CREATING;
    CHECK(state_live_status(&st) == ST_CREATING);
    st.status = ST_STOPPED;
    st.pid = getpid();
    st.start_time = 0;
    CHECK(state_live_status(&st) == ST_STOPPED);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_state_list_ids(void)
{
    cerr_t err = NULL;
    autofree char *root = tpath("list");
    /* Missing root: an empty list. */
    char **ids = state_list_ids(root, &err);
    CHECK(ids != NULL && ids[0] == NULL && err == NULL);
    free(ids);

    static const char *const dirs[] = {"c", "a", "b-no-state", ".hidden", "z.9"};
    for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
        char *d = xasprintf("%s/%s", root, dirs[i]);
        CHECK(mkdir_p(d, 0700, &err) == 0);
        if (strcmp(dirs[i], "b-no-state") != 0) {
            char *f = xasprintf("%s/state.json", d);
            CHECK(write_file(f, "{}", 2, 0600, &err) == 0);
            free(f);
        }
        free(d);
    }
    autofree char *stray = tpath("list/stray-file");
    CHECK(write_file(stray, "", 0, 0600, &err) == 0);

    ids = state_list_ids(root, &err);
    CHECK(ids != NULL);
    if (ids != NULL) {
        size_t n = strv_len(ids);
        qsort(ids, n, sizeof(char *), cmp_str);
        CHECK(n == 3);
        if (n == 3) {
            CHECK_STR(ids[0], "a");
            CHECK_STR(ids[1], "c");
            CHECK_STR(ids[2], "z.9");
        }
        for (size_t i = 0; i < n; i++)
            free(ids[i]);
        free(ids);
    }
    /* A root that is a file. */
    CHECK(state_list_ids(stray, &err) == NULL);
    autofree char *want = xasprintf("open `%s`: Not a directory", stray);
    EXPECT_MSG(err, want);
    rm_rf(root);
}

/* ---- mount options ------------------------------------------------------------------------ */

static void opts_of(struct str_list *l, const char *const *v)
{
    memset(l, 0, sizeof(*l));
    for (; *v; v++)
        CHECK(str_list_push(l, *v) == 0);
}

#define PARSE_OPTS(out, ...)                                                                       \
    do {                                                                                           \
        struct str_list l_;                                                                        \
        cerr_t e_ = NULL;                                                                          \
        opts_of(&l_, (const char *const[]){__VA_ARGS__, NULL});                                    \
        CHECK(mount_opts_parse(&l_, (out), &e_) == 0);                                             \
        CHECK(e_ == NULL);                                                                         \
        cerr_free(&e_);                                                                            \
        str_list_free(&l_);                                                                        \
    } while (0)

static void test_mount_opts(void)
{
    struct mount_opts o;
    struct str_list empty = {0};
    cerr_t err = NULL;
    memset(&o, 0xff, sizeof(o));
    o.data = NULL;
    CHECK(mount_opts_parse(&empty, &o, &err) == 0);
    CHECK(o.flags == 0 && o.clear == 0 && o.propagation == 0 && !o.bind && !o.recursive &&
          o.data == NULL);

    PARSE_OPTS(&o, "ro", "nosuid", "nodev", "noexec");
    CHECK(o.flags == (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC));
    CHECK(o.clear == 0 && o.data == NULL && !o.bind);
    free(o.data);

    PARSE_OPTS(&o, "rw");
    CHECK(o.flags == 0 && o.clear == MS_RDONLY);
    PARSE_OPTS(&o, "ro", "rw");
    CHECK(o.flags == 0 && o.clear == MS_RDONLY);
    PARSE_OPTS(&o, "rw", "ro");
    CHECK(o.flags == MS_RDONLY && o.clear == 0);
    PARSE_OPTS(&o, "suid", "dev", "exec", "async", "atime", "diratime", "loud");
    CHECK(o.flags == 0);
    CHECK(o.clear == (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_SYNCHRONOUS | MS_NOATIME |
                      MS_NODIRATIME | MS_SILENT));
    PARSE_OPTS(&o, "sync", "dirsync", "noatime", "nodiratime", "relatime", "strictatime", "mand",
               "silent", "remount");
    CHECK(o.flags == (MS_SYNCHRONOUS | MS_DIRSYNC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME |
                      MS_STRICTATIME | MS_MANDLOCK | MS_SILENT | MS_REMOUNT));

    PARSE_OPTS(&o, "bind");
    CHECK(o.bind && !o.recursive && o.flags == 0 && o.data == NULL);
    PARSE_OPTS(&o, "rbind", "ro");
    CHECK(o.bind && o.recursive && o.flags == MS_RDONLY);

    static const struct {
        const char *name;
        unsigned long flag;
    } props[] = {
        {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
        {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
        {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
        {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
    };
    for (size_t i = 0; i < ARRAY_SIZE(props); i++) {
        PARSE_OPTS(&o, props[i].name);
        CHECK(o.propagation == props[i].flag && o.flags == 0 && o.data == NULL);
    }
    PARSE_OPTS(&o, "rshared", "rprivate"); /* the last one wins */
    CHECK(o.propagation == (MS_PRIVATE | MS_REC));

    PARSE_OPTS(&o, "mode=755", "size=64k");
    CHECK_STR(o.data, "mode=755,size=64k");
    CHECK(o.flags == 0);
    free(o.data);

    /* runc's /dev and /dev/pts mounts. */
    PARSE_OPTS(&o, "nosuid", "strictatime", "mode=755", "size=65536k");
    CHECK(o.flags == (MS_NOSUID | MS_STRICTATIME));
    CHECK_STR(o.data, "mode=755,size=65536k");
    free(o.data);
    PARSE_OPTS(&o, "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5");
    CHECK(o.flags == (MS_NOSUID | MS_NOEXEC));
    CHECK_STR(o.data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
    free(o.data);

    /* crun extensions accepted and dropped. */
    PARSE_OPTS(&o, "tmpcopyup", "notmpcopyup", "copy-symlink", "rro", "rrw", "rbind");
    CHECK(o.data == NULL && o.flags == 0 && o.bind && o.recursive);

    /* A previous result is overwritten, not merged. */
    PARSE_OPTS(&o, "ro", "x=1");
    free(o.data);
    PARSE_OPTS(&o, "nodev");
    CHECK(o.flags == MS_NODEV && o.data == NULL);
}

/* runc and crun treat "defaults" as no flag; the kernel refuses it as data. */
static void test_mount_opts_defaults(void)
{
    struct mount_opts o;
    PARSE_OPTS(&o, "defaults", "ro");
    CHECK(o.flags == MS_RDONLY && o.data == NULL);
    free(o.data);
    PARSE_OPTS(&o, "size=1m", "defaults");
    CHECK(o.flags == 0);
    CHECK_STR(o.data, "size=1m");
    free(o.data);
}

/* ---- capabilities ------------------------------------------------------------------------ */

static void caps_of(struct spec_caps *c, const char *const *b, const char *const *e,
                    const char *const *a)
{
    memset(c, 0, sizeof(*c));
    c->present = true;
    for (; b && *b; b++)
        str_list_push(&c->bounding, *b);
    for (; e && *e; e++)
        str_list_push(&c->effective, *e);
    for (; a && *a; a++)
        str_list_push(&c->ambient, *a);
}

static void caps_free(struct spec_caps *c)
{
    str_list_free(&c->bounding);
    str_list_free(&c->effective);
    str_list_free(&c->inheritable);
    str_list_free(&c->permitted);
    str_list_free(&c->ambient);
}

static void test_caps_parse(void)
{
    cerr_t err = NULL;
    struct caps_set cs;
    struct spec_caps c;

    memset(&c, 0, sizeof(c));
    memset(&cs, 0xff, sizeof(cs));
    CHECK(caps_parse(&c, "process.capabilities", &cs, &err) == 0);
    CHECK(!cs.present && cs.bounding == 0 && cs.effective == 0 && cs.permitted == 0 &&
          cs.inheritable == 0 && cs.ambient == 0);

    caps_of(&c, (const char *const[]){"CAP_CHOWN", "CAP_KILL", "CAP_NET_ADMIN", NULL},
            (const char *const[]){"CAP_SYS_ADMIN", "cap_audit_write", NULL},
            (const char *const[]){"CAP_NET_BIND_SERVICE", NULL});
    str_list_push(&c.permitted, NULL); /* present but empty */
    CHECK(caps_parse(&c, "process.capabilities", &cs, &err) == 0);
    CHECK(err == NULL);
    CHECK(cs.present);
    CHECK(cs.bounding == ((1ULL << CAP_CHOWN) | (1ULL << CAP_KILL) | (1ULL << CAP_NET_ADMIN)));
    CHECK(cs.effective == ((1ULL << CAP_SYS_ADMIN) | (1ULL << CAP_AUDIT_WRITE)));
    CHECK(cs.ambient == (1ULL << CAP_NET_BIND_SERVICE));
    CHECK(cs.permitted == 0 && cs.inheritable == 0);
    caps_free(&c);

    /* Every capability up to the running kernel's last one. */
    CHECK(cap_last() >= CAP_AUDIT_READ && cap_last() < 64);
    uint64_t all = 0;
    memset(&c, 0, sizeof(c));
    c.present = true;
    for (int i = 0; i <= cap_last(); i++) {
        const char *n = cap_name_(i);
        CHECK(n != NULL);
        if (n == NULL)
            continue;
        CHECK(cap_from_name_(n) == i);
        str_list_push(&c.permitted, n);
        all |= 1ULL << i;
    }
    CHECK(caps_parse(&c, "process.capabilities", &cs, &err) == 0);
    CHECK(cs.permitted == all);
    caps_free(&c);
    CHECK_STR(cap_name_(0), "CAP_CHOWN");
    CHECK_STR(cap_name_(CAP_SYS_ADMIN), "CAP_SYS_ADMIN");
    CHECK(cap_name_(-1) == NULL && cap_name_(64) == NULL);
    CHECK(cap_from_name_("CAP_FOO") == -1 && cap_from_name_("") == -1 &&
          cap_from_name_("CHOWN") == -1);

    /* Unknown names are left out (runtime-spec 1.3: warned about, not an error;
     * runc and crun do the same). */
    caps_of(&c, (const char *const[]){"CAP_FOO", "CAP_KILL", NULL}, NULL, NULL);
    CHECK(caps_parse(&c, "process.capabilities", &cs, &err) == 0);
    CHECK(err == NULL);
    CHECK(cs.bounding == (1ULL << CAP_KILL));
    cerr_free(&err);
    caps_free(&c);
}

/* ---- cgroup_path_for ---------------------------------------------------------------------- */

static void path_is_(int line, const char *in, const char *id, bool systemd, const char *want)
{
    cerr_t err = NULL;
    char *got = cgroup_path_for(in, id, systemd, &err);
    if (got == NULL || strcmp(got, want) != 0) {
        printf("#   line %d: `%s` -> `%s` (%s), want `%s`\n", line, in ? in : "(null)",
               got ? got : "(null)", err ? cerr_msg(err) : "", want);
        unit_failed_now = 1;
    }
    free(got);
    cerr_free(&err);
}
#define PATH_IS(in, id, systemd, want) path_is_(__LINE__, in, id, systemd, want)

static void path_err_(int line, const char *in, const char *id, bool systemd, const char *want)
{
    cerr_t err = NULL;
    char *got = cgroup_path_for(in, id, systemd, &err);
    if (got != NULL) {
        printf("#   line %d: `%s` -> `%s`, want error `%s`\n", line, in ? in : "(null)", got, want);
        unit_failed_now = 1;
        free(got);
    }
    expect_msg_(line, &err, want);
}
#define PATH_ERR(in, id, systemd, want) path_err_(__LINE__, in, id, systemd, want)

static void test_cgroup_path_for(void)
{
    PATH_IS(NULL, "abc", false, "/abc");
    PATH_IS("", "abc", false, "/abc");
    PATH_IS("/machine/abc", "abc", false, "/machine/abc");
    PATH_IS("rel/path", "abc", false, "/rel/path");
    PATH_IS("//a/./b//", "abc", false, "/a/b");
    PATH_IS("/a/..b/c..", "abc", false, "/a/..b/c..");
    PATH_IS("/x", NULL, false, "/x"); /* the id is not needed when a path is given */
    PATH_ERR("/a/../b", "abc", false, "linux.cgroupsPath `/a/../b`: `..` is not allowed");
    PATH_ERR("..", "abc", false, "linux.cgroupsPath `..`: `..` is not allowed");
    PATH_ERR("a/..", "abc", false, "linux.cgroupsPath `a/..`: `..` is not allowed");
    PATH_ERR("/", "abc", false, "linux.cgroupsPath `/` names the cgroup root");
    PATH_ERR("/./.", "abc", false, "linux.cgroupsPath `/./.` names the cgroup root");
    PATH_ERR(NULL, "a/b", false, "container id `a/b` cannot name a cgroup");
    PATH_ERR(NULL, "..", false, "container id `..` cannot name a cgroup");
    PATH_ERR(NULL, NULL, false, "container id `` cannot name a cgroup");

    /* systemd: slice:prefix:name */
    PATH_IS(NULL, "abc", true, "/system.slice/cella-abc.scope");
    PATH_IS("", "abc", true, "/system.slice/cella-abc.scope");
    PATH_IS("machine.slice:podman:abc", "abc", true, "/machine.slice/podman-abc.scope");
    PATH_IS(":p:n", "abc", true, "/system.slice/p-n.scope");
    PATH_IS("user-1000.slice:p:n", "abc", true, "/user.slice/user-1000.slice/p-n.scope");
    PATH_IS("a-b-c.slice:p:n", "abc", true, "/a.slice/a-b.slice/a-b-c.slice/p-n.scope");
    PATH_IS("-.slice:p:n", "abc", true, "/p-n.scope");
    PATH_IS("x.slice::n", "abc", true, "/x.slice/n.scope");
    PATH_IS("x.slice:p:n.slice", "abc", true, "/x.slice/n.slice");
    PATH_ERR("foo", "abc", true,
             "linux.cgroupsPath `foo`: with systemd cgroups it must be `slice:prefix:name`");
    PATH_ERR("a:b", "abc", true,
             "linux.cgroupsPath `a:b`: with systemd cgroups it must be `slice:prefix:name`");
    PATH_ERR("a:b:c:d", "abc", true,
             "linux.cgroupsPath `a:b:c:d`: with systemd cgroups it must be `slice:prefix:name`");
    PATH_ERR("bad:p:n", "abc", true, "linux.cgroupsPath `bad:p:n`: invalid slice name `bad`");
    PATH_ERR("a--b.slice:p:n", "abc", true,
             "linux.cgroupsPath `a--b.slice:p:n`: invalid slice name `a--b.slice`");
    PATH_ERR("-a.slice:p:n", "abc", true,
             "linux.cgroupsPath `-a.slice:p:n`: invalid slice name `-a.slice`");
    PATH_ERR(".slice:p:n", "abc", true,
             "linux.cgroupsPath `.slice:p:n`: invalid slice name `.slice`");
    PATH_ERR("x.slice:p:..", "abc", true, "linux.cgroupsPath `x.slice:p:..`: invalid unit name");
    PATH_ERR("x.slice:p:", "abc", true, "linux.cgroupsPath `x.slice:p:`: invalid unit name");
    PATH_ERR("x.slice:..:n", "abc", true, "linux.cgroupsPath `x.slice:..:n`: invalid unit name");
    PATH_ERR("x.slice:a/b:n", "abc", true, "linux.cgroupsPath `x.slice:a/b:n`: invalid unit name");
    PATH_ERR("x.slice:p:a/b", "abc", true, "linux.cgroupsPath `x.slice:p:a/b`: invalid unit name");
    PATH_ERR(NULL, "a/b", true, "container id `a/b` cannot name a cgroup");
}

/* ---- cli_signal --------------------------------------------------------------------------- */

static void test_cli_signal(void)
{
    static const struct {
        const char *s;
        int sig;
    } good[] = {
        {"KILL", SIGKILL},    {"SIGKILL", SIGKILL},
        {"kill", SIGKILL},    {"sigkill", SIGKILL},
        {"SigKill", SIGKILL}, {"9", SIGKILL},
        {"TERM", SIGTERM},    {"SIGTERM", SIGTERM},
        {"15", SIGTERM},      {"HUP", SIGHUP},
        {"1", SIGHUP},        {"USR1", SIGUSR1},
        {"SIGUSR2", SIGUSR2}, {"WINCH", SIGWINCH},
        {"STOP", SIGSTOP},    {"CONT", SIGCONT},
        {"SYS", SIGSYS},      {"31", 31},
        {"64", 64},           {"0", 0}, /* `kill ID 0`: is it alive (runc) */
    };
    cerr_t err = NULL;
    for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
        int r = cli_signal(good[i].s, &err);
        if (r != good[i].sig) {
            printf("#   `%s` -> %d (%s), want %d\n", good[i].s, r, cerr_msg(err), good[i].sig);
            unit_failed_now = 1;
        }
        cerr_free(&err);
    }
    CHECK(SIGRTMAX == 64);
    CHECK(cli_signal("RTMIN+1", &err) == SIGRTMIN + 1);
    CHECK(cli_signal("SIGRTMIN+1", &err) == SIGRTMIN + 1);
    CHECK(cli_signal("rtmin+0", &err) == SIGRTMIN);
    CHECK(cli_signal("RTMIN+30", &err) == SIGRTMAX);
    CHECK(err == NULL);
    cerr_free(&err);

    static const char *const bad[] = {"-1",
                                      "65",
                                      "1000",
                                      "",
                                      "FOO",
                                      "SIGFOO",
                                      "SIG",
                                      "KILLX",
                                      "9x",
                                      "RTMIN+31",
                                      "RTMIN+",
                                      "RTMIN+x",
                                      "RTMIN+99999999999999999999",
                                      "SIG9",
                                      "99999999999999999999"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        CHECK(cli_signal(bad[i], &err) == -1);
        autofree char *want = xasprintf("unknown signal `%s`", bad[i]);
        EXPECT_MSG(err, want);
    }
}

/* A negative offset must not reach signals below SIGRTMIN. */
static void test_cli_signal_rtmin_negative(void)
{
    static const char *const bad[] = {"RTMIN+-5", "SIGRTMIN+-1", "RTMAX--1"};
    cerr_t err = NULL;
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        CHECK(cli_signal(bad[i], &err) == -1);
        autofree char *want = xasprintf("unknown signal `%s`", bad[i]);
        EXPECT_MSG(err, want);
    }
}

/* ---- main ------------------------------------------------------------------------------------ */

int main(void)
{
    umask(022);
    snprintf(tmp, sizeof(tmp), "/tmp/cella-test-core-XXXXXX");
    if (mkdtemp(tmp) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_cerr_set);
    RUN(test_cerr_wrap);
    RUN(test_read_write_file);
    RUN(test_write_file_atomic);
    RUN(test_mkdir_p);
    RUN(test_mkdir_p_file);
    RUN(test_rm_rf);
    RUN(test_parse_long);
    RUN(test_xhelpers);
    RUN(test_proc_self);
    RUN(test_proc_child);
    RUN(test_state_check_id);
    RUN(test_state_check_id_first_char);
    RUN(test_state_dirs);
    RUN(test_state_save_load);
    RUN(test_state_oci_json);
    RUN(test_state_live_status);
    RUN(test_state_list_ids);
    RUN(test_mount_opts);
    RUN(test_mount_opts_defaults);
    RUN(test_caps_parse);
    RUN(test_cgroup_path_for);
    RUN(test_cli_signal);
    RUN(test_cli_signal_rtmin_negative);
    rm_rf(tmp);
    return UNIT_DONE();
}
