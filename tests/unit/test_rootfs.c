/* src/level/vmhost/rootfs.c: the rootfs image of the qemu level and its cache.
 * Each test has its own cache directory (CELLA_ROOTFS_CACHE) in a mkdtemp
 * directory; mkfs.erofs failing or missing is played by scripts put first on
 * PATH. The image's contents are checked with fsck.erofs --extract. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "level/vmhost/rootfs.h"
#include "unit.h"

static char tmp[64];          /* the mkdtemp directory of this run */
static char cache[128];       /* the current test's cache directory */
static char saved_path[4096]; /* PATH as the test started */
static char real_mkfs[256];   /* mkfs.erofs on PATH, "" when missing */

static bool on_path(const char *tool, char *out, size_t cap)
{
    autofree char *cmd = xasprintf("command -v %s", tool);
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return false;
    bool found = fgets(out, (int)cap, p) != NULL;
    pclose(p);
    out[strcspn(out, "\n")] = '\0';
    return found && out[0] == '/';
}

static void use_cache(const char *name)
{
    snprintf(cache, sizeof(cache), "%s/cache-%s", tmp, name);
    setenv(ROOTFS_CACHE_ENV, cache, 1);
}

/* The names in the cache directory (dot files included), space-separated. */
static char *cache_listing(void)
{
    char *s = xstrdup("");
    DIR *d = opendir(cache);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *t = xasprintf("%s%s%s", s, s[0] ? " " : "", e->d_name);
        free(s);
        s = t;
    }
    if (d)
        closedir(d);
    return s;
}

static void put(const char *path, const char *text, mode_t mode)
{
    cerr_t err = NULL;
    CHECK(write_file(path, text, strlen(text), mode, &err) == 0);
    cerr_free(&err);
}

/* A small rootfs: a file, a 0600 file owned by 1234:5678 (when root), a
 * symlink, a fifo and an empty directory. */
static char *make_tree(const char *name)
{
    char *dir = xasprintf("%s/%s", tmp, name);
    autofree char *etc = xasprintf("%s/etc", dir), *hello = xasprintf("%s/etc/hello", dir),
                  *secret = xasprintf("%s/secret", dir), *link = xasprintf("%s/link", dir),
                  *fifo = xasprintf("%s/fifo", dir), *empty = xasprintf("%s/proc", dir);
    CHECK(mkdir(dir, 0755) == 0 && mkdir(etc, 0755) == 0 && mkdir(empty, 0555) == 0);
    put(hello, "hello\n", 0644);
    put(secret, "s3cret\n", 0600);
    if (geteuid() == 0)
        CHECK(chown(secret, 1234, 5678) == 0);
    CHECK(symlink("etc/hello", link) == 0);
    CHECK(mkfifo(fifo, 0640) == 0);
    return dir;
}

static void set_path(const char *dir)
{
    autofree char *p = xasprintf("%s:%s", dir, saved_path);
    setenv("PATH", p, 1);
}

/* A stand-in for mkfs.erofs: a shell script in its own directory. */
static char *fake_mkfs(const char *name, const char *body)
{
    char *dir = xasprintf("%s/%s", tmp, name);
    autofree char *script = xasprintf("%s/mkfs.erofs", dir);
    autofree char *text = xasprintf("#!/bin/sh\n%s\n", body);
    CHECK(mkdir(dir, 0755) == 0);
    put(script, text, 0755);
    return dir;
}

static void test_image_has_the_files(void)
{
    if (!real_mkfs[0])
        SKIP("mkfs.erofs is not installed (erofs-utils)");
    use_cache("files");
    autofree char *tree = make_tree("files"), *path = NULL;
    const char *fstype = NULL;
    cerr_t err = NULL;
    CHECK(vm_rootfs_image(tree, &path, &fstype, &err) == 0);
    CHECK(err == NULL);
    cerr_free(&err);
    CHECK_STR(fstype, "erofs");
    CHECK(path && strncmp(path, cache, strlen(cache)) == 0 &&
          strcmp(path + strlen(path) - 6, ".erofs") == 0);
    autofree char *listing = cache_listing(), *base = xstrdup(path ? strrchr(path, '/') + 1 : "");
    CHECK_STR(listing, base); /* the image alone: no lock or temporary file */
    struct stat st;
    CHECK(path && stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);

    char fsck[256];
    if (!on_path("fsck.erofs", fsck, sizeof(fsck)))
        SKIP("fsck.erofs is not installed (erofs-utils): contents not checked");
    autofree char *out = xasprintf("%s/files-out", tmp);
    autofree char *cmd =
        xasprintf("%s --extract=%s --preserve %s >/dev/null 2>&1", fsck, out, path);
    CHECK(system(cmd) == 0);
    autofree char *hello = xasprintf("%s/etc/hello", out), *secret = xasprintf("%s/secret", out),
                  *link = xasprintf("%s/link", out), *fifo = xasprintf("%s/fifo", out);
    autofree char *text = read_file(hello, NULL, &err);
    cerr_free(&err);
    CHECK_STR(text, "hello\n");
    CHECK(stat(secret, &st) == 0 && (st.st_mode & 0777) == 0600);
    if (geteuid() == 0)
        CHECK(st.st_uid == 1234 && st.st_gid == 5678);
    char target[64] = "";
    CHECK(readlink(link, target, sizeof(target) - 1) > 0);
    CHECK_STR(target, "etc/hello");
    CHECK(lstat(fifo, &st) == 0 && S_ISFIFO(st.st_mode));
}

