/* QEMU's own network for the guest, when the spec names no network
 * namespace (with one, the guest takes over that namespace's interface
 * through a tap device: level/vmhost/tap.h): its user-mode stack (slirp,
 * NAT), ports of the guest published on the host by the annotation
 * run.cella.qemu.ports. */
#ifndef CELLA_QEMU_NET_H
#define CELLA_QEMU_NET_H

#include <sys/types.h>

#include "core/error.h"
#include "level/vmhost/vm.h"
#include "oci/spec.h"

/* The backend's user_net (backend.h): QEMU(cfg)->hostfwd and
 * cfg->guest_net; with a namespace path, published ports are refused. */
int qemu_user_net(struct vm_config *cfg, const struct spec *s, const char *nspath, cerr_t *err);
/* One port of the annotation, "[tcp:|udp:][HOSTADDR:]HOSTPORT:GUESTPORT", as
 * QEMU's hostfwd value "tcp:HOSTADDR:HOSTPORT-:GUESTPORT" (malloc'd). */
char *qemu_net_hostfwd(const char *port, cerr_t *err);

/* QEMU's user-mode stack listens for published ports with a backlog of 1:
 * a burst of connections (a load generator's ten) overflows it, and the
 * dropped SYNs are retried only a second later. The monitor raises the
 * backlog of QEMU's listening sockets (pidfd_getfd, then listen again). */
void qemu_net_raise_backlog(pid_t qemu, int qemu_pidfd);

#endif
