/* sd_notify through a container (NOTIFY_SOCKET, as runc and crun): the
 * container gets a socket of cella's at the host's NOTIFY_SOCKET path, and
 * `start` passes the container's READY=1 on to the host's socket. */
#ifndef CELLA_NOTIFY_H
#define CELLA_NOTIFY_H

#include <sys/types.h>

#include "core/error.h"

/* At create: make ROOT/ID/notify and return it as a detached mount. */
int notify_prepare(int dirfd, cerr_t *err);
/* At start, before releasing the process: bind ROOT/ID/notify/notify. */
int notify_listen(int dirfd, cerr_t *err);
/* Wait for READY=1 from the container (while `pid` lives) and send it to
 * host_path. */
int notify_forward(int sock, pid_t pid, unsigned long long start_time, const char *host_path,
                   cerr_t *err);

#endif