/* The second call finds the entry: same file, not rebuilt (a rebuild renames
 * a new inode into place), also through a symlink to the rootfs. */
static void test_second_call_is_cached(void)
{
    if (!real_mkfs[0])
        SKIP("mkfs.erofs is not installed (erofs-utils)");
    use_cache("cached");
    autofree char *tree = make_tree("cached"), *first = NULL, *second = NULL, *third = NULL;
    autofree char *alias = xasprintf("%s/cached-link", tmp);
    const char *fstype;
    cerr_t err = NULL;
    struct stat a, b;
    CHECK(vm_rootfs_image(tree, &first, &fstype, &err) == 0 && stat(first, &a) == 0);
    CHECK(vm_rootfs_image(tree, &second, &fstype, &err) == 0 && stat(second, &b) == 0);
    CHECK_STR(first, second);
    CHECK(a.st_ino == b.st_ino && a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
          a.st_mtim.tv_nsec == b.st_mtim.tv_nsec);
    CHECK(symlink(tree, alias) == 0);
    CHECK(vm_rootfs_image(alias, &third, &fstype, &err) == 0);
    CHECK_STR(third, first);
    CHECK(err == NULL);
    cerr_free(&err);
}

/* An edit that keeps the size and the mtime still changes the key (the
 * ctime moves), and so the image. */
static void test_edit_changes_key(void)
{
    use_cache("edit");
    autofree char *tree = make_tree("edit");
    autofree char *hello = xasprintf("%s/etc/hello", tree);
    char k1[65], k2[65], k3[65];
    cerr_t err = NULL;
    struct stat st;
    CHECK(vm_rootfs_key(tree, k1, &err) == 0 && vm_rootfs_key(tree, k2, &err) == 0);
    CHECK_STR(k1, k2);
    CHECK(stat(hello, &st) == 0);
    usleep(20000); /* past the file system's timestamp granularity */
    put(hello, "HELLO\n", 0644);
    CHECK(utimensat(AT_FDCWD, hello, (struct timespec[]){st.st_atim, st.st_mtim}, 0) == 0);
    CHECK(vm_rootfs_key(tree, k3, &err) == 0);
    CHECK(strcmp(k1, k3) != 0);
    CHECK(err == NULL);
    cerr_free(&err);
}

/* Two containers of one image: overlay mounts of the same lower layer, each
 * with its own (empty) upper directory, share the key, so the image; a file
 * written into one of them is a new key. */
static void test_overlays_of_one_layer_share_key(void)
{
    if (geteuid() != 0)
        SKIP("mounting an overlay needs root");
    autofree char *lower = make_tree("layer");
    autofree char *m1 = xasprintf("%s/m1", tmp), *m2 = xasprintf("%s/m2", tmp);
    autofree char *o1 = xasprintf("lowerdir=%s,upperdir=%s/u1,workdir=%s/w1", lower, tmp, tmp);
    autofree char *o2 = xasprintf("lowerdir=%s,upperdir=%s/u2,workdir=%s/w2", lower, tmp, tmp);
    const char *dirs[] = {"m1", "m2", "u1", "u2", "w1", "w2"};
    for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
        autofree char *d = xasprintf("%s/%s", tmp, dirs[i]);
        CHECK(mkdir(d, 0755) == 0);
    }
    if (mount("overlay", m1, "overlay", 0, o1) < 0)
        SKIP("this kernel cannot mount an overlay here");
    CHECK(mount("overlay", m2, "overlay", 0, o2) == 0);
    char k1[65] = "", k2[65] = "", k3[65] = "";
    cerr_t err = NULL;
    CHECK(vm_rootfs_key(m1, k1, &err) == 0 && vm_rootfs_key(m2, k2, &err) == 0);
    CHECK_STR(k1, k2);
    autofree char *added = xasprintf("%s/etc/added", m2);
    put(added, "x\n", 0644);
    CHECK(vm_rootfs_key(m2, k3, &err) == 0);
    CHECK(strcmp(k1, k3) != 0);
    CHECK(err == NULL);
    cerr_free(&err);
    umount2(m1, MNT_DETACH);
    umount2(m2, MNT_DETACH);
}

