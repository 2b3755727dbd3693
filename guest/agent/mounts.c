/* The guest's filesystems: what the boot reads (devtmpfs, proc, sysfs in the
 * initramfs), then the container's root: the rootfs device read-only under an
 * overlay whose upper layer is tmpfs (writes vanish with the VM), moved onto
 * "/" as switch_root does (the initramfs cannot be pivot_root'ed away), with
 * the usual pseudo-filesystems inside. */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

static void mkdir_or_die(const char *path, mode_t mode)
{
    if (mkdir(path, mode) < 0 && errno != EEXIST)
        fatal("mkdir %s: %s", path, strerror(errno));
}

static void mount_or_die(const char *src, const char *dst, const char *type, unsigned long flags,
                         const char *data)
{
    mkdir_or_die(dst, 0755);
    if (mount(src, dst, type, flags, data) < 0)
        fatal("mount %s (%s) on %s: %s", src, type, dst, strerror(errno));
}

void mounts_early(void)
{
    mount_or_die("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
    mount_or_die("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mount_or_die("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
}

/* devtmpfs creates nodes from a kernel thread: the disk's node may lag the
 * start of init by a moment. */
static void wait_for_node(const char *path)
{
    for (int i = 0; i < 500; i++) {
        if (access(path, F_OK) == 0)
            return;
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    fatal("cella.root=%s: no such device (is the disk attached?)", path);
}

/* The rootfs device read-only under a tmpfs-backed overlay at /mnt/root. */
static void mount_overlay_root(const struct boot_config *c)
{
    wait_for_node(c->root);
    mkdir_or_die("/mnt", 0755);
    mkdir_or_die("/mnt/lower", 0755);
    if (mount(c->root, "/mnt/lower", c->rootfstype, MS_RDONLY, NULL) < 0)
        fatal("mount %s (cella.rootfstype=%s) read-only: %s", c->root, c->rootfstype,
              strerror(errno));
    /* tmpfs, not ramfs: overlayfs keeps whiteouts in trusted.* xattrs. */
    mount_or_die("tmpfs", "/mnt/rw", "tmpfs", 0, "mode=0755");
    mkdir_or_die("/mnt/rw/upper", 0755);
    mkdir_or_die("/mnt/rw/work", 0755);
    mount_or_die("overlay", "/mnt/root", "overlay", 0,
                 "lowerdir=/mnt/lower,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work");
}

static void switch_root(const char *root)
{
    if (chdir(root) < 0)
        fatal("chdir %s: %s", root, strerror(errno));
    if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
        fatal("move %s onto /: %s", root, strerror(errno));
    if (chroot(".") < 0)
        fatal("chroot %s: %s", root, strerror(errno));
    if (chdir("/") < 0)
        fatal("chdir /: %s", strerror(errno));
}

static void mknod_or_die(const char *path, unsigned major, unsigned minor)
{
    if (mknod(path, S_IFCHR | 0666, makedev(major, minor)) < 0)
        fatal("mknod %s: %s", path, strerror(errno));
    /* The umask took bits off the mode. */
    if (chmod(path, 0666) < 0)
        fatal("chmod %s: %s", path, strerror(errno));
}

static void symlink_or_die(const char *target, const char *path)
{
    if (symlink(target, path) < 0)
        fatal("symlink %s -> %s: %s", path, target, strerror(errno));
}

/* A tmpfs /dev with runc's default devices: the container does not see the
 * VM's disks or the host channel (devtmpfs would show them). */
static void mount_dev(void)
{
    mount_or_die("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=0755,size=65536k");
    static const struct {
        const char *name;
        unsigned major, minor;
    } nodes[] = {{"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
                 {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0}};
    for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++)
        mknod_or_die(nodes[i].name, nodes[i].major, nodes[i].minor);
    symlink_or_die("/proc/self/fd", "/dev/fd");
    symlink_or_die("/proc/self/fd/0", "/dev/stdin");
    symlink_or_die("/proc/self/fd/1", "/dev/stdout");
    symlink_or_die("/proc/self/fd/2", "/dev/stderr");
    symlink_or_die("pts/ptmx", "/dev/ptmx");
    mount_or_die("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                 "newinstance,ptmxmode=0666,mode=0620,gid=5");
    mount_or_die("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                 "mode=1777,size=65536k");
    mount_or_die("mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
}

void mounts_container_root(const struct boot_config *c)
{
    if (c->root[0])
        mount_overlay_root(c);
    /* The boot's own mounts go: the channel is open already and the
     * container gets fresh ones. Detached, so that nothing still using them
     * (nothing should) makes this fail. */
    umount2("/sys", MNT_DETACH);
    umount2("/proc", MNT_DETACH);
    umount2("/dev", MNT_DETACH);
    if (c->root[0])
        switch_root("/mnt/root");
    mount_or_die("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mount_or_die("sysfs", "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mount_dev();
    /* Images without them still get a sticky /tmp and a /run (in the
     * overlay, so writable). */
    if (mkdir("/tmp", 01777) == 0 && chmod("/tmp", 01777) < 0)
        fatal("chmod /tmp: %s", strerror(errno));
    mkdir_or_die("/run", 0755);
}

void mounts_finish(const struct boot_config *c)
{
    /* After the mount points and /etc/resolv.conf were made in the overlay:
     * the image need not have them. The mounts below "/" keep their own
     * flags. */
    if (c->readonly && mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
        fatal("cella.readonly=1: remount / read-only: %s", strerror(errno));
}
