/* The container process from clone() to execve(): the child side of create. */
#ifndef CELLA_INIT_H
#define CELLA_INIT_H

#include <stdbool.h>

#include "level/container/process.h"
#include "oci/spec.h"

struct init_args {
    const struct spec *spec;
    const char *rootfs;
    const char *cgroup;
    int lock_fd;          /* the locked state directory: closed at once */
    int sync_fd;          /* to cella create */
    int exec_fd;          /* listening socket that `start` connects to */
    int console_fd;       /* where the pty master goes, -1 without terminal */
    int ns_fds[NS_COUNT]; /* namespaces to join (-1: none) */
    bool new_userns;
    bool joined_userns; /* cloned inside a user namespace given by path */
    bool no_pivot;
    bool new_keyring; /* a session keyring of its own (not with --no-new-keyring) */
    const char *id;
    int preserve_fds;
    int listen_fds;                  /* LISTEN_FDS passed on (socket activation) */
    const int *source_fds;           /* bind mount sources opened on the host, or NULL */
    int notify_fd;                   /* sd_notify directory (detached mount), or -1 */
    const char *notify_path;         /* NOTIFY_SOCKET of the host */
    const struct level_hooks *hooks; /* of a level built on this one, or NULL */
};

/* Whether create pauses the child after its mounts for the hooks (prestart,
 * createRuntime, createContainer, and startContainer, which needs the state
 * JSON sent then). Without hooks the child runs through to READY. */
bool init_needs_hook_sync(const struct spec *s);

/* Never returns. */
__attribute__((noreturn)) void container_init(const struct init_args *a);

#endif
