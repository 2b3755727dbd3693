/* Split virtqueues (virtio 1.x, 2.7): the driver's descriptor table and
 * available ring, the device's used ring, all in guest memory. Everything
 * the driver wrote is checked before use: an index or address out of
 * bounds, or a chain longer than the queue (a loop), breaks the device,
 * never the VMM. No indirect descriptors and no event index are offered. */
#include <string.h>

#include "level/vm/virtio/virtio.h"

#define VIRTQ_DESC_F_NEXT  1
#define VIRTQ_DESC_F_WRITE 2

struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
};

static uint16_t load16(const void *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

int virtq_pop(struct virtq *q, const struct guest_mem *m, struct vq_chain *c)
{
    if (!q->ready || q->size == 0)
        return 0;
    const uint8_t *avail = guest_ptr(m, q->avail, 4 + 2ull * q->size);
    const struct virtq_desc *table = guest_ptr(m, q->desc, 16ull * q->size);
    if (avail == NULL || table == NULL)
        return -1;
    uint16_t idx = __atomic_load_n((const uint16_t *)(avail + 2), __ATOMIC_ACQUIRE);
    if (idx == q->last_avail)
        return 0;
    if ((uint16_t)(idx - q->last_avail) > q->size)
        return -1;
    uint16_t head = load16(avail + 4 + 2 * (q->last_avail % q->size));
    if (head >= q->size)
        return -1;
    c->head = head;
    c->n = 0;
    for (uint16_t i = head;;) {
        struct virtq_desc d;
        memcpy(&d, &table[i], sizeof(d));
        if (c->n == VIRTQ_MAX_CHAIN || c->n == q->size)
            return -1;
        uint8_t *p = guest_ptr(m, d.addr, d.len);
        if (p == NULL)
            return -1;
        c->b[c->n++] = (struct vq_buf){p, d.len, (d.flags & VIRTQ_DESC_F_WRITE) != 0};
        if (!(d.flags & VIRTQ_DESC_F_NEXT))
            break;
        if (d.next >= q->size)
            return -1;
        i = d.next;
    }
    q->last_avail++;
    return 1;
}

bool virtq_has_avail(const struct virtq *q, const struct guest_mem *m)
{
    if (!q->ready || q->size == 0)
        return false;
    const uint8_t *avail = guest_ptr(m, q->avail, 4);
    return avail != NULL &&
           __atomic_load_n((const uint16_t *)(avail + 2), __ATOMIC_ACQUIRE) != q->last_avail;
}

int virtq_push(struct virtq *q, const struct guest_mem *m, uint16_t head, uint32_t len)
{
    uint8_t *used = guest_ptr(m, q->used, 4 + 8ull * q->size);
    if (used == NULL || q->size == 0)
        return -1;
    uint8_t *e = used + 4 + 8 * (q->used_idx % q->size);
    uint32_t id = head;
    memcpy(e, &id, 4);
    memcpy(e + 4, &len, 4);
    q->used_idx++;
    /* The element before the index that publishes it. */
    __atomic_store_n((uint16_t *)(used + 2), q->used_idx, __ATOMIC_RELEASE);
    return 0;
}
