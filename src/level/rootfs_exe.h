/* process.args[0] looked up in a bundle's rootfs at create time, as the
 * container's init will find it: for the levels whose check refuses a
 * program they cannot run before anything exists (wasm, sandbox). */
#ifndef CELLA_LEVEL_ROOTFS_EXE_H
#define CELLA_LEVEL_ROOTFS_EXE_H

#include "oci/spec.h"

/* A path with a slash from the root, a bare name on the process's PATH
 * (proc_plan_make's rule); symlinks resolve inside the root (rootfd, the
 * rootfs's directory). 1: *found (malloc'd, absolute in the container) is a
 * regular file there; 0: a mount of the spec covers a candidate (what is
 * there is known only once it is mounted); -1 with errno: none (ENOENT, or
 * the first candidate's error for a path with a slash; EISDIR: not a file). */
int rootfs_find_exe(const struct spec *s, int rootfd, char **found);

#endif
