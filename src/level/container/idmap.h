/* User namespace id maps: the container's (linux.uidMappings) and those of
 * idmapped mounts (mounts[].uidMappings), which need a user namespace of
 * their own to carry the map. */
#ifndef CELLA_IDMAP_H
#define CELLA_IDMAP_H

#include <stddef.h>
#include <sys/types.h>

#include "core/error.h"
#include "oci/spec.h"

/* The map as the kernel takes it, or NULL (one line naming `field`) when
 * it is longer than the kernel takes in one write. */
char *idmap_text(const char *field, const struct spec_idmap *m, size_t n, cerr_t *err);
/* Write /proc/PID/FILE (uid_map or gid_map); nothing when n is 0. */
int idmap_write(pid_t pid, const char *file, const char *field, const struct spec_idmap *m,
                size_t n, cerr_t *err);
/* A user namespace with these maps, as an fd for MOUNT_ATTR_IDMAP.
 * `field` names the mount (mounts[2]). */
int idmap_userns(const struct spec_idmap *u, size_t nu, const struct spec_idmap *g, size_t ng,
                 const char *field, cerr_t *err);

#endif
