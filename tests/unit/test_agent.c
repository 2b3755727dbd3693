/* The guest agent's pure parts, on the host: the `cella.*` boot words
 * (guest/agent/cmdline.c), frame splitting of the channel's input
 * (channel.c) and byte queues (queue.c). The rest needs a VM:
 * tests/integration/test_agent.sh. */
#include <setjmp.h>
#include <stdarg.h>

#include "guest/agent/agent.h"
#include "unit.h"

/* The agent's console.c, replaced: messages are kept, fatal() returns to
 * the test through a jump. */
static char logged[512], died[512];
static jmp_buf on_fatal;

void alog(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(logged, sizeof(logged), fmt, ap);
    va_end(ap);
}

void fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(died, sizeof(died), fmt, ap);
    va_end(ap);
    longjmp(on_fatal, 1);
}

/* Parse; the fatal message, or "" when the line was accepted. */
static const char *parse(const char *line, struct boot_config *c)
{
    died[0] = logged[0] = '\0';
    if (setjmp(on_fatal) == 0)
        cmdline_parse(line, c);
    return died;
}

static void test_cmdline_words(void)
{
    struct boot_config c;
    CHECK_STR(parse("console=ttyS0 quiet cella.root=/dev/vda cella.rootfstype=ext4 "
                    "cella.ip=10.0.2.15/24 cella.gw=10.0.2.2 cella.mtu=1500 "
                    "cella.dns=10.0.2.3,1.1.1.1 cella.readonly=1 "
                    "virtio_mmio.device=512@0xfeb00e00:12\n",
                    &c),
              "");
    CHECK_STR(c.root, "/dev/vda");
    CHECK_STR(c.rootfstype, "ext4");
    CHECK_STR(c.ip, "10.0.2.15");
    CHECK(c.prefix == 24);
    CHECK_STR(c.gw, "10.0.2.2");
    CHECK(c.mtu == 1500);
    CHECK_STR(c.dns, "10.0.2.3,1.1.1.1");
    CHECK(c.readonly == 1);
}

static void test_cmdline_defaults(void)
{
    struct boot_config c;
    CHECK_STR(parse("console=ttyS0 panic=-1", &c), "");
    CHECK_STR(c.root, "");
    CHECK_STR(c.rootfstype, "erofs");
    CHECK_STR(c.ip, "");
    CHECK(c.mtu == 0 && c.readonly == 0);
}

static void test_cmdline_quotes_and_unknown(void)
{
    struct boot_config c;
    CHECK_STR(parse("cella.root=\"/dev/vdb\" cella.future=1", &c), "");
    CHECK_STR(c.root, "/dev/vdb");
    CHECK_STR(logged, "kernel command line: unknown word `cella.future': ignored");
}

static void test_cmdline_errors(void)
{
    struct boot_config c;
    CHECK_STR(parse("cella.ip=10.0.2.15", &c),
              "kernel command line: cella.ip: expected ADDR/PREFIX, got `10.0.2.15'");
    CHECK_STR(parse("cella.ip=10.0.2.315/24", &c),
              "kernel command line: cella.ip: expected an IPv4 address, got `10.0.2.315'");
    CHECK_STR(parse("cella.ip=10.0.2.15/33", &c),
              "kernel command line: cella.ip: expected an integer in 0..32, got `33'");
    CHECK_STR(parse("cella.mtu=9x", &c),
              "kernel command line: cella.mtu: expected an integer in 68..65535, got `9x'");
    CHECK_STR(parse("cella.dns=10.0.2.3,nope", &c),
              "kernel command line: cella.dns: expected an IPv4 address, got `nope'");
    CHECK_STR(parse("cella.gw=10.0.2.2", &c), "kernel command line: cella.gw without cella.ip");
    CHECK_STR(parse("cella.root", &c), "kernel command line: `cella.root': expected NAME=VALUE");
    CHECK_STR(parse("cella.readonly=yes", &c),
              "kernel command line: cella.readonly: expected an integer in 0..1, got `yes'");
    char long_root[300] = "cella.root=/dev/";
    memset(long_root + strlen(long_root), 'x', 200);
    CHECK_STR(parse(long_root, &c), "kernel command line: cella.root: value longer than 127 bytes");
}

