/* The vm level's virtio devices over a fake guest memory, driven as
 * Linux's drivers drive them: the MMIO transport's registers and feature
 * negotiation, split virtqueues (and what a broken ring does), virtio-blk's
 * reads, refused writes and bounds, virtio-console's multiport handshake
 * naming the agent's port and its bytes both ways, virtio-net's headers
 * and frames both ways over a datagram socket standing in for the tap. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "level/vm/virtio/virtio.h"
#include "proto/protocol.h"
#include "unit.h"

#define QSIZE 8
#define DESC  0x1000
#define AVAIL 0x2000
#define USED  0x3000
#define DATA  0x10000

struct desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
};

static struct guest_mem mem;
static int irqs;
static void count_irq(void *ctx, unsigned irq)
{
    (void)ctx;
    (void)irq;
    irqs++;
}

static void mem_reset(void)
{
    free(mem.host);
    mem = (struct guest_mem){calloc(1, 1 << 20), 1 << 20};
    irqs = 0;
}

static uint32_t rd(struct virtio_dev *d, uint64_t off)
{
    uint32_t v;
    virtio_mmio_read(d, off, (uint8_t *)&v, 4);
    return v;
}

static void wr(struct virtio_dev *d, uint64_t off, uint32_t v)
{
    virtio_mmio_write(d, off, (const uint8_t *)&v, 4);
}

/* Queue q's rings at DESC/AVAIL/USED + q * 0x4000, as the driver sets them. */
static uint64_t qbase(unsigned q)
{
    return (uint64_t)q * 0x4000;
}

static void driver_init(struct virtio_dev *d, unsigned nq)
{
    wr(d, 0x070, 0);
    wr(d, 0x070, 1 | 2); /* ACKNOWLEDGE, DRIVER */
    wr(d, 0x024, 1);
    wr(d, 0x020, 1); /* VERSION_1 (bit 32) */
    wr(d, 0x024, 0);
    wr(d, 0x014, 0);
    wr(d, 0x020, rd(d, 0x010));
    wr(d, 0x070, 1 | 2 | 8); /* FEATURES_OK */
    for (unsigned q = 0; q < nq; q++) {
        wr(d, 0x030, q);
        wr(d, 0x038, QSIZE);
        wr(d, 0x080, (uint32_t)(DESC + qbase(q)));
        wr(d, 0x090, (uint32_t)(AVAIL + qbase(q)));
        wr(d, 0x0a0, (uint32_t)(USED + qbase(q)));
        wr(d, 0x044, 1);
    }
    wr(d, 0x070, 1 | 2 | 8 | 4); /* DRIVER_OK */
}

static struct desc *desc_at(unsigned q, unsigned i)
{
    return (struct desc *)(mem.host + DESC + qbase(q)) + i;
}

/* Makes a chain of n descriptors from `first` and offers it. */
static void offer(unsigned q, unsigned first, unsigned n)
{
    uint16_t *avail = (uint16_t *)(mem.host + AVAIL + qbase(q));
    for (unsigned i = 0; i + 1 < n; i++) {
        desc_at(q, first + i)->flags |= 1;
        desc_at(q, first + i)->next = (uint16_t)(first + i + 1);
    }
    avail[2 + avail[1] % QSIZE] = (uint16_t)first;
    avail[1]++;
}

static uint16_t used_idx(unsigned q)
{
    return ((uint16_t *)(mem.host + USED + qbase(q)))[1];
}

static uint32_t used_len(unsigned q, unsigned i)
{
    return ((uint32_t *)(mem.host + USED + qbase(q) + 4))[2 * (i % QSIZE) + 1];
}

