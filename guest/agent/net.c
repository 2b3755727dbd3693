/* The guest's network: lo, and eth0 (virtio-net) with the static address the
 * host chose (the kernel has no DHCP client and needs none: the host knows
 * the address). Plain ioctls, no netlink: four calls do it. */
#define _GNU_SOURCE
#include "agent.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static void set_sin(struct sockaddr *sa, in_addr_t addr)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = addr};
    memcpy(sa, &sin, sizeof(sin));
}

static void ifreq_ioctl(int s, unsigned long req, const char *what, struct ifreq *ifr)
{
    if (ioctl(s, req, ifr) < 0)
        fatal("%s %s: %s", ifr->ifr_name, what, strerror(errno));
}

static void link_up(int s, const char *name)
{
    struct ifreq ifr = {0};
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    ifreq_ioctl(s, SIOCGIFFLAGS, "get flags", &ifr);
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    ifreq_ioctl(s, SIOCSIFFLAGS, "up", &ifr);
}

static void eth0_setup(int s, const struct boot_config *c)
{
    struct ifreq ifr = {0};
    strcpy(ifr.ifr_name, "eth0");
    if (ioctl(s, SIOCGIFINDEX, &ifr) < 0)
        fatal("cella.ip=%s/%d: no eth0 (%s): is a virtio-net device attached?", c->ip, c->prefix,
              strerror(errno));
    set_sin(&ifr.ifr_addr, inet_addr(c->ip));
    ifreq_ioctl(s, SIOCSIFADDR, "set address", &ifr);
    in_addr_t mask = c->prefix ? htonl(~0u << (32 - c->prefix)) : 0;
    set_sin(&ifr.ifr_netmask, mask);
    ifreq_ioctl(s, SIOCSIFNETMASK, "set netmask", &ifr);
    if (c->mtu) {
        ifr.ifr_mtu = c->mtu;
        ifreq_ioctl(s, SIOCSIFMTU, "set mtu", &ifr);
    }
    link_up(s, "eth0");
    if (!c->gw[0])
        return;
    struct rtentry rt = {0};
    set_sin(&rt.rt_dst, INADDR_ANY);
    set_sin(&rt.rt_genmask, INADDR_ANY);
    set_sin(&rt.rt_gateway, inet_addr(c->gw));
    rt.rt_flags = RTF_UP | RTF_GATEWAY;
    rt.rt_dev = (char *)"eth0";
    if (ioctl(s, SIOCADDRT, &rt) < 0)
        fatal("default route via %s: %s", c->gw, strerror(errno));
}

void net_setup(const struct boot_config *c)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        fatal("socket(AF_INET): %s", strerror(errno));
    /* The kernel gives lo 127.0.0.1/8 when it comes up. */
    link_up(s, "lo");
    if (c->ip[0])
        eth0_setup(s, c);
    close(s);
}

void net_write_resolv_conf(const struct boot_config *c)
{
    if (!c->dns[0])
        return;
    char text[512];
    size_t n = 0;
    char tmp[sizeof(c->dns)];
    strcpy(tmp, c->dns);
    char *save = NULL;
    for (char *s = strtok_r(tmp, ",", &save); s; s = strtok_r(NULL, ",", &save))
        n += (size_t)snprintf(text + n, sizeof(text) - n, "nameserver %s\n", s);
    /* The image may have it as a symlink (systemd-resolved): replace it in
     * the overlay rather than write through it. */
    mkdir("/etc", 0755);
    unlink("/etc/resolv.conf");
    int fd = open("/etc/resolv.conf", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, text, n) != (ssize_t)n)
        fatal("write /etc/resolv.conf: %s", strerror(errno));
    close(fd);
}
