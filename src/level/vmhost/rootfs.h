/* The bundle's rootfs as the guest of a VM level (qemu, later vm)
 * receives it: a read-only erofs image on virtio-blk, which the guest agent
 * mounts (cella.root=/dev/vda cella.rootfstype=erofs) under an overlay whose
 * upper layer is a tmpfs. Why erofs, the measurements and the cache's limits:
 * docs/rootfs-delivery.md. */
#ifndef CELLA_VMHOST_ROOTFS_H
#define CELLA_VMHOST_ROOTFS_H

#include "core/error.h"

#define ROOTFS_CACHE_ENV     "CELLA_ROOTFS_CACHE"
#define ROOTFS_CACHE_DEFAULT "/var/cache/cella/rootfs"
/* The cache's size limit: bytes, or with a K, M, G or T suffix (powers of
 * 1024); 0 for none. Beyond it the least recently used images go, never one
 * a VM uses. */
#define ROOTFS_CACHE_MAX_ENV     "CELLA_ROOTFS_CACHE_MAX"
#define ROOTFS_CACHE_MAX_DEFAULT "10G"

/* The read-only disk image of rootfs_dir (a directory, or a symlink to one),
 * built by mkfs.erofs on first use and cached as CACHE/<key>.erofs, where
 * CACHE is $CELLA_ROOTFS_CACHE or /var/cache/cella/rootfs and <key> is
 * vm_rootfs_key's. Fills *path (malloc'd, the caller frees it) and *fstype
 * (a static string, "erofs": the guest's cella.rootfstype). Safe to call from
 * concurrent processes: one builds, the others wait for it and then use its
 * image. On failure -1 and one line naming rootfs_dir, e.g. "rootfs
 * `/b/rootfs`: mkfs.erofs: not found (install erofs-utils)"; no image or
 * temporary file is left in the cache then. */
int vm_rootfs_image(const char *rootfs_dir, char **path, const char **fstype, cerr_t *err);
/* The same, the image held in use while *hold (an fd, the caller closes it)
 * is open, also in a forked child: a VM's monitor keeps it for the VM's
 * life. Each call that uses an entry marks it used (its access time) and
 * then trims the cache to its limit (ROOTFS_CACHE_MAX_ENV): least recently
 * used first, skipping images held in use (flock LOCK_SH on *hold; the
 * trimmer takes LOCK_EX without waiting). A bad limit is an error naming
 * the variable. */
int vm_rootfs_image_held(const char *rootfs_dir, char **path, const char **fstype, int *hold,
                         cerr_t *err);

/* The cache key of rootfs_dir as 64 hex digits: a sha256 over the way images
 * are built and a sorted walk of the tree: each entry's relative path, type
 * and mode, uid, gid, size, mtime and ctime (nanoseconds), inode number,
 * device numbers and symlink target (of the top directory only its mode and
 * owner). File contents are not read: the ctime and inode number stand for
 * them (an edit cannot keep the ctime). */
int vm_rootfs_key(const char *rootfs_dir, char key[65], cerr_t *err);

#endif
