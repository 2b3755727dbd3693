/* virtio-net on the tap vmhost made in the spec's network namespace
 * (level/vmhost/tap.h): queue 0 receives, queue 1 transmits, the MAC the
 * guest takes over is the namespace interface's (VIRTIO_NET_F_MAC). No
 * offloads are offered, so every frame carries a zero header (the 12 bytes
 * of virtio 1.x, num_buffers included) and the guest checksums its own
 * packets; the tap has no vnet header, the device adds and strips it.
 * Transmit runs on the vCPU's notify, receive on the I/O thread (kvm.c) as
 * the tap becomes readable and the guest has given buffers. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/util.h"
#include "level/vm/virtio/virtio.h"

#define VIRTIO_ID_NET    1
#define VIRTIO_NET_F_MAC 5
#define Q_RX             0
#define Q_TX             1
/* The largest frame a tap gives without offloads: 64 KiB covers any MTU. */
#define FRAME_MAX 65536

struct net {
    int fd;   /* the tap, non-blocking */
    int wake; /* eventfd: the guest gave receive buffers */
    uint8_t mac[6];
    uint8_t frame[VIRTIO_NET_HDR_LEN + FRAME_MAX]; /* header + one frame */
};

static struct net *NET(struct virtio_dev *d)
{
    return d->priv;
}

static void config(struct virtio_dev *d, uint32_t off, uint8_t *data, uint32_t len)
{
    memcpy(data, NET(d)->mac + off, len); /* mac[6]: config_len keeps off + len inside */
}

uint32_t virtio_net_tx_frame(const struct vq_chain *ch, uint8_t *out, uint32_t max)
{
    uint32_t skip = VIRTIO_NET_HDR_LEN, n = 0;
    for (unsigned i = 0; i < ch->n; i++) {
        if (ch->b[i].write)
            continue;
        uint32_t len = ch->b[i].len, from = skip < len ? skip : len;
        skip -= from;
        len -= from;
        if (len > max - n)
            return 0; /* larger than any frame: dropped */
        memcpy(out + n, ch->b[i].p + from, len);
        n += len;
    }
    return skip ? 0 : n;
}

uint32_t virtio_net_rx_fill(struct vq_chain *ch, const uint8_t *frame, uint32_t len)
{
    uint8_t hdr[VIRTIO_NET_HDR_LEN] = {0};
    hdr[10] = 1; /* num_buffers (le16): this chain holds the whole frame */
    uint32_t room = 0;
    for (unsigned i = 0; i < ch->n; i++)
        if (ch->b[i].write)
            room += ch->b[i].len;
    if (room < VIRTIO_NET_HDR_LEN + len)
        return 0; /* the driver's buffers are too small for it: dropped */
    uint32_t done = 0, total = VIRTIO_NET_HDR_LEN + len;
    for (unsigned i = 0; i < ch->n && done < total; i++) {
        if (!ch->b[i].write)
            continue;
        for (uint32_t k = 0; k < ch->b[i].len && done < total; k++, done++)
            ch->b[i].p[k] =
                done < VIRTIO_NET_HDR_LEN ? hdr[done] : frame[done - VIRTIO_NET_HDR_LEN];
    }
    return total;
}

/* Guest to the tap: every transmit chain, one frame each. */
static void transmit(struct virtio_dev *d)
{
    struct net *n = NET(d);
    struct vq_chain ch;
    int r;
    while ((r = virtq_pop(&d->q[Q_TX], d->mem, &ch)) > 0) {
        uint32_t len = virtio_net_tx_frame(&ch, n->frame, FRAME_MAX);
        /* A full tap queue drops the frame, as a wire would. */
        if (len > 0)
            (void)!write(n->fd, n->frame, len);
        if (virtq_push(&d->q[Q_TX], d->mem, ch.head, 0) < 0)
            return virtio_broken(d);
    }
    if (r < 0)
        return virtio_broken(d);
    virtio_signal(d);
}

static void notify(struct virtio_dev *d, unsigned q)
{
    if (q == Q_TX)
        transmit(d);
    else if (q == Q_RX)
        (void)!write(NET(d)->wake, &(uint64_t){1}, 8);
}

void virtio_net_io(struct virtio_dev *d)
{
    struct net *n = NET(d);
    if (!(d->status & VIRTIO_STATUS_DRIVER_OK))
        return;
    bool signal = false;
    /* A frame is read only with a chain to put it in. */
    while (virtq_has_avail(&d->q[Q_RX], d->mem)) {
        ssize_t got = read(n->fd, n->frame, FRAME_MAX);
        if (got <= 0)
            break;
        struct vq_chain ch;
        int r = virtq_pop(&d->q[Q_RX], d->mem, &ch);
        if (r <= 0)
            return virtio_broken(d);
        uint32_t len = virtio_net_rx_fill(&ch, n->frame, (uint32_t)got);
        if (virtq_push(&d->q[Q_RX], d->mem, ch.head, len) < 0)
            return virtio_broken(d);
        signal = true;
    }
    if (signal)
        virtio_signal(d);
}

void virtio_net_poll_fds(struct virtio_dev *d, int *fd, int *wake, bool *want_fd)
{
    *fd = NET(d)->fd;
    *wake = NET(d)->wake;
    *want_fd = (d->status & VIRTIO_STATUS_DRIVER_OK) && d->q[Q_RX].ready &&
               virtq_has_avail(&d->q[Q_RX], d->mem);
}

static void driver_ok(struct virtio_dev *d)
{
    (void)!write(NET(d)->wake, &(uint64_t){1}, 8);
}

/* The tap is the caller's (the VM's: it goes with the process). */
static void release(struct virtio_dev *d)
{
    close(NET(d)->wake);
    free(d->priv);
}

static const struct virtio_ops net_ops = {
    .device_id = VIRTIO_ID_NET,
    .features = 1ull << VIRTIO_NET_F_MAC,
    .nqueues = 2,
    .config_len = 6,
    .config = config,
    .notify = notify,
    .driver_ok = driver_ok,
    .release = release,
};

int virtio_net_init(struct virtio_dev *d, int tap_fd, const char *mac, cerr_t *err)
{
    unsigned m[6];
    char end;
    if (mac == NULL || sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x%c", &m[0], &m[1], &m[2], &m[3], &m[4],
                              &m[5], &end) != 6)
        return cerr_set(err, 0, "virtio-net: MAC address `%s`", mac ? mac : "");
    int fl = fcntl(tap_fd, F_GETFL);
    if (fl < 0 || fcntl(tap_fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return cerr_set(err, errno, "virtio-net: the tap: O_NONBLOCK");
    struct net *n = calloc(1, sizeof(*n));
    if (n == NULL)
        abort();
    n->fd = tap_fd;
    for (unsigned i = 0; i < 6; i++)
        n->mac[i] = (uint8_t)m[i];
    n->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (n->wake < 0) {
        free(n);
        return cerr_set(err, errno, "virtio-net: eventfd");
    }
    d->ops = &net_ops;
    d->priv = n;
    return 0;
}