static void test_mmio_registers(void)
{
    mem_reset();
    struct virtio_dev d = {.mem = &mem, .interrupt = count_irq};
    cerr_t err = NULL;
    CHECK(virtio_blk_init(&d, "/proc/self/exe", &err) == 0);
    CHECK(rd(&d, 0x000) == 0x74726976 && rd(&d, 0x004) == 2 && rd(&d, 0x008) == 2);
    wr(&d, 0x014, 1);
    CHECK(rd(&d, 0x010) == 1); /* VERSION_1 */
    wr(&d, 0x014, 0);
    CHECK(rd(&d, 0x010) & (1u << 5)); /* read-only */
    /* The driver cannot take features the device lacks. */
    wr(&d, 0x024, 0);
    wr(&d, 0x020, 0xffffffff);
    CHECK(d.driver_features == ((1u << 5) | (1u << 9) | (1u << 2)));
    /* Queues beyond the device's have no size; sizes are powers of two. */
    wr(&d, 0x030, 1);
    CHECK(rd(&d, 0x034) == 0);
    wr(&d, 0x030, 0);
    CHECK(rd(&d, 0x034) == VIRTQ_MAX_SIZE);
    wr(&d, 0x038, 6);
    CHECK(d.q[0].size == 0);
    wr(&d, 0x038, 8);
    wr(&d, 0x044, 1);
    CHECK(!d.q[0].ready); /* no rings yet */
    /* Misaligned rings are refused. */
    wr(&d, 0x080, DESC + 8);
    wr(&d, 0x090, AVAIL);
    wr(&d, 0x0a0, USED + 2);
    wr(&d, 0x044, 1);
    CHECK(!d.q[0].ready);
    driver_init(&d, 1);
    CHECK(d.q[0].ready && d.q[0].desc == DESC && d.q[0].used == USED);
    /* A running queue's addresses stay. */
    wr(&d, 0x080, 0x5000);
    CHECK(d.q[0].desc == DESC);
    /* capacity in the configuration space, in sectors */
    uint64_t cap = 0;
    virtio_mmio_read(&d, 0x100, (uint8_t *)&cap, 8);
    struct stat st;
    CHECK(stat("/proc/self/exe", &st) == 0 && cap == (uint64_t)st.st_size / 512);
    /* Reset: status 0 clears the queues. */
    wr(&d, 0x070, 0);
    CHECK(rd(&d, 0x070) == 0 && !d.q[0].ready && d.q[0].size == 0);
    virtio_release(&d);
}

/* A virtio-blk request: header, data, status. */
static uint8_t blk_req(struct virtio_dev *d, uint32_t type, uint64_t sector, uint32_t len,
                       unsigned slot)
{
    unsigned f = slot * 3;
    uint64_t hdr = DATA + slot * 0x2000, buf = hdr + 0x100, st = hdr + 0x80;
    memcpy(mem.host + hdr, &type, 4);
    memcpy(mem.host + hdr + 8, &sector, 8);
    mem.host[st] = 0xff;
    *desc_at(0, f) = (struct desc){hdr, 16, 0, 0};
    *desc_at(0, f + 1) = (struct desc){buf, len, type == 0 ? 2 : 0, 0};
    *desc_at(0, f + 2) = (struct desc){st, 1, 2, 0};
    offer(0, f, 3);
    wr(d, 0x050, 0);
    return mem.host[st];
}

static void test_blk(void)
{
    mem_reset();
    char path[] = "/tmp/cella-test-vm-blk.XXXXXX";
    int fd = mkstemp(path);
    uint8_t img[4096];
    for (unsigned i = 0; i < sizeof(img); i++)
        img[i] = (uint8_t)(i * 7);
    CHECK(write(fd, img, sizeof(img)) == (ssize_t)sizeof(img));
    close(fd);
    struct virtio_dev d = {.mem = &mem, .interrupt = count_irq};
    cerr_t err = NULL;
    CHECK(virtio_blk_init(&d, path, &err) == 0);
    driver_init(&d, 1);
    CHECK(blk_req(&d, 0, 2, 1024, 0) == 0); /* IN, sectors 2-3 */
    CHECK(memcmp(mem.host + DATA + 0x100, img + 1024, 1024) == 0);
    CHECK(used_idx(0) == 1 && used_len(0, 0) == 1025 && irqs == 1);
    CHECK(blk_req(&d, 1, 0, 512, 1) == 1);                /* OUT: read-only, an I/O error */
    CHECK(blk_req(&d, 0, 7, 1024, 0) == 1);               /* past the end */
    CHECK(blk_req(&d, 0, UINT64_MAX / 256, 512, 1) == 1); /* a sector that overflows */
    CHECK(blk_req(&d, 4, 0, 0, 0) == 0);                  /* FLUSH */
    CHECK(blk_req(&d, 99, 0, 0, 1) == 2);                 /* unsupported */
    CHECK(used_idx(0) == 6);
    virtio_release(&d);
    unlink(path);
    /* A missing image is create's error, naming it. */
    struct virtio_dev e = {0};
    CHECK(virtio_blk_init(&e, "/nonexistent/img", &err) < 0);
    CHECK_STR(cerr_msg(err), "rootfs image `/nonexistent/img`: No such file or directory");
    cerr_free(&err);
}

