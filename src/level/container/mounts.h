/* The container's filesystem view: the rootfs, the spec's mounts, /dev,
 * pivot_root, masked and read-only paths. Runs inside the new mount
 * namespace, in the container process. */
#ifndef CELLA_MOUNTS_H
#define CELLA_MOUNTS_H

#include <stdbool.h>

#include "core/error.h"
#include "oci/spec.h"

struct mount_ctx {
    const struct spec *spec;
    const char *rootfs; /* absolute host path */
    const char *cgroup; /* the container's cgroup path, for cgroup mounts */
    bool userns;        /* new user namespace: no mknod, no sysfs without netns */
    bool no_pivot;
    bool host_ns;            /* no mount namespace: the host's is shared; chroot, not pivot_root */
    const int *source_fds;   /* mounts_open_sources's, or NULL */
    int notify_fd;           /* sd_notify: detached mount of ROOT/ID/notify, or -1 */
    const char *notify_path; /* where it goes: the host's NOTIFY_SOCKET path */
};

/* On the host side, before entering a user namespace: open bind mount
 * sources as detached mounts (open_tree), so that the container's user
 * namespace need not be able to reach the path; every one with all_binds
 * (a new user namespace), else only the idmapped ones, which get their
 * MOUNT_ATTR_IDMAP here. */
int mounts_open_sources(const struct spec *s, bool all_binds, int statefd, int **fds, cerr_t *err);
/* After the mounts' (n_mounts), with a new user namespace: one per
 * linux.devices entry, a node made on the host when the host has none
 * (bound in, since mknod is refused there), or -1. */
size_t mounts_n_sources(const struct spec *s);
/* The nodes made on the host for those, once the container has them. */
void mounts_unlink_devices(const struct spec *s, int statefd);
void mounts_close_sources(int *fds, size_t n);
/* Whether some mount has uidMappings (an idmapped mount). */
bool mounts_idmapped(const struct spec *s);

/* Everything up to (not including) pivot_root, but cgroup mounts. */
int mounts_prepare(const struct mount_ctx *m, cerr_t *err);
/* The cgroup mounts: once the process is in its cgroup and its cgroup
 * namespace (rooted there) exists. They go after every other mount. */
int mounts_cgroup(const struct mount_ctx *m, cerr_t *err);
/* pivot_root (or chroot with --no-pivot), then the rootfs propagation. */
int mounts_pivot(const struct mount_ctx *m, cerr_t *err);
/* Masked and read-only paths, then the read-only root: after sysctls are
 * written, since /proc/sys is usually among the read-only paths. */
int mounts_protect(const struct mount_ctx *m, cerr_t *err);

/* Mount option parsing, exposed for tests: fills flags, propagation flags,
 * and the remaining data string ("mode=755,size=65536k"). */
struct mount_opts {
    unsigned long flags; /* MS_* for the mount itself */
    unsigned long clear; /* flags explicitly cleared (rw, suid, ...) */
    unsigned long propagation;
    bool bind, recursive;
    bool recursive_ro, recursive_rw; /* rro / rrw (mount_setattr, AT_RECURSIVE) */
    char *data;                      /* malloc'd, may be NULL */
};
int mount_opts_parse(const struct str_list *options, struct mount_opts *out, cerr_t *err);

#endif
