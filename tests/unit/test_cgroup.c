/* Unit tests for src/cgroup/. The pure tests (cgroup_path_for)
 * run anywhere; the others need root and create cgroups named
 * /cella-test-PID... which they remove again. On a hybrid host the v2 code is
 * also exercised against the (controller-less) /sys/fs/cgroup/unified tree. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "cgroup/cgroup.h"
#include "unit.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif

#define MiB     (1024LL * 1024LL)
#define ROOTLEN 512

/* Test hook in src/cgroup/common.c: act as if pure v2 were mounted at mnt (NULL: detect again). */
void cgroup__force_v2(const char *mnt);

static char test_base[64]; /* "/cella-test-PID" */

/* ---- helpers ------------------------------------------------------------------ */

static bool is_fs(const char *path, long magic)
{
    struct statfs sf;
    return statfs(path, &sf) == 0 && (long)sf.f_type == magic;
}

/* Every hierarchy root cella uses on this host. */
static size_t hier_roots(char roots[][ROOTLEN], size_t max)
{
    size_t n = 0;
    if (cgroup_mode() == CGROUP_V2) {
        snprintf(roots[n++], ROOTLEN, "/sys/fs/cgroup");
        return n;
    }
    static const char *const used[] = {"cpu",     "cpuacct", "cpuset", "memory",  "pids",
                                       "devices", "freezer", "blkio",  "systemd", "unified"};
    DIR *d = opendir("/sys/fs/cgroup");
    if (d == NULL)
        return 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && n < max) {
        char p[ROOTLEN];
        struct stat st;
        snprintf(p, sizeof(p), "/sys/fs/cgroup/%s", de->d_name);
        if (de->d_name[0] == '.' || lstat(p, &st) < 0 || !S_ISDIR(st.st_mode))
            continue;
        if (!is_fs(p, CGROUP_SUPER_MAGIC) && !is_fs(p, CGROUP2_SUPER_MAGIC))
            continue;
        bool ours = false;
        char names[ROOTLEN];
        snprintf(names, sizeof(names), "%s", de->d_name);
        for (char *s = NULL, *t = strtok_r(names, ",", &s); t; t = strtok_r(NULL, ",", &s))
            for (size_t i = 0; i < ARRAY_SIZE(used); i++)
                ours |= strcmp(t, used[i]) == 0;
        if (ours)
            snprintf(roots[n++], ROOTLEN, "%s", p);
    }
    closedir(d);
    return n;
}

/* The v1 hierarchy root holding controller `c` (co-mounts allowed), NULL if none. */
static char *v1_root(const char *c)
{
    char roots[16][ROOTLEN];
    size_t n = hier_roots(roots, 16);
    for (size_t i = 0; i < n; i++) {
        char names[ROOTLEN];
        snprintf(names, sizeof(names), "%s", strrchr(roots[i], '/') + 1);
        for (char *s = NULL, *t = strtok_r(names, ",", &s); t; t = strtok_r(NULL, ",", &s))
            if (strcmp(t, c) == 0)
                return xstrdup(roots[i]);
    }
    return NULL;
}

/* Contents of ROOT PATH/FILE, trailing newline removed ("" when unreadable). */
static char *rd(const char *root, const char *path, const char *file)
{
    autofree char *p = xasprintf("%s%s/%s", root, path, file);
    char *s = read_file(p, NULL, NULL);
    if (s == NULL)
        return xstrdup("");
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '\n')
        s[--n] = '\0';
    return s;
}

static char *rd_v1(const char *ctrl, const char *path, const char *file)
{
    autofree char *root = v1_root(ctrl);
    return root ? rd(root, path, file) : xstrdup("");
}

static bool dir_exists(const char *root, const char *path)
{
    autofree char *p = xasprintf("%s%s", root, path);
    struct stat st;
    return stat(p, &st) == 0;
}

static bool has_line(const char *text, const char *line)
{
    size_t l = strlen(line);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, line, l) == 0 && (p[l] == '\n' || p[l] == '\0'))
            return true;
    return false;
}

static bool has_pid(const char *text, pid_t pid)
{
    char b[24];
    snprintf(b, sizeof(b), "%d", (int)pid);
    return has_line(text, b);
}

/* A child that sleeps forever; it forks GRANDCHILDREN more once released through
 * *release (a pipe write end, -1 when grandchildren == 0). */