static void test_broken_ring(void)
{
    mem_reset();
    struct virtio_dev d = {.mem = &mem, .interrupt = count_irq};
    cerr_t err = NULL;
    CHECK(virtio_blk_init(&d, "/proc/self/exe", &err) == 0);
    driver_init(&d, 1);
    /* A descriptor pointing outside memory. */
    *desc_at(0, 0) = (struct desc){(1 << 20) - 4, 16, 0, 0};
    offer(0, 0, 1);
    wr(&d, 0x050, 0);
    CHECK(rd(&d, 0x070) & VIRTIO_STATUS_NEEDS_RESET);
    CHECK(!d.q[0].ready && used_idx(0) == 0);
    /* A loop: 0 -> 1 -> 0. */
    driver_init(&d, 1);
    struct vq_chain ch;
    *desc_at(0, 0) = (struct desc){DATA, 16, 1, 1};
    *desc_at(0, 1) = (struct desc){DATA, 16, 1, 0};
    uint16_t *avail = (uint16_t *)(mem.host + AVAIL);
    avail[2 + avail[1] % QSIZE] = 0;
    avail[1]++;
    d.q[0].last_avail = (uint16_t)(avail[1] - 1);
    CHECK(virtq_pop(&d.q[0], &mem, &ch) == -1);
    /* An available index running ahead of the ring. */
    d.q[0].last_avail = (uint16_t)(avail[1] - QSIZE - 1);
    CHECK(virtq_pop(&d.q[0], &mem, &ch) == -1);
    virtio_release(&d);
}

struct control {
    uint32_t id;
    uint16_t event, value;
};

/* The guest's control message on the control transmit queue (3). */
static void ctrl_send(struct virtio_dev *d, uint32_t id, uint16_t event, uint16_t value,
                      unsigned slot)
{
    struct control c = {id, event, value};
    uint64_t at = DATA + 0x8000 + slot * 16;
    memcpy(mem.host + at, &c, sizeof(c));
    *desc_at(3, slot) = (struct desc){at, sizeof(c), 0, 0};
    offer(3, slot, 1);
    wr(d, 0x050, 3);
}

static void test_console(void)
{
    mem_reset();
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    struct virtio_dev d = {.mem = &mem, .interrupt = count_irq};
    cerr_t err = NULL;
    CHECK(virtio_console_init(&d, sv[1], AGENT_PORT_NAME, &err) == 0);
    CHECK(rd(&d, 0x008) == 3 && (rd(&d, 0x010) & 2)); /* MULTIPORT */
    uint32_t max_ports = 0;
    virtio_mmio_read(&d, 0x104, (uint8_t *)&max_ports, 4);
    CHECK(max_ports == 2);
    driver_init(&d, 6);
    /* The driver's control receive buffers, then DEVICE_READY. */
    for (unsigned i = 0; i < 4; i++) {
        *desc_at(2, i) = (struct desc){DATA + i * 64, 64, 2, 0};
        offer(2, i, 1);
    }
    ctrl_send(&d, 0xffffffff, 0, 1, 0);
    CHECK(used_idx(2) == 1);
    struct control c;
    memcpy(&c, mem.host + DATA, sizeof(c));
    CHECK(c.id == 1 && c.event == 1); /* DEVICE_ADD port 1 */
    ctrl_send(&d, 1, 3, 1, 1);        /* PORT_READY */
    CHECK(used_idx(2) == 3);
    memcpy(&c, mem.host + DATA + 64, sizeof(c));
    CHECK(c.id == 1 && c.event == 7 && used_len(2, 1) == 8 + strlen(AGENT_PORT_NAME));
    CHECK(memcmp(mem.host + DATA + 64 + 8, AGENT_PORT_NAME, strlen(AGENT_PORT_NAME)) == 0);
    memcpy(&c, mem.host + DATA + 128, sizeof(c));
    CHECK(c.id == 1 && c.event == 6 && c.value == 1); /* PORT_OPEN: the host is there */
    /* Guest to host: the transmit queue (5) to the socket. */
    memcpy(mem.host + DATA + 0x9000, "READY", 5);
    *desc_at(5, 0) = (struct desc){DATA + 0x9000, 5, 0, 0};
    offer(5, 0, 1);
    wr(&d, 0x050, 5);
    char buf[16] = {0};
    CHECK(read(sv[0], buf, sizeof(buf)) == 5 && memcmp(buf, "READY", 5) == 0);
    CHECK(used_idx(5) == 1);
    /* Host to guest: nothing to read yet keeps the buffer for later. */
    *desc_at(4, 0) = (struct desc){DATA + 0xa000, 64, 2, 0};
    offer(4, 0, 1);
    wr(&d, 0x050, 4);
    virtio_console_io(&d);
    CHECK(used_idx(4) == 0);
    CHECK(write(sv[0], "RUN", 3) == 3);
    virtio_console_io(&d);
    CHECK(used_idx(4) == 1 && used_len(4, 0) == 3 &&
          memcmp(mem.host + DATA + 0xa000, "RUN", 3) == 0);
    int fd, wake;
    bool want;
    virtio_console_poll_fds(&d, &fd, &wake, &want);
    CHECK(fd == sv[1] && want);
    virtio_release(&d);
    close(sv[0]);
    close(sv[1]);
}

/* A transmit chain of the given buffers (driver-readable), offered on
 * queue 1 and notified. */
