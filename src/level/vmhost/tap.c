/* A tap device in the spec's network namespace, bridged by tc (tap.h). */
#define _GNU_SOURCE
#include "level/vmhost/tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"

struct iface {
    char name[IFNAMSIZ];
    char ip[INET_ADDRSTRLEN];
    int prefix;
    char gw[INET_ADDRSTRLEN];
    int mtu;
    unsigned char mac[6];
};

static int prefix_len(const struct sockaddr *mask)
{
    uint32_t m = ntohl(((const struct sockaddr_in *)mask)->sin_addr.s_addr);
    return __builtin_popcount(m);
}

/* The first interface that is up, not loopback, with an IPv4 address. */
static int find_iface(struct iface *f, cerr_t *err)
{
    struct ifaddrs *all;
    if (getifaddrs(&all) < 0)
        return cerr_set(err, errno, "getifaddrs");
    bool found = false;
    for (struct ifaddrs *a = all; a != NULL && !found; a = a->ifa_next) {
        if (a->ifa_addr == NULL || a->ifa_addr->sa_family != AF_INET || a->ifa_netmask == NULL ||
            (a->ifa_flags & IFF_LOOPBACK) || !(a->ifa_flags & IFF_UP) ||
            strlen(a->ifa_name) >= sizeof(f->name))
            continue;
        strcpy(f->name, a->ifa_name);
        inet_ntop(AF_INET, &((struct sockaddr_in *)a->ifa_addr)->sin_addr, f->ip, sizeof(f->ip));
        f->prefix = prefix_len(a->ifa_netmask);
        found = true;
    }
    freeifaddrs(all);
    return found ? 0
                 : cerr_set(err, 0, "it has no interface up with an IPv4 address to give the VM");
}

/* The default route's gateway through f (from /proc/self/net/route, which
 * shows the routes of the namespace we are in); none is fine. */
static void find_gateway(struct iface *f)
{
    autofree char *routes = read_file("/proc/self/net/route", NULL, NULL);
    char *s = routes;
    for (char *line; s != NULL && (line = strsep(&s, "\n")) != NULL;) {
        char name[IFNAMSIZ + 1];
        unsigned dst, gw;
        if (sscanf(line, "%16s %x %x", name, &dst, &gw) == 3 && dst == 0 && gw != 0 &&
            strcmp(name, f->name) == 0) {
            struct in_addr a = {.s_addr = gw}; /* already in network order */
            inet_ntop(AF_INET, &a, f->gw, sizeof(f->gw));
            return;
        }
    }
}

static int link_info(struct iface *f, cerr_t *err)
{
    autoclose int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr = {0};
    strcpy(ifr.ifr_name, f->name);
    if (s < 0 || ioctl(s, SIOCGIFMTU, &ifr) < 0)
        return cerr_set(err, errno, "interface `%s`: MTU", f->name);
    f->mtu = ifr.ifr_mtu;
    if (ioctl(s, SIOCGIFHWADDR, &ifr) < 0)
        return cerr_set(err, errno, "interface `%s`: MAC address", f->name);
    memcpy(f->mac, ifr.ifr_hwaddr.sa_data, sizeof(f->mac));
    return 0;
}

/* A tap named by the kernel (cellaN), up, with the interface's MTU. */
static int make_tap(const struct iface *f, char name[IFNAMSIZ], cerr_t *err)
{
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return cerr_set(err, errno, "open /dev/net/tun");
    struct ifreq ifr = {0};
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    strcpy(ifr.ifr_name, "cella%d");
    autoclose int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0 || s < 0) {
        int e = errno;
        close(fd);
        return cerr_set(err, e, "create a tap device");
    }
    strcpy(name, ifr.ifr_name);
    ifr.ifr_mtu = f->mtu;
    int r = ioctl(s, SIOCSIFMTU, &ifr);
    if (r == 0)
        r = ioctl(s, SIOCGIFFLAGS, &ifr);
    ifr.ifr_flags |= IFF_UP;
    if (r == 0)
        r = ioctl(s, SIOCSIFFLAGS, &ifr);
    if (r < 0) {
        int e = errno;
        close(fd);
        return cerr_set(err, e, "tap device `%s`: set MTU and up", name);
    }
    return fd;
}

/* Run tc with args (in our network namespace); its first line of stderr
 * names a failure. */
