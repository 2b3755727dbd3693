/* Frames on the control socket, and the stdio fds of exec. */
#define _GNU_SOURCE
#include "level/ctl.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"

int ctl_recv(int sock, struct agent_hdr *h, uint8_t **payload)
{
    *payload = NULL;
    int r = agent_read_hdr(sock, h);
    if (r <= 0)
        return r;
    *payload = malloc(h->len + 1);
    if (*payload == NULL)
        return -1;
    if (agent_read_full(sock, *payload, h->len) < 0) {
        free(*payload);
        *payload = NULL;
        return -1;
    }
    (*payload)[h->len] = '\0';
    return 1;
}

int ctl_send_stdio(int sock, const int fds[3])
{
    for (int i = 0; i < 3; i++)
        if (send_fd_msg(sock, fds[i], "f", 1) < 0)
            return -1;
    return 0;
}

int ctl_recv_stdio(int sock, int fds[3])
{
    for (int i = 0; i < 3; i++) {
        fds[i] = recv_fd_msg(sock);
        if (fds[i] < 0) {
            while (i-- > 0)
                close(fds[i]);
            return -1;
        }
    }
    return 0;
}

/* A monitor gone meanwhile is an error to report, not a SIGPIPE to die of. */
int ctl_send(int sock, uint16_t type, uint32_t id, const void *payload, size_t len,
             const int *stdio)
{
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old);
    int r = agent_write_frame(sock, type, id, payload, len);
    if (r == 0 && stdio != NULL)
        r = ctl_send_stdio(sock, stdio);
    int e = errno;
    sigaction(SIGPIPE, &old, NULL);
    errno = e;
    return r;
}

int ctl_call(int sock, uint16_t type, uint32_t id, const void *payload, size_t len,
             const int *stdio, uint8_t **reply, cerr_t *err)
{
    if (ctl_send(sock, type, id, payload, len, stdio) < 0)
        return cerr_set(err, errno, "send to the container's monitor");
    struct agent_hdr h;
    uint8_t *p = NULL;
    int r = ctl_recv(sock, &h, &p);
    if (r <= 0)
        return cerr_set(err, r < 0 ? errno : 0, "the container's monitor ended without an answer");
    if (h.type == CTL_ERROR) {
        size_t n = strlen((char *)p);
        cerr_set(err, 0, "%s", (char *)p);
        if (n + 1 < h.len)
            (*err)->code = p[n + 1];
        free(p);
        return -1;
    }
    if (reply != NULL)
        *reply = p;
    else
        free(p);
    return h.type;
}

int ctl_kill(int sock, uint32_t id, int sig, bool all, cerr_t *err)
{
    uint8_t p[8];
    agent_set_u32(p, (uint32_t)sig);
    agent_set_u32(p + 4, all ? AGENT_SIGNAL_ALL : 0);
    return ctl_call(sock, CTL_KILL, id, p, sizeof(p), NULL, NULL, err) < 0 ? -1 : 0;
}
