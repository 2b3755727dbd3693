#define _GNU_SOURCE
#include "level/container/notify.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/util.h"

int notify_prepare(int dirfd, cerr_t *err)
{
    if (mkdirat(dirfd, "notify", 0755) < 0 && errno != EEXIST)
        return cerr_set(err, errno, "NOTIFY_SOCKET: mkdir notify in the state directory");
    int fd = open_tree(dirfd, "notify", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (fd < 0)
        return cerr_set(err, errno, "NOTIFY_SOCKET: open_tree of the notify directory");
    return fd;
}

static int unix_addr(const char *path, struct sockaddr_un *sa, socklen_t *len)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(sa->sun_path))
        return -1;
    memcpy(sa->sun_path, path, n);
    if (path[0] == '@') /* abstract socket, as systemd writes it */
        sa->sun_path[0] = '\0';
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '@' ? 0 : 1));
    return 0;
}

int notify_listen(int dirfd, cerr_t *err)
{
    char path[64];
    struct sockaddr_un sa;
    socklen_t len;
    snprintf(path, sizeof(path), "/proc/self/fd/%d/notify/notify", dirfd);
    unix_addr(path, &sa, &len);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return cerr_set(err, errno, "NOTIFY_SOCKET: socket");
    unlinkat(dirfd, "notify/notify", 0);
    if (bind(fd, (struct sockaddr *)&sa, len) < 0) {
        int e = errno;
        close(fd);
        return cerr_set(err, e, "NOTIFY_SOCKET: bind the container's notify socket");
    }
    /* The container may run as any user, in a user namespace. */
    fchmodat(dirfd, "notify/notify", 0777, 0);
    return fd;
}

int notify_forward(int sock, pid_t pid, unsigned long long start_time, const char *host_path,
                   cerr_t *err)
{
    char buf[4096];
    for (;;) {
        struct pollfd p = {.fd = sock, .events = POLLIN};
        int r = poll(&p, 1, 100);
        if (r < 0 && errno != EINTR)
            return cerr_set(err, errno, "NOTIFY_SOCKET: poll");
        if (r <= 0) {
            if (!proc_alive(pid, start_time))
                return 0; /* exited without READY=1: nothing to pass on */
            continue;
        }
        ssize_t n = recv(sock, buf, sizeof(buf) - 1, 0);
        if (n <= 0)
            continue;
        buf[n] = '\0';
        if (strstr(buf, "READY=1") == NULL)
            continue;
        struct sockaddr_un sa;
        socklen_t len;
        if (unix_addr(host_path, &sa, &len) < 0)
            return cerr_set(err, 0, "NOTIFY_SOCKET `%s`: invalid path", host_path);
        int out = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (out < 0)
            return cerr_set(err, errno, "NOTIFY_SOCKET: socket");
        const char *ready = "READY=1";
        ssize_t w = sendto(out, ready, strlen(ready), MSG_NOSIGNAL, (struct sockaddr *)&sa, len);
        int e = errno;
        close(out);
        return w < 0 ? cerr_set(err, e, "NOTIFY_SOCKET: send READY=1 to `%s`", host_path) : 0;
    }
}
