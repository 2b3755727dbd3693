/* virtio-console with the multiport feature, carrying one port: the
 * agent's channel, named as the agent looks for it (AGENT_PORT_NAME in
 * /sys/class/virtio-ports/vport0p1/name), so the agent and the protocol are
 * those of the qemu level. Port 1, as QEMU numbers its virtserialport; port
 * 0 (a console) is never added. The port's bytes go to and come from fd,
 * the guest's end of the monitor's socketpair: guest-to-host on the vCPU's
 * notify, host-to-guest by the I/O thread (kvm.c) as fd becomes readable
 * and the guest has given receive buffers. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/util.h"
#include "level/vm/virtio/virtio.h"

#define VIRTIO_ID_CONSOLE          3
#define VIRTIO_CONSOLE_F_MULTIPORT 1
#define PORT                       1
#define NPORTS                     2
/* Queues: port 0's rx/tx, control rx/tx, port 1's rx/tx. */
#define Q_CTRL_RX 2
#define Q_CTRL_TX 3
#define Q_RX      4
#define Q_TX      5

enum {
    DEVICE_READY = 0,
    DEVICE_ADD = 1,
    PORT_READY = 3,
    PORT_OPEN = 6,
    PORT_NAME = 7,
};

struct control {
    uint32_t id;
    uint16_t event, value;
};

#define MAX_PENDING 8
struct console {
    int fd;   /* the port's bytes */
    int wake; /* eventfd: the guest gave receive buffers */
    char *name;
    bool have_rx;       /* a receive chain taken, waiting for fd's data */
    struct vq_chain rx; /* that chain */
    bool eof;           /* fd has no more */
    struct {            /* control messages waiting for buffers */
        struct control c;
        bool named; /* PORT_NAME: the name follows */
    } pending[MAX_PENDING];
    unsigned npending;
};

static struct console *CON(struct virtio_dev *d)
{
    return d->priv;
}

static void config(struct virtio_dev *d, uint32_t off, uint8_t *data, uint32_t len)
{
    (void)d;
    /* cols, rows (u16 each), max_nr_ports (u32), emerg_wr (u32) */
    uint8_t cfg[12] = {0};
    uint32_t n = NPORTS;
    memcpy(cfg + 4, &n, 4);
    memcpy(data, cfg + off, len);
}

/* Control messages into the control receive queue, as buffers allow. */
static void control_flush(struct virtio_dev *d)
{
    struct console *c = CON(d);
    struct vq_chain ch;
    unsigned sent = 0;
    while (sent < c->npending) {
        int r = virtq_pop(&d->q[Q_CTRL_RX], d->mem, &ch);
        if (r < 0)
            return virtio_broken(d);
        if (r == 0)
            break;
        size_t nlen = c->pending[sent].named ? strlen(c->name) : 0;
        size_t need = sizeof(struct control) + nlen;
        uint32_t written = 0;
        if (ch.n >= 1 && ch.b[0].write && ch.b[0].len >= need) {
            memcpy(ch.b[0].p, &c->pending[sent].c, sizeof(struct control));
            memcpy(ch.b[0].p + sizeof(struct control), c->name, nlen);
            written = (uint32_t)need;
        }
        if (virtq_push(&d->q[Q_CTRL_RX], d->mem, ch.head, written) < 0)
            return virtio_broken(d);
        sent++;
    }
    memmove(c->pending, c->pending + sent, (c->npending - sent) * sizeof(c->pending[0]));
    c->npending -= sent;
    if (sent)
        virtio_signal(d);
}

static void control_send(struct virtio_dev *d, uint16_t event, uint16_t value, bool named)
{
    struct console *c = CON(d);
    if (c->npending < MAX_PENDING)
        c->pending[c->npending++] = (typeof(c->pending[0])){{PORT, event, value}, named};
    control_flush(d);
}

/* The driver's control messages: the device is ready (add the port), the
 * port is ready (name it, say the host end is open). */
static void control_in(struct virtio_dev *d)
{
    struct vq_chain ch;
    int r;
    while ((r = virtq_pop(&d->q[Q_CTRL_TX], d->mem, &ch)) > 0) {
        struct control m = {0};
        if (ch.n >= 1 && !ch.b[0].write && ch.b[0].len >= sizeof(m))
            memcpy(&m, ch.b[0].p, sizeof(m));
        if (virtq_push(&d->q[Q_CTRL_TX], d->mem, ch.head, 0) < 0)
            return virtio_broken(d);
        if (m.event == DEVICE_READY && m.value == 1) {
            control_send(d, DEVICE_ADD, 0, false);
        } else if (m.event == PORT_READY && m.id == PORT && m.value == 1) {
            control_send(d, PORT_NAME, 1, true);
            control_send(d, PORT_OPEN, 1, false);
        }
    }
    if (r < 0)
        return virtio_broken(d);
    virtio_signal(d);
}