static void expect_failure(const char *rootfs, const char *want)
{
    char *path = NULL;
    const char *fstype = NULL;
    cerr_t err = NULL;
    CHECK(vm_rootfs_image(rootfs, &path, &fstype, &err) == -1);
    CHECK(path == NULL);
    CHECK_STR(cerr_msg(err), want);
    cerr_free(&err);
    free(path);
    autofree char *listing = cache_listing();
    CHECK_STR(listing, ""); /* nothing left behind */
}

static void test_missing_rootfs(void)
{
    use_cache("missing");
    autofree char *nope = xasprintf("%s/nope", tmp);
    autofree char *want = xasprintf("rootfs `%s`: No such file or directory", nope);
    expect_failure(nope, want);
}

static void test_missing_mkfs(void)
{
    use_cache("nomkfs");
    autofree char *tree = make_tree("nomkfs"), *bin = xasprintf("%s/empty-bin", tmp);
    autofree char *want =
        xasprintf("rootfs `%s`: mkfs.erofs: not found (install erofs-utils)", tree);
    CHECK(mkdir(bin, 0755) == 0);
    setenv("PATH", bin, 1);
    expect_failure(tree, want);
    setenv("PATH", saved_path, 1);
}

/* A failing mkfs.erofs that has begun writing the image: its stderr becomes
 * the message, on one line, and the half-written file goes. */
static void test_mkfs_fails(void)
{
    use_cache("fails");
    autofree char *tree = make_tree("fails");
    autofree char *bin = fake_mkfs("failing-bin", "echo partial >\"$2\"\n"
                                                  "echo 'first line  ' >&2\necho >&2\n"
                                                  "echo '<E> erofs: disk full' >&2\nexit 3");
    autofree char *want = xasprintf(
        "rootfs `%s`: mkfs.erofs failed (exit status 3): first line; <E> erofs: disk full", tree);
    set_path(bin);
    expect_failure(tree, want);
    setenv("PATH", saved_path, 1);
}

/* Four processes ask for the same new rootfs at once: one build (mkfs.erofs
 * wrapped to count its runs and to take long enough to overlap), one entry,
 * the same path for all. */
static void test_concurrent_creates(void)
{
    if (!real_mkfs[0])
        SKIP("mkfs.erofs is not installed (erofs-utils)");
    use_cache("concurrent");
    autofree char *tree = make_tree("concurrent"), *log = xasprintf("%s/mkfs-runs", tmp);
    autofree char *body = xasprintf("echo run >>%s\nsleep 0.3\nexec %s \"$@\"", log, real_mkfs);
    autofree char *bin = fake_mkfs("counting-bin", body);
    set_path(bin);
    pid_t kids[4];
    for (int i = 0; i < 4; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            char *path = NULL;
            const char *fstype;
            cerr_t err = NULL;
            int rc = vm_rootfs_image(tree, &path, &fstype, &err);
            autofree char *out = xasprintf("%s/concurrent-%d", tmp, i);
            if (rc == 0)
                put(out, path, 0644);
            _exit(rc == 0 ? 0 : 1);
        }
    }
    for (int i = 0; i < 4; i++) {
        int status = -1;
        CHECK(kids[i] > 0 && waitpid(kids[i], &status, 0) == kids[i] && status == 0);
    }
    setenv("PATH", saved_path, 1);
    cerr_t err = NULL;
    autofree char *runs = read_file(log, NULL, &err);
    cerr_free(&err);
    CHECK_STR(runs, "run\n");
    autofree char *first = NULL;
    for (int i = 0; i < 4; i++) {
        autofree char *out = xasprintf("%s/concurrent-%d", tmp, i);
        autofree char *path = read_file(out, NULL, &err);
        cerr_free(&err);
        CHECK(path != NULL);
        if (i == 0)
            first = xstrdup(path ? path : "");
        else
            CHECK_STR(path, first);
    }
    autofree char *listing = cache_listing();
    CHECK_STR(listing, first ? strrchr(first, '/') + 1 : "(none)");
}

