/* The virtio-mmio transport, version 2 (virtio 1.x, 4.2.2): one 4 KiB
 * window of registers per device, the device's configuration from 0x100,
 * one interrupt line. Called with the VMM's device lock held. */
#define _GNU_SOURCE
#include <string.h>

#include "core/util.h"
#include "level/vm/virtio/virtio.h"

enum {
    MAGIC = 0x000,
    VERSION = 0x004,
    DEVICE_ID = 0x008,
    VENDOR_ID = 0x00c,
    DEVICE_FEATURES = 0x010,
    DEVICE_FEATURES_SEL = 0x014,
    DRIVER_FEATURES = 0x020,
    DRIVER_FEATURES_SEL = 0x024,
    QUEUE_SEL = 0x030,
    QUEUE_NUM_MAX = 0x034,
    QUEUE_NUM = 0x038,
    QUEUE_READY = 0x044,
    QUEUE_NOTIFY = 0x050,
    INTERRUPT_STATUS = 0x060,
    INTERRUPT_ACK = 0x064,
    STATUS = 0x070,
    QUEUE_DESC_LOW = 0x080,
    QUEUE_DESC_HIGH = 0x084,
    QUEUE_DRIVER_LOW = 0x090,
    QUEUE_DRIVER_HIGH = 0x094,
    QUEUE_DEVICE_LOW = 0x0a0,
    QUEUE_DEVICE_HIGH = 0x0a4,
    CONFIG_GENERATION = 0x0fc,
    CONFIG = 0x100,
};
#define MMIO_MAGIC  0x74726976 /* "virt" */
#define VENDOR_ID_V 0x4c4c4543 /* "CELL" */

static uint64_t features(const struct virtio_dev *d)
{
    return d->ops->features | (1ull << VIRTIO_F_VERSION_1);
}

static struct virtq *selected(struct virtio_dev *d)
{
    return d->queue_sel < d->ops->nqueues ? &d->q[d->queue_sel] : NULL;
}

static void reset(struct virtio_dev *d)
{
    if (d->ops->reset)
        d->ops->reset(d);
    d->status = d->isr = d->dev_feat_sel = d->drv_feat_sel = d->queue_sel = 0;
    d->driver_features = 0;
    memset(d->q, 0, sizeof(d->q));
}

void virtio_signal(struct virtio_dev *d)
{
    d->isr |= 1;
    d->interrupt(d->ctx, d->irq);
}

void virtio_broken(struct virtio_dev *d)
{
    d->status |= VIRTIO_STATUS_NEEDS_RESET;
    for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
        d->q[i].ready = false;
    d->isr |= 2; /* a configuration change: the driver looks at the status */
    d->interrupt(d->ctx, d->irq);
}

void virtio_notify(struct virtio_dev *d, uint32_t q)
{
    if (q < d->ops->nqueues && d->q[q].ready && (d->status & VIRTIO_STATUS_DRIVER_OK))
        d->ops->notify(d, q);
}

void virtio_mmio_read(struct virtio_dev *d, uint64_t off, uint8_t *data, uint32_t len)
{
    memset(data, 0, len);
    if (off >= CONFIG) {
        off -= CONFIG;
        if (off < d->ops->config_len && len <= d->ops->config_len - off)
            d->ops->config(d, (uint32_t)off, data, len);
        return;
    }
    if (len != 4)
        return;
    struct virtq *q = selected(d);
    uint32_t v = 0;
    switch (off) {
    case MAGIC:
        v = MMIO_MAGIC;
        break;
    case VERSION:
        v = 2;
        break;
    case DEVICE_ID:
        v = d->ops->device_id;
        break;
    case VENDOR_ID:
        v = VENDOR_ID_V;
        break;
    case DEVICE_FEATURES:
        v = d->dev_feat_sel < 2 ? (uint32_t)(features(d) >> (32 * d->dev_feat_sel)) : 0;
        break;
    case QUEUE_NUM_MAX:
        v = q ? VIRTQ_MAX_SIZE : 0;
        break;
    case QUEUE_READY:
        v = q ? q->ready : 0;
        break;
    case INTERRUPT_STATUS:
        v = d->isr;
        break;
    case STATUS:
        v = d->status;
        break;
    case CONFIG_GENERATION:
        v = 0; /* the configuration never changes */
        break;
    }
    memcpy(data, &v, 4);
}

static void set_half(uint64_t *reg, bool high, uint32_t v)
{
    *reg = high ? (*reg & 0xffffffffull) | ((uint64_t)v << 32) : (*reg & ~0xffffffffull) | v;
}

void virtio_mmio_write(struct virtio_dev *d, uint64_t off, const uint8_t *data, uint32_t len)
{
    if (off >= CONFIG || len != 4)
        return; /* the configurations here are read-only */
    uint32_t v;
    memcpy(&v, data, 4);
    struct virtq *q = selected(d);
    /* A queue's set-up cannot change while it runs. */
    bool q_setup = q && !q->ready;
    switch (off) {
    case DEVICE_FEATURES_SEL:
        d->dev_feat_sel = v;
        break;
    case DRIVER_FEATURES_SEL:
        d->drv_feat_sel = v;
        break;
    case DRIVER_FEATURES:
        if (d->drv_feat_sel < 2) {
            set_half(&d->driver_features, d->drv_feat_sel == 1, v);
            d->driver_features &= features(d);
        }
        break;
    case QUEUE_SEL:
        d->queue_sel = v;
        break;
    case QUEUE_NUM:
        if (q_setup && v > 0 && v <= VIRTQ_MAX_SIZE && (v & (v - 1)) == 0)
            q->size = (uint16_t)v;
        break;
    case QUEUE_READY:
        /* The rings' alignments (virtio 1.x, 2.7): the VMM reads their
         * indices with aligned atomic accesses. */
        if (q && v == 1 && q->size && q->desc && q->avail && q->used && !(q->desc & 15) &&
            !(q->avail & 1) && !(q->used & 3))
            q->ready = true;
        else if (q && v == 0)
            q->ready = false;
        break;
    case QUEUE_NOTIFY:
        virtio_notify(d, v);
        break;
    case INTERRUPT_ACK:
        d->isr &= ~v;
        break;
    case STATUS:
        if (v == 0) {
            reset(d);
        } else {
            bool ok = !(d->status & VIRTIO_STATUS_DRIVER_OK) && (v & VIRTIO_STATUS_DRIVER_OK);
            d->status = v;
            if (ok && d->ops->driver_ok)
                d->ops->driver_ok(d);
        }
        break;
    case QUEUE_DESC_LOW:
    case QUEUE_DESC_HIGH:
        if (q_setup)
            set_half(&q->desc, off == QUEUE_DESC_HIGH, v);
        break;
    case QUEUE_DRIVER_LOW:
    case QUEUE_DRIVER_HIGH:
        if (q_setup)
            set_half(&q->avail, off == QUEUE_DRIVER_HIGH, v);
        break;
    case QUEUE_DEVICE_LOW:
    case QUEUE_DEVICE_HIGH:
        if (q_setup)
            set_half(&q->used, off == QUEUE_DEVICE_HIGH, v);
        break;
    }
}

void virtio_release(struct virtio_dev *d)
{
    if (d->ops != NULL && d->ops->release != NULL)
        d->ops->release(d);
    d->priv = NULL;
}

char *virtio_cmdline_entry(const struct virtio_dev *d)
{
    return xasprintf(" virtio_mmio.device=4K@0x%llx:%u", (unsigned long long)d->base, d->irq);
}
