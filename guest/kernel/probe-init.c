/* A trivial PID 1 for booting a guest kernel: prints one line on the console
 * and ends the VM. bench/qemu-baseline.sh times QEMU's start to that line;
 * it also probes the host-guest channels the agent may use.
 *
 * The kernel hands unknown `name=value` command-line words to init as
 * environment variables:
 *   cella_vsock=PORT   connect to the host (CID 2) on vsock PORT and send a line
 *   cella_hvc=1        write a line to the first virtio console port (/dev/hvc0)
 *   cella_blk=FSTYPE   mount /dev/vda read-only (erofs, ext4) under a tmpfs-backed
 *                      overlay, read /hello, write and delete files through it
 *   cella_net=1        list the network interfaces (/sys/class/net)
 *
 * Ending the VM: with `reboot=k` on the command line and an i8042 device, a
 * restart resets the machine through the keyboard controller, and QEMU's
 * -no-reboot turns that into an exit. (A power-off needs ACPI, which the guest
 * kernel does not have.)
 *
 * Static, no libc start-up beyond the minimum: build with
 *   musl-gcc -static -Os -s -o init probe-init.c   (or gcc -static) */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* musl-gcc has no kernel headers: the vsock address as <linux/vm_sockets.h>
 * defines it. */
#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#define VMADDR_CID_HOST 2
struct sockaddr_vm {
    sa_family_t svm_family;
    unsigned short svm_reserved1;
    unsigned int svm_port;
    unsigned int svm_cid;
    unsigned char svm_zero[sizeof(struct sockaddr) - sizeof(sa_family_t) - sizeof(unsigned short) -
                           2 * sizeof(unsigned int)];
};

static void say(const char *s)
{
    /* The console is fd 1 when the initramfs has /dev/console; a direct write
     * keeps the line in one piece and unbuffered. */
    ssize_t n = write(1, s, strlen(s));
    (void)n;
}

static double boottime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void probe_vsock(const char *port)
{
    char line[160];
    int fd = socket(AF_VSOCK, SOCK_STREAM, 0);
    if (fd < 0) {
        snprintf(line, sizeof line, "cella-probe: vsock: socket: %m\n");
        say(line);
        return;
    }
    struct sockaddr_vm addr = {
        .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST, .svm_port = (unsigned)atoi(port)};
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        snprintf(line, sizeof line, "cella-probe: vsock: connect to 2:%s: %m\n", port);
        say(line);
    } else {
        const char msg[] = "hello from the guest over vsock\n";
        if (write(fd, msg, sizeof msg - 1) == (ssize_t)(sizeof msg - 1))
            say("cella-probe: vsock: sent\n");
    }
    close(fd);
}

static void mount_dev(void)
{
    mkdir("/dev", 0755);
    mount("devtmpfs", "/dev", "devtmpfs", 0, NULL); /* may already be there */
}

static void probe_hvc(void)
{
    char line[160];
    mount_dev();
    int fd = open("/dev/hvc0", O_WRONLY | O_NOCTTY);
    if (fd < 0) {
        snprintf(line, sizeof line, "cella-probe: hvc0: %m\n");
        say(line);
        return;
    }
    const char msg[] = "hello from the guest over virtio-console\n";
    if (write(fd, msg, sizeof msg - 1) == (ssize_t)(sizeof msg - 1))
        say("cella-probe: hvc0: sent\n");
    close(fd);
}

static int step(const char *what, int rc)
{
    char line[200];
    if (rc < 0) {
        snprintf(line, sizeof line, "cella-probe: blk: %s: %s\n", what, strerror(errno));
        say(line);
    }
    return rc;
}

/* The rootfs scheme of the qemu level: a read-only image, writes in a tmpfs
 * upper layer (whiteouts and opaque directories need tmpfs xattrs). */
static void probe_blk(const char *fstype)
{
    char line[200], buf[64] = "";
    mount_dev();
    mkdir("/ro", 0755);
    mkdir("/rw", 0755);
    mkdir("/root", 0755);
    if (step("mount /dev/vda", mount("/dev/vda", "/ro", fstype, MS_RDONLY, NULL)) < 0 ||
        step("mount tmpfs", mount("tmpfs", "/rw", "tmpfs", 0, "size=16m")) < 0 ||
        step("mkdir upper", mkdir("/rw/upper", 0755)) < 0 ||
        step("mkdir work", mkdir("/rw/work", 0755)) < 0 ||
        step("mount overlay", mount("overlay", "/root", "overlay", 0,
                                    "lowerdir=/ro,upperdir=/rw/upper,workdir=/rw/work")) < 0)
        return;
    int fd = step("open /root/hello", open("/root/hello", O_RDONLY));
    if (fd >= 0) {
        ssize_t n = read(fd, buf, sizeof buf - 1);
        buf[n > 0 ? n : 0] = 0;
        buf[strcspn(buf, "\n")] = 0;
        close(fd);
    }
    int ro = open("/ro/new", O_WRONLY | O_CREAT, 0644) < 0 && errno == EROFS;
    fd = step("create /root/new", open("/root/new", O_WRONLY | O_CREAT, 0644));
    int wrote = fd >= 0 && write(fd, "x", 1) == 1;
    if (fd >= 0)
        close(fd);
    int deleted = step("unlink /root/hello", unlink("/root/hello")) == 0 &&
                  access("/root/hello", F_OK) < 0 && access("/ro/hello", F_OK) == 0;
    snprintf(line, sizeof line,
             "cella-probe: blk: %s read-only %s, overlay read \"%s\", write %s, delete %s\n",
             fstype, ro ? "yes" : "NO", buf, wrote ? "ok" : "FAILED", deleted ? "ok" : "FAILED");
    say(line);
}

static void probe_net(void)
{
    char line[200] = "cella-probe: net:";
    mkdir("/sys", 0755);
    mount("sysfs", "/sys", "sysfs", 0, NULL);
    DIR *d = opendir("/sys/class/net");
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.' && strlen(line) + strlen(e->d_name) + 3 < sizeof line) {
            strcat(line, " ");
            strcat(line, e->d_name);
        }
    if (d)
        closedir(d);
    strcat(line, "\n");
    say(line);
}

int main(void)
{
    char line[160];
    /* Guest time since the kernel started, and the wall clock the kernel read
     * from the RTC (whole seconds), to compare with the host's. */
    snprintf(line, sizeof line, "cella-probe: init reached at %.3f s guest time, wall clock %lld\n",
             boottime(), (long long)time(NULL));
    say(line);

    const char *port = getenv("cella_vsock");
    if (port)
        probe_vsock(port);
    if (getenv("cella_hvc"))
        probe_hvc();
    const char *fstype = getenv("cella_blk");
    if (fstype)
        probe_blk(fstype);
    if (getenv("cella_net"))
        probe_net();

    sync();
    reboot(RB_AUTOBOOT);
    for (;;)
        pause();
}
