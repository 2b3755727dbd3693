/* A container without a mount namespace shares the host's (as runc and
 * crun run it): its mounts are made below the rootfs in the host's
 * namespace. cella remembers which mounts below the rootfs were there
 * before create and removes the others when the container is destroyed,
 * so that nothing of it stays mounted on the host (runc and crun leave
 * them). */
#ifndef CELLA_HOSTMOUNTS_H
#define CELLA_HOSTMOUNTS_H

#include "core/error.h"

/* Before the container's init runs: note in DIRFD/host-mounts the ids of
 * the mounts at or below ROOTFS. */
int hostmounts_record(int dirfd, const char *rootfs, cerr_t *err);
/* Detach every mount strictly below ROOTFS that is not in that list,
 * newest first. No list: nothing to do. */
void hostmounts_release(int dirfd, const char *rootfs);

#endif
