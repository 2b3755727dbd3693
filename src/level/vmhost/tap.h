/* The VM in the network namespace the spec names (linux.namespaces,
 * network, path), as Kata does: a tap device made in that namespace is
 * joined to the namespace's interface by two tc redirects (the interface's
 * ingress to the tap, the tap's ingress to the interface), and the guest
 * takes over the interface's IPv4 address, prefix, gateway, MTU and MAC.
 * The namespace's own stack no longer sees that interface's traffic. */
#ifndef CELLA_VMHOST_TAP_H
#define CELLA_VMHOST_TAP_H

#include "core/error.h"
#include "level/vmhost/vm.h"

/* Fills cfg->tap_fd, cfg->mac and cfg->guest_net; *dev (malloc'd) is the
 * namespace's interface, for vm_tap_remove. */
int vm_tap_make(struct vm_config *cfg, const char *nspath, char **dev, cerr_t *err);
/* Remove the redirects from dev in the namespace (the tap itself goes with
 * the last fd of it, QEMU's). Nothing to do when the namespace is gone. */
int vm_tap_remove(const char *nspath, const char *dev, cerr_t *err);

#endif