/* Guest to host: every transmit chain's bytes to fd. */
static void transmit(struct virtio_dev *d)
{
    struct console *c = CON(d);
    struct vq_chain ch;
    int r;
    while ((r = virtq_pop(&d->q[Q_TX], d->mem, &ch)) > 0) {
        for (unsigned i = 0; i < ch.n; i++)
            if (!ch.b[i].write && c->fd >= 0 && write_all(c->fd, ch.b[i].p, ch.b[i].len) < 0)
                c->fd = -1; /* the monitor is gone: the VM follows (PDEATHSIG) */
        if (virtq_push(&d->q[Q_TX], d->mem, ch.head, 0) < 0)
            return virtio_broken(d);
    }
    if (r < 0)
        return virtio_broken(d);
    virtio_signal(d);
}

static void notify(struct virtio_dev *d, unsigned q)
{
    if (q == Q_CTRL_TX)
        control_in(d);
    else if (q == Q_CTRL_RX)
        control_flush(d);
    else if (q == Q_TX)
        transmit(d);
    else if (q == Q_RX)
        (void)!write(CON(d)->wake, &(uint64_t){1}, 8);
}

void virtio_console_io(struct virtio_dev *d)
{
    struct console *c = CON(d);
    if (!(d->status & VIRTIO_STATUS_DRIVER_OK) || c->fd < 0 || c->eof)
        return;
    bool signal = false;
    for (;;) {
        if (!c->have_rx) {
            int r = virtq_pop(&d->q[Q_RX], d->mem, &c->rx);
            if (r < 0)
                return virtio_broken(d);
            if (r == 0)
                break;
            c->have_rx = true;
        }
        struct iovec iov[VIRTQ_MAX_CHAIN];
        int n = 0;
        for (unsigned i = 0; i < c->rx.n; i++)
            if (c->rx.b[i].write)
                iov[n++] = (struct iovec){c->rx.b[i].p, c->rx.b[i].len};
        /* Without blocking, while the port's writes (transmit) block. */
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)n};
        ssize_t got = n ? recvmsg(c->fd, &msg, MSG_DONTWAIT) : 0;
        if (got < 0 && (errno == EAGAIN || errno == EINTR))
            break;
        if (got <= 0) {
            c->eof = true; /* the host end closed: nothing more comes */
            got = 0;
        }
        if (virtq_push(&d->q[Q_RX], d->mem, c->rx.head, (uint32_t)got) < 0)
            return virtio_broken(d);
        c->have_rx = false;
        signal = true;
        if (c->eof)
            break;
    }
    if (signal)
        virtio_signal(d);
}

void virtio_console_poll_fds(struct virtio_dev *d, int *fd, int *wake, bool *want_fd)
{
    struct console *c = CON(d);
    *fd = c->fd;
    *wake = c->wake;
    /* Read fd only with somewhere to put its bytes. */
    *want_fd = c->fd >= 0 && !c->eof && (d->status & VIRTIO_STATUS_DRIVER_OK) &&
               (c->have_rx || d->q[Q_RX].ready);
}

static void driver_ok(struct virtio_dev *d)
{
    (void)!write(CON(d)->wake, &(uint64_t){1}, 8);
}

static void reset(struct virtio_dev *d)
{
    struct console *c = CON(d);
    c->have_rx = false;
    c->npending = 0;
}

/* fd is the caller's. */
static void release(struct virtio_dev *d)
{
    struct console *c = CON(d);
    close(c->wake);
    free(c->name);
    free(c);
}

static const struct virtio_ops console_ops = {
    .device_id = VIRTIO_ID_CONSOLE,
    .features = 1ull << VIRTIO_CONSOLE_F_MULTIPORT,
    .nqueues = 6,
    .config_len = 12,
    .config = config,
    .notify = notify,
    .driver_ok = driver_ok,
    .reset = reset,
    .release = release,
};

int virtio_console_init(struct virtio_dev *d, int fd, const char *name, cerr_t *err)
{
    struct console *c = calloc(1, sizeof(*c));
    if (c == NULL)
        abort();
    c->fd = fd;
    c->name = xstrdup(name);
    c->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (c->wake < 0) {
        free(c->name);
        free(c);
        return cerr_set(err, errno, "virtio-console: eventfd");
    }
    d->ops = &console_ops;
    d->priv = c;
    return 0;
}