static pid_t spawn_sleeper_r(int grandchildren, int *release)
{
    int p[2] = {-1, -1};
    if (grandchildren > 0 && pipe(p) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        if (grandchildren > 0) {
            char c;
            close(p[1]);
            if (read(p[0], &c, 1) != 1)
                _exit(1);
        }
        for (int i = 0; i < grandchildren; i++)
            if (fork() == 0)
                break;
        for (;;)
            pause();
    }
    if (grandchildren > 0) {
        close(p[0]);
        *release = p[1];
    }
    return pid;
}

static pid_t spawn_sleeper(void)
{
    return spawn_sleeper_r(0, NULL);
}

/* Reap PID; its terminating signal (0 if it exited or was not ours). */
static int reap(pid_t pid)
{
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return 0;
    return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

static bool err_has(cerr_t e, const char *what)
{
    return e != NULL && strstr(cerr_msg(e), what) != NULL;
}

/* Best effort: remove PATH (deepest first) from every hierarchy root. */
static void rm_cgroup(const char *root, const char *path)
{
    autofree char *dir = xasprintf("%s%s", root, path);
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (de->d_type == DT_DIR && de->d_name[0] != '.') {
            autofree char *sub = xasprintf("%s/%s", path, de->d_name);
            rm_cgroup(root, sub);
        }
    closedir(d);
    rmdir(dir);
}

static void rm_everywhere(const char *path)
{
    char roots[16][ROOTLEN];
    size_t n = hier_roots(roots, 16);
    for (size_t i = 0; i < n; i++)
        rm_cgroup(roots[i], path);
}

static bool gone_everywhere(const char *path)
{
    char roots[16][ROOTLEN];
    size_t n = hier_roots(roots, 16);
    bool gone = n > 0;
    for (size_t i = 0; i < n; i++)
        if (dir_exists(roots[i], path)) {
            printf("#   `%s%s` still exists\n", roots[i], path);
            gone = false;
        }
    return gone;
}

static bool root_ok(void)
{
    return geteuid() == 0 && access("/sys/fs/cgroup", W_OK) == 0;
}

/* ---- cgroup_path_for ------------------------------------------------------------ */

static void check_path(const char *in, const char *id, bool systemd, const char *want)
{
    cerr_t err = NULL;
    autofree char *got = cgroup_path_for(in, id, systemd, &err);
    if (want == NULL) {
        if (got != NULL)
            printf("#   `%s` gave `%s`, expected an error\n", in ? in : "(null)", got);
        CHECK(got == NULL);
        CHECK(err_has(err, want == NULL && in && in[0] ? "linux.cgroupsPath" : ""));
    } else {
        if (got == NULL)
            printf("#   `%s`: %s\n", in ? in : "(null)", cerr_msg(err));
        CHECK_STR(got, want);
    }
    cerr_free(&err);
}

static void test_path_for_cgroupfs(void)
{
    check_path(NULL, "abc", false, "/abc");
    check_path("", "abc", false, "/abc");
    check_path("/a/b", "abc", false, "/a/b");
    check_path("a/b", "abc", false, "/a/b");
    check_path("//a//./b/", "abc", false, "/a/b");
    check_path("/x:y:z", "abc", false, "/x:y:z");
    check_path("/a/../b", "abc", false, NULL);
    check_path("..", "abc", false, NULL);
    check_path("/", "abc", false, NULL);
    check_path("/./", "abc", false, NULL);
    check_path(NULL, "a/b", false, NULL);
    check_path(NULL, "..", false, NULL);
    check_path(NULL, "", false, NULL);
}

static void test_path_for_systemd(void)
{
    check_path("system.slice:cella:abc", "abc", true, "/system.slice/cella-abc.scope");
    check_path(":cella:abc", "abc", true, "/system.slice/cella-abc.scope");
    check_path(NULL, "abc", true, "/system.slice/cella-abc.scope");
    check_path("", "abc", true, "/system.slice/cella-abc.scope");
    check_path("a-b.slice:p:n", "abc", true, "/a.slice/a-b.slice/p-n.scope");
    check_path("a-b-c.slice:p:n", "abc", true, "/a.slice/a-b.slice/a-b-c.slice/p-n.scope");
    check_path("-.slice:p:n", "abc", true, "/p-n.scope");
    check_path("machine.slice::n", "abc", true, "/machine.slice/n.scope");
    check_path("user.slice:p:x.slice", "abc", true, "/user.slice/x.slice");
    check_path("/a/b", "abc", true, NULL);
    check_path("a:b", "abc", true, NULL);
    check_path("a:b:c:d", "abc", true, NULL);
    check_path("bad:p:n", "abc", true, NULL);
    check_path("a--b.slice:p:n", "abc", true, NULL);
    check_path("a-.slice:p:n", "abc", true, NULL);
    check_path("x/y.slice:p:n", "abc", true, NULL);
    check_path("x.slice:p:..", "abc", true, NULL);
    check_path("x.slice:p:a/b", "abc", true, NULL);
    check_path("x.slice:p:", "abc", true, NULL);
    check_path(NULL, "../x", true, NULL);
}

static void test_mode(void)
{
    enum cgroup_mode m = cgroup_mode();
    printf("# cgroup mode: %s\n", cgroup_mode_name(m));
    CHECK_STR(cgroup_mode_name(CGROUP_V1), "v1");
    CHECK_STR(cgroup_mode_name(CGROUP_HYBRID), "hybrid");
    CHECK_STR(cgroup_mode_name(CGROUP_V2), "v2");
    if (is_fs("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC))
        CHECK(m == CGROUP_V2);
    else if (is_fs("/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC) &&
             is_fs("/sys/fs/cgroup/memory", CGROUP_SUPER_MAGIC))
        CHECK(m == CGROUP_HYBRID);
    else if (is_fs("/sys/fs/cgroup/memory", CGROUP_SUPER_MAGIC))
        CHECK(m == CGROUP_V1);
}

static void test_bad_paths(void)
{
    cerr_t err = NULL;
    CHECK(cgroup_create("relative", NULL, 0, &err) < 0);
    CHECK(err_has(err, "relative"));
    cerr_free(&err);
    CHECK(cgroup_create("/a/../b", NULL, 0, &err) < 0);
    cerr_free(&err);
    CHECK(cgroup_destroy("/", &err) < 0);
    cerr_free(&err);
    CHECK(!cgroup_is_frozen("/a//b"));
}

/* ---- the real host --------------------------------------------------------------- */

static void test_lifecycle(void)
{
    if (!root_ok())
        SKIP("needs root and a writable /sys/fs/cgroup");
    enum cgroup_mode mode = cgroup_mode();
    bool v2 = mode == CGROUP_V2;
    autofree char *path = xasprintf("%s/ctr", test_base);
    cerr_t err = NULL;

    struct spec_resources r = {.present = true};
    r.memory.limit.set = true;
    r.memory.limit.v = 64 * MiB;
    autofree char *memdir = v2 ? xstrdup("/sys/fs/cgroup") : v1_root("memory");
    /* Swap is exercised on v1 (memsw) only. */
    bool swap_acct = memdir != NULL && !v2 && dir_exists(memdir, "/memory.memsw.limit_in_bytes");
    if (swap_acct) {
        r.memory.swap.set = true;
        r.memory.swap.v = 128 * MiB;
    }
    r.pids.limit.set = true;
    r.pids.limit.v = 10;
    r.cpu.quota.set = r.cpu.period.set = r.cpu.shares.set = true;
    r.cpu.quota.v = 50000;
    r.cpu.period.v = 100000;
    r.cpu.shares.v = 512;
    r.cpu.cpus = "0";
    struct spec_dev_cgroup devs[] = {
        {.allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm"},
        {.allow = true, .type = 'c', .major = 10, .minor = 229, .access = "rwm"},
        {.allow = true, .type = 'b', .major = 7, .minor = -1, .access = "r"},
    };
    r.devices = devs;
    r.n_devices = ARRAY_SIZE(devs);

    pid_t child = spawn_sleeper();
    CHECK(child > 0);
    if (cgroup_create(path, &r, child, &err) < 0) {
        printf("#   create: %s\n", cerr_msg(err));
        CHECK(0);
        cerr_free(&err);
        kill(child, SIGKILL);
        reap(child);
        return;
    }

    /* Membership everywhere, unified tree included in hybrid mode. */
    char roots[16][ROOTLEN];
    size_t nroots = hier_roots(roots, 16);
    CHECK(nroots > 0);
    for (size_t i = 0; i < nroots; i++) {
        autofree char *procs = rd(roots[i], path, "cgroup.procs");
        if (!has_pid(procs, child))
            printf("#   pid %d not in %s%s\n", (int)child, roots[i], path);
        CHECK(has_pid(procs, child));
    }
    if (mode == CGROUP_HYBRID) {
        autofree char *procs = rd("/sys/fs/cgroup/unified", path, "cgroup.procs");
        CHECK(has_pid(procs, child));
    }

    /* Knobs. */
    if (v2) {
        autofree char *a = rd("/sys/fs/cgroup", path, "memory.max");
        autofree char *b = rd("/sys/fs/cgroup", path, "pids.max");
        autofree char *c = rd("/sys/fs/cgroup", path, "cpu.max");
        autofree char *d = rd("/sys/fs/cgroup", path, "cpu.weight");
        autofree char *e = rd("/sys/fs/cgroup", path, "cpuset.cpus");
        CHECK_STR(a, "67108864");
        CHECK_STR(b, "10");
        CHECK_STR(c, "50000 100000");
        CHECK_STR(d, "20"); /* 1 + (510 * 9999) / 262142 */
        CHECK_STR(e, "0");
    } else {
        autofree char *a = rd_v1("memory", path, "memory.limit_in_bytes");
        autofree char *b = rd_v1("pids", path, "pids.max");
        autofree char *c = rd_v1("cpu", path, "cpu.cfs_quota_us");
        autofree char *d = rd_v1("cpu", path, "cpu.cfs_period_us");
        autofree char *e = rd_v1("cpu", path, "cpu.shares");
        autofree char *f = rd_v1("cpuset", path, "cpuset.cpus");
        autofree char *g = rd_v1("cpuset", path, "cpuset.mems");
        autofree char *pm = rd_v1("cpuset", test_base, "cpuset.mems");
        autofree char *rm = rd_v1("cpuset", "", "cpuset.mems");
        autofree char *dl = rd_v1("devices", path, "devices.list");
        CHECK_STR(a, "67108864");
        CHECK_STR(b, "10");
        CHECK_STR(c, "50000");
        CHECK_STR(d, "100000");
        CHECK_STR(e, "512");
        CHECK_STR(f, "0");
        CHECK_STR(g, rm); /* copied from the parent, itself from the root */
        CHECK_STR(pm, rm);
        CHECK(has_line(dl, "c 10:229 rwm"));
        CHECK(has_line(dl, "b 7:* r"));
        CHECK(has_line(dl, "c 1:3 rwm"));
        CHECK(has_line(dl, "c 136:* rwm"));
        CHECK(!has_line(dl, "a *:* rwm"));
        if (swap_acct) {
            autofree char *s = rd_v1("memory", path, "memory.memsw.limit_in_bytes");
            CHECK_STR(s, "134217728");
        }
    }

    /* A second process joins (exec). */
    pid_t child2 = spawn_sleeper();
    CHECK(cgroup_enter(path, child2, &err) == 0);
    cerr_free(&err);

    pid_t *pids = NULL;
    size_t n = 0;
    CHECK(cgroup_pids(path, &pids, &n, &err) == 0);
    CHECK(n == 2);
    CHECK(n == 2 && pids[0] == (child < child2 ? child : child2) &&
          pids[1] == (child < child2 ? child2 : child));
    free(pids);
    cerr_free(&err);

    /* Update: lower memory below the old memsw, then raise both (v1 write order). */
    struct spec_resources u = {.present = true};
    u.memory.limit.set = true;
    u.memory.limit.v = 32 * MiB;
    u.memory.swap.set = swap_acct;
    u.memory.swap.v = 32 * MiB;
    u.pids.limit.set = true;
    u.pids.limit.v = 0;
    CHECK(cgroup_apply(path, &u, &err) == 0);
    if (err)
        printf("#   apply: %s\n", cerr_msg(err));
    cerr_free(&err);
    autofree char *m1 = v2 ? rd("/sys/fs/cgroup", path, "memory.max")
                           : rd_v1("memory", path, "memory.limit_in_bytes");
    autofree char *p1 =
        v2 ? rd("/sys/fs/cgroup", path, "pids.max") : rd_v1("pids", path, "pids.max");
    CHECK_STR(m1, "33554432");
    CHECK_STR(p1, "max");
    if (swap_acct) {
        autofree char *s1 = rd_v1("memory", path, "memory.memsw.limit_in_bytes");
        CHECK_STR(s1, "33554432");
    }
    u.memory.limit.v = 256 * MiB;
    u.memory.swap.v = 512 * MiB;
    u.pids.limit.set = false;
    CHECK(cgroup_apply(path, &u, &err) == 0);
    if (err)
        printf("#   apply: %s\n", cerr_msg(err));
    cerr_free(&err);
    autofree char *m2 = v2 ? rd("/sys/fs/cgroup", path, "memory.max")
                           : rd_v1("memory", path, "memory.limit_in_bytes");
    CHECK_STR(m2, "268435456");
    if (swap_acct) {
        autofree char *s2 = rd_v1("memory", path, "memory.memsw.limit_in_bytes");
        CHECK_STR(s2, "536870912");
    }
    /* swap below the limit is refused. */
    u.memory.limit.v = 64 * MiB;
    u.memory.swap.set = true;
    u.memory.swap.v = 32 * MiB;
    CHECK(cgroup_apply(path, &u, &err) < 0);
    CHECK(err_has(err, "swap"));
    cerr_free(&err);

    /* blockIO.weight: applied, or an error naming the knob when the host has none. */
    struct spec_resources w = {.present = true};
    w.blkio.weight.set = true;
    w.blkio.weight.v = 500;
    if (!v2) {
        autofree char *bw = rd_v1("blkio", path, "blkio.weight");
        autofree char *bb = rd_v1("blkio", path, "blkio.bfq.weight");
        int rc = cgroup_apply(path, &w, &err);
        if (bw[0] == '\0' && bb[0] == '\0') {
            CHECK(rc < 0);
            CHECK(err_has(err, "blkio.weight"));
            CHECK(err_has(err, "linux.resources.blockIO.weight"));
        } else {
            CHECK(rc == 0);
        }
        cerr_free(&err);
    }

    /* linux.resources.unified: pure v2 only (runc 1.1 refuses it on hybrid hosts too). */
    struct kv kv = {.key = "cgroup.max.descendants", .value = "5"};
    struct spec_resources un = {.present = true, .unified = {.v = &kv, .n = 1}};
    int rc = cgroup_apply(path, &un, &err);
    if (mode != CGROUP_V2) {
        CHECK(rc < 0);
        CHECK(err_has(err, "linux.resources.unified: invalid configuration"));
    } else {
        CHECK(rc == 0);
        autofree char *got = rd("/sys/fs/cgroup", path, "cgroup.max.descendants");
        CHECK_STR(got, "5");
    }
    cerr_free(&err);
    struct kv bad = {.key = "../cgroup.procs", .value = "1"};
    un.unified.v = &bad;
    CHECK(cgroup_apply(path, &un, &err) < 0);
    cerr_free(&err);

    /* Freeze, thaw. */
    CHECK(!cgroup_is_frozen(path));
    CHECK(cgroup_freeze(path, true, &err) == 0);
    if (err)
        printf("#   freeze: %s\n", cerr_msg(err));
    cerr_free(&err);
    CHECK(cgroup_is_frozen(path));
    if (!v2) {
        autofree char *st = rd_v1("freezer", path, "freezer.state");
        CHECK_STR(st, "FROZEN");
    }
    CHECK(cgroup_freeze(path, false, &err) == 0);
    cerr_free(&err);
    CHECK(!cgroup_is_frozen(path));

    /* kill --all with a signal other than SIGKILL goes pid by pid. */
    CHECK(cgroup_kill_all(path, SIGTERM, &err) == 0);
    cerr_free(&err);
    CHECK(reap(child) == SIGTERM);
    CHECK(reap(child2) == SIGTERM);
    CHECK(cgroup_pids(path, &pids, &n, &err) == 0);
    CHECK(n == 0);
    free(pids);
    cerr_free(&err);

    CHECK(cgroup_destroy(path, &err) == 0);
    if (err)
        printf("#   destroy: %s\n", cerr_msg(err));
    cerr_free(&err);
    CHECK(gone_everywhere(path));
    /* The parent was left alone. */
    for (size_t i = 0; i < nroots; i++)
        CHECK(dir_exists(roots[i], test_base));
    /* Destroying again is fine. */
    CHECK(cgroup_destroy(path, &err) == 0);
    cerr_free(&err);
    rm_everywhere(test_base);
    CHECK(gone_everywhere(test_base));
}

static void test_destroy_kills_everything(void)
{
    if (!root_ok())
        SKIP("needs root and a writable /sys/fs/cgroup");
    autofree char *path = xasprintf("%s/kill", test_base);
    cerr_t err = NULL;
    int release = -1;
    pid_t child = spawn_sleeper_r(2, &release); /* forks two more once it joined */
    CHECK(cgroup_create(path, NULL, child, &err) == 0);
    if (err)
        printf("#   create: %s\n", cerr_msg(err));
    cerr_free(&err);
    CHECK(write(release, "g", 1) == 1);
    close(release);

    /* Give the container a sub-cgroup of its own (in the pids hierarchy) and move the main
     * process there: cgroup_pids and destroy must see through it. */
    autofree char *root = cgroup_mode() == CGROUP_V2 ? xstrdup("/sys/fs/cgroup") : v1_root("pids");
    autofree char *sub = xasprintf("%s%s/sub", root ? root : "/nonexistent", path);
    bool made_sub = root != NULL && mkdir(sub, 0755) == 0;
    if (made_sub) {
        autofree char *procs = xasprintf("%s/cgroup.procs", sub);
        char b[24];
        snprintf(b, sizeof(b), "%d", (int)child);
        CHECK(write_knob(procs, b, &err) == 0);
        cerr_free(&err);
    }

    pid_t *pids = NULL;
    size_t n = 0;
    for (int i = 0; i < 200; i++) { /* wait for the grandchildren */
        free(pids);
        pids = NULL;
        CHECK(cgroup_pids(path, &pids, &n, &err) == 0);
        cerr_free(&err);
        if (n >= 3)
            break;
        usleep(5000);
    }
    CHECK(n == 3);
    if (n != 3)
        printf("#   %zu pids\n", n);
    bool found = false;
    for (size_t i = 0; i < n; i++)
        found |= pids[i] == child;
    CHECK(found);
    free(pids);

    CHECK(cgroup_destroy(path, &err) == 0);
    if (err)
        printf("#   destroy: %s\n", cerr_msg(err));
    cerr_free(&err);
    CHECK(reap(child) == SIGKILL);
    CHECK(gone_everywhere(path));
    rm_everywhere(test_base);
    CHECK(gone_everywhere(test_base));
}

static void test_create_failure_leaves_nothing(void)
{
    if (!root_ok())
        SKIP("needs root and a writable /sys/fs/cgroup");
    autofree char *base = xasprintf("%s-fail", test_base);
    autofree char *path = xasprintf("%s/a/ctr", base);
    cerr_t err = NULL;

    /* A bad resource value. */
    struct spec_resources r = {.present = true};
    r.cpu.cpus = "9999";
    CHECK(cgroup_create(path, &r, 0, &err) < 0);
    CHECK(err_has(err, "cpuset.cpus"));
    CHECK(err_has(err, "linux.resources.cpu.cpus"));
    cerr_free(&err);
    CHECK(gone_everywhere(base));

    /* A pid that cannot join. */
    CHECK(cgroup_create(path, NULL, 999999999, &err) < 0);
    CHECK(err_has(err, "cgroup.procs"));
    cerr_free(&err);
    CHECK(gone_everywhere(base));

    /* Operations on a missing cgroup. */
    struct spec_resources p = {.present = true};
    p.pids.limit.set = true;
    p.pids.limit.v = 3;
    CHECK(cgroup_apply(path, &p, &err) < 0);
    CHECK(err_has(err, path));
    cerr_free(&err);
    pid_t *pids = NULL;
    size_t n = 0;
    CHECK(cgroup_pids(path, &pids, &n, &err) < 0);
    CHECK(pids == NULL && n == 0);
    cerr_free(&err);
    CHECK(cgroup_freeze(path, true, &err) < 0);
    cerr_free(&err);
    CHECK(cgroup_destroy(path, &err) == 0);
    cerr_free(&err);
    rm_everywhere(base);
}

/* ---- an existing cgroup, statistics --------------------------------------------- */

static void test_existing_and_stats(void)
{
    if (!root_ok())
        SKIP("needs root and a writable /sys/fs/cgroup");
    autofree char *path = xasprintf("%s/stats", test_base);
    cerr_t err = NULL;
    /* Missing: fine, and no statistics. */
    CHECK(cgroup_check_existing(path, &err) == 0);
    CHECK(cgroup_stats(path, &err) == NULL && err_has(err, path));
    cerr_free(&err);

    pid_t child = spawn_sleeper();
    struct spec_resources r = {.present = true};
    r.memory.limit.set = true;
    r.memory.limit.v = 64 * MiB;
    CHECK(cgroup_create(path, &r, child, &err) == 0);
    if (err)
        printf("#   create: %s\n", cerr_msg(err));
    cerr_free(&err);
    /* Holding a process: a warning, not an error; 1 says it is shared. */
    CHECK(cgroup_check_existing(path, &err) == 1);
    cerr_free(&err);

    json_t *d = cgroup_stats(path, &err);
    CHECK(d != NULL);
    if (d != NULL) {
        json_t *pids = json_object_get(d, "pids"), *mem = json_object_get(d, "memory");
        autofree char *ctrls = rd("/sys/fs/cgroup", path, "cgroup.controllers");
        autofree char *pids_root = v1_root("pids");
        bool have_pids =
            cgroup_mode() == CGROUP_V2 ? strstr(ctrls, "pids") != NULL : pids_root != NULL;
        if (have_pids)
            CHECK(json_integer_value(json_object_get(pids, "current")) == 1);
        json_t *usage = json_object_get(mem, "usage");
        autofree char *mem_root = v1_root("memory");
        if (cgroup_mode() != CGROUP_V2 && mem_root != NULL)
            CHECK(json_integer_value(json_object_get(usage, "limit")) == 64 * MiB);
        CHECK(json_object_get(json_object_get(d, "cpu"), "usage") != NULL);
        CHECK(json_is_null(json_object_get(d, "network_interfaces")));
        json_decref(d);
    }
    cerr_free(&err);

    /* Frozen: refused, naming the cgroup. */
    CHECK(cgroup_freeze(path, true, &err) == 0);
    cerr_free(&err);
    CHECK(cgroup_check_existing(path, &err) < 0 && err_has(err, "unexpectedly frozen") &&
          err_has(err, path));
    cerr_free(&err);
    CHECK(cgroup_freeze(path, false, &err) == 0);
    cerr_free(&err);
    CHECK(cgroup_check_existing(path, &err) == 1);
    cerr_free(&err);
    CHECK(cgroup_destroy(path, &err) == 0);
    cerr_free(&err);
    CHECK(reap(child) == SIGKILL);
}

/* ---- v2 code paths against the hybrid unified tree ---------------------------- */

static void test_v2_on_unified(void)
{
    const char *mnt = "/sys/fs/cgroup/unified";
    if (!root_ok())
        SKIP("needs root and a writable /sys/fs/cgroup");
    if (cgroup_mode() != CGROUP_HYBRID)
        SKIP("no hybrid /sys/fs/cgroup/unified tree (v2 paths are covered by test_lifecycle on "
             "a v2 host)");
    autofree char *base = xasprintf("%s-v2", test_base);
    autofree char *path = xasprintf("%s/ctr", base);
    autofree char *root_on = rd(mnt, "", "cgroup.subtree_control");
    autofree char *root_avail = rd(mnt, "", "cgroup.controllers");
    cerr_t err = NULL;

    cgroup__force_v2(mnt);
    CHECK(cgroup_mode() == CGROUP_V2);

    /* Memory settings only cgroup v1 has: refused up front, not ignored. */
    struct spec_resources v1only = {.present = true};
    v1only.memory.swappiness.set = true;
    v1only.memory.swappiness.v = 10;
    CHECK(cgroup_check_resources(&v1only, &err) < 0 &&
          err_has(err, "linux.resources.memory.swappiness: cgroup v2 has no such setting"));
    cerr_free(&err);
    v1only.memory.swappiness.set = false;
    v1only.memory.disable_oom_killer.set = v1only.memory.disable_oom_killer.v = true;
    CHECK(cgroup_check_resources(&v1only, &err) < 0 &&
          err_has(err, "linux.resources.memory.disableOOMKiller: cgroup v2"));
    cerr_free(&err);
    v1only.memory.disable_oom_killer.v = false; /* the default: nothing asked */
    v1only.memory.use_hierarchy.set = true;
    v1only.memory.use_hierarchy.v = false;
    CHECK(cgroup_check_resources(&v1only, &err) < 0 &&
          err_has(err, "linux.resources.memory.useHierarchy: false cannot be applied"));
    cerr_free(&err);
    v1only.memory.use_hierarchy.v = true;
    CHECK(cgroup_check_resources(&v1only, &err) == 0);
    cerr_free(&err);

    /* Resources needing a controller the tree lacks: error, nothing left. */
    struct spec_resources m = {.present = true};
    m.memory.limit.set = true;
    m.memory.limit.v = 64 * MiB;
    CHECK(cgroup_create(path, &m, 0, &err) < 0);
    CHECK(err_has(err, "`memory` controller"));
    CHECK(err_has(err, "linux.resources.memory"));
    cerr_free(&err);
    CHECK(!dir_exists(mnt, base));

    pid_t child = spawn_sleeper();
    CHECK(cgroup_create(path, NULL, child, &err) == 0);
    if (err)
        printf("#   create: %s\n", cerr_msg(err));
    cerr_free(&err);
    autofree char *procs = rd(mnt, path, "cgroup.procs");
    CHECK(has_pid(procs, child));
    /* Every controller of the root reached the leaf through the ancestors. */
    autofree char *leaf_avail = rd(mnt, path, "cgroup.controllers");
    CHECK_STR(leaf_avail, root_avail);

    struct spec_resources p = {.present = true};
    p.pids.limit.set = true;
    p.pids.limit.v = 5;
    CHECK(cgroup_apply(path, &p, &err) < 0);
    CHECK(err_has(err, "`pids` controller"));
    cerr_free(&err);

    struct kv kv = {.key = "cgroup.max.depth", .value = "3"};
    struct spec_resources un = {.present = true, .unified = {.v = &kv, .n = 1}};
    CHECK(cgroup_apply(path, &un, &err) == 0);
    cerr_free(&err);
    autofree char *depth = rd(mnt, path, "cgroup.max.depth");
    CHECK_STR(depth, "3");
    if (strstr(leaf_avail, "hugetlb")) {
        autofree char *f = xasprintf("%s%s/hugetlb.2MB.max", mnt, path);
        if (access(f, F_OK) == 0) {
            struct kv h = {.key = "hugetlb.2MB.max", .value = "4194304"};
            un.unified.v = &h;
            CHECK(cgroup_apply(path, &un, &err) == 0);
            cerr_free(&err);
            autofree char *got = rd(mnt, path, "hugetlb.2MB.max");
            CHECK_STR(got, "4194304");
            printf("# v2: hugetlb enabled through the ancestors and set via unified\n");
        }
    }

    pid_t *pids = NULL;
    size_t n = 0;
    CHECK(cgroup_pids(path, &pids, &n, &err) == 0);
    CHECK(n == 1 && pids[0] == child);
    free(pids);
    cerr_free(&err);

    CHECK(cgroup_freeze(path, true, &err) == 0);
    if (err)
        printf("#   freeze: %s\n", cerr_msg(err));
    cerr_free(&err);
    CHECK(cgroup_is_frozen(path));
    autofree char *ev = rd(mnt, path, "cgroup.events");
    CHECK(strstr(ev, "frozen 1") != NULL);
    CHECK(cgroup_freeze(path, false, &err) == 0);
    cerr_free(&err);
    CHECK(!cgroup_is_frozen(path));

    /* SIGKILL goes through cgroup.kill. */
    CHECK(cgroup_kill_all(path, SIGKILL, &err) == 0);
    cerr_free(&err);
    CHECK(reap(child) == SIGKILL);

    CHECK(cgroup_destroy(path, &err) == 0);
    cerr_free(&err);
    CHECK(!dir_exists(mnt, path));
    CHECK(dir_exists(mnt, base));
    rm_cgroup(mnt, base);
    CHECK(!dir_exists(mnt, base));

    /* Put the root's subtree_control back as it was. */
    autofree char *root_now = rd(mnt, "", "cgroup.subtree_control");
    for (char *s = NULL, *c = strtok_r(root_now, " ", &s); c; c = strtok_r(NULL, " ", &s))
        if (!strstr(root_on, c)) {
            autofree char *v = xasprintf("-%s", c);
            autofree char *f = xasprintf("%s/cgroup.subtree_control", mnt);
            write_knob(f, v, NULL);
        }
    autofree char *root_after = rd(mnt, "", "cgroup.subtree_control");
    CHECK_STR(root_after, root_on);
    cgroup__force_v2(NULL);
    CHECK(cgroup_mode() == CGROUP_HYBRID);
}

int main(void)
{
    snprintf(test_base, sizeof(test_base), "/cella-test-%d", (int)getpid());
    /* Grandchildren killed with their cgroup are reparented to us and reaped below. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    RUN(test_path_for_cgroupfs);
    RUN(test_path_for_systemd);
    RUN(test_mode);
    RUN(test_bad_paths);
    RUN(test_lifecycle);
    RUN(test_destroy_kills_everything);
    RUN(test_create_failure_leaves_nothing);
    RUN(test_existing_and_stats);
    RUN(test_v2_on_unified);
    if (root_ok()) { /* whatever happened, leave nothing behind */
        cgroup__force_v2(NULL);
        rm_everywhere(test_base);
        char other[96];
        snprintf(other, sizeof(other), "%s-fail", test_base);
        rm_everywhere(other);
        snprintf(other, sizeof(other), "%s-v2", test_base);
        rm_everywhere(other);
    }
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
    return UNIT_DONE();
}
