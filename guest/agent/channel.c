/* The host channel: the virtio-serial port named AGENT_PORT_NAME, carrying
 * the frames of protocol.h.
 *
 * Frames for the host are queued and written without blocking, so that the
 * agent always goes on reading the host's frames: with blocking writes, a
 * host writing a large STDIN while the agent writes a large STDOUT would wait
 * on each other once the buffers between them (virtqueues, QEMU's socket)
 * are full. While the queue is long the loop stops reading the processes'
 * pipes, which makes them wait instead.
 *
 * How a virtio-serial port behaves when no host is connected (QEMU's socket
 * chardev without a client): writes wait for one, reads return 0 and poll()
 * reports POLLHUP. When a read says the host went away, the loop stops
 * polling the port until the driver's SIGIO says its connection state
 * changed (loop.c). */
#define _GNU_SOURCE
#include "agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Whether /sys/class/virtio-ports/PORT/name is AGENT_PORT_NAME. */
static int port_is_ours(const char *port)
{
    char path[300], name[64] = "";
    snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", port);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, name, sizeof(name) - 1);
    close(fd);
    name[n > 0 ? n : 0] = '\0';
    name[strcspn(name, "\n")] = '\0';
    return strcmp(name, AGENT_PORT_NAME) == 0;
}

/* The /dev name of the port whose sysfs name is AGENT_PORT_NAME, or 0. */
static int find_port(char *dev, size_t size)
{
    /* QEMU numbers a virtserialport from 1 (0 is kept for a console), so
     * with one virtio-serial device the port is vport0p1: looking there
     * first spares the listing of sysfs, ~60 ms of the boot under TCG. */
    const char *port = "vport0p1";
    DIR *d = NULL;
    struct dirent *e;
    if (!port_is_ours(port)) {
        d = opendir("/sys/class/virtio-ports");
        if (d == NULL)
            return 0;
        do
            e = readdir(d);
        while (e != NULL && (e->d_name[0] == '.' || !port_is_ours(e->d_name)));
        port = e ? e->d_name : NULL;
    }
    if (port)
        snprintf(dev, size, "/dev/%s", port);
    if (d)
        closedir(d);
    return port != NULL;
}

static int chan_fd = -1;

int channel_open(void)
{
    /* The port's name arrives from the host in a control message, and its
     * node from devtmpfs's thread: both may trail init's start. */
    char dev[300];
    int fd = -1;
    for (int i = 0; i < 500 && fd < 0; i++) {
        if (find_port(dev, sizeof(dev)))
            fd = open(dev, O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
            nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    if (fd < 0)
        fatal("no virtio-serial port named %s (the host must attach one)", AGENT_PORT_NAME);
    /* SIGIO when the host connects or sends: the loop's cue to poll the
     * port again after the host went away. */
    if (fcntl(fd, F_SETOWN, getpid()) < 0 ||
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC | O_NONBLOCK) < 0)
        fatal("%s: cannot ask for SIGIO: %s", dev, strerror(errno));
    chan_fd = fd;
    return fd;
}

/* Frames waiting for the host. */
static struct agent_queue out;

void channel_send(uint16_t type, uint32_t id, const void *payload, size_t len)
{
    uint8_t h[AGENT_HDR_SIZE];
    agent_set_hdr(h, type, id, (uint32_t)len);
    queue_push(&out, h, sizeof(h));
    queue_push(&out, payload, len);
    channel_write();
}

size_t channel_pending(void)
{
    return agent_queue_pending(&out);
}

void channel_write(void)
{
    if (agent_queue_write(chan_fd, &out) < 0)
        fatal("write to the host channel: %s", strerror(errno));
}

void channel_flush(void)
{
    if (chan_fd < 0 || agent_queue_pending(&out) == 0)
        return;
    /* Blocking: the frames wait for a host to read them. */
    fcntl(chan_fd, F_SETFL, fcntl(chan_fd, F_GETFL) & ~O_NONBLOCK);
    channel_write();
}

int channel_read(struct channel_in *in)
{
    if (in->cap - in->len < 65536) {
        size_t cap = in->cap ? in->cap * 2 : 131072;
        uint8_t *b = realloc(in->buf, cap);
        if (b == NULL)
            fatal("out of memory for the channel's input");
        in->buf = b;
        in->cap = cap;
    }
    ssize_t r = read(chan_fd, in->buf + in->len, in->cap - in->len);
    if (r < 0) {
        if (errno == EINTR || errno == EAGAIN)
            return 1;
        alog("read from the host channel: %s", strerror(errno));
        return -1;
    }
    if (r == 0) {
        if (in->len)
            alog("host disconnected inside a frame: %zu bytes dropped", in->len);
        in->len = 0;
        return 0;
    }
    in->len += (size_t)r;
    return 1;
}

int channel_next(struct channel_in *in, struct agent_hdr *h, const uint8_t **payload)
{
    int r = agent_frame_in(in->buf, in->len, h);
    if (r < 0) {
        alog("malformed frame from the host (payload of %u bytes, at most %u): %zu bytes dropped",
             h->len, AGENT_MAX_PAYLOAD, in->len);
        in->len = 0;
        return 0;
    }
    if (r > 0)
        *payload = in->buf + AGENT_HDR_SIZE;
    return r;
}

void channel_consume(struct channel_in *in, const struct agent_hdr *h)
{
    size_t n = AGENT_HDR_SIZE + h->len;
    memmove(in->buf, in->buf + n, in->len - n);
    in->len -= n;
}
