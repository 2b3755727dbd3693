/* virtio-blk on the rootfs image, read-only (VIRTIO_BLK_F_RO): reads and
 * flushes are served, writes refused with an I/O error. Requests are done
 * on the vCPU's notify, with pread. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "level/vm/virtio/virtio.h"

#define VIRTIO_ID_BLOCK      2
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO      5
#define VIRTIO_BLK_F_FLUSH   9
#define VIRTIO_BLK_T_IN      0
#define VIRTIO_BLK_T_OUT     1
#define VIRTIO_BLK_T_FLUSH   4
#define VIRTIO_BLK_T_GET_ID  8
#define VIRTIO_BLK_S_OK      0
#define VIRTIO_BLK_S_IOERR   1
#define VIRTIO_BLK_S_UNSUPP  2
#define SECTOR               512
#define SEG_MAX              (VIRTQ_MAX_CHAIN - 2) /* header and status around them */
#define BLK_ID               "cella-rootfs"

struct blk {
    int fd;
    uint64_t sectors;
};

static void config(struct virtio_dev *d, uint32_t off, uint8_t *data, uint32_t len)
{
    const struct blk *b = d->priv;
    /* capacity (u64), size_max (u32), seg_max (u32) */
    uint8_t cfg[16] = {0};
    uint32_t seg = SEG_MAX;
    memcpy(cfg, &b->sectors, 8);
    memcpy(cfg + 12, &seg, 4);
    memcpy(data, cfg + off, len);
}

/* One request: the header's type and sector, the data buffers, the status
 * byte last; returns the bytes written into the driver's buffers. */
static uint32_t request(const struct blk *b, struct vq_chain *ch)
{
    struct {
        uint32_t type, reserved;
        uint64_t sector;
    } h;
    if (ch->n < 2 || ch->b[0].write || ch->b[0].len < sizeof(h))
        return 0;
    struct vq_buf *st = &ch->b[ch->n - 1];
    if (!st->write || st->len < 1)
        return 0;
    memcpy(&h, ch->b[0].p, sizeof(h));
    uint8_t status = VIRTIO_BLK_S_OK;
    uint32_t written = 1;
    uint64_t pos = h.sector * SECTOR;
    switch (h.type) {
    case VIRTIO_BLK_T_IN:
        for (unsigned i = 1; i + 1 < ch->n && status == VIRTIO_BLK_S_OK; i++) {
            struct vq_buf *v = &ch->b[i];
            if (!v->write || h.sector > b->sectors || pos + v->len > b->sectors * SECTOR ||
                pread(b->fd, v->p, v->len, (off_t)pos) != (ssize_t)v->len) {
                status = VIRTIO_BLK_S_IOERR;
                break;
            }
            pos += v->len;
            written += v->len;
        }
        break;
    case VIRTIO_BLK_T_OUT:
        status = VIRTIO_BLK_S_IOERR; /* read-only */
        break;
    case VIRTIO_BLK_T_FLUSH:
        break; /* nothing is ever written */
    case VIRTIO_BLK_T_GET_ID:
        if (ch->n >= 3 && ch->b[1].write) {
            size_t n = ch->b[1].len < sizeof(BLK_ID) ? ch->b[1].len : sizeof(BLK_ID);
            memcpy(ch->b[1].p, BLK_ID, n);
            written += (uint32_t)n;
        } else {
            status = VIRTIO_BLK_S_IOERR;
        }
        break;
    default:
        status = VIRTIO_BLK_S_UNSUPP;
    }
    st->p[0] = status;
    return written;
}

static void notify(struct virtio_dev *d, unsigned q)
{
    struct vq_chain ch;
    int r;
    while ((r = virtq_pop(&d->q[q], d->mem, &ch)) > 0)
        if (virtq_push(&d->q[q], d->mem, ch.head, request(d->priv, &ch)) < 0)
            return virtio_broken(d);
    if (r < 0)
        return virtio_broken(d);
    virtio_signal(d);
}

static void release(struct virtio_dev *d)
{
    struct blk *b = d->priv;
    close(b->fd);
    free(b);
}

static const struct virtio_ops blk_ops = {
    .device_id = VIRTIO_ID_BLOCK,
    .features =
        (1ull << VIRTIO_BLK_F_RO) | (1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_BLK_F_SEG_MAX),
    .nqueues = 1,
    .config_len = 16,
    .config = config,
    .notify = notify,
    .release = release,
};

int virtio_blk_init(struct virtio_dev *d, const char *path, cerr_t *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        cerr_set(err, errno, "rootfs image `%s`", path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    struct blk *b = calloc(1, sizeof(*b));
    if (b == NULL)
        abort();
    b->fd = fd;
    b->sectors = (uint64_t)st.st_size / SECTOR;
    d->ops = &blk_ops;
    d->priv = b;
    return 0;
}
