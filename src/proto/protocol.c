/* Frames and fields of the agent protocol (protocol.h). Built into both the
 * agent (static, musl) and cella on the host, so it needs nothing but libc. */
#include "protocol.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

uint32_t agent_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t agent_get_u64(const uint8_t *p)
{
    return (uint64_t)agent_get_u32(p) | (uint64_t)agent_get_u32(p + 4) << 32;
}

void agent_set_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

void agent_set_u64(uint8_t *p, uint64_t v)
{
    agent_set_u32(p, (uint32_t)v);
    agent_set_u32(p + 4, (uint32_t)(v >> 32));
}

void agent_buf_free(struct agent_buf *b)
{
    free(b->data);
    *b = (struct agent_buf){0};
}

static uint8_t *reserve(struct agent_buf *b, size_t n)
{
    if (b->oom)
        return NULL;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *d = realloc(b->data, cap);
        if (d == NULL) {
            b->oom = 1;
            return NULL;
        }
        b->data = d;
        b->cap = cap;
    }
    uint8_t *p = b->data + b->len;
    b->len += n;
    return p;
}

void agent_put_field(struct agent_buf *b, uint16_t tag, const void *p, size_t n)
{
    if (n > AGENT_MAX_PAYLOAD) {
        b->oom = 1;
        return;
    }
    uint8_t *d = reserve(b, 8 + n);
    if (d == NULL)
        return;
    d[0] = (uint8_t)tag;
    d[1] = (uint8_t)(tag >> 8);
    d[2] = d[3] = 0;
    agent_set_u32(d + 4, (uint32_t)n);
    if (n)
        memcpy(d + 8, p, n);
}

void agent_put_str(struct agent_buf *b, uint16_t tag, const char *s)
{
    agent_put_field(b, tag, s, strlen(s));
}

void agent_put_u32(struct agent_buf *b, uint16_t tag, uint32_t v)
{
    uint8_t d[4];
    agent_set_u32(d, v);
    agent_put_field(b, tag, d, sizeof(d));
}

void agent_put_rlimit(struct agent_buf *b, uint32_t resource, uint64_t soft, uint64_t hard)
{
    uint8_t d[24];
    agent_set_u32(d, resource);
    agent_set_u32(d + 4, 0);
    agent_set_u64(d + 8, soft);
    agent_set_u64(d + 16, hard);
    agent_put_field(b, AGENT_F_RLIMIT, d, sizeof(d));
}

void agent_set_winsize(uint8_t *d, uint16_t rows, uint16_t cols)
{
    d[0] = (uint8_t)rows;
    d[1] = (uint8_t)(rows >> 8);
    d[2] = (uint8_t)cols;
    d[3] = (uint8_t)(cols >> 8);
}

int agent_queue_push(struct agent_queue *q, const void *p, size_t n)
{
    if (q->off == q->len)
        q->off = q->len = 0;
    if (q->len + n > q->cap && q->off > 0) {
        memmove(q->data, q->data + q->off, q->len - q->off);
        q->len -= q->off;
        q->off = 0;
    }
    if (q->len + n > q->cap) {
        size_t cap = q->cap ? q->cap : 65536;
        while (cap < q->len + n)
            cap *= 2;
        uint8_t *d = realloc(q->data, cap);
        if (d == NULL)
            return -1;
        q->data = d;
        q->cap = cap;
    }
    if (n)
        memcpy(q->data + q->len, p, n);
    q->len += n;
    return 0;
}

int agent_queue_write(int fd, struct agent_queue *q)
{
    while (agent_queue_pending(q) > 0) {
        ssize_t w = write(fd, q->data + q->off, agent_queue_pending(q));
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN ? 0 : -1;
        }
        q->off += (size_t)w;
    }
    return 0;
}

void agent_queue_free(struct agent_queue *q)
{
    free(q->data);
    *q = (struct agent_queue){0};
}

int agent_next_field(const uint8_t *payload, size_t len, size_t *off, uint16_t *tag,
                     const uint8_t **p, uint32_t *n)
{
    if (*off == len)
        return 0;
    if (len - *off < 8)
        return -1;
    const uint8_t *d = payload + *off;
    uint32_t flen = agent_get_u32(d + 4);
    if (flen > len - *off - 8)
        return -1;
    *tag = (uint16_t)(d[0] | d[1] << 8);
    *p = d + 8;
    *n = flen;
    *off += 8 + (size_t)flen;
    return 1;
}

void agent_set_hdr(uint8_t *d, uint16_t type, uint32_t id, uint32_t len)
{
    agent_set_u32(d, len);
    d[4] = (uint8_t)type;
    d[5] = (uint8_t)(type >> 8);
    d[6] = d[7] = 0;
    agent_set_u32(d + 8, id);
}

void agent_get_hdr(const uint8_t *d, struct agent_hdr *h)
{
    h->len = agent_get_u32(d);
    h->type = (uint16_t)(d[4] | d[5] << 8);
    h->flags = (uint16_t)(d[6] | d[7] << 8);
    h->id = agent_get_u32(d + 8);
}

int agent_frame_in(const uint8_t *buf, size_t n, struct agent_hdr *h)
{
    if (n < AGENT_HDR_SIZE)
        return 0;
    agent_get_hdr(buf, h);
    if (h->len > AGENT_MAX_PAYLOAD)
        return -1;
    return n - AGENT_HDR_SIZE >= h->len;
}

int agent_write_frame(int fd, uint16_t type, uint32_t id, const void *payload, size_t len)
{
    if (len > AGENT_MAX_PAYLOAD) {
        errno = EMSGSIZE;
        return -1;
    }
    uint8_t hdr[AGENT_HDR_SIZE];
    agent_set_hdr(hdr, type, id, (uint32_t)len);
    struct iovec iov[2] = {{hdr, sizeof(hdr)}, {(void *)payload, len}};
    int niov = len ? 2 : 1;
    struct iovec *v = iov;
    while (niov > 0) {
        ssize_t w = writev(fd, v, niov);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        while (niov > 0 && (size_t)w >= v->iov_len) {
            w -= (ssize_t)v->iov_len;
            v++;
            niov--;
        }
        if (niov > 0) {
            v->iov_base = (uint8_t *)v->iov_base + w;
            v->iov_len -= (size_t)w;
        }
    }
    return 0;
}

/* Read up to n bytes, stopping only at end of stream: the count read. */
static ssize_t read_some(int fd, uint8_t *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

int agent_read_full(int fd, void *p, size_t n)
{
    ssize_t r = read_some(fd, p, n);
    if (r < 0)
        return -1;
    if ((size_t)r < n) {
        errno = EPROTO;
        return -1;
    }
    return 0;
}

int agent_read_hdr(int fd, struct agent_hdr *h)
{
    uint8_t d[AGENT_HDR_SIZE];
    ssize_t r = read_some(fd, d, sizeof(d));
    if (r < 0)
        return -1;
    if (r == 0)
        return 0;
    if ((size_t)r < sizeof(d)) {
        errno = EPROTO;
        return -1;
    }
    agent_get_hdr(d, h);
    if (h->len > AGENT_MAX_PAYLOAD) {
        errno = EMSGSIZE;
        return -1;
    }
    return 1;
}

int agent_run_has_tty(const uint8_t *payload, size_t len)
{
    size_t off = 0;
    uint16_t tag;
    const uint8_t *p;
    uint32_t n;
    while (agent_next_field(payload, len, &off, &tag, &p, &n) == 1)
        if (tag == AGENT_F_TTY)
            return 1;
    return 0;
}
