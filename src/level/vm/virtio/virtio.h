/* virtio 1.x devices on the MMIO transport (mmio.c), their split
 * virtqueues (queue.c), and the devices: console.c (the agent's port),
 * blk.c (the rootfs image), net.c (the namespace's tap). The guest finds them through
 * `virtio_mmio.device=SIZE@BASE:IRQ` on its command line. */
#ifndef CELLA_VM_VIRTIO_H
#define CELLA_VM_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "level/vm/vm.h"

#define VIRTIO_MMIO_SIZE  0x1000
#define VIRTQ_MAX_SIZE    256
#define VIRTQ_MAX_CHAIN   VIRTQ_MAX_SIZE
#define VIRTIO_MAX_QUEUES 6

#define VIRTIO_F_VERSION_1 32

/* status bits */
#define VIRTIO_STATUS_DRIVER_OK   4
#define VIRTIO_STATUS_NEEDS_RESET 0x40

/* A split virtqueue as the driver set it up (guest addresses). */
struct virtq {
    uint16_t size;
    bool ready;
    uint64_t desc, avail, used;
    uint16_t last_avail; /* the next available entry to take */
    uint16_t used_idx;
};

/* One descriptor chain taken from a queue: its buffers in host memory, the
 * driver-readable ones first (the order a request puts them in). */
struct vq_buf {
    uint8_t *p;
    uint32_t len;
    bool write; /* the device writes it */
};
struct vq_chain {
    uint16_t head;
    unsigned n;
    struct vq_buf b[VIRTQ_MAX_CHAIN];
};

/* queue.c: 1 and a chain, 0 when the queue is empty, -1 when the driver
 * broke the ring (an address outside memory, a loop, a bad index). */
int virtq_pop(struct virtq *q, const struct guest_mem *m, struct vq_chain *c);
/* Whether the driver has offered a chain not taken yet. */
bool virtq_has_avail(const struct virtq *q, const struct guest_mem *m);
/* Gives the chain back to the driver with `len` bytes written. */
int virtq_push(struct virtq *q, const struct guest_mem *m, uint16_t head, uint32_t len);

struct virtio_dev;
struct virtio_ops {
    uint32_t device_id;
    uint64_t features; /* the device's, VIRTIO_F_VERSION_1 added by mmio.c */
    unsigned nqueues;
    uint32_t config_len;
    void (*config)(struct virtio_dev *d, uint32_t off, uint8_t *data, uint32_t len);
    void (*notify)(struct virtio_dev *d, unsigned queue);
    /* After DRIVER_OK (the device may start), and at reset (status 0). */
    void (*driver_ok)(struct virtio_dev *d);
    void (*reset)(struct virtio_dev *d);
    void (*release)(struct virtio_dev *d); /* frees d->priv */
};

struct virtio_dev {
    const struct virtio_ops *ops;
    const struct guest_mem *mem;
    uint64_t base;
    unsigned irq;
    void (*interrupt)(void *ctx, unsigned irq); /* an edge on the device's line */
    void *ctx;
    uint32_t status, isr, dev_feat_sel, drv_feat_sel, queue_sel;
    uint64_t driver_features;
    struct virtq q[VIRTIO_MAX_QUEUES];
    void *priv; /* the device's state */
};

/* mmio.c: the transport's registers (virtio spec 4.2.2). */
void virtio_mmio_read(struct virtio_dev *d, uint64_t off, uint8_t *data, uint32_t len);
void virtio_mmio_write(struct virtio_dev *d, uint64_t off, const uint8_t *data, uint32_t len);
/* The driver's notify of queue q (QUEUE_NOTIFY written, or its ioeventfd
 * signalled): the device's work, when the queue runs. */
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050
void virtio_notify(struct virtio_dev *d, uint32_t q);
/* The used-buffer interrupt. */
void virtio_signal(struct virtio_dev *d);
/* The driver broke a ring: the device stops until reset. */
void virtio_broken(struct virtio_dev *d);
/* Frees the device's state (the VMM's devices live as long as it). */
void virtio_release(struct virtio_dev *d);
/* " virtio_mmio.device=4K@0x...:IRQ" for the command line. */
char *virtio_cmdline_entry(const struct virtio_dev *d);

/* console.c: a multiport console with one port, `name`, carried over fd. */
int virtio_console_init(struct virtio_dev *d, int fd, const char *name, cerr_t *err);
/* The I/O thread's part: fd readable, or the guest gave receive buffers. */
void virtio_console_poll_fds(struct virtio_dev *d, int *fd, int *wake, bool *want_fd);
void virtio_console_io(struct virtio_dev *d);

/* blk.c: a read-only disk on the image at path. */
int virtio_blk_init(struct virtio_dev *d, const char *path, cerr_t *err);

/* net.c: a network card on a tap (no vnet header) with the MAC given
 * ("52:54:00:12:34:56"). */
#define VIRTIO_NET_HDR_LEN 12 /* struct virtio_net_hdr_v1: virtio 1.x always has num_buffers */
int virtio_net_init(struct virtio_dev *d, int tap_fd, const char *mac, cerr_t *err);
/* The I/O thread's part: the tap readable, or the guest gave receive buffers. */
void virtio_net_poll_fds(struct virtio_dev *d, int *fd, int *wake, bool *want_fd);
void virtio_net_io(struct virtio_dev *d);
/* A transmit chain's frame without its header into out (at most max):
 * its length, 0 to drop (shorter than the header, or too long). */
uint32_t virtio_net_tx_frame(const struct vq_chain *ch, uint8_t *out, uint32_t max);
/* A received frame behind a zero header into a receive chain's buffers:
 * the bytes written, 0 when they are too small (the frame is dropped). */
uint32_t virtio_net_rx_fill(struct vq_chain *ch, const uint8_t *frame, uint32_t len);

#endif