static int tc(cerr_t *err, const char *const *args)
{
    autofree char *prog = vm_find_program("tc");
    if (prog == NULL)
        return cerr_set(err, 0, "tc not found (install iproute2)");
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return cerr_set(err, errno, "pipe");
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 2);
        dup2(p[1], 1);
        execv(prog, (char *const *)args);
        dprintf(2, "exec %s: %s", prog, strerror(errno));
        _exit(127);
    }
    close(p[1]);
    char msg[256] = "";
    ssize_t n = pid > 0 ? read_all(p[0], msg, sizeof(msg) - 1) : -1;
    close(p[0]);
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0)
        return cerr_set(err, errno, "run tc");
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    msg[n > 0 ? n : 0] = '\0';
    msg[strcspn(msg, "\n")] = '\0';
    autofree char *cmd = xstrdup("tc");
    for (const char *const *a = args + 1; *a; a++) {
        char *c = xasprintf("%s %s", cmd, *a);
        free(cmd);
        cmd = c;
    }
    return cerr_set(err, 0, "`%s` failed: %s", cmd, *msg ? msg : "no message");
}

/* Everything that reaches `from` leaves through `to`. *added: the ingress
 * qdisc was ours to add (and so to remove on a failure): one that was there
 * already, another VM's, fails the add and is not touched. */
static int redirect(const char *from, const char *to, bool *added, cerr_t *err)
{
    const char *qdisc[] = {"tc", "qdisc", "add", "dev", from, "ingress", NULL};
    const char *filter[] = {"tc",       "filter", "add",    "dev",      from,  "parent", "ffff:",
                            "protocol", "all",    "u32",    "match",    "u8",  "0",      "0",
                            "action",   "mirred", "egress", "redirect", "dev", to,       NULL};
    *added = tc(err, qdisc) == 0;
    return *added && tc(err, filter) == 0 ? 0 : -1;
}

static int drop_redirect(const char *dev, cerr_t *err)
{
    const char *del[] = {"tc", "qdisc", "del", "dev", dev, "ingress", NULL};
    return tc(err, del);
}

/* In the namespace: find the interface, make the tap, join them. */
static int plumb(struct vm_config *cfg, struct iface *f, cerr_t *err)
{
    char tap[IFNAMSIZ];
    if (find_iface(f, err) < 0 || link_info(f, err) < 0)
        return -1;
    find_gateway(f);
    int fd = make_tap(f, tap, err);
    if (fd < 0)
        return -1;
    bool ours = false, tap_side;
    if (redirect(f->name, tap, &ours, err) < 0 || redirect(tap, f->name, &tap_side, err) < 0) {
        cerr_t ignore = NULL;
        if (ours)
            drop_redirect(f->name, &ignore);
        cerr_free(&ignore);
        close(fd); /* the tap, and its qdisc, go with it */
        return -1;
    }
    cfg->tap_fd = fd;
    return 0;
}

int vm_tap_make(struct vm_config *cfg, const char *nspath, char **dev, cerr_t *err)
{
    autoclose int nsfd = open(nspath, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0)
        return cerr_set(err, errno, "linux.namespaces: network namespace `%s`", nspath);
    int own = ns_enter(nsfd, "net", CLONE_NEWNET, err);
    if (own < 0)
        return cerr_wrap(err, "linux.namespaces: network namespace `%s`", nspath);
    struct iface f = {0};
    int r = plumb(cfg, &f, err);
    ns_restore(own, CLONE_NEWNET);
    if (r < 0)
        return cerr_wrap(err, "linux.namespaces: network namespace `%s`", nspath);
    *dev = xstrdup(f.name);
    cfg->mac = xasprintf("%02x:%02x:%02x:%02x:%02x:%02x", f.mac[0], f.mac[1], f.mac[2], f.mac[3],
                         f.mac[4], f.mac[5]);
    autofree char *gw = *f.gw ? xasprintf(" cella.gw=%s", f.gw) : xstrdup("");
    cfg->guest_net = xasprintf("cella.ip=%s/%d%s cella.mtu=%d", f.ip, f.prefix, gw, f.mtu);
    return 0;
}

int vm_tap_remove(const char *nspath, const char *dev, cerr_t *err)
{
    autoclose int nsfd = open(nspath, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0)
        return errno == ENOENT ? 0 : cerr_set(err, errno, "network namespace `%s`", nspath);
    int own = ns_enter(nsfd, "net", CLONE_NEWNET, err);
    if (own < 0)
        return cerr_wrap(err, "network namespace `%s`", nspath);
    int r = drop_redirect(dev, err);
    ns_restore(own, CLONE_NEWNET);
    return r < 0 ? cerr_wrap(err, "network namespace `%s`: give back `%s`", nspath, dev) : 0;
}
