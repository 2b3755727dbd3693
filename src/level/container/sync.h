/* Messages between cella and the container process it is setting up, over a
 * SOCK_SEQPACKET socketpair: one type byte, then an optional text payload. */
#ifndef CELLA_SYNC_H
#define CELLA_SYNC_H

#include <stddef.h>

#include "core/error.h"

enum sync_msg {
    SYNC_GO = 'G', /* host: id maps written (cgroup joining goes on meanwhile) */

    SYNC_CGROUP = 'C',  /* host: the child is in its cgroup */
    SYNC_MOUNTED = 'M', /* child: mounts done, run prestart/createRuntime */
    SYNC_HOOKS = 'H',   /* host: in the cgroup, hooks done; payload: state JSON */
    SYNC_READY = 'R',   /* child: waiting for start */
    SYNC_ERROR = 'E',   /* either: payload is the error message */
};

int sync_send(int fd, char type, const char *payload, cerr_t *err);
/* Receive a message; an SYNC_ERROR becomes *err and -1. Returns the type;
 * *payload (if not NULL) gets a malloc'd copy of the text. */
int sync_recv(int fd, char expect, char **payload, cerr_t *err);
/* Report err to the other side (best effort) */
void sync_send_error(int fd, cerr_t err);

#endif
