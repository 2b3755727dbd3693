/* The VM's network: user-mode networking with published ports. */
#define _GNU_SOURCE
#include "level/qemu/net.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/util.h"
#include "level/qemu/tap.h"

/* QEMU's user-mode network: the guest is 10.0.2.15/24 behind a NAT whose
 * gateway is 10.0.2.2 and DNS forwarder 10.0.2.3. The agent sets them
 * itself (no DHCP). */
#define SLIRP_GUEST_NET "cella.ip=10.0.2.15/24 cella.gw=10.0.2.2 cella.mtu=1500 cella.dns=10.0.2.3"

static int parse_port(const char *s, long *out)
{
    return parse_long(s, out) == 0 && *out > 0 && *out <= 65535 ? 0 : -1;
}

char *vm_net_hostfwd(const char *port, cerr_t *err)
{
    autofree char *copy = xstrdup(port);
    char *tok[5];
    size_t n = 0;
    char *s = copy;
    while (n < 5 && (tok[n] = strsep(&s, ":")) != NULL)
        n++;
    const char *proto = "tcp", *addr = "";
    size_t i = 0;
    if (n >= 3 && (strcmp(tok[0], "tcp") == 0 || strcmp(tok[0], "udp") == 0))
        proto = tok[i++];
    if (n - i == 3)
        addr = tok[i++];
    long hp, gp;
    struct in_addr a;
    if (n - i != 2 || parse_port(tok[i], &hp) < 0 || parse_port(tok[i + 1], &gp) < 0 ||
        (*addr && inet_pton(AF_INET, addr, &a) != 1)) {
        cerr_set(err, 0,
                 "annotation " QEMU_ANN_PORTS ": `%s`: expected [tcp:|udp:][HOSTADDR:]HOSTPORT:"
                 "GUESTPORT",
                 port);
        return NULL;
    }
    return xasprintf("%s:%s:%ld-:%ld", proto, addr, hp, gp);
}

static int hostfwd_list(const char *ports, char **out, cerr_t *err)
{
    autofree char *copy = xstrdup(ports);
    char *s = copy;
    *out = xstrdup("");
    for (char *tok; (tok = strsep(&s, ",")) != NULL;) {
        if (*tok == '\0')
            continue;
        autofree char *fwd = vm_net_hostfwd(tok, err);
        if (fwd == NULL)
            return -1;
        char *joined = xasprintf("%s,hostfwd=%s", *out, fwd);
        free(*out);
        *out = joined;
    }
    return 0;
}

int vm_net_check(const struct spec *s, cerr_t *err)
{
    const struct spec_namespace *ns = &s->linux_.ns[NS_NETWORK];
    const char *ports = spec_annotation(s, QEMU_ANN_PORTS);
    if (ns->present && ns->path != NULL) {
        if (ports != NULL)
            return cerr_set(err, 0,
                            "annotation " QEMU_ANN_PORTS ": ports are published by user-mode "
                            "networking only, not in the network namespace `%s`",
                            ns->path);
        if (access(ns->path, R_OK) < 0)
            return cerr_set(err, errno, "linux.namespaces: network namespace `%s`", ns->path);
        return 0;
    }
    autofree char *hostfwd = NULL;
    return hostfwd_list(ports ? ports : "", &hostfwd, err);
}

int vm_net_make(struct vm_config *cfg, const struct spec *s, cerr_t *err)
{
    const struct spec_namespace *ns = &s->linux_.ns[NS_NETWORK];
    const char *ports = spec_annotation(s, QEMU_ANN_PORTS);
    if (vm_net_check(s, err) < 0)
        return -1;
    if (ns->present && ns->path != NULL) {
        cfg->hostfwd = xstrdup("");
        if (vm_tap_make(cfg, ns->path, &cfg->netns_dev, err) < 0)
            return -1;
        cfg->netns = xstrdup(ns->path);
        return 0;
    }
    if (hostfwd_list(ports ? ports : "", &cfg->hostfwd, err) < 0)
        return -1;
    cfg->guest_net = xstrdup(SLIRP_GUEST_NET);
    return 0;
}

void vm_net_raise_backlog(pid_t qemu, int qemu_pidfd)
{
    autofree char *dir = xasprintf("/proc/%d/fd", (int)qemu);
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    for (struct dirent *de; (de = readdir(d)) != NULL;) {
        long target;
        if (parse_long(de->d_name, &target) < 0)
            continue;
        int fd = (int)syscall(SYS_pidfd_getfd, qemu_pidfd, (int)target, 0);
        if (fd < 0)
            continue;
        int listening = 0, type = 0;
        socklen_t l = sizeof(listening), tl = sizeof(type);
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &l) == 0 && listening &&
            getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_STREAM)
            listen(fd, SOMAXCONN);
        close(fd);
    }
    closedir(d);
}
