/* The guest's PID 1 for bench/qemu-rootfs.sh: mounts a container rootfs the
 * way the guest agent does and times it, in guest time, then walks it and
 * reads it. One line per step on the console, then the VM ends.
 *
 * Command-line words (the kernel hands them to init as environment):
 *   rfs_kind=erofs|ext4   mount /dev/vda read-only with that type under an
 *                         overlay whose upper layer is a tmpfs, at /root
 *   rfs_kind=initramfs    the rootfs came in the initramfs, under /rootfs
 *   rfs_kind=none         nothing to mount (the boot baseline)
 *   rfs_read=1            also read every regular file (else only walk)
 *
 * Lines: "rfs: init T", "rfs: mounted T MS", "rfs: walk N files D dirs MS",
 * "rfs: read BYTES MS", "rfs: done T" (T guest seconds since the kernel
 * started; MS the step's milliseconds), or "rfs: FAILED ..." and done.
 *
 * Build: musl-gcc -static -Os -s -o init qemu-rootfs-init.c */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* One write per line: the console line stays whole and unbuffered. */
__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...)
{
    char line[200];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    ssize_t w = write(1, line, n < (int)sizeof line ? (size_t)n : sizeof line - 1);
    (void)w;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(const char *what)
{
    say("rfs: FAILED %s: %s\n", what, strerror(errno));
    return -1;
}

/* As the agent: the image read-only, writes into a tmpfs upper layer. */
static int mount_overlay(const char *fstype)
{
    mkdir("/dev", 0755);
    mount("devtmpfs", "/dev", "devtmpfs", 0, NULL); /* may already be there */
    mkdir("/ro", 0755);
    mkdir("/rw", 0755);
    mkdir("/root", 0755);
    if (mount("/dev/vda", "/ro", fstype, MS_RDONLY, NULL) < 0)
        return fail("mount /dev/vda");
    if (mount("tmpfs", "/rw", "tmpfs", 0, "size=16m") < 0)
        return fail("mount tmpfs");
    if (mkdir("/rw/upper", 0755) < 0 || mkdir("/rw/work", 0755) < 0)
        return fail("mkdir upper, work");
    if (mount("overlay", "/root", "overlay", 0,
              "lowerdir=/ro,upperdir=/rw/upper,workdir=/rw/work") < 0)
        return fail("mount overlay");
    return 0;
}

struct walk {
    long files, dirs;
    double bytes;
    int read;
    char buf[1 << 16];
};

static void read_all(struct walk *w, int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n;
    while ((n = read(fd, w->buf, sizeof w->buf)) > 0)
        w->bytes += (double)n;
    close(fd);
}

/* `find` with lstat on every entry, and optionally `cat` of every file. */
static void walk(struct walk *w, int dirfd)
{
    DIR *d = fdopendir(dirfd);
    if (d == NULL) {
        close(dirfd);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            w->dirs++;
            int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (sub >= 0)
                walk(w, sub);
        } else {
            w->files++;
            if (w->read && S_ISREG(st.st_mode))
                read_all(w, dirfd, e->d_name);
        }
    }
    closedir(d);
}

static void measure(const char *top, int read)
{
    static struct walk w;
    double t0 = now();
    walk(&w, open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    say("rfs: walk %ld files %ld dirs %.1f ms\n", w.files, w.dirs, (now() - t0) * 1e3);
    if (!read)
        return;
    w.files = w.dirs = 0;
    w.read = 1;
    t0 = now();
    walk(&w, open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    say("rfs: read %.0f bytes %.1f ms\n", w.bytes, (now() - t0) * 1e3);
}

int main(void)
{
    say("rfs: init %.3f\n", now());
    const char *kind = getenv("rfs_kind");
    const char *top = "/root";
    kind = kind ? kind : "none";
    if (strcmp(kind, "initramfs") == 0) {
        top = "/rootfs";
    } else if (strcmp(kind, "none") != 0) {
        double t0 = now();
        if (mount_overlay(kind) < 0)
            goto out;
        say("rfs: mounted %.3f %.1f ms\n", now(), (now() - t0) * 1e3);
    }
    if (strcmp(kind, "none") != 0)
        measure(top, getenv("rfs_read") != NULL);
out:
    say("rfs: done %.3f\n", now());
    sync();
    reboot(RB_AUTOBOOT);
    for (;;)
        pause();
}