/* A tree of one 64 KiB file: images of about the same size. */
static char *make_big_tree(const char *name)
{
    char *dir = xasprintf("%s/%s", tmp, name);
    autofree char *file = xasprintf("%s/data", dir);
    CHECK(mkdir(dir, 0755) == 0);
    autofree char *data = malloc(65536);
    for (size_t i = 0; i < 65536; i++)
        data[i] = (char)(name[0] + i * 7);
    data[65535] = '\0';
    put(file, data, 0644);
    return dir;
}

static char *image_of(const char *tree)
{
    char *path = NULL;
    const char *fstype;
    cerr_t err = NULL;
    CHECK(vm_rootfs_image(tree, &path, &fstype, &err) == 0);
    if (err != NULL)
        printf("#   %s\n", cerr_msg(err));
    cerr_free(&err);
    return path ? path : xstrdup("(none)");
}

static void set_used(const char *path, time_t ago)
{
    struct timespec t[2] = {{.tv_sec = time(NULL) - ago}, {.tv_nsec = UTIME_OMIT}};
    CHECK(utimensat(AT_FDCWD, path, t, 0) == 0);
}

static bool present(const char *path)
{
    return access(path, F_OK) == 0;
}

/* Over $CELLA_ROOTFS_CACHE_MAX the least recently used images go; a use
 * makes an image recent. */
static void test_cache_limit_evicts_lru(void)
{
    if (!real_mkfs[0])
        SKIP("mkfs.erofs is not installed (erofs-utils)");
    use_cache("lru");
    autofree char *ta = make_big_tree("lru-a"), *tb = make_big_tree("lru-b"),
                  *tc = make_big_tree("lru-c");
    autofree char *a = image_of(ta), *b = image_of(tb);
    struct stat st;
    CHECK(stat(a, &st) == 0);
    /* Room for two images and a half. */
    autofree char *max = xasprintf("%lld", (long long)st.st_size * 5 / 2);
    setenv(ROOTFS_CACHE_MAX_ENV, max, 1);
    set_used(a, 200);
    set_used(b, 100);
    autofree char *again = image_of(ta); /* a is now the most recent */
    CHECK_STR(again, a);
    autofree char *c = image_of(tc);
    CHECK(present(a) && present(c));
    CHECK(!present(b));
    unsetenv(ROOTFS_CACHE_MAX_ENV);
}

/* An image held in use (a VM's) stays, whatever its age; once let go it is
 * the first to go. A bad limit is an error naming the variable. */
static void test_cache_limit_spares_held(void)
{
    if (!real_mkfs[0])
        SKIP("mkfs.erofs is not installed (erofs-utils)");
    use_cache("held");
    autofree char *ta = make_big_tree("held-a"), *tb = make_big_tree("held-b"),
                  *tc = make_big_tree("held-c"), *a = NULL;
    const char *fstype;
    cerr_t err = NULL;
    int hold = -1;
    setenv(ROOTFS_CACHE_MAX_ENV, "1", 1); /* room for none: only what is held or just used */
    CHECK(vm_rootfs_image_held(ta, &a, &fstype, &hold, &err) == 0 && hold >= 0);
    cerr_free(&err);
    set_used(a, 300);
    autofree char *b = image_of(tb);
    CHECK(present(a) && present(b));
    autofree char *c = image_of(tc);
    CHECK(present(a) && !present(b) && present(c));
    close(hold);
    autofree char *b2 = image_of(tb);
    CHECK(!present(a) && !present(c) && present(b2));
    setenv(ROOTFS_CACHE_MAX_ENV, "10X", 1);
    autofree char *none = NULL;
    CHECK(vm_rootfs_image(tb, &none, &fstype, &err) == -1);
    CHECK(err && strstr(cerr_msg(err), "$CELLA_ROOTFS_CACHE_MAX: `10X`") != NULL);
    cerr_free(&err);
    unsetenv(ROOTFS_CACHE_MAX_ENV);
}

int main(void)
{
    umask(022);
    snprintf(tmp, sizeof(tmp), "/tmp/cella-test-rootfs-XXXXXX");
    if (mkdtemp(tmp) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    const char *path = getenv("PATH");
    snprintf(saved_path, sizeof(saved_path), "%s", path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
    if (!on_path("mkfs.erofs", real_mkfs, sizeof(real_mkfs)))
        real_mkfs[0] = '\0';
    RUN(test_image_has_the_files);
    RUN(test_second_call_is_cached);
    RUN(test_edit_changes_key);
    RUN(test_overlays_of_one_layer_share_key);
    RUN(test_missing_rootfs);
    RUN(test_missing_mkfs);
    RUN(test_mkfs_fails);
    RUN(test_concurrent_creates);
    RUN(test_cache_limit_evicts_lru);
    RUN(test_cache_limit_spares_held);
    rm_rf(tmp);
    return UNIT_DONE();
}