/* Append a frame's bytes to the channel's input. */
static void feed(struct channel_in *in, const void *p, size_t n)
{
    if (in->len + n > in->cap) {
        in->cap = in->len + n + 64;
        in->buf = realloc(in->buf, in->cap);
    }
    memcpy(in->buf + in->len, p, n);
    in->len += n;
}

static size_t frame(uint8_t *d, uint32_t len, uint16_t type, uint32_t id, const char *payload)
{
    agent_set_u32(d, len);
    d[4] = (uint8_t)type;
    d[5] = (uint8_t)(type >> 8);
    d[6] = d[7] = 0;
    agent_set_u32(d + 8, id);
    memcpy(d + AGENT_HDR_SIZE, payload, strlen(payload));
    return AGENT_HDR_SIZE + strlen(payload);
}

static void test_frames_split_anywhere(void)
{
    uint8_t bytes[64];
    size_t n = frame(bytes, 5, AGENT_STDIN, 3, "hello");
    n += frame(bytes + n, 0, AGENT_STDIN, 3, "");
    /* Byte by byte: a frame is whole only once its last byte came. */
    struct channel_in in = {0};
    struct agent_hdr h;
    const uint8_t *p;
    int frames = 0;
    for (size_t i = 0; i < n; i++) {
        feed(&in, bytes + i, 1);
        while (channel_next(&in, &h, &p)) {
            CHECK(h.type == AGENT_STDIN && h.id == 3);
            if (frames == 0)
                CHECK(h.len == 5 && memcmp(p, "hello", 5) == 0 && i == 16);
            else
                CHECK(h.len == 0 && i == n - 1);
            frames++;
            channel_consume(&in, &h);
        }
    }
    CHECK(frames == 2 && in.len == 0);
    free(in.buf);
}

static void test_frame_too_long_is_dropped(void)
{
    uint8_t bytes[64];
    size_t n = frame(bytes, AGENT_MAX_PAYLOAD + 1, AGENT_RUN, 0, "abc");
    struct channel_in in = {0};
    struct agent_hdr h;
    const uint8_t *p;
    logged[0] = '\0';
    feed(&in, bytes, n);
    CHECK(channel_next(&in, &h, &p) == 0);
    CHECK(in.len == 0);
    CHECK_STR(logged, "malformed frame from the host (payload of 1048577 bytes, at most "
                      "1048576): 15 bytes dropped");
    free(in.buf);
}

static void test_queue(void)
{
    struct agent_queue q = {0};
    char chunk[1000];
    for (int i = 0; i < 300; i++) {
        memset(chunk, 'a' + i % 26, sizeof(chunk));
        queue_push(&q, chunk, sizeof(chunk));
        /* Drain some as a pipe would: what is left stays in order. */
        q.off += 700;
    }
    /* 300 x 300 bytes left: the stream from byte 700 x 300 on, whose
     * chunk k (of 1000 bytes) is letter k % 26. */
    CHECK(agent_queue_pending(&q) == 300 * 300);
    int in_order = 1;
    for (size_t k = 0; k < agent_queue_pending(&q); k++)
        in_order &= q.data[q.off + k] == 'a' + (700 * 300 + k) / 1000 % 26;
    CHECK(in_order);
    CHECK(q.cap <= 4 * 300 * 300);
    agent_queue_free(&q);
    CHECK(q.data == NULL && agent_queue_pending(&q) == 0);
}

int main(void)
{
    RUN(test_cmdline_words);
    RUN(test_cmdline_defaults);
    RUN(test_cmdline_quotes_and_unknown);
    RUN(test_cmdline_errors);
    RUN(test_frames_split_anywhere);
    RUN(test_frame_too_long_is_dropped);
    RUN(test_queue);
    return UNIT_DONE();
}
