/* The VM's network. With a network namespace path in the spec the guest
 * takes over that namespace's interface through a tap device (tap.h).
 * Otherwise it reaches the host's network through QEMU's user-mode stack
 * (slirp, NAT), and ports of the guest are published on the host by the
 * annotation run.cella.qemu.ports. */
#ifndef CELLA_QEMU_NET_H
#define CELLA_QEMU_NET_H

#include <sys/types.h>

#include "core/error.h"
#include "level/qemu/vm.h"
#include "oci/spec.h"

/* What vm_net_make would refuse, found without making anything. */
int vm_net_check(const struct spec *s, cerr_t *err);
/* Fills cfg->hostfwd and cfg->guest_net, and with a namespace path the
 * tap's fields. */
int vm_net_make(struct vm_config *cfg, const struct spec *s, cerr_t *err);
/* One port of the annotation, "[tcp:|udp:][HOSTADDR:]HOSTPORT:GUESTPORT", as
 * QEMU's hostfwd value "tcp:HOSTADDR:HOSTPORT-:GUESTPORT" (malloc'd). */
char *vm_net_hostfwd(const char *port, cerr_t *err);

/* QEMU's user-mode stack listens for published ports with a backlog of 1:
 * a burst of connections (a load generator's ten) overflows it, and the
 * dropped SYNs are retried only a second later. The monitor raises the
 * backlog of QEMU's listening sockets (pidfd_getfd, then listen again). */
void vm_net_raise_backlog(pid_t qemu, int qemu_pidfd);

#endif
