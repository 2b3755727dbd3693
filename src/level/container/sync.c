#define _GNU_SOURCE
#include "level/container/sync.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/util.h"

#define SYNC_MAX 65536

int sync_send(int fd, char type, const char *payload, cerr_t *err)
{
    size_t n = payload ? strlen(payload) : 0;
    autofree char *buf = malloc(n + 1);
    if (buf == NULL)
        return cerr_set(err, 0, "out of memory");
    buf[0] = type;
    if (n)
        memcpy(buf + 1, payload, n);
    ssize_t r;
    do
        r = send(fd, buf, n + 1, MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    if (r < 0 && (errno == EPIPE || errno == ECONNRESET)) {
        /* The other side is gone: it may have left its reason for us. */
        char reason[4096];
        ssize_t n = recv(fd, reason, sizeof(reason) - 1, MSG_DONTWAIT);
        if (n > 1 && reason[0] == SYNC_ERROR) {
            reason[n] = '\0';
            return cerr_set(err, 0, "%s", reason + 1);
        }
        return cerr_set(err, 0, "container process exited during setup");
    }
    if (r < 0)
        return cerr_set(err, errno, "sync with container process");
    return 0;
}

int sync_recv(int fd, char expect, char **payload, cerr_t *err)
{
    autofree char *buf = malloc(SYNC_MAX + 1);
    if (buf == NULL)
        return cerr_set(err, 0, "out of memory");
    ssize_t r;
    do
        r = recv(fd, buf, SYNC_MAX, 0);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return cerr_set(err, errno, "sync with container process");
    if (r == 0)
        return cerr_set(err, 0, "container process exited during setup");
    buf[r] = '\0';
    if (buf[0] == SYNC_ERROR)
        return cerr_set(err, 0, "%s", buf + 1);
    if (buf[0] != expect)
        return cerr_set(err, 0, "sync with container process: unexpected message `%c`", buf[0]);
    if (payload)
        *payload = xstrdup(buf + 1);
    return buf[0];
}

void sync_send_error(int fd, cerr_t err)
{
    sync_send(fd, SYNC_ERROR, cerr_msg(err), NULL);
}