static void net_tx(struct virtio_dev *d, const uint8_t *bytes, const uint32_t *lens, unsigned n)
{
    uint64_t at = DATA + 0x4000;
    for (unsigned i = 0; i < n; i++) {
        memcpy(mem.host + at, bytes, lens[i]);
        *desc_at(1, i) = (struct desc){at, lens[i], 0, 0};
        bytes += lens[i];
        at += lens[i] + 16;
    }
    offer(1, 0, n);
    wr(d, 0x050, 1);
}

static void test_net(void)
{
    mem_reset();
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
    struct virtio_dev d = {.mem = &mem, .interrupt = count_irq};
    cerr_t err = NULL;
    CHECK(virtio_net_init(&d, sv[1], "52:54:00:ab:cd:ef", &err) == 0);
    CHECK(rd(&d, 0x008) == 1 && (rd(&d, 0x010) & (1u << 5))); /* VIRTIO_NET_F_MAC */
    uint8_t mac[6] = {0};
    for (unsigned i = 0; i < 6; i++) /* as Linux reads it: a byte at a time */
        virtio_mmio_read(&d, 0x100 + i, &mac[i], 1);
    CHECK(memcmp(mac, "\x52\x54\x00\xab\xcd\xef", 6) == 0);
    driver_init(&d, 2);
    int fd, wake;
    bool want;
    virtio_net_poll_fds(&d, &fd, &wake, &want);
    CHECK(fd == sv[1] && !want); /* no receive buffers: the tap is not read */

    /* Transmit: the header (zeros) stripped, the frame in one write, split
     * across descriptors anywhere (here inside the header). */
    uint8_t pkt[12 + 100];
    memset(pkt, 0, 12);
    for (unsigned i = 0; i < 100; i++)
        pkt[12 + i] = (uint8_t)i;
    net_tx(&d, pkt, (const uint32_t[]){8, 30, 74}, 3);
    uint8_t got[2048];
    CHECK(read(sv[0], got, sizeof(got)) == 100 && memcmp(got, pkt + 12, 100) == 0);
    CHECK(used_idx(1) == 1 && irqs == 1);
    /* A chain shorter than the header: given back, nothing sent. */
    net_tx(&d, pkt, (const uint32_t[]){10}, 1);
    CHECK(used_idx(1) == 2);
    CHECK(recv(sv[0], got, sizeof(got), MSG_DONTWAIT) < 0);

    /* Receive: a frame waits in the tap until the driver gives a buffer. */
    CHECK(write(sv[0], pkt + 12, 60) == 60);
    virtio_net_io(&d);
    CHECK(used_idx(0) == 0);
    *desc_at(0, 0) = (struct desc){DATA, 1526, 2, 0};
    offer(0, 0, 1);
    virtio_net_poll_fds(&d, &fd, &wake, &want);
    CHECK(want);
    virtio_net_io(&d);
    CHECK(used_idx(0) == 1 && used_len(0, 0) == 72);
    /* num_buffers 1, the rest of the header zero, then the frame */
    CHECK(mem.host[DATA + 10] == 1 && mem.host[DATA] == 0 && mem.host[DATA + 11] == 0);
    CHECK(memcmp(mem.host + DATA + 12, pkt + 12, 60) == 0);
    /* A buffer split in two (header and frame apart) takes the frame too. */
    CHECK(write(sv[0], pkt + 12, 100) == 100);
    *desc_at(0, 1) = (struct desc){DATA + 0x800, 12, 2, 0};
    *desc_at(0, 2) = (struct desc){DATA + 0x1000, 1514, 2, 0};
    offer(0, 1, 2);
    virtio_net_io(&d);
    CHECK(used_idx(0) == 2 && used_len(0, 1) == 112 && mem.host[DATA + 0x800 + 10] == 1 &&
          memcmp(mem.host + DATA + 0x1000, pkt + 12, 100) == 0);
    /* A frame larger than the driver's buffer is dropped, the buffer given back empty. */
    CHECK(write(sv[0], pkt + 12, 100) == 100);
    *desc_at(0, 3) = (struct desc){DATA + 0x2000, 64, 2, 0};
    offer(0, 3, 1);
    virtio_net_io(&d);
    CHECK(used_idx(0) == 3 && used_len(0, 2) == 0);
    virtio_release(&d);
    close(sv[0]);
    close(sv[1]);

    /* A MAC that is not one is create's error, naming it. */
    struct virtio_dev e = {0};
    CHECK(virtio_net_init(&e, 0, "52:54:00:zz:00:01", &err) < 0);
    CHECK_STR(cerr_msg(err), "virtio-net: MAC address `52:54:00:zz:00:01`");
    cerr_free(&err);
}

int main(void)
{
    RUN(test_mmio_registers);
    RUN(test_blk);
    RUN(test_broken_ring);
    RUN(test_console);
    RUN(test_net);
    free(mem.host);
    return UNIT_DONE();
}
