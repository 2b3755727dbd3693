/* Byte queues: the frames waiting for the host, and each process's STDIN
 * waiting for its pipe. Appends are amortised (the buffer doubles) and a
 * read advances an offset, so a long queue drained in small writes is not
 * copied over and over. */
#include "agent.h"

#include <stdlib.h>
#include <string.h>

void queue_push(struct queue *q, const void *p, size_t n)
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
            fatal("out of memory queueing %zu bytes", n);
        q->data = d;
        q->cap = cap;
    }
    if (n)
        memcpy(q->data + q->len, p, n);
    q->len += n;
}

void queue_free(struct queue *q)
{
    free(q->data);
    *q = (struct queue){0};
}
